//! One pod's life on its simulated node, as a task: scheduling (`scheduler` decides over
//! the nodes, what is bound to them and the pod's PersistentVolumeClaims; an unschedulable
//! pod stays Pending and is looked at again whenever a pod lets go of its node or storage
//! changes; claims waiting for their first consumer are provisioned on the node chosen),
//! mounting its volumes (FailedMount while a ConfigMap or Secret is
//! missing), image pulls with back-off (InvalidImageName for a reference that does not
//! parse), each container's configuration (CreateContainerConfigError while what its
//! environment names is missing), init containers in order, container start,
//! readiness, log lines, exits and restarts with CrashLoopBackOff, and graceful termination
//! once the pod is deleted. Every delay goes through the clock; every change is written to
//! the pod's status and told by the Events a kubelet and scheduler write.
//!
//! The task owns the pod's status and nothing else: it never changes another object.

use crate::controllers::events::{Involved, Note, Source};
use crate::controllers::nodes;
use crate::controllers::objects::{put, str_at};
use crate::controllers::runner::Ctx;
use crate::controllers::volumes;
use crate::kubelet::applications::{self, Play};
use crate::kubelet::behaviour::{Behaviour, back_off};
use crate::kubelet::probes::{Health, Kill};
use crate::kubelet::references;
use crate::kubelet::status::{PodState, full_image, hex64, image_id, split_image};
use crate::logs::{LogKey, Logs};
use crate::scheduler::{self, Candidate, Resources};
use crate::store::{self, Object};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const SCHEDULING: Duration = Duration::from_millis(200);
const PULL: Duration = Duration::from_secs(1);
const CREATE: Duration = Duration::from_millis(500);
/// How long ErrImagePull shows before the back-off starts.
const PULL_ERROR_SHOWN: Duration = Duration::from_secs(2);
/// How long an init container runs.
const INIT_RUN: Duration = Duration::from_millis(500);
/// How long the kubelet waits before it tries again to make a container's configuration
/// (its pod workers' back-off after a failed sync).
const CONFIG_RETRY: Duration = Duration::from_secs(10);
/// The volume manager's first wait after a failed mount; it doubles up to `MOUNT_RETRY_MAX`.
const MOUNT_RETRY: Duration = Duration::from_millis(500);
const MOUNT_RETRY_MAX: Duration = Duration::from_secs(122);
/// How long a `ready-failures` pod stays ready, or not ready, before it flips.
const FLAP: Duration = Duration::from_secs(3);
/// Time from deletion to removal of a pod whose containers ran.
const GRACE: Duration = Duration::from_secs(1);
/// Log lines written per wake-up at most (a pause must not turn into a flood).
const LINES_PER_WAKE: u64 = 1_000;
const UNSCHEDULABLE: &str = "0/3 nodes are available: 3 node(s) didn't match Pod's node \
    affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for \
    scheduling.";

/// What every pod task shares: the cluster, the logs, the nodes' image caches, what is
/// bound to each node.
pub struct Shared {
    pub ctx: Ctx,
    pub logs: Logs,
    images: Mutex<HashSet<(String, String)>>,
    bound: Mutex<Bound>,
    /// Bumped whenever a pod lets go of its node: unschedulable pods look again.
    released: watch::Sender<u64>,
    /// Bumped whenever a claim, volume or StorageClass changes: pods waiting on their
    /// claims look again.
    pub volumes_changed: watch::Sender<u64>,
    next_node: AtomicUsize,
    next_ip: AtomicU64,
}

/// The scheduler's view of the nodes: each bound pod's node and requests (by uid), and
/// each node's total.
#[derive(Default)]
struct Bound {
    pods: HashMap<String, (String, Resources)>,
    nodes: HashMap<String, Resources>,
}

impl Bound {
    fn add(&mut self, uid: &str, node: &str, asked: Resources) {
        if self.pods.contains_key(uid) {
            return;
        }
        self.pods.insert(uid.to_owned(), (node.to_owned(), asked));
        self.nodes.entry(node.to_owned()).or_default().add(asked);
    }

    fn remove(&mut self, uid: &str) -> bool {
        let Some((node, asked)) = self.pods.remove(uid) else {
            return false;
        };
        if let Some(total) = self.nodes.get_mut(&node) {
            total.remove(asked);
        }
        true
    }
}

