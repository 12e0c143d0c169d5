//! The rules of the run-to-completion kinds: Job and `CronJob`.
//!
//! A Job is what the user waits on, so it is `in_progress` until it is Complete (kstatus
//! calls a started Job Current; Argo CD waits, as we do). A failed Job fails at once, a
//! suspended one is `suspended`. A `CronJob` is done once it exists: nobody waits for its
//! schedule; it fails when its last run did not succeed and is `suspended` when suspended.

use super::conditions::{self, find, is_true, named};
use super::fields::{count, flag, int_or, list, plural, text};
use super::{Assessment, Counts, Status};
use chrono::DateTime;
use serde_json::Value;

pub(crate) fn job(object: &Value) -> Assessment {
    let completions = int_or(object, "/spec/completions", 1);
    let succeeded = int_or(object, "/status/succeeded", 0);
    let mut assessment = job_state(object, completions, succeeded);
    assessment.counts = Some(Counts {
        desired: count(completions),
        ready: count(succeeded),
    });
    assessment
}

fn job_state(object: &Value, completions: i64, succeeded: i64) -> Assessment {
    let conditions = conditions::read(object);
    if is_true(&conditions, "Complete") {
        return Assessment::new(
            Status::Success,
            format!("Job {succeeded}/{completions} completed"),
        );
    }
    // FailureTarget comes first on recent clusters, while the last pods are stopped.
    if let Some(failed) = ["Failed", "FailureTarget"]
        .iter()
        .find_map(|type_| find(&conditions, type_).filter(|c| c.status == "True"))
    {
        return Assessment::new(Status::Failed, named(failed));
    }
    let suspend = flag(object, "/spec/suspend");
    let suspended = find(&conditions, "Suspended").filter(|c| c.status == "True");
    match (suspend, suspended) {
        (true, Some(condition)) => {
            let message = if condition.message.is_empty() {
                "Suspended".to_owned()
            } else {
                format!("Suspended: {}", condition.message)
            };
            return Assessment::new(Status::Suspended, message);
        }
        (true, None) => return Assessment::new(Status::InProgress, "Suspending"),
        (false, Some(_)) => return Assessment::new(Status::InProgress, "Resuming"),
        (false, None) => {}
    }
    let active = int_or(object, "/status/active", 0);
    let failed = int_or(object, "/status/failed", 0);
    if text(object, "/status/startTime").is_none() && active == 0 {
        return Assessment::new(Status::InProgress, "Job not started");
    }
    let failed = if failed > 0 {
        format!(", {failed} failed")
    } else {
        String::new()
    };
    Assessment::new(
        Status::InProgress,
        format!("Job {succeeded}/{completions} completed, {active} active{failed}"),
    )
}

pub(crate) fn cron_job(object: &Value) -> Assessment {
    if flag(object, "/spec/suspend") {
        return Assessment::new(Status::Suspended, "Suspended");
    }
    let active = list(object, "/status/active").len();
    if active > 0 {
        return Assessment::new(
            Status::Success,
            format!("{} running", plural(active as i64, "job")),
        );
    }
    let Some(scheduled) = text(object, "/status/lastScheduleTime") else {
        return Assessment::new(Status::Success, "Not scheduled yet");
    };
    let Some(succeeded) = text(object, "/status/lastSuccessfulTime") else {
        return Assessment::new(Status::Success, format!("Last scheduled {scheduled}"));
    };
    if earlier(succeeded, scheduled) {
        return Assessment::new(
            Status::Failed,
            format!("Last run failed: scheduled {scheduled}, last success {succeeded}"),
        );
    }
    Assessment::new(Status::Success, format!("Last run succeeded {succeeded}"))
}

