//! `OpenAPI`, as a real API server serves it: the v3 index (`/openapi/v3`), one v3 document
//! per served group-version (`/openapi/v3/apis/apps/v1`) and the Swagger 2.0 document of
//! everything (`/openapi/v2`, as JSON or as the protobuf client-go asks for).
//!
//! kubectl reads them for `explain`, to learn whether the server validates fields itself
//! (then it leaves validation to the server), for client-side validation where it does
//! not (a `List`, a custom resource whose CRD is not created yet) and to choose how to
//! patch. The schemas are in [`schemas`], the paths in [`paths`], the protobuf encoding in
//! [`proto`].
//!
//! Documents of built-in types only depend on the program, so they are made once, on
//! first request, and shared; those with custom types are made per request from the CRDs
//! in the store. Each carries a hash of its content: the index links documents by it and
//! answers are cacheable by it (`ETag`, and `immutable` when the URL names the hash), so
//! kubectl's HTTP cache does not download a document twice.

mod paths;
mod proto;
mod schemas;

use super::{Api, crds, no_such_path};
use crate::resources::ResourceType;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Which `OpenAPI` a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Swagger 2.0 (`/openapi/v2`).
    V2,
    /// `OpenAPI` 3.0 (`/openapi/v3/...`).
    V3,
}

/// The media type client-go asks `/openapi/v2` for.
const PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The media type of the protobuf answer: Go's MIME parser refuses the `@` of the asked one.
const PROTOBUF_ANSWER: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// A document ready to serve.
struct Served {
    json: Bytes,
    /// The Swagger document's protobuf encoding (v2 only).
    protobuf: Option<Bytes>,
    hash: String,
}

impl Served {
    fn new(document: &Value, flavour: Flavour) -> Served {
        let json = Bytes::from(serde_json::to_vec(document).unwrap_or_default());
        let mut hasher = DefaultHasher::new();
        json.hash(&mut hasher);
        Served {
            protobuf: (flavour == Flavour::V2).then(|| Bytes::from(proto::document(document))),
            json,
            hash: format!("{:016X}", hasher.finish()),
        }
    }
}

/// The documents of built-in types only, by path (`v2`, `v3/apis/apps/v1`).
fn builtin_cache() -> &'static Mutex<HashMap<String, Arc<Served>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Served>>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The document `key` of `types`: shared when they are all built in, made anew otherwise.
fn served(
    key: &str,
    types: &[ResourceType],
    flavour: Flavour,
    build: impl FnOnce() -> Value,
) -> Arc<Served> {
    if types.iter().any(|t| t.custom) {
        return Arc::new(Served::new(&build(), flavour));
    }
    let cached = builtin_cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .cloned();
    cached.unwrap_or_else(|| {
        // Made outside the lock: two first requests may both make it, to the same result.
        let served = Arc::new(Served::new(&build(), flavour));
        builtin_cache()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), served.clone());
        served
    })
}

/// The URL path (without `/openapi/v3/`) of a group-version's document.
fn document_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The served types of the v3 document at `path`.
fn types_at(api: &Api, path: &str) -> Vec<ResourceType> {
    api.registry
        .all()
        .into_iter()
        .filter(|r| document_path(&r.group, &r.version) == path)
        .collect()
}

/// The v3 document at `path`, if a group-version is served there.
fn v3_document(api: &Api, path: &str) -> Option<Arc<Served>> {
    let types = types_at(api, path);
    (!types.is_empty()).then(|| {
        served(&format!("v3/{path}"), &types, Flavour::V3, || {
            build_v3(&types, &|r| crd_of(api, r))
        })
    })
}

/// `/openapi/v3`.
pub async fn index(State(api): State<Arc<Api>>) -> Response {
    let mut paths = Map::new();
    for (group, versions) in api.registry.groups() {
        for version in versions {
            let path = document_path(&group, &version);
            if let Some(document) = v3_document(&api, &path) {
                let url = format!("/openapi/v3/{path}?hash={}", document.hash);
                paths.insert(path, json!({"serverRelativeURL": url}));
            }
        }
    }
    super::json(StatusCode::OK, &json!({"paths": paths}))
}