impl Shared {
    pub fn new(ctx: Ctx, logs: Logs) -> Self {
        Shared {
            ctx,
            logs,
            images: Mutex::default(),
            bound: Mutex::default(),
            released: watch::channel(0).0,
            volumes_changed: watch::channel(0).0,
            next_node: AtomicUsize::new(0),
            next_ip: AtomicU64::new(0),
        }
    }

    fn has_image(&self, node: &str, image: &str) -> bool {
        let images = self.images.lock().unwrap_or_else(PoisonError::into_inner);
        images.contains(&(node.to_owned(), image.to_owned()))
    }

    fn add_image(&self, node: &str, image: &str) {
        let mut images = self.images.lock().unwrap_or_else(PoisonError::into_inner);
        images.insert((node.to_owned(), image.to_owned()));
    }

    fn bound(&self) -> std::sync::MutexGuard<'_, Bound> {
        self.bound.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Picks a node for the pod and counts it there, or says why none will do. Nodes that
    /// fit take turns. `volumes` are the pod's; its claims are looked up in `namespace`.
    fn place(
        &self,
        uid: &str,
        spec: &Value,
        volumes: &Value,
        namespace: &str,
    ) -> Result<(String, Vec<String>), String> {
        let (nodes, _) = self.ctx.store.list("nodes", None);
        let find = |resource: &str, name: &str| {
            let ns = if resource == "persistentvolumeclaims" {
                namespace
            } else {
                ""
            };
            self.ctx.store.get(resource, ns, name)
        };
        let claims = scheduler::claims(volumes, &find)
            .map_err(|reason| scheduler::prefilter_failed(nodes.len(), &reason))?;
        let mut spec = spec.clone();
        spec["volumeAffinity"] = json!(claims.affinity);
        let mut bound = self.bound();
        let candidates: Vec<Candidate<'_>> = nodes
            .iter()
            .map(|node| Candidate {
                node,
                used: bound
                    .nodes
                    .get(node["metadata"]["name"].as_str().unwrap_or_default())
                    .copied()
                    .unwrap_or_default(),
            })
            .collect();
        let fits = scheduler::feasible(&spec, &candidates)?;
        let turn = self.next_node.fetch_add(1, Ordering::Relaxed);
        let chosen = fits[turn % fits.len()];
        let node = nodes[chosen]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        bound.add(uid, &node, Resources::of_pod(&spec));
        Ok((node, claims.waiting))
    }

    /// The pod no longer holds its node's resources.
    fn release(&self, uid: &str) {
        if self.bound().remove(uid) {
            self.released.send_modify(|n| *n += 1);
        }
    }
}

/// Why a pod's life stopped early.
enum Stop {
    /// It was deleted (gracefully): terminate it.
    Deleted,
    /// It is gone from the store, or the kubelet let go of it.
    Gone,
}

/// Which list a container is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Init(usize),
    Main(usize),
}

struct PodTask<'a> {
    shared: &'a Shared,
    /// The pod as its Events name it, at the version last written. Not the whole pod: a
    /// task lives as long as its pod, and thousands of decoded pods held here were most of
    /// the simulated cluster's memory.
    pod: Involved,
    /// `spec.nodeName` as the pod came ("" until the scheduler's part binds it).
    assigned_node: String,
    restart_policy: String,
    behaviour: Behaviour,
    state: PodState,
    stop: watch::Receiver<bool>,
    source: Source,
    /// Image pull attempts so far (for `pull-failures`).
    pulls: u32,
    /// `ready-failures` still to come.
    flaps_left: u32,
    /// What the kubelet resolves before it starts containers: `spec.volumes`, and each
    /// init container's and container's `env` and `envFrom` (not whole containers).
    volumes: Value,
    init_env: Vec<Value>,
    env: Vec<Value>,
    /// What the scheduler reads: requests, selector, affinity, tolerations.
    placement: Value,
    /// What decides the containers' health: their probes and memory limits.
    probed: Value,
    /// What containers do to the cluster as they start (`applications`).
    plays: Vec<(Slot, Play)>,
}

impl Drop for PodTask<'_> {
    fn drop(&mut self) {
        self.shared.release(&self.pod.uid);
    }
}

