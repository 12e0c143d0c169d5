//! What the view remembers of the past: each object's last status transitions with the
//! elapsed time of each (`Pending 0:00 → ContainerCreating 0:01 → Running 0:03 → Ready
//! 0:05`), each workload's ready replicas per second, and the same summed over the counted
//! workloads, for the header's gauge.
//!
//! Owns [`History`]; [`App::update`](super::App::update) feeds it each changed object as
//! the diffs come, and the drawing code reads it. Everything is bounded, so that a 5 000-pod
//! rollout cannot grow it without limit: a few transitions per object, forgotten when the
//! object goes, and a fixed ring of seconds per workload ([`gauge::Series`]). Feeding one
//! object costs the same whatever the number of pods: it never walks the world.

use crate::gauge::{self, Series};
use crate::model::{ObjectKey, TrackedObject, World};
use crate::status::Status;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::time::Duration;

/// Transitions kept per object: the last ones; older ones are only said to have been.
pub const KEPT_TRANSITIONS: usize = 6;

/// Longest label a transition keeps, in characters.
const LABEL_CHARS: usize = 24;

/// An object's last transitions, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transitions {
    /// Older transitions were forgotten.
    pub earlier: bool,
    /// Each state's label and the elapsed time it was first seen at.
    pub steps: VecDeque<(String, Duration)>,
}

#[derive(Debug, Default)]
pub struct History {
    transitions: FxHashMap<ObjectKey, Transitions>,
    ready: FxHashMap<ObjectKey, Series>,
    overall: Series,
}

impl History {
    /// Notes what `world` now shows of `key` at elapsed time `now`: a new transition when its
    /// label changed, its gauge's ready count when it is a workload (and its Deployment's,
    /// for a `ReplicaSet`). An object gone from the world is forgotten.
    pub(super) fn observe(&mut self, world: &World, key: &ObjectKey, now: Duration) {
        let Some(object) = world.object(key) else {
            self.transitions.remove(key);
            self.ready.remove(key);
            return;
        };
        let label = label(object);
        let transitions = self.transitions.entry(key.clone()).or_default();
        if transitions
            .steps
            .back()
            .is_none_or(|(last, _)| *last != label)
        {
            transitions.steps.push_back((label, now));
            if transitions.steps.len() > KEPT_TRANSITIONS {
                transitions.steps.pop_front();
                transitions.earlier = true;
            }
        }
        self.record_ready(world, key, now);
        if let Some(deployment) = object.owner.as_ref().filter(|o| o.kind == "Deployment") {
            self.record_ready(world, deployment, now);
        }
    }

    fn record_ready(&mut self, world: &World, key: &ObjectKey, now: Duration) {
        if let Some(gauge) = gauge::of_key(world, key) {
            self.ready
                .entry(key.clone())
                .or_default()
                .record(now, gauge.ready);
        }
    }

    /// Notes the counted workloads' ready replicas, once per batch of diffs.
    pub(super) fn observe_overall(&mut self, world: &World, now: Duration) {
        if let Some(gauge) = gauge::overall(world) {
            self.overall.record(now, gauge.ready);
        }
    }

    pub fn transitions(&self, key: &ObjectKey) -> Option<&Transitions> {
        self.transitions.get(key)
    }

    /// The ready replicas of a workload over time.
    pub fn ready(&self, key: &ObjectKey) -> Option<&Series> {
        self.ready.get(key)
    }

    /// The counted workloads' ready replicas over time.
    pub fn overall(&self) -> &Series {
        &self.overall
    }
}

