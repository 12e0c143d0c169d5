//! Small read helpers over JSON objects that every controller and the kubelet share:
//! metadata fields, owner references, pod readiness. Pure functions; no store access.

use serde_json::{Value, json};

/// The value at a JSON pointer, as [`Value::pointer`] finds it. The controllers and the
/// kubelet read a few fields of every pod on every reconcile; `Value::pointer` allocates
/// two strings per step (for its `~` escapes), which was a tenth of the simulator's CPU at
/// thousands of pods. Pointers without escapes are walked in place.
pub fn at<'a>(object: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.contains('~') || !(pointer.is_empty() || pointer.starts_with('/')) {
        return object.pointer(pointer);
    }
    pointer
        .split('/')
        .skip(1)
        .try_fold(object, |value, token| match value {
            Value::Object(map) => map.get(token),
            Value::Array(items) => array_index(token).and_then(|i| items.get(i)),
            _ => None,
        })
}

/// An array index as a JSON pointer writes it: digits, no leading zero, no sign.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// A string field at a JSON pointer, or `""`.
pub fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    at(object, pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// An integer field at a JSON pointer, or `default`.
pub fn int_at(object: &Value, pointer: &str, default: i64) -> i64 {
    at(object, pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

pub fn name(object: &Value) -> &str {
    str_at(object, "/metadata/name")
}

pub fn namespace(object: &Value) -> &str {
    str_at(object, "/metadata/namespace")
}

pub fn uid(object: &Value) -> &str {
    str_at(object, "/metadata/uid")
}

pub fn generation(object: &Value) -> i64 {
    int_at(object, "/metadata/generation", 0)
}

/// Whether the object is being deleted.
pub fn terminating(object: &Value) -> bool {
    at(object, "/metadata/deletionTimestamp").is_some_and(|t| !t.is_null())
}

/// The uid of the object's controlling owner, if any.
pub fn controller_uid(object: &Value) -> Option<&str> {
    at(object, "/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .and_then(|r| r["uid"].as_str())
}

/// The uids of every owner of the object.
pub fn owner_uids(object: &Value) -> impl Iterator<Item = &str> {
    at(object, "/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str())
}

/// The ownerReference a controller puts on what it creates.
pub fn controller_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// A pod from a pod template, owned by `owner` and in its namespace. The caller names it
/// (`metadata.name` or `generateName`) and adds labels.
pub fn pod_from_template(owner: &Value, template: &Value) -> Value {
    let mut metadata = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !metadata.is_object() {
        metadata = json!({});
    }
    // A template's own name is not the pod's: pods are named by their controller (a Job's
    // retries could not be created under one name).
    if let Some(fields) = metadata.as_object_mut() {
        fields.remove("name");
    }
    metadata["namespace"] = json!(namespace(owner));
    metadata["ownerReferences"] = json!([controller_ref(owner)]);
    if !metadata["labels"].is_object() {
        metadata["labels"] = json!({});
    }
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    if !spec.is_object() {
        spec = json!({});
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

/// Sets the field at `path`, turning whatever is in the way into objects: user data may hold
/// a string where an object belongs, and a write must not panic on it.
pub fn put(target: &mut Value, path: &[&str], value: Value) {
    match path.split_first() {
        None => *target = value,
        Some((key, rest)) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Some(map) = target.as_object_mut() {
                put(map.entry(*key).or_insert(Value::Null), rest, value);
            }
        }
    }
}

/// Whether a `LabelSelector` (`matchLabels` and `matchExpressions`) selects an object with
/// these `labels`. An empty selector selects everything; so does a Service's plain map of
/// labels passed as `{"matchLabels": map}`.
pub fn selects(selector: &Value, labels: &Value) -> bool {
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let by_labels = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == value.as_str());
    by_labels
        && selector["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|expression| {
                let key = expression["key"].as_str().unwrap_or_default();
                let listed = |v: &str| {
                    expression["values"]
                        .as_array()
                        .is_some_and(|values| values.iter().any(|x| x == v))
                };
                match expression["operator"].as_str().unwrap_or_default() {
                    "In" => label(key).is_some_and(listed),
                    "NotIn" => !label(key).is_some_and(listed),
                    "Exists" => label(key).is_some(),
                    "DoesNotExist" => label(key).is_none(),
                    // An operator the API server would have refused selects nothing.
                    _ => false,
                }
            })
}

/// A label selector object as text (`app=web,tier in (a,b)`): what a Scale and a
/// Rollout's `status.selector` carry.
pub fn selector_text(selector: &Value) -> String {
    let mut terms: Vec<String> = selector["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        terms.push(match expression["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "DoesNotExist" => format!("!{key}"),
            _ => key.to_owned(),
        });
    }
    terms.join(",")
}

/// The `status` of a pod's condition of `type_` is `"True"`.
pub fn condition_true(object: &Value, type_: &str) -> bool {
    condition(object, type_).is_some_and(|c| c["status"] == "True")
}

/// The condition of `type_` in `.status.conditions`.
pub fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    at(object, "/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// The pod's phase.
pub fn phase(pod: &Value) -> &str {
    str_at(pod, "/status/phase")
}

/// A pod that counts toward its controller's replicas: neither terminating nor finished.
pub fn pod_active(pod: &Value) -> bool {
    !terminating(pod) && !matches!(phase(pod), "Succeeded" | "Failed")
}

pub fn pod_ready(pod: &Value) -> bool {
    pod_active(pod) && condition_true(pod, "Ready")
}

/// Ready for at least `min_ready_seconds` of real time; `None` means it will be available
/// after that many more seconds (so the caller can look again then).
pub fn pod_available(pod: &Value, min_ready_seconds: i64) -> Result<bool, i64> {
    if !pod_ready(pod) {
        return Ok(false);
    }
    if min_ready_seconds <= 0 {
        return Ok(true);
    }
    let since = condition(pod, "Ready")
        .and_then(|c| c["lastTransitionTime"].as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let Some(since) = since else {
        return Ok(true);
    };
    let ready_for = chrono::Utc::now()
        .signed_duration_since(since)
        .num_seconds();
    if ready_for >= min_ready_seconds {
        Ok(true)
    } else {
        Err(min_ready_seconds - ready_for)
    }
}

/// Sets (or replaces) a condition, keeping `lastTransitionTime` when the status is unchanged.
pub fn set_condition(conditions: &mut Vec<Value>, mut condition: Value, now: &str) {
    let type_ = condition["type"].clone();
    if let Some(existing) = conditions.iter_mut().find(|c| c["type"] == type_) {
        let transition = if existing["status"] == condition["status"] {
            existing["lastTransitionTime"].clone()
        } else {
            json!(now)
        };
        condition["lastTransitionTime"] = transition;
        *existing = condition;
    } else {
        condition["lastTransitionTime"] = json!(now);
        conditions.push(condition);
    }
}

/// Sets a condition of a Deployment or a Rollout (those with a `lastUpdateTime`) the way
/// their controllers do: an unchanged status and reason leave it as it is, unless `touch`
/// (progress was seen) moves `lastUpdateTime`.
pub fn set_progress_condition(
    conditions: &mut Vec<Value>,
    type_: &str,
    [status, reason, message]: [&str; 3],
    touch: bool,
    now: &str,
) {
    let existing = conditions.iter_mut().find(|c| c["type"] == type_);
    let fresh = json!({"type": type_, "status": status, "reason": reason, "message": message,
                       "lastUpdateTime": now, "lastTransitionTime": now});
    match existing {
        Some(c) if c["status"] == status && c["reason"] == reason && !touch => {}
        Some(c) => {
            let transition = if c["status"] == status {
                c["lastTransitionTime"].clone()
            } else {
                json!(now)
            };
            *c = fresh;
            c["lastTransitionTime"] = transition;
        }
        None => conditions.push(fresh),
    }
}

/// The object's `.status.conditions` as an owned list.
pub fn conditions_of(object: &Value) -> Vec<Value> {
    at(object, "/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The value with every null, `{}` and `[]` field left out: what Kubernetes' semantic
/// equality sees (kubectl sends `creationTimestamp: null` in templates, for instance).
pub fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// FNV-1a, 32 bits: the hash Kubernetes names pod templates with.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, b| {
        (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// A hash of a pod template as a short name-safe string, like `7c5ddbdf54`: the decimal
/// FNV hash of its JSON (keys sorted, so stable), each digit mapped into the alphabet
/// Kubernetes uses for generated names.
pub fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let hash = fnv32a(normalized(template).to_string().as_bytes());
    hash.to_string()
        .bytes()
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_finds_what_a_json_pointer_finds() {
        let object = serde_json::json!({"metadata": {"name": "a", "labels": {"a/b": "1", "m~n": "2", "": "3"}},
            "spec": {"containers": [{"name": "x"}, {"name": "y"}], "00": 1, "1": 2}});
        for pointer in [
            "",
            "/",
            "/metadata/name",
            "/metadata/labels/a~1b",
            "/metadata/labels/m~0n",
            "/metadata/labels/",
            "/spec/containers/1/name",
            "/spec/containers/01/name",
            "/spec/containers/+1",
            "/spec/containers/-",
            "/spec/containers/2",
            "/spec/00",
            "/spec/1",
            "/metadata/name/x",
            "metadata",
            "/nothing/here",
        ] {
            assert_eq!(at(&object, pointer), object.pointer(pointer), "{pointer}");
        }
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn template_hash_is_stable_and_changes_with_the_template() {
        let a = json!({"spec": {"containers": [{"name": "c", "image": "nginx:1"}]}});
        let b = json!({"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}});
        assert_eq!(template_hash(&a), template_hash(&a.clone()));
        assert_ne!(template_hash(&a), template_hash(&b));
        let with_nulls = json!({"metadata": {"creationTimestamp": null, "labels": {}},
                                "spec": {"containers": [{"name": "c", "image": "nginx:1",
                                                         "ports": null, "resources": {}}]}});
        assert_eq!(template_hash(&a), template_hash(&with_nulls));
        assert_eq!(normalized(&with_nulls), a);
        assert!(
            template_hash(&a)
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
        );
    }

    #[test]
    fn put_writes_through_whatever_is_in_the_way() {
        let mut object = json!({"metadata": {"annotations": "oops"}, "spec": 3});
        put(&mut object, &["metadata", "annotations", "a"], json!("b"));
        put(&mut object, &["spec", "replicas"], json!(2));
        assert_eq!(
            object,
            json!({"metadata": {"annotations": {"a": "b"}}, "spec": {"replicas": 2}})
        );
        let template = json!({"metadata": "x", "spec": "y"});
        let pod = pod_from_template(&object, &template);
        assert!(pod["metadata"]["labels"].is_object() && pod["spec"].is_object());
    }

    #[test]
    fn selectors_match_labels_and_expressions() {
        let labels = json!({"app": "web", "tier": "front"});
        assert!(selects(&json!({}), &labels));
        assert!(selects(&json!({"matchLabels": {"app": "web"}}), &labels));
        assert!(!selects(&json!({"matchLabels": {"app": "db"}}), &labels));
        let expression = |operator: &str, values: &[&str]| json!({"matchExpressions": [{"key": "tier", "operator": operator, "values": values}]});
        assert!(selects(&expression("In", &["front", "back"]), &labels));
        assert!(!selects(&expression("NotIn", &["front"]), &labels));
        assert!(selects(&expression("NotIn", &["front"]), &json!({})));
        assert!(selects(&expression("Exists", &[]), &labels));
        assert!(!selects(&expression("DoesNotExist", &[]), &labels));
        assert!(!selects(&expression("Near", &[]), &labels));
    }

    #[test]
    fn set_condition_keeps_transition_time_when_status_holds() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            json!({"type": "Ready", "status": "False"}),
            "t1",
        );
        set_condition(
            &mut conditions,
            json!({"type": "Ready", "status": "False"}),
            "t2",
        );
        assert_eq!(conditions[0]["lastTransitionTime"], "t1");
        set_condition(
            &mut conditions,
            json!({"type": "Ready", "status": "True"}),
            "t3",
        );
        assert_eq!(conditions[0]["lastTransitionTime"], "t3");
        assert_eq!(conditions.len(), 1);
    }
}
