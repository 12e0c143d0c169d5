//! Start-up states: failures that young objects commonly show and outgrow.
//!
//! Right after it is created, a `HorizontalPodAutoscaler` cannot read metrics that have
//! not been scraped yet (`FailedGetResourceMetric`, often for a minute), and a pod may wait
//! in `CreateContainerConfigError` for the few seconds another component (an init Job, an
//! operator) takes to create the Secret or `ConfigMap` it reads. Such a failure is still
//! `in_progress` while the object is younger than its grace, with [`Later`] saying what it
//! becomes once the grace is over; every other failure shows at once. README.md, "Start-up
//! states", is the user's description of this rule.
//!
//! Pure: the time is an argument.

use super::fields::text;
use super::summary::Container;
use super::{Assessment, Status};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// How long a pod may wait for a Secret or `ConfigMap` that does not exist yet.
pub const POD_GRACE: Duration = Duration::from_secs(30);
/// How long an autoscaler may wait for its first metrics: metrics-server scrapes every 15 s
/// (60 s in older releases) and the autoscaler reads them every 15 s.
pub const AUTOSCALER_GRACE: Duration = Duration::from_mins(2);

/// What a forgiven failure becomes, and when, unless the object changes first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Later {
    /// From the time the assessment was made.
    pub after: Duration,
    pub status: Status,
    pub message: String,
}

/// `assessment` of `object` at `now`: a start-up failure of a young object becomes
/// `in_progress`, with the failure kept in [`Assessment::later`].
/// `containers` are the pod's, as its rules read them.
pub(crate) fn forgive(
    object: &Value,
    assessment: Assessment,
    containers: &[Container],
    now: DateTime<Utc>,
) -> Assessment {
    if assessment.status != Status::Failed {
        return assessment;
    }
    let (grace, what) = match text(object, "/kind") {
        Some("Pod") if super::pod::only_missing_configuration(object, containers) => {
            (POD_GRACE, "pod")
        }
        Some("HorizontalPodAutoscaler") if super::misc::only_missing_metrics(object) => {
            (AUTOSCALER_GRACE, "autoscaler")
        }
        _ => return assessment,
    };
    let Some(left) = age(object, now).and_then(|age| grace.checked_sub(age)) else {
        return assessment;
    };
    if left.is_zero() {
        return assessment;
    }
    let message = format!(
        "{} — new {what}, a failure if it lasts {}s more",
        assessment.message,
        left.as_secs().max(1)
    );
    Assessment {
        status: Status::InProgress,
        message,
        counts: assessment.counts,
        later: Some(Later {
            after: left,
            status: assessment.status,
            message: assessment.message,
        }),
    }
}

/// How long ago the object was created; a creation time ahead of `now` (a clock skewed
/// against the API server's) reads as just now.
fn age(object: &Value, now: DateTime<Utc>) -> Option<Duration> {
    let created =
        DateTime::parse_from_rfc3339(text(object, "/metadata/creationTimestamp")?).ok()?;
    Some(
        now.signed_duration_since(created.with_timezone(&Utc))
            .to_std()
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::of_at;
    use super::*;
    use serde_json::json;

    const CREATED: &str = "2026-03-01T10:00:00Z";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(CREATED)
            .expect("a time")
            .with_timezone(&Utc)
            + chrono::Duration::seconds(seconds)
    }

    fn pod(reason: &str, message: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "server", "creationTimestamp": CREATED},
            "spec": {"containers": [{"name": "server", "image": "argocd:3"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "server",
                "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": message}}}]}})
    }

    #[test]
    fn a_young_pod_waits_for_a_missing_secret() {
        let object = pod(
            "CreateContainerConfigError",
            "secret \"argocd-redis\" not found",
        );
        let young = of_at(&object, at(12));
        assert_eq!(young.status, Status::InProgress);
        assert_eq!(
            young.message,
            "server: CreateContainerConfigError (secret \"argocd-redis\" not found) — new pod, \
             a failure if it lasts 18s more"
        );
        let later = young.later.expect("a later failure");
        assert_eq!(later.after, Duration::from_secs(18));
        assert_eq!(later.status, Status::Failed);
        assert_eq!(
            later.message,
            "server: CreateContainerConfigError (secret \"argocd-redis\" not found)"
        );
        let old = of_at(&object, at(30));
        assert_eq!((old.status, old.later), (Status::Failed, None));
        let skewed = of_at(&object, at(-5));
        assert_eq!(skewed.later.expect("young").after, POD_GRACE);
    }

    #[test]
    fn other_failures_of_young_pods_show_at_once() {
        for (reason, message) in [
            (
                "ImagePullBackOff",
                "Back-off pulling image \"nginx:doesnotexist\"",
            ),
            (
                "CreateContainerConfigError",
                "container has runAsNonRoot and image will run as root",
            ),
        ] {
            let a = of_at(&pod(reason, message), at(1));
            assert_eq!((a.status, a.later), (Status::Failed, None), "{reason}");
        }
        let missing_key = pod(
            "CreateContainerConfigError",
            "couldn't find key password in Secret default/db",
        );
        assert_eq!(of_at(&missing_key, at(1)).status, Status::InProgress);
        let mut failed = pod("CreateContainerConfigError", "secret \"x\" not found");
        failed["status"]["phase"] = json!("Failed");
        assert_eq!(of_at(&failed, at(1)).status, Status::Failed);
    }

    #[test]
    fn a_young_autoscaler_waits_for_metrics() {
        let hpa = |reason: &str| {
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "web", "creationTimestamp": CREATED},
                "status": {"conditions": [
                    {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
                    {"type": "ScalingActive", "status": "False", "reason": reason,
                     "message": "unable to get metrics for resource cpu"}]}})
        };
        let young = of_at(&hpa("FailedGetResourceMetric"), at(45));
        assert_eq!(young.status, Status::InProgress);
        assert_eq!(young.later.expect("later").after, Duration::from_secs(75));
        assert_eq!(
            of_at(&hpa("FailedGetResourceMetric"), at(120)).status,
            Status::Failed
        );
        assert_eq!(of_at(&hpa("InvalidSelector"), at(1)).status, Status::Failed);
    }

    #[test]
    fn without_a_creation_time_nothing_is_forgiven() {
        let mut object = pod("CreateContainerConfigError", "configmap \"app\" not found");
        object["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("creationTimestamp");
        assert_eq!(of_at(&object, at(1)).status, Status::Failed);
    }
}
