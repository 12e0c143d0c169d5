//! Start-up failures that become final: objects the watch judges again when their grace
//! ends.
//!
//! A young pod waiting for a Secret, or a young autoscaler without metrics, is
//! `in_progress` with a later failure ([`crate::status::Later`]); if the object does not
//! change before then, no watch event will come to say so, so the watch keeps the settled
//! node here and hands it to the graph when its time comes. Pure: the time is an argument.

use super::summary::Node;
use crate::status::Later;
use std::collections::HashMap;
use tokio::time::Instant;

/// The nodes waiting for their grace to end, by uid.
#[derive(Debug, Default)]
pub struct Settling {
    waiting: HashMap<String, Waiting>,
}

#[derive(Debug)]
struct Waiting {
    at: Instant,
    source: usize,
    node: Node,
}

impl Settling {
    /// Watch `source` saw `node` at `now`: it waits for `later`, or for nothing any more.
    pub fn seen(&mut self, source: usize, node: &Node, later: Option<&Later>, now: Instant) {
        let uid = &node.object.uid;
        match later {
            Some(later) => {
                let waiting = Waiting {
                    at: now + later.after,
                    source,
                    node: node.settled(later),
                };
                self.waiting.insert(uid.clone(), waiting);
            }
            None => {
                self.waiting.remove(uid);
            }
        }
    }

    /// The object is gone.
    pub fn deleted(&mut self, uid: &str) {
        self.waiting.remove(uid);
    }

    /// Watch `source` lists everything again: what is still there and young comes back
    /// with the list.
    pub fn relisted(&mut self, source: usize) {
        self.waiting.retain(|_, w| w.source != source);
    }

    /// When the next grace ends.
    pub fn next(&self) -> Option<Instant> {
        self.waiting.values().map(|w| w.at).min()
    }

    /// The nodes whose grace has ended by `now`, with their watch, taken out.
    pub fn due(&mut self, now: Instant) -> Vec<(usize, Node)> {
        let uids: Vec<String> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.at <= now)
            .map(|(uid, _)| uid.clone())
            .collect();
        uids.into_iter()
            .filter_map(|uid| self.waiting.remove(&uid))
            .map(|w| (w.source, w.node))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use chrono::{DateTime, Utc};
    use serde_json::json;
    use std::time::Duration;

    fn young_pod(uid: &str) -> (Node, Option<Later>) {
        let created = "2026-03-01T10:00:00Z";
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": uid, "namespace": "ns", "uid": uid, "creationTimestamp": created},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "app",
                "state": {"waiting": {"reason": "CreateContainerConfigError",
                    "message": "secret \"db\" not found"}}}]}});
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339(created)
            .expect("a time")
            .with_timezone(&Utc)
            + chrono::Duration::seconds(10);
        super::super::summary::node(&pod, now).expect("a node")
    }

    #[test]
    fn a_young_failure_settles_when_its_grace_ends() {
        let (node, later) = young_pod("p1");
        assert_eq!(node.object.status, Status::InProgress);
        let start = Instant::now();
        let mut settling = Settling::default();
        settling.seen(2, &node, later.as_ref(), start);
        assert_eq!(settling.next(), Some(start + Duration::from_secs(20)));
        assert!(settling.due(start + Duration::from_secs(19)).is_empty());
        let due = settling.due(start + Duration::from_secs(20));
        assert_eq!(due.len(), 1);
        let (source, settled) = &due[0];
        assert_eq!(*source, 2);
        assert_eq!(settled.object.status, Status::Failed);
        assert_eq!(
            settled.object.message,
            "app: CreateContainerConfigError (secret \"db\" not found)"
        );
        assert_eq!(settling.next(), None);
    }

    #[test]
    fn a_change_a_deletion_or_a_relist_ends_the_wait() {
        let start = Instant::now();
        let mut settling = Settling::default();
        for uid in ["p1", "p2", "p3"] {
            let (node, later) = young_pod(uid);
            settling.seen(usize::from(uid == "p3"), &node, later.as_ref(), start);
        }
        let (fixed, _) = young_pod("p1");
        settling.seen(0, &fixed, None, start);
        settling.deleted("p2");
        assert!(settling.next().is_some());
        settling.relisted(1);
        assert_eq!(settling.next(), None);
    }
}
