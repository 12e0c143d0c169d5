//! The StatefulSet controller: pods `<sts>-0..N-1` with stable names, started in order,
//! each only once the previous one is Ready (OrderedReady; all at once with Parallel),
//! their PersistentVolumeClaims from `volumeClaimTemplates` (`<template>-<pod>`, mounted
//! as the pod's volume of the template's name), the `controller-revision-hash`
//! label, rolling updates from the highest ordinal down, scale-down from the highest
//! ordinal; and the status `kubectl rollout status` reads (replicas, readyReplicas,
//! currentReplicas, updatedReplicas, availableReplicas, currentRevision, updateRevision,
//! observedGeneration).

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    generation, int_at, name, namespace, pod_from_template, pod_ready, put, str_at, template_hash,
    terminating,
};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::Object;
use serde_json::{Value, json};

const SOURCE: Source = Source::controller("statefulset-controller");
const REVISION: &str = "controller-revision-hash";

pub struct StatefulSets;

impl Controller for StatefulSets {
    const PRIMARY: &'static str = "statefulsets.apps";
    const CHILD: Option<&'static str> = Some("pods");

    fn reconcile(&mut self, ctx: &Ctx, sts: &Object, pods: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(sts) {
            return outcome;
        }
        let replicas = int_at(sts, "/spec/replicas", 1).max(0);
        let update_revision = format!("{}-{}", name(sts), template_hash(&sts["spec"]["template"]));
        let parallel = str_at(sts, "/spec/podManagementPolicy") == "Parallel";
        let mut by_ordinal: Vec<Option<Object>> = vec![None; replicas as usize];
        let mut extra: Vec<(i64, Object)> = Vec::new();
        for pod in pods {
            match ordinal(sts, pod) {
                Some(i) if i < replicas => by_ordinal[i as usize] = Some(pod.clone()),
                Some(i) => extra.push((i, pod.clone())),
                None => {}
            }
        }
        // Create what is missing, in order; OrderedReady waits on each predecessor.
        let mut blocked = false;
        for (i, slot) in by_ordinal.iter_mut().enumerate() {
            match slot {
                None if !blocked => {
                    if let Some(pod) = create_pod(ctx, sts, i, &update_revision) {
                        *slot = Some(pod.clone());
                        outcome.written.push(pod);
                    }
                    blocked |= !parallel;
                }
                Some(pod) if !pod_ready(pod) => blocked |= !parallel,
                _ => {}
            }
        }
        let all_ready = by_ordinal
            .iter()
            .all(|p| p.as_ref().is_some_and(|p| pod_ready(p)));
        // Scale down from the highest ordinal, one at a time unless Parallel.
        extra.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
        let mut deleting = extra.iter().any(|(_, p)| terminating(p));
        for (_, pod) in &extra {
            if terminating(pod) || (deleting && !parallel) {
                continue;
            }
            if let Some(gone) = delete_pod(ctx, sts, pod) {
                outcome.written.push(gone);
            }
            deleting = true;
        }
        // Rolling update: replace the highest ordinal still on an old revision.
        let rolling = str_at(sts, "/spec/updateStrategy/type") != "OnDelete";
        let partition = int_at(sts, "/spec/updateStrategy/rollingUpdate/partition", 0);
        if rolling && all_ready && extra.is_empty() {
            let stale = by_ordinal
                .iter()
                .enumerate()
                .rev()
                .filter(|(i, _)| *i as i64 >= partition)
                .find_map(|(_, p)| p.as_ref().filter(|p| revision_of(p) != update_revision));
            if let Some(pod) = stale
                && let Some(gone) = delete_pod(ctx, sts, pod)
            {
                outcome.written.push(gone);
            }
        }
        let live: Vec<&Object> = by_ordinal
            .iter()
            .flatten()
            .chain(extra.iter().map(|(_, p)| p))
            .collect();
        let status = status(sts, &live, &update_revision);
        let _ = ctx
            .store
            .mutate(Self::PRIMARY, namespace(sts), name(sts), |o| {
                o["status"] = status;
            });
        outcome
    }
}

