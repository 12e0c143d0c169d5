//! `--output json`: the one JSON document README.md describes, with the digest — on every
//! exit, including bad input and cluster errors (with their problems).

use super::digest::Entry;
use super::tree;
use crate::apply::{Action, Progress};
use crate::model::{ObjectKey, World};
use crate::status::Status;
use crate::tracker::{Overrides, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

pub use super::problem::Problem;

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub outcome: Outcome,
    pub elapsed_ms: u64,
    /// 0 when the timeout is disabled, as on the command line.
    pub timeout_ms: u64,
    pub stabilize_ms: u64,
    pub objects: Vec<Object>,
    /// Why a failed or timed-out run ended so; empty otherwise.
    pub digest: Vec<Entry>,
    /// What the API server warned of while kos applied (its `Warning` headers).
    pub warnings: Vec<Warning>,
    /// Why a run ended without a verdict (outcome `invalid` or `error`); empty otherwise.
    pub problems: Vec<Problem>,
}

/// How a run ended: its verdict, or why it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outcome {
    Verdict(Verdict),
    Stopped(Stop),
}

impl From<Verdict> for Outcome {
    fn from(verdict: Verdict) -> Self {
        Outcome::Verdict(verdict)
    }
}

impl From<Stop> for Outcome {
    fn from(stop: Stop) -> Self {
        Outcome::Stopped(stop)
    }
}

/// Why a run ended without a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Bad input: a manifest, a flag, an object the server rejects (exit 3).
    Invalid,
    /// The cluster refused or could not be reached (exit 4).
    Error,
}

/// A warning of the API server about one applied object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub message: String,
}

/// One tracked object of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub kind: String,
    pub api_version: String,
    pub namespace: Option<String>,
    pub name: String,
    /// None for a root that is missing from the cluster.
    pub uid: Option<String>,
    pub status: Status,
    pub message: String,
    /// `Kind/name` of the owner, when tracked.
    pub owner: Option<String>,
    pub applied: bool,
    /// What applying did to it (`created`, `configured`, `unchanged`); `null` for objects
    /// kos did not apply.
    pub action: Option<Action>,
    pub counted: bool,
    /// The `kos.dev/` overrides in force on an applied object, when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Overrides>,
}

/// Timings of a run.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub elapsed: Duration,
    pub timeout: Option<Duration>,
    pub stabilize: Duration,
}

/// Builds the report of `world`, in tree order, with what `applied` tells of applying.
pub fn build(
    world: &World,
    outcome: Outcome,
    timings: Timings,
    digest: Vec<Entry>,
    applied: &Progress,
) -> Report {
    let actions: HashMap<&ObjectKey, Action> =
        applied.applied.iter().map(|a| (&a.key, a.action)).collect();
    let objects = tree(world)
        .into_iter()
        .map(|row| Object {
            kind: row.key.kind.clone(),
            api_version: row
                .object
                .map(|o| o.api_version.clone())
                .unwrap_or_default(),
            namespace: row.key.namespace.clone(),
            name: row.key.name.clone(),
            uid: row.object.map(|o| o.uid.clone()),
            status: row.status(),
            message: row.message().to_owned(),
            owner: row
                .object
                .and_then(|o| o.owner.as_ref())
                .map(crate::model::ObjectKey::kind_name),
            applied: row.object.is_none_or(|o| o.applied),
            action: actions.get(row.key).copied(),
            counted: row.counted(),
            overrides: world.overrides.get(row.key).copied(),
        })
        .collect();
    Report {
        outcome,
        elapsed_ms: millis(timings.elapsed),
        timeout_ms: timings.timeout.map_or(0, millis),
        stabilize_ms: millis(timings.stabilize),
        objects,
        digest,
        warnings: warnings(applied),
        problems: Vec::new(),
    }
}

/// The report of a run that ended before its verdict (`outcome`: invalid, error, or a
/// timeout while waiting for what to track): the objects applied before it ended (not
/// tracked: status `unknown`), the warnings so far and the problems.
pub fn stopped(
    outcome: Outcome,
    timings: Timings,
    applied: &Progress,
    problems: Vec<Problem>,
) -> Report {
    let objects = applied
        .applied
        .iter()
        .map(|a| Object {
            kind: a.key.kind.clone(),
            api_version: a.api_version.clone(),
            namespace: a.key.namespace.clone(),
            name: a.key.name.clone(),
            uid: None,
            status: Status::Unknown,
            message: "not tracked: kos stopped before tracking".to_owned(),
            owner: None,
            applied: true,
            action: Some(a.action),
            counted: true,
            overrides: (a.overrides != Overrides::default()).then_some(a.overrides),
        })
        .collect();
    Report {
        outcome,
        elapsed_ms: millis(timings.elapsed),
        timeout_ms: timings.timeout.map_or(0, millis),
        stabilize_ms: millis(timings.stabilize),
        objects,
        digest: Vec::new(),
        warnings: warnings(applied),
        problems,
    }
}

