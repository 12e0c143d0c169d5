//! The Argo Rollouts controller, in small: it reconciles `rollouts.argoproj.io` objects (once
//! their CRD is installed) into ReplicaSets owned by the Rollout, one per pod template
//! (`<rollout>-<hash>`, labelled `rollouts-pod-template-hash`, annotated
//! `rollout.argoproj.io/revision`), points the blue/green Services' selectors at them, and
//! writes the status the real controller writes. What to do is decided in `rollout_plan`,
//! the status is worked out in `rollout_status`, the AnalysisRuns it starts are played by
//! `analysis`; this module reads and writes the store.
//!
//! Promotion and abort work as with the kubectl plugin, through the status subresource:
//! clearing `status.pauseConditions` promotes a paused step, `status.abort: true` aborts,
//! `spec.paused` pauses by hand.

use crate::controllers::analysis;
use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{int_at, name, namespace, put, template_hash, terminating};
use crate::controllers::replicaset::{self, Revisions};
use crate::controllers::rollout_plan::{
    self, Decision, HASH, Now, SCALE_DOWN_DEADLINE, Set, Spec, State,
};
use crate::controllers::rollout_status::{self, Facts};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::{self, Object};
use serde_json::{Value, json};
use std::time::Duration;

const SOURCE: Source = Source::controller("rollouts-controller");
const REVISION: &str = "rollout.argoproj.io/revision";
const DESIRED: &str = "rollout.argoproj.io/desired-replicas";
const MANAGED_BY: &str = "argo-rollouts.argoproj.io/managed-by-rollouts";
const REVISIONS: Revisions = Revisions {
    hash_label: HASH,
    annotation: REVISION,
};
/// How soon to look again when something it needs (a Service) is missing.
const RETRY: Duration = Duration::from_secs(5);

/// Rollouts. Everything the controller remembers is in their status.
pub struct Rollouts;

impl Controller for Rollouts {
    const PRIMARY: &'static str = "rollouts.argoproj.io";
    const CHILD: Option<&'static str> = Some("replicasets.apps");

    fn reconcile(&mut self, ctx: &Ctx, ro: &Object, children: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(ro) {
            return outcome;
        }
        let spec = match Spec::of(ro) {
            Ok(spec) => spec,
            Err(message) => {
                let status = rollout_status::invalid(ro, &message, &store::now());
                write_status(ctx, ro, status, None);
                return outcome;
            }
        };
        let mut sets: Vec<Object> = children
            .iter()
            .filter(|rs| !terminating(rs))
            .cloned()
            .collect();
        let hash = template_hash(&ro["spec"]["template"]);
        let mut created = false;
        if !sets.iter().any(|rs| Set::of(rs).hash == hash) {
            let newest = sets
                .iter()
                .map(|rs| replicaset::revision(rs, REVISION))
                .max()
                .unwrap_or(0);
            match replicaset::create_revision(ctx, ro, &REVISIONS, newest + 1, 0) {
                Some(rs) => {
                    let message =
                        format!("Created ReplicaSet {} (revision {})", name(&rs), newest + 1);
                    ctx.events
                        .record(&SOURCE, ro, &Note::normal("NewReplicaSetCreated", message));
                    outcome.written.push(rs.clone());
                    sets.push(rs);
                    created = true;
                }
                None => outcome.requeue(RETRY),
            }
        }
        let mut previous = State::of(&ro["status"]);
        let now = Now {
            wall: chrono::Utc::now(),
            speed: ctx.clock.speed(),
        };
        if let Some(run) = previous.analysis.as_mut()
            && let Some(left) = analysis::advance(ctx, ro, run, &now)
        {
            outcome.requeue(left);
        }
        let revision = sets
            .iter()
            .find(|rs| Set::of(rs).hash == hash)
            .map_or(0, |rs| replicaset::revision(rs, REVISION));
        let summaries: Vec<Set> = sets.iter().map(|rs| Set::of(rs)).collect();
        let mut decision = rollout_plan::decide(&spec, &previous, &summaries, &hash, &now);
        if let Some(label) = decision.analyse.take() {
            match analysis::start(ctx, ro, (hash.as_str(), revision), &label, &now) {
                Some(run) => {
                    decision.state.analysis = Some(run);
                    outcome.requeue(analysis::RUNS_FOR);
                }
                None => outcome.requeue(RETRY),
            }
        }
        apply_to_sets(ctx, ro, &decision, &mut sets, &mut outcome);
        switch_services(ctx, ro, &mut decision, &mut outcome);
        let new = sets.iter().find(|rs| Set::of(rs).hash == hash);
        record_notes(ctx, ro, &previous, &decision, revision);
        if let Some(after) = decision.requeue {
            outcome.requeue(after);
        }
        let facts = Facts {
            sets: &sets,
            new: new.map(|rs| &**rs),
            revision,
            created,
        };
        let status = rollout_status::status(ro, &spec, &decision.state, &facts, &store::now());
        write_status(ctx, ro, status, Some(revision));
        outcome
    }
}

