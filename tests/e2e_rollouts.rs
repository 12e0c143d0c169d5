//! End to end: blue/green rollouts against `kos sim serve`, the test playing Argo Rollouts'
//! controller. It installs a minimal Rollout CRD, creates the `ReplicaSets` a blue/green
//! rollout owns and writes the Rollout's status through the status subresource as the
//! controller does; kos must judge, draw and promote it as it would the real thing. A plain
//! Service's selector switch needs no controller: the simulator keeps its `EndpointSlices`.
//! Skips (with the reason) without kubectl or tmux; fails instead under `KOS_REQUIRE_E2E=1`.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// Just enough of Argo Rollouts' CRD: the kind, its status subresource, any fields.
const CRD: &str = r"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: rollouts.argoproj.io}
spec:
  group: argoproj.io
  names: {kind: Rollout, plural: rollouts, singular: rollout, shortNames: [ro], listKind: RolloutList}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
";

/// kubectl against the shared simulator; must succeed. Its stdout.
fn kubectl(args: &[&str]) -> String {
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&sim().kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl");
    assert!(
        output.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn kubectl_apply(yaml: &str) {
    let file = manifest(yaml);
    kubectl(&["apply", "-f", file.path().to_str().expect("utf-8 path")]);
}

/// Whether kubectl and (for the view) tmux can run; panics under `KOS_REQUIRE_E2E=1`.
fn tools(view: bool) -> bool {
    have("kubectl") && (!view || have("tmux"))
}

/// Installs the CRD once per test process and waits until it is served.
fn install_crd() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        kubectl_apply(CRD);
        kubectl(&[
            "wait",
            "--for",
            "condition=established",
            "crd/rollouts.argoproj.io",
        ]);
    });
}

/// A blue/green Rollout `web` in `ns` with its active Service, and the two `ReplicaSets` the
/// controller would own (blue the stable one, green the new one), 2 pods each.
fn blue_green(ns: &str) {
    install_crd();
    kubectl_apply(&format!(
        "{}apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  strategy: {{blueGreen: {{activeService: web, autoPromotionEnabled: false}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: nginx:1.27}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}}}
spec:
  selector: {{app: web, rollouts-pod-template-hash: blue}}
  ports: [{{port: 80}}]
",
        namespace(ns)
    ));
    let uid = kubectl(&[
        "get",
        "rollout",
        "web",
        "-n",
        ns,
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    for hash in ["blue", "green"] {
        kubectl_apply(&format!(
            "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-{hash}
  namespace: {ns}
  labels: {{app: web, rollouts-pod-template-hash: {hash}}}
  ownerReferences:
    - {{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: web, uid: {uid}, controller: true}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web, rollouts-pod-template-hash: {hash}}}}}
  template:
    metadata: {{labels: {{app: web, rollouts-pod-template-hash: {hash}}}}}
    spec: {{containers: [{{name: web, image: nginx:1.27}}]}}
"
        ));
    }
}

/// Writes the Rollout's status as the controller does.
fn set_status(ns: &str, status: &str) {
    kubectl(&[
        "patch",
        "rollout",
        "web",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        &format!("{{\"status\": {status}}}"),
    ]);
}

/// Paused before promotion: green is the preview, blue still active and stable.
const PAUSED: &str = r#"{"observedGeneration": 1, "phase": "Paused", "message": "BlueGreenPause",
    "pauseConditions": [{"reason": "BlueGreenPause", "startTime": "2025-01-01T00:00:00Z"}],
    "currentPodHash": "green", "stableRS": "blue",
    "blueGreen": {"activeSelector": "blue", "previewSelector": "green"},
    "replicas": 4, "updatedReplicas": 2, "readyReplicas": 4, "availableReplicas": 2}"#;

/// Promoted: green is active and stable.
const HEALTHY: &str = r#"{"observedGeneration": 1, "phase": "Healthy", "message": null,
    "pauseConditions": null, "currentPodHash": "green", "stableRS": "green",
    "blueGreen": {"activeSelector": "green", "previewSelector": "green"},
    "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}"#;

