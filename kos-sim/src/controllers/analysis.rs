//! The AnalysisRuns a Rollout starts (`rollout_plan` decides when), created owned by it and
//! played in small: a run is `Running` for [`RUNS_FOR`] of simulated time, then
//! `Successful`, or `Failed` when its Rollout carries `sim.kos.dev/analysis: fail` — what
//! the application's metrics would have said. No metric is measured.
//!
//! Named and labelled as Argo Rollouts names them (`<rollout>-<hash>-<revision>-<step>`, or
//! `-pre` for a blue/green pre-promotion analysis; `rollouts-pod-template-hash`,
//! `rollout-type`). Needs the `analysisruns.argoproj.io` CRD (`assets/crds/argo-rollouts.yaml`).

use crate::controllers::objects::{controller_ref, name, namespace, put, str_at};
use crate::controllers::rollout_plan::{Analysis, HASH, Now, PRE_PROMOTION};
use crate::controllers::runner::Ctx;
use crate::store::StoreError;
use serde_json::{Value, json};
use std::time::Duration;

pub const RESOURCE: &str = "analysisruns.argoproj.io";

/// How long a run runs, in simulated time.
pub const RUNS_FOR: Duration = Duration::from_secs(10);

/// The Rollout annotation that makes its analyses fail.
const OUTCOME: &str = "sim.kos.dev/analysis";

/// What a failed run says, as Argo words a metric over its failure limit.
const FAILED: &str = "Metric \"sim\" assessed Failed due to failed (1) > failureLimit (0)";

/// Starts the run of analysis `label` of the Rollout's revision `revision` (pod template
/// `hash`); the run as the Rollout's status records it, or `None` when it cannot be created
/// (its CRD is not installed). A run of that name already there is taken as it is: a
/// status write lost to a concurrent change asks for it again.
pub fn start(
    ctx: &Ctx,
    ro: &Value,
    (hash, revision): (&str, i64),
    label: &str,
    now: &Now,
) -> Option<Analysis> {
    let run_name = format!("{}-{hash}-{revision}-{label}", name(ro));
    let kind = if label == PRE_PROMOTION {
        "PrePromotion"
    } else {
        "Step"
    };
    let run = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": run_name,
            "namespace": namespace(ro),
            "labels": {HASH: hash, "rollout-type": kind},
            "ownerReferences": [controller_ref(ro)],
        },
        "spec": {"metrics": [{"name": "sim"}]},
        "status": {"phase": "Running", "startedAt": now.stamp()},
    });
    let run = match ctx.store.create(RESOURCE, run) {
        Ok(run) => run,
        Err(StoreError::AlreadyExists { .. }) => {
            ctx.store.get(RESOURCE, namespace(ro), &run_name)?
        }
        Err(_) => return None,
    };
    Some(Analysis {
        name: run_name,
        status: str_at(&run, "/status/phase").to_owned(),
    })
}

/// Brings `analysis` up to date with its run, judging the run once it has run its time;
/// the simulated time left until then, while it runs.
pub fn advance(ctx: &Ctx, ro: &Value, analysis: &mut Analysis, now: &Now) -> Option<Duration> {
    let run = ctx.store.get(RESOURCE, namespace(ro), &analysis.name)?;
    let phase = str_at(&run, "/status/phase");
    if phase != "Running" {
        phase.clone_into(&mut analysis.status);
        return None;
    }
    let left = RUNS_FOR.saturating_sub(now.since(str_at(&run, "/status/startedAt")));
    if !left.is_zero() {
        phase.clone_into(&mut analysis.status);
        return Some(left);
    }
    let (phase, message) = if ro["metadata"]["annotations"][OUTCOME] == "fail" {
        ("Failed", FAILED)
    } else {
        ("Successful", "")
    };
    let judged = ctx
        .store
        .mutate(RESOURCE, namespace(ro), &analysis.name, |run| {
            put(run, &["status", "phase"], json!(phase));
            put(run, &["status", "message"], json!(message));
            put(run, &["status", "completedAt"], json!(now.stamp()));
        });
    if judged.is_ok() {
        phase.clone_into(&mut analysis.status);
    }
    None
}
