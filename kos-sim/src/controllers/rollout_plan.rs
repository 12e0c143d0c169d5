//! What the Rollout controller decides, apart from any I/O: given a Rollout's spec, the
//! strategy's state kept in its status (stable and current pod hashes, pause conditions,
//! the canary step, the Services' selectors, an abort) and its ReplicaSets, the sizes each
//! ReplicaSet should have, which Service selectors to switch, and the state to write back.
//!
//! Blue/green: the new revision's ReplicaSet is scaled up beside the active one and the
//! preview Service points at it; once it is fully available the rollout pauses
//! (`BlueGreenPause`) if `autoPromotionEnabled` is false or `autoPromotionSeconds` is set,
//! and promotion points the active Service at it, the old ReplicaSet scaled to zero after
//! `scaleDownDelaySeconds`. Canary: `setWeight` steps split `replicas` between the new and
//! the stable ReplicaSet, `pause` steps wait for their `duration` or for a promotion. The
//! first revision is stable at once. An `analysis` step, and a blue/green
//! `prePromotionAnalysis` before promotion, wait for their AnalysisRun to succeed (started
//! by the caller when [`Decision::analyse`] asks; its phase kept in the status as Argo keeps
//! it); a failed run aborts the update. Experiments and traffic routing are not played:
//! such steps pass at once.
//!
//! Time is wall-clock (what timestamps show) scaled by the simulation's speed, so that
//! delays run `--speed` times faster.

use crate::controllers::objects::{int_at, str_at};
use crate::controllers::rolling::{self, Bounds, Replicas};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The label carrying a ReplicaSet's pod template hash, in its pods and in Service selectors.
pub const HASH: &str = "rollouts-pod-template-hash";
/// The annotation of an old ReplicaSet: when it may be scaled to zero.
pub const SCALE_DOWN_DEADLINE: &str = "scale-down-deadline";
pub const BLUE_GREEN_PAUSE: &str = "BlueGreenPause";
pub const CANARY_PAUSE_STEP: &str = "CanaryPauseStep";

/// The default of `scaleDownDelaySeconds` and `abortScaleDownDelaySeconds`.
const SCALE_DOWN_DELAY: i64 = 30;

/// What the controller reads of one of its ReplicaSets.
#[derive(Debug, Clone, PartialEq)]
pub struct Set {
    pub name: String,
    /// Its `rollouts-pod-template-hash` label.
    pub hash: String,
    /// `spec.replicas`.
    pub spec: i64,
    pub available: i64,
    /// When it may be scaled to zero, if it is waiting to be.
    pub deadline: Option<DateTime<Utc>>,
}

