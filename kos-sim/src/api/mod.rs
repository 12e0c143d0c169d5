//! The simulated cluster's HTTP API: an axum router that speaks the Kubernetes REST API
//! over the [`Store`].
//!
//! This module owns routing: it turns a path into a [`Target`] (resource type, namespace,
//! name, subresource) and a method into a verb, and hands the request to the handler of
//! that verb. It must not hold objects (the store does) or run controllers.
//!
//! Submodules: [`objects`] (get/list/create/update/delete), [`watch`], [`patch`] (merge,
//! JSON and strategic merge patches), [`apply`] (server-side apply and managedFields),
//! [`validate`], [`defaults`], [`selector`] (label and field selectors), [`discovery`], [`openapi`],
//! [`crds`] (`CustomResourceDefinitions`), [`namespaces`] and [`aggregated`] (groups an
//! `APIService` serves); [`auth`] checks every request before it is routed, by [`rbac`]'s
//! rules. The kinds nothing is stored of have handlers of their own: [`reviews`],
//! [`bindings`] and [`components`] (`componentstatuses`).

pub mod aggregated;
pub mod apply;
pub mod auth;
pub mod bindings;
pub mod components;
pub mod crds;
pub mod defaults;
pub mod discovery;
pub mod managed;
pub mod metrics;
pub mod namespaces;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod protobuf;
pub mod rbac;
pub mod reviews;
pub mod selector;
pub mod structural;
pub mod token;
pub mod validate;
pub mod watch;

use crate::clock::Clock;
use crate::errors::ApiError;
use crate::faults::Faults;
use crate::log_api::{self, LogQuery};
use crate::logs::Logs;
use crate::resources::{Registry, ResourceType};
use crate::store::Store;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch as signal;

/// Everything the handlers share.
pub struct Api {
    pub store: Arc<Store>,
    pub registry: Arc<Registry>,
    pub logs: Logs,
    pub clock: Clock,
    pub faults: Arc<Faults>,
    /// Bumped when the server stops or restarts: open watch streams end on it.
    pub epoch: signal::Receiver<u64>,
    /// True once the cluster is shutting down: background work ends on it.
    pub stop: signal::Receiver<bool>,
    /// Requests served, for `/metrics`.
    pub metrics: metrics::Metrics,
}

/// The router serving the whole API, every route behind `auth`.
pub fn router(api: Arc<Api>, auth: Arc<auth::Auth>) -> Router {
    Router::new()
        .route("/version", axum::routing::get(discovery::version))
        .route("/api", axum::routing::get(discovery::core_versions))
        .route("/apis", axum::routing::get(discovery::groups))
        .route("/openapi/v2", axum::routing::get(openapi::v2))
        .route("/openapi/v3", axum::routing::get(openapi::index))
        .route("/openapi/v3/{*path}", axum::routing::get(openapi::document))
        .route("/healthz", axum::routing::get(healthy))
        .route("/readyz", axum::routing::get(healthy))
        .route("/livez", axum::routing::get(healthy))
        .fallback(dispatch)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            metrics::count,
        ))
        .route("/metrics", axum::routing::get(metrics::serve))
        .layer(axum::middleware::from_fn_with_state(auth, auth::check))
        .with_state(api)
}

/// The largest request body accepted (a real API server takes 3 MiB objects).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// `/healthz`, `/readyz`, `/livez`: serving at all means healthy.
async fn healthy() -> &'static str {
    "ok"
}

/// The query string's parameters.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter: `1` and `true` are true.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("1" | "true"))
    }

    /// `dryRun=All`.
    pub fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }

    /// The `fieldManager` parameter, or the manager a real server defaults to for the client.
    pub fn field_manager(&self, headers: &HeaderMap) -> String {
        self.get("fieldManager").map_or_else(
            || {
                let agent = headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("unknown");
                // A real server uses the user agent's program name.
                agent.split('/').next().unwrap_or(agent).to_owned()
            },
            str::to_owned,
        )
    }
}

/// What a path names.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: ResourceType,
    /// `""` for cluster-scoped types and for lists across namespaces.
    pub namespace: String,
    /// Whether the path named a namespace (a namespaced list in one namespace).
    pub in_namespace: bool,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// A path under `/api/v1` or `/apis/{group}/{version}`, split into its parts.
#[derive(Debug, PartialEq, Eq)]
struct Parts<'a> {
    group: &'a str,
    version: &'a str,
    namespace: Option<&'a str>,
    plural: &'a str,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
}

