//! Server-side apply, over the field sets of [`managed`](super::managed). An apply
//! conflicts when it sets a field another manager owns to a different value; `force` takes
//! the field over. A field the applier owned before and no longer sends is removed, unless
//! another manager owns it too.
//!
//! It must not store anything: [`serve`] computes the object and hands it to
//! [`objects`](super::objects) to write.

use super::managed::{
    Entry, Path, display, entries, entry, fields_of, is_item, remove_at, value_at, write_entries,
};
use super::{Api, Call, json, objects, patch::list_key};
use crate::errors::ApiError;
use crate::store::now;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// How many times an apply is retried when the object changed under it.
const RETRIES: usize = 5;

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
    let mut applied = parse(&call.body)?;
    if applied["metadata"]["name"].as_str() != Some(name.as_str()) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            applied["metadata"]["name"].as_str().unwrap_or_default()
        )));
    }
    if applied["metadata"].get("managedFields").is_some() {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let warnings = objects::check_fields(call, &mut applied, None, true)?;
    let respond = |status, object: &Value| objects::warned(json(status, object), &warnings);
    let api_version = target.resource.api_version();
    let key = target.resource.key();
    for _ in 0..RETRIES {
        let current = api.store.get(&key, &target.namespace, &name);
        let Some(current) = current else {
            // Defaults come after the field sets: the applier does not own them.
            let mut object = apply(None, &applied, &manager, force, &api_version)?;
            let _charging = objects::charging(api, target);
            objects::admit(api, call, &mut object, None)?;
            match objects::store_new(api, call, object) {
                Err(error) if error.reason == "AlreadyExists" => continue,
                result => return result.map(|o| respond(StatusCode::CREATED, &o)),
            }
        };
        let mut object = apply(Some(&current), &applied, &manager, force, &api_version)?;
        objects::admit(api, call, &mut object, Some(&*current))?;
        object["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        match objects::store_replace(api, call, &current, object) {
            Err(error) if error.reason == "Conflict" => {}
            result => return result.map(|o| respond(StatusCode::OK, &o)),
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
    use crate::api::managed::track_update;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                   {"name": "app", "image": image}]}}}})
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
