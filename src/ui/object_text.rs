//! One object as the view shows it: its YAML without what must not be shown, and the line
//! diff of what kos applied against what the cluster holds.
//!
//! Pure text: the object comes in as JSON, whoever fetched it. What is left out is left out
//! of both sides of a diff alike, so that it never shows as a change.

use serde_json::Value;

/// What a Secret's values read as: their bytes are never shown.
pub const HIDDEN: &str = "(hidden)";

/// The annotation `kubectl apply` keeps the last applied object in: for a Secret it holds
/// the data in the clear.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `object` as YAML lines, as the view shows it (see [`shown`]).
pub fn yaml_lines(object: &Value) -> Vec<String> {
    match serde_saphyr::to_string(&shown(object)) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(error) => vec![format!("cannot write this object as YAML: {error}")],
    }
}

/// `object` without its managedFields (the bookkeeping of server-side apply, longer than the
/// object itself) and, for a Secret, with every value of `data` and `stringData` replaced
/// by [`HIDDEN`] and without the annotation that would repeat them.
pub fn shown(object: &Value) -> Value {
    let mut object = object.clone();
    let secret = object.get("kind").and_then(Value::as_str) == Some("Secret");
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        if secret
            && let Some(annotations) = metadata
                .get_mut("annotations")
                .and_then(Value::as_object_mut)
        {
            annotations.remove(LAST_APPLIED);
        }
    }
    if secret {
        for field in ["data", "stringData"] {
            if let Some(values) = object.get_mut(field).and_then(Value::as_object_mut) {
                for value in values.values_mut() {
                    *value = Value::String(HIDDEN.to_owned());
                }
            }
        }
    }
    object
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// On both sides.
    Same(String),
    /// Only in what kos applied.
    Applied(String),
    /// Only in what the cluster holds.
    Live(String),
}

impl DiffLine {
    /// The line as shown: a `-`, `+` or space, then the text.
    pub fn text(&self) -> String {
        let (sign, text) = match self {
            DiffLine::Same(text) => (' ', text),
            DiffLine::Applied(text) => ('-', text),
            DiffLine::Live(text) => ('+', text),
        };
        format!("{sign} {text}")
    }
}

/// Every line of `applied` and `live`, in order, each marked as common or as one side's:
/// what defaulting, controllers or another writer changed shows as `+`/`-` pairs.
pub fn diff(applied: &[String], live: &[String]) -> Vec<DiffLine> {
    similar::capture_diff_slices(similar::Algorithm::Myers, applied, live)
        .iter()
        .flat_map(|op| op.iter_changes(applied, live))
        .map(|change| {
            let text = change.value().clone();
            match change.tag() {
                similar::ChangeTag::Equal => DiffLine::Same(text),
                similar::ChangeTag::Delete => DiffLine::Applied(text),
                similar::ChangeTag::Insert => DiffLine::Live(text),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "db",
                "annotations": {
                    LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}",
                    "team": "shop"
                },
                "managedFields": [{"manager": "kos"}]
            },
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"user": "admin"}
        })
    }

    #[test]
    fn a_secrets_values_never_show_and_its_keys_do() {
        let text = yaml_lines(&secret()).join("\n");
        for leak in ["aHVudGVyMg==", "admin", "last-applied", "managedFields"] {
            assert!(!text.contains(leak), "{leak} shows in:\n{text}");
        }
        assert!(text.contains(&format!("password: {HIDDEN}")), "{text}");
        assert!(text.contains(&format!("user: {HIDDEN}")), "{text}");
        assert!(text.contains("team: shop"), "{text}");
    }

    #[test]
    fn other_kinds_keep_their_data_and_lose_only_managed_fields() {
        let mut config = secret();
        config["kind"] = json!("ConfigMap");
        let text = yaml_lines(&config).join("\n");
        assert!(text.contains("user: admin"), "{text}");
        assert!(text.contains("last-applied-configuration"), "{text}");
        assert!(!text.contains("managedFields"), "{text}");
    }

    #[test]
    fn the_diff_marks_what_the_cluster_added_and_changed() {
        let applied = json!({"kind": "Deployment", "spec": {"replicas": 2}});
        let live = json!({
            "kind": "Deployment",
            "spec": {"replicas": 3, "revisionHistoryLimit": 10},
            "status": {"readyReplicas": 3}
        });
        let lines: Vec<String> = diff(&yaml_lines(&applied), &yaml_lines(&live))
            .iter()
            .map(DiffLine::text)
            .collect();
        assert!(
            lines.contains(&"  kind: Deployment".to_owned()),
            "{lines:#?}"
        );
        assert!(lines.contains(&"-   replicas: 2".to_owned()), "{lines:#?}");
        assert!(lines.contains(&"+   replicas: 3".to_owned()), "{lines:#?}");
        assert!(
            lines.contains(&"+   revisionHistoryLimit: 10".to_owned()),
            "{lines:#?}"
        );
        assert!(lines.contains(&"+ status:".to_owned()), "{lines:#?}");
    }

    #[test]
    fn equal_objects_have_no_change() {
        let lines = yaml_lines(&secret());
        assert!(
            diff(&lines, &lines)
                .iter()
                .all(|line| matches!(line, DiffLine::Same(_)))
        );
    }
}
