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

/// `yaml` (from [`deployment`]) with `kos.dev/allowed-failures: ALLOWED` on the Deployment.
fn allowing(yaml: &str, allowed: u32) -> String {
    yaml.replacen(
        "  name: web\n",
        &format!("  name: web\n  annotations: {{kos.dev/allowed-failures: \"{allowed}\"}}\n"),
        1,
    )
}

#[test]
fn allowed_failures_wait_out_a_pull_that_recovers_and_fail_a_pod_that_keeps_crashing() {
    // With no window, the failed pull fails the run without the annotation (test above).
    let pull = deployment(
        "allowed-pull",
        1,
        "nginx:1.27",
        "sim.kos.dev/pull-failures: \"1\"",
    );
    let (output, _) = apply_until(&allowing(&pull, 1), "json", "90s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    let web = objects(&report, "Deployment")[0];
    assert_eq!(web["overrides"]["allowed_failures"], 1, "{report:#}");

    // Crashing every second: its first restart is within the allowance, its second not.
    let crash = deployment(
        "allowed-crash",
        1,
        "busybox:1.36",
        "sim.kos.dev/crash-after: 1s",
    );
    let (output, _) = apply_until(&allowing(&crash, 1), "plain", "90s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    let err = stderr(&output);
    assert!(
        err.contains("2 failures, 1 allowed (kos.dev/allowed-failures)"),
        "{}",
        said(&output)
    );
    assert!(
        stdout(&output).contains("— 2 restarts"),
        "failed at the second restart, not the first: {}",
        said(&output)
    );
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
    job_with(ns, exit_code, "2s", "")
}

/// A Namespace `ns` and a Job `once` in it whose pod exits with `exit_code` after
/// `exit_after`; `spec` adds lines to the Job's spec (indented by two spaces).
fn job_with(ns: &str, exit_code: u8, exit_after: &str, spec: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n---\n")
        + &job_document(ns, "once", exit_code, exit_after, "", spec)
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
    let follow = Running::start(&[
        "watch",
        "deploy/web",
        "-n",
        "followed",
        "--stabilize",
        "0",
        "--follow",
        "--output",
        "plain",
    ]);
    follow.wait_for("verdict", |l| {
        l.iter().any(|l| l.starts_with("outcome: success"))
    });
    let (output, _) = apply(&deployment("followed", 2, "nginx:1.27", ""), &["--no-wait"]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    follow.wait_for("pod line after the verdict", |l| {
        let after = l.iter().skip_while(|l| !l.starts_with("outcome:")).skip(1);
        after.filter(|l| l.contains("Pod followed/web-")).count() > 0
    });
    follow.interrupt();
    let (exit, _) = follow.finish();
    assert_eq!(
        exit,
        Some(0),
        "Ctrl-C after the verdict exits with the verdict's code"
    );
}

/// Whether some line holds `text`.
fn has(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}

#[test]
fn a_job_deleted_after_it_completed_keeps_its_success() {
    // As the TTL-after-finished controller would, but by hand: the Job is deleted (its pods
    // after it, by the garbage collector) while its success is being confirmed.
    let file = manifest(&job("deleted-after", 0));
    let path = file.path().to_str().expect("utf-8 path");
    let run = Running::start(&[
        "apply",
        "-f",
        path,
        "--output",
        "plain",
        "--stabilize",
        "3s",
        "--timeout",
        "20s",
    ]);
    run.wait_for("the Job's success", |l| {
        has(l, "Job deleted-after/once  success")
    });
    let (code, body) = sim().delete("/apis/batch/v1/namespaces/deleted-after/jobs/once");
    assert_eq!(code, 200, "{body}");
    let (exit, lines) = run.finish();
    let said = lines.join("\n");
    assert_eq!(exit, Some(0), "{said}");
    assert!(
        has(
            &lines,
            "Job deleted-after/once  success  Job 1/1 completed; removed after it succeeded"
        ),
        "{said}"
    );
    assert!(
        lines.iter().any(|l| l.contains("Pod deleted-after/once-")
            && l.ends_with("  success  Completed; removed after it succeeded")),
        "its completed pod too: {said}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("outcome: success")),
        "{said}"
    );
}

/// Passes once the simulated cluster deletes finished Jobs by their TTL (the lead
/// un-ignores it when that controller is merged).
#[test]
fn a_job_deleted_by_its_ttl_after_it_completed_keeps_its_success() {
    let yaml = job_with("ttl-zero", 0, "1s", "\n  ttlSecondsAfterFinished: 0");
    let (output, _) = apply(
        &yaml,
        &["--output", "plain", "--stabilize", "3s", "--timeout", "30s"],
    );
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert!(
        stdout(&output)
            .contains("Job ttl-zero/once  success  Job 1/1 completed; removed after it succeeded"),
        "{}",
        said(&output)
    );
    let (code, _) = sim().get("/apis/batch/v1/namespaces/ttl-zero/jobs/once");
    assert_eq!(code, 404, "the TTL controller deleted the Job");
}

#[test]
fn a_job_deleted_before_it_completed_is_missing_and_the_run_cannot_succeed() {
    let file = manifest(&job_with("deleted-before", 0, "10m", ""));
    let path = file.path().to_str().expect("utf-8 path");
    let run = Running::start(&[
        "apply",
        "-f",
        path,
        "--output",
        "json",
        "--stabilize",
        "0",
        "--timeout",
        "3s",
    ]);
    let job = "/apis/batch/v1/namespaces/deleted-before/jobs/once";
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim().get(job).0 != 200 {
        assert!(Instant::now() < deadline, "the Job was never created");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, body) = sim().delete(job);
    assert_eq!(code, 200, "{body}");
    let (exit, lines) = run.finish();
    let said = lines.join("\n");
    assert_eq!(exit, Some(2), "{said}");
    let report: serde_json::Value = serde_json::from_str(&said).expect("one JSON report");
    assert_eq!(objects(&report, "Job")[0]["status"], "missing", "{said}");
}

#[test]
fn a_load_balancer_that_gets_no_address_times_out_saying_what_to_do() {
    // A Service of a load-balancer class nobody implements gets no address, as on a cluster
    // with no load-balancer provider. Beside it, one RoleBinding `reader` per namespace:
    // plain lines tell them apart by namespace.
    let binding = |ns: &str| {
        format!(
            "{}apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
  namespace: {ns}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
---
",
            namespace(ns)
        )
    };
    let yaml = binding("lb-a")
        + &binding("lb-b")
        + "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: lb-a
spec:
  type: LoadBalancer
  loadBalancerClass: example.com/nobody
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
";
    let (output, _) = apply_until(&yaml, "plain", "3s");
    assert_eq!(code(&output), 2, "{}", said(&output));
    let out = stdout(&output);
    for ns in ["lb-a", "lb-b"] {
        assert!(
            out.contains(&format!("RoleBinding {ns}/reader  success")),
            "{}",
            said(&output)
        );
    }
    let err = stderr(&output);
    assert!(
        err.contains(
            "  Service lb-a/web  in_progress  Waiting for a load balancer address\n    hint: \
             no external address was assigned: "
        ),
        "{}",
        said(&output)
    );
    for remedy in ["NodePort", "MetalLB", "cloud-provider-kind"] {
        assert!(err.contains(remedy), "{}", said(&output));
    }
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

/// A Job `name` in `ns` whose pod exits with `exit_code` after `exit_after` (simulated
/// time), with `annotations` on the Job itself.
fn annotated_job(
    ns: &str,
    name: &str,
    exit_code: u8,
    exit_after: &str,
    annotations: &str,
) -> String {
    job_document(ns, name, exit_code, exit_after, annotations, "")
}

#[test]
fn overrides_by_annotation_change_how_each_object_counts() {
    // Each of these would decide the run on its own without its annotation: a failed Job
    // fails it, a LoadBalancer Service with no provider holds it until the timeout.
    let ns = "overrides";
    let yaml = namespace(ns)
        + &annotated_job(ns, "quick", 0, "1s", "")
        + &annotated_job(ns, "broken", 1, "1s", "kos.dev/fail-mode: ignore")
        + &annotated_job(ns, "flaky", 1, "1s", "kos.dev/track: \"false\"")
        + &format!(
            "apiVersion: v1
kind: Service
metadata:
  name: lb
  namespace: {ns}
  annotations: {{kos.dev/wait-for: exists}}
spec:
  type: LoadBalancer
  loadBalancerClass: example.com/nobody
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"
        );
    // The window lets both failing Jobs be seen failed before the verdict.
    let (output, _) = apply(
        &yaml,
        &["--output", "json", "--stabilize", "2s", "--timeout", "30s"],
    );
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    let job = |name: &str| {
        objects(&report, "Job")
            .into_iter()
            .find(|o| o["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("Job {name}: {}", said(&output)))
    };
    assert_eq!(job("quick")["status"], "success");
    assert!(
        job("quick").get("overrides").is_none(),
        "no overrides, none shown"
    );
    assert_eq!(job("broken")["status"], "failed", "{}", said(&output));
    assert_eq!(job("broken")["counted"], true);
    assert_eq!(job("broken")["overrides"]["fail_mode"], "ignore");
    assert_eq!(job("flaky")["status"], "failed", "{}", said(&output));
    assert_eq!(job("flaky")["counted"], false);
    assert_eq!(job("flaky")["overrides"]["track"], false);
    let flaky_pods = objects(&report, "Pod")
        .into_iter()
        .filter(|pod| pod["owner"] == "Job/flaky")
        .collect::<Vec<_>>();
    assert!(!flaky_pods.is_empty() && flaky_pods.iter().all(|pod| pod["counted"] == false));
    let lb = objects(&report, "Service")[0];
    assert_eq!(lb["status"], "in_progress");
    assert_eq!(lb["overrides"]["wait_for"], "exists");

    // A Job that needs 3 s of real time, given 1 s by its annotation: the run times out at
    // that deadline, not at the step timeout. An untracked ConfigMap is marked so.
    let ns = "overrides-deadline";
    let yaml = namespace(ns)
        + &annotated_job(ns, "slow", 0, "30s", "kos.dev/timeout: 1s")
        + &format!(
            "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
  annotations: {{kos.dev/track: \"false\"}}
"
        );
    let (output, took) = apply_until(&yaml, "plain", "30s");
    assert_eq!(code(&output), 2, "{}", said(&output));
    assert!(
        took < Duration::from_secs(10),
        "{took:?}: {}",
        said(&output)
    );
    let out = stdout(&output);
    assert!(
        out.lines().any(
            |line| line.contains("ConfigMap overrides-deadline/settings")
                && line.ends_with("(untracked)")
        ),
        "{}",
        said(&output)
    );
    assert!(out.contains("outcome: timeout"), "{}", said(&output));
}

#[test]
fn a_quiet_rollout_prints_progress_lines_on_stderr_unless_the_interval_is_0() {
    // 40 s of the simulated clock to start: about 4 s here, longer than the interval.
    let slow = |ns: &str| deployment(ns, 2, "nginx:1.27", "sim.kos.dev/start-delay: 40s");
    let args = ["--output", "plain", "--stabilize", "0", "--timeout", "60s"];
    let (output, _) = apply(
        &slow("progress-on"),
        &[&args[..], &["--progress-interval", "1s"]].concat(),
    );
    assert_eq!(code(&output), 0, "{}", said(&output));
    let progress: Vec<String> = stderr(&output)
        .lines()
        .filter(|line| line.contains("  progress  "))
        .map(str::to_owned)
        .collect();
    assert!(
        progress.iter().any(|line| line.contains("/2 ready (")
            && line.contains("waiting for Deployment progress-on/web")),
        "{}",
        said(&output)
    );
    assert!(
        !stdout(&output).contains("  progress  "),
        "stdout keeps one line per change: {}",
        said(&output)
    );

    let (output, _) = apply(
        &slow("progress-off"),
        &[&args[..], &["--progress-interval", "0"]].concat(),
    );
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert!(!said(&output).contains("  progress  "), "{}", said(&output));
}
