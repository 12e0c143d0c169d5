//! The CronJob controller: on its schedule, in simulated time, creates the Job
//! `<cronjob>-<scheduled unix minutes>` from the jobTemplate (only the latest missed run,
//! as a real controller does), honours `suspend` and `concurrencyPolicy`, deletes finished
//! Jobs beyond the history limits, and writes status (active, lastScheduleTime,
//! lastSuccessfulTime).

use crate::controllers::cron;
use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    condition_true, controller_ref, int_at, name, namespace, put, str_at, terminating, uid,
};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::Object;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

const SOURCE: Source = Source::controller("cronjob-controller");
/// Missed runs looked through at most when catching up.
const MISSED: usize = 1_000;

/// CronJobs, remembering when each (by uid) was first seen in simulated time: a new
/// CronJob waits for its next run rather than catching up on the time before it existed.
#[derive(Default)]
pub struct CronJobs {
    first_seen: HashMap<String, DateTime<Utc>>,
}

impl Controller for CronJobs {
    const PRIMARY: &'static str = "cronjobs.batch";
    const CHILD: Option<&'static str> = Some("jobs.batch");

    fn reconcile(&mut self, ctx: &Ctx, cj: &Object, jobs: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(cj) {
            return outcome;
        }
        let schedule = match cron::parse(str_at(cj, "/spec/schedule")) {
            Ok(schedule) => schedule,
            Err(error) => {
                let message = format!("invalid schedule: {error}");
                ctx.events
                    .record(&SOURCE, cj, &Note::warning("InvalidSchedule", message));
                return outcome;
            }
        };
        let now = ctx.sim_now();
        let mut status = cj.get("status").cloned().unwrap_or_else(|| json!({}));
        let mut active: Vec<&Object> = jobs
            .iter()
            .filter(|j| !finished(j) && !terminating(j))
            .collect();
        note_finished(ctx, cj, jobs, &mut status);
        clean_history(ctx, cj, jobs, &mut outcome);
        let earliest = status["lastScheduleTime"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(
                || *self.first_seen.entry(uid(cj).to_owned()).or_insert(now),
                |t| t.with_timezone(&Utc),
            );
        let suspended = cj["spec"]["suspend"].as_bool() == Some(true);
        if let Some(due) = latest_due(&schedule, earliest, now)
            && !suspended
        {
            let policy = str_at(cj, "/spec/concurrencyPolicy");
            if policy == "Forbid" && !active.is_empty() {
                let message = "Not starting job because prior execution is running and concurrency policy is Forbid";
                ctx.events
                    .record(&SOURCE, cj, &Note::normal("JobAlreadyActive", message));
            } else {
                if policy == "Replace" {
                    for job in active.drain(..) {
                        if let Ok(gone) =
                            ctx.store
                                .delete("jobs.batch", namespace(job), name(job), false)
                        {
                            outcome.removed.push(gone);
                        }
                    }
                }
                if let Some(job) = create_job(ctx, cj, due) {
                    outcome.written.push(job);
                }
                status["lastScheduleTime"] =
                    json!(due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
        }
        let refs: Vec<Value> = active
            .iter()
            .map(|j| json!({"kind": "Job", "namespace": namespace(j), "name": name(j), "uid": uid(j),
                            "apiVersion": "batch/v1", "resourceVersion": j["metadata"]["resourceVersion"]}))
            .chain(outcome.written.iter().map(|j| json!({"kind": "Job", "namespace": namespace(j),
                "name": name(j), "uid": uid(j), "apiVersion": "batch/v1",
                "resourceVersion": j["metadata"]["resourceVersion"]})))
            .collect();
        if refs.is_empty() {
            if let Some(map) = status.as_object_mut() {
                map.remove("active");
            }
        } else {
            status["active"] = json!(refs);
        }
        if let Some(next) = schedule.next_after(now) {
            let wait = (next - now).to_std().unwrap_or_default();
            outcome.requeue(wait + Duration::from_millis(1));
        }
        let _ = ctx
            .store
            .mutate(Self::PRIMARY, namespace(cj), name(cj), |o| {
                o["status"] = status;
            });
        outcome
    }

    fn forget(&mut self, object: &Object) {
        self.first_seen.remove(uid(object));
    }
}

fn finished(job: &Value) -> bool {
    condition_true(job, "Complete") || condition_true(job, "Failed")
}

/// The latest time after `earliest` and not after `now` that the schedule fired.
fn latest_due(
    schedule: &cron::Schedule,
    earliest: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut due = None;
    let mut t = earliest;
    for _ in 0..MISSED {
        match schedule.next_after(t) {
            Some(next) if next <= now => {
                due = Some(next);
                t = next;
            }
            _ => break,
        }
    }
    due
}

/// Jobs that finished since the last look: SawCompletedJob, lastSuccessfulTime. The time is
/// the simulated time the success is seen at, the clock `lastScheduleTime` is on (a Job's
/// `completionTime` is wall-clock time, behind it at any speed above 1).
fn note_finished(ctx: &Ctx, cj: &Value, jobs: &[Object], status: &mut Value) {
    let was_active: Vec<String> = status["active"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str().map(str::to_owned))
        .collect();
    for job in jobs
        .iter()
        .filter(|j| finished(j) && was_active.iter().any(|u| u == uid(j)))
    {
        let outcome = if condition_true(job, "Complete") {
            let now = ctx.sim_now();
            status["lastSuccessfulTime"] =
                json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            "Complete"
        } else {
            "Failed"
        };
        let message = format!("Saw completed job: {}, condition: {outcome}", name(job));
        ctx.events
            .record(&SOURCE, cj, &Note::normal("SawCompletedJob", message));
    }
}

/// Deletes the oldest finished Jobs beyond the successful / failed history limits.
fn clean_history(ctx: &Ctx, cj: &Value, jobs: &[Object], outcome: &mut Outcome) {
    for (type_, field, default) in [
        ("Complete", "/spec/successfulJobsHistoryLimit", 3),
        ("Failed", "/spec/failedJobsHistoryLimit", 1),
    ] {
        let limit = int_at(cj, field, default).max(0) as usize;
        let mut done: Vec<&Object> = jobs
            .iter()
            .filter(|j| condition_true(j, type_) && !terminating(j))
            .collect();
        done.sort_by_key(|j| str_at(j, "/metadata/creationTimestamp").to_owned());
        for job in done.iter().take(done.len().saturating_sub(limit)) {
            if let Ok(gone) = ctx
                .store
                .delete("jobs.batch", namespace(job), name(job), false)
            {
                let message = format!("Deleted job {}", name(job));
                ctx.events
                    .record(&SOURCE, cj, &Note::normal("SuccessfulDelete", message));
                outcome.removed.push(gone);
            }
        }
    }
}

fn create_job(ctx: &Ctx, cj: &Value, due: DateTime<Utc>) -> Option<Object> {
    let template = &cj["spec"]["jobTemplate"];
    let mut metadata = template
        .get("metadata")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let job_name = format!("{}-{}", name(cj), due.timestamp() / 60);
    metadata["name"] = json!(job_name);
    metadata["namespace"] = json!(namespace(cj));
    metadata["ownerReferences"] = json!([controller_ref(cj)]);
    let scheduled = due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let key = "batch.kubernetes.io/cronjob-scheduled-timestamp";
    put(&mut metadata, &["annotations", key], json!(scheduled));
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    });
    let job = ctx.store.create("jobs.batch", job).ok()?;
    let message = format!("Created job {job_name}");
    ctx.events
        .record(&SOURCE, cj, &Note::normal("SuccessfulCreate", message));
    Some(job)
}
