//! The Deployment controller: one ReplicaSet per pod template (`<deployment>-<hash>`, with
//! the `pod-template-hash` label and revision annotations), rolled by RollingUpdate within
//! maxSurge / maxUnavailable or by Recreate, paused on request, old ReplicaSets kept up to
//! `revisionHistoryLimit`; and the status a real cluster writes: replica counts,
//! observedGeneration, the Available and Progressing conditions (ProgressDeadlineExceeded
//! once `progressDeadlineSeconds` pass without progress), ScalingReplicaSet Events.
//!
//! It reads ReplicaSets' status, never pods: the ReplicaSet controller owns those.

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    condition, conditions_of, generation, int_at, name, namespace, normalized, put,
    set_progress_condition, str_at, terminating, uid,
};
use crate::controllers::replicaset::{self, Revisions};
use crate::controllers::rolling::{self, Bounds, Replicas};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::{self, Object};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const SOURCE: Source = Source::controller("deployment-controller");
const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH: &str = "pod-template-hash";
const REVISIONS: Revisions = Revisions {
    hash_label: HASH,
    annotation: REVISION,
};
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";

/// Deployments, remembering when each (by uid) last made progress.
#[derive(Default)]
pub struct Deployments {
    progress: HashMap<String, Instant>,
}

impl Controller for Deployments {
    const PRIMARY: &'static str = "deployments.apps";
    const CHILD: Option<&'static str> = Some("replicasets.apps");

    fn reconcile(&mut self, ctx: &Ctx, d: &Object, children: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(d) {
            return outcome;
        }
        let plan = Plan::of(d);
        let mut sets: Vec<Object> = children
            .iter()
            .filter(|rs| !terminating(rs))
            .cloned()
            .collect();
        sets.sort_by_key(|rs| {
            (
                revision_of(rs),
                str_at(rs, "/metadata/creationTimestamp").to_owned(),
            )
        });
        let mut created = false;
        let mut new = sets
            .iter()
            .position(|rs| same_template(rs, &d["spec"]["template"]));
        let newest = sets.iter().map(|rs| revision_of(rs)).max().unwrap_or(0);
        // As the real controller does, the first ReplicaSet of a Deployment is created with
        // all its replicas (one write, generation 1); a new revision's starts empty and
        // grows step by step as the old ones shrink.
        let first_count = if sets.is_empty() { plan.desired } else { 0 };
        match new {
            Some(i) if revision_of(&sets[i]) < newest => {
                // A rollback to an older template: its ReplicaSet becomes the newest revision.
                let revision = (newest + 1).to_string();
                if let Ok(rs) =
                    ctx.store
                        .mutate("replicasets.apps", namespace(d), name(&sets[i]), |rs| {
                            put(rs, &["metadata", "annotations", REVISION], json!(revision));
                        })
                {
                    outcome.written.push(rs.clone());
                    let rs_uid = uid(&rs).to_owned();
                    sets.remove(i);
                    sets.push(rs);
                    new = sets.iter().position(|s| uid(s) == rs_uid);
                }
            }
            None if !plan.paused => {
                match replicaset::create_revision(ctx, d, &REVISIONS, newest + 1, first_count) {
                    Some(rs) => {
                        if first_count > 0 {
                            let message = format!(
                                "Scaled up replica set {} from 0 to {first_count}",
                                name(&rs)
                            );
                            ctx.events.record(
                                &SOURCE,
                                d,
                                &Note::normal("ScalingReplicaSet", message),
                            );
                        }
                        outcome.written.push(rs.clone());
                        sets.push(rs);
                        new = Some(sets.len() - 1);
                        created = true;
                    }
                    None => outcome.requeue(Duration::from_secs(1)),
                }
            }
            _ => {}
        }
        if let Some(new) = new {
            scale(ctx, d, &plan, &mut sets, new, &mut outcome);
            clean_history(ctx, d, &sets, new, &mut outcome);
        }
        let timed_out = self.progress_check(ctx, d, &plan, &mut outcome);
        let facts = Facts {
            sets: &sets,
            new: new.map(|i| &sets[i]),
            created,
            timed_out,
        };
        let (status, progressed) = status(d, &plan, &facts);
        if progressed {
            self.progress.insert(uid(d).to_owned(), Instant::now());
            if !plan.paused {
                outcome.requeue(plan.deadline);
            }
        }
        let revision = facts.new.map(|rs| revision_of(rs).to_string());
        let _ = ctx.store.mutate(Self::PRIMARY, namespace(d), name(d), |d| {
            d["status"] = status;
            if let Some(revision) = revision {
                put(d, &["metadata", "annotations", REVISION], json!(revision));
            }
        });
        outcome
    }

    fn forget(&mut self, object: &Object) {
        self.progress.remove(uid(object));
    }
}

