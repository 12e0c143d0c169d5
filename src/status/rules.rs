//! The status rules table: custom resources judged by data, not code.
//!
//! A table is a list of rules, each for an API group (or `*.suffix` of groups) and some of
//! its kinds, holding checks tried in order: the first whose predicates all hold decides
//! the status and the message; when none does, the next rule for the object goes on. The built-in table is `assets/status-rules.yaml`, shipped in
//! the binary; `--status-rules FILE` adds a table of the same shape whose rules are tried
//! before it (README.md, "Status rules"), so that a new operator's kind needs no release.
//!
//! Owns parsing (every mistake is reported with the file and the line, never a panic),
//! looking a rule up and evaluating it. Pure; it must not know any particular kind.

use super::conditions;
use super::fields::{at, one_line};
use super::summary::Condition;
use super::{Assessment, Status};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// A list of rules, searched in order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    /// `cert-manager.io`, or `*.crossplane.io` for every group ending in `.crossplane.io`.
    group: String,
    /// Empty: every kind of the group.
    kinds: Vec<String>,
    checks: Vec<Check>,
}

#[derive(Debug, Clone)]
struct Check {
    when: Vec<Predicate>,
    status: Status,
    message: String,
}

#[derive(Debug, Clone)]
enum Predicate {
    Condition(ConditionTest),
    Field(FieldTest),
}

/// A condition of one of `types` (`*`: any type but those in `except`), in
/// `status.conditions` or the lists at `from`, whose status, reason and severity are among
/// the listed ones (an empty list allows any). A condition whose `observedGeneration` is not
/// the object's generation was written for an older spec and is passed over, unless `stale`
/// asks for exactly those. With `exists: false`: no such condition.
#[derive(Debug, Clone)]
struct ConditionTest {
    types: Vec<String>,
    except: Vec<String>,
    from: Vec<String>,
    status: Vec<String>,
    reason: Vec<String>,
    not_reason: Vec<String>,
    /// Cluster API's and Knative's `severity` (`Error`, `Warning`, `Info`).
    severity: Vec<String>,
    stale: bool,
    exists: bool,
}

/// A field (a dotted path, `*` standing for every item of a list or map) with a value in
/// `in_`, not in `not_in`, beginning or ending as listed (empty lists allow any), and among
/// another field's values or not; with `exists: false`, no such value.
#[derive(Debug, Clone)]
struct FieldTest {
    path: Vec<String>,
    in_: Vec<String>,
    not_in: Vec<String>,
    /// Words the value may begin with (`Provisioning` for `Provisioning pool 2`).
    starts_with: Vec<String>,
    ends_with: Vec<String>,
    /// Another field (or fields, with `*`) among whose values this one's value must be,
    /// or must not.
    compare: Option<(Vec<String>, bool)>,
    exists: bool,
}

/// A table that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError(pub String);

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RulesError {}

