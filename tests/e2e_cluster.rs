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
fn the_too_big_demo_times_out_naming_the_scheduler_s_reason() {
    let output = std::process::Command::new(KOS)
        .args(["demo", "--scenario", "too-big", "--speed", "10"])
        .args(["--stabilize", "0", "--timeout", "5s", "--output", "json"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run kos demo");
    assert_eq!(code(&output), 2, "{}", said(&output));
    let report = report(&output);
    let pods = objects(&report, "Pod");
    assert_eq!(pods.len(), 2, "{report:#}");
    assert!(
        pods.iter().all(|pod| pod["status"] == "in_progress"
            && pod["message"]
                .as_str()
                .is_some_and(|m| m.contains("Insufficient cpu"))),
        "{report:#}"
    );
}

/// `kos demo --scenario NAME` at speed 10, no stabilization window: exit code and report.
fn rollout_demo(scenario: &str) -> (Output, Value) {
    let output = std::process::Command::new(KOS)
        .args(["demo", "--scenario", scenario, "--speed", "10"])
        .args(["--stabilize", "0", "--timeout", "60s", "--output", "json"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run kos demo");
    let report = report(&output);
    (output, report)
}

#[test]
fn the_blue_green_and_canary_demos_roll_their_second_revision_out() {
    for scenario in ["blue-green", "canary"] {
        let (output, report) = rollout_demo(scenario);
        assert_eq!(code(&output), 0, "{scenario}: {}", said(&output));
        let rollouts = objects(&report, "Rollout");
        assert_eq!(rollouts.len(), 1, "{scenario}: {report:#}");
        assert_eq!(rollouts[0]["status"], "success", "{scenario}: {report:#}");
    }
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

/// A Deployment `name` (one replica of `nginx:1.27`) in `ns`, with `annotations` on its pod
/// template and the `pod` and `container` lines added as in [`web`].
fn app(ns: &str, name: &str, annotations: &str, pod: &str, container: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: \
         {ns}\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    \
         metadata:\n      labels: {{app: {name}}}\n      annotations: {{{annotations}}}\n    \
         spec:\n{pod}      containers:\n      - name: app\n        image: nginx:1.27\n{container}"
    )
}

/// A PersistentVolumeClaim `name` in `ns` asking for 1Gi, with `spec` lines added.
fn claim(ns: &str, name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\n  \
         namespace: {ns}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    \
         requests: {{storage: 1Gi}}\n{spec}"
    )
}

/// Pod spec lines mounting claim `name`.
fn mounting(name: &str) -> String {
    format!(
        "      volumes:\n      - name: data\n        persistentVolumeClaim: {{claimName: {name}}}\n"
    )
}

/// The report's object `kind/name`.
fn object<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    objects(report, kind)
        .into_iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in {report:#}"))
}

/// The message of the pod whose name starts with `prefix`.
fn pod_message<'a>(report: &'a Value, prefix: &str) -> &'a str {
    objects(report, "Pod")
        .into_iter()
        .find(|o| o["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        .and_then(|o| o["message"].as_str())
        .unwrap_or_else(|| panic!("no pod {prefix}… in {report:#}"))
}

#[test]
fn claims_are_provisioned_bound_and_made_for_stateful_sets() {
    let ns = "storage";
    let statefulset = format!(
        "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: cache\n  namespace: \
         {ns}\nspec:\n  replicas: 2\n  serviceName: cache\n  selector:\n    matchLabels: \
         {{app: cache}}\n  template:\n    metadata:\n      labels: {{app: cache}}\n    spec:\n      \
         containers:\n      - name: redis\n        image: redis:7.2\n        volumeMounts:\n        \
         - {{name: data, mountPath: /data}}\n  volumeClaimTemplates:\n  - metadata: {{name: \
         data}}\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n        \
         requests: {{storage: 1Gi}}\n"
    );
    let volume = "---\napiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: manual-1\n\
                  spec:\n  capacity: {storage: 2Gi}\n  accessModes: [ReadWriteOnce]\n  \
                  storageClassName: \"\"\n  hostPath: {path: /srv/manual-1}\n";
    let yaml = format!(
        "{}{}{}{}{volume}{}{statefulset}",
        namespace(ns).trim_end_matches("---\n"),
        claim(ns, "data", ""),
        app(ns, "db", "", &mounting("data"), ""),
        claim(
            ns,
            "named",
            "  storageClassName: \"\"\n  volumeName: manual-1\n"
        ),
        app(ns, "reader", "", &mounting("named"), ""),
    );
    let (output, report) = apply(&yaml, "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let data = object(&report, "PersistentVolumeClaim", "data");
    assert!(
        data["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Bound to pvc-")),
        "{data}"
    );
    assert_eq!(
        object(&report, "PersistentVolumeClaim", "named")["message"],
        "Bound to manual-1"
    );
    let claims = sim().get_json(&format!("/api/v1/namespaces/{ns}/persistentvolumeclaims"));
    let phase = |name: &str| {
        claims["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["metadata"]["name"] == name)
            .map(|c| c["status"]["phase"].clone())
    };
    for name in ["data-cache-0", "data-cache-1"] {
        assert_eq!(phase(name), Some("Bound".into()), "{claims:#}");
    }
    let class = sim().get_json("/apis/storage.k8s.io/v1/storageclasses/standard");
    assert_eq!(class["provisioner"], "rancher.io/local-path");
}

#[test]
fn missing_claims_classes_and_failing_readiness_wait_as_on_a_real_cluster() {
    let ns = "storage-wait";
    let probe = "        readinessProbe:\n          httpGet: {path: /ready, port: 80}\n          \
                 periodSeconds: 1\n";
    let yaml = format!(
        "{}{}{}{}{}",
        namespace(ns).trim_end_matches("---\n"),
        app(ns, "orphan", "", &mounting("nope"), ""),
        claim(ns, "nowhere", "  storageClassName: fast-ssd\n"),
        app(ns, "stuck", "", &mounting("nowhere"), ""),
        app(ns, "unready", "sim.kos.dev/readiness: fail", "", probe),
    );
    let (output, report) = apply(&yaml, "12s");
    assert_eq!(code(&output), 2, "a real cluster waits: {}", said(&output));
    let prefilter = |reason: &str| {
        format!(
            "Unschedulable: 0/3 nodes are available: {reason}. preemption: 0/3 nodes are \
             available: 3 Preemption is not helpful for scheduling."
        )
    };
    assert_eq!(
        pod_message(&report, "orphan-"),
        prefilter("persistentvolumeclaim \"nope\" not found")
    );
    assert_eq!(
        pod_message(&report, "stuck-"),
        prefilter("pod has unbound immediate PersistentVolumeClaims")
    );
    let nowhere = object(&report, "PersistentVolumeClaim", "nowhere");
    assert_eq!(nowhere["status"], "in_progress", "{nowhere}");
    let digest = report["digest"].to_string();
    for expected in [
        "ProvisioningFailed: storageclass.storage.k8s.io \\\"fast-ssd\\\" not found",
        "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500",
    ] {
        assert!(digest.contains(expected), "{expected} not in {report:#}");
    }
    assert!(
        pod_message(&report, "unready-").contains("not ready"),
        "{report:#}"
    );
}

#[test]
fn a_quota_the_pods_exceed_fails_the_replica_set_after_limit_range_defaults() {
    let ns = "quota";
    let limits = format!(
        "---\napiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\n  namespace: \
         {ns}\nspec:\n  limits:\n  - type: Container\n    default: {{memory: 200Mi}}\n"
    );
    let quota = format!(
        "---\napiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: compute\n  namespace: \
         {ns}\nspec:\n  hard: {{pods: \"5\", limits.memory: 256Mi}}\n"
    );
    let yaml = format!(
        "{}{limits}{quota}{}",
        namespace(ns).trim_end_matches("---\n"),
        app(ns, "web", "", "", "").replace("spec:\n  selector", "spec:\n  replicas: 2\n  selector"),
    );
    let (output, report) = apply(&yaml, "60s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    let replica_set = objects(&report, "ReplicaSet");
    let message = replica_set[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("ReplicaFailure: FailedCreate: pods \"web-")
            && message.ends_with(
                "\" is forbidden: exceeded quota: compute, requested: limits.memory=200Mi, \
                 used: limits.memory=200Mi, limited: limits.memory=256Mi"
            ),
        "{message}"
    );
    assert!(
        digest_entry(&report, "ReplicaSet")["reason"]
            .to_string()
            .contains("exceeded quota"),
        "{report:#}"
    );
    let pods = sim().get_json(&format!("/api/v1/namespaces/{ns}/pods"));
    let pod = &pods["items"][0];
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(1), "{pods:#}");
    assert_eq!(
        pod["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "200Mi"
    );
    assert_eq!(
        pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: memory request for container app; memory limit for container app"
    );
    let quota = sim().get_json(&format!("/api/v1/namespaces/{ns}/resourcequotas/compute"));
    assert_eq!(
        quota["status"]["used"],
        serde_json::json!({"pods": "1", "limits.memory": "200Mi"})
    );
}

#[test]
fn an_oom_kill_and_a_failing_liveness_probe_crash_loop() {
    let ns = "health";
    let hungry = "        resources:\n          limits: {memory: 128Mi}\n";
    let probe = "        livenessProbe:\n          httpGet: {path: /healthz, port: 80}\n          \
                 periodSeconds: 1\n          failureThreshold: 2\n";
    let yaml = format!(
        "{}{}{}",
        namespace(ns).trim_end_matches("---\n"),
        app(ns, "hungry", "sim.kos.dev/memory-usage: 300Mi", "", hungry),
        app(
            ns,
            "hanging",
            "sim.kos.dev/liveness: fail, sim.kos.dev/start-delay: 5s",
            "",
            probe
        ),
    );
    let (output, report) = apply_to(sim(), &yaml, "60s", "3s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    for prefix in ["hungry-", "hanging-"] {
        let message = pod_message(&report, prefix);
        assert!(
            message.starts_with("app: CrashLoopBackOff") || message.starts_with("app: OOMKilled"),
            "{prefix}: {message}"
        );
    }
    let pods = sim().get_json(&format!("/api/v1/namespaces/{ns}/pods"));
    let last = |prefix: &str| {
        pods["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| {
                p["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .map(|p| p["status"]["containerStatuses"][0]["lastState"]["terminated"].clone())
            .unwrap_or_default()
    };
    assert_eq!(last("hungry-")["reason"], "OOMKilled", "{pods:#}");
    assert_eq!(last("hungry-")["exitCode"], 137);
    assert_eq!(last("hanging-")["exitCode"], 137);
    let digest = report["digest"].to_string();
    for expected in [
        "Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500",
        "BackOff: Back-off restarting failed container app",
    ] {
        assert!(digest.contains(expected), "{expected} not in {report:#}");
    }
}

#[test]
fn what_published_applications_write_lets_their_installs_roll_out() {
    let ns = "played-apps";
    // ingress-nginx's shape: a Job runs kube-webhook-certgen, whose Secret the controller's
    // pod mounts (without it the pod stays ContainerCreating).
    let certgen = format!(
        "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: admission-create\n  \
         namespace: {ns}\nspec:\n  template:\n    spec:\n      restartPolicy: OnFailure\n      \
         containers:\n      - name: create\n        \
         image: registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.0\n        \
         args: [create, \"--namespace=$(POD_NAMESPACE)\", --secret-name=admission]\n        \
         env:\n        - name: POD_NAMESPACE\n          \
         valueFrom: {{fieldRef: {{fieldPath: metadata.namespace}}}}\n"
    );
    let controller = app(
        ns,
        "controller",
        "",
        "      volumes:\n      - name: cert\n        secret: {secretName: admission}\n",
        "",
    );
    // Argo CD's shape: an init container writes the Secret its own container reads.
    let redis = app(
        ns,
        "redis",
        "",
        "      initContainers:\n      - name: secret-init\n        \
         image: quay.io/argoproj/argocd:v3.1.0\n        \
         command: [argocd, admin, redis-initial-password]\n",
        "        env:\n        - name: REDIS_PASSWORD\n          \
         valueFrom: {secretKeyRef: {name: argocd-redis, key: auth}}\n",
    );
    let yaml = namespace(ns) + &certgen + &controller + &redis;
    let (output, report) = apply(&yaml, "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    for name in ["admission-create", "controller", "redis"] {
        let kind = if name == "admission-create" {
            "Job"
        } else {
            "Deployment"
        };
        assert_eq!(
            object(&report, kind, name)["status"],
            "success",
            "{report:#}"
        );
    }
    let secret = sim().get_json(&format!("/api/v1/namespaces/{ns}/secrets/admission"));
    let keys: Vec<&String> = secret["data"].as_object().expect("data").keys().collect();
    assert_eq!(keys, ["ca", "cert", "key"], "{secret:#}");
}
