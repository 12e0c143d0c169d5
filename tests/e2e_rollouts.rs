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

/// Installs the CRDs (`Rollout` and `AnalysisRun`) once per test process and waits until they
/// are served.
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
            "crd/analysisruns.argoproj.io",
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

/// Gives the Rollout `web` in `ns` a new image: a new revision to roll out.
fn new_image(ns: &str) {
    let patch =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}"#;
    kubectl(&[
        "patch", "rollout", "web", "-n", ns, "--type", "merge", "-p", patch,
    ]);
}

/// Gives the Rollout `web` in `ns` a new image and waits until the controller has seen it:
/// the new revision's pod template hash.
fn new_revision(ns: &str) -> String {
    let stable = rollout_field(ns, ".status.currentPodHash");
    new_image(ns);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = rollout_field(ns, ".status.currentPodHash");
        if current != stable {
            return current;
        }
        assert!(Instant::now() < deadline, "no new revision of {ns}/web");
        std::thread::sleep(Duration::from_millis(100));
    }
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
    rollout_with_services(
        ns,
        "",
        "{blueGreen: {activeService: web, previewService: web-preview, \
         autoPromotionEnabled: false}}",
    );
    new_image(ns);
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

/// A Service `name` in `ns` selecting the pods labelled `app: APP`, after a document
/// separator.
fn service(ns: &str, name: &str, app: &str) -> String {
    format!(
        "---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{app: {app}}}
  ports: [{{port: 80}}]
"
    )
}

/// A Rollout `web` in `ns` with `annotations` and `strategy` (YAML flow maps), two replicas
/// of `nginx:1.26`, and the Services `web` and `web-preview` its strategy may name.
fn rollout_with_services(ns: &str, annotations: &str, strategy: &str) {
    install_crd();
    kubectl_apply(&format!(
        "{}apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: web, namespace: {ns}, annotations: {{{annotations}}}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  strategy: {strategy}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: 'nginx:1.26'}}]}}
{}{}",
        namespace(ns),
        service(ns, "web", "web"),
        service(ns, "web-preview", "web"),
    ));
    wait_for_field(ns, ".status.phase", "Healthy");
}

#[test]
fn a_rollouts_services_and_its_pre_promotion_analysis_hang_under_it() {
    if !tools(false) {
        return;
    }
    let ns = "ro-pre";
    rollout_with_services(
        ns,
        "",
        "{blueGreen: {activeService: web, previewService: web-preview, \
         prePromotionAnalysis: {templates: [{templateName: smoke}]}}}",
    );
    // Following: the rollout is healthy before its new revision comes.
    let run = Running::start(&[
        "watch",
        "rollout/web",
        "-n",
        ns,
        "--stabilize",
        "0",
        "--follow",
        "--output",
        "plain",
    ]);
    let stable = rollout_field(ns, ".status.stableRS");
    run.wait_for("the Services under the Rollout, routing to its ReplicaSet", |l| {
        has(
            l,
            &format!("Service {ns}/web  success  active of Rollout web → ReplicaSet web-{stable}"),
        ) && has(
            l,
            &format!("Service {ns}/web-preview  success  preview of Rollout web → ReplicaSet web-{stable}"),
        )
    });
    let current = new_revision(ns);
    run.wait_for("the analysis running before promotion", |l| {
        has(
            l,
            &format!("AnalysisRun {ns}/web-{current}-2-pre  in_progress  Running"),
        )
    });
    run.wait_for("the analysis passed and the active Service promoted", |l| {
        has(l, &format!("AnalysisRun {ns}/web-{current}-2-pre  success"))
            && has(
                l,
                &format!(
                    "Service {ns}/web  success  active of Rollout web → ReplicaSet web-{current}"
                ),
            )
    });
    run.interrupt();
    run.finish();
    let run = kubectl(&[
        "get",
        "analysisrun",
        "-n",
        ns,
        "-o",
        "jsonpath={.items[0].metadata.ownerReferences[0].name} {.items[0].status.phase}",
    ]);
    assert_eq!(run, "web Successful");
}

#[test]
fn a_failed_canary_analysis_aborts_the_rollout_naming_its_run() {
    if !tools(false) {
        return;
    }
    let ns = "ro-fail";
    rollout_with_services(
        ns,
        "sim.kos.dev/analysis: fail",
        "{canary: {canaryService: web-preview, stableService: web, steps: [{setWeight: 50}, \
         {analysis: {templates: [{templateName: smoke}]}}, {setWeight: 100}]}}",
    );
    let current = new_revision(ns);
    let output = sim()
        .kos(&[
            "watch",
            "rollout/web",
            "-n",
            ns,
            "--stabilize",
            "0",
            "--timeout",
            "2m",
            "--output",
            "plain",
        ])
        .output()
        .expect("kos runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let run = format!("web-{current}-2-1");
    let aborted = format!(
        "RolloutAborted: Rollout aborted update to revision 2: AnalysisRun \"{run}\" Failed"
    );
    // The run fails first, then the Rollout aborts; they come on separate watches, so kos
    // may end on either, and either names the run.
    let run_failed =
        format!("AnalysisRun {ns}/{run}  failed  Failed: Metric \"sim\" assessed Failed");
    let rollout_failed = format!("Rollout {ns}/web  failed  {aborted}");
    assert!(
        stdout.contains(&run_failed) || stdout.contains(&rollout_failed),
        "{run_failed:?} or {rollout_failed:?} in {stdout}"
    );
    for text in [
        format!("Service {ns}/web-preview  success  canary of Rollout web"),
        "outcome: failed".to_owned(),
    ] {
        assert!(stdout.contains(&text), "{text:?} in {stdout}");
    }
    wait_for_field(ns, ".status.message", &aborted);
    wait_for_field(ns, ".status.phase", "Degraded");
}

#[test]
fn a_service_waits_for_ready_pods_of_a_workload_applied_with_it_and_no_other() {
    if !tools(false) {
        return;
    }
    let ns = "svc-counts";
    // The Deployment is done once it exists; its pods never become ready.
    let file = manifest(&format!(
        "{}apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
  annotations: {{kos.dev/wait-for: exists}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web}}
      annotations: {{sim.kos.dev/readiness: fail}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        readinessProbe: {{httpGet: {{path: /ready, port: 80}}, periodSeconds: 1}}
{}{}",
        namespace(ns),
        service(ns, "web", "web"),
        service(ns, "elsewhere", "another-release"),
    ));
    let output = sim()
        .kos(&[
            "apply",
            "-f",
            file.path().to_str().expect("utf-8 path"),
            "--stabilize",
            "0",
            "--timeout",
            "15s",
            "--output",
            "json",
        ])
        .output()
        .expect("kos runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(output.status.code(), Some(2), "{report:#}");
    let slices = |owner: &str| -> Vec<serde_json::Value> {
        report["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["kind"] == "EndpointSlice" && o["owner"] == owner)
            .cloned()
            .collect()
    };
    let web = slices("Service/web");
    assert!(!web.is_empty(), "{report:#}");
    for slice in &web {
        assert_eq!(slice["counted"], true, "{slice:#}");
        assert_eq!(slice["status"], "in_progress", "{slice:#}");
        assert!(
            slice["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("No ready pod: 2 not ready (web-")),
            "{slice:#}"
        );
    }
    for slice in slices("Service/elsewhere") {
        assert_eq!(slice["counted"], false, "{slice:#}");
    }
}
