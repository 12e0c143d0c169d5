//! Parsing one input's text into located Kubernetes objects: YAML or JSON documents, `*List`
//! kinds flattened into their items, empty documents skipped.
//!
//! Limits, chosen so that hostile input ends in a clean problem, never a hang, a stack
//! overflow or runaway memory (the input itself is already capped at 64 MiB when read):
//! - at most [`MAX_DOCUMENTS`] documents per input;
//! - at most [`MAX_DEPTH`] levels of nesting, YAML and JSON alike (`serde_json`'s own recursion
//!   limit is the same 128). The parsers recurse per level, up to 20 KiB a level in debug
//!   builds, so they run on a thread of their own with a [`PARSER_STACK`] stack: the caller's
//!   stack (2 MiB for a test or a tokio worker) never limits what loads;
//! - YAML aliases may replay at most [`MAX_ALIAS_EVENTS`] events per document (billion
//!   laughs), and a document may hold at most [`MAX_NODES`] nodes.
//!
//! This module checks syntax and shape only (a document must be a mapping); what makes an
//! object valid for Kubernetes is `validate`'s concern. It does no I/O.

use super::documents::{self, Document};
use super::position::Positions;
use super::{Manifest, Problem, Source};
use crate::tracker::Overrides;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

pub const MAX_DOCUMENTS: usize = 100_000;
pub const MAX_DEPTH: usize = 128;
pub const MAX_ALIAS_EVENTS: usize = 100_000;
pub const MAX_NODES: usize = 4_000_000;
/// Ten times what [`MAX_DEPTH`] levels need in a debug build; only the pages used are mapped.
pub const PARSER_STACK: usize = 32 * 1024 * 1024;

/// The objects of one input and the problems found on the way, in document order.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: Vec<Manifest>,
    pub problems: Vec<Problem>,
}

/// Parses each `(file, text)` input, in order, on a thread with a [`PARSER_STACK`] stack.
pub fn parse_all(inputs: &[(&str, &str)]) -> Vec<Parsed> {
    let outcome = std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("manifest-parser".to_owned())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || {
                inputs
                    .iter()
                    .map(|(file, text)| parse(file, text))
                    .collect::<Vec<_>>()
            })
            .map_err(|error| format!("cannot start the manifest parser: {error}"))?;
        parser
            .join()
            .map_err(|_| "the manifest parser failed unexpectedly".to_owned())
    });
    outcome.unwrap_or_else(|message| {
        let fail = |(file, _): &(&str, &str)| Parsed {
            objects: Vec::new(),
            problems: vec![problem(file, 0, 0, 0, message.clone())],
        };
        inputs.iter().map(fail).collect()
    })
}

/// Parses `text`, read from `file`. JSON is recognised, as kubectl does, by its first
/// character; everything else is YAML.
fn parse(file: &str, text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    if text.trim_start().starts_with(['{', '[']) {
        parse_json(file, text, &mut parsed);
    } else {
        parse_yaml(file, text, &mut parsed);
    }
    parsed
}

/// A document's root, where it starts, and where each of its `items` starts (when known).
struct Root {
    value: Value,
    source: Source,
    item_sources: Vec<Source>,
}

fn parse_yaml(file: &str, text: &str, parsed: &mut Parsed) {
    // YAML also breaks lines at a lone CR (old Mac files); the splitter and the line numbers
    // count LFs only, so such breaks become LFs first, which YAML reads the same.
    let normalized;
    let text = if text.contains('\r') {
        normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        text
    };
    let documents = match documents::split(text, MAX_DOCUMENTS) {
        Ok(documents) => documents,
        Err(limit) => {
            let message = format!("more than {limit} documents in one input");
            parsed.problems.push(problem(file, 0, 0, 0, message));
            return;
        }
    };
    for document in &documents {
        match parse_yaml_document(file, document) {
            Ok(Some(root)) => add_root(root, parsed),
            Ok(None) => {}
            Err(problem) => parsed.problems.push(problem),
        }
    }
}

/// The document's root, `None` when the document is empty or null.
fn parse_yaml_document(file: &str, document: &Document<'_>) -> Result<Option<Root>, Problem> {
    let to_problem = |error: &serde_saphyr::Error| yaml_problem(file, document, error);
    let root: Option<Spanned<Value>> =
        serde_saphyr::from_str_with_options(document.text, yaml_options())
            .map_err(|e| to_problem(&e))?;
    let Some(root) = root.filter(|root| !root.value.is_null()) else {
        return Ok(None);
    };
    let source = yaml_source(file, document, root.referenced);
    let item_sources = if root.value.as_object().is_some_and(is_list) {
        let items: ListItems = serde_saphyr::from_str_with_options(document.text, yaml_options())
            .map_err(|e| to_problem(&e))?;
        items
            .items
            .iter()
            .map(|item| yaml_source(file, document, item.referenced))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(Root {
        value: root.value,
        source,
        item_sources,
    }))
}

