//! Label selectors (`app=web,tier!=db,env in (a,b),!legacy`) and field selectors
//! (`metadata.name=x,status.phase!=Running`) as list and watch requests carry them.
//!
//! Pure: parse a selector string, test an object. Field selectors read any dotted path of
//! the object, which covers the ones a real server supports (`metadata.name`,
//! `metadata.namespace`, `spec.nodeName`, `status.phase`, `involvedObject.*`, ...).

use crate::errors::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

/// A parsed field selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<Requirement>);

/// Splits on commas that are not inside parentheses.
fn terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0_i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    terms
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

fn set_values(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_owned()).collect())
}

fn bad(kind: &str, text: &str) -> ApiError {
    ApiError::bad_request(format!(
        "unable to parse requirement: invalid {kind} selector: {text:?}"
    ))
}

fn parse_term(term: &str, kind: &str) -> Result<Requirement, ApiError> {
    let key = |k: &str| -> Result<String, ApiError> {
        let k = k.trim();
        if k.is_empty() || k.contains(char::is_whitespace) {
            Err(bad(kind, term))
        } else {
            Ok(k.to_owned())
        }
    };
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(Requirement::NotEquals(key(k)?, v.trim().to_owned()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Ok(Requirement::Equals(key(k)?, v.trim().to_owned()));
    }
    if let Some((k, values)) = term.split_once(" notin ") {
        let values = set_values(values).ok_or_else(|| bad(kind, term))?;
        return Ok(Requirement::NotIn(key(k)?, values));
    }
    if let Some((k, values)) = term.split_once(" in ") {
        let values = set_values(values).ok_or_else(|| bad(kind, term))?;
        return Ok(Requirement::In(key(k)?, values));
    }
    match term.strip_prefix('!') {
        Some(k) => Ok(Requirement::NotExists(key(k)?)),
        None => Ok(Requirement::Exists(key(term)?)),
    }
}

fn matches(requirements: &[Requirement], value: impl Fn(&str) -> Option<String>) -> bool {
    requirements.iter().all(|r| match r {
        Requirement::Equals(k, v) => value(k).as_deref() == Some(v.as_str()),
        Requirement::NotEquals(k, v) => value(k).as_deref() != Some(v.as_str()),
        Requirement::In(k, vs) => value(k).is_some_and(|x| vs.contains(&x)),
        Requirement::NotIn(k, vs) => value(k).is_none_or(|x| !vs.contains(&x)),
        Requirement::Exists(k) => value(k).is_some(),
        Requirement::NotExists(k) => value(k).is_none(),
    })
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        terms(text)
            .into_iter()
            .map(|t| parse_term(t, "label"))
            .collect::<Result<_, _>>()
            .map(LabelSelector)
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        matches(&self.0, |k| {
            labels.get(k).and_then(Value::as_str).map(str::to_owned)
        })
    }
}

/// The value of a dotted field path as a field selector compares it: strings as they are,
/// numbers and booleans as text, and missing fields as the empty string.
fn field_value(object: &Value, path: &str) -> String {
    let value = path.split('.').try_fold(object, |v, part| v.get(part));
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl FieldSelector {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let requirements: Vec<Requirement> = terms(text)
            .into_iter()
            .map(|t| parse_term(t, "field"))
            .collect::<Result<_, _>>()?;
        if requirements
            .iter()
            .any(|r| !matches!(r, Requirement::Equals(..) | Requirement::NotEquals(..)))
        {
            return Err(bad("field", text));
        }
        Ok(FieldSelector(requirements))
    }

    pub fn matches(&self, object: &Value) -> bool {
        matches(&self.0, |k| Some(field_value(object, k)))
    }
}

/// Both selectors of a request.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, ApiError> {
        Ok(Selectors {
            labels: LabelSelector::parse(labels.unwrap_or_default())?,
            fields: FieldSelector::parse(fields.unwrap_or_default())?,
        })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }

    /// Whether they select everything (nothing to check, so nothing to decode).
    pub fn is_empty(&self) -> bool {
        self.labels.0.is_empty() && self.fields.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns",
                            "labels": {"app": "web", "tier": "front"}},
               "spec": {"nodeName": "node-1"}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_selectors_cover_every_operator() {
        let pod = pod();
        for (selector, expected) in [
            ("", true),
            ("app=web", true),
            ("app==web,tier=front", true),
            ("app!=web", false),
            ("app in (web, api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!legacy,app in (api)", false),
            ("missing!=x", true),
        ] {
            let parsed = LabelSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&pod), expected, "{selector}");
        }
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
    }

    #[test]
    fn field_selectors_read_dotted_paths() {
        let pod = pod();
        for (selector, expected) in [
            ("metadata.name=a", true),
            ("metadata.namespace=other", false),
            ("spec.nodeName=node-1,status.phase!=Pending", true),
            ("status.phase=Running", true),
            ("spec.missing=", true),
        ] {
            assert_eq!(
                FieldSelector::parse(selector).unwrap().matches(&pod),
                expected
            );
        }
        assert!(FieldSelector::parse("metadata.name in (a)").is_err());
    }
}