/// The `hash` query parameter of a document's URL.
#[derive(serde::Deserialize)]
pub struct HashQuery {
    hash: Option<String>,
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`.
pub async fn document(
    State(api): State<Arc<Api>>,
    Path(path): Path<String>,
    Query(query): Query<HashQuery>,
    headers: HeaderMap,
) -> Response {
    match v3_document(&api, &path) {
        Some(document) => {
            let immutable = query.hash.as_deref() == Some(document.hash.as_str());
            answer(
                &headers,
                &document.hash,
                immutable,
                "application/json",
                &document.json,
            )
        }
        None => no_such_path().into_response(),
    }
}

/// `/openapi/v2`: protobuf when asked for it, else JSON; 406 for anything else.
pub async fn v2(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    let types = api.registry.all();
    let document = served("v2", &types, Flavour::V2, || {
        build_v2(&types, &|r| crd_of(api.as_ref(), r))
    });
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let wanted = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or_default().trim());
    for media in wanted {
        match media {
            PROTOBUF => {
                let body = document.protobuf.as_ref().unwrap_or(&document.json);
                return answer(&headers, &document.hash, false, PROTOBUF_ANSWER, body);
            }
            "application/json" | "application/*" | "*/*" | "" => {
                return answer(
                    &headers,
                    &document.hash,
                    false,
                    "application/json",
                    &document.json,
                );
            }
            _ => {}
        }
    }
    crate::errors::ApiError::new(
        406,
        "NotAcceptable",
        format!("only the following media types are accepted: application/json, {PROTOBUF}"),
    )
    .into_response()
}

/// A document's answer: 304 when the client holds this version already (`If-None-Match`).
fn answer(headers: &HeaderMap, hash: &str, immutable: bool, media: &str, body: &Bytes) -> Response {
    let etag = format!("\"{hash}\"");
    let cache = if immutable {
        "public, immutable, max-age=31536000"
    } else {
        "no-cache, private"
    };
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if held {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, body.clone()).into_response()
    };
    let set = response.headers_mut();
    set.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media).unwrap_or(HeaderValue::from_static("application/json")),
    );
    set.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    set.insert(header::VARY, HeaderValue::from_static("Accept"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        set.insert(header::ETAG, value);
    }
    response
}

/// The CRD of a custom type, from the store.
fn crd_of(api: &Api, r: &ResourceType) -> Option<Arc<Value>> {
    r.custom
        .then(|| api.store.get(crds::KEY, "", &r.key()))
        .flatten()
}

/// Finds the `CustomResourceDefinition` of a custom type.
type Crds<'a> = &'a dyn Fn(&ResourceType) -> Option<Arc<Value>>;

/// The schemas and paths of `types` in `flavour`.
fn contents(
    types: &[ResourceType],
    crds: Crds,
    flavour: Flavour,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut definitions = schemas::Definitions::new(flavour);
    let mut all_paths = Map::new();
    for r in types {
        let crd = crds(r);
        let name = definitions.add(r, crd.as_deref());
        all_paths.extend(paths::resource(r, &name, flavour));
    }
    (definitions.finish(), all_paths)
}

fn info() -> Value {
    json!({"title": "Kubernetes", "version": super::discovery::GIT_VERSION})
}

/// An `OpenAPI` 3.0 document of one group-version's types.
fn build_v3(types: &[ResourceType], crds: Crds) -> Value {
    let (schemas, paths) = contents(types, crds, Flavour::V3);
    json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// The Swagger 2.0 document of every served type.
fn build_v2(types: &[ResourceType], crds: Crds) -> Value {
    let (definitions, paths) = contents(types, crds, Flavour::V2);
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths,
        "definitions": definitions,
    })
}

#[cfg(test)]
mod tests;
