//! How long a failed watch waits before it tries again.
//!
//! kube-rs's default back-off grows to 30 s and only forgets past failures after 120 s
//! without one. That suits a controller running for days; during a rollout it means a few
//! unlucky 5xx answers leave an object unseen for half a minute, past many a step timeout.
//! Here the wait grows from 100 ms to at most 3 s, and every success starts it over.

use kube::runtime::utils::Backoff;
use std::time::Duration;

const FIRST: Duration = Duration::from_millis(100);
const LONGEST: Duration = Duration::from_secs(3);

/// Exponential back-off with ±20 % jitter, so that many watches cut at once do not all
/// come back in the same instant.
#[derive(Debug, Clone)]
pub struct WatchBackoff {
    next: Duration,
}

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff { next: FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let base = self.next;
        self.next = (self.next * 2).min(LONGEST);
        Some(crate::cluster::jittered(base, 0.2))
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_a_short_cap_and_starts_over_after_a_success() {
        let mut backoff = WatchBackoff::default();
        let waits: Vec<Duration> = backoff.by_ref().take(8).collect();
        assert!(waits[0] >= FIRST.mul_f64(0.8) && waits[0] <= FIRST.mul_f64(1.2));
        assert!(waits[3] > waits[0] * 4, "it grows: {waits:?}");
        assert!(
            waits.iter().all(|w| *w <= LONGEST.mul_f64(1.2)),
            "{waits:?}"
        );
        assert!(
            waits[7] >= LONGEST.mul_f64(0.8),
            "it reaches the cap: {waits:?}"
        );
        backoff.reset();
        assert!(backoff.next().is_some_and(|w| w <= FIRST.mul_f64(1.2)));
    }
}