/// What a transition calls the state of `object`: for a pod, the word its message starts
/// with (`Pending`, `ContainerCreating`, `Running`, `Ready`, `ImagePullBackOff`), without
/// the container it names; for anything else, its status word.
fn label(object: &TrackedObject) -> String {
    if object.key.kind != "Pod" || object.status == Status::Terminating {
        return object.status.as_str().to_owned();
    }
    let mut message = object.message.as_str();
    // `nginx: ContainerCreating`: the container is named in the details already.
    if let Some((name, rest)) = message.split_once(": ")
        && object.containers.iter().any(|c| c.name == name)
    {
        message = rest;
    }
    let word = [",", " (", ": ", " —"]
        .iter()
        .filter_map(|stop| message.find(stop))
        .min()
        .map_or(message, |end| &message[..end])
        .trim();
    if word.is_empty() {
        return object.status.as_str().to_owned();
    }
    let mut label: String = crate::ui::tree::one_line(word)
        .chars()
        .take(LABEL_CHARS)
        .collect();
    if word.chars().count() > LABEL_CHARS {
        label.push('…');
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Diff;
    use crate::status::{ContainerRow, Counts};

    fn pod(message: &str, status: Status) -> TrackedObject {
        let mut pod =
            TrackedObject::for_test(ObjectKey::new("Pod", Some("ns"), "web-1"), status, None);
        pod.message = message.into();
        pod.containers = vec![ContainerRow {
            name: "nginx".into(),
            ..ContainerRow::default()
        }];
        pod
    }

    #[test]
    fn a_pod_is_labelled_by_the_first_word_of_its_message() {
        let cases = [
            ("Pending", Status::InProgress, "Pending"),
            (
                "nginx: ContainerCreating",
                Status::InProgress,
                "ContainerCreating",
            ),
            ("Running, not ready: nginx", Status::InProgress, "Running"),
            ("Ready", Status::Success, "Ready"),
            (
                "nginx: ImagePullBackOff (Back-off pulling image \"x\")",
                Status::Failed,
                "ImagePullBackOff",
            ),
            (
                "Unschedulable: 0/3 nodes are available",
                Status::InProgress,
                "Unschedulable",
            ),
            ("Ready", Status::Terminating, "terminating"),
            ("", Status::InProgress, "in_progress"),
            (
                "Init container wait-for-the-database-to-come-up running",
                Status::InProgress,
                "Init container wait-for-…",
            ),
        ];
        for (message, status, expected) in cases {
            assert_eq!(label(&pod(message, status)), expected, "{message}");
        }
        let deployment = TrackedObject::for_test(
            ObjectKey::new("Deployment", Some("ns"), "web"),
            Status::InProgress,
            None,
        );
        assert_eq!(label(&deployment), "in_progress");
    }

    #[test]
    fn transitions_are_kept_when_the_label_changes_and_only_the_last_few() {
        let key = ObjectKey::new("Pod", Some("ns"), "web-1");
        let mut world = World::new(vec![key.clone()]);
        let mut history = History::default();
        let steps = [
            ("Pending", 0),
            ("Pending", 1),
            ("nginx: ContainerCreating", 1),
            ("Running, not ready: nginx", 3),
            ("Ready", 5),
        ];
        for (message, at) in steps {
            let status = if message == "Ready" {
                Status::Success
            } else {
                Status::InProgress
            };
            world.apply(Diff::Upsert(Box::new(pod(message, status))));
            history.observe(&world, &key, Duration::from_secs(at));
        }
        let seen = history.transitions(&key).unwrap();
        let steps: Vec<(&str, u64)> = seen
            .steps
            .iter()
            .map(|(label, at)| (label.as_str(), at.as_secs()))
            .collect();
        assert_eq!(
            steps,
            [
                ("Pending", 0),
                ("ContainerCreating", 1),
                ("Running", 3),
                ("Ready", 5)
            ]
        );
        assert!(!seen.earlier);

        for flap in 0..20 {
            let message = if flap % 2 == 0 { "Pending" } else { "Ready" };
            world.apply(Diff::Upsert(Box::new(pod(message, Status::InProgress))));
            history.observe(&world, &key, Duration::from_secs(10 + flap));
        }
        let seen = history.transitions(&key).unwrap();
        assert_eq!(seen.steps.len(), KEPT_TRANSITIONS);
        assert!(seen.earlier);
        assert_eq!(seen.steps.back().unwrap().1, Duration::from_secs(29));

        world.apply(Diff::Remove(key.clone()));
        history.observe(&world, &key, Duration::from_secs(30));
        assert!(history.transitions(&key).is_none(), "forgotten once gone");
    }

    #[test]
    fn a_replicasets_change_moves_its_deployments_ready_series() {
        let web = ObjectKey::new("Deployment", Some("ns"), "web");
        let rs = ObjectKey::new("ReplicaSet", Some("ns"), "web-2");
        let mut world = World::new(vec![web.clone()]);
        let mut deployment = TrackedObject::for_test(web.clone(), Status::InProgress, None);
        deployment.counts = Some(Counts {
            desired: 10,
            ready: 10,
        });
        world.apply(Diff::Upsert(Box::new(deployment)));
        let mut history = History::default();
        for (at, ready) in [(0, 0), (2, 4), (4, 8)] {
            let mut set = TrackedObject::for_test(rs.clone(), Status::InProgress, Some(&web));
            set.counts = Some(Counts { desired: 10, ready });
            world.apply(Diff::Upsert(Box::new(set)));
            history.observe(&world, &rs, Duration::from_secs(at));
            history.observe_overall(&world, Duration::from_secs(at));
        }
        let series = history.ready(&web).unwrap();
        assert_eq!(series.tail(Duration::from_secs(4), 5), [0, 0, 4, 4, 8]);
        assert_eq!(history.overall().rate(Duration::from_secs(4)), Some(2.0));
        assert_eq!(history.ready(&rs).unwrap().latest(), Some(8));
    }
}
