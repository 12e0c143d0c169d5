//! Manifest loading: files, directories and stdin into validated Kubernetes objects.
//!
//! Everything is read and validated before anything may leave the process; every problem is
//! reported with its file, document and line. This module does no network I/O; reading the
//! inputs is `input`'s job, syntax `parse`'s (with `documents` and `position`), and what
//! makes an object valid `validate`'s (with `names`).
//!
//! Limits (each ends in a clean problem, exit code 3):
//! - an input larger than 64 MiB is refused (`input::MAX_INPUT_BYTES`);
//! - at most 100 000 documents per input (`parse::MAX_DOCUMENTS`);
//! - at most 128 levels of nesting, YAML or JSON (`parse::MAX_DEPTH`);
//! - YAML aliases may expand to at most 100 000 events per document
//!   (`parse::MAX_ALIAS_EVENTS`), and a document may hold at most 4 million nodes
//!   (`parse::MAX_NODES`).
//!
//! Parsing runs on a thread of its own with a large stack (`parse::PARSER_STACK`), so the
//! caller's stack never decides whether deep nesting loads or overflows.

mod documents;
mod input;
mod names;
mod overrides;
mod parse;
mod position;
mod validate;

use crate::tracker::Overrides;
use serde_json::Value;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;

/// Where an object came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as the user gave it (or as found in a directory); `-` for stdin.
    pub file: String,
    /// 1-based index of the YAML document (or JSON value) in the file.
    pub document: usize,
    /// 1-based line and column where the object starts.
    pub line: usize,
    pub column: usize,
}

impl Source {
    /// A whole input, when the problem is not in any one document (document and line 0).
    pub fn whole(file: &str) -> Source {
        Source {
            file: file.to_owned(),
            document: 0,
            line: 0,
            column: 0,
        }
    }
}

/// `file: document N, line L:C`; the parts that are 0 (not known) are left out.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.document > 0 {
            write!(f, ": document {}", self.document)?;
        }
        if self.line > 0 {
            let separator = if self.document > 0 { ", " } else { ": " };
            write!(f, "{separator}line {}:{}", self.line, self.column)?;
        }
        Ok(())
    }
}

/// One object of the input, as loaded.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The whole object (apiVersion, kind, metadata, ...), items of `*List` kinds flattened.
    pub object: Value,
    pub source: Source,
    /// How it counts toward the verdict, from its `kos.dev/` annotations.
    pub overrides: Overrides,
}

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read directories recursively (`-R`).
    pub recursive: bool,
    /// `-n`: the namespace objects default to; an object naming another one is an error.
    pub namespace: Option<String>,
    /// The objects are only read, never applied (`kos status`): the checks that matter only
    /// to an API server (names, duplicates, `-n`) are skipped; apiVersion and kind are still
    /// required, since the status rules are chosen by them.
    pub inspect_only: bool,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub source: Source,
    pub message: String,
}