/// The part of a pod spec the scheduler decides on.
fn placement(spec: &Value) -> Value {
    let resources = |field: &str| -> Vec<Value> {
        spec[field]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| json!({"resources": c["resources"]}))
            .collect()
    };
    json!({
        "containers": resources("containers"),
        "initContainers": resources("initContainers"),
        "nodeSelector": spec["nodeSelector"],
        "affinity": spec["affinity"],
        "tolerations": spec["tolerations"],
    })
}

/// The containers' probes and memory limits.
fn probed(spec: &Value) -> Value {
    let containers: Vec<Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({"readinessProbe": c["readinessProbe"], "livenessProbe": c["livenessProbe"],
                   "resources": {"limits": {"memory": c["resources"]["limits"]["memory"]}}})
        })
        .collect();
    json!({"containers": containers})
}

/// Each container's `env` and `envFrom`, of the pod spec's list `field`.
fn environments(spec: &Value, field: &str) -> Vec<Value> {
    spec[field]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({"env": c["env"], "envFrom": c["envFrom"]}))
        .collect()
}

/// What the pod's containers play (`applications`), by slot.
fn plays(pod: &Value) -> Vec<(Slot, Play)> {
    let namespace = str_at(pod, "/metadata/namespace");
    let list = |field: &str, slot: fn(usize) -> Slot| -> Vec<(Slot, Play)> {
        pod["spec"][field]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, c)| Some((slot(i), applications::play(namespace, c)?)))
            .collect()
    };
    let mut plays = list("initContainers", Slot::Init);
    plays.extend(list("containers", Slot::Main));
    plays
}

/// Runs `pod` until it is removed. `stop` turns true when the pod is deleted gracefully;
/// dropping its sender abandons the pod.
pub async fn run(shared: std::sync::Arc<Shared>, pod: Object, stop: watch::Receiver<bool>) {
    let behaviour = Behaviour::of(&pod);
    let mut task = PodTask {
        shared: &shared,
        assigned_node: str_at(&pod, "/spec/nodeName").to_owned(),
        restart_policy: str_at(&pod, "/spec/restartPolicy").to_owned(),
        state: PodState::new(&pod["spec"]),
        flaps_left: behaviour.ready_failures,
        behaviour,
        pod: Involved::of(&pod),
        stop,
        source: Source {
            component: "kubelet",
            host: None,
        },
        pulls: 0,
        volumes: json!({"volumes": pod["spec"]["volumes"]}),
        init_env: environments(&pod["spec"], "initContainers"),
        env: environments(&pod["spec"], "containers"),
        placement: placement(&pod["spec"]),
        probed: probed(&pod["spec"]),
        plays: plays(&pod),
    };
    // Everything needed is taken; the task outlives many versions of the pod.
    drop(pod);
    match task.live().await {
        Err(Stop::Gone) => return,
        Err(Stop::Deleted) => {}
        Ok(()) => {
            if task.stop.wait_for(|deleted| *deleted).await.is_err() {
                return;
            }
        }
    }
    task.terminate().await;
}

