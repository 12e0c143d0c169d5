//! `CustomResourceDefinitions`: creating one serves its kind (registry entries for each
//! served version) and marks it `NamesAccepted` and `Established`; deleting one stops
//! serving the kind and deletes its custom resources.

use super::Api;
use crate::errors::ApiError;
use crate::resources::from_crd;
use crate::store::now;
use serde_json::{Value, json};
use std::sync::Arc;

/// The store key of CRDs.
pub const KEY: &str = "customresourcedefinitions.apiextensions.k8s.io";

/// A CRD must name its group, kind, plural and versions.
pub fn check(crd: &Value) -> Result<(), ApiError> {
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    from_crd(crd).map(|_| ()).map_err(|problem| {
        let (field, detail) = problem.split_once(": ").unwrap_or((problem.as_str(), ""));
        ApiError::invalid(
            "CustomResourceDefinition.apiextensions.k8s.io",
            name,
            field,
            detail,
        )
    })
}

/// A stored CRD (new or updated): serve its kinds and report it established.
pub fn created(api: &Arc<Api>, crd: &Value) {
    let Ok(types) = from_crd(crd) else {
        return;
    };
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
    api.registry.set_custom(group, plural, types);
    let established = crd["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    });
    if established {
        return;
    }
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    let stamp = now();
    let condition = |type_: &str, reason: &str, message: &str| {
        json!({"type": type_, "status": "True", "reason": reason, "message": message,
               "lastTransitionTime": stamp})
    };
    let conditions = json!([
        condition("NamesAccepted", "NoConflicts", "no conflicts found"),
        condition(
            "Established",
            "InitialNamesAccepted",
            "the initial names have been accepted"
        ),
    ]);
    let served: Vec<Value> = crd["spec"]["versions"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter(|v| v["storage"] == true)
                .map(|v| v["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    // Deleted meanwhile: nothing to establish.
    let _ = api.store.mutate(KEY, "", name, |object| {
        object["status"]["conditions"] = conditions;
        object["status"]["acceptedNames"] = object["spec"]["names"].clone();
        object["status"]["storedVersions"] = json!(served);
    });
}

/// A deleted CRD: stop serving its kinds and delete their objects.
pub fn deleted(api: &Arc<Api>, crd: &Value) {
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
    api.registry.set_custom(group, plural, Vec::new());
    let key = crate::resources::key(plural, group);
    for object in api.store.list(&key, None).0 {
        let meta = &object["metadata"];
        let namespace = meta["namespace"].as_str().unwrap_or_default();
        let _ = api
            .store
            .remove(&key, namespace, meta["name"].as_str().unwrap_or_default());
    }
}