/// Every problem of the input, not only the first. Displayed one per line.
#[derive(Debug, Clone)]
pub struct LoadErrors(pub Vec<Problem>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", problem.source, problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// Loads and validates every object of `paths` (files, directories, or `-` for stdin).
pub fn load(paths: &[PathBuf], options: &LoadOptions) -> Result<Vec<Manifest>, LoadErrors> {
    load_with_stdin(paths, options, &mut std::io::stdin().lock())
}

/// [`load`], with `-` reading `stdin`.
pub fn load_with_stdin(
    paths: &[PathBuf],
    options: &LoadOptions,
    stdin: &mut dyn Read,
) -> Result<Vec<Manifest>, LoadErrors> {
    let inputs = input::read_all(paths, options.recursive, stdin);
    let mut loaded = Loaded::default();
    let mut texts = Vec::new();
    for input in &inputs {
        match &input.text {
            Ok(text) => texts.push((input.name.as_str(), text.as_str())),
            Err(error) => loaded.problems.push(Problem {
                source: Source::whole(&input.name),
                message: error.to_string(),
            }),
        }
    }
    for parsed in parse::parse_all(&texts) {
        loaded.add(parsed);
    }
    let names: Vec<&str> = inputs.iter().map(|input| input.name.as_str()).collect();
    let given: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    loaded.finish(&names, &given.join(", "), options)
}

/// Loads and validates the objects of one text, named `name` in problems.
pub fn load_str(
    name: &str,
    text: &str,
    options: &LoadOptions,
) -> Result<Vec<Manifest>, LoadErrors> {
    let mut loaded = Loaded::default();
    for parsed in parse::parse_all(&[(name, text)]) {
        loaded.add(parsed);
    }
    loaded.finish(&[name], name, options)
}

/// Loads and validates the objects of raw bytes, which must be UTF-8, named `name`.
pub fn load_bytes(
    name: &str,
    bytes: &[u8],
    options: &LoadOptions,
) -> Result<Vec<Manifest>, LoadErrors> {
    match input::decode(bytes.to_vec()) {
        Ok(text) => load_str(name, &text, options),
        Err(error) => Err(LoadErrors(vec![Problem {
            source: Source::whole(name),
            message: error.to_string(),
        }])),
    }
}

/// What the inputs gave so far.
#[derive(Default)]
struct Loaded {
    objects: Vec<Manifest>,
    problems: Vec<Problem>,
}

impl Loaded {
    fn add(&mut self, parsed: parse::Parsed) {
        self.objects.extend(parsed.objects);
        self.problems.extend(parsed.problems);
    }

    /// Validates the objects of all inputs together (`names`, in order) and reports every
    /// problem, in input order; `given` names the input as a whole, in case it has no object.
    fn finish(
        mut self,
        names: &[&str],
        given: &str,
        options: &LoadOptions,
    ) -> Result<Vec<Manifest>, LoadErrors> {
        let namespace = options.namespace.as_deref();
        self.problems.extend(validate::check(
            &self.objects,
            namespace,
            options.inspect_only,
        ));
        if !options.inspect_only {
            self.read_overrides();
        }
        if self.objects.is_empty() && self.problems.is_empty() {
            self.problems.push(Problem {
                source: Source::whole(given),
                message: "no objects found".to_owned(),
            });
        }
        if self.problems.is_empty() {
            return Ok(self.objects);
        }
        let rank = |file: &str| names.iter().position(|name| *name == file);
        self.problems.sort_by_key(|problem| {
            let at = &problem.source;
            (rank(&at.file), at.document, at.line, at.column)
        });
        Err(LoadErrors(self.problems))
    }

    /// Reads each object's `kos.dev/` annotations; a value kos cannot use is a problem of
    /// that object.
    fn read_overrides(&mut self) {
        for object in &mut self.objects {
            match overrides::read(&object.object) {
                Ok(overrides) => object.overrides = overrides,
                Err(messages) => {
                    let source = &object.source;
                    let problem = |message| Problem {
                        source: source.clone(),
                        message,
                    };
                    self.problems.extend(messages.into_iter().map(problem));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_show_what_is_known() {
        let mut source = Source::whole("a.yaml");
        assert_eq!(source.to_string(), "a.yaml");
        source.line = 3;
        source.column = 2;
        assert_eq!(source.to_string(), "a.yaml: line 3:2");
        source.document = 2;
        assert_eq!(source.to_string(), "a.yaml: document 2, line 3:2");
        source.line = 0;
        assert_eq!(source.to_string(), "a.yaml: document 2");
    }

    #[test]
    fn problems_are_sorted_by_input_then_place() {
        let mut loaded = Loaded::default();
        let at = |file: &str, document| Source {
            document,
            line: document,
            column: 1,
            ..Source::whole(file)
        };
        for (file, document) in [("b", 2), ("a", 1), ("b", 1)] {
            loaded.problems.push(Problem {
                source: at(file, document),
                message: String::new(),
            });
        }
        let errors = loaded
            .finish(&["b", "a"], "b, a", &LoadOptions::default())
            .unwrap_err();
        let order: Vec<String> = errors.0.iter().map(|p| p.source.to_string()).collect();
        assert_eq!(
            order,
            [
                "b: document 1, line 1:1",
                "b: document 2, line 2:1",
                "a: document 1, line 1:1"
            ]
        );
    }
}
