//! The verdict of a whole `apply` or `watch`, as a pure state machine.
//!
//! It is fed the raw state of the tracked world (`World::raw_state`) and the time elapsed
//! since tracking started, and owns nothing else: no clock, no I/O, no knowledge of objects.
//! Front ends call [`Tracker::update`] on every change and at [`Tracker::next_deadline`].

use crate::exit::ExitCode;
use crate::status::Status;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The outcome of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Success,
    Failed,
    Timeout,
    Interrupted,
}

impl Verdict {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Verdict::Success => ExitCode::Success,
            Verdict::Failed => ExitCode::Failed,
            Verdict::Timeout => ExitCode::Timeout,
            Verdict::Interrupted => ExitCode::Interrupted,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Success => "success",
            Verdict::Failed => "failed",
            Verdict::Timeout => "timeout",
            Verdict::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A settled raw state (success or failed) waiting out the stabilization window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    state: Verdict,
    started: Duration,
}

/// Raw state + stabilization window + step deadline → verdict.
#[derive(Debug, Clone)]
pub struct Tracker {
    timeout: Option<Duration>,
    stabilize: Duration,
    window: Option<Window>,
    verdict: Option<(Verdict, Duration)>,
}

impl Tracker {
    /// `timeout`: the step timeout (`None` disables it). `stabilize`: how long a settled
    /// state must hold before it is final (zero: the first one is final).
    pub fn new(timeout: Option<Duration>, stabilize: Duration) -> Self {
        Tracker {
            timeout,
            stabilize,
            window: None,
            verdict: None,
        }
    }

    /// Feeds the raw state at `now` (elapsed since tracking started); returns the verdict
    /// once there is one. A verdict, once given, never changes.
    pub fn update(&mut self, raw: Status, now: Duration) -> Option<Verdict> {
        if let Some((verdict, _)) = self.verdict {
            return Some(verdict);
        }
        // A window that ran its course decides, whatever came after its end.
        if let Some(window) = self.window
            && now >= window.started + self.stabilize
        {
            return Some(self.decide(window.state, window.started + self.stabilize));
        }
        let settled = match raw {
            Status::Success => Some(Verdict::Success),
            Status::Failed => Some(Verdict::Failed),
            _ => None,
        };
        // A change of the raw state drops the running window; a settled state opens one.
        if self.window.map(|w| w.state) != settled {
            self.window = settled.map(|state| Window {
                state,
                started: now,
            });
        }
        if let Some(deadline) = self.timeout
            && now >= deadline
            && self.window.is_none_or(|w| w.started > deadline)
        {
            // No window was running at the deadline, or the one that was has flipped.
            return Some(self.decide(Verdict::Timeout, now));
        }
        match self.window {
            Some(window) if now >= window.started + self.stabilize => {
                Some(self.decide(window.state, now))
            }
            _ => None,
        }
    }

    fn decide(&mut self, verdict: Verdict, at: Duration) -> Verdict {
        self.window = None;
        self.verdict = Some((verdict, at));
        verdict
    }

    /// The user stopped the run (Ctrl-C) before a verdict.
    pub fn interrupt(&mut self, now: Duration) {
        if self.verdict.is_none() {
            self.decide(Verdict::Interrupted, now);
        }
    }

    pub fn verdict(&self) -> Option<Verdict> {
        self.verdict.map(|(verdict, _)| verdict)
    }

