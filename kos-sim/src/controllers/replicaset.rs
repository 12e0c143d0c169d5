//! The ReplicaSet controller: keeps `spec.replicas` pods of the template alive (pods named
//! `<replicaset>-<5 chars>`), deletes the least useful ones on scale-down, and writes the
//! status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
//! observedGeneration) with SuccessfulCreate / SuccessfulDelete Events. A pod that cannot
//! be created (refused by admission) is a FailedCreate Event and the ReplicaFailure
//! condition until a create succeeds again; the controller retries on a back-off.

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    conditions_of, controller_ref, generation, int_at, name, namespace, phase, pod_active,
    pod_available, pod_from_template, pod_ready, put, set_condition, str_at, template_hash,
    terminating,
};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::{self, Object};
use serde_json::{Value, json};
use std::time::Duration;

const SOURCE: Source = Source::controller("replicaset-controller");
/// Pods created per reconcile at most; the rest come on the next turn.
const BURST: i64 = 500;
/// How long after a refused create the controller tries again.
const CREATE_RETRY: Duration = Duration::from_secs(5);

pub struct ReplicaSets;

impl Controller for ReplicaSets {
    const PRIMARY: &'static str = "replicasets.apps";
    const CHILD: Option<&'static str> = Some("pods");

    fn reconcile(&mut self, ctx: &Ctx, rs: &Object, pods: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        let mut failure: Option<String> = None;
        if terminating(rs) {
            return outcome;
        }
        let mut pods: Vec<Object> = pods.to_vec();
        let active: Vec<Object> = pods.iter().filter(|p| pod_active(p)).cloned().collect();
        let desired = int_at(rs, "/spec/replicas", 1).max(0);
        let missing = desired - active.len() as i64;
        if missing > 0 {
            for _ in 0..missing.min(BURST) {
                let pod = match create_pod(ctx, rs) {
                    Ok(pod) => pod,
                    Err(message) => {
                        failure = Some(message);
                        outcome.requeue(CREATE_RETRY);
                        break;
                    }
                };
                pods.push(pod.clone());
                outcome.written.push(pod);
            }
            if missing > BURST {
                outcome.requeue(Duration::from_millis(100));
            }
        } else if missing < 0 {
            let mut victims = active;
            victims.sort_by_key(|p| deletion_rank(p));
            for victim in victims.iter().take((-missing) as usize) {
                if let Ok(pod) = ctx
                    .store
                    .delete("pods", namespace(victim), name(victim), true)
                {
                    let message = format!("Deleted pod: {}", name(victim));
                    ctx.events
                        .record(&SOURCE, rs, &Note::normal("SuccessfulDelete", message));
                    replace(&mut pods, &pod);
                    outcome.written.push(pod);
                }
            }
        }
        let (mut status, wait) = status(rs, &pods);
        let conditions = replica_failure(rs, failure);
        if !conditions.is_empty() {
            status["conditions"] = json!(conditions);
        }
        if let Some(wait) = wait {
            outcome.requeue(wait);
        }
        let _ = ctx
            .store
            .mutate(Self::PRIMARY, namespace(rs), name(rs), |rs| {
                rs["status"] = status;
            });
        outcome
    }
}

/// How a workload marks its ReplicaSets: the label its pod template's hash goes in
/// (`pod-template-hash` for a Deployment) and the annotation numbering its revisions.
pub struct Revisions {
    pub hash_label: &'static str,
    pub annotation: &'static str,
}

