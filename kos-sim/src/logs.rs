//! Container logs of the simulated kubelet: it appends lines, the API's `log` subresource
//! reads and follows them.
//!
//! Keyed by namespace, pod, container and instance (0 for the first start, +1 per restart),
//! so that `previous=true` can serve the crashed instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// Which container instance a line belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub instance: u32,
}

/// One log line with the simulated time it was written (RFC 3339, for `timestamps=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: chrono::DateTime<chrono::Utc>,
    pub text: String,
}

/// Lines kept per container instance; older ones are dropped, as a kubelet rotates logs.
const MAX_LINES: usize = 10_000;

#[derive(Default)]
struct Inner {
    lines: HashMap<LogKey, Vec<LogLine>>,
    followers: HashMap<LogKey, broadcast::Sender<LogLine>>,
}

/// Every container's log. Cheap to clone.
#[derive(Clone, Default)]
pub struct Logs {
    inner: Arc<Mutex<Inner>>,
}

impl Logs {
    /// Appends a line to a container instance's log and wakes its followers.
    pub fn append(&self, key: &LogKey, text: impl Into<String>) {
        let line = LogLine {
            time: chrono::Utc::now(),
            text: text.into(),
        };
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let lines = inner.lines.entry(key.clone()).or_default();
        if lines.len() == MAX_LINES {
            lines.remove(0);
        }
        lines.push(line.clone());
        if let Some(sender) = inner.followers.get(key) {
            // No receivers left is fine: nobody follows this log any more.
            let _ = sender.send(line);
        }
    }

    /// The lines written so far, and a receiver of the lines written after them (taken under
    /// one lock, so that no line is lost or repeated between the two).
    pub fn read_and_follow(&self, key: &LogKey) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let lines = inner.lines.get(key).cloned().unwrap_or_default();
        let receiver = inner
            .followers
            .entry(key.clone())
            .or_insert_with(|| broadcast::channel(1024).0)
            .subscribe();
        (lines, receiver)
    }

    /// The lines written so far.
    pub fn read(&self, key: &LogKey) -> Vec<LogLine> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.lines.get(key).cloned().unwrap_or_default()
    }

    /// Forgets every log of a pod (it was deleted).
    pub fn remove_pod(&self, namespace: &str, pod: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .lines
            .retain(|k, _| !(k.namespace == namespace && k.pod == pod));
        inner
            .followers
            .retain(|k, _| !(k.namespace == namespace && k.pod == pod));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(instance: u32) -> LogKey {
        LogKey {
            namespace: "ns".into(),
            pod: "p".into(),
            container: "c".into(),
            instance,
        }
    }

    #[tokio::test]
    async fn follow_sees_lines_after_the_snapshot() {
        let logs = Logs::default();
        logs.append(&key(0), "one");
        let (before, mut follow) = logs.read_and_follow(&key(0));
        logs.append(&key(0), "two");
        assert_eq!(before.len(), 1);
        assert_eq!(follow.recv().await.unwrap().text, "two");
        assert!(logs.read(&key(1)).is_empty(), "instances are separate");
        logs.remove_pod("ns", "p");
        assert!(logs.read(&key(0)).is_empty());
    }
}