fn ordinal(sts: &Value, pod: &Value) -> Option<i64> {
    name(pod)
        .strip_prefix(name(sts))?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn revision_of(pod: &Value) -> &str {
    str_at(pod, &format!("/metadata/labels/{REVISION}"))
}

fn create_pod(ctx: &Ctx, sts: &Value, i: usize, revision: &str) -> Option<Object> {
    let pod_name = format!("{}-{i}", name(sts));
    for claim in sts["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let claim_name = format!("{}-{pod_name}", str_at(claim, "/metadata/name"));
        if ctx
            .store
            .get("persistentvolumeclaims", namespace(sts), &claim_name)
            .is_none()
        {
            let mut pvc = claim.clone();
            put(&mut pvc, &["apiVersion"], json!("v1"));
            put(&mut pvc, &["kind"], json!("PersistentVolumeClaim"));
            put(&mut pvc, &["metadata", "name"], json!(claim_name));
            put(&mut pvc, &["metadata", "namespace"], json!(namespace(sts)));
            let labels = sts["spec"]["selector"]["matchLabels"].clone();
            put(&mut pvc, &["metadata", "labels"], labels);
            crate::admission::claim(&ctx.store, &mut pvc);
            if ctx.store.create("persistentvolumeclaims", pvc).is_ok() {
                let message = format!(
                    "create Claim {claim_name} Pod {pod_name} in StatefulSet {} success",
                    name(sts)
                );
                ctx.events
                    .record(&SOURCE, sts, &Note::normal("SuccessfulCreate", message));
            }
        }
    }
    let mut pod = pod_from_template(sts, &sts["spec"]["template"]);
    put(&mut pod, &["metadata", "name"], json!(pod_name));
    mount_claims(sts, &mut pod, &pod_name);
    let labels = &mut pod["metadata"]["labels"];
    labels[REVISION] = json!(revision);
    labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
    labels["apps.kubernetes.io/pod-index"] = json!(i.to_string());
    put(&mut pod, &["spec", "hostname"], json!(pod_name));
    if let Some(service) = sts["spec"]["serviceName"].as_str() {
        put(&mut pod, &["spec", "subdomain"], json!(service));
    }
    match crate::admission::create_pod(&ctx.store, pod) {
        Ok(pod) => {
            let message = format!(
                "create Pod {pod_name} in StatefulSet {} successful",
                name(sts)
            );
            ctx.events
                .record(&SOURCE, sts, &Note::normal("SuccessfulCreate", message));
            Some(pod)
        }
        Err(refused) => {
            let message = format!(
                "create Pod {pod_name} in StatefulSet {} failed error: {refused}",
                name(sts)
            );
            ctx.events
                .record(&SOURCE, sts, &Note::warning("FailedCreate", message));
            None
        }
    }
}

/// Each claim template becomes the pod's volume of the template's name, naming the pod's
/// own claim `<template>-<pod>` (replacing a volume of that name in the pod template).
fn mount_claims(sts: &Value, pod: &mut Value, pod_name: &str) {
    let templates = sts["spec"]["volumeClaimTemplates"].as_array();
    for template in templates.into_iter().flatten() {
        let volume_name = str_at(template, "/metadata/name");
        let volume = json!({"name": volume_name, "persistentVolumeClaim": {
            "claimName": format!("{volume_name}-{pod_name}")}});
        let volumes = &mut pod["spec"]["volumes"];
        if !volumes.is_array() {
            *volumes = json!([]);
        }
        if let Some(list) = volumes.as_array_mut() {
            list.retain(|v| v["name"] != volume_name);
            list.push(volume);
        }
    }
}

fn delete_pod(ctx: &Ctx, sts: &Value, pod: &Value) -> Option<Object> {
    let gone = ctx
        .store
        .delete("pods", namespace(pod), name(pod), true)
        .ok()?;
    let message = format!(
        "delete Pod {} in StatefulSet {} successful",
        name(pod),
        name(sts)
    );
    ctx.events
        .record(&SOURCE, sts, &Note::normal("SuccessfulDelete", message));
    Some(gone)
}

fn status(sts: &Value, pods: &[&Object], update_revision: &str) -> Value {
    let active: Vec<&&Object> = pods.iter().filter(|p| !terminating(p)).collect();
    let count = |f: &dyn Fn(&Value) -> bool| active.iter().filter(|p| f(p)).count();
    let ready = count(&|p| pod_ready(p));
    let updated = count(&|p| revision_of(p) == update_revision);
    let previous = str_at(sts, "/status/currentRevision");
    let replicas = int_at(sts, "/spec/replicas", 1).max(0) as usize;
    // Once every pod runs the update revision it becomes the current one.
    let current_revision = if updated == replicas && active.len() == replicas || previous.is_empty()
    {
        update_revision.to_owned()
    } else {
        previous.to_owned()
    };
    let current = count(&|p| revision_of(p) == current_revision);
    json!({
        "observedGeneration": generation(sts),
        "replicas": active.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "currentRevision": current_revision,
        "updateRevision": update_revision,
        "collisionCount": 0,
    })
}
