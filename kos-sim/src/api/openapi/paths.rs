//! The paths of the `OpenAPI` documents: each resource's collection and item, with the
//! operations a real server lists for them and the parts of those that clients read: the
//! `x-kubernetes-group-version-kind` of each operation (how `kubectl explain` finds a
//! resource's kind), the query parameters of writes (kubectl checks PATCH for
//! `fieldValidation` before it leaves validation to the server) and the media types PATCH
//! consumes.
//!
//! PATCH does not list strategic merge patch: that would make kubectl compute strategic
//! patches from these schemas, which lack the `x-kubernetes-patch-strategy` and
//! `x-kubernetes-patch-merge-key` that k8s-openapi does not carry. kubectl then computes
//! them from its own built-in types (the same Go types a real server's schemas come from),
//! and merge patches for custom resources, as it does on a real cluster.
//!
//! Pure: resource types in, path items out.

use super::Flavour;
use super::schemas::gvk;
use crate::resources::ResourceType;
use serde_json::{Map, Value, json};

/// The media types a body may have, by operation.
const JSON: &[&str] = &["application/json", "application/yaml"];
const PATCHES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

/// The collection and item paths of `r` with their operations, whose bodies and answers
/// are the schema named `schema`.
pub fn resource(r: &ResourceType, schema: &str, flavour: Flavour) -> [(String, Value); 2] {
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
    let item = format!("{collection}/{{name}}");
    let op = |action: &str, writes: bool, body: &[&str]| {
        Operation { r, schema, flavour }.build(action, writes, body)
    };
    let mut collection_ops = json!({
        "get": op("list", false, &[]),
        "post": op("post", true, JSON),
        "delete": op("deletecollection", false, &[]),
    });
    let mut item_ops = json!({
        "get": op("get", false, &[]),
        "put": op("put", true, JSON),
        "patch": op("patch", true, PATCHES),
        "delete": op("delete", true, &[]),
    });
    let mut names = vec!["name"];
    if r.namespaced {
        names.insert(0, "namespace");
        collection_ops["parameters"] = json!([path_parameter("namespace", flavour)]);
    }
    item_ops["parameters"] = names
        .iter()
        .map(|name| path_parameter(name, flavour))
        .collect();
    [(collection, collection_ops), (item, item_ops)]
}

/// A parameter of the path (`{namespace}`, `{name}`).
fn path_parameter(name: &str, flavour: Flavour) -> Value {
    let description = format!("{name} of the object");
    match flavour {
        Flavour::V3 => json!({"name": name, "in": "path", "required": true,
            "description": description, "schema": {"type": "string", "uniqueItems": true}}),
        Flavour::V2 => json!({"name": name, "in": "path", "required": true,
            "description": description, "type": "string", "uniqueItems": true}),
    }
}

/// A query parameter.
fn query(name: &str, flavour: Flavour) -> Value {
    match flavour {
        Flavour::V3 => json!({"name": name, "in": "query",
            "schema": {"type": "string", "uniqueItems": true}}),
        Flavour::V2 => json!({"name": name, "in": "query", "type": "string",
            "uniqueItems": true}),
    }
}

struct Operation<'a> {
    r: &'a ResourceType,
    schema: &'a str,
    flavour: Flavour,
}

impl Operation<'_> {
    /// The operation `action` (`x-kubernetes-action`); `writes` adds the query parameters
    /// of writes, `body` the media types of the request body it takes.
    fn build(&self, action: &str, writes: bool, body: &[&str]) -> Value {
        let mut parameters = Vec::new();
        if writes {
            parameters.extend(
                ["dryRun", "fieldManager", "fieldValidation"].map(|n| query(n, self.flavour)),
            );
        }
        if action == "patch" {
            parameters.push(query("force", self.flavour));
        }
        let mut op = json!({
            "operationId": format!("{action}{}", self.r.kind),
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk(self.r),
        });
        match self.flavour {
            Flavour::V3 => {
                let reference =
                    json!({"schema": {"$ref": format!("#/components/schemas/{}", self.schema)}});
                op["responses"] = json!({"200": {"description": "OK",
                    "content": {"application/json": reference}}});
                if !body.is_empty() {
                    let content: Map<String, Value> = body
                        .iter()
                        .map(|t| ((*t).to_owned(), reference.clone()))
                        .collect();
                    op["requestBody"] = json!({"content": content, "required": true});
                }
            }
            Flavour::V2 => {
                let reference = json!({"$ref": format!("#/definitions/{}", self.schema)});
                op["responses"] = json!({"200": {"description": "OK", "schema": reference}});
                op["produces"] = json!(JSON);
                op["schemes"] = json!(["https"]);
                if !body.is_empty() {
                    op["consumes"] = json!(body);
                    parameters.insert(
                        0,
                        json!({"name": "body", "in": "body", "required": true, "schema": reference}),
                    );
                }
            }
        }
        op["parameters"] = Value::Array(parameters);
        op
    }
}