impl Set {
    pub fn of(rs: &Value) -> Set {
        Set {
            name: str_at(rs, "/metadata/name").to_owned(),
            hash: rs["metadata"]["labels"][HASH]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            spec: int_at(rs, "/spec/replicas", 0),
            available: int_at(rs, "/status/availableReplicas", 0),
            deadline: rs["metadata"]["annotations"][SCALE_DOWN_DEADLINE]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

/// What the spec asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub replicas: i64,
    /// `spec.paused`: a manual pause.
    pub paused: bool,
    pub strategy: Strategy,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    BlueGreen(BlueGreen),
    Canary(Canary),
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlueGreen {
    pub active: String,
    /// Empty when there is no preview Service.
    pub preview: String,
    pub auto_promotion: bool,
    pub auto_promotion_seconds: i64,
    pub scale_down_delay: Duration,
    pub abort_scale_down_delay: Duration,
    /// `prePromotionAnalysis` is set: promotion waits for its run to succeed.
    pub pre_promotion_analysis: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    pub steps: Vec<Step>,
    pub bounds: Bounds,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `setWeight`: this percentage of the pods run the new revision.
    Weight(i64),
    /// `pause`: with a duration it ends by itself, without one it waits for a promotion.
    Pause(Option<Duration>),
    /// `analysis`: it waits for its AnalysisRun to succeed.
    Analysis,
    /// A step the simulator does not play (analysis, experiment, …): it passes at once.
    Other,
}

fn seconds(value: i64) -> Duration {
    Duration::from_secs(value.max(0) as u64)
}

impl Spec {
    /// The spec, or the message of the `InvalidSpec` condition the real controller sets.
    pub fn of(ro: &Value) -> Result<Spec, String> {
        let missing = |field: &str| format!("Rollout has missing field '{field}'");
        if !ro["spec"]["selector"].is_object() {
            return Err(missing(".spec.selector"));
        }
        let strategy = &ro["spec"]["strategy"];
        let replicas = int_at(ro, "/spec/replicas", 1).max(0);
        let strategy = if let Some(bg) = strategy.get("blueGreen").filter(|v| v.is_object()) {
            let active = str_at(bg, "/activeService");
            if active.is_empty() {
                return Err(missing(".spec.strategy.blueGreen.activeService"));
            }
            Strategy::BlueGreen(BlueGreen {
                active: active.to_owned(),
                preview: str_at(bg, "/previewService").to_owned(),
                auto_promotion: bg["autoPromotionEnabled"].as_bool() != Some(false),
                auto_promotion_seconds: int_at(bg, "/autoPromotionSeconds", 0),
                scale_down_delay: seconds(int_at(bg, "/scaleDownDelaySeconds", SCALE_DOWN_DELAY)),
                abort_scale_down_delay: seconds(int_at(
                    bg,
                    "/abortScaleDownDelaySeconds",
                    SCALE_DOWN_DELAY,
                )),
                pre_promotion_analysis: bg["prePromotionAnalysis"].is_object(),
            })
        } else if let Some(canary) = strategy.get("canary").filter(|v| v.is_object()) {
            let steps = canary["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Step::of)
                .collect();
            Strategy::Canary(Canary {
                steps,
                bounds: rolling::bounds(
                    canary.get("maxSurge"),
                    canary.get("maxUnavailable"),
                    replicas,
                ),
            })
        } else {
            return Err(missing(".spec.strategy.canary or .spec.strategy.blueGreen"));
        };
        Ok(Spec {
            replicas,
            paused: ro["spec"]["paused"].as_bool() == Some(true),
            strategy,
        })
    }
}

impl Step {
    fn of(step: &Value) -> Step {
        if let Some(weight) = step["setWeight"].as_i64() {
            return Step::Weight(weight.clamp(0, 100));
        }
        if step["analysis"].is_object() {
            return Step::Analysis;
        }
        let Some(pause) = step.get("pause") else {
            return Step::Other;
        };
        // An integer is seconds; a string is a Go duration, or seconds written as text.
        let duration = match &pause["duration"] {
            Value::Number(n) => n.as_i64().map(seconds),
            Value::String(text) => crate::duration::parse(text)
                .ok()
                .or_else(|| text.parse().ok().map(seconds)),
            _ => None,
        };
        Step::Pause(duration)
    }
}

/// A `status.pauseConditions` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Pause {
    pub reason: String,
    /// `startTime`, as written.
    pub start: String,
}

/// The AnalysisRun of the current step (or of the pre-promotion analysis), as the status
/// keeps it: `canary.currentStepAnalysisRunStatus`, `blueGreen.prePromotionAnalysisRunStatus`.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// `<rollout>-<hash>-<revision>-<label>`.
    pub name: String,
    /// Its phase: `Running`, `Successful`, `Failed`, …
    pub status: String,
}

/// The label of the pre-promotion analysis in its run's name; a step's is its index.
pub const PRE_PROMOTION: &str = "pre";

impl Analysis {
    /// Which analysis it is a run of: its name's last part.
    fn label(&self) -> &str {
        self.name.rsplit('-').next().unwrap_or_default()
    }

    /// Whether its run failed, which aborts the update.
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "Failed" | "Error")
    }
}

/// The strategy's state, kept in the Rollout's status (where the kubectl plugin's promote and
/// abort patch it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// `currentPodHash`: the revision last seen in the spec.
    pub current: String,
    /// `stableRS`: the hash of the revision fully rolled out.
    pub stable: String,
    pub pauses: Vec<Pause>,
    /// The controller paused the rollout; with no pause condition left, it was promoted.
    pub controller_pause: bool,
    pub abort: bool,
    pub aborted_at: Option<String>,
    pub promote_full: bool,
    /// `currentStepIndex` (canary with steps).
    pub step: Option<i64>,
    /// `blueGreen.activeSelector` and `previewSelector`.
    pub active: String,
    pub preview: String,
    /// The run of the analysis the rollout is at, if any.
    pub analysis: Option<Analysis>,
}

