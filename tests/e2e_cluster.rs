//! End to end: rollouts that fail or wait on a real cluster because of what is deployed —
//! a missing ConfigMap, Secret or ServiceAccount, an image reference that does not parse,
//! requests or a node selector no node satisfies — fail or wait the same way on
//! `kos sim serve`, and kos names the real reason in its message and its digest.
//!
//! One simulated cluster is shared by most tests of this file (each test uses its own
//! namespace), running 10 times faster than real time.

// Kubernetes kind names (ConfigMap, ServiceAccount) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

mod common;

use common::*;
use serde_json::Value;
use std::process::Output;
use std::time::{Duration, Instant};

/// `kos apply -f MANIFEST --output json` against `sim` with the stabilization window
/// `stabilize`: its output and report.
fn apply_to(sim: &Sim, yaml: &str, timeout: &str, stabilize: &str) -> (Output, Value) {
    let file = manifest(yaml);
    let path = file.path().to_str().expect("utf-8 path");
    let args = [
        "apply",
        "-f",
        path,
        "--output",
        "json",
        "--stabilize",
        stabilize,
        "--timeout",
        timeout,
    ];
    let output = sim.kos(&args).output().expect("run kos");
    let report = report(&output);
    (output, report)
}

/// [`apply_to`] the shared sim, with no stabilization window.
fn apply(yaml: &str, timeout: &str) -> (Output, Value) {
    apply_to(sim(), yaml, timeout, "0")
}

/// [`deployment`] `web` (one replica of `nginx:1.27`) with the `pod` lines added to its pod
/// spec and the `container` lines to its container (YAML indented as there).
fn web(ns: &str, pod: &str, container: &str) -> String {
    let yaml = deployment(ns, 1, "nginx:1.27", "");
    let spec = "    spec:\n      containers:\n";
    assert!(yaml.contains(spec), "no pod spec in {yaml}");
    let with_pod = yaml.replacen(spec, &format!("    spec:\n{pod}      containers:\n"), 1);
    format!("{with_pod}{container}")
}

fn the_pod(report: &Value) -> &Value {
    let pods = objects(report, "Pod");
    assert_eq!(pods.len(), 1, "{report:#}");
    pods[0]
}

/// The digest entry of `kind`.
fn digest_entry<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["digest"]
        .as_array()
        .expect("digest")
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in the digest: {report:#}"))
}

