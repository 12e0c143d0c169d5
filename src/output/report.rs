//! `--output json`: the one JSON document README.md describes, with the digest.

use super::digest::Entry;
use super::tree;
use crate::model::World;
use crate::status::Status;
use crate::tracker::{Overrides, Verdict};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub outcome: Verdict,
    pub elapsed_ms: u64,
    /// 0 when the timeout is disabled, as on the command line.
    pub timeout_ms: u64,
    pub stabilize_ms: u64,
    pub objects: Vec<Object>,
    /// Why a failed or timed-out run ended so; empty otherwise.
    pub digest: Vec<Entry>,
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

/// Builds the report of `world`, in tree order.
pub fn build(world: &World, outcome: Verdict, timings: Timings, digest: Vec<Entry>) -> Report {
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
    }
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
        let report = build(&world, Verdict::Failed, timings, Vec::new());
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
                   "counted": true})
        );
        assert_eq!(value["objects"][3]["owner"], "ReplicaSet/web-2");
        assert_eq!(value["objects"][3]["applied"], false);
        assert_eq!(value["objects"][1]["counted"], false);
        assert_eq!(value["objects"][4]["status"], "missing");
        assert_eq!(value["digest"], json!([]));
        let back: Report = serde_json::from_value(value).unwrap();
        assert_eq!(back, report);
    }
}
