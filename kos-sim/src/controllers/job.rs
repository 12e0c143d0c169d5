//! The Job controller: runs pods (`<job>-<5 chars>`, labelled `job-name` and
//! `batch.kubernetes.io/job-name`) until `completions` succeed, `parallelism` at a time;
//! fails the Job once more than `backoffLimit` pods failed (BackoffLimitExceeded) or
//! `activeDeadlineSeconds` passed (DeadlineExceeded); replaces failed pods after a growing
//! back-off; honours `suspend`. Writes the status
//! (active, succeeded, failed, ready, startTime, completionTime) and the conditions a
//! current cluster writes (SuccessCriteriaMet + Complete, FailureTarget + Failed).

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    condition_true, conditions_of, int_at, name, namespace, phase, pod_active, pod_from_template,
    pod_ready, set_condition, terminating, uid,
};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::kubelet::behaviour::back_off;
use crate::store::{self, Object};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const SOURCE: Source = Source::controller("job-controller");

/// Jobs, remembering when each (by uid) started, for `activeDeadlineSeconds`, and how many
/// of its pods had failed when it last saw a new failure, and when.
#[derive(Default)]
pub struct Jobs {
    started: HashMap<String, Instant>,
    failures: HashMap<String, (i64, Instant)>,
}

/// How a Job ended.
struct End {
    reason: &'static str,
    message: &'static str,
    failed: bool,
}

impl Controller for Jobs {
    const PRIMARY: &'static str = "jobs.batch";
    const CHILD: Option<&'static str> = Some("pods");

    fn reconcile(&mut self, ctx: &Ctx, job: &Object, pods: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(job) || finished(job) {
            return outcome;
        }
        let now = store::now();
        let completions = int_at(job, "/spec/completions", 1).max(0);
        let parallelism = int_at(job, "/spec/parallelism", 1).max(0);
        let backoff_limit = int_at(job, "/spec/backoffLimit", 6).max(0);
        let suspended = job["spec"]["suspend"].as_bool() == Some(true);
        let active: Vec<&Object> = pods.iter().filter(|p| pod_active(p)).collect();
        let succeeded = pods.iter().filter(|p| phase(p) == "Succeeded").count() as i64;
        let restarts: i64 = active.iter().map(|p| restarts(p)).sum();
        let failed = pods.iter().filter(|p| phase(p) == "Failed").count() as i64 + restarts;
        let mut conditions = conditions_of(job);
        let mut status = job.get("status").cloned().unwrap_or_else(|| json!({}));
        if suspended {
            stop_pods(ctx, job, &active, &mut outcome);
            let suspend = json!({"type": "Suspended", "status": "True", "reason": "JobSuspended",
                                 "message": "Job suspended"});
            set_condition(&mut conditions, suspend, &now);
            status["active"] = json!(0);
        } else {
            if conditions
                .iter()
                .any(|c| c["type"] == "Suspended" && c["status"] == "True")
            {
                let resumed = json!({"type": "Suspended", "status": "False",
                                     "reason": "JobResumed", "message": "Job resumed"});
                set_condition(&mut conditions, resumed, &now);
            }
            if status["startTime"].is_null() {
                status["startTime"] = json!(now);
            }
            let started = *self
                .started
                .entry(uid(job).to_owned())
                .or_insert_with(Instant::now);
            let end = Self::end(
                ctx,
                job,
                started,
                &mut outcome,
                [succeeded, failed, completions, backoff_limit],
            );
            if let Some(end) = end {
                stop_pods(ctx, job, &active, &mut outcome);
                finish(ctx, job, &end, &mut conditions, &now);
                if !end.failed {
                    status["completionTime"] = json!(now);
                }
                status["active"] = json!(0);
            } else {
                let mut wanted = parallelism.min(completions - succeeded) - active.len() as i64;
                if let Some(wait) = self.backing_off(ctx, job, failed) {
                    // A failed pod is replaced after the back-off, as a real Job's is.
                    outcome.requeue(wait);
                    wanted = 0;
                }
                for _ in 0..wanted.max(0) {
                    if let Some(pod) = create_pod(ctx, job) {
                        outcome.written.push(pod);
                    }
                }
                status["active"] = json!(active.len() as i64 + wanted.max(0));
            }
        }
        status["succeeded"] = json!(succeeded);
        status["failed"] = json!(failed);
        status["ready"] = json!(active.iter().filter(|p| pod_ready(p)).count());
        status["terminating"] = json!(pods.iter().filter(|p| terminating(p)).count());
        status["uncountedTerminatedPods"] = json!({});
        status["conditions"] = Value::Array(conditions);
        let _ = ctx
            .store
            .mutate(Self::PRIMARY, namespace(job), name(job), |o| {
                o["status"] = status;
            });
        outcome
    }

