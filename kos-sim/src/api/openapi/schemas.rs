//! The schemas of the `OpenAPI` documents, named as a real API server names them
//! (`io.k8s.api.apps.v1.Deployment`, `com.example.stable.v1.CronTab`) and marked with the
//! `x-kubernetes-group-version-kind` clients look kinds up by.
//!
//! A built-in kind's schema is k8s-openapi's JSON schema of its struct: types, formats,
//! required fields and the descriptions of the Kubernetes API's own documentation, with a
//! definition for every type it refers to. A custom kind's is its CRD's `openAPIV3Schema`
//! for that version, with the `apiVersion`, `kind` and `metadata` every object has.
//!
//! Pure: resource types and CRD objects in, definitions out.

use super::Flavour;
use crate::resources::ResourceType;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// Builds the definitions of one document.
pub struct Definitions {
    generator: SchemaGenerator,
    flavour: Flavour,
}

impl Definitions {
    pub fn new(flavour: Flavour) -> Definitions {
        let settings = match flavour {
            // Schemars' OpenAPI 3.0 settings turn a `$ref` with a description beside it
            // into `allOf: [{$ref}]`, the shape a real server's v3 documents have (and the
            // one `kubectl explain` prints both descriptions of).
            Flavour::V3 => SchemaSettings::openapi3(),
            // Swagger 2.0 ignores a `$ref`'s siblings but a real server writes the field's
            // description there, and kubectl's v2 models do not read `allOf`: no transforms.
            Flavour::V2 => SchemaSettings::draft07().with(|s| s.transforms.clear()),
        };
        Definitions {
            generator: settings.with(|s| s.meta_schema = None).into_generator(),
            flavour,
        }
    }

    /// Adds the schema of `r` (and of every type it refers to) and returns its name. A
    /// custom kind's schema is taken from `crd`, its `CustomResourceDefinition`.
    pub fn add(&mut self, r: &ResourceType, crd: Option<&Value>) -> String {
        let name = if let Some(typed) = r.typed {
            let reference = typed.schema(&mut self.generator);
            let target = reference
                .get("$ref")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name = target.rsplit('/').next().unwrap_or_default().to_owned();
            // k8s-openapi requires the fields its structs do not make optional
            // (`metadata`, some kinds' `spec`); the API requires none of a kind's own.
            if let Some(Value::Object(schema)) = self.generator.definitions_mut().get_mut(&name) {
                schema.remove("required");
            }
            name
        } else {
            let name = custom_name(r);
            let schema = self.custom(crd_schema(crd, &r.version));
            self.generator
                .definitions_mut()
                .insert(name.clone(), schema);
            name
        };
        if let Some(Value::Object(schema)) = self.generator.definitions_mut().get_mut(&name) {
            let kinds = schema
                .entry("x-kubernetes-group-version-kind")
                .or_insert_with(|| json!([]));
            if let Some(kinds) = kinds.as_array_mut() {
                kinds.push(gvk(r));
            }
        }
        name
    }

    /// Every definition added, in the document's shape.
    pub fn finish(mut self) -> Map<String, Value> {
        self.generator.take_definitions(true)
    }

    /// A custom kind's schema: its CRD's, with the fields every object has.
    fn custom(&mut self, schema: Option<&Value>) -> Value {
        let mut schema = schema.cloned().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
        if self.flavour == Flavour::V2 {
            to_swagger(&mut schema);
        }
        // A schema that keeps unknown fields at its top takes any field already.
        if schema.get("properties").is_none() && schema.get("type").is_none() {
            return schema;
        }
        let standard = standard_fields();
        let meta = self.generator.subschema_for::<ObjectMeta>();
        let metadata = match self.flavour {
            Flavour::V3 => json!({"allOf": [meta], "description": standard.metadata}),
            Flavour::V2 => {
                let mut meta = meta.to_value();
                meta["description"] = standard.metadata.clone();
                meta
            }
        };
        schema["type"] = json!("object");
        if !schema["properties"].is_object() {
            schema["properties"] = json!({});
        }
        let properties = &mut schema["properties"];
        properties["apiVersion"] = standard.api_version.clone();
        properties["kind"] = standard.kind.clone();
        properties["metadata"] = metadata;
        schema
    }
}

/// `group`, `version` and `kind`, as `x-kubernetes-group-version-kind` lists them.
pub fn gvk(r: &ResourceType) -> Value {
    json!({"group": r.group, "version": r.version, "kind": r.kind})
}

/// A custom kind's schema name: its group reversed, its version and kind
/// (`com.example.stable.v1.CronTab`).
fn custom_name(r: &ResourceType) -> String {
    let reversed: Vec<&str> = r.group.split('.').rev().collect();
    format!("{}.{}.{}", reversed.join("."), r.version, r.kind)
}

/// The `openAPIV3Schema` of a CRD's `version`.
fn crd_schema<'a>(crd: Option<&'a Value>, version: &str) -> Option<&'a Value> {
    crd?["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == version)?
        .pointer("/schema/openAPIV3Schema")
}

/// The schemas of the fields every object has, and the description of `metadata`.
struct Standard {
    api_version: Value,
    kind: Value,
    metadata: Value,
}

/// Taken from a built-in kind's schema, so they read as the API documents them.
fn standard_fields() -> &'static Standard {
    static STANDARD: OnceLock<Standard> = OnceLock::new();
    STANDARD.get_or_init(|| {
        let schema = SchemaGenerator::default()
            .into_root_schema_for::<k8s_openapi::api::core::v1::ConfigMap>()
            .to_value();
        let properties = &schema["properties"];
        Standard {
            api_version: properties["apiVersion"].clone(),
            kind: properties["kind"].clone(),
            metadata: properties["metadata"]["description"].clone(),
        }
    })
}

/// What Swagger 2.0 cannot say is left out of a CRD's schema: `nullable`, the `oneOf`,
/// `anyOf` and `not` alternatives, and the fields of an object that keeps unknown fields
/// (kubectl's client-side validation would refuse the fields the schema does not list).
fn to_swagger(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    for keyword in ["nullable", "oneOf", "anyOf", "not"] {
        map.remove(keyword);
    }
    if map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        for keyword in ["properties", "type", "required", "additionalProperties"] {
            map.remove(keyword);
        }
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(to_swagger);
    }
    for keyword in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(keyword) {
            to_swagger(inner);
        }
    }
    if let Some(Value::Array(all)) = map.get_mut("allOf") {
        all.iter_mut().for_each(to_swagger);
    }
}
