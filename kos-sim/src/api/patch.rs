//! The patch types a client may send: JSON merge patch, JSON patch (RFC 6902) and the
//! strategic merge patch kubectl uses (`set image`, `scale`, `rollout restart`, client-side
//! `apply`), where lists of named things merge by their key instead of being replaced.
//!
//! Pure: a patch document and an object in, the patched object out. The list keys are
//! shared with server-side apply ([`list_key`]).

use crate::errors::ApiError;
use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// The media type of server-side apply's PATCH bodies.
pub const APPLY: &str = "application/apply-patch+yaml";

/// A request's media type: its `Content-Type` without parameters.
pub fn media_type(headers: &HeaderMap) -> &str {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
}

/// A patch's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Merge,
    Json,
    Strategic,
}

impl Kind {
    /// The patch type of a `Content-Type`; 415 for anything else.
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        match content_type.trim() {
            "application/merge-patch+json" => Ok(Kind::Merge),
            "application/json-patch+json" => Ok(Kind::Json),
            "application/strategic-merge-patch+json" => Ok(Kind::Strategic),
            other => Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media \
                         types include: application/json-patch+json, \
                         application/merge-patch+json, application/apply-patch+yaml, \
                         application/strategic-merge-patch+json (got {other:?})"
                ),
            )),
        }
    }
}

/// A parsed patch document.
pub enum Document {
    Value(Value),
    Json(json_patch::Patch),
}

/// Parses a patch body; 400 when it is not what its type says.
pub fn parse(kind: Kind, body: &[u8]) -> Result<Document, ApiError> {
    let malformed = |e: serde_json::Error| {
        ApiError::bad_request(format!("the body of the request was malformed: {e}"))
    };
    match kind {
        Kind::Json => serde_json::from_slice(body)
            .map(Document::Json)
            .map_err(malformed),
        Kind::Merge | Kind::Strategic => {
            let value: Value = serde_json::from_slice(body).map_err(malformed)?;
            if value.is_object() {
                Ok(Document::Value(value))
            } else {
                Err(ApiError::bad_request(
                    "the body of the request was malformed: a patch must be a JSON object",
                ))
            }
        }
    }
}

/// The patched copy of `object`.
pub fn apply(kind: Kind, object: &Value, document: &Document) -> Result<Value, ApiError> {
    let mut patched = object.clone();
    match (kind, document) {
        (Kind::Json, Document::Json(operations)) => {
            json_patch::patch(&mut patched, operations).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the JSON patch could not be applied: {e}"),
                )
            })?;
        }
        (Kind::Merge, Document::Value(value)) => json_patch::merge(&mut patched, value),
        (Kind::Strategic, Document::Value(value)) => strategic(&mut patched, value),
        _ => {
            return Err(ApiError::bad_request(
                "the patch does not match its content type",
            ));
        }
    }
    Ok(patched)
}

/// The merge key of a list field, when its items are merged by key rather than replaced.
/// Keyed by the field's name, which is unambiguous for the lists Kubernetes objects carry.
pub fn list_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let key = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "conditions" => "type",
        "hostAliases" => "ip",
        "ownerReferences" => "uid",
        "ports" if items.iter().any(|i| i.get("containerPort").is_some()) => "containerPort",
        "ports" => "port",
        _ => return None,
    };
    // Only when every item carries the key: anything else cannot be merged.
    items.iter().all(|i| i.get(key).is_some()).then_some(key)
}