impl State {
    pub fn of(status: &Value) -> State {
        let text = |pointer: &str| str_at(status, pointer).to_owned();
        State {
            current: text("/currentPodHash"),
            stable: text("/stableRS"),
            pauses: status["pauseConditions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Pause {
                    reason: str_at(p, "/reason").to_owned(),
                    start: str_at(p, "/startTime").to_owned(),
                })
                .collect(),
            controller_pause: status["controllerPause"] == true,
            abort: status["abort"] == true,
            aborted_at: status["abortedAt"].as_str().map(str::to_owned),
            promote_full: status["promoteFull"] == true,
            step: status["currentStepIndex"].as_i64(),
            active: text("/blueGreen/activeSelector"),
            preview: text("/blueGreen/previewSelector"),
            analysis: ["/canary/currentStepAnalysisRunStatus", ANALYSIS_PRE]
                .into_iter()
                .find_map(|pointer| status.pointer(pointer))
                .map(|run| Analysis {
                    name: str_at(run, "/name").to_owned(),
                    status: str_at(run, "/status").to_owned(),
                }),
        }
    }

    /// Writes the state's fields into a status, leaving out what the real controller omits
    /// when empty or false.
    pub fn write(&self, status: &mut Map<String, Value>) {
        let mut put = |field: &str, value: Value| {
            status.insert(field.to_owned(), value);
        };
        put("currentPodHash", json!(self.current));
        if !self.stable.is_empty() {
            put("stableRS", json!(self.stable));
        }
        if !self.pauses.is_empty() {
            let pauses: Vec<Value> = self
                .pauses
                .iter()
                .map(|p| json!({"reason": p.reason, "startTime": p.start}))
                .collect();
            put("pauseConditions", json!(pauses));
        }
        if self.controller_pause {
            put("controllerPause", json!(true));
        }
        if self.abort {
            put("abort", json!(true));
        }
        if let Some(at) = &self.aborted_at {
            put("abortedAt", json!(at));
        }
        if self.promote_full {
            put("promoteFull", json!(true));
        }
        if let Some(step) = self.step {
            put("currentStepIndex", json!(step));
        }
        let mut blue_green = Map::new();
        for (field, value) in [
            ("activeSelector", &self.active),
            ("previewSelector", &self.preview),
        ] {
            if !value.is_empty() {
                blue_green.insert(field.into(), json!(value));
            }
        }
        let mut canary = Map::new();
        if let Some(run) = &self.analysis {
            let run_status = json!({"name": run.name, "status": run.status});
            if run.label() == PRE_PROMOTION {
                blue_green.insert("prePromotionAnalysisRunStatus".into(), run_status);
            } else {
                canary.insert("currentStepAnalysisRunStatus".into(), run_status);
            }
        }
        put("blueGreen", Value::Object(blue_green));
        put("canary", Value::Object(canary));
    }

    fn pause(&self, reason: &str) -> Option<&Pause> {
        self.pauses.iter().find(|p| p.reason == reason)
    }

    fn add_pause(&mut self, reason: &str, now: &Now, notes: &mut Notes) {
        self.pauses.push(Pause {
            reason: reason.to_owned(),
            start: now.stamp(),
        });
        self.controller_pause = true;
        notes.push(Note {
            reason: "RolloutPaused",
            message: format!("Rollout is paused ({reason})"),
        });
    }

    fn remove_pause(&mut self, reason: &str) {
        self.pauses.retain(|p| p.reason != reason);
    }
}

/// Where the status keeps the pre-promotion analysis's run.
const ANALYSIS_PRE: &str = "/blueGreen/prePromotionAnalysisRunStatus";

/// Now, and how fast simulated time runs.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub wall: DateTime<Utc>,
    pub speed: f64,
}

impl Now {
    pub fn stamp(&self) -> String {
        self.wall.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// Simulated time since a wall-clock timestamp (zero if unreadable or in the future).
    pub fn since(&self, stamp: &str) -> Duration {
        DateTime::parse_from_rfc3339(stamp)
            .ok()
            .and_then(|t| (self.wall - t.with_timezone(&Utc)).to_std().ok())
            .map_or(Duration::ZERO, |real| real.mul_f64(self.speed))
    }

    /// The wall-clock time `simulated` from now.
    fn after(&self, simulated: Duration) -> DateTime<Utc> {
        self.wall + chrono::Duration::from_std(simulated.div_f64(self.speed)).unwrap_or_default()
    }

    /// Simulated time until a wall-clock time (zero once it has passed).
    fn until(&self, at: DateTime<Utc>) -> Duration {
        (at - self.wall)
            .to_std()
            .map_or(Duration::ZERO, |real| real.mul_f64(self.speed))
    }
}

/// An Event the controller records about the Rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub reason: &'static str,
    pub message: String,
}

type Notes = Vec<Note>;

/// What one reconcile does.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    pub state: State,
    /// ReplicaSet name → the `spec.replicas` it should have.
    pub scale: Vec<(String, i64)>,
    /// ReplicaSet name → its scale-down deadline to set, or `None` to clear it.
    pub deadlines: Vec<(String, Option<String>)>,
    /// Service name → the pod template hash its selector should carry.
    pub switch: Vec<(String, String)>,
    pub notes: Notes,
    /// Look again after this much simulated time.
    pub requeue: Option<Duration>,
    /// The label of an analysis whose run is to be started: a step's index, or
    /// [`PRE_PROMOTION`]. The caller starts it and records it in the state.
    pub analyse: Option<String>,
}

impl Decision {
    fn requeue(&mut self, after: Duration) {
        self.requeue = Some(self.requeue.map_or(after, |d| d.min(after)));
    }

    fn size(&mut self, set: &Set, replicas: i64) {
        if set.spec != replicas {
            self.scale.push((set.name.clone(), replicas));
        }
    }

    /// Keeps `set` at `replicas`, dropping a scale-down deadline it had.
    fn keep(&mut self, set: &Set, replicas: i64) {
        if set.deadline.is_some() {
            self.deadlines.push((set.name.clone(), None));
        }
        self.size(set, replicas);
    }

