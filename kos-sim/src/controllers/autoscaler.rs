//! The HorizontalPodAutoscaler controller, with the simulated metrics pipeline it reads
//! (a metrics-server). Every 15 simulated seconds, as the real controller syncs, it reads
//! the target's scale (a Deployment, ReplicaSet, StatefulSet or ReplicationController),
//! brings it within `minReplicas`..`maxReplicas`, and otherwise computes the replicas its
//! `cpu` and `memory` Resource metrics ask for (`Utilization` of the containers' requests,
//! or `AverageValue`), within the tolerance of 10 %, the scale-up limit and the five-minute
//! scale-down stabilization window. It writes `currentReplicas`, `desiredReplicas`,
//! `currentMetrics`, `lastScaleTime` and the conditions `AbleToScale`, `ScalingActive` and
//! `ScalingLimited`, with the real controller's reasons and messages (in the
//! `autoscaling.alpha.kubernetes.io/conditions` annotation for an `autoscaling/v1` object).
//!
//! A pod's usage is what only the application knows: `sim.kos.dev/cpu-usage` and
//! `sim.kos.dev/memory-usage` per container (idle by default), reported once the pod has
//! run for the metrics-server's first scrape. Until then the HPA says
//! `FailedGetResourceMetric`, as a real one does while metrics-server starts. Pods, Object
//! and External metrics need an adapter the cluster does not have, and fail as they do
//! without one.

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    condition_true, int_at, name, namespace, phase, put, selects, set_condition, str_at,
    terminating, uid,
};
use crate::controllers::runner::{Controller, Ctx, Key, Outcome};
use crate::scheduler::quantity;
use crate::store::{self, Object};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const SOURCE: Source = Source::controller("horizontal-pod-autoscaler");
/// `--horizontal-pod-autoscaler-sync-period`.
const SYNC: Duration = Duration::from_secs(15);
/// From a pod's start to its first metrics: the metrics-server's scrape interval.
const FIRST_SCRAPE: Duration = Duration::from_secs(15);
/// `--horizontal-pod-autoscaler-downscale-stabilization`.
const DOWNSCALE_WINDOW: Duration = Duration::from_mins(5);
/// `--horizontal-pod-autoscaler-tolerance`.
const TOLERANCE: f64 = 0.1;
/// What an idle container uses, per resource, when its pod does not say.
const IDLE: [(&str, &str, &str); 2] = [
    ("cpu", "sim.kos.dev/cpu-usage", "5m"),
    ("memory", "sim.kos.dev/memory-usage", "32Mi"),
];
const V1_CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
const V1_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// The decimal suffixes of a quantity, by power of 1000.
const SUFFIXES: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];

#[derive(Default)]
pub struct Autoscalers {
    /// Pod uid → when it was first seen running: its metrics start a scrape later.
    running: HashMap<String, Instant>,
    /// HPA uid → its recent recommendations, for the scale-down stabilization.
    recommendations: HashMap<String, Vec<(i64, Instant)>>,
}

/// One metric's proposal: the replicas it asks for, its name as the conditions say it,
/// and its entry of `currentMetrics`.
struct Proposal {
    replicas: i64,
    metric: String,
    status: Value,
}

/// Why one metric could not be computed: the condition reason, and the error as the
/// condition, its Event and `FailedComputeMetricsReplicas` word it.
struct Failure {
    reason: &'static str,
    error: String,
    wrapped: String,
}