impl Deployments {
    /// Whether the deadline for progress has passed; asks for a look when it will.
    fn progress_check(&mut self, ctx: &Ctx, d: &Value, plan: &Plan, outcome: &mut Outcome) -> bool {
        let since = *self
            .progress
            .entry(uid(d).to_owned())
            .or_insert_with(Instant::now);
        let waited = ctx.clock.real(plan.deadline);
        let elapsed = since.elapsed();
        if elapsed >= waited {
            return true;
        }
        if !plan.paused {
            // Back in simulated time: the runner scales it again.
            outcome.requeue(waited.saturating_sub(elapsed).mul_f64(ctx.clock.speed()));
        }
        false
    }
}

/// What the spec asks for.
struct Plan {
    desired: i64,
    paused: bool,
    recreate: bool,
    bounds: Bounds,
    deadline: Duration,
}

impl Plan {
    fn of(d: &Value) -> Plan {
        let desired = int_at(d, "/spec/replicas", 1).max(0);
        let recreate = str_at(d, "/spec/strategy/type") == "Recreate";
        let bounds = if recreate {
            Bounds {
                surge: 0,
                unavailable: 0,
            }
        } else {
            rolling::bounds(
                d.pointer("/spec/strategy/rollingUpdate/maxSurge"),
                d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
                desired,
            )
        };
        Plan {
            desired,
            paused: d["spec"]["paused"].as_bool() == Some(true),
            recreate,
            bounds,
            deadline: Duration::from_secs(
                int_at(d, "/spec/progressDeadlineSeconds", 600).max(1) as u64
            ),
        }
    }
}

fn revision_of(rs: &Value) -> i64 {
    replicaset::revision(rs, REVISION)
}

/// The ReplicaSet runs this template (its own `pod-template-hash` label aside).
fn same_template(rs: &Value, template: &Value) -> bool {
    let mut own = rs["spec"]["template"].clone();
    if let Some(labels) = own
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH);
    }
    normalized(&own) == normalized(template)
}

fn spec_replicas(rs: &Value) -> i64 {
    int_at(rs, "/spec/replicas", 0)
}

fn status_count(rs: &Value, field: &str) -> i64 {
    rs.get("status")
        .and_then(|s| s.get(field))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Moves the ReplicaSets one step toward the plan.
fn scale(
    ctx: &Ctx,
    d: &Value,
    plan: &Plan,
    sets: &mut [Object],
    new: usize,
    outcome: &mut Outcome,
) {
    let olds: Vec<usize> = (0..sets.len()).filter(|&i| i != new).collect();
    let olds_busy = olds.iter().any(|&i| spec_replicas(&sets[i]) > 0);
    let mut targets: Vec<(usize, i64)> = Vec::new();
    if plan.paused {
        if !olds_busy {
            targets.push((new, plan.desired));
        }
    } else if plan.recreate {
        targets.extend(olds.iter().map(|&i| (i, 0)));
        let olds_gone = olds
            .iter()
            .all(|&i| status_count(&sets[i], "replicas") == 0);
        if olds_gone {
            targets.push((new, plan.desired));
        }
    } else if !olds_busy {
        targets.push((new, plan.desired));
    } else {
        let total: i64 = sets.iter().map(|rs| spec_replicas(rs)).sum();
        let grown =
            rolling::scale_up_new(plan.desired, plan.bounds, total, spec_replicas(&sets[new]));
        targets.push((new, grown));
        let replicas = |rs: &Value, spec| Replicas {
            spec,
            available: status_count(rs, "availableReplicas"),
        };
        let old: Vec<Replicas> = olds
            .iter()
            .map(|&i| replicas(&sets[i], spec_replicas(&sets[i])))
            .collect();
        let sizes =
            rolling::scale_down_old(plan.desired, plan.bounds, replicas(&sets[new], grown), &old);
        targets.extend(olds.iter().copied().zip(sizes));
    }
    for (i, to) in targets {
        let from = spec_replicas(&sets[i]);
        if from == to {
            continue;
        }
        let max = plan.desired + plan.bounds.surge;
        let updated = ctx
            .store
            .mutate("replicasets.apps", namespace(d), name(&sets[i]), |rs| {
                put(rs, &["spec", "replicas"], json!(to));
                let desired = plan.desired.to_string();
                put(rs, &["metadata", "annotations", DESIRED], json!(desired));
                put(
                    rs,
                    &["metadata", "annotations", MAX],
                    json!(max.to_string()),
                );
            });
        if let Ok(rs) = updated {
            let direction = if to > from { "up" } else { "down" };
            let message = format!(
                "Scaled {direction} replica set {} from {from} to {to}",
                name(&rs)
            );
            ctx.events
                .record(&SOURCE, d, &Note::normal("ScalingReplicaSet", message));
            sets[i] = rs.clone();
            outcome.written.push(rs);
        }
    }
}

/// Deletes the oldest empty ReplicaSets beyond `revisionHistoryLimit`.
fn clean_history(ctx: &Ctx, d: &Value, sets: &[Object], new: usize, outcome: &mut Outcome) {
    let limit = int_at(d, "/spec/revisionHistoryLimit", 10).max(0) as usize;
    let empty: Vec<&Object> = sets
        .iter()
        .enumerate()
        .filter(|(i, rs)| *i != new && spec_replicas(rs) == 0 && status_count(rs, "replicas") == 0)
        .map(|(_, rs)| rs)
        .collect();
    for rs in empty.iter().take(empty.len().saturating_sub(limit)) {
        if let Ok(gone) = ctx
            .store
            .delete("replicasets.apps", namespace(d), name(rs), false)
        {
            outcome.removed.push(gone);
        }
    }
}

/// What this reconcile saw and did.
struct Facts<'a> {
    sets: &'a [Object],
    new: Option<&'a Object>,
    created: bool,
    timed_out: bool,
}

