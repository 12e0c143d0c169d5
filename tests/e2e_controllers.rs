//! End to end: the controllers a real cluster runs beside the workload ones — the
//! HorizontalPodAutoscaler with its metrics, the disruption controller, Endpoints and
//! EndpointSlices, TTL-after-finished, an ingress controller and the aggregator's APIService
//! availability — act on `kos sim serve`
//! as on a real cluster, and `kos apply` reaches the verdict a real cluster would give.
//!
//! One simulated cluster is shared by the tests of this file (each test uses its own
//! namespace), running 20 times faster than real time.

// Kubernetes kind names (IngressClass, EndpointSlice) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

mod common;

use common::*;
use serde_json::Value;
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The shared cluster: fast, since an autoscaler waits a metrics scrape and a sync period.
fn cluster() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| Sim::start_at_speed("20", &[]))
}

/// `kos apply -f MANIFEST --output json` against the shared cluster: its output and report.
fn apply(yaml: &str, timeout: &str, stabilize: &str) -> (Output, Value) {
    let file = manifest(yaml);
    let path = file.path().to_str().expect("utf-8 path");
    let args = ["apply", "-f", path, "--output", "json"];
    let output = cluster()
        .kos(&args)
        .args(["--stabilize", stabilize, "--timeout", timeout])
        .output()
        .expect("run kos");
    let report = report(&output);
    (output, report)
}

/// The report's only object of `kind`.
fn the<'a>(report: &'a Value, kind: &str) -> &'a Value {
    let found = objects(report, kind);
    assert_eq!(found.len(), 1, "one {kind}: {report:#}");
    found[0]
}

/// Polls `path` on the API server until `done` holds for its answer (code and body), within
/// 20 s of real time.
fn until(path: &str, what: &str, done: impl Fn(u16, &str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, body) = cluster().get(path);
        if done(code, &body) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {code} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const SCALED: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ctl-scale}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{name: http, containerPort: 8080}]
        resources: {requests: {cpu: 100m}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ctl-scale}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ctl-scale}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: ctl-scale}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
";