#[test]
fn a_missing_config_map_fails_the_pod_until_it_exists() {
    let yaml = web(
        "missing-config",
        "",
        "        envFrom:\n        - configMapRef: {name: app-settings}\n",
    );
    let (output, report) = apply(&yaml, "60s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    let pod = the_pod(&report);
    assert_eq!(pod["status"], "failed", "{pod}");
    let expected = "app: CreateContainerConfigError (configmap \"app-settings\" not found)";
    assert_eq!(pod["message"], expected, "{pod}");
    assert_eq!(digest_entry(&report, "Pod")["reason"], expected);

    let config = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-settings\n  \
                  namespace: missing-config\ndata:\n  mode: fast\n";
    // The kubelet tries again 10 simulated seconds after a failure: until then the pod
    // shows the error, which a stabilization window longer than that forgives.
    let (output, report) = apply_to(sim(), &format!("{yaml}{config}"), "60s", "5s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert_eq!(report["outcome"], "success");
}

#[test]
fn a_missing_secret_key_reference_fails_the_pod() {
    let yaml = web(
        "missing-secret",
        "",
        "        env:\n        - name: PASSWORD\n          valueFrom:\n            \
         secretKeyRef: {name: db-creds, key: password}\n",
    );
    let (output, report) = apply(&yaml, "60s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    assert_eq!(
        the_pod(&report)["message"],
        "app: CreateContainerConfigError (secret \"db-creds\" not found)"
    );
}

#[test]
fn a_missing_config_map_volume_keeps_the_pod_creating_with_failed_mounts() {
    let yaml = web(
        "missing-volume",
        "      volumes:\n      - name: config\n        configMap: {name: app-config}\n",
        "        volumeMounts:\n        - {name: config, mountPath: /etc/app}\n",
    );
    let (output, report) = apply(&yaml, "15s");
    assert_eq!(code(&output), 2, "a real cluster waits: {}", said(&output));
    assert_eq!(report["outcome"], "timeout");
    let pod = the_pod(&report);
    assert_eq!(pod["status"], "in_progress", "{pod}");
    let warnings = digest_entry(&report, "Pod")["warnings"].to_string();
    assert!(
        warnings.contains(
            "FailedMount: MountVolume.SetUp failed for volume \\\"config\\\" : configmap \
             \\\"app-config\\\" not found"
        ),
        "{report:#}"
    );
}

#[test]
fn an_invalid_image_reference_fails_the_pod() {
    let yaml = web("invalid-image", "", "").replace("nginx:1.27", "Nginx:Latest");
    let (output, report) = apply(&yaml, "60s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    let message = the_pod(&report)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.starts_with("app: InvalidImageName (Failed to apply default image tag")
            && message.contains("repository name (library/Nginx) must be lowercase"),
        "{message}"
    );
}

#[test]
fn a_missing_service_account_fails_the_replica_set_with_no_pods() {
    let ns = "missing-account";
    let yaml = web(ns, "      serviceAccountName: builder\n", "");
    let (output, report) = apply(&yaml, "60s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    assert!(objects(&report, "Pod").is_empty(), "{report:#}");
    let replica_set = objects(&report, "ReplicaSet");
    assert_eq!(replica_set.len(), 1, "{report:#}");
    let message = replica_set[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("ReplicaFailure: FailedCreate: pods \"web-")
            && message.ends_with(&format!(
                "-\" is forbidden: error looking up service account {ns}/builder: \
                 serviceaccount \"builder\" not found"
            )),
        "{message}"
    );
    // The Deployment takes the ReplicaFailure over on its next reconcile, which the verdict
    // may come before; the ReplicaSet is what fails first.
    let replica_set = digest_entry(&report, "ReplicaSet")["reason"].to_string();
    assert!(replica_set.contains("serviceaccount"), "{report:#}");
    let pods = sim().get_json(&format!("/api/v1/namespaces/{ns}/pods"));
    assert_eq!(pods["items"], serde_json::json!([]));
}

#[test]
fn every_namespace_has_a_default_service_account() {
    for ns in ["default", "kube-system"] {
        let account = sim().get_json(&format!("/api/v1/namespaces/{ns}/serviceaccounts/default"));
        assert_eq!(account["metadata"]["name"], "default");
    }
    let (output, _) = apply(&web("new-namespace", "", ""), "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let account = sim().get_json("/api/v1/namespaces/new-namespace/serviceaccounts/default");
    assert_eq!(account["kind"], "ServiceAccount");
    let pods = sim().get_json("/api/v1/namespaces/new-namespace/pods");
    assert_eq!(pods["items"][0]["spec"]["serviceAccountName"], "default");
}

#[test]
fn requests_larger_than_any_node_leave_the_pod_pending_in_the_schedulers_words() {
    let yaml = web(
        "too-big",
        "",
        "        resources:\n          requests: {cpu: \"64\"}\n",
    );
    let (output, report) = apply(&yaml, "15s");
    assert_eq!(code(&output), 2, "a real cluster waits: {}", said(&output));
    let pod = the_pod(&report);
    assert_eq!(pod["status"], "in_progress", "{pod}");
    let expected = "Unschedulable: 0/3 nodes are available: 1 node(s) had untolerated taint \
        {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes \
        are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims \
        found for incoming pod.";
    assert_eq!(pod["message"], expected);
    let warnings = digest_entry(&report, "Pod")["warnings"].to_string();
    assert!(
        warnings.contains("FailedScheduling: 0/3 nodes are available"),
        "{report:#}"
    );
}

#[test]
fn a_node_selector_no_node_matches_leaves_the_pod_pending() {
    let yaml = web("no-such-node", "      nodeSelector: {disktype: ssd}\n", "");
    let (output, report) = apply(&yaml, "15s");
    assert_eq!(code(&output), 2, "{}", said(&output));
    assert_eq!(
        the_pod(&report)["message"],
        "Unschedulable: 0/3 nodes are available: 1 node(s) had untolerated taint \
         {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node \
         affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful \
         for scheduling."
    );
}

#[test]
fn a_pod_tolerating_the_control_plane_taint_may_run_there() {
    let pod = "      nodeSelector: {node-role.kubernetes.io/control-plane: \"\"}\n      \
               tolerations:\n      - {key: node-role.kubernetes.io/control-plane, operator: \
               Exists, effect: NoSchedule}\n";
    let (output, report) = apply(&web("control-plane", pod, ""), "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert_eq!(report["outcome"], "success");
    let pods = sim().get_json("/api/v1/namespaces/control-plane/pods");
    assert_eq!(pods["items"][0]["spec"]["nodeName"], "sim-node-1");
}

#[test]
fn a_cron_job_whose_last_run_succeeded_succeeds_at_any_speed() {
    // A simulated hour in 3.6 s: the CronJob's times must all be on the one clock (a
    // wall-clock success is behind a simulated schedule time).
    let fast = Sim::start_at_speed("1000", &[]);
    let yaml = "apiVersion: v1
kind: Namespace
metadata: {name: cron}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: cron}
spec:
  schedule: \"0 * * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: tick, image: busybox:1.36}]
";
    let (output, _) = apply_to(&fast, yaml, "60s", "0");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let deadline = Instant::now() + Duration::from_mins(1);
    // Until the run has succeeded and the next is not due yet: the verdict then rests on
    // the two times alone.
    while !fast
        .get_json("/apis/batch/v1/namespaces/cron/cronjobs/tick")
        .get("status")
        .is_some_and(|s| s.get("lastSuccessfulTime").is_some() && s.get("active").is_none())
    {
        assert!(Instant::now() < deadline, "the CronJob never succeeded");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (output, report) = apply_to(&fast, yaml, "60s", "0");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let cron_job = objects(&report, "CronJob")[0];
    assert_eq!(cron_job["status"], "success", "{cron_job}");
    assert!(
        cron_job["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Last run succeeded")),
        "{cron_job}"
    );
}

#[test]
fn the_missing_config_demo_fails_naming_the_config_map() {
    let output = std::process::Command::new(KOS)
        .args(["demo", "--scenario", "missing-config", "--speed", "10"])
        .args(["--stabilize", "0", "--timeout", "60s", "--output", "json"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run kos demo");
    assert_eq!(code(&output), 1, "{}", said(&output));
    let report = report(&output);
    let pods = objects(&report, "Pod");
    assert_eq!(pods.len(), 2, "{report:#}");
    let expected = "web: CreateContainerConfigError (configmap \"web-settings\" not found)";
    assert!(
        pods.iter().any(|pod| pod["message"] == expected),
        "{report:#}"
    );
    assert!(
        report["digest"]
            .to_string()
            .contains("configmap \\\"web-settings\\\" not found"),
        "{report:#}"
    );
}