impl Controller for Autoscalers {
    const PRIMARY: &'static str = "horizontalpodautoscalers.autoscaling";
    const CHILD: Option<&'static str> = None;
    const WATCHES: &'static [&'static str] = &["pods"];

    fn reconcile(&mut self, ctx: &Ctx, hpa: &Object, _: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(hpa) {
            return outcome;
        }
        outcome.requeue(SYNC);
        let now = store::now();
        let mut sync = Conditions {
            list: read_conditions(hpa),
            now: now.clone(),
        };
        let last = |field: &str| hpa["status"][field].clone();
        let mut status = json!({"currentReplicas": last("currentReplicas"),
            "desiredReplicas": last("desiredReplicas"), "lastScaleTime": last("lastScaleTime")});
        let target = match scale_target(ctx, hpa) {
            Ok(target) => target,
            Err(error) => {
                ctx.events
                    .record(&SOURCE, hpa, &Note::warning("FailedGetScale", &error));
                let message = format!(
                    "the HPA controller was unable to get the target's current scale: {error}"
                );
                sync.set("AbleToScale", false, "FailedGetScale", &message);
                write(ctx, hpa, status, &sync, &[]);
                return outcome;
            }
        };
        sync.set(
            "AbleToScale",
            true,
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        );
        let current = int_at(&target.1, "/spec/replicas", 1);
        let min = int_at(hpa, "/spec/minReplicas", 1);
        let max = int_at(hpa, "/spec/maxReplicas", 1);
        self.recommendations
            .entry(uid(hpa).to_owned())
            .or_insert_with(|| vec![(current, Instant::now())]);
        status["currentReplicas"] = json!(current);
        let mut metrics = Vec::new();
        let (desired, reason) = if current == 0 && min != 0 {
            let message = "scaling is disabled since the replica count of the target is zero";
            sync.set("ScalingActive", false, "ScalingDisabled", message);
            (0, String::new())
        } else if current > max {
            (
                max,
                "Current number of replicas above Spec.MaxReplicas".to_owned(),
            )
        } else if current < min {
            (
                min,
                "Current number of replicas below Spec.MinReplicas".to_owned(),
            )
        } else {
            let pods = target_pods(ctx, &target.1);
            let proposals: Vec<Result<Proposal, Failure>> = metric_specs(hpa)
                .iter()
                .map(|spec| self.propose(ctx, spec, &pods, current))
                .collect();
            // One entry per metric, an empty one where it failed, as the real status has.
            metrics = proposals
                .iter()
                .map(|p| {
                    p.as_ref()
                        .map_or_else(|_| json!({"type": ""}), |p| p.status.clone())
                })
                .collect();
            let total = proposals.len();
            let (valid, invalid): (Vec<_>, Vec<_>) = proposals.into_iter().partition(Result::is_ok);
            let best = valid.into_iter().flatten().max_by_key(|p| p.replicas);
            let Some(best) = best else {
                if let Some(Err(first)) = invalid.into_iter().next() {
                    failed(ctx, hpa, &mut sync, &first, total);
                }
                write(ctx, hpa, status, &sync, &metrics);
                return outcome;
            };
            let message = format!(
                "the HPA was able to successfully calculate a replica count from {}",
                best.metric
            );
            sync.set("ScalingActive", true, "ValidMetricFound", &message);
            let reason = match best.replicas.cmp(&current) {
                std::cmp::Ordering::Greater => format!("{} above target", best.metric),
                std::cmp::Ordering::Less => "All metrics below target".to_owned(),
                std::cmp::Ordering::Equal => String::new(),
            };
            let stable = self.stabilize(ctx, hpa, best.replicas);
            (
                normalize(&mut sync, current, best.replicas, stable, (min, max)),
                reason,
            )
        };
        if desired != current && rescale(ctx, hpa, &target, (desired, &reason), &mut sync) {
            status["lastScaleTime"] = json!(now);
        }
        status["desiredReplicas"] = json!(desired);
        write(ctx, hpa, status, &sync, &metrics);
        outcome
    }

    fn forget(&mut self, hpa: &Object) {
        self.recommendations.remove(uid(hpa));
    }

    fn observe(&mut self, _: &str, pod: &Object, gone: bool) -> Vec<Key> {
        if gone || phase(pod) != "Running" {
            self.running.remove(uid(pod));
        } else {
            self.running
                .entry(uid(pod).to_owned())
                .or_insert_with(Instant::now);
        }
        // The autoscaler looks on its own schedule, not on every pod change.
        Vec::new()
    }

    fn reset(&mut self) {
        self.running.clear();
    }
}

/// The conditions being written, and the time they are written at.
struct Conditions {
    list: Vec<Value>,
    now: String,
}

impl Conditions {
    fn set(&mut self, type_: &str, status: bool, reason: &str, message: &str) {
        let status = if status { "True" } else { "False" };
        let condition =
            json!({"type": type_, "status": status, "reason": reason, "message": message});
        set_condition(&mut self.list, condition, &self.now);
    }
}

