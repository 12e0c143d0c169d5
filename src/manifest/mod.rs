//! Manifest loading: files, directories and stdin into validated Kubernetes objects.
//!
//! Everything is read and validated before anything may leave the process; every problem is
//! reported with its file, document and line. This module does no network I/O; reading the
//! inputs is `input`'s job, syntax `parse`'s (with `documents` and `position`), and what
//! makes an object valid `validate`'s (with `names`).
//!
//! Limits (each ends in a clean problem, exit code 3):
//! - an input larger than 64 MiB is refused ([`input::MAX_INPUT_BYTES`]);
//! - at most 100 000 documents per input ([`parse::MAX_DOCUMENTS`]);
//! - at most 128 levels of nesting, YAML or JSON ([`parse::MAX_DEPTH`]);
//! - YAML aliases may expand to at most 100 000 events per document
//!   ([`parse::MAX_ALIAS_EVENTS`]), and a document may hold at most 4 million nodes
//!   ([`parse::MAX_NODES`]).

mod documents;
mod input;
mod names;
mod parse;
mod position;
mod validate;

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
}

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read directories recursively (`-R`).
    pub recursive: bool,
    /// `-n`: the namespace objects default to; an object naming another one is an error.
    pub namespace: Option<String>,
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
    for input in &inputs {
        match &input.text {
            Ok(text) => loaded.add(parse::parse(&input.name, text)),
            Err(error) => loaded.problems.push(Problem {
                source: Source::whole(&input.name),
                message: error.to_string(),
            }),
        }
    }
    let names: Vec<&str> = inputs.iter().map(|input| input.name.as_str()).collect();
    loaded.finish(&names, options)
}

/// Loads and validates the objects of one text, named `name` in problems.
pub fn load_str(
    name: &str,
    text: &str,
    options: &LoadOptions,
) -> Result<Vec<Manifest>, LoadErrors> {
    let mut loaded = Loaded::default();
    loaded.add(parse::parse(name, text));
    loaded.finish(&[name], options)
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
    /// problem, in input order.
    fn finish(
        mut self,
        names: &[&str],
        options: &LoadOptions,
    ) -> Result<Vec<Manifest>, LoadErrors> {
        let namespace = options.namespace.as_deref();
        self.problems
            .extend(validate::check(&self.objects, namespace));
        if self.objects.is_empty() && self.problems.is_empty() {
            self.problems.push(Problem {
                source: Source::whole(&names.join(", ")),
                message: "no objects found (every document is empty)".to_owned(),
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
}
