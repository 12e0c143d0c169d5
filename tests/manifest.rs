//! Manifest loading from the outside: what `-f` reads, what is refused and how it is
//! reported, and hostile input (issue 2 section 2, issue 7 fuzzing).
#![cfg(test)]

use kos::manifest::{LoadErrors, LoadOptions, Manifest, load_str, load_with_stdin};
use std::path::{Path, PathBuf};

fn options() -> LoadOptions {
    LoadOptions::default()
}

fn load_ok(text: &str) -> Vec<Manifest> {
    match load_str("in.yaml", text, &options()) {
        Ok(manifests) => manifests,
        Err(errors) => panic!("unexpected problems:\n{errors}"),
    }
}

fn load_err(text: &str, options: &LoadOptions) -> LoadErrors {
    match load_str("in.yaml", text, options) {
        Ok(manifests) => panic!("loaded {} objects, expected problems", manifests.len()),
        Err(errors) => errors,
    }
}

fn names(manifests: &[Manifest]) -> Vec<&str> {
    manifests
        .iter()
        .map(|m| m.object["metadata"]["name"].as_str().unwrap_or("?"))
        .collect()
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

mod loading {
    use super::*;

    #[test]
    fn multi_document_yaml_in_order() {
        let text = format!(
            "{}---\n{}---\n{}",
            config_map("a"),
            config_map("b"),
            config_map("c")
        );
        assert_eq!(names(&load_ok(&text)), ["a", "b", "c"]);
    }

    #[test]
    fn lists_are_flattened_into_their_items() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: one}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: two}
---
apiVersion: apps/v1
kind: DeploymentList
metadata: {}
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
";
        let manifests = load_ok(text);
        assert_eq!(names(&manifests), ["one", "two", "web"]);
        let lines: Vec<_> = manifests
            .iter()
            .map(|m| (m.source.document, m.source.line))
            .collect();
        assert_eq!(lines, [(1, 4), (1, 7), (2, 15)]);
    }

    #[test]
    fn a_kind_ending_in_list_without_items_is_an_ordinary_object() {
        let text = "apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: x}\n";
        assert_eq!(names(&load_ok(text)), ["x"]);
    }

    #[test]
    fn empty_documents_are_skipped_but_counted() {
        let text = format!("---\n---\n# nothing\n---\n~\n---\n{}...\n", config_map("a"));
        let manifests = load_ok(&text);
        assert_eq!(names(&manifests), ["a"]);
        assert_eq!(manifests[0].source.document, 4);
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let text = format!(
            "{}data:\n  a: yes\n  b: on\n  c: No\n  d: true\n",
            config_map("x")
        );
        let data = &load_ok(&text)[0].object["data"];
        assert_eq!(data["a"], "yes");
        assert_eq!(data["b"], "on");
        assert_eq!(data["c"], "No");
        assert_eq!(data["d"], true);
    }

    #[test]
    fn json_documents_load_too() {
        let text = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}}]}"#;
        let manifests = load_ok(text);
        assert_eq!(names(&manifests), ["a", "b"]);
        assert_eq!(manifests[1].source.document, 2);
        assert_eq!(manifests[1].source.line, 2);
    }

    #[test]
    fn every_object_knows_its_file_document_line_and_column() {
        let text = format!(
            "# a comment\n{}---\n\n{}--- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c}}}}\n",
            config_map("a"),
            config_map("b")
        );
        let sources: Vec<String> = load_ok(&text)
            .iter()
            .map(|m| m.source.to_string())
            .collect();
        assert_eq!(
            sources,
            [
                "in.yaml: document 1, line 2:1",
                "in.yaml: document 2, line 8:1",
                "in.yaml: document 3, line 12:5",
            ]
        );
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.yaml", &config_map("b"));
        write(dir.path(), "a.yml", &config_map("a"));
        write(
            dir.path(),
            "c.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#,
        );
        write(dir.path(), "notes.txt", "not a manifest: [");
        write(dir.path(), "sub/d.yaml", &config_map("d"));
        write(dir.path(), "sub/deeper/e.yaml", &config_map("e"));
        dir
    }

    fn load_paths(paths: &[PathBuf], recursive: bool) -> Result<Vec<Manifest>, LoadErrors> {
        let options = LoadOptions {
            recursive,
            ..LoadOptions::default()
        };
        load_with_stdin(paths, &options, &mut std::io::empty())
    }

    #[test]
    fn a_directory_gives_its_manifests_sorted_by_name() {
        let dir = tree();
        let manifests = load_paths(&[dir.path().to_path_buf()], false).unwrap();
        assert_eq!(names(&manifests), ["a", "b", "c"]);
        assert!(manifests[0].source.file.ends_with("a.yml"));
    }

    #[test]
    fn recursive_directories_are_read_depth_first_and_sorted() {
        let dir = tree();
        let manifests = load_paths(&[dir.path().to_path_buf()], true).unwrap();
        assert_eq!(names(&manifests), ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn paths_repeat_in_order_and_a_named_file_is_read_whatever_its_extension() {
        let dir = tree();
        write(dir.path(), "other.txt", &config_map("t"));
        let paths = [dir.path().join("sub/d.yaml"), dir.path().join("other.txt")];
        let manifests = load_paths(&paths, false).unwrap();
        assert_eq!(names(&manifests), ["d", "t"]);
    }

    #[test]
    fn a_directory_without_manifests_is_a_problem_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("readme.md"), "# not a manifest").unwrap();
        let errors = load_paths(&[dir.path().to_path_buf()], true).unwrap_err();
        assert_eq!(
            errors.to_string(),
            format!("{}: no objects found", dir.path().display())
        );
    }

    #[test]
    fn a_missing_path_is_a_problem_naming_it() {
        let dir = tree();
        let missing = dir.path().join("nope.yaml");
        let paths = [missing.clone(), dir.path().join("b.yaml")];
        let errors = load_paths(&paths, false).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(
            errors.to_string(),
            format!("{}: no such file or directory", missing.display())
        );
    }

    #[test]
    fn stdin_is_read_for_dash_and_only_once() {
        let text = config_map("from-stdin");
        let mut stdin = text.as_bytes();
        let paths = [PathBuf::from("-")];
        let manifests = load_with_stdin(&paths, &options(), &mut stdin).unwrap();
        assert_eq!(names(&manifests), ["from-stdin"]);
        assert_eq!(manifests[0].source.file, "-");

        let mut stdin = text.as_bytes();
        let twice = [PathBuf::from("-"), PathBuf::from("-")];
        let errors = load_with_stdin(&twice, &options(), &mut stdin).unwrap_err();
        assert_eq!(errors.to_string(), "-: stdin (-) can be read only once");
    }
}