/// The conditions as last written: the status's, or an `autoscaling/v1` object's annotation.
fn read_conditions(hpa: &Value) -> Vec<Value> {
    if is_v1(hpa) {
        let text = str_at(
            hpa,
            &format!("/metadata/annotations/{}", V1_CONDITIONS.replace('/', "~1")),
        );
        serde_json::from_str(text).unwrap_or_default()
    } else {
        crate::controllers::objects::conditions_of(hpa)
    }
}

fn is_v1(hpa: &Value) -> bool {
    hpa["apiVersion"] == "autoscaling/v1"
}

/// Writes the status (and for `autoscaling/v1`, the annotations that carry the rest).
fn write(ctx: &Ctx, hpa: &Value, mut status: Value, sync: &Conditions, metrics: &[Value]) {
    let v1 = is_v1(hpa);
    if v1 {
        let utilization = metrics
            .iter()
            .find(|m| m["resource"]["name"] == "cpu")
            .map(|m| m["resource"]["current"]["averageUtilization"].clone());
        if let Some(utilization) = utilization.filter(|u| !u.is_null()) {
            status["currentCPUUtilizationPercentage"] = utilization;
        }
    } else {
        status["conditions"] = json!(sync.list);
        if !metrics.is_empty() {
            status["currentMetrics"] = json!(metrics);
        }
    }
    if let Some(fields) = status.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    let _ = ctx
        .store
        .mutate(Autoscalers::PRIMARY, namespace(hpa), name(hpa), |o| {
            o["status"] = status;
            if v1 {
                let conditions = Value::from(sync.list.clone()).to_string();
                put(
                    o,
                    &["metadata", "annotations", V1_CONDITIONS],
                    json!(conditions),
                );
                let metrics = Value::from(metrics.to_vec()).to_string();
                put(o, &["metadata", "annotations", V1_METRICS], json!(metrics));
            }
        });
}

/// The object `scaleTargetRef` names, with its store resource, or why it cannot be read.
fn scale_target(ctx: &Ctx, hpa: &Value) -> Result<(&'static str, Object), String> {
    let kind = str_at(hpa, "/spec/scaleTargetRef/kind");
    let target = str_at(hpa, "/spec/scaleTargetRef/name");
    let group = str_at(hpa, "/spec/scaleTargetRef/apiVersion")
        .rsplit_once('/')
        .map_or("", |(group, _)| group);
    let resource = match (group, kind) {
        ("apps", "Deployment") => "deployments.apps",
        ("apps", "ReplicaSet") => "replicasets.apps",
        ("apps", "StatefulSet") => "statefulsets.apps",
        ("", "ReplicationController") => "replicationcontrollers",
        _ => return Err(format!("no matches for kind {kind:?} in group {group:?}")),
    };
    ctx.store
        .get(resource, namespace(hpa), target)
        .map(|object| (resource, object))
        .ok_or_else(|| format!("{resource} {target:?} not found"))
}

/// The metrics to compute: `spec.metrics`, `autoscaling/v1`'s CPU target, or the default
/// of both versions, 80 % of the CPU requests.
fn metric_specs(hpa: &Value) -> Vec<Value> {
    let cpu = |utilization: &Value| {
        json!({"type": "Resource", "resource": {"name": "cpu",
               "target": {"type": "Utilization", "averageUtilization": utilization}}})
    };
    if is_v1(hpa) {
        let target = &hpa["spec"]["targetCPUUtilizationPercentage"];
        let default = json!(80);
        return vec![cpu(if target.is_null() { &default } else { target })];
    }
    match hpa["spec"]["metrics"].as_array() {
        Some(metrics) if !metrics.is_empty() => metrics.clone(),
        _ => vec![cpu(&json!(80))],
    }
}

/// Records the metric failure: the `ScalingActive` condition and the Events of a sync that
/// could compute no metric.
fn failed(ctx: &Ctx, hpa: &Value, sync: &mut Conditions, first: &Failure, total: usize) {
    ctx.events
        .record(&SOURCE, hpa, &Note::warning(first.reason, &first.error));
    let message = format!(
        "the HPA was unable to compute the replica count: {}",
        first.error
    );
    sync.set("ScalingActive", false, first.reason, &message);
    let note = format!(
        "invalid metrics ({total} invalid out of {total}), first error is: {}",
        first.wrapped
    );
    ctx.events.record(
        &SOURCE,
        hpa,
        &Note::warning("FailedComputeMetricsReplicas", note),
    );
}

