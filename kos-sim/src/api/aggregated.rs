//! Aggregated API groups: a group-version that an APIService serves from a Service is
//! answered here, not from the store. While the APIService is not `Available` (see
//! `controllers::apiservices`) every request under `/apis/GROUP/VERSION` gets the
//! aggregator's plain-text 503 (`service unavailable`, which kubectl prints as "the server
//! is currently unable to handle the request"), and aggregated discovery lists the
//! version as `Stale`. Once available, `metrics.k8s.io/v1beta1` serves NodeMetrics and
//! PodMetrics (get and list) from the simulated usage the autoscaler reads, so `kubectl
//! top` works; any other group serves an empty resource list (the simulator does not run
//! the extension server behind it).

// Kubernetes kind names (APIService, PodMetrics) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

use super::{Api, Parts, PathKind, json, no_such_path, selector::Selectors};
use crate::controllers::apiservices::{self, KEY};
use crate::controllers::autoscaler::{milli_quantity, usage as usage_of};
use crate::controllers::objects::{name, phase, str_at};
use crate::errors::ApiError;
use crate::store::{Object, now};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const METRICS_GROUP: &str = "metrics.k8s.io";
const METRICS_VERSION: &str = "v1beta1";
/// The metrics-server's resolution, reported as each sample's window.
const WINDOW: &str = "15s";

/// The APIService serving `group`/`version` from a Service, if any.
pub fn apiservice(api: &Api, group: &str, version: &str) -> Option<Object> {
    let apiservice = api.store.get(KEY, "", &format!("{version}.{group}"))?;
    apiservice["spec"]["service"]
        .is_object()
        .then_some(apiservice)
}

/// Every group-version served from a Service, with whether it is available.
pub fn served(api: &Api) -> Vec<(String, String, bool)> {
    let (all, _) = api.store.list(KEY, None);
    all.iter()
        .filter(|a| a["spec"]["service"].is_object())
        .map(|a| {
            (
                str_at(a, "/spec/group").to_owned(),
                str_at(a, "/spec/version").to_owned(),
                apiservices::available(a),
            )
        })
        .collect()
}

/// The resources an available aggregated group-version serves, as discovery lists them:
/// (plural, kind, namespaced).
pub fn resources(group: &str, version: &str) -> &'static [(&'static str, &'static str, bool)] {
    if (group, version) == (METRICS_GROUP, METRICS_VERSION) {
        &[
            ("nodes", "NodeMetrics", false),
            ("pods", "PodMetrics", true),
        ]
    } else {
        &[]
    }
}

/// The aggregator's answer for a group it cannot reach.
fn unavailable() -> Response {
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, "service unavailable\n").into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Answers a request under an aggregated group-version, or `None` when the path is not one.
pub(super) fn route(
    api: &Api,
    path: &PathKind<'_>,
    method: &Method,
    call: &Query,
) -> Option<Response> {
    let (group, version) = match path {
        PathKind::Version(group, version) => (*group, *version),
        PathKind::Resource(parts) => (parts.group, parts.version),
        PathKind::Group(_) => return None,
    };
    if group.is_empty() {
        return None;
    }
    let apiservice = apiservice(api, group, version)?;
    if !apiservices::available(&apiservice) {
        return Some(unavailable());
    }
    let result = match path {
        PathKind::Resource(parts) if *method == Method::GET => metrics(api, parts, call),
        PathKind::Resource(_) => Err(super::not_allowed(method)),
        _ => Ok(resource_list(group, version)),
    };
    Some(result.unwrap_or_else(IntoResponse::into_response))
}

/// What a request under an aggregated group carries besides its path.
pub(super) struct Query<'a> {
    label_selector: Option<&'a str>,
}

impl<'a> Query<'a> {
    pub(super) fn of(params: &'a super::Params) -> Self {
        Query {
            label_selector: params.get("labelSelector"),
        }
    }
}

/// `/apis/GROUP/VERSION` of an available aggregated group.
fn resource_list(group: &str, version: &str) -> Response {
    let list: Vec<Value> = resources(group, version)
        .iter()
        .map(|(plural, kind, namespaced)| {
            json!({"name": plural, "singularName": "", "namespaced": namespaced, "kind": kind,
                   "verbs": ["get", "list"]})
        })
        .collect();
    json(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": format!("{group}/{version}"), "resources": list}),
    )
}

