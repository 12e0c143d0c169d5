//! The simulated cluster's controllers and kubelet, driven through the in-process store:
//! objects are created directly in a `Store` with `controllers::spawn` running on a fast
//! clock, and every test waits — on the store's change feed, with a deadline — for what a
//! real cluster would show.

// The helpers below are test code too: a failed lookup is a failed test.
#![allow(clippy::unwrap_used)]

use kos_sim::clock::Clock;
use kos_sim::controllers;
use kos_sim::logs::{LogKey, Logs};
use kos_sim::store::{Event, Object, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;

/// Real time a test may wait for one condition.
const DEADLINE: Duration = Duration::from_secs(20);

struct Sim {
    store: Arc<Store>,
    logs: Logs,
    _tasks: JoinSet<()>,
}

fn sim(speed: f64) -> Sim {
    let store = Arc::new(Store::default());
    let logs = Logs::default();
    let tasks = controllers::spawn(store.clone(), logs.clone(), Clock::new(speed));
    Sim {
        store,
        logs,
        _tasks: tasks,
    }
}

impl Sim {
    fn create(&self, resource: &str, object: Value) -> Object {
        self.store.create(resource, object).unwrap()
    }

    /// Waits until Deployment `name` has rolled out completely.
    async fn rolled_out(&self, name: &str) {
        self.wait_for("the rollout", |s| {
            rolled_out(&s.get("deployments.apps", name)).then_some(())
        })
        .await;
    }

    fn get(&self, resource: &str, name: &str) -> Object {
        self.store.get(resource, "ns", name).unwrap()
    }

    fn list(&self, resource: &str) -> Vec<Object> {
        self.store.list(resource, Some("ns")).0
    }

    /// Waits until `check` finds what it looks for in the store, re-checking on every change.
    async fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&Sim) -> Option<T>) -> T {
        let (_, _, mut feed) = self.store.list_and_watch("pods", None);
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            match tokio::time::timeout_at(deadline, feed.recv()).await {
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
                Ok(Err(RecvError::Closed)) => panic!("the store closed while waiting for {what}"),
                Err(elapsed) => panic!("{elapsed} waiting for {what}"),
            }
        }
    }

    /// Waits until a change for which `check` is true, and returns it.
    async fn wait_event(&self, what: &str, mut check: impl FnMut(&Event) -> bool) -> Arc<Event> {
        let (_, _, mut feed) = self.store.list_and_watch("pods", None);
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            match tokio::time::timeout_at(deadline, feed.recv()).await {
                Ok(Ok(event)) if check(&event) => return event,
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
                Ok(Err(RecvError::Closed)) => panic!("the store closed while waiting for {what}"),
                Err(elapsed) => panic!("{elapsed} waiting for {what}"),
            }
        }
    }

    fn events_about(&self, name: &str) -> Vec<Object> {
        self.list("events")
            .into_iter()
            .filter(|e| e["involvedObject"]["name"] == name)
            .collect()
    }

    fn reasons_about(&self, name: &str) -> Vec<String> {
        self.events_about(name)
            .iter()
            .map(|e| e["reason"].as_str().unwrap().to_owned())
            .collect()
    }

    fn pods_of(&self, owner_uid: &str) -> Vec<Object> {
        self.list("pods")
            .into_iter()
            .filter(|p| {
                p["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["uid"] == owner_uid))
            })
            .collect()
    }
}

fn template(app: &str, image: &str, annotations: &Value) -> Value {
    json!({
        "metadata": {"labels": {"app": app}, "annotations": annotations},
        "spec": {"containers": [{"name": "app", "image": image}]},
    })
}

fn deployment(name: &str, replicas: i64, image: &str, annotations: &Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template(name, image, annotations),
        },
    })
}

/// Tolerations of every taint (the control plane's too), as kube-proxy's daemon set has.
fn everywhere() -> Value {
    json!([{"operator": "Exists"}])
}

fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn ready(pod: &Value) -> bool {
    condition(pod, "Ready").is_some_and(|c| c["status"] == "True")
}

fn container(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]
}

/// A rollout is done the way `kubectl rollout status` decides it.
fn rolled_out(d: &Value) -> bool {
    let spec = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let status = |f: &str| d["status"][f].as_i64().unwrap_or(0);
    d["metadata"]["generation"] == d["status"]["observedGeneration"]
        && status("updatedReplicas") == spec
        && status("replicas") == spec
        && status("availableReplicas") == spec
}

