//! The DaemonSet controller: one pod per simulated node the pod may run on (its taints
//! tolerated, its node selector and affinity met; bound to it), rolling updates
//! that replace at most `maxUnavailable` pods at a time, and the status
//! `kubectl rollout status` reads (desiredNumberScheduled, currentNumberScheduled,
//! numberReady, numberAvailable, updatedNumberScheduled, observedGeneration).

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    generation, name, namespace, pod_active, pod_from_template, pod_ready, put, str_at,
    template_hash, terminating,
};
use crate::controllers::rolling::int_or_percent;
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::Object;
use serde_json::{Value, json};

const SOURCE: Source = Source::controller("daemonset-controller");
const REVISION: &str = "controller-revision-hash";

pub struct DaemonSets;

impl Controller for DaemonSets {
    const PRIMARY: &'static str = "daemonsets.apps";
    const CHILD: Option<&'static str> = Some("pods");

    fn reconcile(&mut self, ctx: &Ctx, ds: &Object, pods: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(ds) {
            return outcome;
        }
        let revision = template_hash(&ds["spec"]["template"]);
        let on_node = |node: &str| -> Vec<&Object> {
            pods.iter()
                .filter(|p| str_at(p, "/spec/nodeName") == node && !terminating(p))
                .collect()
        };
        let nodes = eligible_nodes(ctx, &ds["spec"]["template"]["spec"]);
        let desired = nodes.len() as i64;
        let max_unavailable = int_or_percent(
            ds.pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable"),
            desired,
            false,
            "1",
        )
        .max(1);
        let rolling = str_at(ds, "/spec/updateStrategy/type") != "OnDelete";
        let mut unavailable = nodes
            .iter()
            .filter(|n| !on_node(n).iter().any(|p| pod_ready(p)))
            .count() as i64;
        let mut current: Vec<Object> = Vec::new();
        for node in &nodes {
            let node = node.as_str();
            let here = on_node(node);
            let Some(pod) = here.iter().find(|p| pod_active(p)) else {
                let replaced = pods
                    .iter()
                    .any(|p| str_at(p, "/spec/nodeName") == node && terminating(p));
                if !replaced && let Some(pod) = create_pod(ctx, ds, node, &revision) {
                    current.push(pod.clone());
                    outcome.written.push(pod);
                }
                continue;
            };
            current.push((*pod).clone());
            let stale = str_at(pod, &format!("/metadata/labels/{REVISION}")) != revision;
            if rolling
                && stale
                && (unavailable < max_unavailable || !pod_ready(pod))
                && let Ok(gone) = ctx.store.delete("pods", namespace(pod), name(pod), true)
            {
                let message = format!("Deleted pod: {}", name(pod));
                ctx.events
                    .record(&SOURCE, ds, &Note::normal("SuccessfulDelete", message));
                if pod_ready(pod) {
                    unavailable += 1;
                }
                current.pop();
                outcome.written.push(gone);
            }
        }
        let status = status(ds, &current, &revision, nodes.len());
        let _ = ctx
            .store
            .mutate(Self::PRIMARY, namespace(ds), name(ds), |o| {
                o["status"] = status;
            });
        outcome
    }
}

fn create_pod(ctx: &Ctx, ds: &Value, node: &str, revision: &str) -> Option<Object> {
    let mut pod = pod_from_template(ds, &ds["spec"]["template"]);
    pod["metadata"]["generateName"] = json!(format!("{}-", name(ds)));
    pod["metadata"]["labels"][REVISION] = json!(revision);
    pod["metadata"]["labels"]["pod-template-generation"] = json!(generation(ds).to_string());
    put(&mut pod, &["spec", "nodeName"], json!(node));
    let pod = crate::admission::create_pod(&ctx.store, pod).ok()?;
    let message = format!("Created pod: {}", name(&pod));
    ctx.events
        .record(&SOURCE, ds, &Note::normal("SuccessfulCreate", message));
    Some(pod)
}

/// The nodes a pod of the template may run on, by name: the kube-system DaemonSets of a
/// kubeadm cluster tolerate the control-plane taint, others skip that node.
fn eligible_nodes(ctx: &Ctx, spec: &Value) -> Vec<String> {
    let (nodes, _) = ctx.store.list("nodes", None);
    nodes
        .iter()
        .filter(|node| crate::scheduler::eligible(spec, node))
        .map(|node| name(node).to_owned())
        .collect()
}

fn status(ds: &Value, pods: &[Object], revision: &str, desired: usize) -> Value {
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods
        .iter()
        .filter(|p| str_at(p, &format!("/metadata/labels/{REVISION}")) == revision)
        .count();
    json!({
        "observedGeneration": generation(ds),
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": pods.len(),
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "numberUnavailable": desired - ready.min(desired),
        "updatedNumberScheduled": updated,
    })
}
