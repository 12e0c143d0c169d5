//! The status engine against the peers' own tests, and against arbitrary input.
//!
//! `corpus` walks every row of `../shared/conformance/expected.tsv` (objects and verdicts
//! taken from kstatus's and Argo CD's test suites) and checks `kos::status::of` against the
//! expected word, or against `tests/conformance/deviations.tsv` where kos deliberately
//! differs. `never_panics` feeds the engine arbitrary Kubernetes-shaped JSON.

mod corpus {
    use kos::status;
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::{Path, PathBuf};

    /// One row of `expected.tsv`.
    struct Row {
        file: String,
        source: String,
        expected: String,
    }

    /// One row of `deviations.tsv`.
    struct Deviation {
        ours: String,
        reason: String,
    }

    fn corpus_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance")
    }

    /// The data lines of a TSV file with `header` as its first line, split into fields.
    fn tsv(path: &Path, header: &[&str]) -> Vec<Vec<String>> {
        let text = fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("the corpus is required: {}: {e}", path.display()));
        let mut lines = text.lines();
        let first: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        assert_eq!(&first[..header.len()], header, "{}: header", path.display());
        lines
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
                assert!(
                    fields.len() >= header.len(),
                    "{}: short line {line:?}",
                    path.display()
                );
                fields
            })
            .collect()
    }

    fn rows() -> Vec<Row> {
        let path = corpus_dir().join("expected.tsv");
        tsv(&path, &["file", "source", "kind", "expected"])
            .into_iter()
            .map(|f| Row {
                file: f[0].clone(),
                source: f[1].clone(),
                expected: f[3].clone(),
            })
            .collect()
    }

    fn deviations() -> BTreeMap<String, Deviation> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/deviations.tsv");
        let mut out = BTreeMap::new();
        for f in tsv(&path, &["file", "ours", "reason"]) {
            let previous = out.insert(
                f[0].clone(),
                Deviation {
                    ours: f[1].clone(),
                    reason: f[2].clone(),
                },
            );
            assert!(previous.is_none(), "deviation listed twice: {}", f[0]);
        }
        out
    }

    fn load(file: &str) -> Value {
        let path = corpus_dir().join(file);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_saphyr::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
    }

    #[derive(Default)]
    struct Tally {
        rows: usize,
        matched: usize,
        deviations: usize,
        unchecked: usize,
    }

    #[test]
    fn every_row_matches_expected_or_its_deviation() {
        let rows = rows();
        assert_eq!(rows.len(), 140, "the corpus has 140 rows");
        let deviations = deviations();
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        let mut wrong = Vec::new();
        for row in &rows {
            let tally = tallies.entry(row.source.clone()).or_default();
            tally.rows += 1;
            let got = status::of(&load(&row.file));
            let deviation = deviations.get(&row.file);
            if row.expected == "none" {
                // No upstream verdict: only the absence of a panic is checked.
                assert!(
                    deviation.is_none(),
                    "{}: a `none` row has no deviation",
                    row.file
                );
                tally.unchecked += 1;
                continue;
            }
            let want = match deviation {
                Some(d) => {
                    assert_ne!(
                        d.ours, row.expected,
                        "{}: deviation equals expected",
                        row.file
                    );
                    assert!(
                        !d.reason.trim().is_empty(),
                        "{}: deviation without reason",
                        row.file
                    );
                    tally.deviations += 1;
                    &d.ours
                }
                None => &row.expected,
            };
            if got.status.as_str() == want {
                tally.matched += usize::from(deviation.is_none());
            } else {
                wrong.push(format!(
                    "{}: want {want} (expected {}), got {} ({})",
                    row.file, row.expected, got.status, got.message
                ));
            }
        }
        for file in deviations.keys() {
            assert!(
                rows.iter().any(|row| &row.file == file),
                "deviation for a file not in the corpus: {file}"
            );
        }
        for (source, t) in &tallies {
            println!(
                "{source}: {}/{} match, {} deviations, {} without a verdict (none)",
                t.matched, t.rows, t.deviations, t.unchecked
            );
            assert!(
                t.deviations * 10 <= t.rows,
                "{source}: {} deviations exceed 10 % of {} rows",
                t.deviations,
                t.rows
            );
        }
        assert!(
            wrong.is_empty(),
            "{} rows differ:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}