/// What a request path is: discovery of a group or version, or a resource path.
#[derive(Debug, PartialEq, Eq)]
enum PathKind<'a> {
    Group(&'a str),
    Version(&'a str, &'a str),
    Resource(Parts<'a>),
}

fn parse_path<'p>(path: &'p str) -> Option<PathKind<'p>> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group] => return Some(PathKind::Group(group)),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let parts = |namespace, plural, name: Option<&&'p str>, sub: Option<&&'p str>| {
        Some(PathKind::Resource(Parts {
            group,
            version,
            namespace,
            plural,
            name: name.copied(),
            subresource: sub.copied(),
        }))
    };
    match rest {
        [] => Some(PathKind::Version(group, version)),
        // A namespace's own subresources: /api/v1/namespaces/NAME/status.
        ["namespaces", name, sub @ ("status" | "finalize")] if group.is_empty() => {
            parts(None, "namespaces", Some(name), Some(sub))
        }
        ["namespaces", namespace, plural, more @ ..] if more.len() <= 2 => {
            parts(Some(*namespace), plural, more.first(), more.get(1))
        }
        [plural, more @ ..] if more.len() <= 2 => parts(None, plural, more.first(), more.get(1)),
        _ => None,
    }
}

/// The 404 a real server gives for a path it does not serve.
pub fn no_such_path() -> ApiError {
    ApiError::not_found("the server could not find the requested resource")
        .with_details(serde_json::json!({}))
}

fn resolve(api: &Api, parts: &Parts<'_>) -> Result<Target, ApiError> {
    let resource = api
        .registry
        .find(parts.group, parts.version, parts.plural)
        .ok_or_else(no_such_path)?;
    if parts.namespace.is_some() && !resource.namespaced {
        return Err(no_such_path());
    }
    Ok(Target {
        namespace: parts.namespace.unwrap_or_default().to_owned(),
        in_namespace: parts.namespace.is_some(),
        name: parts.name.map(str::to_owned),
        subresource: parts.subresource.map(str::to_owned),
        resource,
    })
}

/// One request, as the handlers see it.
pub struct Call {
    pub target: Target,
    pub uri: Uri,
    pub params: Params,
    pub headers: HeaderMap,
    pub body: Bytes,
}

async fn dispatch(
    State(api): State<Arc<Api>>,
    Extension(user): Extension<Arc<auth::User>>,
    Extension(auth): Extension<Arc<auth::Auth>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Query::<HashMap<String, String>>::try_from_uri(&uri)
        .map(|q| Params(q.0))
        .unwrap_or_default();
    let path = parse_path(uri.path());
    if let Some(path) = &path
        && let Some(response) =
            aggregated::route(&api, path, &method, &aggregated::Query::of(&params))
    {
        return response;
    }
    let result = match path {
        Some(PathKind::Group(group)) => discovery::group(&api, group, &headers),
        Some(PathKind::Version(group, version)) => {
            discovery::resources(&api, group, version, &headers)
        }
        Some(PathKind::Resource(parts)) => match resolve(&api, &parts) {
            Ok(target) => {
                let call = Call {
                    target,
                    uri,
                    params,
                    headers,
                    body,
                };
                let verb = verb(&method, &call);
                match auth::authorize(&user, verb, &call.target, &api.faults) {
                    Ok(()) => match api.faults.before_request().await {
                        Ok(()) => serve(&api, &method, call, (&user, &auth.authn)).await,
                        Err(error) => Err(error),
                    },
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        },
        None => Err(no_such_path()),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Bodies of whole objects must be JSON, or protobuf for the few kinds [`protobuf`] reads.
fn check_body_type(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if matches!(*method, Method::POST | Method::PUT)
        && !content_type.contains("json")
        && !content_type.contains(PROTOBUF)
    {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types \
                     include: application/json (got {content_type:?})"
            ),
        ));
    }
    Ok(())
}

/// Picks the handler of a method on a target; the caller and how callers are
/// authenticated are for the reviews.
async fn serve(
    api: &Arc<Api>,
    method: &Method,
    call: Call,
    (user, authn): (&auth::User, &auth::Authn),
) -> Result<Response, ApiError> {
    check_body_type(method, &call.headers)?;
    let sub = call.target.subresource.clone();
    let resource = &call.target.resource;
    if sub.is_none() && !resource.verbs.contains(&verb(method, &call)) {
        return Err(not_allowed(method));
    }
    match (resource.group.as_str(), resource.kind.as_str()) {
        ("", "ComponentStatus") => return components::serve(api, &call),
        ("", "Binding") => return bindings::create(api, &call),
        ("authentication.k8s.io" | "authorization.k8s.io", _) => {
            return reviews::create(api, &call, user, authn);
        }
        _ => {}
    }
    match (call.target.name.is_some(), sub.as_deref()) {
        (false, _) => match *method {
            Method::GET if call.params.flag("watch") => watch::serve(api, &call),
            Method::GET => objects::list(api, &call),
            Method::POST => objects::create(api, &call),
            Method::DELETE => objects::delete_collection(api, &call),
            _ => Err(not_allowed(method)),
        },
        (true, None | Some("status")) => match *method {
            Method::GET => objects::get(api, &call),
            Method::PUT => objects::update(api, &call),
            Method::PATCH if patch::media_type(&call.headers) == patch::APPLY => {
                apply::serve(api, &call)
            }
            Method::PATCH => objects::patch(api, &call),
            Method::DELETE if sub.is_none() => objects::delete(api, &call),
            _ => Err(not_allowed(method)),
        },
        (true, Some("scale")) => objects::scale(api, method, &call),
        (true, Some("binding")) if resource.key() == "pods" && *method == Method::POST => {
            bindings::create(api, &call)
        }
        (true, Some("token"))
            if call.target.resource.key() == "serviceaccounts" && *method == Method::POST =>
        {
            token::create(&api.store, &call)
        }
        (true, Some("log")) if call.target.resource.key() == "pods" && *method == Method::GET => {
            let query = Query::<LogQuery>::try_from_uri(&call.uri)
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
            let pod = call.target.name.as_deref().unwrap_or_default();
            log_api::pod_log(&api.store, &api.logs, &call.target.namespace, pod, &query).await
        }
        _ => Err(no_such_path()),
    }
}

/// The verb of a request as RBAC (and `--faults forbid=`) names it.
fn verb(method: &Method, call: &Call) -> &'static str {
    let item = call.target.name.is_some();
    match *method {
        Method::GET if !item && call.params.flag("watch") => "watch",
        Method::GET if !item => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if !item => "deletecollection",
        Method::DELETE => "delete",
        _ => "get",
    }
}