/// Where each item of a `*List` document starts; the items themselves are not kept.
#[derive(Deserialize)]
struct ListItems {
    items: Vec<Spanned<IgnoredAny>>,
}

fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    // Every node is at most two events (start and end); the rest is the stream's framing.
    budget.max_events = 2 * MAX_NODES + 16;
    serde_saphyr::options! {
        budget: Some(budget),
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
        },
        // YAML 1.2 booleans only: `yes`, `on`, `y` stay strings, as Kubernetes expects.
        strict_booleans: true,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
        // Snippets would quote the input, and the input may be a Secret.
        with_snippet: false,
        emit_comments: false,
    }
}

fn yaml_source(file: &str, document: &Document<'_>, at: serde_saphyr::Location) -> Source {
    let (line, column) = document_position(document, at);
    Source {
        file: file.to_owned(),
        document: document.index,
        line,
        column,
    }
}

/// A parser location, relative to the document's text, as a line:column of the file.
fn document_position(document: &Document<'_>, at: serde_saphyr::Location) -> (usize, usize) {
    let line = usize::try_from(at.line()).unwrap_or(0);
    let column = usize::try_from(at.column()).unwrap_or(0);
    if line == 0 {
        // The parser did not say where: the document's first line is the best we know.
        (document.first_line, 1)
    } else {
        (document.first_line + line - 1, column.max(1))
    }
}

fn yaml_problem(file: &str, document: &Document<'_>, error: &serde_saphyr::Error) -> Problem {
    let mut inner = error;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let (line, column) = error.location().map_or((document.first_line, 1), |at| {
        document_position(document, at)
    });
    let message = match inner {
        serde_saphyr::Error::Budget { breach, .. } => budget_message(breach),
        serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasExpansionLimitExceeded { .. }
        | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } => ALIAS_BOMB.to_owned(),
        // The user formatter names the fault without quoting the input; escaping keeps
        // control characters of hostile input off the terminal.
        other => format!(
            "invalid YAML: {}",
            UserMessageFormatter.format_message(other).escape_debug()
        ),
    };
    problem(file, document.index, line, column, message)
}

const ALIAS_BOMB: &str = "YAML aliases expand too much (an alias bomb?)";

fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach;
    match breach {
        BudgetBreach::Depth { .. } => format!("YAML nested deeper than {MAX_DEPTH} levels"),
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => {
            format!("YAML document has more than {MAX_NODES} nodes")
        }
        BudgetBreach::Aliases { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. } => ALIAS_BOMB.to_owned(),
        other => format!("YAML document too large or too complex ({other:?})"),
    }
}

