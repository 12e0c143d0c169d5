//! Rollout progress: how far the counted workloads of the new revision are (ready of
//! desired), how fast they get there (ready replicas per second over the last seconds) and
//! about when they will be done.
//!
//! Owns [`Gauge`] (read from a [`World`]), [`Series`] (a workload's ready count, one value
//! per second, in a ring of fixed size) and their wording. Pure: the time is an argument,
//! and nothing here walks the pods — a gauge reads the workloads alone, so that it costs
//! the same at 5 000 pods as at 5. The full-screen view draws it; the headless driver
//! prints it as a progress line.

use crate::model::{ObjectKey, TrackedObject, World};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Seconds a [`Series`] keeps: the sparkline's width at most, and more than the rate needs.
pub const SERIES_SECONDS: usize = 120;

/// The span the rate is measured over: long enough to smooth out a controller's bursts,
/// short enough to follow a rollout that speeds up or stalls.
pub const RATE_WINDOW: u64 = 10;

/// Ready of desired, for one workload or the sum of the counted ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauge {
    pub ready: u64,
    pub desired: u64,
}

impl Gauge {
    /// Ready as a share of desired, 0.0 to 1.0 (done when nothing is desired).
    pub fn ratio(self) -> f64 {
        if self.desired == 0 {
            1.0
        } else {
            (self.ready.min(self.desired) as f64) / (self.desired as f64)
        }
    }

    pub fn percent(self) -> u64 {
        (self.ratio() * 100.0).floor() as u64
    }

    fn left(self) -> u64 {
        self.desired.saturating_sub(self.ready)
    }
}

/// The gauge of one object, if it is a workload: its own ready of desired, except for a
/// Deployment, whose ready replicas are those of its new revision (`new_ready`, its counted
/// `ReplicaSet`'s, see [`new_sets`]; none before there is one): during an update the old
/// revision's ready replicas are not progress.
pub fn of_object(object: &TrackedObject, new_ready: Option<u64>) -> Option<Gauge> {
    let counts = object.counts.filter(|_| object.key.kind != "Pod")?;
    let ready = if object.key.kind == "Deployment" {
        new_ready.unwrap_or(0)
    } else {
        u64::from(counts.ready)
    };
    Some(Gauge {
        ready: ready.min(u64::from(counts.desired)),
        desired: u64::from(counts.desired),
    })
}

/// The ready replicas of each Deployment's new revision: its counted `ReplicaSet`'s. Walks
/// the `ReplicaSets` alone (the world is ordered by kind), never the pods.
pub fn new_sets(world: &World) -> HashMap<&ObjectKey, u64> {
    of_kind(world, "ReplicaSet")
        .filter(|rs| rs.counted)
        .filter_map(|rs| {
            let owner = rs.owner.as_ref().filter(|o| o.kind == "Deployment")?;
            Some((owner, u64::from(rs.counts?.ready)))
        })
        .collect()
}

/// The gauge of the object `key` (see [`of_object`]).
pub fn of_key(world: &World, key: &ObjectKey) -> Option<Gauge> {
    let object = world.object(key)?;
    // Only a Deployment's gauge looks at the ReplicaSets: a pod's change must not.
    let new_ready = (key.kind == "Deployment")
        .then(|| {
            of_kind(world, "ReplicaSet")
                .filter(|rs| rs.counted && rs.owner.as_ref() == Some(key))
                .find_map(|rs| rs.counts)
        })
        .flatten()
        .map(|counts| u64::from(counts.ready));
    of_object(object, new_ready)
}

/// The sum over the counted workloads the user applied or named (their descendants are in
/// their counts already); `None` when there is none.
pub fn overall(world: &World) -> Option<Gauge> {
    let new_sets = new_sets(world);
    world
        .roots
        .iter()
        .filter_map(|key| world.objects.get(key))
        .filter(|object| object.counted)
        .filter_map(|object| of_object(object, new_sets.get(&object.key).copied()))
        .reduce(|a, b| Gauge {
            ready: a.ready + b.ready,
            desired: a.desired + b.desired,
        })
}

