//! The verdict of a whole `apply` or `watch`, as a pure state machine.
//!
//! It is fed the raw state of the tracked world (`World::raw_state`) and the time elapsed
//! since tracking started, and owns nothing else: no clock, no I/O, no knowledge of objects.
//! Front ends call [`Tracker::update_world`] on every change and at
//! [`Tracker::next_deadline`].
//!
//! An applied object's `kos.dev/` annotations (README.md, "Per-object overrides") are
//! inputs too, as [`Overrides`] in each [`RootState`]: they decide whether and how each root
//! counts, and give it a deadline of its own.

use crate::exit::ExitCode;
use crate::model::{ObjectKey, World};
use crate::status::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

/// How an applied object counts toward the verdict, from its `kos.dev/` annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    /// `kos.dev/track`: false shows the object and its descendants but never counts them.
    pub track: bool,
    /// `kos.dev/timeout`: the object must succeed within this (from the start of tracking).
    #[serde(with = "millis", rename = "timeout_ms")]
    pub timeout: Option<Duration>,
    /// `kos.dev/fail-mode`.
    pub fail_mode: FailMode,
    /// `kos.dev/wait-for`.
    pub wait_for: WaitFor,
    /// `kos.dev/allowed-failures`: how many times one pod may fail (its restarts, or
    /// failing now) and how many failed pods a Job may have before the object counts as
    /// failed; failures within it are waited out. `None`: each failure counts as it shows.
    pub allowed_failures: Option<u32>,
}

impl Default for Overrides {
    fn default() -> Self {
        Overrides {
            track: true,
            timeout: None,
            fail_mode: FailMode::Fail,
            wait_for: WaitFor::Complete,
            allowed_failures: None,
        }
    }
}

impl Overrides {
    /// Whether the object's descendants count: only when the object waits for its whole
    /// tree.
    pub fn counts_descendants(&self) -> bool {
        self.track && self.wait_for == WaitFor::Complete
    }
}

/// What an object's failure does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// It fails the run (the default).
    Fail,
    /// It is shown, and the object no longer holds the run.
    Ignore,
}

/// What an object is waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitFor {
    /// Being in the cluster.
    Exists,
    /// Its own status being `success`; its descendants are shown, not waited for.
    Ready,
    /// Its own status and every counted descendant's being settled (the default).
    Complete,
}

/// `Option<Duration>` as milliseconds, or null.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    #[allow(clippy::ref_option)] // serde's `with` hands the field by reference.
    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// One root as the tracker judges it when overrides are in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootState {
    pub key: ObjectKey,
    /// The root's own status; `None` while it is missing from the cluster.
    pub own: Option<Status>,
    /// The root and its counted descendants, by the raw-state rule (`World::raw_state`).
    pub tree: Status,
    pub overrides: Overrides,
}