/// The Deployment's status, and whether it shows progress (restarting the deadline).
fn status(d: &Value, plan: &Plan, facts: &Facts<'_>) -> (Value, bool) {
    let sum = |field: &str| -> i64 { facts.sets.iter().map(|rs| status_count(rs, field)).sum() };
    let replicas = sum("replicas");
    let updated = facts.new.map_or(0, |rs| status_count(rs, "replicas"));
    let ready = sum("readyReplicas");
    let available = sum("availableReplicas");
    let total: i64 = facts.sets.iter().map(|rs| spec_replicas(rs)).sum();
    let unavailable = (total - available).max(0);
    let previous = |field: &str| int_at(d, &format!("/status/{field}"), 0);
    let progressed_counts = updated > previous("updatedReplicas")
        || replicas - updated < previous("replicas") - previous("updatedReplicas")
        || ready > previous("readyReplicas")
        || available > previous("availableReplicas");
    let complete = updated == plan.desired && replicas == plan.desired && available == plan.desired;
    let rs_name = facts.new.map_or("", |rs| name(rs));
    let now = store::now();
    let mut conditions = conditions_of(d);
    let (status, reason) = if available >= plan.desired - plan.bounds.unavailable {
        ("True", "MinimumReplicasAvailable")
    } else {
        ("False", "MinimumReplicasUnavailable")
    };
    let message = if status == "True" {
        "Deployment has minimum availability."
    } else {
        "Deployment does not have minimum availability."
    };
    set_progress_condition(
        &mut conditions,
        "Available",
        [status, reason, message],
        false,
        &now,
    );
    let previous_reason = condition(d, "Progressing").map_or("", |c| str_at(c, "/reason"));
    let progressing: Option<([&str; 2], String, bool)> = if plan.paused {
        Some((
            ["Unknown", "DeploymentPaused"],
            "Deployment is paused".into(),
            false,
        ))
    } else if previous_reason == "DeploymentPaused" {
        Some((
            ["Unknown", "DeploymentResumed"],
            "Deployment is resumed".into(),
            true,
        ))
    } else if complete {
        let message = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
        Some((["True", "NewReplicaSetAvailable"], message, false))
    } else if facts.created {
        let message = format!("Created new replica set \"{rs_name}\"");
        Some((["True", "NewReplicaSetCreated"], message, true))
    } else if progressed_counts {
        let message = format!("ReplicaSet \"{rs_name}\" is progressing.");
        Some((["True", "ReplicaSetUpdated"], message, true))
    } else if previous_reason.is_empty() {
        let message = format!("Found new replica set \"{rs_name}\"");
        Some((["True", "FoundNewReplicaSet"], message, true))
    } else if facts.timed_out && previous_reason != "NewReplicaSetAvailable" {
        let message = format!("ReplicaSet \"{rs_name}\" has timed out progressing.");
        Some((["False", "ProgressDeadlineExceeded"], message, false))
    } else {
        None
    };
    let mut progressed = false;
    if let Some(([status, reason], message, progress)) = progressing {
        set_progress_condition(
            &mut conditions,
            "Progressing",
            [status, reason, &message],
            progress,
            &now,
        );
        progressed = progress;
    }
    replica_failure(facts, &mut conditions, &now);
    let mut fields = Map::new();
    fields.insert("observedGeneration".into(), json!(generation(d)));
    for (field, value) in [
        ("replicas", replicas),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("unavailableReplicas", unavailable),
    ] {
        // A real API server leaves zero counts out (omitempty).
        if value != 0 {
            fields.insert(field.into(), json!(value));
        }
    }
    fields.insert("conditions".into(), Value::Array(conditions));
    (Value::Object(fields), progressed)
}

/// A ReplicaSet that cannot create its pods (the new one first): its ReplicaFailure is the
/// Deployment's, and goes when none has one.
fn replica_failure(facts: &Facts<'_>, conditions: &mut Vec<Value>, now: &str) {
    let failure = facts
        .new
        .into_iter()
        .chain(facts.sets)
        .find_map(|rs| condition(rs, "ReplicaFailure").filter(|c| c["status"] == "True"));
    match failure {
        Some(c) => {
            let [status, reason, message] =
                ["status", "reason", "message"].map(|f| c[f].as_str().unwrap_or_default());
            set_progress_condition(
                conditions,
                "ReplicaFailure",
                [status, reason, message],
                false,
                now,
            );
        }
        None => conditions.retain(|c| c["type"] != "ReplicaFailure"),
    }
}