/// How long the rollout took by the cluster's clock: from the creation of the first new
/// revision (a counted `ReplicaSet`) of the Deployments the user applied or named to the
/// last one's `Progressing` condition saying `NewReplicaSetAvailable`. `None` until every
/// such Deployment says so, or when there is none: the elapsed time kos shows counts from
/// when kos started, this from when the cluster started the rollout.
pub fn rollout_took(world: &World) -> Option<Duration> {
    let time = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    let mut span = None;
    for key in world.roots.iter().filter(|key| key.kind == "Deployment") {
        let deployment = world.objects.get(key).filter(|o| o.counted)?;
        let done = deployment
            .conditions
            .iter()
            .find(|c| c.type_ == "Progressing" && c.reason == "NewReplicaSetAvailable")
            .and_then(|c| time(&c.updated))?;
        let started = of_kind(world, "ReplicaSet")
            .find(|rs| rs.counted && rs.owner.as_ref() == Some(key))
            .and_then(|rs| time(&rs.created))?;
        span = Some(match span {
            None => (started, done),
            Some((first, last)) => (started.min(first), done.max(last)),
        });
    }
    let (started, done) = span?;
    (done - started).to_std().ok()
}

/// The tracked objects of one kind, in key order, found without visiting the others.
fn of_kind<'a>(world: &'a World, kind: &'a str) -> impl Iterator<Item = &'a TrackedObject> {
    world
        .objects
        .range(ObjectKey::new(kind, None, "")..)
        .map(|(_, object)| object)
        .take_while(move |object| object.key.kind == kind)
}

/// A count over time, one value per second of elapsed time, the last [`SERIES_SECONDS`]
/// only. A second nothing was recorded in holds the value before it: a value is recorded
/// whenever it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Series {
    /// The second of the last value.
    last: u64,
    values: VecDeque<u64>,
}

impl Series {
    /// Records `value` as of elapsed time `at`. Times before the last value's second count as
    /// that second (messages can be a little late; the series never runs backwards).
    pub fn record(&mut self, at: Duration, value: u64) {
        let second = at.as_secs();
        match self.values.back_mut() {
            None => {}
            Some(last) if second <= self.last => {
                *last = value;
                return;
            }
            Some(&mut last) => self.fill(second, last),
        }
        self.values.push_back(value);
        self.last = second;
        self.trim();
    }

    /// Holds the last value through the seconds up to, not including, `second`.
    fn fill(&mut self, second: u64, last: u64) {
        let gap = (second - self.last - 1).min(SERIES_SECONDS as u64);
        for _ in 0..gap {
            self.values.push_back(last);
        }
    }

    fn trim(&mut self) {
        let excess = self.values.len().saturating_sub(SERIES_SECONDS);
        self.values.drain(..excess);
    }

    /// The last value recorded.
    pub fn latest(&self) -> Option<u64> {
        self.values.back().copied()
    }

    /// The value at second `second`: the one recorded then, or the last one before.
    fn at_second(&self, second: u64) -> Option<u64> {
        let first = self.last + 1 - self.values.len() as u64;
        if second < first {
            return None;
        }
        let index = (second.min(self.last) - first) as usize;
        self.values.get(index).copied()
    }

    /// The values of the last `seconds` seconds up to `now`, oldest first, the last value
    /// held up to `now`; fewer when the series is younger.
    pub fn tail(&self, now: Duration, seconds: usize) -> Vec<u64> {
        let Some(latest) = self.latest() else {
            return Vec::new();
        };
        let held = now.as_secs().saturating_sub(self.last) as usize;
        let mut values: Vec<u64> = self.values.iter().copied().collect();
        values.extend(std::iter::repeat_n(latest, held.min(seconds)));
        let skip = values.len().saturating_sub(seconds);
        values.split_off(skip)
    }

    /// The change per second over the last [`RATE_WINDOW`] seconds up to `now` (fewer when
    /// the series is younger, but at least two): `None` before that.
    pub fn rate(&self, now: Duration) -> Option<f64> {
        let latest = self.latest()?;
        let now = now.as_secs().max(self.last);
        let first = self.last + 1 - self.values.len() as u64;
        let from = now.saturating_sub(RATE_WINDOW).max(first);
        let span = now - from;
        if span < 2 {
            return None;
        }
        let before = self.at_second(from)?;
        Some((latest as f64 - before as f64) / span as f64)
    }
}

