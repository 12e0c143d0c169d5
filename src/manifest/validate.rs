//! What makes a loaded object fit to be applied: identity fields present and well formed,
//! names the API server would accept, no object twice, no namespace against `-n`.
//!
//! Every problem of every object is returned, not only the first. Messages name fields and
//! the object's identity only: they must never quote other values (a Secret's data). The
//! namespace is not filled in here, because whether a kind is namespaced is only known from
//! the cluster's discovery. Pure; no I/O.

use super::names::{self, NameRule};
use super::{Manifest, Problem, Source};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Longest piece of a user value quoted back in a message.
const QUOTE_MAX: usize = 80;

/// The problems of `manifests`, in their order; `namespace` is `-n`. With `inspect_only`,
/// only what reading the objects needs: a mapping with apiVersion and kind.
pub fn check(manifests: &[Manifest], namespace: Option<&str>, inspect_only: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: HashMap<Identity, &Source> = HashMap::new();
    for manifest in manifests {
        let report = |message: String| Problem {
            source: manifest.source.clone(),
            message,
        };
        let Some(object) = manifest.object.as_object() else {
            problems.push(report("a Kubernetes object must be a mapping".to_owned()));
            continue;
        };
        if inspect_only {
            let mut missing = Vec::new();
            required_string(object, "apiVersion", "apiVersion", &mut missing);
            required_string(object, "kind", "kind", &mut missing);
            problems.extend(missing.into_iter().map(report));
            continue;
        }
        problems.extend(check_object(object, namespace).into_iter().map(report));
        if let Some(identity) = Identity::of(object, namespace) {
            if let Some(first) = seen.get(&identity) {
                problems.push(report(format!("{identity} appears twice: also at {first}")));
            } else {
                seen.insert(identity, &manifest.source);
            }
        }
    }
    problems
}

/// What makes two objects the same object in a cluster.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Identity {
    group: String,
    kind: String,
    /// The object's namespace, else `-n`'s, else empty (the context's default, unknown here).
    namespace: String,
    name: String,
}

impl Identity {
    fn of(object: &Map<String, Value>, namespace: Option<&str>) -> Option<Identity> {
        let api_version = string_field(object, "apiVersion")?;
        let kind = string_field(object, "kind")?;
        let metadata = object.get("metadata")?.as_object()?;
        let name = string_field(metadata, "name")?;
        let namespace = string_field(metadata, "namespace")
            .or(namespace)
            .unwrap_or_default();
        Some(Identity {
            group: group_of(api_version).to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, quote(&self.name))?;
        if !self.namespace.is_empty() {
            write!(f, " in namespace {}", quote(&self.namespace))?;
        }
        Ok(())
    }
}

/// Every problem of one object, as messages.
fn check_object(object: &Map<String, Value>, namespace: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let api_version = required_string(object, "apiVersion", "apiVersion", &mut problems);
    let malformed = |version: &&str| version.split('/').count() > 2 || version.contains("//");
    if let Some(api_version) = api_version.filter(malformed) {
        problems.push(format!(
            "apiVersion: Invalid value: {}: must be VERSION or GROUP/VERSION",
            quote(api_version)
        ));
    }
    let kind = required_string(object, "kind", "kind", &mut problems);
    match object.get("metadata") {
        None | Some(Value::Null) => problems.push("metadata.name is missing".to_owned()),
        Some(Value::Object(metadata)) => {
            let group = api_version.map(group_of);
            check_name(object, metadata, group.zip(kind), &mut problems);
            check_namespace(metadata, namespace, &mut problems);
        }
        Some(_) => problems.push("metadata must be a mapping".to_owned()),
    }
    problems
}

fn check_name(
    object: &Map<String, Value>,
    metadata: &Map<String, Value>,
    group_kind: Option<(&str, &str)>,
    problems: &mut Vec<String>,
) {
    let has_name = metadata.get("name").is_some_and(|name| name != "");
    if !has_name && metadata.contains_key("generateName") {
        problems.push(
            "metadata.generateName is not supported: kos applies objects by name (server-side \
             apply), which needs metadata.name to find the same object again"
                .to_owned(),
        );
        return;
    }
    let Some(name) = required_string(metadata, "name", "metadata.name", problems) else {
        return;
    };
    let Some((group, kind)) = group_kind else {
        // Without a kind there is no rule to choose; the kind's own problem is reported.
        return;
    };
    if let Some(reason) = names::check(names::rule_for(group, kind), name) {
        problems.push(invalid("metadata.name", name, &reason));
    }
    if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition") {
        check_crd_name(object, name, problems);
    }
}

/// A `CustomResourceDefinition` must be named `<spec.names.plural>.<spec.group>`.
fn check_crd_name(object: &Map<String, Value>, name: &str, problems: &mut Vec<String>) {
    let plural = object
        .get("spec")
        .and_then(|spec| spec.pointer("/names/plural"));
    let group = object.get("spec").and_then(|spec| spec.get("group"));
    if let (Some(Value::String(plural)), Some(Value::String(group))) = (plural, group)
        && name != format!("{plural}.{group}")
    {
        let reason = "must be spec.names.plural+\".\"+spec.group";
        problems.push(invalid("metadata.name", name, reason));
    }
}

