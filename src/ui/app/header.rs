//! The header's state: where the objects live, and when its clocks next show a new second.
//!
//! Owns [`Header`] and the arithmetic of the elapsed clock and the tracker's countdowns as
//! the header draws them (whole seconds). It must not read a clock or change the tracker:
//! the time it works from is the one the last message brought.

use crate::tracker::Tracker;
use std::time::Duration;

/// What the header names: the context, and its namespace (shown when the tracked objects
/// are all cluster-scoped; otherwise the header names theirs), and what the API server warned
/// of while kos applied them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub context: String,
    pub namespace: String,
    /// The server's warnings, each `Kind namespace/name: text`.
    pub warnings: Vec<String>,
}

/// The elapsed time at which the screen next changes by itself, as of `now`: a countdown's
/// or the elapsed clock's second turns, or the tracker must decide. `None` after the verdict.
pub(super) fn next_wake(tracker: &Tracker, now: Duration) -> Option<Duration> {
    if tracker.verdict().is_some() {
        return None;
    }
    let mut wake = now + until_second_turns(now);
    if let Some(left) = tracker.timeout_remaining(now) {
        wake = wake.min(now + until_countdown_turns(left));
    }
    if let Some((_, left)) = tracker.window_remaining(now) {
        wake = wake.min(now + until_countdown_turns(left));
    }
    if let Some(deadline) = tracker.next_deadline() {
        wake = wake.min(deadline.max(now));
    }
    Some(wake)
}

/// Time until a clock counting up, shown in whole seconds, shows the next second.
fn until_second_turns(elapsed: Duration) -> Duration {
    Duration::from_nanos(1_000_000_000 - u64::from(elapsed.subsec_nanos()))
}

/// Time until a countdown, shown in whole seconds rounded up, shows the next lower second.
fn until_countdown_turns(left: Duration) -> Duration {
    match left.subsec_nanos() {
        0 => Duration::from_secs(1),
        nanos => Duration::from_nanos(u64::from(nanos)),
    }
}
