//! End to end: blue/green rollouts against `kos sim serve` and its Rollout controller,
//! installed with the CRD kos ships (`assets/crds/argo-rollouts.yaml`), as the real
//! install does. kos must judge, draw and promote a paused rollout as it would on a cluster
//! running Argo Rollouts. A plain Service's selector switch needs no controller: the
//! simulator keeps its `EndpointSlices`.
//! Skips (with the reason) without kubectl or tmux; fails instead under `KOS_REQUIRE_E2E=1`.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

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
        let crd = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/crds/argo-rollouts.yaml"
        );
        kubectl(&["apply", "-f", crd]);
        kubectl(&[
            "wait",
            "--for",
            "condition=established",
            "crd/rollouts.argoproj.io",
        ]);
    });
}

/// The Rollout's field at `path` (a jsonpath), as kubectl prints it.
fn rollout_field(ns: &str, path: &str) -> String {
    kubectl(&[
        "get",
        "rollout",
        "web",
        "-n",
        ns,
        "-o",
        &format!("jsonpath={{{path}}}"),
    ])
}

/// Polls until the Rollout's `path` reads `expected` (the controller works in the background).
fn wait_for_field(ns: &str, path: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = rollout_field(ns, path);
        if value.trim() == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} of rollout {ns}/web is {value:?}, not {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A blue/green Rollout `web` in `ns` with its active Service `web` and preview Service
/// `web-preview`, rolled out (Healthy), then given a new image: the controller brings up
/// the preview `ReplicaSet` and pauses before promotion (`autoPromotionEnabled: false`).
fn paused_blue_green(ns: &str) {
    install_crd();
    kubectl_apply(&format!(
        "{}apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  strategy:
    blueGreen: {{activeService: web, previewService: web-preview, autoPromotionEnabled: false}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: 'nginx:1.26'}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web-preview, namespace: {ns}}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
",
        namespace(ns)
    ));
    wait_for_field(ns, ".status.phase", "Healthy");
    let patch =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}"#;
    kubectl(&[
        "patch", "rollout", "web", "-n", ns, "--type", "merge", "-p", patch,
    ]);
    wait_for_field(ns, ".status.pauseConditions[0].reason", "BlueGreenPause");
}

/// What `kubectl argo rollouts promote` sends to a paused blue/green rollout.
fn promote(ns: &str) {
    kubectl(&[
        "patch",
        "rollout",
        "web",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"pauseConditions":null}}"#,
    ]);
}

fn has(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}

#[test]
fn a_paused_blue_green_rollout_is_suspended_until_promoted_then_succeeds() {
    if !tools(false) {
        return;
    }
    paused_blue_green("ro-watch");
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
    let preview = rollout_field("ro-watch", ".status.currentPodHash");
    let active = rollout_field("ro-watch", ".status.stableRS");
    assert_ne!(preview, active);
    run.wait_for("the pause with its reason", |l| {
        has(
            l,
            &format!("Paused: BlueGreenPause · preview {preview}: 2/2 updated · active → {active}"),
        )
    });
    // Both the preview and the active ReplicaSet count while paused: their pods show.
    run.wait_for("the pods of both ReplicaSets", |l| {
        has(l, &format!("Pod ro-watch/web-{preview}-"))
            && has(l, &format!("Pod ro-watch/web-{active}-"))
    });
    promote("ro-watch");
    let (exit, lines) = run.finish();
    assert_eq!(exit, Some(0), "{lines:#?}");
    assert!(
        has(&lines, &format!("Healthy · active → {preview}")),
        "{lines:#?}"
    );
    assert!(has(&lines, "outcome: success"), "{lines:#?}");
}

#[test]
fn a_services_selector_switch_moves_it_from_blues_pods_to_greens() {
    if !tools(false) {
        return;
    }
    let ns = "ro-switch";
    // Two Deployments, blue and green, and a Service switched from one to the other.
    let colour = |version: &str| {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web-{version}, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web, version: {version}}}}}
  template:
    metadata: {{labels: {{app: web, version: {version}}}}}
    spec: {{containers: [{{name: web, image: 'nginx:1.27'}}]}}
---
"
        )
    };
    kubectl_apply(&format!(
        "{}{}{}apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}}}
spec:
  selector: {{app: web, version: blue}}
  ports: [{{port: 80}}]
",
        namespace(ns),
        colour("blue"),
        colour("green")
    ));
    let run = Running::start(&[
        "watch",
        "service/web",
        "-n",
        ns,
        "--stabilize",
        "0",
        "--follow",
        "--output",
        "plain",
    ]);
    run.wait_for("the Service on blue's pods", |l| {
        has(l, "→ 2 ready pods (web-blue-")
    });
    // What `kubectl patch service web -p '{"spec":{"selector":{"version":V}}}'` does.
    let switch = |version: &str| {
        let patch = format!(r#"{{"spec":{{"selector":{{"version":"{version}"}}}}}}"#);
        kubectl(&["patch", "service", "web", "-n", ns, "-p", &patch]);
    };
    switch("green");
    run.wait_for("the Service on green's pods", |l| {
        has(l, "→ 2 ready pods (web-green-")
    });
    // A selector nothing matches: in progress, saying why.
    switch("none");
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
    paused_blue_green("ro-view");
    let preview = rollout_field("ro-view", ".status.currentPodHash");
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
    // The plugin's patch reached the server: the controller promotes the preview.
    wait_for_field("ro-view", ".status.blueGreen.activeSelector", &preview);
    tmux.wait_for("the promoted rollout", Duration::from_secs(30), |s| {
        s.contains(&format!("Healthy · active → {preview}"))
    });
    tmux.keys(&["q"]);
}