impl RootState {
    /// What the root stands at, as its `wait_for` sees it; `None` when it does not count
    /// (untracked, or an ignored failure).
    fn standing(&self) -> Option<Status> {
        if !self.overrides.track {
            return None;
        }
        let state = match self.overrides.wait_for {
            WaitFor::Exists if self.own.is_some() => Status::Success,
            WaitFor::Exists => Status::InProgress,
            WaitFor::Ready => match self.own {
                Some(status @ (Status::Success | Status::Failed)) => status,
                _ => Status::InProgress,
            },
            WaitFor::Complete => self.tree,
        };
        let ignored = state == Status::Failed && self.overrides.fail_mode == FailMode::Ignore;
        (!ignored).then_some(state)
    }
}

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
    /// Roots whose own deadline has passed, settled by it: succeeded in time, or given up
    /// (an ignored failure).
    past_deadline: BTreeSet<ObjectKey>,
    /// Roots given up at their deadline: they no longer count.
    given_up: BTreeSet<ObjectKey>,
    /// The standing of each root at the last update: what it held until `now`.
    last: Vec<(ObjectKey, Option<Status>)>,
    /// The earliest deadline of a root not yet past it.
    root_deadline: Option<Duration>,
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
            past_deadline: BTreeSet::new(),
            given_up: BTreeSet::new(),
            last: Vec::new(),
            root_deadline: None,
        }
    }

    /// Judges `world` at `now`: by its raw state, or root by root when any root carries
    /// overrides.
    pub fn update_world(&mut self, world: &World, now: Duration) -> Option<Verdict> {
        if world.overrides.is_empty() {
            self.update(world.raw_state(), now)
        } else {
            self.update_roots(&world.root_states(), now)
        }
    }

    /// Feeds each root's state at `now`. A root past its own deadline that has not
    /// succeeded makes the verdict `timeout`, or, with `fail_mode: ignore`, stops counting.
    /// The deadline judges what the root held up to `now` (the last update's standing),
    /// so a late call does not let a change after the deadline count as in time.
    pub fn update_roots(&mut self, roots: &[RootState], now: Duration) -> Option<Verdict> {
        if let Some((verdict, _)) = self.verdict {
            return Some(verdict);
        }
        // A window that ran its course before any root's deadline came decides first.
        let first_due = self.first_deadline(roots);
        if let Some(window) = self.window
            && now >= window.started + self.stabilize
            && first_due.is_none_or(|due| window.started + self.stabilize <= due)
        {
            return Some(self.decide(window.state, window.started + self.stabilize));
        }
        for root in roots {
            let Some(deadline) = root.overrides.timeout.filter(|d| now >= *d) else {
                continue;
            };
            if !self.past_deadline.insert(root.key.clone()) {
                continue;
            }
            let held = self
                .last
                .iter()
                .find(|(key, _)| *key == root.key)
                .map_or_else(|| root.standing(), |(_, held)| *held);
            if held.is_none_or(|s| s == Status::Success) {
                continue;
            }
            if root.overrides.fail_mode == FailMode::Ignore {
                self.given_up.insert(root.key.clone());
            } else {
                return Some(self.decide(Verdict::Timeout, deadline));
            }
        }
        self.last = roots
            .iter()
            .map(|root| (root.key.clone(), root.standing()))
            .collect();
        self.root_deadline = self.first_deadline(roots);
        let standings = roots
            .iter()
            .filter(|root| !self.given_up.contains(&root.key))
            .filter_map(RootState::standing);
        self.update(aggregate(standings), now)
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

    /// The earliest deadline of a root not yet past it.
    fn first_deadline(&self, roots: &[RootState]) -> Option<Duration> {
        roots
            .iter()
            .filter(|root| !self.past_deadline.contains(&root.key))
            .filter_map(|root| root.overrides.timeout)
            .min()
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
        let step = match self.window {
            Some(window) => Some(window.started + self.stabilize),
            None => self.timeout,
        };
        // A root's own deadline comes first when it is earlier.
        match (step, self.root_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The raw state of the counted roots' standings: `failed` if any failed, `success` if all
/// succeeded (none counting is success), else `in_progress`.
fn aggregate(standings: impl Iterator<Item = Status>) -> Status {
    let mut raw = Status::Success;
    for status in standings {
        match status {
            Status::Failed => return Status::Failed,
            Status::Success => {}
            _ => raw = Status::InProgress,
        }
    }
    raw
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

    /// A root `name` with its own status, its tree's, and `overrides`.
    fn root(name: &str, own: Option<Status>, tree: Status, overrides: Overrides) -> RootState {
        RootState {
            key: ObjectKey::new("Service", Some("ns"), name),
            own,
            tree,
            overrides,
        }
    }

    fn plain(name: &str, status: Status) -> RootState {
        root(name, Some(status), status, Overrides::default())
    }

    #[test]
    fn an_untracked_root_never_counts() {
        let untracked = Overrides {
            track: false,
            ..Overrides::default()
        };
        let mut t = tracker(60, 0);
        let roots = [
            plain("a", Success),
            root("b", Some(Failed), Failed, untracked),
        ];
        assert_eq!(t.update_roots(&roots, secs(1)), Some(Verdict::Success));
        let mut t = tracker(60, 0);
        let roots = [plain("a", Success), root("b", None, InProgress, untracked)];
        assert_eq!(
            t.update_roots(&roots, secs(1)),
            Some(Verdict::Success),
            "nor does it hold success back while missing"
        );
    }

    #[test]
    fn an_ignored_failure_neither_fails_the_run_nor_holds_it() {
        let ignore = Overrides {
            fail_mode: FailMode::Ignore,
            ..Overrides::default()
        };
        let mut t = tracker(60, 0);
        let roots = [
            plain("a", InProgress),
            root("b", Some(Failed), Failed, ignore),
        ];
        assert_eq!(t.update_roots(&roots, secs(1)), None);
        let roots = [plain("a", Success), root("b", Some(Failed), Failed, ignore)];
        assert_eq!(t.update_roots(&roots, secs(2)), Some(Verdict::Success));
        let mut t = tracker(60, 0);
        let roots = [
            plain("a", Success),
            root("b", Some(InProgress), InProgress, ignore),
        ];
        assert_eq!(
            t.update_roots(&roots, secs(1)),
            None,
            "in progress, it holds"
        );
        let mut t = tracker(60, 0);
        let roots = [plain("a", Success), plain("b", Failed)];
        assert_eq!(
            t.update_roots(&roots, secs(1)),
            Some(Verdict::Failed),
            "without the override"
        );
    }

    #[test]
    fn wait_for_sets_what_a_root_is_waited_for() {
        let wait = |wait_for| Overrides {
            wait_for,
            ..Overrides::default()
        };
        // A LoadBalancer Service that never gets an address, a Deployment whose new pod
        // is still starting.
        let lb = |wait_for| root("lb", Some(InProgress), InProgress, wait(wait_for));
        let web = |wait_for| root("web", Some(Success), InProgress, wait(wait_for));
        let mut t = tracker(60, 0);
        assert_eq!(t.update_roots(&[lb(WaitFor::Complete)], secs(1)), None);
        let mut t = tracker(60, 0);
        assert_eq!(t.update_roots(&[lb(WaitFor::Ready)], secs(1)), None);
        let mut t = tracker(60, 0);
        assert_eq!(
            t.update_roots(&[lb(WaitFor::Exists)], secs(1)),
            Some(Verdict::Success)
        );
        let missing = root("lb", None, InProgress, wait(WaitFor::Exists));
        let mut t = tracker(60, 0);
        assert_eq!(t.update_roots(&[missing], secs(1)), None, "not there yet");
        let mut t = tracker(60, 0);
        assert_eq!(t.update_roots(&[web(WaitFor::Complete)], secs(1)), None);
        let mut t = tracker(60, 0);
        assert_eq!(
            t.update_roots(&[web(WaitFor::Ready)], secs(1)),
            Some(Verdict::Success),
            "its own status is enough"
        );
    }

    #[test]
    fn a_root_that_has_not_succeeded_by_its_own_deadline_times_the_run_out() {
        let within = Overrides {
            timeout: Some(secs(20)),
            ..Overrides::default()
        };
        let slow = |status| root("slow", Some(status), status, within);
        let mut t = tracker(300, 5);
        assert_eq!(t.update_roots(&[slow(InProgress)], secs(1)), None);
        assert_eq!(
            t.next_deadline(),
            Some(secs(20)),
            "the root's deadline comes first"
        );
        // The call comes late and the root has succeeded since: it was not in time.
        assert_eq!(
            t.update_roots(&[slow(Success)], secs(22)),
            Some(Verdict::Timeout)
        );
        assert_eq!(t.decided_at(), Some(secs(20)));

        let mut t = tracker(300, 5);
        t.update_roots(&[slow(Success)], secs(10));
        assert_eq!(
            t.update_roots(&[slow(Success)], secs(15)),
            Some(Verdict::Success)
        );
        let mut t = tracker(300, 50);
        t.update_roots(&[slow(Success)], secs(10));
        assert_eq!(
            t.update_roots(&[slow(Success)], secs(20)),
            None,
            "succeeded in time; the window goes on"
        );
        assert_eq!(t.next_deadline(), Some(secs(60)));
    }

    #[test]
    fn a_late_call_decides_by_whichever_came_first_the_window_end_or_a_deadline() {
        let within = |d| Overrides {
            timeout: Some(secs(d)),
            ..Overrides::default()
        };
        let failing = |d| root("a", Some(Failed), Failed, within(d));
        let mut t = tracker(300, 5);
        t.update_roots(&[failing(20)], secs(1));
        assert_eq!(
            t.update_roots(&[failing(20)], secs(30)),
            Some(Verdict::Failed)
        );
        assert_eq!(t.decided_at(), Some(secs(6)));
        let mut t = tracker(300, 5);
        t.update_roots(&[failing(3)], secs(1));
        assert_eq!(
            t.update_roots(&[failing(3)], secs(30)),
            Some(Verdict::Timeout)
        );
        assert_eq!(t.decided_at(), Some(secs(3)));
    }

    #[test]
    fn an_ignored_root_past_its_deadline_stops_counting() {
        let give_up = Overrides {
            timeout: Some(secs(20)),
            fail_mode: FailMode::Ignore,
            ..Overrides::default()
        };
        let mut t = tracker(300, 0);
        let roots = [
            plain("a", Success),
            root("b", Some(InProgress), InProgress, give_up),
        ];
        assert_eq!(t.update_roots(&roots, secs(1)), None);
        assert_eq!(t.update_roots(&roots, secs(20)), Some(Verdict::Success));
    }

    #[test]
    fn a_world_without_overrides_is_judged_by_its_raw_state() {
        use crate::model::{Diff, TrackedObject, World};
        let key = ObjectKey::new("Service", Some("ns"), "lb");
        let mut world = World::new(vec![key.clone()]);
        let object = TrackedObject::for_test(key.clone(), InProgress, None);
        world.apply(Diff::Upsert(Box::new(object)));
        let mut t = tracker(60, 0);
        assert_eq!(t.update_world(&world, secs(1)), None);
        let exists = Overrides {
            wait_for: WaitFor::Exists,
            ..Overrides::default()
        };
        world.overrides.insert(key, exists);
        assert_eq!(t.update_world(&world, secs(2)), Some(Verdict::Success));
    }

    #[test]
    fn a_pod_that_recovers_within_its_allowance_never_opens_a_failure_window() {
        use crate::model::{Diff, TrackedObject, World};
        use crate::status::ContainerRow;
        let web = ObjectKey::new("Deployment", Some("ns"), "web");
        let mut world = World::new(vec![web.clone()]);
        world.overrides.insert(
            web.clone(),
            Overrides {
                allowed_failures: Some(1),
                ..Overrides::default()
            },
        );
        let mut pod = TrackedObject::for_test(
            ObjectKey::new("Pod", Some("ns"), "web-a"),
            Failed,
            Some(&web),
        );
        pod.containers = vec![ContainerRow::default()];
        world.apply(Diff::Upsert(Box::new(TrackedObject::for_test(
            web, InProgress, None,
        ))));
        world.apply(Diff::Upsert(Box::new(pod.clone())));
        // No stabilization window: without the allowance the first failure would be final.
        let mut t = tracker(60, 0);
        assert_eq!(t.update_world(&world, secs(1)), None);
        pod.status = Success;
        pod.containers[0].restarts = 1;
        world.apply(Diff::Upsert(Box::new(pod.clone())));
        assert_eq!(
            t.update_world(&world, secs(2)),
            None,
            "the root is not done"
        );
        let root = ObjectKey::new("Deployment", Some("ns"), "web");
        let done = TrackedObject::for_test(root, Success, None);
        world.apply(Diff::Upsert(Box::new(done)));
        assert_eq!(t.update_world(&world, secs(3)), Some(Verdict::Success));

        // The second failure of the same pod is beyond it.
        let mut t = tracker(60, 0);
        pod.status = Failed;
        pod.containers[0].restarts = 2;
        world.apply(Diff::Upsert(Box::new(pod)));
        assert_eq!(t.update_world(&world, secs(4)), Some(Verdict::Failed));
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
