//! A custom resource checked against its CRD's structural schema (the served version's
//! `openAPIV3Schema`), as the API server checks it: the fields the schema does not declare
//! (pruned, or refused under `fieldValidation=Strict`), and values of the wrong type, not
//! in an `enum`, or `required` and missing (422). Pure.
//!
//! Unknown fields stop being looked for below `x-kubernetes-preserve-unknown-fields: true`
//! and `x-kubernetes-embedded-resource: true`; `additionalProperties` declares a map's
//! values. `metadata`, `apiVersion` and `kind` at the top are the server's own.

use crate::resources::{FieldPath, Step};
use serde_json::Value;

/// What the schema finds wrong with an object.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Fields the schema does not declare, in document order.
    pub unknown: Vec<FieldPath>,
    /// The first invalid value: its path as the server writes it and what is wrong.
    pub invalid: Option<(String, String)>,
}

/// Checks `object` against `schema`.
pub fn check(schema: &Value, object: &Value) -> Findings {
    let mut findings = Findings::default();
    let Some(fields) = object.as_object() else {
        return findings;
    };
    let mut path = Vec::new();
    for (key, value) in fields {
        if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        path.push(Step::Key(key.clone()));
        match schema["properties"].get(key) {
            Some(field) => walk(field, value, &mut path, &mut findings),
            None if !preserves(schema) => findings.unknown.push(FieldPath(path.clone())),
            None => {}
        }
        path.pop();
    }
    required(schema, fields, &path, &mut findings);
    findings
}

fn preserves(schema: &Value) -> bool {
    schema["x-kubernetes-preserve-unknown-fields"] == true
        || schema["x-kubernetes-embedded-resource"] == true
}

fn walk(schema: &Value, value: &Value, path: &mut Vec<Step>, findings: &mut Findings) {
    if value.is_null() {
        return;
    }
    if let Some(problem) = wrong_type(schema, value).or_else(|| not_in_enum(schema, value)) {
        let at = FieldPath(path.clone()).to_string();
        findings
            .invalid
            .get_or_insert_with(|| (at.clone(), problem.replace("{path}", &at)));
        return;
    }
    match value {
        Value::Object(fields) => {
            for (key, item) in fields {
                path.push(Step::Key(key.clone()));
                let declared = schema["properties"].get(key).or_else(|| {
                    let extra = &schema["additionalProperties"];
                    extra.is_object().then_some(extra)
                });
                match declared {
                    Some(field) => walk(field, item, path, findings),
                    None if preserves(schema) || schema["additionalProperties"] == true => {}
                    None => findings.unknown.push(FieldPath(path.clone())),
                }
                path.pop();
            }
            required(schema, fields, path, findings);
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(Step::Index(index));
                walk(&schema["items"], item, path, findings);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The first `required` field `fields` lacks, as `path.field: Required value`.
fn required(
    schema: &Value,
    fields: &serde_json::Map<String, Value>,
    path: &[Step],
    findings: &mut Findings,
) {
    let missing = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|name| !fields.contains_key(*name));
    if let Some(name) = missing {
        let mut at = path.to_vec();
        at.push(Step::Key(name.to_owned()));
        findings
            .invalid
            .get_or_insert_with(|| (FieldPath(at).to_string(), "Required value".to_owned()));
    }
}

/// The JSON type name of `value`, as the API server quotes it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Why `value` is not of the schema's `type` (`{path}` stands for where it is).
fn wrong_type(schema: &Value, value: &Value) -> Option<String> {
    let wanted = schema["type"].as_str()?;
    let have = type_name(value);
    let fits = match wanted {
        _ if schema["x-kubernetes-int-or-string"] == true => {
            matches!(have, "integer" | "string")
        }
        "number" => matches!(have, "integer" | "number"),
        other => other == have,
    };
    (!fits).then(|| {
        format!("Invalid value: \"{have}\": {{path}} in body must be of type {wanted}: \"{have}\"")
    })
}

fn not_in_enum(schema: &Value, value: &Value) -> Option<String> {
    let allowed = schema["enum"].as_array()?;
    if allowed.contains(value) {
        return None;
    }
    let supported: Vec<String> = allowed.iter().map(Value::to_string).collect();
    Some(format!(
        "Unsupported value: {value}: supported values: {}",
        supported.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["cronSpec"], "properties": {
                "cronSpec": {"type": "string"},
                "replicas": {"type": "integer"},
                "mode": {"type": "string", "enum": ["fast", "safe"]},
                "port": {"x-kubernetes-int-or-string": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "steps": {"type": "array", "items": {"type": "object",
                          "properties": {"name": {"type": "string"}}}}}},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})
    }

    fn unknown(object: &Value) -> Vec<String> {
        check(&schema(), object)
            .unknown
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn undeclared_fields_are_found_except_where_the_schema_keeps_them() {
        let object = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "a"}, "extra": 1,
            "spec": {"cronSpec": "* * * * *", "replica": 2, "labels": {"any": "x"},
                     "config": {"anything": {"goes": true}},
                     "steps": [{"name": "a"}, {"nmae": "b"}]},
            "status": {"whatever": 1}});
        assert_eq!(
            unknown(&object),
            ["extra", "spec.replica", "spec.steps[1].nmae"]
        );
        assert_eq!(check(&schema(), &object).invalid, None);
    }

    #[test]
    fn wrong_types_enums_and_missing_required_fields_are_worded_as_the_server_does() {
        let invalid = |spec: Value| check(&schema(), &json!({"spec": spec})).invalid;
        assert_eq!(
            invalid(json!({"cronSpec": "x", "replicas": "two"})),
            Some((
                "spec.replicas".into(),
                "Invalid value: \"string\": spec.replicas in body must be of type integer: \
                 \"string\""
                    .into()
            ))
        );
        assert_eq!(
            invalid(json!({"cronSpec": "x", "mode": "quick"})),
            Some((
                "spec.mode".into(),
                "Unsupported value: \"quick\": supported values: \"fast\", \"safe\"".into()
            ))
        );
        assert_eq!(
            invalid(json!({"replicas": 1})),
            Some(("spec.cronSpec".into(), "Required value".into()))
        );
        assert_eq!(invalid(json!({"cronSpec": "x", "port": 8080})), None);
        assert_eq!(invalid(json!({"cronSpec": "x", "port": "http"})), None);
    }
}
