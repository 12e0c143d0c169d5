//! Server-side apply and `metadata.managedFields`: which field manager owns which fields.
//!
//! Field sets are sets of paths in the `fieldsV1` notation a real server writes (`f:spec`,
//! `k:{"name":"app"}` for list items merged by key), so that `kubectl get -o yaml
//! --show-managed-fields` reads as it does against a real cluster. An apply conflicts when
//! it sets a field another manager owns to a different value; `force` takes the field over.
//! A field the applier owned before and no longer sends is removed, unless another manager
//! owns it too. Updates (PUT, non-apply patches, create) record an `Update` entry owning
//! the fields they changed, taking them from the other managers without conflict.
//!
//! It must not store anything: [`serve`] computes the object and hands it to
//! [`objects`](super::objects) to write.

use super::{Api, Call, json, objects, patch::list_key};
use crate::errors::ApiError;
use crate::store::now;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// One path: `["f:spec", "f:template", ..., "k:{\"name\":\"app\"}", "f:image"]`.
type Path = Vec<String>;
/// The fields one manager owns.
type FieldSet = BTreeSet<Path>;

/// How many times an apply is retried when the object changed under it.
const RETRIES: usize = 5;

/// Metadata fields the server owns: never part of a field set.
const SERVER_METADATA: [&str; 9] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
];

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    fields: FieldSet,
}

fn item_element(key: &str, item: &Value) -> String {
    let mut key_object = Map::new();
    key_object.insert(key.to_owned(), item[key].clone());
    format!("k:{}", Value::Object(key_object))
}

fn walk(value: &Value, field: Option<&str>, prefix: &Path, out: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (name, child) in map {
                let mut path = prefix.clone();
                path.push(format!("f:{name}"));
                walk(child, Some(name), &path, out);
            }
        }
        Value::Array(items)
            if field.and_then(|f| list_key(f, items)).is_some() && !items.is_empty() =>
        {
            let key = field.and_then(|f| list_key(f, items)).unwrap_or_default();
            for item in items {
                let mut path = prefix.clone();
                path.push(item_element(key, item));
                out.insert(path.clone());
                walk(item, None, &path, out);
            }
        }
        _ => {
            out.insert(prefix.clone());
        }
    }
}

/// The fields an object sets (leaves, and the items of keyed lists), without what the
/// server owns and without `status`.
fn fields_of(object: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(map) = object.as_object() else {
        return out;
    };
    for (name, child) in map {
        match name.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                let mut metadata = child.clone();
                if let Some(meta) = metadata.as_object_mut() {
                    meta.retain(|k, _| !SERVER_METADATA.contains(&k.as_str()));
                    if !meta.is_empty() {
                        walk(&metadata, Some(name), &vec![format!("f:{name}")], &mut out);
                    }
                }
            }
            _ => walk(child, Some(name), &vec![format!("f:{name}")], &mut out),
        }
    }
    out
}

/// Whether a path names a list item as a whole: items are co-owned, only their fields
/// change hands or conflict.
fn is_item(path: &[String]) -> bool {
    path.last().is_some_and(|e| e.starts_with("k:"))
}

/// The value at a path, if the object has it.
fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |value, element| {
        if let Some(name) = element.strip_prefix("f:") {
            value.get(name)
        } else {
            let key: Map<String, Value> = serde_json::from_str(element.strip_prefix("k:")?).ok()?;
            value
                .as_array()?
                .iter()
                .find(|item| key.iter().all(|(k, v)| item.get(k) == Some(v)))
        }
    })
}

/// Removes the field or list item at a path.
fn remove_at(object: &mut Value, path: &[String]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut parent = object;
    for element in parent_path {
        let next = if let Some(name) = element.strip_prefix("f:") {
            parent.get_mut(name)
        } else {
            let key: Option<Map<String, Value>> = element
                .strip_prefix("k:")
                .and_then(|k| serde_json::from_str(k).ok());
            key.and_then(|key| {
                parent
                    .as_array_mut()?
                    .iter_mut()
                    .find(|item| key.iter().all(|(k, v)| item.get(k) == Some(v)))
            })
        };
        match next {
            Some(next) => parent = next,
            None => return,
        }
    }
    if let Some(name) = last.strip_prefix("f:") {
        if let Some(map) = parent.as_object_mut() {
            map.remove(name);
        }
    } else if let (Some(key), Some(items)) = (
        last.strip_prefix("k:")
            .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok()),
        parent.as_array_mut(),
    ) {
        items.retain(|item| !key.iter().all(|(k, v)| item.get(k) == Some(v)));
    }
}

