//! End to end: the real `kos` binary, over real HTTP, against `kos sim serve`.
//!
//! One simulated cluster is shared by every test of this file (each test uses its own
//! namespace); the fault-injecting cases start their own. The sim runs 10 times faster than
//! real time so rollouts take seconds.

mod common;

use common::*;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// Runs `kos ARGS --kubeconfig SIM` to completion.
fn kos(args: &[&str]) -> Output {
    sim().kos(args).output().expect("run kos")
}

/// `kos apply -f MANIFEST ARGS --kubeconfig KUBECONFIG`, with the manifest written to a temp
/// file; also how long kos took.
fn apply_to(kubeconfig: &Path, yaml: &str, args: &[&str]) -> (Output, Duration) {
    let file = manifest(yaml);
    let path = file.path().to_str().expect("utf-8 path");
    let mut all = vec!["apply", "-f", path];
    all.extend_from_slice(args);
    let start = Instant::now();
    let output = kos_command(kubeconfig, &all).output().expect("run kos");
    (output, start.elapsed())
}

/// `kos apply -f MANIFEST ARGS` against the shared sim.
fn apply(yaml: &str, args: &[&str]) -> (Output, Duration) {
    apply_to(&sim().kubeconfig, yaml, args)
}

/// `kos apply` waiting for the verdict with no stabilization window, printing `output`.
fn apply_until(yaml: &str, output: &str, timeout: &str) -> (Output, Duration) {
    apply(
        yaml,
        &["--output", output, "--stabilize", "0", "--timeout", timeout],
    )
}

/// `kos watch -n NS ARGS` with no stabilization window, printing JSON.
fn watch_json(ns: &str, args: &[&str]) -> Output {
    let mut all = vec!["watch", "-n", ns, "--stabilize", "0", "--output", "json"];
    all.extend_from_slice(args);
    kos(&all)
}

#[test]
fn a_healthy_deployment_succeeds_with_its_replicaset_and_pods() {
    let (output, _) = apply(
        &deployment("healthy", 2, "nginx:1.27", ""),
        &["--output", "json", "--stabilize", "1s", "--timeout", "60s"],
    );
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "success");
    assert_eq!(objects(&report, "Namespace")[0]["status"], "success");
    let deployment = objects(&report, "Deployment");
    assert_eq!(deployment[0]["status"], "success");
    assert_eq!(deployment[0]["applied"], true);
    let replicasets = objects(&report, "ReplicaSet");
    assert_eq!(replicasets.len(), 1, "{report:#}");
    assert_eq!(replicasets[0]["owner"], "Deployment/web");
    let pods = objects(&report, "Pod");
    assert_eq!(pods.len(), 2, "{report:#}");
    for pod in pods {
        assert_eq!(pod["status"], "success", "{pod}");
        assert_eq!(pod["counted"], true);
        assert_eq!(pod["applied"], false);
    }
    assert_eq!(report["digest"], serde_json::json!([]));
}

#[test]
fn a_bad_image_fails_fast_naming_the_pull_error_in_plain_and_json() {
    let bad = deployment("bad-image", 1, "nginx:doesnotexist", "");
    let (output, took) = apply_until(&bad, "plain", "120s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let out = stdout(&output);
    let pod_line = out
        .lines()
        .find(|l| l.contains("Pod bad-image/web-") && l.contains("  failed  "))
        .unwrap_or_else(|| panic!("no failed pod line:\n{}", said(&output)));
    assert!(
        pod_line.contains("ImagePull") || pod_line.contains("ErrImagePull"),
        "{pod_line}"
    );
    assert!(
        out.lines()
            .last()
            .unwrap_or_default()
            .starts_with("outcome: failed after "),
        "{out}"
    );
    assert!(stderr(&output).contains("digest:"), "{}", said(&output));

    let (output, _) = apply_until(&bad, "json", "120s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "failed");
    let failed_pod = objects(&report, "Pod")
        .into_iter()
        .find(|p| p["status"] == "failed")
        .unwrap_or_else(|| panic!("no failed pod: {report:#}"));
    assert!(
        failed_pod["message"]
            .as_str()
            .unwrap()
            .contains("ImagePull")
    );
    let digest = report["digest"].as_array().expect("digest");
    assert!(
        digest
            .iter()
            .any(|e| e["kind"] == "Pod" && e["status"] == "failed"),
        "{report:#}"
    );
}

#[test]
fn a_pull_that_recovers_is_forgiven_by_the_window_but_not_without_one() {
    let annotations = "sim.kos.dev/pull-failures: \"1\"";
    let (output, _) = apply(
        &deployment("flaky-pull-a", 1, "nginx:1.27", annotations),
        &["--output", "json", "--stabilize", "20s", "--timeout", "90s"],
    );
    assert_eq!(code(&output), 0, "{}", said(&output));
    let (output, _) = apply_until(
        &deployment("flaky-pull-b", 1, "nginx:1.27", annotations),
        "json",
        "90s",
    );
    assert_eq!(code(&output), 1, "{}", said(&output));
}

#[test]
fn an_unschedulable_pod_runs_into_the_timeout() {
    let (output, took) = apply_until(
        &deployment(
            "unschedulable",
            1,
            "nginx:1.27",
            "sim.kos.dev/unschedulable: \"true\"",
        ),
        "plain",
        "3s",
    );
    assert_eq!(code(&output), 2, "{}", said(&output));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(
        stdout(&output).contains("outcome: timeout after "),
        "{}",
        said(&output)
    );
    assert!(
        stderr(&output).contains("in_progress"),
        "the digest lists what was still busy"
    );
}

fn job(ns: &str, exit_code: u8) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: {ns}
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
        sim.kos.dev/exit-after: 2s
        sim.kos.dev/exit-code: \"{exit_code}\"
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox:1.36
"
    )
}