mod validation {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once_with_its_place() {
        let text = "\
kind: ConfigMap
metadata: {name: no-api-version}
---
apiVersion: v1
metadata: {name: no-kind}
---
apiVersion: v1
kind: ConfigMap
---
apiVersion: v1
kind: Pod
metadata:
  generateName: web-
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: Bad_Name
  namespace: Not.A.Label
---
apiVersion: v1
kind: Service
metadata: {name: 1-starts-with-digit}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.wrong.com}
spec:
  group: example.com
  names: {plural: widgets}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:fine'}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: a/b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: 42}
";
        let errors = load_err(text, &options());
        let lines: Vec<String> = errors.to_string().lines().map(str::to_owned).collect();
        assert_eq!(
            lines,
            [
                "in.yaml: document 1, line 1:1: apiVersion is missing",
                "in.yaml: document 2, line 4:1: kind is missing",
                "in.yaml: document 3, line 7:1: metadata.name is missing",
                "in.yaml: document 4, line 10:1: metadata.generateName is not supported: kos \
                 applies objects by name (server-side apply), which needs metadata.name to find \
                 the same object again",
                "in.yaml: document 5, line 15:1: metadata.name: Invalid value: \"Bad_Name\": a \
                 lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
                 characters, '-' or '.', and must start and end with an alphanumeric character",
                "in.yaml: document 5, line 15:1: metadata.namespace: Invalid value: \
                 \"Not.A.Label\": a lowercase RFC 1123 label must consist of lower case \
                 alphanumeric characters or '-', and must start and end with an alphanumeric \
                 character",
                "in.yaml: document 6, line 21:1: metadata.name: Invalid value: \
                 \"1-starts-with-digit\": a DNS-1035 label must consist of lower case \
                 alphanumeric characters or '-', start with an alphabetic character, and end \
                 with an alphanumeric character",
                "in.yaml: document 7, line 25:1: metadata.name: Invalid value: \
                 \"widgets.wrong.com\": must be spec.names.plural+\".\"+spec.group",
                "in.yaml: document 9, line 36:1: metadata.name: Invalid value: \"a/b\": may \
                 not contain '/'",
                "in.yaml: document 10, line 40:1: metadata.name must be a string",
            ]
        );
    }

    #[test]
    fn problems_of_several_files_come_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(&a, "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n").unwrap();
        std::fs::write(&b, "kind: [\n").unwrap();
        let errors = load_with_stdin(&[b.clone(), a.clone()], &options(), &mut std::io::empty())
            .unwrap_err();
        let files: Vec<&str> = errors.0.iter().map(|p| p.source.file.as_str()).collect();
        assert_eq!(files, [b.display().to_string(), a.display().to_string()]);
    }

    #[test]
    fn the_same_object_twice_names_both_places() {
        let text = format!(
            "{}---\n{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: other}}\n",
            config_map("a"),
            config_map("a")
        );
        let errors = load_err(&text, &options());
        assert_eq!(
            errors.to_string(),
            "in.yaml: document 2, line 6:1: ConfigMap \"a\" appears twice: also at in.yaml: \
             document 1, line 1:1"
        );
    }

    #[test]
    fn duplicates_compare_the_api_group_not_the_version() {
        let deployment = |version: &str| {
            format!("apiVersion: apps/{version}\nkind: Deployment\nmetadata: {{name: web}}\n")
        };
        let same = format!("{}---\n{}", deployment("v1"), deployment("v1beta1"));
        assert_eq!(load_err(&same, &options()).0.len(), 1);
        let other_group = format!(
            "{}---\napiVersion: example.com/v1\nkind: Deployment\nmetadata: {{name: web}}\n",
            deployment("v1")
        );
        assert_eq!(load_ok(&other_group).len(), 2);
    }

    #[test]
    fn an_object_in_another_namespace_than_dash_n_is_refused_like_kubectl() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: a}\n";
        let options = LoadOptions {
            namespace: Some("b".to_owned()),
            ..LoadOptions::default()
        };
        assert_eq!(
            load_err(text, &options).to_string(),
            "in.yaml: document 1, line 1:1: the namespace from the provided object \"a\" does \
             not match the namespace \"b\". You must pass '--namespace=a' to perform this \
             operation."
        );
        let same = LoadOptions {
            namespace: Some("a".to_owned()),
            ..LoadOptions::default()
        };
        let manifests = load_str("in.yaml", text, &same).unwrap();
        // The namespace is not filled in: only discovery knows whether a kind is namespaced.
        let unset = load_str("in.yaml", &config_map("y"), &same).unwrap();
        assert_eq!(manifests.len(), 1);
        assert!(unset[0].object["metadata"].get("namespace").is_none());
    }

    #[test]
    fn secret_data_never_appears_in_problems() {
        let text = "\
apiVersion: v1
kind: Secret
metadata: {name: Bad_Name, generateName: x}
data: {password: aHVudGVyMg==}
stringData: {token: hunter2}
---
apiVersion: v1
kind: Secret
metadata: {name: ok}
stringData:
  token: hunter2-again
  broken: [unclosed
";
        let shown = load_err(text, &options()).to_string();
        assert!(!shown.is_empty());
        for secret in ["aHVudGVyMg", "hunter2"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn overrides_kos_cannot_use_are_problems_of_their_object() {
        let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
  annotations: {kos.dev/timeout: 2m, kos.dev/wait-for: exists}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: wrong
  annotations: {kos.dev/track: no, kos.dev/timeout: soon, kos.dev/fail-mode: never}
";
        let shown = load_err(text, &options()).to_string();
        assert_eq!(
            shown,
            "in.yaml: document 2, line 7:1: annotation kos.dev/track must be \"true\" or \"false\"
in.yaml: document 2, line 7:1: annotation kos.dev/timeout must be a duration longer than zero, such as 90s, 2m or 1h30m
in.yaml: document 2, line 7:1: annotation kos.dev/fail-mode must be fail or ignore"
        );
        let fine = load_ok(&text[..text.find("---").unwrap()]);
        assert_eq!(
            fine[0].overrides.timeout,
            Some(std::time::Duration::from_mins(2))
        );
        assert_eq!(fine[0].overrides.wait_for, kos::tracker::WaitFor::Exists);
    }
}

mod hostile {
    use super::*;
    use proptest::prelude::*;
    use std::fmt::Write as _;
    use std::time::{Duration, Instant};

    /// Loads `text`, expecting problems; returns the messages.
    fn refused(text: &str) -> String {
        load_err(text, &options()).to_string()
    }

    #[test]
    fn empty_input_is_a_clean_problem() {
        for text in [
            "",
            "\n\n",
            "# just a comment\n",
            "---\n---\n",
            "null\n",
            "{}",
        ] {
            let shown = load_err(text, &options()).to_string();
            assert!(shown.starts_with("in.yaml: "), "{text:?}: {shown}");
        }
        assert!(refused("").contains("no objects found"));
    }

    #[test]
    fn random_bytes_are_a_clean_problem() {
        // A fixed pseudo-random sequence (xorshift), so that a failure reproduces.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let bytes: Vec<u8> = (0..64 * 1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let errors = kos::manifest::load_bytes("random.bin", &bytes, &options()).unwrap_err();
        assert!(errors.to_string().contains("not UTF-8 text"), "{errors}");
        // The same bytes made valid UTF-8 reach the parsers.
        let text = String::from_utf8_lossy(&bytes);
        assert!(load_str("random.txt", &text, &options()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = kos::manifest::load_bytes("fuzz", &bytes, &options());
        }

        #[test]
        fn yaml_like_text_never_panics(text in "[-:{}\\[\\]#&*!|>'\" \n\ta-z0-9.,%@`?~]{0,300}") {
            let _ = load_str("fuzz.yaml", &text, &options());
        }

        #[test]
        fn mutated_manifests_never_panic(
            cut in 0usize..200,
            insert in "[-:{}\\[\\]#&*!|>'\" \n\t]{0,4}",
        ) {
            let text = format!("{}spec:\n  replicas: 3\n  template: {{a: [1, 2]}}\n", config_map("x"));
            let cut = cut.min(text.len());
            let mutated = format!("{}{insert}{}", &text[..cut], &text[cut..]);
            let _ = load_str("fuzz.yaml", &mutated, &options());
        }
    }

    /// Generates about `bytes` of realistic manifests: Deployments with a `ConfigMap` each.
    fn big_manifest(bytes: usize) -> String {
        let mut text = String::with_capacity(bytes + 4096);
        let mut i = 0;
        while text.len() < bytes {
            let _ = write!(
                text,
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  \
                 namespace: team-{}\n  labels: {{app: app-{i}, tier: backend}}\nspec:\n  \
                 replicas: 3\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    \
                 metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n      \
                 - name: main\n        image: registry.example.com/app:{i}\n        args: \
                 [\"--port=8080\", \"--verbose\"]\n        ports:\n        - containerPort: \
                 8080\n        env:\n        - name: MODE\n          value: production\n---\n\
                 apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}-config\ndata:\n  \
                 settings.json: |\n    {{\"feature\": true, \"level\": {i}}}\n",
                i % 7
            );
            i += 1;
        }
        text
    }

    const BIG: usize = 20 * 1024 * 1024;
    /// A hang guard only: the machine is shared, and unoptimised builds of a YAML parser are
    /// slow (see `a_20_mb_yaml_manifest_loads_in_linear_time` for the real check).
    const BIG_BUDGET: Duration = Duration::from_mins(2);

    /// Loads `text`, printing and returning the time it took.
    fn timed_load(label: &str, text: &str) -> (Vec<Manifest>, Duration) {
        let started = Instant::now();
        let manifests = load_ok(text);
        let elapsed = started.elapsed();
        eprintln!(
            "{label}: {} bytes, {} objects in {elapsed:.2?} ({:.1} MB/s)",
            text.len(),
            manifests.len(),
            text.len() as f64 / 1e6 / elapsed.as_secs_f64()
        );
        (manifests, elapsed)
    }

    #[test]
    fn a_20_mb_yaml_manifest_loads_in_linear_time() {
        let small = big_manifest(BIG / 20);
        let (_, small_time) = timed_load("1 MB YAML", &small);
        let text = big_manifest(BIG);
        let (manifests, elapsed) = timed_load("20 MB YAML", &text);
        assert!(manifests.len() > 20_000);
        assert_eq!(manifests.last().unwrap().object["kind"], "ConfigMap");
        // Twenty times the input may take twenty times as long, with room for a busy machine;
        // anything quadratic would take hundreds of times as long.
        assert!(
            elapsed < small_time * 60,
            "{elapsed:?} vs {small_time:?} for 1/20th"
        );
        assert!(elapsed < BIG_BUDGET, "took {elapsed:?}");
    }

    #[test]
    fn a_20_mb_json_manifest_loads_fast() {
        let item = |i: usize| {
            format!(
                r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"app-{i}","labels":{{"app":"app-{i}"}}}},"spec":{{"replicas":3,"template":{{"spec":{{"containers":[{{"name":"main","image":"registry.example.com/app:{i}","args":["--port=8080"]}}]}}}}}}}}"#
            )
        };
        let mut text = String::from(r#"{"apiVersion":"v1","kind":"List","items":["#);
        let mut i = 0;
        while text.len() < BIG {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&item(i));
            i += 1;
        }
        text.push_str("]}");
        let (manifests, elapsed) = timed_load("20 MB JSON", &text);
        assert_eq!(manifests.len(), i);
        assert!(elapsed < BIG_BUDGET, "took {elapsed:?}");
    }

    #[test]
    fn a_single_20_mb_value_loads_fast() {
        let text = format!("{}data:\n  blob: {}\n", config_map("big"), "x".repeat(BIG));
        let (manifests, elapsed) = timed_load("20 MB scalar", &text);
        assert_eq!(
            manifests[0].object["data"]["blob"].as_str().map(str::len),
            Some(BIG)
        );
        assert!(elapsed < BIG_BUDGET, "took {elapsed:?}");
    }

    const DEEP: usize = 100_000;

    /// Each of these runs in the test harness's default 2 MiB thread stack: a recursion per
    /// level would overflow it long before 100 000 levels.
    fn assert_too_deep(text: &str) {
        let started = Instant::now();
        let shown = refused(text);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(shown.starts_with("in.yaml: document 1, line "), "{shown}");
        assert!(shown.lines().count() == 1, "{shown}");
    }

    #[test]
    fn deep_yaml_flow_nesting_is_refused() {
        assert_too_deep(&format!("a: {}{}\n", "[".repeat(DEEP), "]".repeat(DEEP)));
        assert_too_deep(&format!(
            "a: {}1{}\n",
            "{a: ".repeat(DEEP),
            "}".repeat(DEEP)
        ));
    }

    #[test]
    fn deep_yaml_block_nesting_is_refused() {
        assert_too_deep(&format!("{}x\n", "- ".repeat(DEEP)));
        // Block mappings need a line per level; 100 000 of them would be 5 GB of indentation,
        // so the key:value-on-one-line form nests them instead.
        assert_too_deep(&format!("{}x\n", "? ".repeat(DEEP)));
    }

    #[test]
    fn deep_json_nesting_is_refused() {
        assert_too_deep(&format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP)));
        assert_too_deep(&format!("{}1{}", "{\"a\":".repeat(DEEP), "}".repeat(DEEP)));
        // Unclosed, as a truncated or malicious file would be.
        assert_too_deep(&"{\"a\":[".repeat(DEEP));
    }

    #[test]
    fn nesting_just_inside_the_limit_loads() {
        let depth = 120;
        let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let yaml = format!("{}spec: {nested}\n", config_map("deep"));
        assert_eq!(names(&load_ok(&yaml)), ["deep"]);
        let json = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"deep"}},"spec":{nested}}}"#
        );
        assert_eq!(names(&load_ok(&json)), ["deep"]);
    }

    #[test]
    fn a_billion_laughs_alias_bomb_is_refused() {
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n");
        text.push_str("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let prev = level - 1;
            let _ = writeln!(
                text,
                "a{level}: &a{level} [{}]",
                vec![format!("*a{prev}"); 10].join(", ")
            );
        }
        let started = Instant::now();
        let shown = refused(&text);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(shown.starts_with("in.yaml: document 1, line "), "{shown}");
        assert!(
            shown.ends_with("YAML aliases expand too much (an alias bomb?)"),
            "{shown}"
        );
    }

    #[test]
    fn a_duplicate_key_is_a_clean_problem_at_its_line() {
        let text = format!("{}data:\n  a: one\n  a: two\n", config_map("x"));
        let shown = refused(&text);
        assert!(shown.starts_with("in.yaml: document 1, line 7:"), "{shown}");
        assert!(!shown.contains("two"), "{shown}");
    }

    #[test]
    fn windows_line_endings_and_a_byte_order_mark_load() {
        let text =
            format!("\u{feff}{}---\n{}", config_map("a"), config_map("b")).replace('\n', "\r\n");
        let manifests =
            kos::manifest::load_bytes("crlf.yaml", text.as_bytes(), &options()).unwrap();
        assert_eq!(names(&manifests), ["a", "b"]);
        assert_eq!(manifests[1].source.line, 6);
    }

    #[test]
    fn a_few_aliases_are_fine() {
        let text = format!("{}data:\n  a: &v shared\n  b: *v\n", config_map("x"));
        assert_eq!(load_ok(&text)[0].object["data"]["b"], "shared");
    }

    #[test]
    fn tab_indentation_is_a_clean_problem() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n";
        let shown = refused(text);
        assert!(shown.starts_with("in.yaml: document 1, line 4:"), "{shown}");
        assert!(shown.contains("invalid YAML"), "{shown}");
    }

    #[test]
    fn a_document_that_is_a_list_or_a_scalar_is_refused() {
        for (text, what) in [
            ("- a\n- b\n", "a list"),
            ("just text\n", "a string"),
            ("42\n", "a number"),
            ("[1, 2]", "a list"),
            ("\"text\"", "a string"),
        ] {
            let shown = refused(text);
            assert!(
                shown.ends_with(&format!(
                    "a document must be a Kubernetes object (a mapping), not {what}"
                )),
                "{text:?}: {shown}"
            );
        }
        let shown = refused("apiVersion: v1\nkind: List\nitems: [1]\n");
        assert!(
            shown.contains("items[0] of a List must be a Kubernetes object"),
            "{shown}"
        );
    }

    #[test]
    fn an_input_over_the_size_limit_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.yaml");
        let file = std::fs::File::create(&path).unwrap();
        // A sparse file: the limit must be checked before reading.
        file.set_len(65 * 1024 * 1024).unwrap();
        let errors = load_with_stdin(
            std::slice::from_ref(&path),
            &options(),
            &mut std::io::empty(),
        )
        .unwrap_err();
        assert_eq!(
            errors.to_string(),
            format!("{}: larger than the 64 MiB limit", path.display())
        );
        let mut endless = std::io::repeat(b'a');
        let errors = load_with_stdin(&[PathBuf::from("-")], &options(), &mut endless).unwrap_err();
        assert_eq!(errors.to_string(), "-: larger than the 64 MiB limit");
    }

    #[test]
    fn too_many_documents_are_refused() {
        let shown = refused(&"---\n".repeat(200_000));
        assert!(shown.contains("more than 100000 documents"), "{shown}");
    }
}

