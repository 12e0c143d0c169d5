//! End to end: a batch that brings its own admission webhook — its Deployment and Service, a
//! CRD, a `ValidatingWebhookConfiguration` (`failurePolicy: Fail`) on the CRD's group and a custom
//! resource of it — applied in one run with the real `kos` binary against `kos sim serve`,
//! whose API server refuses what the webhook must see until the webhook's pods are ready.

mod common;

use common::*;

/// Namespace `NS`; Deployment and Service `checker` (its pods ready 20 simulated seconds
/// after they start); the CRD of `widgets.NS.example`; the webhook configuration that
/// sends every Widget write to `checker`; Widget `NS/one`. Each test names its own `NS`.
const BATCH: &str = "apiVersion: v1
kind: Namespace
metadata: {name: NS}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: checker, namespace: NS}
spec:
  replicas: 1
  selector: {matchLabels: {app: checker}}
  template:
    metadata:
      labels: {app: checker}
      annotations: {sim.kos.dev/start-delay: 20s}
    spec:
      containers: [{name: checker, image: checker:1.0, ports: [{containerPort: 8443}]}]
---
apiVersion: v1
kind: Service
metadata: {name: checker, namespace: NS}
spec:
  selector: {app: checker}
  ports: [{port: 443, targetPort: 8443}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.NS.example}
spec:
  group: NS.example
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: NS-checker}
webhooks:
- name: check.NS.example
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig:
    service: {namespace: NS, name: checker, path: /validate}
  rules:
  - operations: [CREATE, UPDATE]
    apiGroups: [NS.example]
    apiVersions: [v1]
    resources: [widgets]
---
apiVersion: NS.example/v1
kind: Widget
metadata: {name: one, namespace: NS}
spec: {size: 3}
";

fn batch(ns: &str) -> String {
    BATCH.replace("NS", ns)
}

/// The index of the first line of `lines` that contains every one of `words`.
fn line_of(lines: &[&str], words: &[&str]) -> Option<usize> {
    lines
        .iter()
        .position(|line| words.iter().all(|w| line.contains(w)))
}

#[test]
fn an_object_a_webhook_of_the_batch_intercepts_is_applied_once_the_webhook_is_ready() {
    let file = manifest(&batch("hooks"));
    let path = file.path().to_str().expect("utf-8 path");
    let args = [
        "apply",
        "-f",
        path,
        "--output",
        "plain",
        "--timeout",
        "60s",
        "--stabilize",
        "0s",
    ];
    let output = sim().kos(&args).output().expect("run kos");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    let waiting = line_of(
        &lines,
        &[
            "Widget hooks/one  in_progress  waiting for webhook check.hooks.example: \
             Service hooks/checker has no ready endpoints",
        ],
    );
    let pod_ready = line_of(&lines, &["Pod hooks/checker-", "success"]);
    // Its next line: `created` once applied, or its status once the watch sees it.
    let widget_applied = lines.iter().enumerate().position(|(i, line)| {
        Some(i) > waiting && line.contains("Widget hooks/one  ") && !line.contains("waiting")
    });
    let (Some(waiting), Some(pod_ready), Some(widget_applied)) =
        (waiting, pod_ready, widget_applied)
    else {
        panic!("a line is missing: {}", said(&output));
    };
    assert!(
        waiting < pod_ready && pod_ready < widget_applied,
        "the Widget waited for the webhook's pod: {}",
        said(&output)
    );

    // The server's truth: the Widget was created no earlier than the pod became ready.
    let widget = sim().get_json("/apis/hooks.example/v1/namespaces/hooks/widgets/one");
    let pods = sim().get_json("/api/v1/namespaces/hooks/pods?labelSelector=app%3Dchecker");
    let ready_at = pods["items"][0]["status"]["conditions"]
        .as_array()
        .expect("pod conditions")
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")
        .and_then(|c| c["lastTransitionTime"].as_str())
        .expect("the pod is ready")
        .to_owned();
    let created = widget["metadata"]["creationTimestamp"]
        .as_str()
        .expect("created")
        .to_owned();
    // RFC 3339 UTC timestamps of one format compare as text.
    assert!(
        created >= ready_at,
        "created {created}, pod ready {ready_at}"
    );
}

#[test]
fn a_webhook_not_ready_by_the_step_timeout_is_a_timeout_naming_it() {
    // The same batch in its own namespace and group, the webhook's pods far from ready.
    let yaml = batch("stuck").replace("start-delay: 20s", "start-delay: 10m");
    let file = manifest(&yaml);
    let path = file.path().to_str().expect("utf-8 path");
    let args = [
        "apply",
        "-f",
        path,
        "--output",
        "json",
        "--timeout",
        "4s",
        "--stabilize",
        "0s",
    ];
    let output = sim().kos(&args).output().expect("run kos");
    assert_eq!(code(&output), 2, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "timeout", "{report:#}");
    let widgets = objects(&report, "Widget");
    assert_eq!(widgets.len(), 1, "{report:#}");
    assert_eq!(widgets[0]["status"], "in_progress", "{report:#}");
    assert_eq!(
        widgets[0]["message"],
        "waiting for webhook check.stuck.example: Service stuck/checker has no ready endpoints"
    );
    assert!(widgets[0]["action"].is_null(), "not applied: {report:#}");
    let digest = report["digest"].to_string();
    assert!(
        digest.contains("waiting for webhook check.stuck.example"),
        "{digest}"
    );
    let (code, _) = sim().get("/apis/stuck.example/v1/namespaces/stuck/widgets/one");
    assert_eq!(code, 404, "the Widget was not applied");
}
