//! `OpenAPI` v3: the index (`/openapi/v3`) and one document per served group-version, as
//! kubectl downloads them before `apply` (its validation and patch computation).
//!
//! The documents are minimal but valid: each kind's schema carries its
//! `x-kubernetes-group-version-kind` and allows any field, and each resource path declares
//! the query parameters kubectl checks for (`fieldValidation`, `dryRun`, `fieldManager`).
//! PATCH does not list strategic merge patch, so kubectl computes strategic patches from
//! its own built-in types and merge patches for custom resources, as it does for CRDs on
//! a real cluster.

use super::{Api, json, no_such_path};
use crate::errors::ApiError;
use crate::resources::ResourceType;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The URL path (without `/openapi/v3/`) of a group-version's document.
fn document_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`.
pub async fn index(State(api): State<Arc<Api>>) -> Response {
    let mut paths = Map::new();
    for (group, versions) in api.registry.groups() {
        for version in versions {
            let path = document_path(&group, &version);
            // The hash lets clients cache a document; the registry's size changes with CRDs.
            let hash = format!("{:016x}", api.registry.all().len());
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
        }
    }
    json(StatusCode::OK, &json!({"paths": paths}))
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`.
pub async fn document(State(api): State<Arc<Api>>, Path(path): Path<String>) -> Response {
    build(&api, &path).map_or_else(IntoResponse::into_response, |doc| {
        json(StatusCode::OK, &doc)
    })
}

fn build(api: &Api, path: &str) -> Result<Value, ApiError> {
    let served: Vec<ResourceType> = api
        .registry
        .all()
        .into_iter()
        .filter(|r| document_path(&r.group, &r.version) == path)
        .collect();
    if served.is_empty() {
        return Err(no_such_path());
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for r in &served {
        let schema_name = schema_name(r);
        schemas.insert(schema_name.clone(), schema(r));
        let (collection, item) = resource_paths(r);
        paths.insert(collection, collection_operations(r, &schema_name));
        paths.insert(item, item_operations(r, &schema_name));
    }
    Ok(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::discovery::GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// `io.k8s.api.apps.v1.Deployment`, or the CRD's reversed group for custom kinds.
fn schema_name(r: &ResourceType) -> String {
    let group = if r.group.is_empty() {
        "core"
    } else {
        r.group.split('.').next().unwrap_or_default()
    };
    if r.custom {
        let reversed: Vec<&str> = r.group.split('.').rev().collect();
        format!("{}.{}.{}", reversed.join("."), r.version, r.kind)
    } else {
        format!("io.k8s.api.{group}.{}.{}", r.version, r.kind)
    }
}

fn gvk(r: &ResourceType) -> Value {
    json!({"group": r.group, "version": r.version, "kind": r.kind})
}

fn schema(r: &ResourceType) -> Value {
    json!({
        "type": "object",
        "description": format!("{} (simulated: any field is accepted)", r.kind),
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        },
        "x-kubernetes-preserve-unknown-fields": true,
        "x-kubernetes-group-version-kind": [gvk(r)],
    })
}

fn resource_paths(r: &ResourceType) -> (String, String) {
    let base = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let collection = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{base}/{}", r.plural)
    };
    (collection.clone(), format!("{collection}/{{name}}"))
}

fn query(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(
    r: &ResourceType,
    schema_name: &str,
    action: &str,
    writes: bool,
    body: &[&str],
) -> Value {
    let reference = json!({"schema": {"$ref": format!("#/components/schemas/{schema_name}")}});
    let mut parameters = Vec::new();
    if writes {
        parameters.extend(["dryRun", "fieldManager", "fieldValidation"].map(query));
    }
    if action == "patch" {
        parameters.push(query("force"));
    }
    let mut op = json!({
        "operationId": format!("{action}{}", r.kind),
        "parameters": parameters,
        "responses": {"200": {"description": "OK", "content": {"application/json": reference}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(r),
    });
    if !body.is_empty() {
        let content: Map<String, Value> = body
            .iter()
            .map(|t| ((*t).to_owned(), reference.clone()))
            .collect();
        op["requestBody"] = json!({"content": content, "required": true});
    }
    op
}

fn collection_operations(r: &ResourceType, schema_name: &str) -> Value {
    json!({
        "get": operation(r, schema_name, "list", false, &[]),
        "post": operation(r, schema_name, "post", true, &["application/json"]),
        "delete": operation(r, schema_name, "deletecollection", false, &[]),
    })
}

fn item_operations(r: &ResourceType, schema_name: &str) -> Value {
    json!({
        "get": operation(r, schema_name, "get", false, &[]),
        "put": operation(r, schema_name, "put", true, &["application/json"]),
        "patch": operation(r, schema_name, "patch", true, &[
            "application/json-patch+json", "application/merge-patch+json",
            "application/apply-patch+yaml",
        ]),
        "delete": operation(r, schema_name, "delete", true, &[]),
    })
}
