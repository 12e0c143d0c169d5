//! Splitting a YAML stream into its documents, by text, before any parsing.
//!
//! Parsing each document on its own lets one broken document be reported without hiding the
//! problems of the others, and tells every document its index and first line. The split is
//! sound because YAML forbids a `---` or `...` marker line at column 0 inside any content
//! (block scalars and multi-line quoted scalars included: the spec's "c-forbidden" lines), so
//! such a line is always a document boundary. This module only finds boundaries; it must not
//! interpret the documents.

/// One document of a stream, as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    /// 1-based position of the document in the stream, counting empty documents too, as a
    /// person counting the `---` separators would.
    pub index: usize,
    /// 1-based line of the file on which `text` starts.
    pub first_line: usize,
    /// The document's text, including its `---` marker (and any comments or directives that
    /// precede it) so that the parser sees a complete stream.
    pub text: &'a str,
}

/// The documents of `text`, at most `limit` of them; `Err(limit)` when there are more.
pub fn split(text: &str, limit: usize) -> Result<Vec<Document<'_>>, usize> {
    let mut splitter = Splitter {
        text,
        documents: Vec::new(),
        limit,
        start: 0,
        start_line: 1,
        explicit: false,
        content: false,
    };
    let mut offset = 0;
    for (line_index, line) in text.split_inclusive('\n').enumerate() {
        let line_number = line_index + 1;
        let next = offset + line.len();
        if is_marker(line, "---") {
            // A prefix holding only comments or directives belongs to the document it precedes.
            if splitter.explicit || splitter.content {
                splitter.close(offset, line_number)?;
            }
            splitter.explicit = true;
            splitter.content = false;
        } else if is_marker(line, "...") {
            if splitter.explicit || splitter.content {
                splitter.close(next, line_number + 1)?;
            } else {
                // A stray end marker with nothing before it: skip it with its prefix.
                splitter.start = next;
                splitter.start_line = line_number + 1;
            }
        } else if !is_trivia(line) {
            splitter.content = true;
        }
        offset = next;
    }
    if splitter.explicit || splitter.content {
        splitter.close(text.len(), 0)?;
    }
    Ok(splitter.documents)
}

struct Splitter<'a> {
    text: &'a str,
    documents: Vec<Document<'a>>,
    limit: usize,
    /// Byte offset and line where the open document starts.
    start: usize,
    start_line: usize,
    /// The open document began with `---`: it exists even when empty.
    explicit: bool,
    /// The open document has a line that is not blank, a comment or a directive.
    content: bool,
}

impl Splitter<'_> {
    /// Ends the open document at byte `end`; the next one starts there, on `next_line`.
    fn close(&mut self, end: usize, next_line: usize) -> Result<(), usize> {
        if self.documents.len() == self.limit {
            return Err(self.limit);
        }
        self.documents.push(Document {
            index: self.documents.len() + 1,
            first_line: self.start_line,
            text: &self.text[self.start..end],
        });
        self.start = end;
        self.start_line = next_line;
        self.explicit = false;
        self.content = false;
        Ok(())
    }
}

/// `---` or `...` at column 0, alone or followed by white space.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// A line that is no document content on its own: blank, a comment, or a `%` directive.
fn is_trivia(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(usize, usize, &str)> {
        split(text, 100)
            .unwrap()
            .into_iter()
            .map(|d| (d.index, d.first_line, d.text))
            .collect()
    }

    #[test]
    fn a_single_implicit_document() {
        assert_eq!(texts("a: 1\nb: 2\n"), vec![(1, 1, "a: 1\nb: 2\n")]);
    }

    #[test]
    fn separators_start_documents_and_count_empty_ones() {
        let docs = texts("a: 1\n---\nb: 2\n---\n---\nc: 3");
        assert_eq!(
            docs,
            vec![
                (1, 1, "a: 1\n"),
                (2, 2, "---\nb: 2\n"),
                (3, 4, "---\n"),
                (4, 5, "---\nc: 3"),
            ]
        );
    }

    #[test]
    fn leading_comments_and_directives_join_the_next_document() {
        let docs = texts("# header\n%YAML 1.2\n---\na: 1\n");
        assert_eq!(docs, vec![(1, 1, "# header\n%YAML 1.2\n---\na: 1\n")]);
    }

    #[test]
    fn end_markers_close_documents() {
        let docs = texts("a: 1\n...\n---\nb: 2\n...\nc: 3\n...\n# trailing\n");
        assert_eq!(
            docs,
            vec![
                (1, 1, "a: 1\n...\n"),
                (2, 3, "---\nb: 2\n...\n"),
                (3, 6, "c: 3\n...\n"),
            ]
        );
    }

    #[test]
    fn indented_or_longer_dashes_are_content() {
        let text = "a: |\n  ---\n  text\nb: ----\n----\n";
        assert_eq!(texts(text), vec![(1, 1, text)]);
    }

    #[test]
    fn markers_may_carry_content_and_crlf() {
        let docs = texts("--- {a: 1}\r\n--- |\r\n  text\r\n");
        assert_eq!(
            docs,
            vec![(1, 1, "--- {a: 1}\r\n"), (2, 2, "--- |\r\n  text\r\n")]
        );
    }

    #[test]
    fn empty_and_comment_only_input_has_no_documents() {
        assert!(texts("").is_empty());
        assert!(texts("\n  \n# only a comment\n").is_empty());
    }

    #[test]
    fn the_document_limit_is_enforced() {
        assert_eq!(split("---\n---\n---\n", 2), Err(2));
        assert_eq!(split("---\n---\n", 2).map(|d| d.len()), Ok(2));
    }
}