fn not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        405,
        "MethodNotAllowed",
        format!("the server does not allow this method on the requested resource: {method}"),
    )
}

/// A list response: `head` holds every field but `items`, and `write` appends one item's
/// JSON (the stored text, when it can). `size` is what the items will take, when known: a
/// body of megabytes grown by doubling leaves its discarded halves to fragment the heap.
pub fn list_response<T>(
    head: &Value,
    (items, size): (&[T], usize),
    write: impl Fn(&T, &mut Vec<u8>),
) -> Response {
    let mut bytes = Vec::with_capacity(size + items.len() + 256);
    // A Value always serializes.
    let _ = serde_json::to_writer(&mut bytes, head);
    // `head` is an object: reopen it and append the items.
    bytes.pop();
    bytes.extend_from_slice(if head.as_object().is_some_and(|m| !m.is_empty()) {
        b",\"items\":["
    } else {
        b"\"items\":["
    });
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            bytes.push(b',');
        }
        write(item, &mut bytes);
    }
    bytes.extend_from_slice(b"]}");
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// The protobuf media type.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// A JSON response.
pub fn json(code: StatusCode, value: &Value) -> Response {
    (code, axum::Json(value)).into_response()
}

/// Whether the client asked for a `meta.k8s.io/v1` Table.
pub fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("as=Table"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_their_parts() {
        let Some(PathKind::Resource(parts)) =
            parse_path("/apis/apps/v1/namespaces/ns/deployments/web/status")
        else {
            panic!("not a resource path");
        };
        assert_eq!(
            parts,
            Parts {
                group: "apps",
                version: "v1",
                namespace: Some("ns"),
                plural: "deployments",
                name: Some("web"),
                subresource: Some("status"),
            }
        );
        let Some(PathKind::Resource(ns)) = parse_path("/api/v1/namespaces/ns") else {
            panic!("not a resource path");
        };
        assert_eq!(
            (ns.plural, ns.name, ns.namespace),
            ("namespaces", Some("ns"), None)
        );
        let Some(PathKind::Resource(ns)) = parse_path("/api/v1/namespaces/ns/status") else {
            panic!("not a resource path");
        };
        assert_eq!((ns.plural, ns.subresource), ("namespaces", Some("status")));
        let Some(PathKind::Resource(pods)) = parse_path("/api/v1/namespaces/ns/pods") else {
            panic!("not a resource path");
        };
        assert_eq!((pods.plural, pods.name), ("pods", None));
        assert_eq!(parse_path("/apis/apps"), Some(PathKind::Group("apps")));
        assert_eq!(parse_path("/api/v1"), Some(PathKind::Version("", "v1")));
        assert_eq!(parse_path("/healthz"), None);
        assert_eq!(parse_path("/api/v1/pods/a/b/c"), None);
    }
}