impl PodTask<'_> {
    async fn live(&mut self) -> Result<(), Stop> {
        self.schedule().await?;
        self.mount().await?;
        for i in 0..self.state.init.len() {
            self.pull(Slot::Init(i)).await?;
            self.configure(Slot::Init(i)).await?;
            self.start(Slot::Init(i)).await?;
            self.write()?;
            self.pause(INIT_RUN).await?;
            let now = store::now();
            self.state.init[i].terminate(0, &now);
            self.write()?;
        }
        let now = store::now();
        self.state.condition("Initialized", true, None, &now);
        for i in 0..self.state.containers.len() {
            self.pull(Slot::Main(i)).await?;
            self.configure(Slot::Main(i)).await?;
            self.start(Slot::Main(i)).await?;
            // Running as the last container starts, in the same write: a pod whose
            // containers all run is never Pending.
            if self
                .state
                .containers
                .iter()
                .all(crate::kubelet::status::Container::running)
            {
                self.state.phase = "Running";
            }
            self.write()?;
        }
        self.serve().await
    }

    /// Binds the pod to a node (the scheduler's part), or keeps it Pending.
    async fn schedule(&mut self) -> Result<(), Stop> {
        let assigned = self.assigned_node.clone();
        let node = if assigned.is_empty() {
            let scheduler = Source::controller("default-scheduler");
            if self.behaviour.unschedulable {
                let now = store::now();
                let reason = Some(("Unschedulable", UNSCHEDULABLE.to_owned()));
                self.state.condition("PodScheduled", false, reason, &now);
                self.write()?;
                let note = Note::warning("FailedScheduling", UNSCHEDULABLE);
                self.shared
                    .ctx
                    .events
                    .record_about(&scheduler, &self.pod, &note);
                return self.stopped().await;
            }
            self.pause(SCHEDULING).await?;
            let node = self.place(&scheduler).await?;
            let bound = self
                .shared
                .ctx
                .store
                .mutate("pods", &self.pod.namespace, &self.pod.name, |pod| {
                    put(pod, &["spec", "nodeName"], json!(node));
                })
                .map_err(|_| Stop::Gone)?;
            self.pod = Involved::of(&bound);
            let message = format!(
                "Successfully assigned {}/{} to {node}",
                self.pod.namespace, self.pod.name
            );
            self.shared.ctx.events.record_about(
                &scheduler,
                &self.pod,
                &Note::normal("Scheduled", message),
            );
            node
        } else {
            // Bound by its creator (a DaemonSet's pods): it counts on its node all the same.
            let asked = Resources::of_pod(&self.placement);
            self.shared.bound().add(&self.pod.uid, &assigned, asked);
            assigned
        };
        let now = store::now();
        self.state.condition("PodScheduled", true, None, &now);
        // The sandbox (network, IP) is up: containers can start.
        self.state
            .condition("PodReadyToStartContainers", true, None, &now);
        let incomplete: Vec<&str> = self.state.init.iter().map(|c| c.name.as_str()).collect();
        if incomplete.is_empty() {
            self.state.condition("Initialized", true, None, &now);
        } else {
            let message = format!(
                "containers with incomplete status: [{}]",
                incomplete.join(" ")
            );
            let reason = Some(("ContainersNotInitialized", message));
            self.state.condition("Initialized", false, reason, &now);
        }
        self.state.readiness(&now);
        self.state.host_ip = Some(nodes::host_ip(&node));
        let serial = self.shared.next_ip.fetch_add(1, Ordering::Relaxed);
        self.state.pod_ip = Some(nodes::pod_ip(&node, serial));
        self.state.start_time = Some(now);
        self.source.host = Some(node);
        self.write()
    }

    /// Finds the pod a node; while none will do, it is Unschedulable with a FailedScheduling
    /// Event, tried again whenever a pod lets go of its node or a claim, volume or class
    /// changes. Claims that wait for their first consumer are provisioned on the node
    /// chosen before the pod is bound to it.
    async fn place(&mut self, scheduler: &Source) -> Result<String, Stop> {
        let mut released = self.shared.released.subscribe();
        let mut volumes = self.shared.volumes_changed.subscribe();
        loop {
            let placed = self.shared.place(
                &self.pod.uid,
                &self.placement,
                &self.volumes,
                &self.pod.namespace,
            );
            let message = match placed {
                Ok((node, waiting)) => {
                    self.provision(&node, &waiting, &mut volumes).await?;
                    return Ok(node);
                }
                Err(message) => message,
            };
            let now = store::now();
            let reason = Some(("Unschedulable", message.clone()));
            self.state.condition("PodScheduled", false, reason, &now);
            self.write()?;
            let note = Note::warning("FailedScheduling", message);
            self.shared
                .ctx
                .events
                .record_about(scheduler, &self.pod, &note);
            tokio::select! {
                changed = released.changed() => {
                    if changed.is_err() {
                        return Err(Stop::Gone);
                    }
                }
                changed = volumes.changed() => {
                    if changed.is_err() {
                        return Err(Stop::Gone);
                    }
                }
                stopped = self.stopped() => return stopped.map(|()| String::new()),
            }
        }
    }

    /// Asks for the `waiting` claims to be provisioned on `node` (the scheduler's
    /// selected-node annotation) and waits until every one is bound.
    async fn provision(
        &mut self,
        node: &str,
        waiting: &[String],
        volumes: &mut watch::Receiver<u64>,
    ) -> Result<(), Stop> {
        let store = self.shared.ctx.store.clone();
        let namespace = self.pod.namespace.clone();
        for claim in waiting {
            let _ = store.mutate("persistentvolumeclaims", &namespace, claim, |c| {
                put(
                    c,
                    &["metadata", "annotations", volumes::SELECTED_NODE],
                    json!(node),
                );
            });
        }
        let bound = |claim: &String| {
            store
                .get("persistentvolumeclaims", &namespace, claim)
                .is_some_and(|c| str_at(&c, "/status/phase") == "Bound")
        };
        while !waiting.iter().all(bound) {
            tokio::select! {
                changed = volumes.changed() => {
                    if changed.is_err() {
                        return Err(Stop::Gone);
                    }
                }
                stopped = self.stopped() => return stopped,
            }
        }
        Ok(())
    }

    /// Mounts the pod's volumes: while a ConfigMap or Secret they name is missing, the pod
    /// stays ContainerCreating and each try is a FailedMount Event, on the volume
    /// manager's back-off.
    async fn mount(&mut self) -> Result<(), Stop> {
        let mut wait = MOUNT_RETRY;
        loop {
            let errors = {
                let store = &self.shared.ctx.store;
                let namespace = self.pod.namespace.as_str();
                let find = |resource: &str, name: &str| store.get(resource, namespace, name);
                references::mount_errors(&self.volumes, &find)
            };
            if errors.is_empty() {
                return Ok(());
            }
            for message in errors {
                let note = Note::warning("FailedMount", message);
                self.shared
                    .ctx
                    .events
                    .record_about(&self.source, &self.pod, &note);
            }
            self.pause(wait).await?;
            wait = (wait * 2).min(MOUNT_RETRY_MAX);
        }
    }

    /// Makes a container's configuration: while what its environment names is missing it
    /// waits in CreateContainerConfigError, trying again on the pod workers' back-off.
    async fn configure(&mut self, slot: Slot) -> Result<(), Stop> {
        loop {
            let error = {
                let env = match slot {
                    Slot::Init(i) => &self.init_env[i],
                    Slot::Main(i) => &self.env[i],
                };
                let store = &self.shared.ctx.store;
                let namespace = self.pod.namespace.as_str();
                let find = |resource: &str, name: &str| store.get(resource, namespace, name);
                references::config_error(env, namespace, &find)
            };
            let Some(message) = error else {
                return Ok(());
            };
            self.note(slot, Note::warning("Failed", format!("Error: {message}")));
            self.container(slot)
                .wait("CreateContainerConfigError", Some(message));
            self.write()?;
            self.pause(CONFIG_RETRY).await?;
        }
    }

    /// Pulls a container's image, failing (with back-off) as its tag and annotations say.
    /// A reference that does not parse is never pulled: InvalidImageName until the pod goes.
    async fn pull(&mut self, slot: Slot) -> Result<(), Stop> {
        let (image, policy) = {
            let container = self.container(slot);
            (container.image.clone(), container.pull_policy.clone())
        };
        if let Some(message) = references::invalid_image(&image) {
            self.note(slot, Note::warning("InspectFailed", message.clone()));
            self.note(slot, Note::warning("Failed", "Error: InvalidImageName"));
            self.container(slot).wait("InvalidImageName", Some(message));
            self.write()?;
            return self.stopped().await;
        }
        let node = self.source.host.clone().unwrap_or_default();
        let (_, tag) = split_image(&image);
        let policy = match policy.as_str() {
            "" if tag == "latest" => "Always",
            "" => "IfNotPresent",
            other => other,
        };
        let forced = self.pulls < self.behaviour.pull_failures;
        if policy != "Always" && !forced && self.shared.has_image(&node, &image) {
            let message = format!("Container image \"{image}\" already present on machine");
            self.note(slot, Note::normal("Pulled", message));
            self.container(slot).image_id = image_id(&image);
            return Ok(());
        }
        let mut failures = 0;
        loop {
            self.pulls += 1;
            self.note(
                slot,
                Note::normal("Pulling", format!("Pulling image \"{image}\"")),
            );
            self.pause(PULL).await?;
            let failure = if tag == "doesnotexist" {
                let full = full_image(&image);
                Some(format!(
                    "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed \
                     to pull and unpack image \"{full}\": failed to resolve reference \
                     \"{full}\": {full}: not found"
                ))
            } else if self.pulls <= self.behaviour.pull_failures {
                Some(format!(
                    "Failed to pull image \"{image}\": rpc error: code = Unknown desc = failed \
                     to pull and unpack image \"{}\": failed to copy: httpReadSeeker: failed \
                     open: unexpected status code 503 Service Unavailable",
                    full_image(&image)
                ))
            } else {
                None
            };
            let Some(message) = failure else {
                let size = 10_000_000 + u64::from(image.len() as u32) * 1_234_567;
                let message = format!(
                    "Successfully pulled image \"{image}\" in 1s (1s including waiting). \
                     Image size: {size} bytes."
                );
                self.note(slot, Note::normal("Pulled", message));
                self.shared.add_image(&node, &image);
                self.container(slot).image_id = image_id(&image);
                return Ok(());
            };
            failures += 1;
            self.note(slot, Note::warning("Failed", message.clone()));
            self.note(slot, Note::warning("Failed", "Error: ErrImagePull"));
            self.container(slot).wait("ErrImagePull", Some(message));
            self.write()?;
            self.pause(PULL_ERROR_SHOWN).await?;
            let back_off_message = format!("Back-off pulling image \"{image}\"");
            self.note(slot, Note::normal("BackOff", back_off_message.clone()));
            self.note(slot, Note::warning("Failed", "Error: ImagePullBackOff"));
            self.container(slot)
                .wait("ImagePullBackOff", Some(back_off_message));
            self.write()?;
            self.pause(back_off(failures)).await?;
        }
    }

    /// Creates and starts a container, writing its start-up log lines.
    async fn start(&mut self, slot: Slot) -> Result<(), Stop> {
        let pod_uid = self.pod.uid.clone();
        let container = self.container(slot);
        let seed = format!("{pod_uid}/{}/{}", container.name, container.restart_count);
        container.container_id = format!("containerd://{}", hex64(&seed));
        container.wait("ContainerCreating", None);
        let container_name = container.name.clone();
        self.note(
            slot,
            Note::normal("Created", format!("Created container: {container_name}")),
        );
        self.pause(CREATE).await?;
        let now = store::now();
        self.container(slot).run(&now);
        self.note(
            slot,
            Note::normal("Started", format!("Started container {container_name}")),
        );
        let image = self.container(slot).image.clone();
        self.log(slot, &format!("starting {container_name} (image {image})"));
        self.log(slot, "configuration loaded; listening on :8080");
        for (_, play) in self.plays.iter().filter(|(at, _)| *at == slot) {
            applications::perform(&self.shared.ctx.store, play);
        }
        Ok(())
    }

    /// The containers run: log lines, readiness, probes, flaps, exits, kills, restarts
    /// with back-off.
    async fn serve(&mut self) -> Result<(), Stop> {
        let pod_ip = self.state.pod_ip.clone().unwrap_or_default();
        let health = Health::of(&self.probed, &pod_ip, &self.behaviour);
        loop {
            let end = self.run_once(&health).await?;
            let code = end.code;
            if let Some(i) = end.liveness {
                let name = self.state.containers[i].name.clone();
                let message = format!("Container {name} failed liveness probe, will be restarted");
                self.note(Slot::Main(i), Note::normal("Killing", message));
            }
            let now = store::now();
            for i in 0..self.state.containers.len() {
                if code != 0 {
                    self.log(Slot::Main(i), &format!("fatal: exiting with code {code}"));
                }
                self.state.containers[i].terminate_as(code, end.reason, &now);
            }
            let restart = match self.restart_policy.as_str() {
                "Never" => false,
                "OnFailure" => code != 0,
                _ => true,
            };
            if !restart {
                self.state.phase = if code == 0 { "Succeeded" } else { "Failed" };
                self.state.readiness(&now);
                // A finished pod holds nothing on its node.
                self.shared.release(&self.pod.uid);
                return self.write();
            }
            let mut restarts = 0;
            for i in 0..self.state.containers.len() {
                let container = &mut self.state.containers[i];
                container.last_state = container.state.clone();
                container.restart_count += 1;
                restarts = container.restart_count;
                let message = format!(
                    "back-off {}s restarting failed container={} pod={}_{}({})",
                    back_off(restarts).as_secs(),
                    container.name,
                    self.pod.name,
                    self.pod.namespace,
                    self.pod.uid
                );
                container.wait("CrashLoopBackOff", Some(message));
                let message = format!(
                    "Back-off restarting failed container {} in pod {}_{}({})",
                    container.name, self.pod.name, self.pod.namespace, self.pod.uid
                );
                self.note(Slot::Main(i), Note::warning("BackOff", message));
            }
            self.state.readiness(&now);
            self.write()?;
            self.pause(back_off(restarts)).await?;
            for i in 0..self.state.containers.len() {
                let image = self.state.containers[i].image.clone();
                let message = format!("Container image \"{image}\" already present on machine");
                self.note(Slot::Main(i), Note::normal("Pulled", message));
                self.start(Slot::Main(i)).await?;
            }
            self.write()?;
        }
    }

    /// One run of the containers, until they exit or are killed; returns how it ended.
    async fn run_once(&mut self, health: &Health) -> Result<Kill, Stop> {
        let clock = self.shared.ctx.clock;
        let started = Instant::now();
        let exit = self.behaviour.exit().map(|(after, code)| Kill {
            after,
            code,
            reason: if code == 0 { "Completed" } else { "Error" },
            liveness: None,
        });
        let end = exit
            .into_iter()
            .chain(health.kill())
            .min_by_key(|k| k.after);
        // Failing probes, and how many of each failure have been told so far. A liveness
        // probe fails until its container is killed, a readiness probe for as long as it runs.
        let probes: Vec<_> = health.readiness.iter().chain(&health.liveness).collect();
        let mut told = vec![0u32; probes.len()];
        let mut ready_at = Some(self.behaviour.start_delay.max(health.ready_after));
        let mut flip_at: Option<Duration> = None;
        let mut lines: u64 = 0;
        let every = self.behaviour.log_every;
        // Wake-ups are at least this far apart in real time; logs catch up in batches.
        let min_step = Duration::from_millis(20);
        loop {
            let now = started.elapsed().mul_f64(clock.speed());
            let due = (now.as_secs_f64() / every.as_secs_f64()) as u64;
            for line in lines + 1..=due.min(lines + LINES_PER_WAKE) {
                for i in 0..self.state.containers.len() {
                    self.log(Slot::Main(i), &format!("GET /healthz 200 request={line}"));
                }
            }
            lines = lines.max(due);
            for (probe, told) in probes.iter().zip(&mut told) {
                // However many failures came due since the last wake-up, one Event is
                // written (repeats only raise its count).
                if probe.at(*told) <= now {
                    let note = Note::warning("Unhealthy", probe.message.clone());
                    self.note(Slot::Main(probe.container), note);
                    while probe.at(*told) <= now {
                        *told += 1;
                    }
                }
            }
            if let Some(end) = &end
                && now >= end.after
            {
                return Ok(end.clone());
            }
            if ready_at.is_some_and(|at| now >= at) {
                ready_at = None;
                self.set_ready(true, health)?;
                flip_at = (self.flaps_left > 0).then_some(now + FLAP);
            }
            if flip_at.is_some_and(|at| now >= at) {
                let ready = !self.state.containers.iter().all(|c| c.ready);
                if ready {
                    self.flaps_left = self.flaps_left.saturating_sub(1);
                } else {
                    let note = Note::warning(
                        "Unhealthy",
                        "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    );
                    self.note(Slot::Main(0), note);
                }
                self.set_ready(ready, health)?;
                flip_at = (!ready || self.flaps_left > 0).then_some(now + FLAP);
            }
            let next_line = every.mul_f64((lines + 1) as f64);
            let next_probe = probes.iter().zip(&told).map(|(p, n)| p.at(*n)).min();
            let next = [
                end.as_ref().map(|k| k.after),
                ready_at,
                flip_at,
                next_probe,
                Some(next_line),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(next_line);
            let wait = clock.real(next.saturating_sub(now)).max(min_step);
            self.pause_real(wait).await?;
        }
    }

    /// Sets the containers' readiness; one whose readiness probe fails is never ready.
    fn set_ready(&mut self, ready: bool, health: &Health) -> Result<(), Stop> {
        for (i, container) in self.state.containers.iter_mut().enumerate() {
            container.ready = ready && container.running() && !health.unready(i);
        }
        let now = store::now();
        self.state.readiness(&now);
        self.write()
    }

    /// The pod was deleted: stop its containers, then remove it.
    async fn terminate(&mut self) {
        let now = store::now();
        let mut ran = false;
        for i in 0..self.state.containers.len() {
            if self.state.containers[i].running() {
                let name = self.state.containers[i].name.clone();
                self.note(
                    Slot::Main(i),
                    Note::normal("Killing", format!("Stopping container {name}")),
                );
                self.state.containers[i].terminate(0, &now);
                ran = true;
            }
        }
        if ran {
            self.state.readiness(&now);
            // Already gone is fine: the removal below has nothing left to do then.
            let _ = self.write();
            self.shared.ctx.clock.sleep(GRACE).await;
        }
        // Removed by someone else first is fine.
        let _ = self
            .shared
            .ctx
            .store
            .remove("pods", &self.pod.namespace, &self.pod.name);
        self.shared
            .logs
            .remove_pod(&self.pod.namespace, &self.pod.name);
    }

    fn container(&mut self, slot: Slot) -> &mut crate::kubelet::status::Container {
        match slot {
            Slot::Init(i) => &mut self.state.init[i],
            Slot::Main(i) => &mut self.state.containers[i],
        }
    }

    /// An Event about one container.
    fn note(&mut self, slot: Slot, note: Note<'_>) {
        let path = match slot {
            Slot::Init(i) => self
                .state
                .init
                .get(i)
                .map(|c| format!("spec.initContainers{{{}}}", c.name)),
            Slot::Main(i) => self
                .state
                .containers
                .get(i)
                .map(|c| format!("spec.containers{{{}}}", c.name)),
        };
        let Some(path) = path else {
            return;
        };
        self.shared
            .ctx
            .events
            .record_about(&self.source, &self.pod, &note.at(path));
    }

    /// A log line of the container's current instance.
    fn log(&mut self, slot: Slot, text: &str) {
        let (container, instance) = {
            let container = self.container(slot);
            (container.name.clone(), container.restart_count)
        };
        let key = LogKey {
            namespace: self.pod.namespace.clone(),
            pod: self.pod.name.clone(),
            container,
            instance,
        };
        let level = if text.starts_with("fatal") {
            "ERROR"
        } else {
            "INFO"
        };
        self.shared.logs.append(&key, format!("{level} {text}"));
    }

    /// Writes the status; the pod being gone stops the task.
    fn write(&mut self) -> Result<(), Stop> {
        let status = self.state.render();
        let written = self
            .shared
            .ctx
            .store
            .mutate("pods", &self.pod.namespace, &self.pod.name, |pod| {
                pod["status"] = status;
            })
            .map_err(|_| Stop::Gone)?;
        self.pod.resource_version = written["metadata"]["resourceVersion"].clone();
        Ok(())
    }

    async fn pause(&mut self, simulated: Duration) -> Result<(), Stop> {
        let real = self.shared.ctx.clock.real(simulated);
        self.pause_real(real).await
    }

    async fn pause_real(&mut self, real: Duration) -> Result<(), Stop> {
        tokio::select! {
            () = tokio::time::sleep(real) => Ok(()),
            deleted = self.stop.wait_for(|deleted| *deleted) => match deleted {
                Ok(_) => Err(Stop::Deleted),
                Err(_) => Err(Stop::Gone),
            },
        }
    }

    /// Waits until the pod is deleted.
    async fn stopped(&mut self) -> Result<(), Stop> {
        match self.stop.wait_for(|deleted| *deleted).await {
            Ok(_) => Err(Stop::Deleted),
            Err(_) => Err(Stop::Gone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::store::Store;
    use std::sync::Arc;

    /// A task lives as long as its pod: holding the pod it was started with would keep a
    /// decoded copy of every pod of the cluster (issue 3: most of the server's memory).
    #[tokio::test]
    async fn a_running_pod_task_holds_no_copy_of_its_pod() {
        let store = Arc::new(Store::default());
        // Nowhere to run without nodes.
        nodes::create(&store);
        let created = store
            .create(
                "pods",
                json!({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "p", "namespace": "ns"},
                       "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}),
            )
            .unwrap();
        let given = Arc::downgrade(&created);
        let (_, _, mut feed) = store.items_and_watch("pods", None);
        let shared = Arc::new(Shared::new(
            Ctx::new(store.clone(), Clock::new(100.0)),
            Logs::default(),
        ));
        let (_deleted, stop) = watch::channel(false);
        let task = tokio::spawn(run(shared, created, stop));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let event = tokio::time::timeout_at(deadline, feed.recv())
                .await
                .expect("the pod runs within the deadline")
                .expect("the feed keeps up");
            if event.object()["status"]["phase"] == "Running" {
                break;
            }
        }
        assert!(given.upgrade().is_none(), "the task still holds its pod");
        task.abort();
    }
}
