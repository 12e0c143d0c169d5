use super::*;
use crate::resources::{Registry, from_crd};

fn no_crds(_: &ResourceType) -> Option<Arc<Value>> {
    None
}

fn group_version(registry: &Registry, group: &str, version: &str) -> Vec<ResourceType> {
    registry
        .all()
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
        .collect()
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

/// Every reference of `document` names a definition under `prefix` that it holds.
fn assert_refs_resolve(document: &Value, prefix: &str, definitions: &Value) {
    let mut found = Vec::new();
    refs(document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{target} is not under {prefix}"));
        assert!(definitions.get(name).is_some(), "{target} is not defined");
    }
}

#[test]
fn built_in_kinds_have_their_schema_with_descriptions_types_and_kinds() {
    let registry = Registry::default();
    let doc = build_v3(&group_version(&registry, "apps", "v1"), &no_crds);
    let schemas = &doc["components"]["schemas"];
    let deployment = &schemas["io.k8s.api.apps.v1.Deployment"];
    assert!(
        deployment["description"]
            .as_str()
            .unwrap()
            .starts_with("Deployment enables declarative updates")
    );
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "version": "v1", "kind": "Deployment"}])
    );
    // A kind requires none of its own fields, as the API documents it.
    assert!(deployment.get("required").is_none());
    // A field that is another type refers to it, its own description beside.
    let spec = &deployment["properties"]["spec"];
    assert_eq!(
        spec["allOf"],
        json!([{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}])
    );
    assert!(
        spec["description"]
            .as_str()
            .unwrap()
            .contains("desired behavior")
    );
    let strategy = &schemas["io.k8s.api.apps.v1.DeploymentStrategy"];
    assert_eq!(strategy["properties"]["type"]["type"], "string");
    assert_eq!(
        schemas["io.k8s.api.apps.v1.DeploymentSpec"]["required"],
        json!(["selector", "template"])
    );
    assert_eq!(
        schemas["io.k8s.api.core.v1.Container"]["properties"]["args"]["items"]["type"],
        "string"
    );
    assert_refs_resolve(&doc, "#/components/schemas/", schemas);
    for kind in [
        "DaemonSet",
        "ReplicaSet",
        "StatefulSet",
        "ControllerRevision",
    ] {
        let schema = &schemas[format!("io.k8s.api.apps.v1.{kind}")];
        assert_eq!(schema["x-kubernetes-group-version-kind"][0]["kind"], kind);
    }
}

#[test]
fn patch_declares_field_validation_and_no_strategic_merge() {
    let registry = Registry::default();
    let doc = build_v3(&group_version(&registry, "apps", "v1"), &no_crds);
    let item = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    let patch = &item["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    let parameters: Vec<&str> = patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(parameters.contains(&"fieldValidation"), "{parameters:?}");
    let content = patch["requestBody"]["content"].as_object().unwrap();
    assert!(content.contains_key("application/apply-patch+yaml"));
    assert!(!content.contains_key("application/strategic-merge-patch+json"));
    assert_eq!(item["parameters"][0]["name"], "namespace");
    // Cluster-scoped kinds have no namespace in their paths.
    let doc = build_v3(&group_version(&registry, "", "v1"), &no_crds);
    assert!(doc["paths"].get("/api/v1/namespaces/{name}").is_some());
    assert!(doc["paths"].get("/api/v1/nodes").is_some());
}

#[test]
fn swagger_refers_to_definitions_with_descriptions_beside() {
    let registry = Registry::default();
    let doc = build_v2(&registry.all(), &no_crds);
    assert_eq!(doc["swagger"], "2.0");
    let definitions = &doc["definitions"];
    let spec = &definitions["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"];
    assert_eq!(
        spec["$ref"],
        "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    );
    assert!(spec["description"].is_string());
    assert_refs_resolve(&doc, "#/definitions/", definitions);
    // Every served kind is there, found by its kind.
    for r in registry.all() {
        let found = definitions.as_object().unwrap().values().any(|d| {
            d["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|kinds| kinds.contains(&schemas::gvk(&r)))
        });
        assert!(found, "no definition of {} {}", r.api_version(), r.kind);
    }
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(patch["parameters"][0]["in"], "body");
    assert!(
        patch["consumes"]
            .as_array()
            .unwrap()
            .contains(&json!("application/merge-patch+json"))
    );
}

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "A table of timed commands.",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "description": "What to run and when.",
                            "properties": {
                                "cronSpec": {"type": "string", "description": "When."},
                                "note": {"type": "string", "nullable": true},
                                "extra": {"type": "object",
                                          "x-kubernetes-preserve-unknown-fields": true,
                                          "properties": {"a": {"type": "string"}}},
                            },
                            "required": ["cronSpec"],
                        },
                    },
                }},
            }],
        },
    })
}

#[test]
fn custom_kinds_publish_their_crd_schema_with_the_standard_fields() {
    let crd = Arc::new(crd());
    let types = from_crd(&crd).unwrap();
    let lookup = |_: &ResourceType| Some(crd.clone());
    let doc = build_v3(&types, &lookup);
    let schemas = &doc["components"]["schemas"];
    let crontab = &schemas["com.example.stable.v1.CronTab"];
    assert_eq!(crontab["description"], "A table of timed commands.");
    assert_eq!(
        crontab["x-kubernetes-group-version-kind"],
        json!([{"group": "stable.example.com", "version": "v1", "kind": "CronTab"}])
    );
    let properties = &crontab["properties"];
    assert_eq!(properties["spec"]["required"], json!(["cronSpec"]));
    assert_eq!(properties["spec"]["properties"]["note"]["nullable"], true);
    assert_eq!(properties["kind"]["type"], "string");
    assert!(properties["apiVersion"]["description"].is_string());
    assert_eq!(
        properties["metadata"]["allOf"],
        json!([{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}])
    );
    assert_refs_resolve(&doc, "#/components/schemas/", schemas);
    assert!(
        doc["paths"]
            .get("/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}")
            .is_some()
    );

    // Swagger 2.0 cannot say `nullable`, and lists no fields where unknown ones are kept.
    let doc = build_v2(&types, &lookup);
    let spec = &doc["definitions"]["com.example.stable.v1.CronTab"]["properties"]["spec"];
    assert!(spec["properties"]["note"].get("nullable").is_none());
    assert!(spec["properties"]["extra"].get("properties").is_none());
    assert_eq!(spec["properties"]["cronSpec"]["type"], "string");
}

#[test]
fn the_swagger_document_encodes_as_gnostic_protobuf() {
    // Document.swagger (1) = "2.0".
    assert_eq!(
        proto::document(&json!({"swagger": "2.0"})),
        [0x0a, 3, b'2', b'.', b'0']
    );
    // Document.definitions (9) → NamedSchema (1) {name "A", value Schema {type (22)
    // → TypeItem {value "string"}}}.
    let mut expected = vec![
        0x4a, 18, 0x0a, 16, 0x0a, 1, b'A', 0x12, 11, 0xb2, 0x01, 8, 0x0a, 6,
    ];
    expected.extend_from_slice(b"string");
    assert_eq!(
        proto::document(&json!({"definitions": {"A": {"type": "string"}}})),
        expected
    );
    // An extension is a NamedAny whose Any holds the value as YAML (JSON) text.
    let encoded = proto::document(&json!({"definitions": {"A": {"x-k": [1]}}}));
    assert!(encoded.windows(3).any(|w| w == b"x-k"));
    assert!(encoded.windows(3).any(|w| w == b"[1]"));
}