    /// Scales `set` to zero once `delay` has passed since it was first asked to.
    fn scale_down_after(&mut self, set: &Set, delay: Duration, now: &Now) {
        if set.spec == 0 {
            if set.deadline.is_some() {
                self.deadlines.push((set.name.clone(), None));
            }
            return;
        }
        match set.deadline {
            None if !delay.is_zero() => {
                let at = now
                    .after(delay)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                self.deadlines.push((set.name.clone(), Some(at)));
                self.requeue(delay);
            }
            Some(at) if at > now.wall => self.requeue(now.until(at)),
            _ => {
                self.size(set, 0);
                if set.deadline.is_some() {
                    self.deadlines.push((set.name.clone(), None));
                }
            }
        }
    }
}

/// Decides one reconcile of a Rollout whose current pod template hashes to `new_hash` (its
/// ReplicaSet is among `sets`).
pub fn decide(spec: &Spec, previous: &State, sets: &[Set], new_hash: &str, now: &Now) -> Decision {
    let mut decision = Decision::default();
    let mut state = previous.clone();
    if state.current != new_hash {
        // A new revision: whatever the last one was doing (paused, aborted) is over.
        state = State {
            current: new_hash.to_owned(),
            stable: state.stable,
            active: state.active,
            preview: state.preview,
            ..State::default()
        };
    }
    if state.abort {
        state.pauses.clear();
        state.controller_pause = false;
        if state.aborted_at.is_none() {
            state.aborted_at = Some(now.stamp());
        }
    }
    if let Some(new) = sets.iter().find(|s| s.hash == new_hash) {
        match &spec.strategy {
            Strategy::BlueGreen(bg) => {
                blue_green(spec, bg, (sets, new), now, &mut state, &mut decision);
            }
            Strategy::Canary(c) => canary(spec, c, (sets, new), now, &mut state, &mut decision),
        }
    }
    decision.state = state;
    decision
}

fn blue_green(
    spec: &Spec,
    bg: &BlueGreen,
    (sets, new): (&[Set], &Set),
    now: &Now,
    state: &mut State,
    decision: &mut Decision,
) {
    let halted = state.abort || spec.paused;
    if !bg.preview.is_empty() && !halted {
        decision.switch.push((bg.preview.clone(), new.hash.clone()));
        state.preview.clone_from(&new.hash);
    }
    let saturated = new.spec >= spec.replicas && new.available >= spec.replicas;
    if saturated && !halted && state.active != new.hash {
        // The first revision (no active selector yet) and a full promotion skip the pause.
        let fast = state.active.is_empty() || state.promote_full;
        let analysed =
            fast || !bg.pre_promotion_analysis || analysis(PRE_PROMOTION, state, decision);
        let wants_pause = !bg.auto_promotion || bg.auto_promotion_seconds > 0;
        if fast || !wants_pause {
            state.remove_pause(BLUE_GREEN_PAUSE);
        } else if let Some(pause) = state.pause(BLUE_GREEN_PAUSE) {
            if bg.auto_promotion_seconds > 0 {
                let wait =
                    seconds(bg.auto_promotion_seconds).saturating_sub(now.since(&pause.start));
                if wait.is_zero() {
                    state.remove_pause(BLUE_GREEN_PAUSE);
                } else {
                    decision.requeue(wait);
                }
            }
        } else if !state.controller_pause {
            state.add_pause(BLUE_GREEN_PAUSE, now, &mut decision.notes);
        }
        if state.pauses.is_empty() && analysed {
            decision.switch.push((bg.active.clone(), new.hash.clone()));
            state.active.clone_from(&new.hash);
            state.stable.clone_from(&new.hash);
            state.controller_pause = false;
            state.promote_full = false;
        }
    }
    for set in sets {
        if set.hash == state.active {
            decision.keep(set, spec.replicas);
        } else if set.hash == new.hash && state.abort {
            decision.scale_down_after(set, bg.abort_scale_down_delay, now);
        } else if set.hash == new.hash {
            decision.keep(set, spec.replicas);
        } else {
            decision.scale_down_after(set, bg.scale_down_delay, now);
        }
    }
}