fn has(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}

#[test]
fn a_paused_blue_green_rollout_is_suspended_until_promoted_then_succeeds() {
    if !tools(false) {
        return;
    }
    blue_green("ro-watch");
    set_status("ro-watch", PAUSED);
    let run = Running::start(&[
        "watch",
        "rollout/web",
        "-n",
        "ro-watch",
        "--stabilize",
        "0",
        "--timeout",
        "2m",
        "--output",
        "plain",
    ]);
    run.wait_for("the pause with its reason", |l| {
        has(
            l,
            "Paused: BlueGreenPause · preview green: 2/2 updated · active → blue",
        )
    });
    // Both the preview and the active ReplicaSet count while paused: their pods show.
    run.wait_for("the pods of both ReplicaSets", |l| {
        has(l, "Pod ro-watch/web-green-") && has(l, "Pod ro-watch/web-blue-")
    });
    set_status("ro-watch", HEALTHY);
    let (exit, lines) = run.finish();
    assert_eq!(exit, Some(0), "{lines:#?}");
    assert!(has(&lines, "Healthy · active → green"), "{lines:#?}");
    assert!(has(&lines, "outcome: success"), "{lines:#?}");
}

#[test]
fn a_services_selector_switch_moves_it_from_blues_pods_to_greens() {
    if !tools(false) {
        return;
    }
    blue_green("ro-switch");
    let run = Running::start(&[
        "watch",
        "service/web",
        "-n",
        "ro-switch",
        "--stabilize",
        "0",
        "--follow",
        "--output",
        "plain",
    ]);
    run.wait_for("the Service on blue's pods", |l| {
        has(l, "→ 2 ready pods (web-blue-")
    });
    kubectl(&[
        "patch",
        "service",
        "web",
        "-n",
        "ro-switch",
        "-p",
        r#"{"spec":{"selector":{"rollouts-pod-template-hash":"green"}}}"#,
    ]);
    run.wait_for("the Service on green's pods", |l| {
        has(l, "→ 2 ready pods (web-green-")
    });
    // A selector nothing matches: in progress, saying why.
    kubectl(&[
        "patch",
        "service",
        "web",
        "-n",
        "ro-switch",
        "-p",
        r#"{"spec":{"selector":{"rollouts-pod-template-hash":"none"}}}"#,
    ]);
    run.wait_for("the Service without pods", |l| {
        has(l, "No pod matches the Service's selector")
    });
    run.interrupt();
    run.finish();
}

#[test]
fn p_in_the_view_promotes_the_selected_rollout_once_confirmed() {
    if !tools(true) {
        return;
    }
    blue_green("ro-view");
    set_status("ro-view", PAUSED);
    let tmux = Tmux::start("e2e-rollouts", 140, 30);
    let command = format!(
        "{KOS} watch rollout/web -n ro-view --kubeconfig {} --timeout 5m",
        sim().kubeconfig.display()
    );
    tmux.keys(&[&command, "Enter"]);
    tmux.wait_for("the paused rollout", Duration::from_secs(30), |s| {
        s.contains("Paused: BlueGreenPause")
    });
    tmux.keys(&["P"]);
    tmux.wait_for("the question", Duration::from_secs(10), |s| {
        s.contains("Promote rollout web? y/n")
    });
    tmux.keys(&["y"]);
    tmux.wait_for("the answer", Duration::from_secs(10), |s| {
        s.contains("promote sent to rollout web")
    });
    // The plugin's patch reached the server: the pause conditions are gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let conditions = kubectl(&[
            "get",
            "rollout",
            "web",
            "-n",
            "ro-view",
            "-o",
            "jsonpath={.status.pauseConditions}",
        ]);
        if conditions.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still paused: {conditions}");
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["q"]);
}