/// A path as the conflict messages print it: `.spec.containers[name="app"].image`.
fn display(path: &[String]) -> String {
    path.iter()
        .map(|element| {
            if let Some(name) = element.strip_prefix("f:") {
                format!(".{name}")
            } else {
                let key: Map<String, Value> = element
                    .strip_prefix("k:")
                    .and_then(|k| serde_json::from_str(k).ok())
                    .unwrap_or_default();
                let terms: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", terms.join(","))
            }
        })
        .collect()
}

/// A field set in the `fieldsV1` notation.
fn encode(fields: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in fields {
        insert(&mut root, path);
    }
    Value::Object(root)
}

fn insert(node: &mut Map<String, Value>, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let child = node.entry(first.clone()).or_insert_with(|| json!({}));
    let Some(child) = child.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        // A list item owned as a whole is marked with ".".
        if first.starts_with("k:") {
            child.insert(".".into(), json!({}));
        }
    } else {
        insert(child, rest);
    }
}

fn decode_into(node: &Value, prefix: &Path, out: &mut FieldSet) {
    let Some(map) = node.as_object() else {
        return;
    };
    for (element, child) in map {
        if element == "." {
            out.insert(prefix.clone());
            continue;
        }
        let mut path = prefix.clone();
        path.push(element.clone());
        if child.as_object().is_none_or(Map::is_empty) {
            out.insert(path);
        } else {
            decode_into(child, &path, out);
        }
    }
}

fn entries(object: Option<&Value>) -> Vec<Entry> {
    let Some(list) = object.and_then(|o| o["metadata"]["managedFields"].as_array()) else {
        return Vec::new();
    };
    list.iter()
        .map(|e| {
            let text = |field: &str| e[field].as_str().unwrap_or_default().to_owned();
            let mut fields = FieldSet::new();
            decode_into(&e["fieldsV1"], &Vec::new(), &mut fields);
            Entry {
                manager: text("manager"),
                operation: text("operation"),
                api_version: text("apiVersion"),
                time: text("time"),
                fields,
            }
        })
        .collect()
}

fn write_entries(object: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            json!({"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version,
                   "time": e.time, "fieldsType": "FieldsV1", "fieldsV1": encode(&e.fields)})
        })
        .collect();
    if let Some(meta) = object["metadata"].as_object_mut() {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// The entry of a manager and operation, created when missing.
fn entry<'a>(
    entries: &'a mut Vec<Entry>,
    manager: &str,
    operation: &str,
    api_version: &str,
) -> &'a mut Entry {
    let index = entries
        .iter()
        .position(|e| e.manager == manager && e.operation == operation)
        .unwrap_or_else(|| {
            entries.push(Entry {
                manager: manager.to_owned(),
                operation: operation.to_owned(),
                api_version: api_version.to_owned(),
                time: String::new(),
                fields: FieldSet::new(),
            });
            entries.len() - 1
        });
    let found = &mut entries[index];
    api_version.clone_into(&mut found.api_version);
    found
}

/// Records an update (create, PUT, non-apply patch) by `manager` in `after`'s
/// managedFields: it owns what it changed, and nobody owns what it removed.
pub fn track_update(before: Option<&Value>, after: &mut Value, manager: &str, api_version: &str) {
    let mut list = entries(before);
    let old = before.map(fields_of).unwrap_or_default();
    let new = fields_of(after);
    let changed: FieldSet = new
        .iter()
        .filter(|p| {
            !old.contains(*p)
                || (!is_item(p) && before.and_then(|b| value_at(b, p)) != value_at(after, p))
        })
        .cloned()
        .collect();
    for e in &mut list {
        e.fields.retain(|p| new.contains(p) && !changed.contains(p));
    }
    if !changed.is_empty() {
        let updated = entry(&mut list, manager, "Update", api_version);
        updated.fields.extend(changed);
        updated.time = now();
    }
    write_entries(after, &list);
}

/// A conflict: another manager owns a field the apply sets to a different value.
struct Conflict {
    manager: String,
    label: String,
    path: Path,
}

/// How a conflict names its manager: `"kubectl-client-side-apply" using apps/v1` for an
/// update, the bare quoted name for an apply.
fn label(entry: &Entry) -> String {
    if entry.operation == "Update" {
        format!("{:?} using {}", entry.manager, entry.api_version)
    } else {
        format!("{:?}", entry.manager)
    }
}

fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    let message = if let [only] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.label,
            display(&only.path)
        )
    } else {
        let mut labels: Vec<&String> = conflicts.iter().map(|c| &c.label).collect();
        labels.sort();
        labels.dedup();
        let mut lines = Vec::new();
        for manager in labels {
            lines.push(format!("conflicts with {manager}:"));
            lines.extend(
                conflicts
                    .iter()
                    .filter(|c| &c.label == manager)
                    .map(|c| format!("- {}", display(&c.path))),
            );
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.label),
                        "field": display(&c.path)}))
        .collect();
    ApiError::new(409, "Conflict", message).with_details(json!({"causes": causes}))
}

/// Merges an applied configuration into an object: maps field by field, keyed lists item
/// by item, everything else replaced.
fn merge(target: &mut Value, applied: &Value) {
    match (target.as_object_mut(), applied.as_object()) {
        (Some(target_map), Some(applied_map)) => {
            for (name, value) in applied_map {
                let slot = target_map.entry(name.clone()).or_insert(Value::Null);
                match (slot.as_array_mut(), value.as_array()) {
                    (Some(current), Some(items)) if list_key(name, items).is_some() => {
                        let key = list_key(name, items).unwrap_or_default();
                        for item in items {
                            match current.iter_mut().find(|c| c.get(key) == item.get(key)) {
                                Some(existing) => merge(existing, item),
                                None => current.push(item.clone()),
                            }
                        }
                    }
                    _ => merge(slot, value),
                }
            }
        }
        _ => *target = applied.clone(),
    }
}

/// The result of applying `applied` for `manager` over `current` (None: a create).
fn apply(
    current: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    api_version: &str,
) -> Result<Value, ApiError> {
    let mut list = entries(current);
    let fields = fields_of(applied);
    let mine = |e: &Entry| e.manager == manager && e.operation == "Apply";
    let conflicts: Vec<Conflict> = list
        .iter()
        .filter(|e| !mine(e))
        .flat_map(|e| {
            fields
                .iter()
                .filter(|p| !is_item(p) && e.fields.contains(*p))
                .filter(|p| current.and_then(|c| value_at(c, p)) != value_at(applied, p))
                .map(|p| Conflict {
                    manager: e.manager.clone(),
                    label: label(e),
                    path: p.clone(),
                })
        })
        .collect();
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&conflicts));
    }
    for conflict in &conflicts {
        for e in list
            .iter_mut()
            .filter(|e| e.manager == conflict.manager && !mine(e))
        {
            e.fields.remove(&conflict.path);
        }
    }
    let previous = list
        .iter()
        .find(|e| mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut result = current.cloned().unwrap_or_else(|| json!({}));
    merge(&mut result, applied);
    let owned_by_others = |path: &Path| {
        list.iter()
            .filter(|e| !mine(e))
            .any(|e| e.fields.iter().any(|p| p.starts_with(path)))
    };
    for path in previous.difference(&fields) {
        if !owned_by_others(path) {
            remove_at(&mut result, path);
        }
    }
    let applied_entry = entry(&mut list, manager, "Apply", api_version);
    // An apply that changes nothing leaves the object, and so its resourceVersion, alone.
    if applied_entry.fields != fields || applied_entry.time.is_empty() {
        applied_entry.fields = fields;
        applied_entry.time = now();
    }
    write_entries(&mut result, &list);
    Ok(result)
}

/// Parses an apply body: YAML or JSON, one object.
fn parse(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the body of the request was malformed: not UTF-8"))?;
    let options = serde_saphyr::options! { strict_booleans: true };
    let value: Value = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::bad_request(
            "the body of the request was malformed: not an object",
        ))
    }
}