/// The replicas within the limits, setting `AbleToScale` for the stabilization and
/// `ScalingLimited` for the limits as the real controller's `normalizeDesiredReplicas`.
fn normalize(
    sync: &mut Conditions,
    current: i64,
    proposed: i64,
    stable: i64,
    (min, max): (i64, i64),
) -> i64 {
    if stable == proposed {
        sync.set(
            "AbleToScale",
            true,
            "ReadyForNewScale",
            "recommended size matches current size",
        );
    } else {
        sync.set(
            "AbleToScale",
            true,
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        );
    }
    let up_limit = (2 * current).max(4);
    let (ceiling, over) = if max > up_limit {
        (
            up_limit,
            (
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            ),
        )
    } else {
        (
            max,
            (
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            ),
        )
    };
    let (desired, (reason, message)) = if stable < min {
        (
            min,
            (
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            ),
        )
    } else if stable > ceiling {
        (ceiling, over)
    } else {
        (
            stable,
            (
                "DesiredWithinRange",
                "the desired count is within the acceptable range",
            ),
        )
    };
    sync.set("ScalingLimited", desired != stable, reason, message);
    desired
}

/// The target's pods, as its selector selects them.
fn target_pods(ctx: &Ctx, target: &Value) -> Vec<Object> {
    let selector = &target["spec"]["selector"];
    if !selector.is_object() {
        return Vec::new();
    }
    ctx.store
        .list("pods", Some(namespace(target)))
        .0
        .into_iter()
        .filter(|p| selects(selector, &p["metadata"]["labels"]))
        .collect()
}