/// Whether time `a` is before time `b`, both RFC 3339. Times that do not parse are not
/// judged: a `CronJob` is not failed on a malformed timestamp.
fn earlier(a: &str, b: &str) -> bool {
    match (
        DateTime::parse_from_rfc3339(a),
        DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a < b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{counts, of};
    use super::*;
    use serde_json::json;

    fn job(spec: &Value, status: &Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job", "spec": spec, "status": status})
    }

    #[test]
    fn complete_job_succeeds_with_counts() {
        let a = of(&job(
            &json!({"completions": 1}),
            &json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
        ));
        assert_eq!(a.status, Status::Success);
        assert_eq!(a.message, "Job 1/1 completed");
        assert_eq!(a.counts, Some(counts(1, 1)));
    }

    #[test]
    fn running_job_is_in_progress_until_complete() {
        let a = of(&job(
            &json!({"completions": 10, "parallelism": 2}),
            &json!({"startTime": "2026-01-01T00:00:00Z", "succeeded": 3, "failed": 1, "active": 2,
                    "conditions": [{"type": "Failed", "status": "False"}]}),
        ));
        assert_eq!(a.status, Status::InProgress);
        assert_eq!(a.message, "Job 3/10 completed, 2 active, 1 failed");
        assert_eq!(of(&job(&json!({}), &json!({}))).message, "Job not started");
    }

    #[test]
    fn failed_job_fails_with_reason() {
        for type_ in ["Failed", "FailureTarget"] {
            let a = of(&job(
                &json!({}),
                &json!({"conditions": [{"type": type_, "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit"}]}),
            ));
            assert_eq!(a.status, Status::Failed);
            assert_eq!(
                a.message,
                format!(
                    "{type_}: BackoffLimitExceeded: Job has reached the specified backoff limit"
                )
            );
        }
    }

    #[test]
    fn suspension_needs_spec_and_condition() {
        let suspended = |spec: bool, condition: &str| {
            of(&job(
                &json!({"suspend": spec}),
                &json!({"conditions": [{"type": "Suspended", "status": condition}]}),
            ))
        };
        assert_eq!(suspended(true, "True").status, Status::Suspended);
        assert_eq!(suspended(true, "False").message, "Suspending");
        assert_eq!(suspended(false, "True").message, "Resuming");
        assert_eq!(suspended(false, "False").status, Status::InProgress);
    }

    fn cron(spec: &Value, status: &Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": spec, "status": status})
    }

    #[test]
    fn cron_job_rules() {
        let a = of(&cron(&json!({}), &json!({})));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "Not scheduled yet")
        );
        let suspended = of(&cron(&json!({"suspend": true}), &json!({})));
        assert_eq!(suspended.status, Status::Suspended);
        let failed = of(&cron(
            &json!({}),
            &json!({"lastScheduleTime": "2025-07-30T13:46:00Z",
                    "lastSuccessfulTime": "2025-07-30T13:44:19Z"}),
        ));
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.message,
            "Last run failed: scheduled 2025-07-30T13:46:00Z, last success 2025-07-30T13:44:19Z"
        );
        let running = of(&cron(
            &json!({}),
            &json!({"active": [{"name": "j"}], "lastScheduleTime": "2025-07-30T13:46:00Z",
                    "lastSuccessfulTime": "2025-07-30T13:44:19Z"}),
        ));
        assert_eq!(
            (running.status, running.message.as_str()),
            (Status::Success, "1 job running")
        );
        let ok = of(&cron(
            &json!({}),
            &json!({"lastScheduleTime": "2025-07-30T13:42:00Z",
                    "lastSuccessfulTime": "2025-07-30T13:44:19Z"}),
        ));
        assert_eq!(ok.status, Status::Success);
    }

    #[test]
    fn malformed_times_are_not_judged() {
        assert!(!earlier("yesterday", "2025-07-30T13:46:00Z"));
        assert!(
            !earlier("2025-07-30T13:44:19Z", "2025-07-30T15:40:00+02:00"),
            "offsets are compared as instants"
        );
        assert!(earlier("2025-07-30T13:44:19Z", "2025-07-30T13:46:00Z"));
    }
}