/// NodeMetrics and PodMetrics: get and list.
fn metrics(api: &Api, parts: &Parts<'_>, query: &Query) -> Result<Response, ApiError> {
    if (parts.group, parts.version) != (METRICS_GROUP, METRICS_VERSION)
        || parts.subresource.is_some()
    {
        return Err(no_such_path());
    }
    let (kind, samples) = match (parts.plural, parts.namespace) {
        ("nodes", None) => ("NodeMetrics", node_samples(api)),
        ("pods", namespace) => ("PodMetrics", pod_samples(api, namespace)),
        _ => return Err(no_such_path()),
    };
    if let Some(wanted) = parts.name {
        let sample = samples
            .into_iter()
            .find(|s| s["metadata"]["name"] == wanted)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "{}.{METRICS_GROUP} \"{wanted}\" not found",
                    parts.plural
                ))
                .with_details(json!({"name": wanted, "group": METRICS_GROUP, "kind": parts.plural}))
            })?;
        return Ok(json(StatusCode::OK, &typed(sample, kind)));
    }
    let selectors = Selectors::parse(query.label_selector, None)?;
    let items: Vec<Value> = samples
        .into_iter()
        .filter(|s| selectors.matches(s))
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({"kind": format!("{kind}List"), "apiVersion": format!("{METRICS_GROUP}/{METRICS_VERSION}"),
                "metadata": {}, "items": items}),
    ))
}

fn typed(mut sample: Value, kind: &str) -> Value {
    sample["kind"] = json!(kind);
    sample["apiVersion"] = json!(format!("{METRICS_GROUP}/{METRICS_VERSION}"));
    sample
}

/// The usage of each container of a running pod: (container, cpu cores, memory bytes).
fn container_usage(pod: &Value) -> Vec<(String, f64, f64)> {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let container = str_at(c, "/name");
            let of = |resource| usage_of(pod, resource, Some(container)).unwrap_or_default();
            (container.to_owned(), of("cpu"), of("memory"))
        })
        .collect()
}

fn usage(cpu: f64, memory: f64) -> Value {
    json!({"cpu": milli_quantity(cpu), "memory": milli_quantity(memory)})
}

fn sample_metadata(object: &Value) -> Value {
    let meta = &object["metadata"];
    let mut metadata = json!({"name": meta["name"], "creationTimestamp": now()});
    for field in ["namespace", "labels"] {
        if !meta[field].is_null() {
            metadata[field] = meta[field].clone();
        }
    }
    metadata
}

/// The running pods of `namespace` (all namespaces when `None`): only running pods have
/// metrics, as only they are scraped.
fn running_pods(api: &Api, namespace: Option<&str>) -> Vec<Object> {
    let (pods, _) = api.store.list("pods", namespace);
    pods.into_iter().filter(|p| phase(p) == "Running").collect()
}

fn pod_samples(api: &Api, namespace: Option<&str>) -> Vec<Value> {
    running_pods(api, namespace)
        .iter()
        .map(|pod| {
            let containers: Vec<Value> = container_usage(pod)
                .into_iter()
                .map(|(container, cpu, memory)| json!({"name": container, "usage": usage(cpu, memory)}))
                .collect();
            json!({"metadata": sample_metadata(pod), "timestamp": now(), "window": WINDOW,
                   "containers": containers})
        })
        .collect()
}

/// Each Node's usage: the sum of its running pods'.
fn node_samples(api: &Api) -> Vec<Value> {
    let pods = running_pods(api, None);
    let (nodes, _) = api.store.list("nodes", None);
    nodes
        .iter()
        .map(|node| {
            let (cpu, memory) = pods
                .iter()
                .filter(|p| str_at(p, "/spec/nodeName") == name(node))
                .flat_map(|p| container_usage(p))
                .fold((0.0, 0.0), |(cpu, memory), (_, c, m)| (cpu + c, memory + m));
            json!({"metadata": sample_metadata(node), "timestamp": now(), "window": WINDOW,
                   "usage": usage(cpu, memory)})
        })
        .collect()
}