/// Sets the target's replicas, with the condition and Event the real controller writes;
/// true when it could.
fn rescale(
    ctx: &Ctx,
    hpa: &Value,
    (resource, target): &(&'static str, Object),
    (desired, reason): (i64, &str),
    sync: &mut Conditions,
) -> bool {
    let scaled = ctx
        .store
        .mutate(resource, namespace(hpa), name(target), |t| {
            put(t, &["spec", "replicas"], json!(desired));
        });
    match scaled {
        Ok(_) => {
            let message =
                format!("the HPA controller was able to update the target scale to {desired}");
            sync.set("AbleToScale", true, "SucceededRescale", &message);
            let note = format!("New size: {desired}; reason: {reason}");
            ctx.events
                .record(&SOURCE, hpa, &Note::normal("SuccessfulRescale", note));
            true
        }
        Err(error) => {
            let message =
                format!("the HPA controller was unable to update the target scale: {error}");
            sync.set("AbleToScale", false, "FailedUpdateScale", &message);
            false
        }
    }
}

impl Autoscalers {
    /// The highest recommendation of the scale-down window, this one included.
    fn stabilize(&mut self, ctx: &Ctx, hpa: &Value, proposed: i64) -> i64 {
        let window = ctx.clock.real(DOWNSCALE_WINDOW);
        let recent = self.recommendations.entry(uid(hpa).to_owned()).or_default();
        recent.retain(|(_, at)| at.elapsed() <= window);
        let stable = recent.iter().map(|r| r.0).fold(proposed, i64::max);
        recent.push((proposed, Instant::now()));
        stable
    }

    /// Whether the metrics-server has scraped the pod yet.
    fn scraped(&self, ctx: &Ctx, pod: &Value) -> bool {
        self.running
            .get(uid(pod))
            .is_some_and(|since| since.elapsed() >= ctx.clock.real(FIRST_SCRAPE))
    }

    fn propose(
        &self,
        ctx: &Ctx,
        spec: &Value,
        pods: &[Object],
        current: i64,
    ) -> Result<Proposal, Failure> {
        match spec["type"].as_str().unwrap_or_default() {
            "Resource" => self.resource(ctx, &spec["resource"], pods, current),
            "ContainerResource" => self.resource(ctx, &spec["containerResource"], pods, current),
            other => Err(no_adapter(other, spec)),
        }
    }

    /// A Resource metric (or a ContainerResource metric: one container's), as the replica
    /// calculator computes it from the pods' usage.
    fn resource(
        &self,
        ctx: &Ctx,
        spec: &Value,
        pods: &[Object],
        current: i64,
    ) -> Result<Proposal, Failure> {
        let resource = spec["name"].as_str().unwrap_or_default();
        let container = spec["container"].as_str();
        let reason = if container.is_some() {
            "FailedGetContainerResourceMetric"
        } else {
            "FailedGetResourceMetric"
        };
        let target = &spec["target"];
        let by_value = target["type"] == "AverageValue";
        let fail = |error: String| {
            let error = if by_value {
                format!("failed to get {resource} usage: {error}")
            } else {
                format!("failed to get {resource} utilization: {error}")
            };
            let wrapped = format!("failed to get {resource} resource metric value: {error}");
            Failure {
                reason,
                error,
                wrapped,
            }
        };
        let live: Vec<&Object> = pods
            .iter()
            .filter(|p| !terminating(p) && phase(p) != "Failed")
            .collect();
        let measured: Vec<(&Object, f64)> = live
            .iter()
            .filter(|p| self.scraped(ctx, p))
            .filter_map(|p| Some((*p, usage(p, resource, container)?)))
            .collect();
        if measured.is_empty() {
            return Err(fail(format!(
                "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
            )));
        }
        let ready: Vec<(&Object, f64)> = measured
            .into_iter()
            .filter(|(p, _)| resource != "cpu" || condition_true(p, "Ready"))
            .collect();
        if ready.is_empty() {
            return Err(fail(
                "did not receive metrics for targeted pods (pods might be unready)".into(),
            ));
        }
        let used: f64 = ready.iter().map(|r| r.1).sum();
        let average = used / ready.len() as f64;
        let count = ready.len() as f64;
        let (ratio, current_value, metric) = if by_value {
            let wanted = target["averageValue"]
                .as_str()
                .and_then(quantity)
                .unwrap_or(0.0);
            if wanted <= 0.0 {
                return Err(fail("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set".into()));
            }
            let value = json!({"averageValue": milli_quantity(average)});
            (average / wanted, value, format!("{resource} resource"))
        } else {
            let requested: f64 = live
                .iter()
                .map(|p| requests(p, resource, container))
                .collect::<Result<Vec<f64>, String>>()
                .map_err(fail)?
                .iter()
                .sum();
            let utilization = (used * 100.0 / requested.max(f64::MIN_POSITIVE)).floor();
            let wanted = target["averageUtilization"]
                .as_f64()
                .unwrap_or(80.0)
                .max(1.0);
            let value = json!({"averageUtilization": utilization as i64,
                               "averageValue": milli_quantity(average)});
            let metric = format!("{resource} resource utilization (percentage of request)");
            (utilization / wanted, value, metric)
        };
        let replicas = if (1.0 - ratio).abs() <= TOLERANCE {
            current
        } else {
            (ratio * count).ceil() as i64
        };
        let status = match container {
            Some(container) => json!({"type": "ContainerResource", "containerResource":
                {"name": resource, "container": container, "current": current_value}}),
            None => {
                json!({"type": "Resource", "resource": {"name": resource, "current": current_value}})
            }
        };
        Ok(Proposal {
            replicas,
            metric,
            status,
        })
    }
}

/// The pod's containers, or only the one named.
fn containers<'a>(pod: &'a Value, only: Option<&'a str>) -> impl Iterator<Item = &'a Value> {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |c| only.is_none_or(|name| c["name"] == name))
}

/// A pod's usage of `resource`: each container's, from the pod's annotation or idle (the
/// metrics API serves it too).
pub fn usage(pod: &Value, resource: &str, only: Option<&str>) -> Option<f64> {
    let (_, annotation, idle) = IDLE.iter().find(|(r, _, _)| *r == resource)?;
    let per_container = pod["metadata"]["annotations"][annotation]
        .as_str()
        .and_then(quantity)
        .or_else(|| quantity(idle))?;
    Some(per_container * containers(pod, only).count() as f64)
}

