//! Discovery: `/version`, `/api`, `/apis`, `/apis/{group}` and the resource lists of each
//! group-version, in the legacy form and, when the client's Accept header asks for it, as
//! aggregated discovery (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`), which kubectl
//! and kube-rs's `Discovery::run_aggregated` use.
//!
//! Everything is read from the [`Registry`](crate::resources::Registry), plus the groups
//! `APIServices` serve from a Service ([`aggregated`](super::aggregated)); nothing here is
//! stored.

use super::{Api, json, no_such_path};
use crate::errors::ApiError;
use crate::resources::ResourceType;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// The Kubernetes version the simulation reports (kubectl warns on a larger skew).
pub const GIT_VERSION: &str = "v1.33.0";

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

pub async fn version() -> Response {
    json(
        StatusCode::OK,
        &json!({
            "major": "1", "minor": "33", "gitVersion": GIT_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc",
            "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": "33",
            "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
        }),
    )
}

fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("as=APIGroupDiscoveryList"))
}

fn aggregated(value: &Value) -> Response {
    let mut response = json(StatusCode::OK, value);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(AGGREGATED));
    response
}

/// `/api`.
pub async fn core_versions(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(&discovery_list(&api, true));
    }
    json(
        StatusCode::OK,
        &json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}),
    )
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": versions, "preferredVersion": versions.first()})
}

/// Every group with its versions: the registry's, then those only `APIServices` serve.
fn all_groups(api: &Api) -> Vec<(String, Vec<String>)> {
    let mut groups = api.registry.groups();
    for (group, version, _) in super::aggregated::served(api) {
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, versions)) if versions.contains(&version) => {}
            Some((_, versions)) => versions.push(version),
            None => groups.push((group, vec![version])),
        }
    }
    groups
}

/// `/apis`.
pub async fn groups(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(&discovery_list(&api, false));
    }
    let groups: Vec<Value> = all_groups(&api)
        .iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, versions)| group_entry(group, versions))
        .collect();
    json(
        StatusCode::OK,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
    )
}

/// `/apis/{group}`.
pub fn group(api: &Api, group: &str, _headers: &HeaderMap) -> Result<Response, ApiError> {
    let groups = all_groups(api);
    let (_, versions) = groups
        .iter()
        .find(|(g, _)| g == group && !g.is_empty())
        .ok_or_else(no_such_path)?;
    let mut entry = group_entry(group, versions);
    entry["kind"] = json!("APIGroup");
    entry["apiVersion"] = json!("v1");
    Ok(json(StatusCode::OK, &entry))
}

/// The subresources a type serves, with the kind each returns.
fn subresources(resource: &ResourceType) -> Vec<(&'static str, String, String, Vec<&'static str>)> {
    let own = (resource.api_version(), resource.kind.clone());
    let mut subs = Vec::new();
    if resource.status {
        subs.push((
            "status",
            own.0.clone(),
            own.1.clone(),
            vec!["get", "patch", "update"],
        ));
    }
    if matches!(
        resource.key().as_str(),
        "deployments.apps" | "replicasets.apps" | "statefulsets.apps"
    ) {
        subs.push((
            "scale",
            "autoscaling/v1".to_owned(),
            "Scale".to_owned(),
            vec!["get", "patch", "update"],
        ));
    }
    if resource.key() == "pods" {
        subs.push((
            "binding",
            "v1".to_owned(),
            "Binding".to_owned(),
            vec!["create"],
        ));
        subs.push(("log", "v1".to_owned(), "Pod".to_owned(), vec!["get"]));
    }
    subs
}

/// `/api/v1`, `/apis/{group}/{version}`: the legacy `APIResourceList`.
pub fn resources(
    api: &Api,
    group: &str,
    version: &str,
    _headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let served: Vec<ResourceType> = api
        .registry
        .all()
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        return Err(no_such_path());
    }
    let mut list = Vec::new();
    for r in &served {
        list.push(json!({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": r.verbs, "shortNames": r.short_names, "categories": r.categories,
        }));
        for (sub, _, kind, verbs) in subresources(r) {
            list.push(
                json!({"name": format!("{}/{sub}", r.plural), "singularName": "",
                             "namespaced": r.namespaced, "kind": kind, "verbs": verbs}),
            );
        }
    }
    let group_version = served[0].api_version();
    Ok(json(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": list}),
    ))
}

/// Aggregated discovery of the core group (`core`) or of every named group.
fn discovery_list(api: &Api, core: bool) -> Value {
    let all = api.registry.all();
    let mut items: Vec<Value> = api
        .registry
        .groups()
        .iter()
        .filter(|(group, _)| group.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = all
                        .iter()
                        .filter(|r| r.group == *group && r.version == *version)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group}, "versions": versions})
        })
        .collect();
    if !core {
        items.extend(aggregated_groups(api));
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
           "metadata": {}, "items": items})
}

/// The aggregated discovery of the groups `APIServices` serve: an unavailable version is
/// `Stale` with no resources, which clients report as a failed group-version.
fn aggregated_groups(api: &Api) -> Vec<Value> {
    let registered = api.registry.groups();
    super::aggregated::served(api)
        .into_iter()
        .filter(|(group, _, _)| !registered.iter().any(|(g, _)| g == group))
        .map(|(group, version, available)| {
            let resources: Vec<Value> = if available {
                super::aggregated::resources(&group, &version)
                    .iter()
                    .map(|(plural, kind, namespaced)| {
                        json!({"resource": plural,
                               "responseKind": {"group": group, "version": version, "kind": kind},
                               "scope": if *namespaced { "Namespaced" } else { "Cluster" },
                               "verbs": ["get", "list"]})
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let freshness = if available { "Current" } else { "Stale" };
            json!({"metadata": {"name": group},
                   "versions": [{"version": version, "resources": resources, "freshness": freshness}]})
        })
        .collect()
}

fn aggregated_resource(r: &ResourceType) -> Value {
    let subresources: Vec<Value> = subresources(r)
        .into_iter()
        .map(|(sub, api_version, kind, verbs)| {
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
            json!({"subresource": sub, "responseKind": {"group": group, "version": version, "kind": kind},
                   "verbs": verbs})
        })
        .collect();
    json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
        "shortNames": r.short_names,
        "categories": r.categories,
        "subresources": subresources,
    })
}