/// The real binary: exit codes and what a person sees.
mod binary {
    use std::io::Write;
    use std::process::{Command, Stdio};

    const KOS: &str = env!("CARGO_BIN_EXE_kos");

    #[test]
    fn an_override_kos_cannot_use_exits_3_before_reaching_the_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yaml");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {kos.dev/wait-for: done}\n",
        )
        .unwrap();
        // No such kubeconfig: getting past loading would be exit 4.
        let output = Command::new(KOS)
            .args(["apply", "--output", "plain", "-f"])
            .arg(&path)
            .arg("--kubeconfig")
            .arg(dir.path().join("none"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        let place = format!(
            "{}: document 1, line 1:1: annotation kos.dev/wait-for must be exists, ready or complete",
            path.display()
        );
        assert!(stderr.contains(&place), "{stderr}");
    }

    #[test]
    fn a_bad_manifest_exits_3_naming_file_document_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yaml");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n\napiVersion: v1\nmetadata: {name: no-kind}\n",
        )
        .unwrap();
        let output = Command::new(KOS)
            .args(["status", "-f"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        let place = format!("{}: document 2, line 6:1: kind", path.display());
        assert!(stderr.contains(&place), "{stderr}");
        assert!(output.stdout.is_empty());
    }

    #[test]
    fn status_reads_stdin_for_dash() {
        let mut child = Command::new(KOS)
            .args(["status", "-o", "json", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: piped}\n")
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(rows[0]["name"], "piped");
        assert_eq!(rows[0]["kind"], "ConfigMap");
    }
}

#[test]
fn inspect_only_reads_objects_that_could_not_be_applied() {
    // `kos status` reads dumps: the same name twice, no name at all — only kind matters.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n\
                apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n\
                apiVersion: v1\nkind: Pod\nmetadata: {generateName: b-}\n";
    assert!(load_str("in.yaml", text, &options()).is_err());
    let inspect = LoadOptions {
        inspect_only: true,
        ..LoadOptions::default()
    };
    assert_eq!(load_str("in.yaml", text, &inspect).unwrap().len(), 3);
    let errors = load_str("in.yaml", "metadata: {name: a}\n", &inspect).unwrap_err();
    assert_eq!(
        errors.0.len(),
        2,
        "apiVersion and kind are still required: {errors}"
    );
}