    /// When the verdict was reached, as elapsed time.
    pub fn decided_at(&self) -> Option<Duration> {
        self.verdict.map(|(_, at)| at)
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    pub fn stabilize(&self) -> Duration {
        self.stabilize
    }

    /// Time left before the step timeout, while there is no verdict.
    pub fn timeout_remaining(&self, now: Duration) -> Option<Duration> {
        match self.verdict {
            Some(_) => None,
            None => self.timeout.map(|t| t.saturating_sub(now)),
        }
    }

    /// Time left in the running stabilization window, and the state it would confirm.
    pub fn window_remaining(&self, now: Duration) -> Option<(Verdict, Duration)> {
        let window = self.window?;
        Some((
            window.state,
            (window.started + self.stabilize).saturating_sub(now),
        ))
    }

    /// The elapsed time at which [`Tracker::update`] must be called again even if nothing
    /// changes: the end of the running window (a window always started before the
    /// deadline, which then no longer matters), else the step deadline.
    pub fn next_deadline(&self) -> Option<Duration> {
        if self.verdict.is_some() {
            return None;
        }
        match self.window {
            Some(window) => Some(window.started + self.stabilize),
            None => self.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Failed, InProgress, Success};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn tracker(timeout: u64, stabilize: u64) -> Tracker {
        Tracker::new(Some(secs(timeout)), secs(stabilize))
    }

    #[test]
    fn success_held_for_the_window_is_final() {
        let mut t = tracker(300, 10);
        assert_eq!(t.update(InProgress, secs(1)), None);
        assert_eq!(t.update(Success, secs(5)), None);
        assert_eq!(
            t.window_remaining(secs(8)),
            Some((Verdict::Success, secs(7)))
        );
        assert_eq!(t.next_deadline(), Some(secs(15)));
        assert_eq!(t.update(Success, secs(14)), None);
        assert_eq!(t.update(Success, secs(15)), Some(Verdict::Success));
        assert_eq!(t.decided_at(), Some(secs(15)));
        assert_eq!(
            t.update(Failed, secs(16)),
            Some(Verdict::Success),
            "verdicts stick"
        );
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn a_failure_that_clears_inside_the_window_is_forgiven() {
        let mut t = tracker(300, 10);
        assert_eq!(t.update(Failed, secs(2)), None);
        assert_eq!(t.update(InProgress, secs(6)), None);
        assert_eq!(t.window_remaining(secs(6)), None, "the window is dropped");
        assert_eq!(t.update(Success, secs(20)), None);
        assert_eq!(t.update(Success, secs(30)), Some(Verdict::Success));
    }

    #[test]
    fn a_failure_that_holds_fails() {
        let mut t = tracker(300, 10);
        t.update(Failed, secs(2));
        assert_eq!(t.update(Failed, secs(12)), Some(Verdict::Failed));
        assert_eq!(t.verdict().map(Verdict::exit_code), Some(ExitCode::Failed));
    }

    #[test]
    fn a_flip_between_settled_states_restarts_the_window() {
        let mut t = tracker(300, 10);
        t.update(Success, secs(0));
        assert_eq!(t.update(Failed, secs(5)), None);
        assert_eq!(
            t.update(Failed, secs(14)),
            None,
            "the failed window started at 5"
        );
        assert_eq!(t.update(Failed, secs(15)), Some(Verdict::Failed));
    }

    #[test]
    fn zero_stabilization_makes_the_first_settled_state_final() {
        let mut t = tracker(300, 0);
        assert_eq!(t.update(InProgress, secs(1)), None);
        assert_eq!(t.update(Failed, secs(2)), Some(Verdict::Failed));
        let mut t = tracker(300, 0);
        assert_eq!(t.update(Success, secs(3)), Some(Verdict::Success));
    }

    #[test]
    fn no_verdict_and_no_window_at_the_deadline_is_a_timeout() {
        let mut t = tracker(60, 10);
        assert_eq!(t.update(InProgress, secs(59)), None);
        assert_eq!(t.timeout_remaining(secs(59)), Some(secs(1)));
        assert_eq!(t.next_deadline(), Some(secs(60)));
        assert_eq!(t.update(InProgress, secs(60)), Some(Verdict::Timeout));
        assert_eq!(t.timeout_remaining(secs(61)), None);
    }

    #[test]
    fn a_window_running_at_the_deadline_may_finish() {
        let mut t = tracker(60, 10);
        assert_eq!(t.update(Success, secs(55)), None);
        assert_eq!(t.next_deadline(), Some(secs(65)));
        assert_eq!(
            t.update(Success, secs(60)),
            None,
            "the window started before the deadline"
        );
        assert_eq!(t.next_deadline(), Some(secs(65)));
        assert_eq!(t.update(Success, secs(65)), Some(Verdict::Success));
    }

    #[test]
    fn a_flip_inside_a_window_running_at_the_deadline_is_a_timeout() {
        let mut t = tracker(60, 10);
        t.update(Success, secs(55));
        t.update(Success, secs(60));
        assert_eq!(t.update(Failed, secs(62)), Some(Verdict::Timeout));

        let mut t = tracker(60, 10);
        t.update(Failed, secs(58));
        assert_eq!(
            t.update(InProgress, secs(61)),
            Some(Verdict::Timeout),
            "dropped window"
        );
    }

    #[test]
    fn a_settled_state_reached_after_the_deadline_is_a_timeout() {
        let mut t = tracker(60, 0);
        assert_eq!(t.update(InProgress, secs(10)), None);
        assert_eq!(t.update(Success, secs(61)), Some(Verdict::Timeout));
    }

    #[test]
    fn a_late_call_after_the_window_end_still_confirms_the_window() {
        let mut t = tracker(300, 10);
        t.update(Failed, secs(0));
        // The tick came late and the state has moved on since the window's end.
        assert_eq!(t.update(InProgress, secs(12)), Some(Verdict::Failed));
        assert_eq!(t.decided_at(), Some(secs(10)));
    }

    #[test]
    fn without_a_timeout_tracking_waits_forever() {
        let mut t = Tracker::new(None, secs(5));
        assert_eq!(t.update(InProgress, secs(100_000)), None);
        assert_eq!(t.next_deadline(), None);
        assert_eq!(t.timeout_remaining(secs(1)), None);
    }

    #[test]
    fn interrupt_only_before_a_verdict() {
        let mut t = tracker(60, 10);
        t.interrupt(secs(3));
        assert_eq!(t.verdict(), Some(Verdict::Interrupted));
        assert_eq!(Verdict::Interrupted.exit_code(), ExitCode::Interrupted);
        let mut t = tracker(60, 0);
        t.update(Success, secs(1));
        t.interrupt(secs(3));
        assert_eq!(t.verdict(), Some(Verdict::Success));
    }
}