/// The server's warnings, in the report's words.
pub fn warnings(applied: &Progress) -> Vec<Warning> {
    applied
        .warnings
        .iter()
        .map(|w| Warning {
            kind: w.key.kind.clone(),
            namespace: w.key.namespace.clone(),
            name: w.key.name.clone(),
            message: w.text.clone(),
        })
        .collect()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;
    use serde_json::json;

    #[test]
    fn the_report_has_the_design_shape_and_round_trips() {
        let world = fixtures::failing_world();
        let timings = Timings {
            elapsed: Duration::from_millis(31_250),
            timeout: Some(Duration::from_mins(5)),
            stabilize: Duration::from_secs(10),
        };
        let report = build(
            &world,
            Verdict::Failed.into(),
            timings,
            Vec::new(),
            &applied_web(),
        );
        let value = serde_json::to_value(&report).unwrap();
        assert_eq!(value["outcome"], "failed");
        assert_eq!(value["elapsed_ms"], 31_250);
        assert_eq!(value["timeout_ms"], 300_000);
        assert_eq!(value["stabilize_ms"], 10_000);
        assert_eq!(
            value["objects"][0],
            json!({"kind": "Deployment", "api_version": "apps/v1", "namespace": "shop",
                   "name": "web", "uid": "uid-web", "status": "in_progress",
                   "message": "0/1 replicas available", "owner": null, "applied": true,
                   "action": "configured", "counted": true})
        );
        assert_eq!(value["objects"][3]["action"], json!(null));
        assert_eq!(
            value["warnings"],
            json!([{"kind": "Deployment", "namespace": "shop", "name": "web",
                    "message": "unknown field \"spec.replica\""}])
        );
        assert_eq!(value["problems"], json!([]));
        assert_eq!(value["objects"][3]["owner"], "ReplicaSet/web-2");
        assert_eq!(value["objects"][3]["applied"], false);
        assert_eq!(value["objects"][1]["counted"], false);
        assert_eq!(value["objects"][4]["status"], "missing");
        assert_eq!(value["digest"], json!([]));
        let back: Report = serde_json::from_value(value).unwrap();
        assert_eq!(back, report);
    }

    /// What applying the fixture's Deployment told: configured, with one warning.
    fn applied_web() -> Progress {
        let key = ObjectKey::new("Deployment", Some("shop"), "web");
        let gvk = kube::core::GroupVersionKind::gvk("apps", "v1", "Deployment");
        Progress {
            applied: vec![crate::apply::Applied {
                key: key.clone(),
                api_version: "apps/v1".into(),
                served: crate::apply::discovery::Served {
                    resource: kube::discovery::ApiResource::from_gvk(&gvk),
                    namespaced: true,
                },
                action: Action::Configured,
                unchecked: None,
                position: 0,
                overrides: crate::tracker::Overrides::default(),
                sent: std::sync::Arc::default(),
            }],
            warnings: vec![crate::apply::Warning {
                key,
                text: "unknown field \"spec.replica\"".into(),
            }],
            say: None,
        }
    }

    #[test]
    fn a_run_that_stops_before_its_verdict_reports_its_problems() {
        let timings = Timings {
            elapsed: Duration::from_millis(20),
            timeout: None,
            stabilize: Duration::ZERO,
        };
        let problem = Problem {
            message: "unknown field".into(),
            ..Problem::default()
        };
        let report = stopped(Stop::Invalid.into(), timings, &applied_web(), vec![problem]);
        let value = serde_json::to_value(&report).unwrap();
        assert_eq!(value["outcome"], "invalid");
        assert_eq!(value["problems"], json!([{"message": "unknown field"}]));
        assert_eq!(value["objects"][0]["action"], "configured");
        assert_eq!(value["objects"][0]["status"], "unknown");
        let back: Report = serde_json::from_value(value).unwrap();
        assert_eq!(back, report);
        let error = stopped(
            Stop::Error.into(),
            timings,
            &Progress::default(),
            Vec::new(),
        );
        assert_eq!(serde_json::to_value(&error).unwrap()["outcome"], "error");
    }
}