/// How fast a gauge moves and when it should be full.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pace {
    /// Ready replicas per second (never negative: a drop is no progress).
    pub per_second: Option<f64>,
    /// The time left at that pace, while it moves and is not full.
    pub left: Option<Duration>,
}

/// The pace of `gauge` from its `series`, as of `now`.
pub fn pace(gauge: Gauge, series: &Series, now: Duration) -> Pace {
    let per_second = series.rate(now).map(|rate| rate.max(0.0));
    let left = per_second
        .filter(|rate| *rate > 0.0 && gauge.left() > 0)
        .and_then(|rate| Duration::try_from_secs_f64(gauge.left() as f64 / rate).ok());
    Pace { per_second, left }
}

/// `3000` → `3 000`: big counts read at a glance.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// `1 500/3 000 ready (50%)`.
pub fn describe(gauge: Gauge) -> String {
    format!(
        "{}/{} ready ({}%)",
        thousands(gauge.ready),
        thousands(gauge.desired),
        gauge.percent()
    )
}

/// `42.5/s · about 0:36 left`, or the part of it that is known; `clock` writes the time.
pub fn describe_pace(pace: Pace, clock: impl Fn(Duration) -> String) -> Option<String> {
    let rate = pace.per_second?;
    let left = pace
        .left
        .map(|left| format!(" · about {} left", clock(left)))
        .unwrap_or_default();
    Some(format!("{rate:.1}/s{left}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Diff;
    use crate::status::{Counts, Status};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_series_holds_a_value_until_the_next_and_keeps_a_fixed_size() {
        let mut series = Series::default();
        series.record(secs(0), 0);
        series.record(Duration::from_millis(500), 1);
        series.record(secs(3), 6);
        assert_eq!(series.tail(secs(3), 10), [1, 1, 1, 6]);
        assert_eq!(series.tail(secs(5), 3), [6, 6, 6], "held up to now");
        series.record(secs(2), 7);
        assert_eq!(
            series.latest(),
            Some(7),
            "a late record is the last second's"
        );
        for second in 0..1_000 {
            series.record(secs(second), second);
        }
        assert_eq!(series.values.len(), SERIES_SECONDS);
        series.record(secs(100_000), 1);
        assert_eq!(
            series.values.len(),
            SERIES_SECONDS,
            "a long gap is bounded too"
        );
    }

    #[test]
    fn the_rate_is_over_the_last_ten_seconds() {
        let mut series = Series::default();
        series.record(secs(0), 0);
        assert_eq!(series.rate(secs(1)), None, "one second says nothing yet");
        series.record(secs(4), 20);
        assert_eq!(series.rate(secs(4)), Some(5.0));
        // 30 s at 10/s, then a stall of 5 s: the window sees 50 in 10 s.
        let mut series = Series::default();
        for second in 0..=30 {
            series.record(secs(second), second * 10);
        }
        assert_eq!(series.rate(secs(30)), Some(10.0));
        assert_eq!(series.rate(secs(35)), Some(5.0));
        assert_eq!(series.rate(secs(60)), Some(0.0));
    }

    #[test]
    fn the_time_left_follows_the_pace_and_a_drop_is_no_progress() {
        let gauge = Gauge {
            ready: 1_500,
            desired: 3_000,
        };
        let mut series = Series::default();
        series.record(secs(0), 1_000);
        series.record(secs(10), 1_500);
        let pace = pace(gauge, &series, secs(10));
        assert_eq!(pace.per_second, Some(50.0));
        assert_eq!(pace.left, Some(secs(30)));
        let clock = |d: Duration| format!("{}s", d.as_secs());
        assert_eq!(
            describe_pace(pace, clock).as_deref(),
            Some("50.0/s · about 30s left")
        );

        let mut falling = Series::default();
        falling.record(secs(0), 10);
        falling.record(secs(5), 5);
        let pace = super::pace(gauge, &falling, secs(5));
        assert_eq!((pace.per_second, pace.left), (Some(0.0), None));
        let full = Gauge {
            ready: 3,
            desired: 3,
        };
        assert_eq!(super::pace(full, &series, secs(10)).left, None);
    }

    #[test]
    fn counts_read_with_thousands_apart() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(3_000), "3 000");
        assert_eq!(thousands(1_234_567), "1 234 567");
        let gauge = Gauge {
            ready: 1_500,
            desired: 3_000,
        };
        assert_eq!(describe(gauge), "1 500/3 000 ready (50%)");
        assert_eq!(Gauge::default().percent(), 100, "nothing desired is done");
    }

    fn workload(kind: &str, name: &str, counts: (u32, u32), owner: Option<&ObjectKey>) -> Diff {
        let key = ObjectKey::new(kind, Some("ns"), name);
        let mut object = TrackedObject::for_test(key, Status::InProgress, owner);
        object.counts = Some(Counts {
            ready: counts.0,
            desired: counts.1,
        });
        Diff::Upsert(Box::new(object))
    }

    #[test]
    fn the_rollout_took_from_the_new_revisions_creation_to_its_deployments_last_progress() {
        use crate::status::Condition;
        let web = ObjectKey::new("Deployment", Some("ns"), "web");
        let mut world = World::new(vec![web.clone()]);
        let mut deployment = TrackedObject::for_test(web.clone(), Status::Success, None);
        let progressing = |reason: &str, at: &str| Condition {
            type_: "Progressing".into(),
            status: "True".into(),
            reason: reason.into(),
            updated: format!("2026-01-01T10:{at}Z"),
            ..Condition::default()
        };
        deployment.conditions = vec![progressing("ReplicaSetUpdated", "01:00")];
        world.apply(Diff::Upsert(Box::new(deployment.clone())));
        let mut set = TrackedObject::for_test(
            ObjectKey::new("ReplicaSet", Some("ns"), "web-2"),
            Status::Success,
            Some(&web),
        );
        set.created = "2026-01-01T10:00:30Z".into();
        world.apply(Diff::Upsert(Box::new(set.clone())));
        assert_eq!(rollout_took(&world), None, "not done yet");
        deployment.conditions = vec![progressing("NewReplicaSetAvailable", "03:05")];
        world.apply(Diff::Upsert(Box::new(deployment)));
        assert_eq!(rollout_took(&world), Some(secs(155)));
        set.counted = false;
        world.apply(Diff::Upsert(Box::new(set)));
        assert_eq!(rollout_took(&world), None, "an old revision is no start");
        assert_eq!(rollout_took(&World::default()), None);
    }

    #[test]
    fn a_deployment_counts_its_new_revision_and_roots_add_up() {
        let web = ObjectKey::new("Deployment", Some("ns"), "web");
        let db = ObjectKey::new("StatefulSet", Some("ns"), "db");
        let mut world = World::new(vec![web.clone(), db.clone()]);
        assert_eq!(overall(&world), None);
        world.apply(workload("Deployment", "web", (2_500, 3_000), None));
        world.apply(workload("ReplicaSet", "web-2", (1_500, 1_800), Some(&web)));
        let Diff::Upsert(mut old) = workload("ReplicaSet", "web-1", (1_000, 1_200), Some(&web))
        else {
            unreachable!()
        };
        old.counted = false;
        world.apply(Diff::Upsert(old));
        world.apply(workload("StatefulSet", "db", (1, 3), None));
        // A pod's containers are counts too, but not a workload's.
        let pod_owner = ObjectKey::new("ReplicaSet", Some("ns"), "web-2");
        world.apply(workload("Pod", "web-2-a", (1, 1), Some(&pod_owner)));
        let web_gauge = Gauge {
            ready: 1_500,
            desired: 3_000,
        };
        assert_eq!(of_key(&world, &web), Some(web_gauge));
        assert_eq!(
            of_key(&world, &db),
            Some(Gauge {
                ready: 1,
                desired: 3
            })
        );
        assert_eq!(
            of_key(&world, &pod_owner.clone()).map(|g| g.ready),
            Some(1_500)
        );
        assert_eq!(
            of_key(&world, &ObjectKey::new("Pod", Some("ns"), "web-2-a")),
            None
        );
        assert_eq!(
            overall(&world),
            Some(Gauge {
                ready: 1_501,
                desired: 3_003
            })
        );
    }
}
