//! Namespaces as the API server treats them: writes into a missing namespace are 404,
//! creates into a terminating one 403; deleting a namespace marks it `Terminating`,
//! deletes everything in it, then removes it.

use super::{Api, Target};
use crate::errors::ApiError;
use crate::store::{Item, Object, StoreError};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How often a terminating namespace checks whether it is empty yet.
const EMPTY_POLL: Duration = Duration::from_millis(50);

/// A namespaced write needs its namespace; a create needs it not to be terminating.
pub fn check_writable(api: &Api, namespace: &str, creating: bool) -> Result<(), ApiError> {
    let Some(object) = api.store.get("namespaces", "", namespace) else {
        return Err(StoreError::NotFound {
            resource: "namespaces".into(),
            name: namespace.into(),
        }
        .into());
    };
    if creating && object["metadata"].get("deletionTimestamp").is_some() {
        return Err(ApiError::new(
            403,
            "Forbidden",
            format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        ));
    }
    Ok(())
}

/// What the server sets on a new namespace.
pub fn defaults(target: &Target, object: &mut Value) {
    if target.resource.key() == "namespaces" {
        let name = object["metadata"]["name"].clone();
        object["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
        object["spec"]["finalizers"] = json!(["kubernetes"]);
        object["status"] = json!({"phase": "Active"});
    }
}

/// A namespace object as the server creates it at start-up.
pub fn object(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
           "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

/// Starts deleting a namespace: it turns `Terminating`, its objects are deleted, and once
/// none is left it is removed.
pub fn delete(api: &Arc<Api>, name: &str) -> Result<Object, ApiError> {
    let marked = api.store.delete("namespaces", "", name, true)?;
    let marked = api
        .store
        .mutate("namespaces", "", name, |ns| {
            ns["status"]["phase"] = json!("Terminating");
        })
        .unwrap_or(marked);
    let (api, name) = (api.clone(), name.to_owned());
    tokio::spawn(async move {
        let mut stop = api.stop.clone();
        loop {
            if empty_out(&api, &name) {
                let _ = api.store.remove("namespaces", "", &name);
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(EMPTY_POLL) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    });
    Ok(marked)
}

/// Deletes what is left in a namespace; true once nothing is.
fn empty_out(api: &Api, namespace: &str) -> bool {
    let mut empty = true;
    for resource in api.registry.all().iter().filter(|r| r.namespaced) {
        let (items, _) = api.store.items(&resource.key(), Some(namespace));
        for object in items.iter().map(Item::object) {
            empty = false;
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            // Gone already, or held by a finalizer someone else removes: both are fine.
            let _ = api.store.delete(&resource.key(), namespace, name, false);
        }
    }
    empty
}