#[test]
fn a_job_that_completes_succeeds_and_one_that_fails_fails() {
    let (output, _) = apply_until(&job("job-ok", 0), "json", "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert_eq!(objects(&report(&output), "Job")[0]["status"], "success");

    let (output, _) = apply_until(&job("job-fail", 1), "json", "60s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    assert_eq!(objects(&report(&output), "Job")[0]["status"], "failed");
}

#[test]
fn a_rolling_update_reports_the_old_replicaset_without_counting_it() {
    let (output, _) = apply_until(&deployment("rolling", 2, "nginx:1.26", ""), "json", "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let (output, _) = apply_until(&deployment("rolling", 2, "nginx:1.27", ""), "json", "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    let replicasets = objects(&report, "ReplicaSet");
    assert_eq!(replicasets.len(), 2, "{report:#}");
    assert_eq!(
        replicasets
            .iter()
            .filter(|rs| rs["counted"] == false)
            .count(),
        1,
        "{report:#}"
    );
}

/// Applies a one-replica Deployment in `ns` with `flag`, which must not wait: kos exits 0
/// within 10 s saying `says`.
fn apply_without_waiting(ns: &str, flag: &str, says: &str) {
    let (output, took) = apply(&deployment(ns, 1, "nginx:1.27", ""), &[flag]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert!(stdout(&output).contains(says), "{}", said(&output));
    assert!(took < Duration::from_secs(10));
}

#[test]
fn no_wait_applies_and_exits_and_dry_run_applies_nothing() {
    apply_without_waiting("dry", "--dry-run", "Deployment dry/web created (dry run");
    let output = kos(&[
        "watch",
        "deploy/web",
        "-n",
        "dry",
        "--timeout",
        "1s",
        "--output",
        "json",
    ]);
    assert_eq!(code(&output), 2, "nothing was applied: {}", said(&output));
    assert_eq!(
        objects(&report(&output), "Deployment")[0]["status"],
        "missing"
    );

    apply_without_waiting("no-wait", "--no-wait", "Deployment no-wait/web created");
    // Applying the same twice more: the last one changes nothing. (Twice, because the
    // first re-apply may settle server-side defaults.)
    apply(&deployment("no-wait", 1, "nginx:1.27", ""), &["--no-wait"]);
    let (output, _) = apply(
        &deployment("no-wait", 1, "nginx:1.27", ""),
        &["--no-wait", "--output", "json"],
    );
    let report = report(&output);
    assert_eq!(report["applied"][1]["action"], "unchanged", "{report:#}");
}

#[test]
fn watch_tracks_existing_objects_by_name_and_by_label() {
    let (output, _) = apply(
        &labelled_deployment("watched", 1, "nginx:1.27", ""),
        &["--no-wait"],
    );
    assert_eq!(code(&output), 0, "{}", said(&output));
    let output = watch_json("watched", &["deployment/web"]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert_eq!(objects(&report(&output), "Pod").len(), 1);

    // By label, of the workload kinds (the default) or of a named kind.
    for args in [&["-l", "app=web"][..], &["deployments", "-l", "app=web"]] {
        let output = watch_json("watched", args);
        assert_eq!(code(&output), 0, "{}", said(&output));
        let report = report(&output);
        assert_eq!(
            objects(&report, "Deployment")[0]["applied"],
            true,
            "{report:#}"
        );
    }
    let output = kos(&["watch", "-n", "watched", "-l", "app=nothing"]);
    assert_eq!(code(&output), 3, "nothing matches: {}", said(&output));
}

#[test]
fn watch_follow_keeps_printing_after_the_verdict_until_ctrl_c() {
    let (output, _) = apply(&deployment("followed", 1, "nginx:1.27", ""), &["--no-wait"]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    // The verdict line, then a later scale-up still shows up, until Ctrl-C.
    let mut follow = sim()
        .kos(&[
            "watch",
            "deploy/web",
            "-n",
            "followed",
            "--stabilize",
            "0",
            "--follow",
            "--output",
            "plain",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start kos watch --follow");
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let reader = {
        let lines = lines.clone();
        let stdout = follow.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                lines.lock().unwrap().push(line);
            }
        })
    };
    let wait_for = |what: &dyn Fn(&[String]) -> bool, label: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !what(&lines.lock().unwrap()) {
            assert!(
                Instant::now() < deadline,
                "no {label}: {:?}",
                lines.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for(
        &|l| l.iter().any(|l| l.starts_with("outcome: success")),
        "verdict",
    );
    let (output, _) = apply(&deployment("followed", 2, "nginx:1.27", ""), &["--no-wait"]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    wait_for(
        &|l| {
            let after = l.iter().skip_while(|l| !l.starts_with("outcome:")).skip(1);
            after.filter(|l| l.contains("Pod followed/web-")).count() > 0
        },
        "pod line after the verdict",
    );
    let status = std::process::Command::new("kill")
        .args(["-INT", &follow.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let exit = follow.wait().expect("wait for kos watch");
    reader.join().expect("reader");
    assert_eq!(
        exit.code(),
        Some(0),
        "Ctrl-C after the verdict exits with the verdict's code"
    );
}

#[test]
fn a_namespace_after_the_deployment_using_it_is_applied_first() {
    let yaml = deployment("late-ns", 1, "nginx:1.27", "");
    let (namespace, deployment) = yaml.split_once("---\n").expect("two documents");
    let reversed = format!("{deployment}---\n{namespace}");
    let (output, _) = apply_until(&reversed, "json", "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    assert_eq!(
        report["objects"][0]["kind"], "Deployment",
        "roots keep the input order"
    );
}

#[test]
fn a_custom_resource_is_judged_by_its_ready_condition() {
    let crd = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.kos.dev
spec:
  group: e2e.kos.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
";
    let widget = |ready: &str| {
        let ns = ready.to_ascii_lowercase();
        format!(
            "{crd}---
apiVersion: v1
kind: Namespace
metadata:
  name: crd-{ns}
---
apiVersion: e2e.kos.dev/v1
kind: Widget
metadata:
  name: gadget
  namespace: crd-{ns}
status:
  conditions:
  - type: Ready
    status: \"{ready}\"
    reason: Testing
    message: ready is {ready}
"
        )
    };
    let (output, _) = apply_until(&widget("True"), "json", "5s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert_eq!(objects(&report(&output), "Widget")[0]["status"], "success");
    let (output, _) = apply_until(&widget("False"), "json", "5s");
    assert_ne!(code(&output), 0, "{}", said(&output));
    assert_ne!(objects(&report(&output), "Widget")[0]["status"], "success");
}

#[test]
fn an_unreachable_cluster_is_exit_4_naming_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1
kind: Config
clusters: [{{name: gone, cluster: {{server: \"{server}\"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: gone, context: {{cluster: gone, user: u}}}}]
current-context: gone
"
        ),
    )
    .unwrap();
    let (output, took) = apply_to(
        &kubeconfig,
        &deployment("unreachable", 1, "nginx:1.27", ""),
        &[],
    );
    assert_eq!(code(&output), 4, "{}", said(&output));
    assert!(took < Duration::from_secs(20));
    assert!(
        stderr(&output).contains(&format!("127.0.0.1:{port}")),
        "{}",
        said(&output)
    );
}

#[test]
fn bad_input_is_exit_3_before_any_request() {
    let (output, _) = apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", &[]);
    assert_eq!(code(&output), 3, "{}", said(&output));
    let (output, _) = apply(
        "apiVersion: nowhere.kos.dev/v1\nkind: Nothing\nmetadata: {name: x, namespace: default}\n",
        &[],
    );
    assert_eq!(code(&output), 3, "a kind nobody serves: {}", said(&output));
    assert!(stderr(&output).contains("Nothing"), "{}", said(&output));
}

#[test]
fn a_forbidden_request_is_exit_4_naming_verb_and_resource() {
    let sim = Sim::start(&["--faults", "forbid=patch:configmaps"]);
    let (output, _) = apply_to(
        &sim.kubeconfig,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {a: b}\n",
        &[],
    );
    assert_eq!(code(&output), 4, "{}", said(&output));
    let err = stderr(&output);
    assert!(
        err.contains("forbidden") && err.contains("configmaps"),
        "{err}"
    );
    assert!(err.contains("apply") || err.contains("patch"), "{err}");
}

#[test]
fn the_digest_of_a_crash_looping_pod_shows_its_log_lines() {
    let (output, _) = apply_until(
        &deployment(
            "crashing",
            1,
            "busybox:1.36",
            "sim.kos.dev/crash-after: 1s, sim.kos.dev/log-rate: 10/s",
        ),
        "plain",
        "60s",
    );
    assert_eq!(code(&output), 1, "{}", said(&output));
    let err = stderr(&output);
    assert!(err.contains("CrashLoopBackOff"), "{err}");
    assert!(err.contains("logs of app"), "{err}");
    assert!(
        err.lines()
            .filter(|l| l.trim_start().starts_with("| "))
            .count()
            > 0,
        "{err}"
    );
}