fn check_namespace(metadata: &Map<String, Value>, flag: Option<&str>, problems: &mut Vec<String>) {
    let own = match metadata.get("namespace") {
        None | Some(Value::Null) => return,
        Some(Value::String(own)) if own.is_empty() => return,
        Some(Value::String(own)) => own,
        Some(_) => {
            problems.push("metadata.namespace must be a string".to_owned());
            return;
        }
    };
    if let Some(reason) = names::check(NameRule::Label, own) {
        problems.push(invalid("metadata.namespace", own, &reason));
    }
    if let Some(flag) = flag.filter(|flag| flag != own) {
        // kubectl's words, so that the fix it suggests is familiar.
        problems.push(format!(
            "the namespace from the provided object {} does not match the namespace {}. You \
             must pass '--namespace={}' to perform this operation.",
            quote(own),
            quote(flag),
            shorten(own)
        ));
    }
}

/// The string at `key`, or a problem saying why there is none.
fn required_string<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<&'a str> {
    match object.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Some(text),
        None | Some(Value::Null) => {
            problems.push(format!("{path} is missing"));
            None
        }
        Some(Value::String(_)) => {
            problems.push(format!("{path} is empty"));
            None
        }
        Some(_) => {
            problems.push(format!("{path} must be a string"));
            None
        }
    }
}

fn string_field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

/// The API group of an apiVersion: `apps` for `apps/v1`, empty for the core `v1`.
fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map_or("", |(group, _version)| group)
}

/// The API server's wording for a rejected field value.
fn invalid(path: &str, value: &str, reason: &str) -> String {
    format!("{path}: Invalid value: {}: {reason}", quote(value))
}

/// A user's identity value in double quotes, escaped, and cut to a readable length.
fn quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len().min(QUOTE_MAX) + 8);
    let _ = write!(quoted, "{:?}", shorten(value));
    if value.chars().count() > QUOTE_MAX {
        quoted.push('…');
    }
    quoted
}

fn shorten(value: &str) -> &str {
    value
        .char_indices()
        .nth(QUOTE_MAX)
        .map_or(value, |(end, _)| &value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(object: Value, line: usize) -> Manifest {
        Manifest {
            object,
            source: Source {
                file: "f.yaml".to_owned(),
                document: line,
                line,
                column: 1,
            },
            overrides: crate::tracker::Overrides::default(),
        }
    }

    fn messages(objects: Vec<Value>, namespace: Option<&str>) -> Vec<String> {
        let manifests: Vec<Manifest> = objects
            .into_iter()
            .enumerate()
            .map(|(i, object)| manifest(object, i + 1))
            .collect();
        check(&manifests, namespace, false)
            .into_iter()
            .map(|problem| problem.message)
            .collect()
    }

    fn config_map(metadata: &Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata})
    }

    #[test]
    fn a_valid_object_has_no_problems() {
        let object = config_map(&json!({"name": "a", "namespace": "team-1"}));
        assert!(messages(vec![object], Some("team-1")).is_empty());
    }

    #[test]
    fn identity_fields_must_be_non_empty_strings() {
        let object = json!({"apiVersion": "", "kind": 3, "metadata": []});
        assert_eq!(
            messages(vec![object], None),
            [
                "apiVersion is empty",
                "kind must be a string",
                "metadata must be a mapping"
            ]
        );
        assert_eq!(
            messages(vec![json!("not an object")], None),
            ["a Kubernetes object must be a mapping"]
        );
    }

    #[test]
    fn api_versions_have_at_most_one_group() {
        let object = json!({"apiVersion": "a/b/v1", "kind": "X", "metadata": {"name": "x"}});
        assert_eq!(
            messages(vec![object], None),
            ["apiVersion: Invalid value: \"a/b/v1\": must be VERSION or GROUP/VERSION"]
        );
    }

    #[test]
    fn an_empty_namespace_is_no_namespace_and_a_non_string_one_is_refused() {
        assert!(
            messages(
                vec![config_map(&json!({"name": "a", "namespace": ""}))],
                Some("b")
            )
            .is_empty()
        );
        assert_eq!(
            messages(
                vec![config_map(&json!({"name": "a", "namespace": 7}))],
                None
            ),
            ["metadata.namespace must be a string"]
        );
    }

    #[test]
    fn dash_n_is_the_namespace_of_objects_without_one_when_looking_for_duplicates() {
        let unset = config_map(&json!({"name": "a"}));
        let explicit = config_map(&json!({"name": "a", "namespace": "b"}));
        assert_eq!(
            messages(vec![unset.clone(), explicit.clone()], Some("b")),
            [
                "ConfigMap \"a\" in namespace \"b\" appears twice: also at f.yaml: document 1, line 1:1"
            ]
        );
        assert!(messages(vec![unset, explicit], None).is_empty());
    }

    #[test]
    fn a_crd_with_the_right_name_passes() {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"plural": "widgets"}}
        });
        assert!(messages(vec![crd], None).is_empty());
    }

    #[test]
    fn long_values_are_cut_when_quoted() {
        let name = format!("{}_", "a".repeat(300));
        let shown = &messages(vec![config_map(&json!({ "name": name }))], None)[0];
        assert!(shown.starts_with(&format!(
            "metadata.name: Invalid value: \"{}\"…",
            "a".repeat(80)
        )));
        assert!(shown.len() < 400, "{shown}");
    }
}
