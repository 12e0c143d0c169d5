//! `metadata.managedFields`: which field manager owns which fields, in the `fieldsV1`
//! notation a real server writes (`f:spec`, `k:{"name":"app"}` for list items merged by
//! key), so that `kubectl get -o yaml --show-managed-fields` reads as it does against a real
//! cluster. Updates (PUT, non-apply patches, create) record an `Update` entry owning the
//! fields they changed, taking them from the other managers without conflict; server-side
//! apply ([`apply`](super::apply)) builds on the same field sets.
//!
//! Pure bookkeeping on JSON values: it reads and writes no store.

use super::patch::list_key;
use crate::store::now;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// One path: `["f:spec", "f:template", ..., "k:{\"name\":\"app\"}", "f:image"]`.
pub(super) type Path = Vec<String>;
/// The fields one manager owns.
pub(super) type FieldSet = BTreeSet<Path>;

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
pub(super) struct Entry {
    pub(super) manager: String,
    pub(super) operation: String,
    pub(super) api_version: String,
    pub(super) time: String,
    pub(super) fields: FieldSet,
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
pub(super) fn fields_of(object: &Value) -> FieldSet {
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
pub(super) fn is_item(path: &[String]) -> bool {
    path.last().is_some_and(|e| e.starts_with("k:"))
}

/// The value at a path, if the object has it.
pub(super) fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
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
pub(super) fn remove_at(object: &mut Value, path: &[String]) {
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
pub(super) fn display(path: &[String]) -> String {
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

pub(super) fn entries(object: Option<&Value>) -> Vec<Entry> {
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

pub(super) fn write_entries(object: &mut Value, entries: &[Entry]) {
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
pub(super) fn entry<'a>(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_sets_round_trip_through_fields_v1() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a"}]}}}});
        let fields = fields_of(&deployment);
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
}