fn parse_json(file: &str, text: &str, parsed: &mut Parsed) {
    let mut positions = Positions::new(text.as_bytes());
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for index in 1.. {
        let before = stream.byte_offset();
        let start = before + (text[before..].len() - text[before..].trim_start().len());
        let value = match stream.next() {
            None => break,
            Some(Ok(_)) if index > MAX_DOCUMENTS => {
                let message = format!("more than {MAX_DOCUMENTS} documents in one input");
                parsed.problems.push(problem(file, 0, 0, 0, message));
                break;
            }
            Some(Ok(value)) => value,
            Some(Err(error)) => {
                // The stream cannot be resynchronised after a syntax error: stop here.
                let message = json_message(&error);
                let problem = problem(file, index, error.line(), error.column(), message);
                parsed.problems.push(problem);
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let (line, column) = positions.at(start);
        let source = Source {
            file: file.to_owned(),
            document: index,
            line,
            column,
        };
        add_root(
            Root {
                value,
                source,
                item_sources: Vec::new(),
            },
            parsed,
        );
    }
}

/// `serde_json`'s message without the position it appends, which the problem carries itself.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    format!("invalid JSON: {message}")
}

/// Adds a document's root: the object itself, or the items of a `*List`, recursively.
fn add_root(root: Root, parsed: &mut Parsed) {
    let Root {
        value,
        source,
        item_sources,
    } = root;
    let mut object = match value {
        Value::Object(object) => object,
        other => {
            let message = format!(
                "a document must be a Kubernetes object (a mapping), not {}",
                describe(&other)
            );
            parsed.problems.push(Problem { source, message });
            return;
        }
    };
    if !is_list(&object) {
        parsed.objects.push(Manifest {
            object: Value::Object(object),
            source,
            overrides: Overrides::default(),
        });
        return;
    }
    let items = match object.remove("items") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    for (i, item) in items.into_iter().enumerate() {
        let item_source = item_sources.get(i).unwrap_or(&source).clone();
        if item.is_object() {
            let root = Root {
                value: item,
                source: item_source,
                item_sources: Vec::new(),
            };
            add_root(root, parsed);
        } else {
            let message = format!(
                "items[{i}] of a List must be a Kubernetes object (a mapping), not {}",
                describe(&item)
            );
            parsed.problems.push(Problem {
                source: item_source,
                message,
            });
        }
    }
}

/// `kind: List` or any `*List` kind whose `items` is a sequence (kubectl's test too: a kind
/// merely ending in "List" without items is an ordinary object).
fn is_list(object: &serde_json::Map<String, Value>) -> bool {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    kind.ends_with("List") && object.get("items").is_some_and(Value::is_array)
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn problem(file: &str, document: usize, line: usize, column: usize, message: String) -> Problem {
    Problem {
        source: Source {
            file: file.to_owned(),
            document,
            line,
            column,
        },
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(file: &str, text: &str) -> Parsed {
        parse_all(&[(file, text)]).pop().unwrap()
    }

    fn positions(parsed: &Parsed) -> Vec<(usize, usize, usize)> {
        parsed
            .objects
            .iter()
            .map(|m| (m.source.document, m.source.line, m.source.column))
            .collect()
    }

    /// The positions of the objects of a file that must parse without problems.
    fn clean_positions(file: &str, text: &str) -> Vec<(usize, usize, usize)> {
        let parsed = parse_one(file, text);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        positions(&parsed)
    }

    #[test]
    fn yaml_objects_know_their_document_and_line() {
        let text = "# leading comment\n\nkind: A\n---\n\n  kind: B\n---\n--- {kind: C}\n";
        assert_eq!(
            clean_positions("f.yaml", text),
            vec![(1, 3, 1), (2, 6, 3), (4, 8, 5)]
        );
    }

    #[test]
    fn lone_carriage_returns_break_lines_as_in_yaml() {
        let parsed = parse_one("f.yaml", "kind: A\r---\rkind: B\r\n\r\nbad: [");
        assert_eq!(positions(&parsed), vec![(1, 1, 1)]);
        assert_eq!(parsed.problems[0].source.document, 2);
        assert_eq!(parsed.problems[0].source.line, 5);
    }

    #[test]
    fn list_items_know_their_own_line() {
        let text = "---\nkind: List\nitems:\n- kind: A\n  x: 1\n-   kind: B\n";
        assert_eq!(clean_positions("f.yaml", text), vec![(1, 4, 3), (1, 6, 5)]);
    }

    #[test]
    fn json_streams_know_their_document_and_line() {
        let text = "\n {\"kind\": \"A\"}\n\n{\"kind\": \"B\"} {\"kind\": \"C\"}";
        assert_eq!(
            clean_positions("f.json", text),
            vec![(1, 2, 2), (2, 4, 1), (3, 4, 15)]
        );
    }

    #[test]
    fn syntax_errors_are_placed_in_the_file_and_other_documents_still_load() {
        let text = "kind: A\n---\nkind: B\n  bad: [\n---\nkind: C\n";
        let parsed = parse_one("f.yaml", text);
        assert_eq!(positions(&parsed), vec![(1, 1, 1), (3, 6, 1)]);
        assert_eq!(parsed.problems.len(), 1);
        let at = &parsed.problems[0].source;
        assert_eq!((at.document, at.line), (2, 4), "{:?}", parsed.problems);
        assert!(parsed.problems[0].message.starts_with("invalid YAML: "));
    }

    #[test]
    fn json_syntax_errors_carry_their_position() {
        let parsed = parse_one("f.json", "{\"kind\": \"A\"}\n{\"kind\": }");
        assert_eq!(positions(&parsed), vec![(1, 1, 1)]);
        let problem = &parsed.problems[0];
        assert_eq!((problem.source.document, problem.source.line), (2, 2));
        assert!(
            problem.message.starts_with("invalid JSON: "),
            "{}",
            problem.message
        );
        assert!(!problem.message.contains("at line"), "{}", problem.message);
    }
}
