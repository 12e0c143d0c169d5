//! End to end: what `kos apply` tells of applying — the server's field validation
//! (`--validate`), its warnings, each object's action, the order of the `created` lines, and
//! the JSON report on every exit — with the real `kos` binary against `kos sim serve`.
//!
//! One simulated cluster serves every test of this file (each test uses its own namespace);
//! most runs apply only `ConfigMaps` or do not wait, so that no rollout is waited for.

mod common;

use common::*;
use std::process::Output;

/// `kos apply -f MANIFEST ARGS` against the shared sim.
fn apply(yaml: &str, args: &[&str]) -> Output {
    let file = manifest(yaml);
    let path = file.path().to_str().expect("utf-8 path");
    let mut all = vec!["apply", "-f", path];
    all.extend_from_slice(args);
    sim().kos(&all).output().expect("run kos")
}

/// Tracked runs of objects that succeed once they exist: no rollout to wait for.
const TRACK_JSON: [&str; 6] = ["--output", "json", "--stabilize", "0", "--timeout", "30s"];

/// A Deployment `web` in `ns` whose `spec.replicas` is misspelt `replica`.
fn misspelt(ns: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replica: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: app, image: nginx:1.27}}]
"
    )
}

fn config_map(ns: &str, name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\n\
         data: {{key: {value}}}\n"
    )
}

/// Whether the server has `path` (the truth, asked without kos).
fn exists(path: &str) -> bool {
    let (code, body) = sim().get(path);
    assert!(code == 200 || code == 404, "GET {path}: {code} {body}");
    code == 200
}

#[test]
fn an_unknown_field_is_bad_input_and_nothing_of_the_batch_is_applied() {
    // The third document is invalid: the Namespace and the ConfigMap before it stay out too.
    let yaml = namespace("strict")
        + &config_map("strict", "settings", "a")
        + "---\n"
        + &misspelt("strict");
    let output = apply(&yaml, &[]);
    assert_eq!(code(&output), 3, "{}", said(&output));
    let err = stderr(&output);
    assert!(
        err.contains("document 3")
            && err.contains("spec.replica")
            && err.contains("nothing was applied"),
        "{}",
        said(&output)
    );
    assert!(
        !exists("/api/v1/namespaces/strict"),
        "the Namespace was created"
    );

    // The same as JSON: one document, the problem placed in the input.
    let output = apply(&yaml, &["--output", "json"]);
    assert_eq!(code(&output), 3, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "invalid", "{report:#}");
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{report:#}");
    assert_eq!(problems[0]["document"], 3, "{report:#}");
    assert_eq!(problems[0]["object"], "Deployment strict/web", "{report:#}");
    assert_eq!(problems[0]["code"], 400, "{report:#}");
    assert!(
        problems[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(".spec.replica: field not declared in schema")),
        "{report:#}"
    );
    assert_eq!(report["objects"], serde_json::json!([]), "{report:#}");
    assert!(!exists("/api/v1/namespaces/strict"));
}

#[test]
fn warn_applies_without_the_field_and_shows_the_warning_and_ignore_is_silent() {
    let yaml = namespace("warned") + &misspelt("warned");
    let output = apply(&yaml, &["--validate=warn", "--no-wait"]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert!(
        stderr(&output).contains(
            "Warning: Deployment warned/web: .spec.replica: field not declared in schema"
        ),
        "{}",
        said(&output)
    );
    let deployment = sim().get_json("/apis/apps/v1/namespaces/warned/deployments/web");
    assert_eq!(deployment["spec"]["replicas"], 1, "the field was dropped");

    let tracked = [
        "--validate",
        "warn",
        "--output",
        "json",
        "--stabilize",
        "0",
        "--timeout",
        "60s",
    ];
    let output = apply(&yaml, &tracked);
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "success", "{report:#}");
    assert_eq!(
        report["warnings"],
        serde_json::json!([{"kind": "Deployment", "namespace": "warned", "name": "web",
                            "message": ".spec.replica: field not declared in schema"}]),
        "{report:#}"
    );

    let output = apply(&yaml, &["--validate=ignore", "--no-wait"]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert!(!stderr(&output).contains("Warning"), "{}", said(&output));
}

#[test]
fn each_object_says_whether_it_was_created_configured_or_unchanged() {
    let action = |value: &str| {
        let yaml = namespace("actions") + &config_map("actions", "settings", value);
        let output = apply(&yaml, &TRACK_JSON);
        assert_eq!(code(&output), 0, "{}", said(&output));
        let report = report(&output);
        objects(&report, "ConfigMap")[0]["action"].clone()
    };
    assert_eq!(action("a"), "created");
    assert_eq!(action("a"), "unchanged");
    assert_eq!(action("b"), "configured");
}

#[test]
fn a_refused_request_is_exit_4_with_one_json_document() {
    // The namespace is neither in the cluster nor in the batch: the dry run is refused.
    let yaml = config_map("nowhere", "settings", "a");
    let output = apply(&yaml, &["--output", "json"]);
    assert_eq!(code(&output), 4, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "error", "{report:#}");
    let problem = &report["problems"][0];
    assert_eq!(problem["code"], 404, "{report:#}");
    assert_eq!(
        problem["request"], "apply configmaps in namespace nowhere",
        "{report:#}"
    );
    assert_eq!(problem["document"], 1, "{report:#}");
    assert!(
        problem["message"]
            .as_str()
            .is_some_and(|m| m.contains("namespaces \"nowhere\" not found")),
        "{report:#}"
    );

    // Bad YAML: one document too, placed in the input, before any request.
    let output = apply("apiVersion: v1\nkind: [\n", &["--output", "json"]);
    assert_eq!(code(&output), 3, "{}", said(&output));
    let invalid = common::report(&output);
    assert_eq!(invalid["outcome"], "invalid", "{invalid:#}");
    assert!(invalid["problems"][0]["file"].is_string(), "{invalid:#}");
    assert!(invalid["problems"][0]["line"].is_u64(), "{invalid:#}");

    // `kos watch` too.
    let output = sim()
        .kos(&["watch", "--output", "json"])
        .output()
        .expect("run kos");
    assert_eq!(code(&output), 3, "{}", said(&output));
    assert_eq!(
        common::report(&output)["outcome"],
        "invalid",
        "{}",
        said(&output)
    );
}

#[test]
fn created_lines_come_in_the_order_objects_are_applied() {
    let namespace = namespace("ordered");
    let yaml =
        config_map("ordered", "settings", "a") + "---\n" + namespace.trim_end_matches("---\n");
    let output = apply(&yaml, &["--no-wait"]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "Namespace ordered created",
            "ConfigMap ordered/settings created"
        ],
        "{}",
        said(&output)
    );
}