/// A ReplicaSet's revision number, or 0.
pub fn revision(rs: &Value, annotation: &str) -> i64 {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get(annotation))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Creates `owner`'s ReplicaSet for its current pod template (`spec.template`), named
/// `<owner>-<hash>`, its template and selector carrying the hash label, as revision
/// `revision` with `replicas` pods. `None` when the store refuses it.
pub fn create_revision(
    ctx: &Ctx,
    owner: &Value,
    marks: &Revisions,
    revision: i64,
    replicas: i64,
) -> Option<Object> {
    let mut template = owner["spec"]["template"].clone();
    let hash = template_hash(&template);
    put(
        &mut template,
        &["metadata", "labels", marks.hash_label],
        json!(hash),
    );
    let mut selector = owner["spec"]["selector"].clone();
    put(
        &mut selector,
        &["matchLabels", marks.hash_label],
        json!(hash),
    );
    let mut annotations = owner["spec"]["template"]["metadata"]["annotations"].clone();
    if !annotations.is_object() {
        annotations = json!({});
    }
    annotations[marks.annotation] = json!(revision.to_string());
    let rs = json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{}-{hash}", name(owner)),
            "namespace": namespace(owner),
            "labels": template["metadata"]["labels"],
            "annotations": annotations,
            "ownerReferences": [controller_ref(owner)],
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": int_at(owner, "/spec/minReadySeconds", 0),
            "selector": selector,
            "template": template,
        },
    });
    ctx.store.create("replicasets.apps", rs).ok()
}

/// Creates one pod, or says why it could not be (the ReplicaFailure message).
fn create_pod(ctx: &Ctx, rs: &Value) -> Result<Object, String> {
    let mut pod = pod_from_template(rs, &rs["spec"]["template"]);
    pod["metadata"]["generateName"] = json!(format!("{}-", name(rs)));
    match crate::admission::create_pod(&ctx.store, pod) {
        Ok(pod) => {
            let message = format!("Created pod: {}", name(&pod));
            ctx.events
                .record(&SOURCE, rs, &Note::normal("SuccessfulCreate", message));
            Ok(pod)
        }
        Err(refused) => {
            let message = format!("Error creating: {refused}");
            ctx.events
                .record(&SOURCE, rs, &Note::warning("FailedCreate", message));
            Err(refused.to_string())
        }
    }
}

/// The ReplicaSet's conditions: ReplicaFailure while creates fail, gone after a reconcile
/// without a failure.
fn replica_failure(rs: &Value, failure: Option<String>) -> Vec<Value> {
    let mut conditions = conditions_of(rs);
    match failure {
        Some(message) => {
            let condition = json!({"type": "ReplicaFailure", "status": "True",
                                   "reason": "FailedCreate", "message": message});
            set_condition(&mut conditions, condition, &store::now());
        }
        None => conditions.retain(|c| c["type"] != "ReplicaFailure"),
    }
    conditions
}

fn replace(pods: &mut [Object], pod: &Object) {
    if let Some(slot) = pods.iter_mut().find(|p| name(p) == name(pod)) {
        *slot = pod.clone();
    }
}

/// Which pod goes first on scale-down: unscheduled before scheduled, pending before
/// running, not ready before ready, then the newest.
fn deletion_rank(pod: &Value) -> (bool, bool, bool, std::cmp::Reverse<String>) {
    (
        !str_at(pod, "/spec/nodeName").is_empty(),
        phase(pod) == "Running",
        pod_ready(pod),
        std::cmp::Reverse(str_at(pod, "/metadata/creationTimestamp").to_owned()),
    )
}

/// The status the pods give, and when to look again for pods about to become available.
pub fn status(rs: &Value, pods: &[Object]) -> (Value, Option<Duration>) {
    let min_ready = int_at(rs, "/spec/minReadySeconds", 0);
    let active: Vec<&Object> = pods.iter().filter(|p| pod_active(p)).collect();
    let mut wait: Option<i64> = None;
    let mut available = 0;
    for pod in &active {
        match pod_available(pod, min_ready) {
            Ok(true) => available += 1,
            Ok(false) => {}
            Err(seconds) => wait = Some(wait.map_or(seconds, |w: i64| w.min(seconds))),
        }
    }
    let ready = active.iter().filter(|p| pod_ready(p)).count();
    let status = json!({
        "replicas": active.len(),
        "fullyLabeledReplicas": active.len(),
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": generation(rs),
    });
    // minReadySeconds counts wall-clock time (pod timestamps are wall-clock); at a higher
    // speed the re-check comes early and is simply asked for again.
    (status, wait.map(|s| Duration::from_secs(s.max(1) as u64)))
}