/// Applies a strategic merge patch to `target` in place.
fn strategic(target: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replacement = patch_map.clone();
            replacement.remove("$patch");
            *target = Value::Object(replacement);
            return;
        }
        Some("delete") => {
            *target = Value::Null;
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    for (key, value) in patch_map {
        if let Some(name) = key.strip_prefix("$deleteFromPrimitiveList/") {
            remove_primitives(target, name, value);
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        let Some(map) = target.as_object_mut() else {
            return;
        };
        match value {
            Value::Null => {
                map.remove(key);
            }
            Value::Object(_) => {
                let slot = map.entry(key.clone()).or_insert(Value::Null);
                strategic(slot, value);
                if slot.is_null() {
                    map.remove(key);
                }
            }
            Value::Array(items) => {
                let current = map.get(key).and_then(Value::as_array).cloned();
                let merged = match (current, list_key(key, items)) {
                    (Some(current), Some(merge_key)) if !current.is_empty() => {
                        merge_list(current, items, merge_key)
                    }
                    _ => items
                        .iter()
                        .filter(|i| !is_delete_directive(i))
                        .cloned()
                        .collect(),
                };
                map.insert(key.clone(), Value::Array(merged));
            }
            scalar => {
                map.insert(key.clone(), scalar.clone());
            }
        }
    }
}

fn is_delete_directive(item: &Value) -> bool {
    item.get("$patch").and_then(Value::as_str) == Some("delete")
}

fn remove_primitives(target: &mut Value, field: &str, values: &Value) {
    let (Some(list), Some(values)) = (
        target.get_mut(field).and_then(Value::as_array_mut),
        values.as_array(),
    ) else {
        return;
    };
    list.retain(|v| !values.contains(v));
}

/// Merges a patch list into a current list by `merge_key`: matching items are patched,
/// new ones appended, `$patch: delete` items removed.
fn merge_list(mut current: Vec<Value>, patch: &[Value], merge_key: &str) -> Vec<Value> {
    for item in patch {
        let position = current
            .iter()
            .position(|c| c.get(merge_key) == item.get(merge_key));
        match (position, is_delete_directive(item)) {
            (Some(index), true) => {
                current.remove(index);
            }
            (None, true) => {}
            (Some(index), false) => strategic(&mut current[index], item),
            (None, false) => {
                let mut fresh = Value::Object(Map::new());
                strategic(&mut fresh, item);
                current.push(fresh);
            }
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "proxy:1"}
        ]}}}})
    }

    fn strategic_patch(object: &Value, patch: Value) -> Value {
        apply(Kind::Strategic, object, &Document::Value(patch)).unwrap()
    }

    #[test]
    fn strategic_patches_merge_containers_by_name() {
        let patched = strategic_patch(
            &deployment(),
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}
            ]}}}}),
        );
        let containers = &patched["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().unwrap().len(), 2);
        assert_eq!(containers[0]["image"], "app:2");
        assert_eq!(containers[0]["env"].as_array().unwrap().len(), 2);
        assert_eq!(containers[1]["image"], "proxy:1");
    }

    #[test]
    fn strategic_directives_delete_and_replace() {
        let patched = strategic_patch(
            &deployment(),
            json!({"spec": {"replicas": null, "template": {"spec": {"containers": [
                {"name": "sidecar", "$patch": "delete"}, {"name": "new", "image": "n:1"}
            ]}}}}),
        );
        assert!(patched["spec"].get("replicas").is_none());
        let names: Vec<_> = patched["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["app", "new"]);
        let replaced = strategic_patch(
            &deployment(),
            json!({"spec": {"$patch": "replace", "paused": true}}),
        );
        assert_eq!(replaced["spec"], json!({"paused": true}));
    }

    #[test]
    fn merge_and_json_patches_and_unknown_types() {
        let merged = apply(
            Kind::Merge,
            &deployment(),
            &Document::Value(json!({"spec": {"template": {"spec": {"containers": []}}}})),
        )
        .unwrap();
        assert_eq!(merged["spec"]["template"]["spec"]["containers"], json!([]));
        let operations = parse(
            Kind::Json,
            br#"[{"op": "replace", "path": "/spec/replicas", "value": 3}]"#,
        )
        .unwrap();
        assert_eq!(
            apply(Kind::Json, &deployment(), &operations).unwrap()["spec"]["replicas"],
            3
        );
        let failing = parse(Kind::Json, br#"[{"op": "remove", "path": "/nope"}]"#).unwrap();
        assert_eq!(
            apply(Kind::Json, &deployment(), &failing)
                .err()
                .unwrap()
                .code,
            422
        );
        assert_eq!(Kind::from_content_type("text/plain").unwrap_err().code, 415);
        assert_eq!(parse(Kind::Merge, b"[1]").err().unwrap().code, 400);
        assert_eq!(parse(Kind::Merge, b"{").err().unwrap().code, 400);
    }

    #[test]
    fn ports_merge_by_container_port_or_port() {
        assert_eq!(
            list_key("ports", &[json!({"containerPort": 80})]),
            Some("containerPort")
        );
        assert_eq!(list_key("ports", &[json!({"port": 80})]), Some("port"));
        assert_eq!(list_key("args", &[json!("x")]), None);
    }
}