/// `PATCH` with `application/apply-patch+yaml`: server-side apply.
pub fn serve(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    let name = target.name.clone().unwrap_or_default();
    let manager = call
        .params
        .get("fieldManager")
        .ok_or_else(|| {
            ApiError::bad_request(
                "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
            )
        })?
        .to_owned();
    let force = call.params.flag("force");
    let applied = parse(&call.body)?;
    if applied["metadata"]["name"].as_str() != Some(name.as_str()) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            applied["metadata"]["name"].as_str().unwrap_or_default()
        )));
    }
    if applied["metadata"].get("managedFields").is_some() {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let api_version = target.resource.api_version();
    let key = target.resource.key();
    for _ in 0..RETRIES {
        let current = api.store.get(&key, &target.namespace, &name);
        let Some(current) = current else {
            // Defaults come after the field sets: the applier does not own them.
            let mut object = apply(None, &applied, &manager, force, &api_version)?;
            objects::admit(api, target, &mut object, true)?;
            match objects::store_new(api, call, object) {
                Err(error) if error.reason == "AlreadyExists" => continue,
                result => return result.map(|o| json(StatusCode::CREATED, &o)),
            }
        };
        let mut object = apply(Some(&current), &applied, &manager, force, &api_version)?;
        objects::admit(api, target, &mut object, false)?;
        object["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        match objects::store_replace(api, call, &current, object) {
            Err(error) if error.reason == "Conflict" => {}
            result => return result.map(|o| json(StatusCode::OK, &o)),
        }
    }
    Err(ApiError::new(
        409,
        "Conflict",
        format!("the object {name} kept changing; try again"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                   {"name": "app", "image": image}]}}}})
    }

    #[test]
    fn field_sets_round_trip_through_fields_v1() {
        let fields = fields_of(&deployment(1, "a"));
        let encoded = encode(&fields);
        assert!(
            encoded["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]
                .get(".")
                .is_some()
        );
        let mut decoded = FieldSet::new();
        decode_into(&encoded, &Vec::new(), &mut decoded);
        assert_eq!(decoded, fields);
        assert!(!fields.iter().any(|p| p[0] == "f:apiVersion"));
    }

    #[test]
    fn an_apply_conflicts_with_another_manager_unless_forced() {
        let first = apply(None, &deployment(1, "a"), "kubectl", false, "apps/v1").unwrap();
        let error = apply(Some(&first), &deployment(2, "a"), "kos", false, "apps/v1").unwrap_err();
        assert_eq!(error.code, 409);
        assert_eq!(
            error.message,
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
        let causes = &error.details.as_ref().unwrap()["causes"];
        assert_eq!(causes[0]["field"], ".spec.replicas");
        assert_eq!(causes[0]["reason"], "FieldManagerConflict");
        let forced = apply(Some(&first), &deployment(2, "a"), "kos", true, "apps/v1").unwrap();
        assert_eq!(forced["spec"]["replicas"], 2);
        let owners = entries(Some(&forced));
        let kubectl = owners.iter().find(|e| e.manager == "kubectl").unwrap();
        assert!(
            !kubectl
                .fields
                .contains(&vec!["f:spec".to_owned(), "f:replicas".to_owned()])
        );
        // Same values do not conflict: both managers own them.
        assert!(apply(Some(&first), &deployment(1, "a"), "kos", false, "apps/v1").is_ok());
    }

    #[test]
    fn applying_the_same_configuration_again_changes_nothing() {
        let mut first = apply(None, &deployment(1, "a"), "kos", false, "apps/v1").unwrap();
        // Written a while ago: a no-op apply must not touch even the time.
        first["metadata"]["managedFields"][0]["time"] = json!("2020-01-01T00:00:00Z");
        let again = apply(Some(&first), &deployment(1, "a"), "kos", false, "apps/v1").unwrap();
        assert_eq!(again, first);
    }

    #[test]
    fn fields_no_longer_applied_are_removed() {
        let first = apply(None, &deployment(1, "a"), "kos", false, "apps/v1").unwrap();
        let mut smaller = deployment(1, "a");
        smaller["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("labels");
        let second = apply(Some(&first), &smaller, "kos", false, "apps/v1").unwrap();
        assert!(
            second["metadata"]
                .get("labels")
                .is_none_or(|l| l.get("app").is_none())
        );
        assert_eq!(
            second["spec"]["template"]["spec"]["containers"][0]["image"],
            "a"
        );
    }

    #[test]
    fn updates_take_fields_over_and_name_them_in_conflicts() {
        let mut created = deployment(1, "a");
        track_update(None, &mut created, "kubectl-client-side-apply", "apps/v1");
        let error =
            apply(Some(&created), &deployment(3, "a"), "kos", false, "apps/v1").unwrap_err();
        assert!(
            error.message.contains(
                "conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
            )
        );
        let applied = apply(Some(&created), &deployment(1, "b"), "kos", true, "apps/v1").unwrap();
        let mut scaled = applied.clone();
        scaled["spec"]["replicas"] = json!(5);
        track_update(Some(&applied), &mut scaled, "kubectl", "apps/v1");
        let error = apply(Some(&scaled), &deployment(1, "b"), "kos", false, "apps/v1").unwrap_err();
        assert!(
            error.message.contains("\"kubectl\" using apps/v1"),
            "{}",
            error.message
        );
    }

    #[test]
    fn paths_display_like_a_real_server() {
        let path = vec![
            "f:spec".to_owned(),
            "k:{\"name\":\"app\"}".to_owned(),
            "f:image".to_owned(),
        ];
        assert_eq!(display(&path), ".spec[name=\"app\"].image");
    }
}