    fn forget(&mut self, object: &Object) {
        self.started.remove(uid(object));
        self.failures.remove(uid(object));
    }
}

impl Jobs {
    /// The simulated time still to wait before replacing failed pods: 10 s after the
    /// first failure, doubling with each, as the Job controller backs off.
    fn backing_off(&mut self, ctx: &Ctx, job: &Value, failed: i64) -> Option<Duration> {
        if failed == 0 {
            return None;
        }
        let seen = self
            .failures
            .entry(uid(job).to_owned())
            .or_insert((failed, Instant::now()));
        if failed > seen.0 {
            *seen = (failed, Instant::now());
        }
        let back_off = ctx.clock.real(back_off(failed as u32));
        let waited = seen.1.elapsed();
        (waited < back_off).then(|| back_off.saturating_sub(waited).mul_f64(ctx.clock.speed()))
    }

    /// Whether (and how) the Job is over; asks for a look at its deadline.
    fn end(
        ctx: &Ctx,
        job: &Value,
        started: Instant,
        outcome: &mut Outcome,
        [succeeded, failed, completions, backoff_limit]: [i64; 4],
    ) -> Option<End> {
        if succeeded >= completions {
            return Some(End {
                reason: "CompletionsReached",
                message: "Reached expected number of succeeded pods",
                failed: false,
            });
        }
        if failed > backoff_limit {
            return Some(End {
                reason: "BackoffLimitExceeded",
                message: "Job has reached the specified backoff limit",
                failed: true,
            });
        }
        let deadline = job["spec"]["activeDeadlineSeconds"].as_i64()?;
        let limit = ctx.clock.real(Duration::from_secs(deadline.max(0) as u64));
        let elapsed = started.elapsed();
        if elapsed >= limit {
            return Some(End {
                reason: "DeadlineExceeded",
                message: "Job was active longer than specified deadline",
                failed: true,
            });
        }
        outcome.requeue(limit.saturating_sub(elapsed).mul_f64(ctx.clock.speed()));
        None
    }
}

/// Whether the Job is over: `Complete` or `Failed`.
pub fn finished(job: &Value) -> bool {
    condition_true(job, "Complete") || condition_true(job, "Failed")
}

fn restarts(pod: &Value) -> i64 {
    if pod["spec"]["restartPolicy"] != "OnFailure" {
        return 0;
    }
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["restartCount"].as_i64().unwrap_or(0))
        .sum()
}

fn finish(ctx: &Ctx, job: &Value, end: &End, conditions: &mut Vec<Value>, now: &str) {
    let condition = |type_: &str| {
        json!({"type": type_, "status": "True", "reason": end.reason, "message": end.message,
               "lastProbeTime": now})
    };
    if end.failed {
        set_condition(conditions, condition("FailureTarget"), now);
        set_condition(conditions, condition("Failed"), now);
        ctx.events
            .record(&SOURCE, job, &Note::warning(end.reason, end.message));
    } else {
        set_condition(conditions, condition("SuccessCriteriaMet"), now);
        set_condition(conditions, condition("Complete"), now);
        ctx.events
            .record(&SOURCE, job, &Note::normal("Completed", "Job completed"));
    }
}

fn stop_pods(ctx: &Ctx, job: &Value, pods: &[&Object], outcome: &mut Outcome) {
    for pod in pods {
        if let Ok(gone) = ctx.store.delete("pods", namespace(pod), name(pod), true) {
            let message = format!("Deleted pod: {}", name(pod));
            ctx.events
                .record(&SOURCE, job, &Note::normal("SuccessfulDelete", message));
            outcome.written.push(gone);
        }
    }
}

fn create_pod(ctx: &Ctx, job: &Value) -> Option<Object> {
    let mut pod = pod_from_template(job, &job["spec"]["template"]);
    pod["metadata"]["generateName"] = json!(format!("{}-", name(job)));
    let labels = &mut pod["metadata"]["labels"];
    for (key, value) in [
        ("batch.kubernetes.io/controller-uid", uid(job)),
        ("batch.kubernetes.io/job-name", name(job)),
        ("controller-uid", uid(job)),
        ("job-name", name(job)),
    ] {
        labels[key] = json!(value);
    }
    let pod = match crate::admission::create_pod(&ctx.store, pod) {
        Ok(pod) => pod,
        Err(refused) => {
            let message = format!("Error creating: {refused}");
            ctx.events
                .record(&SOURCE, job, &Note::warning("FailedCreate", message));
            return None;
        }
    };
    let message = format!("Created pod: {}", name(&pod));
    ctx.events
        .record(&SOURCE, job, &Note::normal("SuccessfulCreate", message));
    Some(pod)
}