mod deployments {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deployment_becomes_available_with_one_replica_set_and_ready_pods() {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("web", 3, "nginx:1.25", &json!({})),
        );
        sim.rolled_out("web").await;
        let d = sim.get("deployments.apps", "web");
        let available = condition(&d, "Available").unwrap();
        assert_eq!(available["reason"], "MinimumReplicasAvailable");
        let progressing = condition(&d, "Progressing").unwrap();
        assert_eq!(progressing["reason"], "NewReplicaSetAvailable");
        assert_eq!(
            d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "1"
        );
        let sets = sim.list("replicasets.apps");
        assert_eq!(sets.len(), 1);
        let rs = &sets[0];
        let hash = rs["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .unwrap();
        assert_eq!(rs["metadata"]["name"], format!("web-{hash}"));
        assert_eq!(
            rs["metadata"]["ownerReferences"][0]["uid"],
            d["metadata"]["uid"]
        );
        assert_eq!(rs["status"]["readyReplicas"], 3);
        let pods = sim.pods_of(rs["metadata"]["uid"].as_str().unwrap());
        assert_eq!(pods.len(), 3);
        for pod in &pods {
            assert!(ready(pod), "{pod}");
            assert_eq!(pod["status"]["phase"], "Running");
            assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], hash);
            assert!(
                pod["spec"]["nodeName"]
                    .as_str()
                    .unwrap()
                    .starts_with("sim-node-")
            );
            assert!(pod["status"]["podIP"].is_string());
            assert!(container(pod)["state"]["running"]["startedAt"].is_string());
            assert!(
                container(pod)["containerID"]
                    .as_str()
                    .unwrap()
                    .starts_with("containerd://")
            );
            let reasons = sim.reasons_about(pod["metadata"]["name"].as_str().unwrap());
            for reason in ["Scheduled", "Pulled", "Created", "Started"] {
                assert!(
                    reasons.iter().any(|r| r == reason),
                    "{reason} in {reasons:?}"
                );
            }
        }
        assert!(
            sim.reasons_about("web")
                .iter()
                .any(|r| r == "ScalingReplicaSet")
        );
        let rs_name = rs["metadata"]["name"].as_str().unwrap();
        assert!(
            sim.reasons_about(rs_name)
                .iter()
                .any(|r| r == "SuccessfulCreate")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_template_change_rolls_to_a_new_replica_set() {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("web", 3, "nginx:1.25", &json!({})),
        );
        sim.rolled_out("web").await;
        sim.store
            .mutate("deployments.apps", "ns", "web", |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
            })
            .unwrap();
        sim.wait_for("second rollout", |s| {
            let d = s.get("deployments.apps", "web");
            (rolled_out(&d)
                && d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2")
                .then_some(())
        })
        .await;
        let sets = sim.list("replicasets.apps");
        assert_eq!(sets.len(), 2);
        let old = sets
            .iter()
            .find(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1")
            .unwrap();
        let new = sets
            .iter()
            .find(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2")
            .unwrap();
        assert_eq!(old["spec"]["replicas"], 0);
        assert_eq!(new["spec"]["replicas"], 3);
        // The old pods go away; every remaining pod runs the new image.
        sim.wait_for("old pods gone", |s| {
            s.pods_of(old["metadata"]["uid"].as_str().unwrap())
                .is_empty()
                .then_some(())
        })
        .await;
        let scaled: Vec<String> = sim
            .events_about("web")
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            scaled
                .iter()
                .any(|m| m.starts_with("Scaled down replica set")),
            "{scaled:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rollback_reuses_the_old_replica_set_as_the_newest_revision() {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("web", 2, "nginx:1.25", &json!({})),
        );
        let revision = |s: &Sim| {
            s.get("deployments.apps", "web")["metadata"]["annotations"]
                ["deployment.kubernetes.io/revision"]
                .as_str()
                .map(str::to_owned)
        };
        sim.rolled_out("web").await;
        let set_image = |image: &str| {
            sim.store
                .mutate("deployments.apps", "ns", "web", |d| {
                    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
                    // As `kubectl rollout undo` sends it.
                    d["spec"]["template"]["metadata"]["creationTimestamp"] = Value::Null;
                })
                .unwrap();
        };
        set_image("nginx:1.26");
        sim.wait_for("revision 2", |s| {
            let d = s.get("deployments.apps", "web");
            (rolled_out(&d) && revision(s).as_deref() == Some("2")).then_some(())
        })
        .await;
        set_image("nginx:1.25");
        sim.wait_for("revision 3", |s| {
            let d = s.get("deployments.apps", "web");
            (rolled_out(&d) && revision(s).as_deref() == Some("3")).then_some(())
        })
        .await;
        let sets = sim.list("replicasets.apps");
        assert_eq!(sets.len(), 2, "the first ReplicaSet came back");
        let back = sets
            .iter()
            .find(|rs| rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25")
            .unwrap();
        assert_eq!(
            back["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "3"
        );
        assert_eq!(back["spec"]["replicas"], 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recreate_stops_every_old_pod_before_starting_new_ones() {
        let sim = sim(50.0);
        let mut d = deployment("web", 2, "nginx:1.25", &json!({}));
        d["spec"]["strategy"] = json!({"type": "Recreate"});
        sim.create("deployments.apps", d);
        sim.rolled_out("web").await;
        sim.store
            .mutate("deployments.apps", "ns", "web", |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
            })
            .unwrap();
        // Never an old and a new pod alive at once.
        let mut mixed = false;
        sim.wait_for("recreated", |s| {
            let images: Vec<String> = s
                .list("pods")
                .iter()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .map(|p| {
                    p["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            mixed |= images.iter().any(|i| i == "nginx:1.25")
                && images.iter().any(|i| i == "nginx:1.26");
            let d = s.get("deployments.apps", "web");
            (rolled_out(&d)
                && d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2")
                .then_some(())
        })
        .await;
        assert!(!mixed, "Recreate ran old and new pods together");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_paused_deployment_does_not_roll_until_resumed() {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("web", 2, "nginx:1.25", &json!({})),
        );
        sim.rolled_out("web").await;
        sim.store
            .mutate("deployments.apps", "ns", "web", |d| {
                d["spec"]["paused"] = json!(true);
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
            })
            .unwrap();
        sim.wait_for("paused condition", |s| {
            let d = s.get("deployments.apps", "web");
            condition(&d, "Progressing")
                .is_some_and(|c| c["reason"] == "DeploymentPaused" && c["status"] == "Unknown")
                .then_some(())
        })
        .await;
        assert_eq!(
            sim.list("replicasets.apps").len(),
            1,
            "no new ReplicaSet while paused"
        );
        sim.store
            .mutate("deployments.apps", "ns", "web", |d| {
                d["spec"]["paused"] = json!(false);
            })
            .unwrap();
        sim.wait_for("rolled after resume", |s| {
            let d = s.get("deployments.apps", "web");
            (rolled_out(&d) && s.list("replicasets.apps").len() == 2).then_some(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_image_exceeds_the_progress_deadline() {
        let sim = sim(50.0);
        let mut d = deployment("web", 1, "nginx:doesnotexist", &json!({}));
        d["spec"]["progressDeadlineSeconds"] = json!(20);
        sim.create("deployments.apps", d);
        sim.wait_event("ErrImagePull", |e| {
            e.resource == "pods"
                && container(&e.object())["state"]["waiting"]["reason"] == "ErrImagePull"
        })
        .await;
        let pod = sim
            .wait_for("ImagePullBackOff", |s| {
                s.list("pods")
                    .into_iter()
                    .find(|p| container(p)["state"]["waiting"]["reason"] == "ImagePullBackOff")
            })
            .await;
        assert_eq!(
            container(&pod)["state"]["waiting"]["message"],
            "Back-off pulling image \"nginx:doesnotexist\""
        );
        let d = sim
            .wait_for("ProgressDeadlineExceeded", |s| {
                let d = s.get("deployments.apps", "web");
                condition(&d, "Progressing")
                    .is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded")
                    .then_some(d)
            })
            .await;
        assert_eq!(condition(&d, "Progressing").unwrap()["status"], "False");
        assert_eq!(condition(&d, "Available").unwrap()["status"], "False");
        let events = sim.events_about(pod["metadata"]["name"].as_str().unwrap());
        assert!(
            events
                .iter()
                .any(|e| e["reason"] == "Failed" && e["type"] == "Warning")
        );
        assert!(events.iter().any(|e| e["reason"] == "BackOff"));
    }
}

mod pods {
    use super::*;

    fn single(sim: &Sim, annotations: &Value) -> Object {
        sim.create(
            "deployments.apps",
            deployment("app", 1, "nginx:1.25", annotations),
        )
    }

    fn first_pod(sim: &Sim) -> Option<Object> {
        sim.list("pods")
            .into_iter()
            .find(|p| p["metadata"]["deletionTimestamp"].is_null())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_crashing_container_loops_with_back_off_and_keeps_its_previous_log() {
        let sim = sim(100.0);
        single(&sim, &json!({"sim.kos.dev/crash-after": "2s"}));
        let pod = sim
            .wait_for("two restarts in CrashLoopBackOff", |s| {
                first_pod(s).filter(|p| {
                    container(p)["restartCount"].as_i64() >= Some(2)
                        && container(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
                })
            })
            .await;
        let status = container(&pod);
        assert_eq!(status["lastState"]["terminated"]["exitCode"], 1);
        assert_eq!(status["lastState"]["terminated"]["reason"], "Error");
        assert!(
            status["state"]["waiting"]["message"]
                .as_str()
                .unwrap()
                .starts_with("back-off 20s")
        );
        let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
        let previous = sim.logs.read(&LogKey {
            namespace: "ns".into(),
            pod: name.clone(),
            container: "app".into(),
            instance: 1,
        });
        assert!(
            previous.last().unwrap().text.contains("fatal"),
            "{previous:?}"
        );
        let back_off = sim
            .events_about(&name)
            .into_iter()
            .find(|e| e["reason"] == "BackOff")
            .unwrap();
        assert_eq!(back_off["type"], "Warning");
        assert!(
            back_off["count"].as_i64().unwrap() >= 2,
            "repeats bump count"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pull_failures_recover() {
        let sim = sim(100.0);
        single(&sim, &json!({"sim.kos.dev/pull-failures": "2"}));
        let pod = sim
            .wait_for("ready", |s| first_pod(s).filter(|p| ready(p)))
            .await;
        let name = pod["metadata"]["name"].as_str().unwrap();
        let pulling = sim
            .events_about(name)
            .into_iter()
            .find(|e| e["reason"] == "Pulling")
            .unwrap();
        assert_eq!(pulling["count"], 3, "two failed pulls and one that worked");
    }

    /// A passing readiness probe first succeeds `initialDelaySeconds` after the container
    /// starts: until then the pod runs, not ready (metrics-server waits 20 s, ingress-nginx's
    /// controller 10 s).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_readiness_probe_keeps_the_pod_unready_for_its_initial_delay() {
        // 20 simulated seconds are 2 s at speed 10.
        let sim = sim(10.0);
        let mut probed = deployment("app", 1, "nginx:1.25", &json!({}));
        probed["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] =
            json!({"httpGet": {"path": "/ready", "port": 80}, "initialDelaySeconds": 20});
        sim.create("deployments.apps", probed);
        sim.wait_for("running", |s| {
            first_pod(s).filter(|p| container(p)["state"]["running"].is_object())
        })
        .await;
        let running = std::time::Instant::now();
        sim.wait_for("ready", |s| first_pod(s).filter(|p| ready(p)))
            .await;
        let waited = running.elapsed();
        assert!(
            waited >= Duration::from_millis(1_800),
            "ready {waited:?} after it started, before its probe's 20 s (2 s here)"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ready_failures_fall_back_then_stay_ready() {
        let sim = sim(100.0);
        single(&sim, &json!({"sim.kos.dev/ready-failures": "1"}));
        let mut seen = Vec::new();
        sim.wait_event("ready, unready, ready again", |e| {
            if e.resource != "pods" {
                return false;
            }
            let now = ready(&e.object());
            if seen.last() != Some(&now) {
                seen.push(now);
            }
            seen.ends_with(&[true, false, true])
        })
        .await;
        let pod = first_pod(&sim).unwrap();
        assert!(
            sim.reasons_about(pod["metadata"]["name"].as_str().unwrap())
                .contains(&"Unhealthy".to_owned())
        );
    }

    /// The store keeps objects as text and hands out a decoded pod again only while someone
    /// holds it: a kubelet that kept each pod's last written version decoded was most of the
    /// server's memory at thousands of pods (issue 3). (That a task lets go of the pod it
    /// started with is tested beside it, in `sim::kubelet::pod`.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_running_pod_is_not_held_decoded_by_the_kubelet() {
        let sim = sim(100.0);
        sim.create(
            "pods",
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "bare", "namespace": "ns"},
                   "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}),
        );
        sim.wait_for("the pod Ready", |s| {
            ready(&s.get("pods", "bare")).then_some(())
        })
        .await;
        // The kubelet's last write may still be returning: a copy held for good never goes.
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let pod = sim.get("pods", "bare");
            if Arc::strong_count(&pod) == 1 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "a decoded copy of the running pod is held for good"
            );
            drop(pod);
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pod_turns_running_in_the_write_that_starts_its_containers() {
        let sim = sim(50.0);
        single(&sim, &json!({}));
        let started = sim
            .wait_event("a pod whose containers all run", |e| {
                e.resource == "pods"
                    && e.object()["status"]["containerStatuses"]
                        .as_array()
                        .is_some_and(|c| {
                            !c.is_empty() && c.iter().all(|c| c["state"]["running"].is_object())
                        })
            })
            .await;
        // Pending here would show as `Pending` between ContainerCreating and Running.
        assert_eq!(started.object()["status"]["phase"], "Running");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_config_map_holds_the_container_until_it_exists() {
        let sim = sim(50.0);
        let mut d = deployment("app", 1, "nginx:1.25", &json!({}));
        d["spec"]["template"]["spec"]["containers"][0]["envFrom"] =
            json!([{"configMapRef": {"name": "app-settings"}}]);
        sim.create("deployments.apps", d);
        let waiting = sim
            .wait_for("CreateContainerConfigError", |s| {
                first_pod(s).filter(|p| {
                    container(p)["state"]["waiting"]["reason"] == "CreateContainerConfigError"
                })
            })
            .await;
        assert_eq!(
            container(&waiting)["state"]["waiting"]["message"],
            "configmap \"app-settings\" not found"
        );
        assert_eq!(waiting["status"]["phase"], "Pending");
        sim.create(
            "configmaps",
            json!({"metadata": {"name": "app-settings", "namespace": "ns"}, "data": {}}),
        );
        sim.rolled_out("app").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_secret_volume_fails_to_mount_and_the_pod_stays_creating() {
        let sim = sim(50.0);
        let mut d = deployment("app", 1, "nginx:1.25", &json!({}));
        d["spec"]["template"]["spec"]["volumes"] =
            json!([{"name": "certs", "secret": {"secretName": "app-tls"}}]);
        sim.create("deployments.apps", d);
        let pod = sim.wait_for("a pod", first_pod).await;
        let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
        let event = sim
            .wait_for("FailedMount", |s| {
                s.events_about(&name)
                    .into_iter()
                    .find(|e| e["reason"] == "FailedMount")
            })
            .await;
        assert_eq!(event["type"], "Warning");
        assert_eq!(
            event["message"],
            "MountVolume.SetUp failed for volume \"certs\" : secret \"app-tls\" not found"
        );
        let pod = sim.get("pods", &name);
        assert_eq!(
            container(&pod)["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
        assert_eq!(pod["status"]["phase"], "Pending");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_service_account_fails_the_replica_set_with_no_pods() {
        let sim = sim(50.0);
        let mut d = deployment("app", 2, "nginx:1.25", &json!({}));
        d["spec"]["template"]["spec"]["serviceAccountName"] = json!("builder");
        sim.create("deployments.apps", d);
        let deployment = sim
            .wait_for("ReplicaFailure on the Deployment", |s| {
                let d = s.get("deployments.apps", "app");
                condition(&d, "ReplicaFailure").is_some().then_some(d)
            })
            .await;
        let failure = condition(&deployment, "ReplicaFailure").unwrap();
        assert_eq!(failure["reason"], "FailedCreate");
        let message = failure["message"].as_str().unwrap();
        assert!(
            message.starts_with("pods \"app-")
                && message.ends_with(
                    "\" is forbidden: error looking up service account ns/builder: \
                     serviceaccount \"builder\" not found"
                ),
            "{message}"
        );
        assert!(sim.list("pods").is_empty());
        sim.create(
            "serviceaccounts",
            json!({"metadata": {"name": "builder", "namespace": "ns"}}),
        );
        sim.rolled_out("app").await;
        let d = sim.get("deployments.apps", "app");
        assert!(condition(&d, "ReplicaFailure").is_none(), "{d}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_invalid_image_name_is_never_pulled() {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("bad", 1, "Nginx:Latest", &json!({})),
        );
        let pod = sim
            .wait_for("InvalidImageName", |s| {
                s.list("pods")
                    .into_iter()
                    .find(|p| container(p)["state"]["waiting"]["reason"] == "InvalidImageName")
            })
            .await;
        assert!(
            container(&pod)["state"]["waiting"]["message"]
                .as_str()
                .unwrap()
                .ends_with("repository name (library/Nginx) must be lowercase")
        );
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert!(!sim.reasons_about(name).contains(&"Pulling".to_owned()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pod_larger_than_any_node_stays_pending_in_the_schedulers_words() {
        let sim = sim(100.0);
        let mut d = deployment("big", 1, "nginx:1.25", &json!({}));
        d["spec"]["template"]["spec"]["containers"][0]["resources"] =
            json!({"requests": {"cpu": "64"}});
        sim.create("deployments.apps", d);
        let pod = sim
            .wait_for("PodScheduled=False", |s| {
                first_pod(s).filter(|p| condition(p, "PodScheduled").is_some())
            })
            .await;
        let scheduled = condition(&pod, "PodScheduled").unwrap();
        assert_eq!(scheduled["reason"], "Unschedulable");
        let expected = "0/3 nodes are available: 1 node(s) had untolerated taint \
            {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 \
            nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption \
            victims found for incoming pod.";
        assert_eq!(scheduled["message"], expected);
        let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
        let event = sim
            .wait_for("FailedScheduling", |s| {
                s.events_about(&name)
                    .into_iter()
                    .find(|e| e["reason"] == "FailedScheduling")
            })
            .await;
        assert_eq!(event["message"], expected);
        assert!(sim.get("pods", &name)["spec"]["nodeName"].is_null());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unschedulable_pod_stays_pending() {
        let sim = sim(100.0);
        single(&sim, &json!({"sim.kos.dev/unschedulable": "true"}));
        let pod = sim
            .wait_for("PodScheduled=False", |s| {
                first_pod(s).filter(|p| condition(p, "PodScheduled").is_some())
            })
            .await;
        let scheduled = condition(&pod, "PodScheduled").unwrap();
        assert_eq!(scheduled["status"], "False");
        assert_eq!(scheduled["reason"], "Unschedulable");
        assert!(
            scheduled["message"]
                .as_str()
                .unwrap()
                .starts_with("0/3 nodes are available")
        );
        assert_eq!(pod["status"]["phase"], "Pending");
        let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
        sim.wait_for("FailedScheduling", |s| {
            s.reasons_about(&name)
                .contains(&"FailedScheduling".to_owned())
                .then_some(())
        })
        .await;
        assert!(pod["spec"]["nodeName"].is_null());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn log_rate_lines_appear_in_the_logs() {
        let sim = sim(20.0);
        single(&sim, &json!({"sim.kos.dev/log-rate": "10/s"}));
        let pod = sim
            .wait_for("running", |s| first_pod(s).filter(|p| ready(p)))
            .await;
        let key = LogKey {
            namespace: "ns".into(),
            pod: pod["metadata"]["name"].as_str().unwrap().into(),
            container: "app".into(),
            instance: 0,
        };
        let (lines, mut follow) = sim.logs.read_and_follow(&key);
        assert!(!lines.is_empty(), "start-up lines");
        // At 10 lines per simulated second and speed 20, 50 lines take about 0.25 s.
        let started = std::time::Instant::now();
        for _ in 0..50 {
            tokio::time::timeout(DEADLINE, follow.recv())
                .await
                .unwrap()
                .unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deleted_pod_is_killed_and_removed_and_replaced() {
        let sim = sim(100.0);
        single(&sim, &json!({}));
        let pod = sim
            .wait_for("ready", |s| first_pod(s).filter(|p| ready(p)))
            .await;
        let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
        sim.store.delete("pods", "ns", &name, true).unwrap();
        sim.wait_for("removed and replaced", |s| {
            let gone = s.store.get("pods", "ns", &name).is_none();
            (gone && first_pod(s).is_some_and(|p| ready(&p))).then_some(())
        })
        .await;
        assert!(sim.reasons_about(&name).contains(&"Killing".to_owned()));
        let key = LogKey {
            namespace: "ns".into(),
            pod: name,
            container: "app".into(),
            instance: 0,
        };
        assert!(
            sim.logs.read(&key).is_empty(),
            "logs of a removed pod are gone"
        );
    }
}

mod workloads {
    use super::*;

    fn workload(kind: &str, name: &str, spec: &Value) -> Value {
        let api = if kind == "Job" || kind == "CronJob" {
            "batch/v1"
        } else {
            "apps/v1"
        };
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ns"}, "spec": spec})
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stateful_set_starts_its_pods_in_order() {
        let sim = sim(50.0);
        let spec = json!({
            "replicas": 3, "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": template("db", "postgres:16", &json!({})),
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}],
        });
        sim.create("statefulsets.apps", workload("StatefulSet", "db", &spec));
        let mut order_ok = true;
        let sts = sim
            .wait_for("3 ready replicas", |s| {
                // A pod only exists once every lower ordinal is ready.
                let pods = s.list("pods");
                for pod in &pods {
                    let name = pod["metadata"]["name"].as_str().unwrap();
                    let ordinal: usize = name.trim_start_matches("db-").parse().unwrap();
                    for lower in 0..ordinal {
                        let ready_lower = pods
                            .iter()
                            .any(|p| p["metadata"]["name"] == format!("db-{lower}") && ready(p));
                        order_ok &= ready_lower;
                    }
                }
                let sts = s.get("statefulsets.apps", "db");
                (sts["status"]["readyReplicas"] == 3
                    && sts["status"]["currentRevision"] == sts["status"]["updateRevision"])
                    .then_some(sts)
            })
            .await;
        assert!(order_ok, "a pod started before its predecessor was ready");
        let pod = sim.get("pods", "db-0");
        assert_eq!(
            pod["metadata"]["labels"]["controller-revision-hash"],
            sts["status"]["updateRevision"]
        );
        sim.wait_for("claims bound", |s| {
            let claims = s.list("persistentvolumeclaims");
            (claims.len() == 3 && claims.iter().all(|c| c["status"]["phase"] == "Bound"))
                .then_some(())
        })
        .await;
        // A template change rolls from the highest ordinal.
        sim.store
            .mutate("statefulsets.apps", "ns", "db", |s| {
                s["spec"]["template"]["spec"]["containers"][0]["image"] = json!("postgres:17");
            })
            .unwrap();
        let first_replaced = sim
            .wait_event("a pod replaced", |e| {
                e.resource == "pods" && !e.object()["metadata"]["deletionTimestamp"].is_null()
            })
            .await;
        assert_eq!(first_replaced.object()["metadata"]["name"], "db-2");
        sim.wait_for("rolled", |s| {
            let sts = s.get("statefulsets.apps", "db");
            (sts["status"]["updatedReplicas"] == 3
                && sts["status"]["readyReplicas"] == 3
                && sts["status"]["currentRevision"] == sts["status"]["updateRevision"])
                .then_some(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_daemon_set_runs_one_pod_per_node_whose_taints_it_tolerates() {
        let sim = sim(50.0);
        for (name, tolerations) in [("agent", json!(null)), ("proxy", everywhere())] {
            let mut template = template(name, "fluentd:1", &json!({}));
            template["spec"]["tolerations"] = tolerations;
            let spec = json!({"selector": {"matchLabels": {"app": name}}, "template": template});
            sim.create("daemonsets.apps", workload("DaemonSet", name, &spec));
        }
        for (name, expected) in [
            // The control-plane node's NoSchedule taint keeps it out.
            ("agent", vec!["sim-node-2", "sim-node-3"]),
            ("proxy", vec!["sim-node-1", "sim-node-2", "sim-node-3"]),
        ] {
            let count = expected.len();
            let ds = sim
                .wait_for("every pod ready", |s| {
                    let ds = s.get("daemonsets.apps", name);
                    (ds["status"]["numberReady"] == count
                        && ds["status"]["updatedNumberScheduled"] == count)
                        .then_some(ds)
                })
                .await;
            assert_eq!(ds["status"]["desiredNumberScheduled"], count);
            let mut nodes: Vec<String> = sim
                .list("pods")
                .iter()
                .filter(|p| p["metadata"]["labels"]["app"] == name)
                .map(|p| p["spec"]["nodeName"].as_str().unwrap().to_owned())
                .collect();
            nodes.sort();
            assert_eq!(nodes, expected);
        }
    }

    fn job(name: &str, annotations: &Value, completions: i64, backoff_limit: i64) -> Value {
        let mut template = template(name, "busybox:1.36", annotations);
        template["spec"]["restartPolicy"] = json!("Never");
        workload(
            "Job",
            name,
            &json!({
                "completions": completions, "parallelism": 2, "backoffLimit": backoff_limit,
                "template": template,
            }),
        )
    }

    fn job_condition(sim: &Sim, name: &str) -> Option<(String, String)> {
        let job = sim.get("jobs.batch", name);
        ["Complete", "Failed"].iter().find_map(|t| {
            condition(&job, t)
                .filter(|c| c["status"] == "True")
                .map(|c| ((*t).to_owned(), c["reason"].as_str().unwrap().to_owned()))
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_completes_its_completions() {
        let sim = sim(50.0);
        sim.create(
            "jobs.batch",
            job("batch", &json!({"sim.kos.dev/exit-after": "2s"}), 3, 6),
        );
        let (type_, _) = sim
            .wait_for("Complete", |s| job_condition(s, "batch"))
            .await;
        assert_eq!(type_, "Complete");
        let job = sim.get("jobs.batch", "batch");
        assert_eq!(job["status"]["succeeded"], 3);
        assert!(job["status"]["completionTime"].is_string());
        let pods = sim.list("pods");
        assert_eq!(pods.len(), 3);
        assert!(pods.iter().all(|p| p["status"]["phase"] == "Succeeded"
            && p["metadata"]["labels"]["job-name"] == "batch"
            && p["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "batch"));
        assert!(sim.reasons_about("batch").contains(&"Completed".to_owned()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_stops_at_its_backoff_limit() {
        let sim = sim(50.0);
        let annotations = json!({"sim.kos.dev/exit-after": "1s", "sim.kos.dev/exit-code": "2"});
        let mut broken = job("broken", &annotations, 1, 2);
        // Published Job templates may name their pod (ingress-nginx's do): the name is not
        // the pods', or no retry could be created.
        broken["spec"]["template"]["metadata"]["name"] = json!("broken-pod");
        sim.create("jobs.batch", broken);
        sim.wait_event("a failed pod", |e| {
            e.resource == "pods" && e.object()["status"]["phase"] == "Failed"
        })
        .await;
        let failed_at = std::time::Instant::now();
        sim.wait_event("its replacement", |e| {
            e.resource == "pods" && e.type_ == kos_sim::store::EventType::Added
        })
        .await;
        // The first back-off is 10 s of simulated time: 0.2 s at speed 50.
        let waited = failed_at.elapsed();
        assert!(
            waited >= Duration::from_millis(180),
            "replaced after {waited:?}"
        );
        let (type_, reason) = sim.wait_for("Failed", |s| job_condition(s, "broken")).await;
        assert_eq!(
            (type_.as_str(), reason.as_str()),
            ("Failed", "BackoffLimitExceeded")
        );
        let job = sim.get("jobs.batch", "broken");
        assert!(job["status"]["failed"].as_i64().unwrap() >= 3);
        let failed = sim
            .list("pods")
            .into_iter()
            .find(|p| p["status"]["phase"] == "Failed")
            .unwrap();
        assert_eq!(container(&failed)["state"]["terminated"]["exitCode"], 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cron_job_creates_jobs_on_schedule() {
        // A minute of simulated time takes 0.3 s.
        let sim = sim(200.0);
        let mut template = template("tick", "busybox:1.36", &json!({}));
        template["spec"]["restartPolicy"] = json!("OnFailure");
        sim.create(
            "cronjobs.batch",
            workload(
                "CronJob",
                "tick",
                &json!({
                    "schedule": "*/1 * * * *",
                    "jobTemplate": {"spec": {"template": template}},
                }),
            ),
        );
        let (job, cj) = sim
            .wait_for("a Job and its schedule time", |s| {
                let cj = s.get("cronjobs.batch", "tick");
                let job = s.list("jobs.batch").into_iter().next()?;
                cj["status"]["lastScheduleTime"]
                    .is_string()
                    .then_some((job, cj))
            })
            .await;
        let name = job["metadata"]["name"].as_str().unwrap();
        let minutes: i64 = name.strip_prefix("tick-").unwrap().parse().unwrap();
        assert_eq!(
            job["metadata"]["ownerReferences"][0]["uid"],
            cj["metadata"]["uid"]
        );
        let scheduled = chrono::DateTime::parse_from_rfc3339(
            job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(scheduled.timestamp() / 60, minutes);
        assert_eq!(scheduled.timestamp() % 60, 0, "runs on the minute");
        let (scheduled, succeeded) = sim
            .wait_for("a successful run recorded", |s| {
                let status = &s.get("cronjobs.batch", "tick")["status"];
                let time = |field: &str| {
                    chrono::DateTime::parse_from_rfc3339(status[field].as_str()?).ok()
                };
                Some((time("lastScheduleTime")?, time("lastSuccessfulTime")?))
            })
            .await;
        // Both on the simulated clock: at 200 times real speed a wall-clock success would
        // be hours before its schedule and the CronJob judged failed.
        assert!(succeeded >= scheduled, "{succeeded} before {scheduled}");
    }
}

mod more_workloads {
    use super::*;

    fn job_with(name: &str, spec: &Value, annotations: &Value) -> Value {
        let mut template = template(name, "busybox:1.36", annotations);
        template["spec"]["restartPolicy"] = json!("Never");
        let mut spec = spec.clone();
        spec["template"] = template;
        json!({"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": name, "namespace": "ns"}, "spec": spec})
    }

    fn true_condition(object: &Value) -> Option<String> {
        object["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["status"] == "True" && (c["type"] == "Failed" || c["type"] == "Complete"))
            .map(|c| {
                format!(
                    "{}/{}",
                    c["type"].as_str().unwrap(),
                    c["reason"].as_str().unwrap()
                )
            })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_past_its_active_deadline_fails_and_stops_its_pods() {
        let sim = sim(50.0);
        let forever = json!({"sim.kos.dev/exit-after": "1h"});
        sim.create(
            "jobs.batch",
            job_with("slow", &json!({"activeDeadlineSeconds": 5}), &forever),
        );
        let ended = sim
            .wait_for("Failed", |s| true_condition(&s.get("jobs.batch", "slow")))
            .await;
        assert_eq!(ended, "Failed/DeadlineExceeded");
        sim.wait_for("pods stopped", |s| s.list("pods").is_empty().then_some(()))
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_suspended_job_runs_nothing_until_resumed() {
        let sim = sim(50.0);
        sim.create(
            "jobs.batch",
            job_with("later", &json!({"suspend": true}), &json!({})),
        );
        sim.wait_for("Suspended", |s| {
            let job = s.get("jobs.batch", "later");
            condition(&job, "Suspended")
                .is_some_and(|c| c["status"] == "True")
                .then_some(())
        })
        .await;
        assert!(sim.list("pods").is_empty());
        sim.store
            .mutate("jobs.batch", "ns", "later", |j| {
                j["spec"]["suspend"] = json!(false);
            })
            .unwrap();
        let ended = sim
            .wait_for("Complete", |s| {
                true_condition(&s.get("jobs.batch", "later"))
            })
            .await;
        assert_eq!(ended, "Complete/CompletionsReached");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn init_containers_run_in_order_before_the_containers() {
        let sim = sim(50.0);
        let mut d = deployment("web", 1, "nginx:1.25", &json!({}));
        d["spec"]["template"]["spec"]["initContainers"] = json!([
            {"name": "first", "image": "busybox:1.36"}, {"name": "second", "image": "busybox:1.36"}]);
        sim.create("deployments.apps", d);
        let pod = sim
            .wait_for("ready", |s| s.list("pods").into_iter().find(|p| ready(p)))
            .await;
        let inits = pod["status"]["initContainerStatuses"].as_array().unwrap();
        let finished: Vec<&str> = inits
            .iter()
            .map(|c| c["state"]["terminated"]["reason"].as_str().unwrap())
            .collect();
        assert_eq!(finished, ["Completed", "Completed"]);
        let events = sim.events_about(pod["metadata"]["name"].as_str().unwrap());
        let started: Vec<&str> = events
            .iter()
            .filter(|e| e["reason"] == "Started")
            .map(|e| e["involvedObject"]["fieldPath"].as_str().unwrap())
            .collect();
        // Events are listed by name, which carries the time they were written.
        assert_eq!(
            started,
            [
                "spec.initContainers{first}",
                "spec.initContainers{second}",
                "spec.containers{app}"
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_daemon_set_rolls_its_pods_to_a_new_template() {
        let sim = sim(50.0);
        let mut template = template("agent", "fluentd:1", &json!({}));
        template["spec"]["tolerations"] = everywhere();
        let spec = json!({"selector": {"matchLabels": {"app": "agent"}}, "template": template});
        sim.create(
            "daemonsets.apps",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "ns"}, "spec": spec}),
        );
        let done = |s: &Sim| {
            let ds = s.get("daemonsets.apps", "agent");
            (ds["status"]["observedGeneration"] == ds["metadata"]["generation"]
                && ds["status"]["updatedNumberScheduled"] == 3
                && ds["status"]["numberAvailable"] == 3)
                .then_some(())
        };
        sim.wait_for("first rollout", done).await;
        sim.store
            .mutate("daemonsets.apps", "ns", "agent", |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("fluentd:2");
            })
            .unwrap();
        sim.wait_for("second rollout", |s| {
            let images: Vec<Value> = s
                .list("pods")
                .iter()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .map(|p| p["spec"]["containers"][0]["image"].clone())
                .collect();
            done(s).filter(|()| images.len() == 3 && images.iter().all(|i| i == "fluentd:2"))
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stateful_set_scales_down_from_its_highest_ordinal() {
        let sim = sim(50.0);
        let spec = json!({"replicas": 3, "serviceName": "db",
                          "selector": {"matchLabels": {"app": "db"}},
                          "template": template("db", "postgres:16", &json!({}))});
        sim.create(
            "statefulsets.apps",
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "ns"}, "spec": spec}),
        );
        sim.wait_for("3 ready", |s| {
            (s.get("statefulsets.apps", "db")["status"]["readyReplicas"] == 3).then_some(())
        })
        .await;
        sim.store
            .mutate("statefulsets.apps", "ns", "db", |d| {
                d["spec"]["replicas"] = json!(1);
            })
            .unwrap();
        let first = sim
            .wait_event("a pod deleted", |e| {
                e.resource == "pods" && !e.object()["metadata"]["deletionTimestamp"].is_null()
            })
            .await;
        assert_eq!(first.object()["metadata"]["name"], "db-2");
        sim.wait_for("only db-0 left", |s| {
            let names: Vec<Value> = s
                .list("pods")
                .iter()
                .map(|p| p["metadata"]["name"].clone())
                .collect();
            (names == [json!("db-0")]).then_some(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn old_replica_sets_beyond_the_history_limit_are_deleted() {
        let sim = sim(50.0);
        let mut d = deployment("web", 1, "nginx:1", &json!({}));
        d["spec"]["revisionHistoryLimit"] = json!(1);
        sim.create("deployments.apps", d);
        for version in 1..=4 {
            if version > 1 {
                sim.store
                    .mutate("deployments.apps", "ns", "web", |d| {
                        d["spec"]["template"]["spec"]["containers"][0]["image"] =
                            json!(format!("nginx:{version}"));
                    })
                    .unwrap();
            }
            let expected = version.to_string();
            sim.wait_for("rolled out", |s| {
                let d = s.get("deployments.apps", "web");
                (rolled_out(&d)
                    && d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                        == expected.as_str())
                .then_some(())
            })
            .await;
        }
        sim.wait_for("one old ReplicaSet kept", |s| {
            (s.list("replicasets.apps").len() == 2).then_some(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cron_job_keeps_only_its_history_limit_of_finished_jobs() {
        let sim = sim(300.0);
        let mut template = template(
            "tick",
            "busybox:1.36",
            &json!({"sim.kos.dev/exit-after": "1s"}),
        );
        template["spec"]["restartPolicy"] = json!("Never");
        sim.create(
            "cronjobs.batch",
            json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "ns"},
            "spec": {"schedule": "* * * * *", "successfulJobsHistoryLimit": 1,
                     "jobTemplate": {"spec": {"template": template}}}}),
        );
        let mut seen = std::collections::HashSet::new();
        sim.wait_for("three runs, one kept", |s| {
            let jobs = s.list("jobs.batch");
            seen.extend(
                jobs.iter()
                    .map(|j| j["metadata"]["name"].as_str().unwrap().to_owned()),
            );
            let complete = jobs.iter().filter(|j| true_condition(j).is_some()).count();
            (seen.len() >= 3 && complete <= 1 && jobs.len() <= 2).then_some(())
        })
        .await;
        assert!(
            sim.reasons_about("tick")
                .contains(&"SuccessfulDelete".to_owned())
        );
    }
}

mod services {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_load_balancer_gets_a_cluster_ip_then_an_ingress_address() {
        let sim = sim(50.0);
        sim.create(
            "services",
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "front", "namespace": "ns"},
                "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                         "ports": [{"port": 80, "targetPort": 8080}]},
            }),
        );
        let service = sim
            .wait_for("ingress", |s| {
                let svc = s.get("services", "front");
                svc.pointer("/status/loadBalancer/ingress/0/ip")
                    .is_some()
                    .then_some(svc)
            })
            .await;
        assert!(
            service["spec"]["clusterIP"]
                .as_str()
                .unwrap()
                .starts_with("10.96.")
        );
        let node_port = service["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
        assert!((30000..=32767).contains(&node_port));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_load_balancer_of_another_class_is_left_to_its_controller() {
        let sim = sim(50.0);
        let service = |name: &str, class: Option<&str>| {
            let mut spec = json!({"type": "LoadBalancer", "selector": {"app": "web"},
                                  "ports": [{"port": 80, "targetPort": 8080}]});
            if let Some(class) = class {
                spec["loadBalancerClass"] = json!(class);
            }
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": "ns"}, "spec": spec})
        };
        // Created first: without its class it would have its address first.
        sim.create("services", service("classed", Some("example.com/nobody")));
        sim.create("services", service("default", None));
        sim.wait_for("the default one's ingress", |s| {
            s.get("services", "default")
                .pointer("/status/loadBalancer/ingress/0/ip")
                .map(|_| ())
        })
        .await;
        let classed = sim.get("services", "classed");
        assert!(
            classed.pointer("/status/loadBalancer/ingress").is_none(),
            "{classed}"
        );
        assert!(classed["spec"]["clusterIP"].as_str().is_some(), "{classed}");
    }

    fn claim(name: &str, class: Option<&str>) -> Value {
        let mut claim = json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
        });
        if let Some(class) = class {
            claim["spec"]["storageClassName"] = json!(class);
        }
        claim
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_claim_waits_for_its_first_consumer_then_is_provisioned_on_its_node() {
        let sim = sim(50.0);
        sim.create("persistentvolumeclaims", claim("data", None));
        let waiting = sim
            .wait_for("the default class and the wait", |s| {
                let claim = s.get("persistentvolumeclaims", "data");
                (claim["spec"]["storageClassName"] == "standard"
                    && s.reasons_about("data")
                        .contains(&"WaitForFirstConsumer".to_owned()))
                .then_some(claim)
            })
            .await;
        assert_eq!(waiting["status"]["phase"], "Pending");
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "app", "namespace": "ns"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}});
        kos_sim::admission::create_pod(&sim.store, pod).unwrap();
        let pod = sim
            .wait_for("the pod running", |s| {
                let pod = s.get("pods", "app");
                (pod["status"]["phase"] == "Running").then_some(pod)
            })
            .await;
        let claim = sim.get("persistentvolumeclaims", "data");
        assert_eq!(claim["status"]["phase"], "Bound");
        assert_eq!(claim["status"]["capacity"]["storage"], "5Gi");
        let node = pod["spec"]["nodeName"].as_str().unwrap();
        assert_eq!(
            claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"],
            node
        );
        let volume = claim["spec"]["volumeName"].as_str().unwrap();
        let pv = sim.store.get("persistentvolumes", "", volume).unwrap();
        assert_eq!(pv["spec"]["claimRef"]["name"], "data");
        assert_eq!(pv["status"]["phase"], "Bound");
        assert_eq!(
            pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
                [0],
            node
        );
        let reasons = sim.reasons_about("data");
        for reason in [
            "ExternalProvisioning",
            "Provisioning",
            "ProvisioningSucceeded",
        ] {
            assert!(reasons.contains(&reason.to_owned()), "{reasons:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn claims_bind_static_volumes_and_fail_on_a_missing_class() {
        let sim = sim(50.0);
        sim.create(
            "persistentvolumes",
            json!({"apiVersion": "v1", "kind": "PersistentVolume",
                   "metadata": {"name": "manual-1"},
                   "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
                            "storageClassName": "", "hostPath": {"path": "/data"},
                            "persistentVolumeReclaimPolicy": "Retain"}}),
        );
        sim.create("persistentvolumeclaims", claim("static", Some("")));
        sim.create("persistentvolumeclaims", claim("nowhere", Some("fast-ssd")));
        let bound = sim
            .wait_for("the static claim bound", |s| {
                let claim = s.get("persistentvolumeclaims", "static");
                (claim["status"]["phase"] == "Bound").then_some(claim)
            })
            .await;
        assert_eq!(bound["spec"]["volumeName"], "manual-1");
        assert_eq!(bound["status"]["capacity"]["storage"], "10Gi");
        let failed = sim
            .wait_for("ProvisioningFailed", |s| {
                s.events_about("nowhere")
                    .into_iter()
                    .find(|e| e["reason"] == "ProvisioningFailed")
            })
            .await;
        assert_eq!(
            failed["message"],
            "storageclass.storage.k8s.io \"fast-ssd\" not found"
        );
        assert_eq!(
            sim.get("persistentvolumeclaims", "nowhere")["status"]["phase"],
            "Pending"
        );
        // Its claim gone, a Retain volume is Released.
        sim.store
            .delete("persistentvolumeclaims", "ns", "static", false)
            .unwrap();
        sim.wait_for("Released", |s| {
            let pv = s.store.get("persistentvolumes", "", "manual-1").unwrap();
            (pv["status"]["phase"] == "Released").then_some(())
        })
        .await;
    }
}

mod garbage_collection {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deleting_a_deployment_deletes_its_replica_sets_and_pods() {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("web", 2, "nginx:1.25", &json!({})),
        );
        sim.rolled_out("web").await;
        sim.store
            .delete("deployments.apps", "ns", "web", false)
            .unwrap();
        sim.wait_for("everything gone", |s| {
            (s.list("replicasets.apps").is_empty() && s.list("pods").is_empty()).then_some(())
        })
        .await;
    }
}

mod garbage_collection_policies {
    use super::*;

    /// A Deployment rolled out, then marked deleted with `finalizer`, as the API server marks
    /// it for `propagationPolicy` Foreground or Orphan.
    async fn delete_with(finalizer: &str) -> Sim {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("web", 2, "nginx:1.25", &json!({})),
        );
        sim.rolled_out("web").await;
        sim.store
            .mutate("deployments.apps", "ns", "web", |d| {
                d["metadata"]["finalizers"] = json!([finalizer]);
                d["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            })
            .unwrap();
        sim
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn foreground_deletion_removes_the_owner_after_its_dependents() {
        let sim = delete_with("foregroundDeletion").await;
        let mut owner_went_first = false;
        sim.wait_for("everything gone", |s| {
            let owner = s.store.get("deployments.apps", "ns", "web").is_some();
            let sets = s.list("replicasets.apps").len();
            owner_went_first |= !owner && sets > 0;
            (!owner && sets == 0).then_some(())
        })
        .await;
        assert!(
            !owner_went_first,
            "the Deployment went before its ReplicaSet"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn orphan_deletion_leaves_the_dependents_without_their_owner() {
        let sim = delete_with("orphan").await;
        sim.wait_for("owner gone", |s| {
            s.store
                .get("deployments.apps", "ns", "web")
                .is_none()
                .then_some(())
        })
        .await;
        let sets = sim.list("replicasets.apps");
        assert_eq!(sets.len(), 1);
        let refs = &sets[0]["metadata"]["ownerReferences"];
        assert!(refs.as_array().is_none_or(Vec::is_empty), "{refs}");
        assert_eq!(sim.list("pods").len(), 2, "the pods stay");
    }
}

mod ttl_after_finished {
    use super::*;

    fn job(name: &str, ttl: Option<i64>) -> Value {
        let mut template = template(
            name,
            "busybox:1.36",
            &json!({"sim.kos.dev/exit-after": "1s"}),
        );
        template["spec"]["restartPolicy"] = json!("Never");
        let mut job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"template": template},
        });
        if let Some(ttl) = ttl {
            job["spec"]["ttlSecondsAfterFinished"] = json!(ttl);
        }
        job
    }

    fn complete(job: &Value) -> bool {
        condition(job, "Complete").is_some_and(|c| c["status"] == "True")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_finished_job_is_deleted_with_its_pods_after_its_ttl() {
        let sim = sim(50.0);
        // Every change, in order, from before the Jobs exist.
        let (_, _, mut feed) = sim.store.list_and_watch("pods", None);
        sim.create("jobs.batch", job("kept", None));
        sim.create("jobs.batch", job("brief", Some(0)));
        sim.create("jobs.batch", job("later", Some(20)));
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let (mut brief_pod_gone, mut brief_gone) = (false, false);
        let mut later_finished = None;
        let later_lived = loop {
            let event = match tokio::time::timeout_at(deadline, feed.recv()).await {
                Ok(Ok(event)) => event,
                Ok(Err(RecvError::Lagged(_))) => panic!("the test fell behind the feed"),
                Ok(Err(RecvError::Closed)) => panic!("the store closed"),
                Err(elapsed) => panic!("{elapsed} waiting for the Jobs to go"),
            };
            let object = event.object();
            let deleted = event.type_ == kos_sim::store::EventType::Deleted;
            let job_name = |o: &Value| {
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            };
            match event.resource.as_str() {
                "pods" if deleted && object["metadata"]["labels"]["job-name"] == "brief" => {
                    brief_pod_gone = true;
                }
                "jobs.batch" if deleted => match job_name(&object).as_str() {
                    // Deleted in the foreground: the Job waits for its pods.
                    "brief" => {
                        assert!(brief_pod_gone, "the Job went before its pod");
                        brief_gone = true;
                    }
                    "later" => break later_finished.map(|at: std::time::Instant| at.elapsed()),
                    other => panic!("{other} deleted"),
                },
                "jobs.batch" if job_name(&object) == "later" && complete(&object) => {
                    later_finished.get_or_insert_with(std::time::Instant::now);
                }
                _ => {}
            }
        };
        assert!(brief_gone, "brief, with no time to live, went after later");
        // 20 simulated seconds after it finished: 0.4 s at speed 50.
        let lived = later_lived.expect("later went before it finished");
        assert!(
            lived >= Duration::from_millis(350),
            "later went {lived:?} after it finished"
        );
        let kept = sim.get("jobs.batch", "kept");
        assert!(complete(&kept), "{kept}");
    }
}

mod selected_pods {
    use super::*;

    /// Deployment `name` whose pods request 100m CPU and serve port `http` (8080), with
    /// the pod template's `annotations`.
    fn served(name: &str, replicas: i64, annotations: &Value) -> Value {
        let mut d = deployment(name, replicas, "nginx:1.25", annotations);
        d["spec"]["template"]["spec"]["containers"][0]["ports"] =
            json!([{"name": "http", "containerPort": 8080}]);
        d["spec"]["template"]["spec"]["containers"][0]["resources"] =
            json!({"requests": {"cpu": "100m"}});
        d
    }

    fn service(name: &str, app: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": "ns", "labels": {"team": "a"}},
               "spec": {"selector": {"app": app},
                        "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}})
    }

    fn slices_of(sim: &Sim, service: &str) -> Vec<Object> {
        sim.list("endpointslices.discovery.k8s.io")
            .into_iter()
            .filter(|s| s["metadata"]["labels"]["kubernetes.io/service-name"] == service)
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn services_get_endpoints_and_slices_of_the_pods_they_select() {
        let sim = sim(50.0);
        sim.create("deployments.apps", served("web", 2, &json!({})));
        // Never ready within the test: an hour from Running to Ready.
        let slow = json!({"sim.kos.dev/start-delay": "1h"});
        sim.create("deployments.apps", served("slow", 1, &slow));
        sim.create("services", service("web", "web"));
        sim.create("services", service("slow", "slow"));
        let endpoints = sim
            .wait_for("two ready addresses", |s| {
                let e = s.store.get("endpoints", "ns", "web")?;
                (e["subsets"][0]["addresses"].as_array()?.len() == 2).then_some(e)
            })
            .await;
        assert_eq!(endpoints["metadata"]["labels"]["team"], "a");
        let subset = &endpoints["subsets"][0];
        assert_eq!(
            subset["ports"],
            json!([{"name": "web", "port": 8080, "protocol": "TCP"}])
        );
        let address = &subset["addresses"][0];
        assert_eq!(address["targetRef"]["kind"], "Pod");
        assert!(address["ip"].as_str().unwrap().starts_with("10.244."));
        // Written right after the Endpoints, in the same pass.
        let slices = sim
            .wait_for("a slice of two ready endpoints", |s| {
                let slices = slices_of(s, "web");
                let ready = |e: &&Value| e["conditions"]["ready"] == true;
                let endpoints = slices.first()?["endpoints"].as_array()?;
                (slices.len() == 1 && endpoints.iter().filter(ready).count() == 2).then_some(slices)
            })
            .await;
        let slice = &slices[0];
        assert_eq!(slice["addressType"], "IPv4");
        assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
        assert_eq!(
            slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
            "endpointslice-controller.k8s.io"
        );
        assert_eq!(slice["endpoints"][0]["targetRef"]["kind"], "Pod");

        let slow = sim
            .wait_for("a not-ready address", |s| {
                let e = s.store.get("endpoints", "ns", "slow")?;
                e["subsets"][0]["notReadyAddresses"][0]
                    .is_object()
                    .then_some(e)
            })
            .await;
        assert!(slow["subsets"][0]["addresses"].is_null(), "{slow}");
        let slice = &slices_of(&sim, "slow")[0];
        assert_eq!(slice["endpoints"][0]["conditions"]["ready"], false);

        sim.store.delete("services", "ns", "web", false).unwrap();
        sim.wait_for("the endpoints and slices gone", |s| {
            (s.store.get("endpoints", "ns", "web").is_none() && slices_of(s, "web").is_empty())
                .then_some(())
        })
        .await;
    }

    fn budget(name: &str, spec: &Value) -> Value {
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": name, "namespace": "ns"}, "spec": spec})
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn disruption_budgets_count_the_healthy_pods_they_select() {
        let sim = sim(50.0);
        let web = json!({"matchLabels": {"app": "web"}});
        sim.create(
            "poddisruptionbudgets.policy",
            budget("some", &json!({"minAvailable": 2, "selector": web})),
        );
        sim.create(
            "poddisruptionbudgets.policy",
            budget("none", &json!({"maxUnavailable": 0, "selector": web})),
        );
        sim.create(
            "poddisruptionbudgets.policy",
            budget("half", &json!({"minAvailable": "50%", "selector": web})),
        );
        let agents = json!({"matchLabels": {"app": "agent"}});
        sim.create(
            "poddisruptionbudgets.policy",
            budget("agents", &json!({"maxUnavailable": 1, "selector": agents})),
        );
        sim.create(
            "deployments.apps",
            deployment("web", 3, "nginx:1.25", &json!({})),
        );
        let mut agent = deployment("agent", 1, "busybox:1.36", &json!({}));
        agent["kind"] = json!("DaemonSet");
        agent["spec"].as_object_mut().unwrap().remove("replicas");
        sim.create("daemonsets.apps", agent);
        let status =
            |s: &Sim, name: &str| s.get("poddisruptionbudgets.policy", name)["status"].clone();
        sim.wait_for("three healthy pods", |s| {
            (["some", "none", "half"]
                .iter()
                .all(|n| status(s, n)["currentHealthy"] == 3))
            .then_some(())
        })
        .await;
        let some = sim.get("poddisruptionbudgets.policy", "some");
        let expected = json!({"currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3,
                              "disruptionsAllowed": 1, "observedGeneration": 1});
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(&some["status"][field], value, "{field}: {some}");
        }
        let allowed = condition(&some, "DisruptionAllowed").unwrap();
        assert_eq!(
            (&allowed["status"], &allowed["reason"]),
            (&json!("True"), &json!("SufficientPods"))
        );
        let none = sim.get("poddisruptionbudgets.policy", "none");
        assert_eq!(none["status"]["desiredHealthy"], 3);
        assert_eq!(none["status"]["disruptionsAllowed"], 0);
        assert_eq!(
            condition(&none, "DisruptionAllowed").unwrap()["reason"],
            "InsufficientPods"
        );
        // 50 % of 3, rounded up.
        assert_eq!(
            sim.get("poddisruptionbudgets.policy", "half")["status"]["desiredHealthy"],
            2
        );
        let agents = sim
            .wait_for("the sync failure", |s| {
                let pdb = s.get("poddisruptionbudgets.policy", "agents");
                condition(&pdb, "DisruptionAllowed")
                    .is_some_and(|c| c["reason"] == "SyncFailed")
                    .then_some(pdb)
            })
            .await;
        assert_eq!(
            condition(&agents, "DisruptionAllowed").unwrap()["message"],
            "daemonsets.apps does not implement the scale subresource"
        );
        assert!(
            sim.reasons_about("agents")
                .contains(&"CalculateExpectedPodCountFailed".to_owned())
        );
    }

    fn autoscaler(name: &str, min: i64, max: i64, metrics: &Value) -> Value {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": name, "namespace": "ns"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                        "minReplicas": min, "maxReplicas": max, "metrics": metrics}})
    }

    fn cpu(percent: i64) -> Value {
        json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": percent}}}])
    }

    fn hpa_condition(sim: &Sim, name: &str, type_: &str) -> Option<(String, String, String)> {
        let hpa = sim.get("horizontalpodautoscalers.autoscaling", name);
        let c = condition(&hpa, type_)?;
        let text = |f: &str| c[f].as_str().unwrap_or_default().to_owned();
        Some((text("status"), text("reason"), text("message")))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_autoscaler_waits_for_metrics_then_holds_its_target_within_bounds() {
        let sim = sim(50.0);
        // Idle (5m of 100m): below target, held at minReplicas.
        sim.create("deployments.apps", served("idle", 2, &json!({})));
        sim.create(
            "horizontalpodautoscalers.autoscaling",
            autoscaler("idle", 2, 5, &cpu(50)),
        );
        // Busy (90m of 100m against 50 %): scaled up, two at a time at most... to 4.
        let busy = json!({"sim.kos.dev/cpu-usage": "90m"});
        sim.create("deployments.apps", served("busy", 2, &busy));
        sim.create(
            "horizontalpodautoscalers.autoscaling",
            autoscaler("busy", 2, 10, &cpu(50)),
        );
        // Below its minimum: scaled up at once, before any metric.
        sim.create("deployments.apps", served("small", 1, &json!({})));
        sim.create(
            "horizontalpodautoscalers.autoscaling",
            autoscaler("small", 3, 5, &cpu(50)),
        );

        let (_, _, message) = sim
            .wait_for("no metrics yet", |s| {
                hpa_condition(s, "idle", "ScalingActive")
                    .filter(|c| c.1 == "FailedGetResourceMetric")
            })
            .await;
        assert_eq!(
            message,
            "the HPA was unable to compute the replica count: failed to get cpu utilization: \
             unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        );
        sim.wait_for("metrics", |s| {
            hpa_condition(s, "idle", "ScalingActive").filter(|c| c.1 == "ValidMetricFound")
        })
        .await;
        // It would go down to one, but the first recommendation (its two replicas) holds
        // for the five minutes of the scale-down window.
        let limited = sim
            .wait_for("limited", |s| hpa_condition(s, "idle", "ScalingLimited"))
            .await;
        assert_eq!(
            (limited.0.as_str(), limited.1.as_str()),
            ("False", "DesiredWithinRange")
        );
        let able = hpa_condition(&sim, "idle", "AbleToScale").unwrap();
        assert_eq!(able.1, "ScaleDownStabilized");
        let idle = sim.get("horizontalpodautoscalers.autoscaling", "idle");
        assert_eq!(
            idle["status"]["currentMetrics"][0]["resource"]["current"],
            json!({"averageUtilization": 5, "averageValue": "5m"})
        );
        assert_eq!(idle["status"]["desiredReplicas"], 2);
        assert_eq!(sim.get("deployments.apps", "idle")["spec"]["replicas"], 2);

        sim.wait_for("busy scaled up", |s| {
            (s.get("deployments.apps", "busy")["spec"]["replicas"] == 4).then_some(())
        })
        .await;
        // The Event is written right after the scale.
        let wanted =
            "New size: 4; reason: cpu resource utilization (percentage of request) above target";
        sim.wait_for("the rescale Event", |s| {
            s.events_about("busy")
                .iter()
                .any(|e| e["reason"] == "SuccessfulRescale" && e["message"] == wanted)
                .then_some(())
        })
        .await;

        sim.wait_for("small scaled to its minimum", |s| {
            (s.get("deployments.apps", "small")["spec"]["replicas"] == 3).then_some(())
        })
        .await;
        let rescaled = sim
            .wait_for("rescaled", |s| hpa_condition(s, "small", "AbleToScale"))
            .await;
        assert!(
            ["SucceededRescale", "ReadyForNewScale", "SucceededGetScale"]
                .contains(&rescaled.1.as_str()),
            "{rescaled:?}"
        );
        let wanted = "New size: 3; reason: Current number of replicas below Spec.MinReplicas";
        sim.wait_for("the rescale Event", |s| {
            s.events_about("small")
                .iter()
                .any(|e| e["message"] == wanted)
                .then_some(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_autoscaler_names_what_it_cannot_read() {
        let sim = sim(50.0);
        sim.create(
            "deployments.apps",
            deployment("bare", 1, "nginx:1.25", &json!({})),
        );
        sim.create(
            "horizontalpodautoscalers.autoscaling",
            autoscaler("bare", 1, 3, &cpu(50)),
        );
        sim.create(
            "horizontalpodautoscalers.autoscaling",
            autoscaler("absent", 1, 3, &cpu(50)),
        );
        let (_, _, message) = sim
            .wait_for("a missing request", |s| {
                hpa_condition(s, "bare", "ScalingActive")
                    .filter(|c| c.2.contains("missing request"))
            })
            .await;
        assert!(
            message.starts_with("the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container app of Pod bare-"),
            "{message}"
        );
        let (status, reason, message) = sim
            .wait_for("no target", |s| hpa_condition(s, "absent", "AbleToScale"))
            .await;
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "FailedGetScale")
        );
        assert_eq!(
            message,
            "the HPA controller was unable to get the target's current scale: deployments.apps \"absent\" not found"
        );
    }

    fn ingress(name: &str, class: Option<&str>) -> Value {
        let mut ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"rules": [{"host": format!("{name}.example"), "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}});
        if let Some(class) = class {
            ingress["spec"]["ingressClassName"] = json!(class);
        }
        ingress
    }

    fn ingress_class(name: &str, controller: &str) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
               "metadata": {"name": name}, "spec": {"controller": controller}})
    }

    fn address(sim: &Sim, name: &str) -> Option<String> {
        let ingress = sim.get("ingresses.networking.k8s.io", name);
        ingress
            .pointer("/status/loadBalancer/ingress/0/hostname")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_ingress_gets_an_address_once_a_class_of_the_simulated_controller_claims_it() {
        let sim = sim(50.0);
        sim.create(
            "ingresses.networking.k8s.io",
            ingress("named", Some("nginx")),
        );
        sim.create(
            "ingresses.networking.k8s.io",
            ingress("other", Some("traefik")),
        );
        sim.create("ingresses.networking.k8s.io", ingress("classless", None));
        sim.create(
            "ingressclasses.networking.k8s.io",
            ingress_class("traefik", "traefik.io/ingress-controller"),
        );
        // The class comes after the Ingress that names it, as it may in one apply.
        sim.create(
            "ingressclasses.networking.k8s.io",
            ingress_class("nginx", "k8s.io/ingress-nginx"),
        );
        let published = sim.wait_for("an address", |s| address(s, "named")).await;
        assert_eq!(published, "localhost");
        // Both were looked at before the class came, and again when it did.
        assert_eq!(address(&sim, "other"), None);
        assert_eq!(address(&sim, "classless"), None);
        sim.store
            .mutate("ingressclasses.networking.k8s.io", "", "nginx", |c| {
                c["metadata"]["annotations"] =
                    json!({"ingressclass.kubernetes.io/is-default-class": "true"});
            })
            .unwrap();
        sim.wait_for("the default class's address", |s| address(s, "classless"))
            .await;
        assert_eq!(address(&sim, "other"), None);
    }
}

mod robustness {
    use super::*;

    /// Objects no API server should let through must not stop a controller: after them, a
    /// sound Deployment still rolls out.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn malformed_objects_do_not_stop_the_controllers() {
        let sim = sim(50.0);
        let broken = |kind: &str, name: &str| {
            json!({"apiVersion": "apps/v1", "kind": kind,
                   "metadata": {"name": name, "namespace": "ns", "annotations": "x"},
                   "spec": {"replicas": "two", "selector": 5, "template": {"metadata": "m",
                            "spec": {"containers": "c"}}, "strategy": 3,
                            "schedule": "61 * *", "jobTemplate": "j",
                            "ports": ["p"], "type": "LoadBalancer",
                            "volumeClaimTemplates": ["v"]}})
        };
        for (resource, kind) in [
            ("deployments.apps", "Deployment"),
            ("replicasets.apps", "ReplicaSet"),
            ("statefulsets.apps", "StatefulSet"),
            ("daemonsets.apps", "DaemonSet"),
            ("jobs.batch", "Job"),
            ("cronjobs.batch", "CronJob"),
            ("services", "Service"),
            ("persistentvolumeclaims", "PersistentVolumeClaim"),
            ("pods", "Pod"),
        ] {
            sim.create(resource, broken(kind, "broken"));
        }
        sim.create(
            "deployments.apps",
            deployment("web", 2, "nginx:1.25", &json!({})),
        );
        sim.rolled_out("web").await;
        let statuses = [
            "deployments.apps",
            "statefulsets.apps",
            "daemonsets.apps",
            "jobs.batch",
        ];
        for resource in statuses {
            sim.wait_for("the broken one has a status", |s| {
                s.get(resource, "broken")["status"]
                    .is_object()
                    .then_some(())
            })
            .await;
        }
    }
}

mod rollouts {
    use super::*;

    const ROLLOUTS: &str = "rollouts.argoproj.io";

    fn service(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": "ns"},
               "spec": {"selector": {"app": "shop"}, "ports": [{"port": 80}]}})
    }

    fn rollout(replicas: i64, strategy: &Value) -> Value {
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "shop", "namespace": "ns"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "shop"}},
                     "strategy": strategy,
                     "template": template("shop", "nginx:1.26", &json!({}))},
        })
    }

    fn status<'a>(ro: &'a Value, pointer: &str) -> &'a Value {
        ro["status"].pointer(pointer).unwrap_or(&Value::Null)
    }

    impl Sim {
        /// Waits until the Rollout's `status` at `pointer` is `wanted`, and returns it.
        async fn rollout_shows(&self, pointer: &str, wanted: Value) -> Object {
            self.wait_for(&format!("status{pointer} = {wanted}"), |s| {
                let ro = s.get(ROLLOUTS, "shop");
                (*status(&ro, pointer) == wanted).then_some(ro)
            })
            .await
        }

        /// Waits until replica set `shop-<hash>` asks for `replicas` pods.
        async fn sized(&self, hash: &Value, replicas: i64) {
            let name = format!("shop-{}", hash.as_str().unwrap());
            self.wait_for(&format!("{name} at {replicas}"), |s| {
                let rs = s.store.get("replicasets.apps", "ns", &name)?;
                (rs["spec"]["replicas"] == replicas).then_some(())
            })
            .await;
        }

        fn selector_of(&self, service: &str) -> Value {
            self.get("services", service)["spec"]["selector"]["rollouts-pod-template-hash"].clone()
        }

        fn new_image(&self) {
            self.store
                .mutate(ROLLOUTS, "ns", "shop", |ro| {
                    ro["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
                })
                .unwrap();
        }

        /// What the kubectl plugin's promote and abort do: a merge of the status.
        fn patch_status(&self, patch: &Value) {
            self.store
                .mutate(ROLLOUTS, "ns", "shop", |ro| {
                    for (field, value) in patch.as_object().unwrap() {
                        match value {
                            Value::Null => {
                                ro["status"].as_object_mut().unwrap().remove(field);
                            }
                            _ => ro["status"][field] = value.clone(),
                        }
                    }
                })
                .unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn blue_green_pauses_on_the_preview_until_promoted_then_switches_the_active_service() {
        let sim = sim(50.0);
        sim.create("services", service("active"));
        sim.create("services", service("preview"));
        let strategy = json!({"blueGreen": {"activeService": "active", "previewService": "preview",
                                            "autoPromotionEnabled": false,
                                            "scaleDownDelaySeconds": 5}});
        sim.create(ROLLOUTS, rollout(2, &strategy));
        // The first revision goes active without a pause.
        let ro = sim.rollout_shows("/phase", json!("Healthy")).await;
        let v1 = status(&ro, "/currentPodHash").clone();
        assert_eq!(status(&ro, "/blueGreen/activeSelector"), &v1);
        assert_eq!(status(&ro, "/stableRS"), &v1);
        assert_eq!(sim.selector_of("active"), v1);
        let rs = sim.get(
            "replicasets.apps",
            &format!("shop-{}", v1.as_str().unwrap()),
        );
        assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Rollout");
        assert_eq!(
            rs["metadata"]["annotations"]["rollout.argoproj.io/revision"],
            "1"
        );

        sim.new_image();
        let ro = sim
            .rollout_shows("/pauseConditions/0/reason", json!("BlueGreenPause"))
            .await;
        let v2 = status(&ro, "/currentPodHash").clone();
        assert_ne!(v1, v2);
        assert_eq!(ro["status"]["phase"], "Paused");
        assert_eq!(ro["status"]["message"], "BlueGreenPause");
        assert_eq!(ro["status"]["controllerPause"], true);
        assert_eq!(sim.selector_of("preview"), v2);
        assert_eq!(sim.selector_of("active"), v1, "the active Service waits");
        sim.sized(&v2, 2).await;

        sim.patch_status(&json!({"pauseConditions": null}));
        sim.rollout_shows("/blueGreen/activeSelector", v2.clone())
            .await;
        assert_eq!(sim.selector_of("active"), v2);
        let ro = sim.rollout_shows("/phase", json!("Healthy")).await;
        assert_eq!(status(&ro, "/stableRS"), &v2);
        // The old ReplicaSet goes after scaleDownDelaySeconds.
        sim.sized(&v1, 0).await;
        assert!(
            sim.reasons_about("shop")
                .contains(&"SwitchService".to_owned())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_canary_step_sets_the_weight_pauses_and_an_abort_returns_to_stable() {
        let sim = sim(50.0);
        let strategy = json!({"canary": {"steps": [{"setWeight": 50}, {"pause": {}},
                                                   {"setWeight": 100}]}});
        sim.create(ROLLOUTS, rollout(2, &strategy));
        let ro = sim.rollout_shows("/phase", json!("Healthy")).await;
        let v1 = status(&ro, "/stableRS").clone();
        assert_eq!(ro["status"]["currentStepIndex"], 3);

        sim.new_image();
        let ro = sim
            .rollout_shows("/pauseConditions/0/reason", json!("CanaryPauseStep"))
            .await;
        let v2 = status(&ro, "/currentPodHash").clone();
        assert_eq!(ro["status"]["currentStepIndex"], 1);
        assert_eq!(ro["status"]["message"], "CanaryPauseStep");
        sim.sized(&v2, 1).await;
        sim.sized(&v1, 1).await;

        sim.patch_status(&json!({"abort": true}));
        let ro = sim.rollout_shows("/phase", json!("Degraded")).await;
        assert_eq!(
            ro["status"]["message"],
            "RolloutAborted: Rollout aborted update to revision 2"
        );
        assert!(ro["status"]["pauseConditions"].is_null());
        sim.sized(&v2, 0).await;
        sim.sized(&v1, 2).await;
        assert!(
            sim.reasons_about("shop")
                .contains(&"RolloutAborted".to_owned())
        );
    }
}

mod scale {
    use super::*;

    /// Run with `cargo test --release --test sim_controllers -- --ignored --nocapture`:
    /// prints how long 5 000 pods take to roll out, and the store's size.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement, not a check: slow in debug builds"]
    async fn five_thousand_pods_roll_out() {
        let sim = sim(10.0);
        let started = std::time::Instant::now();
        sim.create(
            "deployments.apps",
            deployment("big", 5000, "nginx:1.25", &json!({})),
        );
        let deadline = tokio::time::Instant::now() + Duration::from_mins(10);
        let (_, _, mut feed) = sim.store.list_and_watch("pods", None);
        while !rolled_out(&sim.get("deployments.apps", "big")) {
            let next = tokio::time::timeout_at(deadline, feed.recv()).await;
            assert!(next.is_ok(), "not rolled out in 10 minutes");
        }
        let elapsed = started.elapsed();
        let events = sim.list("events").len();
        eprintln!(
            "5000 pods available after {elapsed:?} (speed 10); {events} Event objects; \
             resourceVersion {}",
            sim.store.revision()
        );
    }
}