fn canary(
    spec: &Spec,
    canary: &Canary,
    (sets, new): (&[Set], &Set),
    now: &Now,
    state: &mut State,
    decision: &mut Decision,
) {
    let steps = canary.steps.len() as i64;
    if state.stable.is_empty() {
        // The first revision has nothing to be compared with: it is stable at once.
        state.stable.clone_from(&new.hash);
    }
    let zero = Set {
        name: String::new(),
        hash: String::new(),
        spec: 0,
        available: 0,
        deadline: None,
    };
    let stable = sets
        .iter()
        .find(|s| s.hash == state.stable && s.hash != new.hash)
        .unwrap_or(&zero);
    if state.stable != new.hash && state.abort {
        back_to_stable(spec.replicas, sets, stable, decision);
        return;
    }
    let mut index = if state.stable == new.hash || state.promote_full {
        steps
    } else {
        state.step.unwrap_or(0).clamp(0, steps)
    };
    while index < steps && !spec.paused {
        let passed = match &canary.steps[index as usize] {
            Step::Weight(weight) => {
                let (want_new, want_stable) =
                    weighted_counts(spec.replicas, *weight, canary.bounds.surge);
                new.spec == want_new && new.available >= want_new && stable.spec == want_stable
            }
            Step::Pause(duration) => pause_step(*duration, state, now, decision),
            Step::Analysis => analysis(&index.to_string(), state, decision),
            Step::Other => true,
        };
        if !passed {
            break;
        }
        index += 1;
    }
    if state.abort && state.stable != new.hash {
        // Its analysis failed just now.
        back_to_stable(spec.replicas, sets, stable, decision);
        return;
    }
    if steps > 0 {
        state.step = Some(index);
    }
    if index == steps {
        // Every step done: the new revision is the stable one, the others go as it comes up.
        state.stable.clone_from(&new.hash);
        state.promote_full = false;
        decision.keep(new, spec.replicas);
        let olds: Vec<&Set> = sets.iter().filter(|s| s.hash != new.hash).collect();
        let replicas = |s: &Set| Replicas {
            spec: s.spec,
            available: s.available,
        };
        let sizes = rolling::scale_down_old(
            spec.replicas,
            canary.bounds,
            replicas(new),
            &olds.iter().map(|s| replicas(s)).collect::<Vec<_>>(),
        );
        for (set, size) in olds.into_iter().zip(sizes) {
            decision.size(set, size);
        }
        return;
    }
    let weight = weight_at(&canary.steps, index);
    let (want_new, want_stable) = weighted_counts(spec.replicas, weight, canary.bounds.surge);
    // The stable pods go only as new ones become available, keeping the minimum available.
    let min_available = spec.replicas - canary.bounds.unavailable;
    let stable_size = if want_stable >= stable.spec {
        want_stable
    } else {
        want_stable
            .max(min_available - new.available)
            .min(stable.spec)
    };
    for set in sets {
        let size = if set.hash == new.hash {
            want_new
        } else if set.hash == stable.hash {
            stable_size
        } else {
            0
        };
        decision.size(set, size);
    }
}

/// An aborted canary: every pod back on the stable revision.
fn back_to_stable(replicas: i64, sets: &[Set], stable: &Set, decision: &mut Decision) {
    for set in sets {
        let size = if set.hash == stable.hash { replicas } else { 0 };
        decision.size(set, size);
    }
}

/// Plays the analysis `label`; true once its run succeeded. Without a run of it yet, asks
/// for one; a failed run aborts the update, as Argo Rollouts does.
fn analysis(label: &str, state: &mut State, decision: &mut Decision) -> bool {
    match state.analysis.as_ref().filter(|run| run.label() == label) {
        None => {
            decision.analyse = Some(label.to_owned());
            false
        }
        Some(run) if run.failed() => {
            state.abort = true;
            false
        }
        Some(run) => run.status == "Successful",
    }
}

/// Plays a `pause` step; true once it is over (its duration passed, or a promotion cleared
/// the pause condition the controller had set).
fn pause_step(
    duration: Option<Duration>,
    state: &mut State,
    now: &Now,
    decision: &mut Decision,
) -> bool {
    match state.pause(CANARY_PAUSE_STEP) {
        Some(pause) => {
            let Some(duration) = duration else {
                return false;
            };
            let wait = duration.saturating_sub(now.since(&pause.start));
            if !wait.is_zero() {
                decision.requeue(wait);
                return false;
            }
            state.remove_pause(CANARY_PAUSE_STEP);
            state.controller_pause = false;
            true
        }
        None if state.controller_pause => {
            state.controller_pause = false;
            true
        }
        None => {
            state.add_pause(CANARY_PAUSE_STEP, now, &mut decision.notes);
            if let Some(duration) = duration {
                decision.requeue(duration);
            }
            false
        }
    }
}

/// The weight in force at step `index`: that of the last `setWeight` at or before it
/// (0 before the first one).
pub fn weight_at(steps: &[Step], index: i64) -> i64 {
    let end = (index.max(0) as usize + 1).min(steps.len());
    steps[..end]
        .iter()
        .rev()
        .find_map(|s| match s {
            Step::Weight(w) => Some(*w),
            _ => None,
        })
        .unwrap_or(0)
}