// The file's shape, as written; checked and turned into the types above by `Table::parse`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    group: String,
    #[serde(default)]
    kinds: Vec<String>,
    checks: Vec<CheckSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckSpec {
    #[serde(default, rename = "if")]
    when: Vec<PredicateSpec>,
    then: Status,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PredicateSpec {
    #[serde(default)]
    condition: Words,
    #[serde(default)]
    except: Words,
    from: Option<String>,
    #[serde(default)]
    not_reason: Words,
    stale: Option<bool>,
    field: Option<String>,
    #[serde(default)]
    status: Words,
    #[serde(default)]
    reason: Words,
    #[serde(default)]
    severity: Words,
    #[serde(default, rename = "in")]
    in_: Words,
    #[serde(default)]
    not_in: Words,
    #[serde(default)]
    starts_with: Words,
    #[serde(default)]
    ends_with: Words,
    exists: Option<bool>,
    same_as: Option<String>,
    different_from: Option<String>,
}

/// One scalar or a list of them, each read as text (`1` and `"1"` alike).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Words {
    #[default]
    None,
    One(Scalar),
    Many(Vec<Scalar>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

impl Words {
    fn texts(self) -> Vec<String> {
        match self {
            Words::None => Vec::new(),
            Words::One(one) => vec![one.text()],
            Words::Many(many) => many.iter().map(Scalar::text).collect(),
        }
    }
}

impl Table {
    /// Reads a table from YAML text; `origin` names it in errors (a file name).
    pub fn parse(text: &str, origin: &str) -> Result<Table, RulesError> {
        let specs: Vec<RuleSpec> = serde_saphyr::from_str(text)
            .map_err(|e| RulesError(format!("{origin}: not a status rules table: {e}")))?;
        let rules = specs
            .into_iter()
            .enumerate()
            .map(|(index, spec)| Rule::from_spec(spec).map_err(|e| e.within(origin, index)))
            .collect::<Result<_, _>>()?;
        Ok(Table { rules })
    }

    /// This table's rules first, then `fallback`'s.
    #[must_use]
    pub fn before(mut self, fallback: &Table) -> Table {
        self.rules.extend(fallback.rules.iter().cloned());
        self
    }

    /// Judges `object` by the first check that holds among the rules for its group and
    /// kind, taken in order, exact groups before wildcard ones (so a rule may add checks to
    /// a later, more general one); `None` when none holds.
    pub(crate) fn judge(&self, object: &Value) -> Option<Assessment> {
        let kind = at(object, "/kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let group = at(object, "/apiVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.rsplit_once('/'))
            .map_or("", |(group, _)| group);
        let for_kind = |r: &&Rule| r.kinds.is_empty() || r.kinds.iter().any(|k| k == kind);
        let exact = self
            .rules
            .iter()
            .filter(for_kind)
            .filter(|r| r.group == group);
        let wildcard = self
            .rules
            .iter()
            .filter(for_kind)
            .filter(|r| wildcard_matches(&r.group, group));
        exact
            .chain(wildcard)
            .flat_map(|rule| &rule.checks)
            .find_map(|check| check.decide(object))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// `*.crossplane.io` matches `rds.aws.crossplane.io`, not `crossplane.io`.
fn wildcard_matches(pattern: &str, group: &str) -> bool {
    pattern
        .strip_prefix('*')
        .is_some_and(|suffix| suffix.starts_with('.') && group.ends_with(suffix))
}

struct SpecError {
    check: Option<usize>,
    text: String,
}

impl SpecError {
    fn within(self, origin: &str, rule: usize) -> RulesError {
        let place = match self.check {
            Some(check) => format!("rule {} check {}", rule + 1, check + 1),
            None => format!("rule {}", rule + 1),
        };
        RulesError(format!("{origin}: {place}: {}", self.text))
    }
}

impl Rule {
    fn from_spec(spec: RuleSpec) -> Result<Rule, SpecError> {
        let rule_error = |text: &str| SpecError {
            check: None,
            text: text.to_owned(),
        };
        let wildcard = spec.group.strip_prefix("*.");
        if spec.group.contains('*') && wildcard.is_none_or(|suffix| suffix.contains('*')) {
            return Err(rule_error("a wildcard group is written *.suffix"));
        }
        if spec.checks.is_empty() {
            return Err(rule_error("a rule needs at least one check"));
        }
        let checks = spec
            .checks
            .into_iter()
            .enumerate()
            .map(|(index, check)| {
                Check::from_spec(check).map_err(|text| SpecError {
                    check: Some(index),
                    text,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Rule {
            group: spec.group,
            kinds: spec.kinds,
            checks,
        })
    }
}

impl Check {
    fn from_spec(spec: CheckSpec) -> Result<Check, String> {
        Ok(Check {
            when: spec
                .when
                .into_iter()
                .map(Predicate::from_spec)
                .collect::<Result<_, _>>()?,
            status: spec.then,
            message: spec.message,
        })
    }

    /// The assessment when every predicate holds.
    fn decide(&self, object: &Value) -> Option<Assessment> {
        let mut matched = Matched::default();
        for predicate in &self.when {
            if !predicate.holds(object, &mut matched) {
                return None;
            }
        }
        let message = one_line(&render(&self.message, object, &matched));
        let message = if message.is_empty() {
            matched.describe(self.status)
        } else {
            message
        };
        Some(Assessment::new(self.status, message))
    }
}

impl Predicate {
    fn from_spec(spec: PredicateSpec) -> Result<Predicate, String> {
        let exists = spec.exists.unwrap_or(true);
        let types = spec.condition.texts();
        let field_words = [&spec.in_, &spec.not_in, &spec.starts_with, &spec.ends_with];
        let condition_words = [&spec.status, &spec.reason, &spec.not_reason, &spec.severity];
        let has = |words: &[&Words]| words.iter().any(|w| !matches!(w, Words::None));
        match (types.is_empty(), spec.field) {
            (false, None) => {
                if has(&field_words) || spec.same_as.is_some() || spec.different_from.is_some() {
                    return Err("a condition is tested with status and reason, not in".into());
                }
                Ok(Predicate::Condition(ConditionTest {
                    types,
                    except: spec.except.texts(),
                    from: dotted(spec.from.as_deref().unwrap_or("status.conditions")),
                    status: spec.status.texts(),
                    reason: spec.reason.texts(),
                    not_reason: spec.not_reason.texts(),
                    severity: spec.severity.texts(),
                    stale: spec.stale.unwrap_or(false),
                    exists,
                }))
            }
            (true, Some(path)) => {
                if has(&condition_words)
                    || !matches!(spec.except, Words::None)
                    || spec.from.is_some()
                    || spec.stale.is_some()
                {
                    return Err("a field is tested with in and not_in, not status".into());
                }
                if path.is_empty() {
                    return Err("an empty field path".into());
                }
                let compare = match (spec.same_as, spec.different_from) {
                    (Some(other), None) => Some((dotted(&other), true)),
                    (None, Some(other)) => Some((dotted(&other), false)),
                    (None, None) => None,
                    (Some(_), Some(_)) => {
                        return Err("a field is compared with same_as or different_from".into());
                    }
                };
                Ok(Predicate::Field(FieldTest {
                    path: dotted(&path),
                    in_: spec.in_.texts(),
                    not_in: spec.not_in.texts(),
                    starts_with: spec.starts_with.texts(),
                    ends_with: spec.ends_with.texts(),
                    compare,
                    exists,
                }))
            }
            _ => Err("each test names either a condition or a field".into()),
        }
    }

    fn holds(&self, object: &Value, matched: &mut Matched) -> bool {
        match self {
            Predicate::Condition(test) => {
                let generation = at(object, "/metadata/generation").and_then(Value::as_i64);
                let found = values(object, &test.from)
                    .into_iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .find(|c| test.matches(c, generation));
                match found {
                    Some(c) if test.exists => {
                        matched.condition = conditions::from_list(std::slice::from_ref(c)).pop();
                        true
                    }
                    Some(_) => false,
                    None => !test.exists,
                }
            }
            Predicate::Field(test) => match test.find(object) {
                Some(value) if test.exists => {
                    matched.field = Some((test.path.join("."), value));
                    true
                }
                Some(_) => false,
                None => !test.exists,
            },
        }
    }
}

impl ConditionTest {
    fn matches(&self, condition: &Value, generation: Option<i64>) -> bool {
        let Some(fields) = condition.as_object() else {
            return false;
        };
        let text = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or("");
        let among = |wanted: &[String], have: &str| {
            wanted.is_empty() || wanted.iter().any(|w| w.eq_ignore_ascii_case(have))
        };
        let type_ = text("type");
        let stale = match (
            generation,
            fields.get("observedGeneration").and_then(Value::as_i64),
        ) {
            (Some(generation), Some(observed)) => generation != observed,
            _ => false,
        };
        self.types
            .iter()
            .any(|t| (t == "*" && !self.except.iter().any(|e| e == type_)) || t == type_)
            && among(&self.status, text("status"))
            && (self.reason.is_empty() || self.reason.iter().any(|r| r == text("reason")))
            && !self.not_reason.iter().any(|r| r == text("reason"))
            && among(&self.severity, text("severity"))
            && stale == self.stale
    }
}

impl FieldTest {
    /// The first value at the path that passes the test, as text.
    fn find(&self, object: &Value) -> Option<String> {
        let others = self
            .compare
            .as_ref()
            .map(|(other, same)| (texts(object, other), *same));
        values(object, &self.path)
            .into_iter()
            .filter(|v| !v.is_null())
            .map(text_of)
            .find(|v| {
                (self.in_.is_empty() || self.in_.contains(v))
                    && !self.not_in.contains(v)
                    && (self.starts_with.is_empty()
                        || self.starts_with.iter().any(|p| v.starts_with(p.as_str())))
                    && (self.ends_with.is_empty()
                        || self.ends_with.iter().any(|p| v.ends_with(p.as_str())))
                    && others
                        .as_ref()
                        .is_none_or(|(others, same)| others.contains(v) == *same)
            })
    }
}

/// What the predicates of a check matched, for its message.
#[derive(Default)]
struct Matched {
    condition: Option<Condition>,
    field: Option<(String, String)>,
}

impl Matched {
    /// The message of a check that gives none: what it matched.
    fn describe(&self, status: Status) -> String {
        if let Some(condition) = &self.condition {
            return conditions::named(condition);
        }
        if let Some((path, value)) = &self.field {
            return format!("{path}: {value}");
        }
        match status {
            Status::Success => "Healthy".to_owned(),
            Status::InProgress => "Waiting for the controller".to_owned(),
            other => other.as_str().to_owned(),
        }
    }
}

/// The non-null values at a dotted path, as text.
fn texts(object: &Value, path: &[String]) -> Vec<String> {
    values(object, path)
        .into_iter()
        .filter(|v| !v.is_null())
        .map(text_of)
        .collect()
}

/// The steps of a dotted path; `\\.` is a dot inside a step (a label's key).
fn dotted(path: &str) -> Vec<String> {
    let mut steps = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => steps
                .last_mut()
                .into_iter()
                .for_each(|s| s.extend(chars.next())),
            '.' => steps.push(String::new()),
            c => steps.last_mut().into_iter().for_each(|s| s.push(c)),
        }
    }
    steps
}

/// Every value at a dotted path; `*` stands for every item of a list or every value of a
/// map.
fn values<'a>(object: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let mut current = vec![object];
    for step in path {
        current = current
            .into_iter()
            .flat_map(|value| -> Vec<&Value> {
                match (step.as_str(), value) {
                    ("*", Value::Array(items)) => items.iter().collect(),
                    ("*", Value::Object(map)) => map.values().collect(),
                    (key, Value::Object(map)) => map.get(key).into_iter().collect(),
                    (index, Value::Array(items)) => index
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i))
                        .into_iter()
                        .collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current
}

/// A value as the rules compare it: strings as they are, numbers and booleans written out,
/// lists and maps as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Fills `{…}` in a message: `{condition.reason}`, `{condition.message}`,
/// `{condition.type}` (the condition a predicate matched), `{value}` (the field a predicate
/// matched) and `{status.message}` (any dotted path of the object). What is absent reads
/// as nothing; text outside braces is kept.
fn render(template: &str, object: &Value, matched: &Matched) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&placeholder(name, object, matched));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn placeholder(name: &str, object: &Value, matched: &Matched) -> String {
    let condition = matched.condition.as_ref();
    match name {
        "condition.reason" => condition.map(|c| c.reason.clone()).unwrap_or_default(),
        "condition.message" => condition.map(|c| c.message.clone()).unwrap_or_default(),
        "condition.type" => condition.map(|c| c.type_.clone()).unwrap_or_default(),
        "condition" => condition.map(conditions::detail).unwrap_or_default(),
        "value" => matched
            .field
            .as_ref()
            .map(|(_, value)| value.clone())
            .unwrap_or_default(),
        path => values(object, &dotted(path))
            .into_iter()
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .map(text_of)
            .next()
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn judge(table: &str, object: &Value) -> Option<Assessment> {
        let table = Table::parse(table, "test.yaml").expect("a table");
        table.judge(object)
    }

    const CERTS: &str = r#"
- group: cert-manager.io
  kinds: [Certificate]
  checks:
    - if: [{condition: Issuing, status: "True"}]
      then: in_progress
    - if: [{condition: Ready, status: "False"}]
      then: failed
      message: "{condition.message}"
    - if: [{condition: Ready, status: "True"}]
      then: success
    - then: in_progress
      message: Waiting for certificate
"#;

    fn cert(conditions: &Value) -> Value {
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
               "status": {"conditions": conditions}})
    }

    #[test]
    fn the_first_check_that_holds_decides() {
        let issuing = cert(
            &json!([{"type": "Issuing", "status": "True", "reason": "Renewing"},
                                   {"type": "Ready", "status": "True"}]),
        );
        let a = judge(CERTS, &issuing).expect("judged");
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::InProgress, "Issuing: Renewing")
        );
        let broken = cert(&json!([{"type": "Ready", "status": "False", "message": "bad\nkey"}]));
        let a = judge(CERTS, &broken).expect("judged");
        assert_eq!((a.status, a.message.as_str()), (Status::Failed, "bad key"));
        let a = judge(CERTS, &cert(&json!([]))).expect("judged");
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::InProgress, "Waiting for certificate")
        );
    }

    #[test]
    fn rules_are_found_by_group_and_kind() {
        let other_kind = json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer"});
        assert_eq!(judge(CERTS, &other_kind), None);
        let other_group = json!({"apiVersion": "example.com/v1", "kind": "Certificate"});
        assert_eq!(judge(CERTS, &other_group), None);
        let wildcard = "- group: '*.crossplane.io'\n  checks: [{then: success}]\n";
        let managed = json!({"apiVersion": "rds.aws.crossplane.io/v1", "kind": "DBInstance"});
        assert_eq!(
            judge(wildcard, &managed).expect("judged").status,
            Status::Success
        );
        let bare = json!({"apiVersion": "crossplane.io/v1", "kind": "DBInstance"});
        assert_eq!(judge(wildcard, &bare), None);
    }

    #[test]
    fn fields_match_words_numbers_and_any_item() {
        let table = r#"
- group: gloo.solo.io
  checks:
    - if: [{field: status.statuses.*.state, in: [Rejected, 2]}]
      then: failed
      message: "rejected: {status.statuses.*.reason}"
    - if: [{field: status.state, in: [Accepted, 1]}]
      then: success
    - if: [{field: status, exists: false}]
      then: in_progress
"#;
        let gloo = |status: &Value| json!({"apiVersion": "gloo.solo.io/v1", "kind": "Upstream", "status": status});
        let a = judge(
            table,
            &gloo(&json!({"statuses": {"ns": {"state": 2, "reason": "no"}}})),
        )
        .expect("judged");
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Failed, "rejected: no")
        );
        let a = judge(table, &gloo(&json!({"state": "Accepted"}))).expect("judged");
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "status.state: Accepted")
        );
        assert_eq!(
            judge(table, &gloo(&Value::Null)).expect("judged").status,
            Status::InProgress
        );
        assert_eq!(judge(table, &gloo(&json!({"state": "Odd"}))), None);
    }

    #[test]
    fn mistakes_name_the_origin_and_the_place() {
        let unknown_word = "- group: a.io\n  checks: [{then: great}]\n";
        let error = Table::parse(unknown_word, "mine.yaml").expect_err("a mistake");
        assert!(
            error.0.starts_with("mine.yaml: not a status rules table"),
            "{error}"
        );
        let both = "- group: a.io\n  checks:\n  - then: success\n  - if: [{condition: Ready, field: x}]\n    then: failed\n";
        let error = Table::parse(both, "mine.yaml").expect_err("a mistake");
        assert_eq!(
            error.0,
            "mine.yaml: rule 1 check 2: each test names either a condition or a field"
        );
        let typo = "- group: a.io\n  checks: [{then: success, mesage: hi}]\n";
        assert!(Table::parse(typo, "mine.yaml").is_err());
        let empty = "- group: a.io\n  checks: []\n";
        assert_eq!(
            Table::parse(empty, "mine.yaml").expect_err("a mistake").0,
            "mine.yaml: rule 1: a rule needs at least one check"
        );
    }

    #[test]
    fn a_table_goes_before_another() {
        let mine = Table::parse(
            "- group: cert-manager.io\n  checks: [{then: suspended}]\n",
            "m",
        )
        .expect("a table");
        let builtin = Table::parse(CERTS, "b").expect("a table");
        let both = mine.before(&builtin);
        let object = cert(&json!([]));
        let a = both.judge(&object).expect("judged");
        assert_eq!(a.status, Status::Suspended);
    }
}