#[test]
fn an_autoscaled_deployment_with_a_budget_and_a_service_rolls_out() {
    // The autoscaler lacks metrics for a scrape and a sync after its start
    // (FailedGetResourceMetric, which kos counts as a failure while it lasts): about 30
    // simulated seconds, which the window of 60 outlasts.
    let (output, report) = apply(&(namespace("ctl-scale") + SCALED), "60s", "3s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let hpa = the(&report, "HorizontalPodAutoscaler");
    assert_eq!(hpa["status"], "success", "{hpa}");
    let pdb = the(&report, "PodDisruptionBudget");
    assert_eq!(
        (&pdb["status"], &pdb["message"]),
        (&"success".into(), &"1 disruption allowed".into()),
        "{pdb}"
    );
    // Scaled to the autoscaler's minimum, not the manifest's one replica.
    let deployment = cluster().get_json("/apis/apps/v1/namespaces/ctl-scale/deployments/web");
    assert_eq!(deployment["spec"]["replicas"], 2, "{deployment}");
    let hpa = cluster()
        .get_json("/apis/autoscaling/v2/namespaces/ctl-scale/horizontalpodautoscalers/web");
    let active = hpa["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "ScalingActive"))
        .unwrap_or_else(|| panic!("no ScalingActive: {hpa}"));
    assert_eq!(active["reason"], "ValidMetricFound", "{hpa}");
    // The Service's endpoints: both pods, on the container port its target names.
    until(
        "/api/v1/namespaces/ctl-scale/endpoints/web",
        "two endpoints",
        |code, body| {
            let endpoints: Value = serde_json::from_str(body).unwrap_or_default();
            let subset = &endpoints["subsets"][0];
            code == 200
                && subset["addresses"].as_array().is_some_and(|a| a.len() == 2)
                && subset["ports"][0]["port"] == 8080
        },
    );
    let slices = cluster().get_json(
        "/apis/discovery.k8s.io/v1/namespaces/ctl-scale/endpointslices\
         ?labelSelector=kubernetes.io/service-name%3Dweb",
    );
    assert_eq!(
        slices["items"].as_array().map(Vec::len),
        Some(1),
        "{slices}"
    );
}

#[test]
fn a_finished_job_succeeds_and_is_then_deleted_by_its_ttl() {
    let yaml = namespace("ctl-ttl")
        + "apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: ctl-ttl}
spec:
  ttlSecondsAfterFinished: 20
  template:
    metadata: {annotations: {sim.kos.dev/exit-after: 1s}}
    spec:
      restartPolicy: Never
      containers: [{name: once, image: busybox:1.36}]
";
    let (output, report) = apply(&yaml, "60s", "0");
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert_eq!(the(&report, "Job")["status"], "success", "{report:#}");
    until(
        "/apis/batch/v1/namespaces/ctl-ttl/jobs/once",
        "the Job deleted",
        |code, _| code == 404,
    );
    until(
        "/api/v1/namespaces/ctl-ttl/pods",
        "its pod deleted",
        |code, body| {
            let pods: Value = serde_json::from_str(body).unwrap_or_default();
            code == 200 && pods["items"].as_array().is_some_and(Vec::is_empty)
        },
    );
}

#[test]
fn an_ingress_waits_for_a_class_whose_controller_runs() {
    let yaml = namespace("ctl-ingress")
        + "apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: ctl-nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: claimed, namespace: ctl-ingress}
spec:
  ingressClassName: ctl-nginx
  defaultBackend: {service: {name: web, port: {number: 80}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: unclaimed, namespace: ctl-ingress}
spec:
  ingressClassName: absent
  defaultBackend: {service: {name: web, port: {number: 80}}}
";
    let (output, report) = apply(&yaml, "5s", "0");
    assert_eq!(code(&output), 2, "a real cluster waits: {}", said(&output));
    let ingresses = objects(&report, "Ingress");
    let by_name = |name: &str| {
        ingresses
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("no Ingress {name}: {report:#}"))
    };
    let claimed = by_name("claimed");
    assert_eq!(
        (&claimed["status"], &claimed["message"]),
        (&"success".into(), &"Address localhost".into()),
        "{claimed}"
    );
    let unclaimed = by_name("unclaimed");
    assert_eq!(
        (&unclaimed["status"], &unclaimed["message"]),
        (&"in_progress".into(), &"Waiting for an address".into()),
        "{unclaimed}"
    );
}

/// An APIService `v1beta1.GROUP` served by Service `service` in `ns`.
fn api_service(group: &str, ns: &str, service: &str) -> String {
    format!(
        "---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  \
         name: v1beta1.{group}\nspec:\n  group: {group}\n  version: v1beta1\n  \
         service: {{name: {service}, namespace: {ns}, port: 443}}\n  \
         insecureSkipTLSVerify: true\n  groupPriorityMinimum: 100\n  versionPriority: 100\n"
    )
}

#[test]
fn an_aggregated_api_is_available_once_its_pods_are_ready_and_waits_without_them() {
    let ns = "aggregated";
    let server = format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: metrics\n  \
         namespace: {ns}\nspec:\n  selector:\n    matchLabels: {{app: metrics}}\n  \
         template:\n    metadata:\n      labels: {{app: metrics}}\n    spec:\n      \
         containers:\n      - name: server\n        image: registry.example/metrics:1.0\n        \
         ports: [{{name: https, containerPort: 4443}}]\n---\napiVersion: v1\nkind: Service\n\
         metadata:\n  name: metrics\n  namespace: {ns}\nspec:\n  selector: {{app: metrics}}\n  \
         ports: [{{name: https, port: 443, targetPort: https}}]\n"
    );
    let yaml = namespace(ns) + &server + &api_service("served.example.dev", ns, "metrics");
    let (output, report) = apply(&yaml, "60s", "0");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let api = the(&report, "APIService");
    assert_eq!(api["status"], "success", "{report:#}");
    assert_eq!(api["message"], "Available", "{report:#}");

    // Naming a Service that does not exist, it stays unavailable with the aggregator's
    // reason (its own cluster: an unavailable group is seen by every discovery).
    let sim = Sim::start_at_speed("20", &[]);
    let file =
        manifest(&(namespace("orphan") + &api_service("orphan.example.dev", "orphan", "gone")));
    let path = file.path().to_str().expect("utf-8 path");
    let output = sim
        .kos(&["apply", "-f", path, "--output", "json"])
        .args(["--stabilize", "0", "--timeout", "3s"])
        .output()
        .expect("run kos");
    assert_eq!(code(&output), 2, "{}", said(&output));
    let orphan = common::report(&output);
    let api = the(&orphan, "APIService");
    assert_eq!(api["status"], "in_progress", "{orphan:#}");
    assert!(
        api["message"]
            .as_str()
            .is_some_and(|m| m.contains("ServiceNotFound")),
        "{orphan:#}"
    );
}