/// How many pods of the new and of the stable revision make `weight` percent of `replicas`
/// closest, as the real controller approximates it without traffic routing: the count is
/// rounded up or down, and with a surge allowed one pod more in all may come closer. A
/// weight strictly between 0 and 100 never rounds to no new pod (unless one pod and no
/// surge), nor to all pods of `replicas`; equal distances favour the larger count.
pub fn weighted_counts(replicas: i64, weight: i64, surge: i64) -> (i64, i64) {
    if replicas <= 0 {
        return (0, 0);
    }
    let exact = replicas * weight;
    let ceil = (exact + 99) / 100;
    let floor = exact / 100;
    let tied = |total: i64| (total * weight) % 100 == 50;
    let zero_allowed = weight == 100 || weight == 0 || (replicas == 1 && surge == 0);
    let mut options: Vec<(i64, i64)> = Vec::new();
    if ceil < replicas || zero_allowed {
        options.push((ceil, replicas));
    }
    if !tied(replicas) && (floor != 0 || zero_allowed) {
        options.push((floor, replicas));
    }
    if surge > 0 {
        options.push((ceil, replicas + 1));
        if !tied(replicas + 1) && (floor != 0 || zero_allowed) {
            options.push((floor, replicas + 1));
        }
    }
    // Distances in hundredths of a percent of the total, compared exactly.
    let distance = |(new, total): (i64, i64)| ((new * 100 - weight * total).abs(), total);
    let best = options.into_iter().reduce(|best, option| {
        let (d, t) = distance(option);
        let (bd, bt) = distance(best);
        // d / t < bd / bt
        if d * bt < bd * t { option } else { best }
    });
    best.map_or((0, replicas), |(new, total)| (new, total - new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_split_replicas_as_the_real_controller_does() {
        // 25% of 4 is exactly one pod.
        assert_eq!(weighted_counts(4, 25, 1), (1, 3));
        // 50% of 3: one more pod in all (surge) gives exactly half.
        assert_eq!(weighted_counts(3, 50, 1), (2, 2));
        // Without a surge, the tie goes to the larger count.
        assert_eq!(weighted_counts(3, 50, 0), (2, 1));
        // A small weight never means no canary pod, nor a large one every pod.
        assert_eq!(weighted_counts(4, 5, 0), (1, 3));
        assert_eq!(weighted_counts(4, 95, 0), (3, 1));
        assert_eq!(weighted_counts(5, 0, 1), (0, 5));
        assert_eq!(weighted_counts(5, 100, 1), (5, 0));
        assert_eq!(weighted_counts(0, 50, 1), (0, 0));
    }

    #[test]
    fn the_weight_in_force_is_the_last_set_before_the_step() {
        let steps = [
            Step::Weight(20),
            Step::Pause(None),
            Step::Other,
            Step::Weight(60),
        ];
        assert_eq!(weight_at(&steps, 0), 20);
        assert_eq!(weight_at(&steps, 2), 20);
        assert_eq!(weight_at(&steps, 3), 60);
        assert_eq!(weight_at(&[Step::Pause(None)], 0), 0);
    }

    fn now() -> Now {
        Now {
            wall: DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            speed: 10.0,
        }
    }

    fn set(name: &str, hash: &str, spec: i64, available: i64) -> Set {
        Set {
            name: name.into(),
            hash: hash.into(),
            spec,
            available,
            deadline: None,
        }
    }

    fn rollout(strategy: &Value) -> Spec {
        Spec::of(
            &json!({"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}},
                                 "strategy": strategy}}),
        )
        .unwrap()
    }

    fn blue_green_spec() -> Spec {
        rollout(
            &json!({"blueGreen": {"activeService": "active", "previewService": "preview",
                                     "autoPromotionEnabled": false}}),
        )
    }

    /// A blue/green rollout whose revision `v1` is active, updated to `v2`.
    fn blue_green_update() -> State {
        State {
            current: "v1".into(),
            stable: "v1".into(),
            active: "v1".into(),
            preview: "v1".into(),
            ..State::default()
        }
    }

    #[test]
    fn invalid_specs_name_the_missing_field() {
        let no_strategy = json!({"spec": {"selector": {}}});
        assert_eq!(
            Spec::of(&no_strategy).unwrap_err(),
            "Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'"
        );
        let no_active = json!({"spec": {"selector": {}, "strategy": {"blueGreen": {}}}});
        assert!(Spec::of(&no_active).unwrap_err().contains("activeService"));
    }

    #[test]
    fn blue_green_previews_then_pauses_until_promoted() {
        let spec = blue_green_spec();
        let old = set("ro-v1", "v1", 2, 2);
        // The new ReplicaSet comes up; the preview Service points at it at once.
        let d = decide(
            &spec,
            &blue_green_update(),
            &[old.clone(), set("ro-v2", "v2", 0, 0)],
            "v2",
            &now(),
        );
        assert_eq!(d.scale, [("ro-v2".into(), 2)]);
        assert_eq!(d.switch, [("preview".into(), "v2".into())]);
        assert!(d.state.pauses.is_empty());
        // Fully available: it pauses, the active Service stays.
        let new = set("ro-v2", "v2", 2, 2);
        let d = decide(&spec, &d.state, &[old.clone(), new.clone()], "v2", &now());
        assert_eq!(d.state.pauses[0].reason, BLUE_GREEN_PAUSE);
        assert!(d.state.controller_pause);
        assert_eq!(d.state.active, "v1");
        assert_eq!(d.notes[0].message, "Rollout is paused (BlueGreenPause)");
        // Still paused on the next look.
        let paused = decide(&spec, &d.state, &[old.clone(), new.clone()], "v2", &now());
        assert_eq!(paused.state, d.state);
        assert!(!paused.switch.iter().any(|(s, _)| s == "active"));
        // The plugin's promote clears the pause conditions: the active Service switches, the
        // old ReplicaSet gets its scale-down deadline 30 s (3 s real at speed 10) away.
        let mut promoted = d.state.clone();
        promoted.pauses.clear();
        let d = decide(&spec, &promoted, &[old.clone(), new.clone()], "v2", &now());
        assert!(d.switch.contains(&("active".into(), "v2".into())));
        assert_eq!(
            (d.state.active.as_str(), d.state.stable.as_str()),
            ("v2", "v2")
        );
        assert!(!d.state.controller_pause);
        assert_eq!(
            d.deadlines,
            [("ro-v1".into(), Some("2026-01-01T00:00:03Z".into()))]
        );
        assert!(d.scale.is_empty());
        assert_eq!(d.requeue, Some(Duration::from_secs(30)));
        // Once the deadline passes, the old ReplicaSet goes to zero.
        let mut waiting = old;
        waiting.deadline = Some(now().wall);
        let d = decide(&spec, &d.state, &[waiting, new], "v2", &now());
        assert_eq!(d.scale, [("ro-v1".into(), 0)]);
        assert_eq!(d.deadlines, [("ro-v1".into(), None)]);
    }

    #[test]
    fn blue_green_first_revision_goes_active_without_a_pause() {
        let spec = blue_green_spec();
        let d = decide(
            &spec,
            &State::default(),
            &[set("ro-v1", "v1", 2, 2)],
            "v1",
            &now(),
        );
        assert!(d.state.pauses.is_empty());
        assert_eq!(
            (d.state.active.as_str(), d.state.stable.as_str()),
            ("v1", "v1")
        );
    }

    #[test]
    fn blue_green_abort_keeps_the_active_revision_and_scales_the_preview_down() {
        let spec = blue_green_spec();
        let mut state = blue_green_update();
        state.current = "v2".into();
        state.pauses = vec![Pause {
            reason: BLUE_GREEN_PAUSE.into(),
            start: now().stamp(),
        }];
        state.controller_pause = true;
        state.abort = true;
        let mut preview = set("ro-v2", "v2", 2, 2);
        preview.deadline = Some(now().wall);
        let d = decide(
            &spec,
            &state,
            &[set("ro-v1", "v1", 2, 2), preview],
            "v2",
            &now(),
        );
        assert!(d.state.pauses.is_empty() && !d.state.controller_pause);
        assert_eq!(d.state.aborted_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(d.state.active, "v1");
        assert!(d.switch.is_empty());
        assert_eq!(d.scale, [("ro-v2".into(), 0)]);
        // A new revision ends the abort.
        let d = decide(&spec, &d.state, &[set("ro-v3", "v3", 0, 0)], "v3", &now());
        assert!(!d.state.abort && d.state.aborted_at.is_none());
    }

    fn run(name: &str, status: &str) -> Analysis {
        Analysis {
            name: name.into(),
            status: status.into(),
        }
    }

    #[test]
    fn a_canary_analysis_step_waits_for_its_run_and_a_failed_run_aborts() {
        let spec = rollout(&json!({"canary": {"steps": [
            {"setWeight": 50}, {"analysis": {"templates": [{"templateName": "t"}]}}]}}));
        let sets = [set("ro-v1", "v1", 1, 1), set("ro-v2", "v2", 1, 1)];
        let mut state = State {
            current: "v2".into(),
            stable: "v1".into(),
            step: Some(1),
            ..State::default()
        };
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert_eq!(
            d.analyse.as_deref(),
            Some("1"),
            "a run of step 1 is asked for"
        );
        assert_eq!(d.state.step, Some(1));
        state.analysis = Some(run("ro-v2-2-1", "Running"));
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert_eq!((d.analyse, d.state.step), (None, Some(1)), "it waits");
        state.analysis = Some(run("ro-v2-2-1", "Successful"));
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert_eq!(d.state.step, Some(2));
        assert_eq!(d.state.stable, "v2", "every step done");
        state.analysis = Some(run("ro-v2-2-1", "Failed"));
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert!(d.state.abort);
        assert_eq!(d.scale, [("ro-v1".into(), 2), ("ro-v2".into(), 0)]);
        // A run of another step is not this step's.
        state.analysis = Some(run("ro-v2-2-0", "Successful"));
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert_eq!(d.analyse.as_deref(), Some("1"));
    }

    #[test]
    fn a_blue_green_pre_promotion_analysis_holds_the_switch_until_its_run_succeeds() {
        let spec = rollout(&json!({"blueGreen": {"activeService": "active",
            "prePromotionAnalysis": {"templates": [{"templateName": "t"}]}}}));
        let sets = [set("ro-v1", "v1", 2, 2), set("ro-v2", "v2", 2, 2)];
        let mut state = blue_green_update();
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert_eq!(d.analyse.as_deref(), Some(PRE_PROMOTION));
        assert_eq!(d.state.active, "v1", "not promoted before its analysis");
        state.current = "v2".into();
        state.analysis = Some(run("ro-v2-2-pre", "Successful"));
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert_eq!(d.state.active, "v2");
        assert!(d.switch.contains(&("active".into(), "v2".into())));
        let mut written = Map::new();
        d.state.write(&mut written);
        assert_eq!(
            written["blueGreen"]["prePromotionAnalysisRunStatus"]["name"],
            "ro-v2-2-pre"
        );
        assert_eq!(
            State::of(&Value::Object(written)).analysis,
            d.state.analysis
        );
        state.analysis = Some(run("ro-v2-2-pre", "Failed"));
        let d = decide(&spec, &state, &sets, "v2", &now());
        assert!(d.state.abort);
        assert_eq!(d.state.active, "v1");
    }

    #[test]
    fn canary_steps_scale_pause_and_promote() {
        let spec = rollout(&json!({"canary": {"steps": [
            {"setWeight": 50}, {"pause": {}}, {"setWeight": 100}, {"pause": {"duration": "20s"}}]}}));
        let state = State {
            current: "v1".into(),
            stable: "v1".into(),
            step: Some(4),
            ..State::default()
        };
        let old = set("ro-v1", "v1", 2, 2);
        // 50% of 2: one new pod; the stable one stays until the new one is available.
        let d = decide(
            &spec,
            &state,
            &[old.clone(), set("ro-v2", "v2", 0, 0)],
            "v2",
            &now(),
        );
        assert_eq!(d.state.step, Some(0));
        assert_eq!(d.scale, [("ro-v2".into(), 1)]);
        // Available: the stable shrinks to one; the step passes once it has.
        let d = decide(
            &spec,
            &d.state,
            &[old, set("ro-v2", "v2", 1, 1)],
            "v2",
            &now(),
        );
        assert_eq!(d.scale, [("ro-v1".into(), 1)]);
        assert_eq!(d.state.step, Some(0));
        let sets = [set("ro-v1", "v1", 1, 1), set("ro-v2", "v2", 1, 1)];
        let d = decide(&spec, &d.state, &sets, "v2", &now());
        assert_eq!(d.state.step, Some(1));
        assert_eq!(d.state.pauses[0].reason, CANARY_PAUSE_STEP);
        assert!(d.scale.is_empty());
        // Waiting for a promotion, however long.
        let later = Now {
            wall: now().wall + chrono::Duration::hours(1),
            ..now()
        };
        assert_eq!(decide(&spec, &d.state, &sets, "v2", &later).state, d.state);
        // Promoted: on to 100%, then the timed pause, which ends by itself.
        let mut promoted = d.state.clone();
        promoted.pauses.clear();
        let d = decide(&spec, &promoted, &sets, "v2", &now());
        assert_eq!(d.state.step, Some(2));
        assert_eq!(d.scale, [("ro-v2".into(), 2)]);
        // No pod may be unavailable (25% of 2 rounds down): the stable one waits.
        let sets = [set("ro-v1", "v1", 1, 1), set("ro-v2", "v2", 2, 2)];
        let d = decide(&spec, &d.state, &sets, "v2", &now());
        assert_eq!(d.scale, [("ro-v1".into(), 0)]);
        assert_eq!(d.state.step, Some(2));
        let sets = [set("ro-v1", "v1", 0, 0), set("ro-v2", "v2", 2, 2)];
        let d = decide(&spec, &d.state, &sets, "v2", &now());
        assert_eq!(d.state.step, Some(3));
        assert_eq!(d.requeue, Some(Duration::from_secs(20)));
        // 20 s simulated is 2 s real at speed 10.
        let after = Now {
            wall: now().wall + chrono::Duration::seconds(2),
            ..now()
        };
        let d = decide(&spec, &d.state, &sets, "v2", &after);
        assert_eq!(d.state.step, Some(4));
        assert_eq!(d.state.stable, "v2");
        assert!(d.state.pauses.is_empty() && !d.state.controller_pause);
    }

    #[test]
    fn canary_abort_returns_every_pod_to_the_stable_revision() {
        let spec = rollout(&json!({"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}));
        let state = State {
            current: "v2".into(),
            stable: "v1".into(),
            step: Some(1),
            abort: true,
            ..State::default()
        };
        let d = decide(
            &spec,
            &state,
            &[set("ro-v1", "v1", 1, 1), set("ro-v2", "v2", 1, 1)],
            "v2",
            &now(),
        );
        assert_eq!(d.scale, [("ro-v1".into(), 2), ("ro-v2".into(), 0)]);
        assert_eq!(d.state.stable, "v1");
    }

    #[test]
    fn canary_first_revision_is_stable_at_once() {
        let spec = rollout(&json!({"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}));
        let d = decide(
            &spec,
            &State::default(),
            &[set("ro-v1", "v1", 0, 0)],
            "v1",
            &now(),
        );
        assert_eq!(d.state.stable, "v1");
        assert_eq!(d.state.step, Some(2));
        assert_eq!(d.scale, [("ro-v1".into(), 2)]);
        assert!(d.state.pauses.is_empty());
    }
}