/// Writes the status (and the revision annotation) unless the Rollout changed since it was
/// read: a promotion or abort patched meanwhile must not be overwritten, and its change
/// brings another reconcile anyway.
fn write_status(ctx: &Ctx, ro: &Value, status: Value, revision: Option<i64>) {
    let seen = ro["metadata"]["resourceVersion"].clone();
    let _ = ctx
        .store
        .mutate(Rollouts::PRIMARY, namespace(ro), name(ro), |current| {
            if current["metadata"]["resourceVersion"] != seen {
                return;
            }
            current["status"] = status;
            if let Some(revision) = revision.filter(|r| *r > 0) {
                put(
                    current,
                    &["metadata", "annotations", REVISION],
                    json!(revision.to_string()),
                );
            }
        });
}

/// Scales the ReplicaSets and sets or clears their scale-down deadlines.
fn apply_to_sets(
    ctx: &Ctx,
    ro: &Value,
    decision: &Decision,
    sets: &mut [Object],
    outcome: &mut Outcome,
) {
    for slot in sets.iter_mut() {
        let rs_name = name(slot).to_owned();
        let size = decision
            .scale
            .iter()
            .find(|(n, _)| *n == rs_name)
            .map(|(_, s)| *s);
        let deadline = decision.deadlines.iter().find(|(n, _)| *n == rs_name);
        if size.is_none() && deadline.is_none() {
            continue;
        }
        let from = Set::of(slot).spec;
        let desired = int_at(ro, "/spec/replicas", 1).to_string();
        let updated = ctx
            .store
            .mutate("replicasets.apps", namespace(ro), &rs_name, |rs| {
                if let Some(size) = size {
                    put(rs, &["spec", "replicas"], json!(size));
                    put(rs, &["metadata", "annotations", DESIRED], json!(desired));
                }
                match deadline {
                    Some((_, Some(at))) => {
                        put(
                            rs,
                            &["metadata", "annotations", SCALE_DOWN_DEADLINE],
                            json!(at),
                        );
                    }
                    Some((_, None)) => {
                        if let Some(a) = rs["metadata"]["annotations"].as_object_mut() {
                            a.remove(SCALE_DOWN_DEADLINE);
                        }
                    }
                    None => {}
                }
            });
        let Ok(rs) = updated else {
            continue;
        };
        if let Some(to) = size {
            let direction = if to > from { "up" } else { "down" };
            let message = format!(
                "Scaled {direction} ReplicaSet {rs_name} (revision {}) from {from} to {to}",
                replicaset::revision(&rs, REVISION)
            );
            ctx.events
                .record(&SOURCE, ro, &Note::normal("ScalingReplicaSet", message));
        }
        *slot = rs.clone();
        outcome.written.push(rs);
    }
}

/// Points each Service's selector at its pod template hash. A Service that is missing
/// keeps the state's selector as it was, and is looked for again later.
fn switch_services(ctx: &Ctx, ro: &Value, decision: &mut Decision, outcome: &mut Outcome) {
    let ns = namespace(ro);
    for (service, hash) in &decision.switch {
        let Some(current) = ctx.store.get("services", ns, service) else {
            let previous = State::of(&ro["status"]);
            let state = &mut decision.state;
            if state.active == *hash && previous.active != *hash {
                state.active = previous.active;
                state.stable = previous.stable;
            }
            if state.preview == *hash && previous.preview != *hash {
                state.preview = previous.preview;
            }
            let message = format!("Service \"{service}\" not found");
            ctx.events
                .record(&SOURCE, ro, &Note::warning("ServiceNotFound", message));
            outcome.requeue(RETRY);
            continue;
        };
        let old = current["spec"]["selector"][HASH]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if old == *hash {
            continue;
        }
        let switched = ctx.store.mutate("services", ns, service, |svc| {
            put(svc, &["spec", "selector", HASH], json!(hash));
            put(
                svc,
                &["metadata", "annotations", MANAGED_BY],
                json!(name(ro)),
            );
        });
        if switched.is_ok() {
            let message =
                format!("Switched selector for service '{service}' from '{old}' to '{hash}'");
            ctx.events
                .record(&SOURCE, ro, &Note::normal("SwitchService", message));
        }
    }
}

/// Records the decision's Events, and RolloutAborted when an abort is first seen.
fn record_notes(ctx: &Ctx, ro: &Value, previous: &State, decision: &Decision, revision: i64) {
    for note in &decision.notes {
        let event = Note::normal(note.reason, note.message.clone());
        ctx.events.record(&SOURCE, ro, &event);
    }
    if decision.state.abort && previous.aborted_at.is_none() {
        let message = format!("Rollout aborted update to revision {revision}");
        ctx.events
            .record(&SOURCE, ro, &Note::warning("RolloutAborted", message));
    }
}