/// The pod's requests of `resource`, or the real controller's error for a container
/// without one.
fn requests(pod: &Value, resource: &str, only: Option<&str>) -> Result<f64, String> {
    containers(pod, only)
        .map(|c| {
            c["resources"]["requests"][resource]
                .as_str()
                .and_then(quantity)
                .or_else(|| c["resources"]["requests"][resource].as_f64())
                .ok_or_else(|| {
                    format!(
                        "missing request for {resource} in container {} of Pod {}",
                        str_at(c, "/name"),
                        name(pod)
                    )
                })
        })
        .sum()
}

/// A metric the cluster serves no API for: it has no custom or external metrics adapter.
fn no_adapter(type_: &str, spec: &Value) -> Failure {
    let custom = "unable to fetch metrics from custom metrics API: no custom metrics API \
                  (custom.metrics.k8s.io) registered";
    let (reason, field) = match type_ {
        "Pods" => ("FailedGetPodsMetric", "pods"),
        "Object" => ("FailedGetObjectMetric", "object"),
        "External" => ("FailedGetExternalMetric", "external"),
        _ => {
            let error = format!("unknown metric source type {type_:?}");
            return Failure {
                reason: "InvalidMetricSourceType",
                wrapped: error.clone(),
                error,
            };
        }
    };
    let metric = str_at(&spec[field], "/metric/name");
    let error = if type_ == "External" {
        format!(
            "unable to get external metric {metric}: unable to fetch metrics from external \
             metrics API: no external metrics API (external.metrics.k8s.io) registered"
        )
    } else {
        format!("unable to get metric {metric}: {custom}")
    };
    let wrapped = format!("failed to get {field} metric value: {error}");
    Failure {
        reason,
        error,
        wrapped,
    }
}

/// A quantity in base units as Kubernetes writes a milli-quantity: `5m`, `250m`, `2`, `33554432`.
pub fn milli_quantity(value: f64) -> String {
    let milli = (value * 1000.0).round() as i64;
    if milli % 1000 != 0 {
        return format!("{milli}m");
    }
    let mut whole = milli / 1000;
    let mut suffix = 0;
    while whole != 0 && whole % 1000 == 0 && suffix < SUFFIXES.len() - 1 {
        whole /= 1000;
        suffix += 1;
    }
    format!("{whole}{}", SUFFIXES[suffix])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync() -> Conditions {
        Conditions {
            list: Vec::new(),
            now: "t".into(),
        }
    }

    fn limited(sync: &Conditions) -> (String, String) {
        let c = sync
            .list
            .iter()
            .find(|c| c["type"] == "ScalingLimited")
            .unwrap();
        (
            c["status"].as_str().unwrap().into(),
            c["reason"].as_str().unwrap().into(),
        )
    }

    #[test]
    fn the_limits_say_which_bound_held_the_count() {
        let mut s = sync();
        assert_eq!(normalize(&mut s, 2, 1, 1, (2, 10)), 2);
        assert_eq!(limited(&s), ("True".into(), "TooFewReplicas".into()));
        assert_eq!(normalize(&mut s, 2, 3, 3, (2, 10)), 3);
        assert_eq!(limited(&s), ("False".into(), "DesiredWithinRange".into()));
        assert_eq!(normalize(&mut s, 2, 9, 9, (2, 10)), 4);
        assert_eq!(limited(&s), ("True".into(), "ScaleUpLimit".into()));
        assert_eq!(normalize(&mut s, 3, 9, 9, (2, 5)), 5);
        assert_eq!(limited(&s), ("True".into(), "TooManyReplicas".into()));
    }

    #[test]
    fn quantities_are_written_as_kubernetes_writes_them() {
        assert_eq!(milli_quantity(0.005), "5m");
        assert_eq!(milli_quantity(2.0), "2");
        assert_eq!(milli_quantity(33_554_432.0), "33554432");
        assert_eq!(milli_quantity(3_000_000.0), "3M");
    }

    #[test]
    fn a_container_without_a_request_is_named() {
        let pod = json!({"metadata": {"name": "web-1"},
                         "spec": {"containers": [{"name": "app", "resources": {}}]}});
        assert_eq!(
            requests(&pod, "cpu", None),
            Err("missing request for cpu in container app of Pod web-1".into())
        );
    }
}
