//! The simulated kubelet (and the scheduler's binding step): runs every pod as its own
//! task (`pod`), started when the pod appears, told when it is deleted, abandoned when it
//! is gone. This loop only follows the pod feed and hands pods to their tasks; what a pod
//! does is in `pod`, `behaviour`, `probes` and `status`.

// Kubernetes kind and field names (ReplicaSet, maxSurge) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

pub mod applications;
pub mod behaviour;
pub mod pod;
pub mod probes;
pub mod references;
pub mod status;

use crate::controllers::objects::{name, namespace, terminating, uid};
use crate::controllers::runner::Ctx;
use crate::logs::Logs;
use crate::store::{EventType, Item, Object};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

/// What pods waiting on their claims look at again when it changes.
const STORAGE: [&str; 3] = [
    "persistentvolumeclaims",
    "persistentvolumes",
    crate::controllers::volumes::CLASSES,
];

/// A pod's task: its uid, its deletion signal, its handle.
struct Running {
    uid: String,
    deleted: watch::Sender<bool>,
    task: AbortHandle,
}

struct Kubelet {
    shared: Arc<pod::Shared>,
    tasks: JoinSet<()>,
    pods: HashMap<(String, String), Running>,
}

impl Kubelet {
    /// A pod was added or changed.
    fn observe(&mut self, pod: &Object) {
        let key = (namespace(pod).to_owned(), name(pod).to_owned());
        if let Some(running) = self.pods.get(&key)
            && running.uid == uid(pod)
        {
            if terminating(pod) {
                running.deleted.send_replace(true);
            }
            return;
        }
        if let Some(old) = self.pods.remove(&key) {
            old.task.abort();
        }
        let (deleted, stop) = watch::channel(terminating(pod));
        let task = self
            .tasks
            .spawn(pod::run(self.shared.clone(), pod.clone(), stop));
        let uid = uid(pod).to_owned();
        self.pods.insert(key, Running { uid, deleted, task });
    }

    /// A pod is gone from the store.
    fn gone(&mut self, pod: &Object) {
        let key = (namespace(pod).to_owned(), name(pod).to_owned());
        if self.pods.get(&key).is_some_and(|r| r.uid == uid(pod)) {
            if let Some(running) = self.pods.remove(&key) {
                running.task.abort();
            }
            self.shared.logs.remove_pod(&key.0, &key.1);
        }
    }

    /// Catches up from a fresh list after the feed lagged. Pods are decoded one at a time:
    /// thousands of them decoded at once were a spike of the server's memory.
    fn resync(&mut self, pods: &[Item]) {
        let mut live: HashSet<(String, String, String)> = HashSet::new();
        for pod in pods.iter().map(Item::object) {
            live.insert((
                namespace(&pod).to_owned(),
                name(&pod).to_owned(),
                uid(&pod).to_owned(),
            ));
            self.observe(&pod);
        }
        let stale: Vec<(String, String)> = self
            .pods
            .iter()
            .filter(|(k, r)| !live.contains(&(k.0.clone(), k.1.clone(), r.uid.clone())))
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            if let Some(running) = self.pods.remove(&key) {
                running.task.abort();
            }
            self.shared.logs.remove_pod(&key.0, &key.1);
        }
    }
}

/// Runs the kubelet until the task is aborted (which aborts every pod task with it).
pub async fn run(ctx: Ctx, logs: Logs) {
    let (pods, _, mut feed) = ctx.store.items_and_watch("pods", None);
    let mut kubelet = Kubelet {
        shared: Arc::new(pod::Shared::new(ctx, logs)),
        tasks: JoinSet::new(),
        pods: HashMap::new(),
    };
    kubelet.resync(&pods);
    loop {
        tokio::select! {
            received = feed.recv() => match received {
                Ok(event) if event.resource == "pods" => {
                    if event.type_ == EventType::Deleted {
                        kubelet.gone(&event.object());
                    } else {
                        kubelet.observe(&event.object());
                    }
                }
                Ok(event) if STORAGE.contains(&event.resource.as_str()) => {
                    kubelet.shared.volumes_changed.send_modify(|n| *n += 1);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    let (pods, _, fresh) = kubelet.shared.ctx.store.items_and_watch("pods", None);
                    feed = fresh;
                    kubelet.resync(&pods);
                }
                Err(RecvError::Closed) => return,
            },
            Some(_) = kubelet.tasks.join_next(), if !kubelet.tasks.is_empty() => {}
        }
    }
}
