//! One object's requests: its server-side apply (or dry run) with what it did and the
//! server's warnings, and the wait for a CRD to be Established.
//!
//! It sends and reads; which objects to send, in what order, and how to word a refusal are
//! the parent module's.

use super::Action;
use super::discovery::Served;
use crate::cluster::{Cluster, warning};
use crate::model::ObjectKey;
use kube::api::{Api, DynamicObject, Patch, PatchParams, ValidationDirective};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// How long a CRD may take to become Established.
const CRD_ESTABLISH_TIMEOUT: Duration = Duration::from_secs(30);
const CRD_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How one apply is sent.
pub struct Params<'a> {
    pub field_manager: &'a str,
    pub force: bool,
    pub dry_run: bool,
    pub validation: ValidationDirective,
    /// Until when an apply the API server refuses for want of an admission webhook is sent
    /// again (`None`: no end).
    pub deadline: Option<Instant>,
    /// Told the server's answer each time such an apply waits to be sent again.
    pub waiting: &'a mut (dyn FnMut(&str) + Send),
}

/// What the server did (or, in a dry run, would do) with one object.
#[derive(Debug)]
pub struct Sent {
    pub action: Action,
    pub warnings: Vec<String>,
}

/// Why a request about one object did not go through.
#[derive(Debug)]
pub enum Refused {
    /// The object's Namespace (named) does not exist (yet).
    NamespaceMissing(String, kube::Error),
    /// Any other refusal: the request's verb and the error.
    Error(&'static str, kube::Error),
}

impl Refused {
    /// The verb and the error, for its wording.
    pub fn parts(&self) -> (&'static str, &kube::Error) {
        match self {
            Refused::NamespaceMissing(_, error) => ("apply", error),
            Refused::Error(verb, error) => (verb, error),
        }
    }
}

/// Server-side applies `object` (with `key`'s namespace filled in). With `compare`, reads
/// the object first to tell `configured` from `unchanged` (and `created`).
pub async fn apply(
    cluster: &Cluster,
    object: &Value,
    key: &ObjectKey,
    served: &Served,
    params: Params<'_>,
    compare: bool,
) -> Result<Sent, Refused> {
    let object = body(object, key);
    let api = api(cluster, served, key.namespace.as_deref());
    let before = if compare {
        crate::cluster::retry(|| api.get_opt(&key.name))
            .await
            .map_err(|e| Refused::Error("get", e))?
    } else {
        None
    };
    let mut patch_params = PatchParams::apply(params.field_manager);
    patch_params.force = params.force;
    patch_params.dry_run = params.dry_run;
    patch_params.field_validation = Some(params.validation);
    let patch = Patch::Apply(&object);
    // Server-side apply is idempotent: a transient failure may be retried, and so may an
    // answer from a webhook that is still starting.
    let sent = crate::cluster::retry_webhooks(params.deadline, params.waiting, || async {
        let mut request = kube::core::Request::new(api.resource_url())
            .patch(&key.name, &patch_params, &patch)
            .map_err(kube::Error::BuildRequest)?;
        request.extensions_mut().insert("patch");
        warning::send::<DynamicObject>(&cluster.client, request).await
    })
    .await
    .map_err(|error| match namespace_missing(&error) {
        Some(ns) => Refused::NamespaceMissing(ns, error),
        None => Refused::Error("apply", error),
    })?;
    let action = match before {
        Some(before) if !sent.created => {
            if unchanged(&before, &sent.value, params.dry_run) {
                Action::Unchanged
            } else {
                Action::Configured
            }
        }
        _ => Action::Created,
    };
    Ok(Sent {
        action,
        warnings: sent.warnings,
    })
}

/// What is sent for `object`: the manifest with `key`'s namespace filled in.
pub fn body(object: &Value, key: &ObjectKey) -> Value {
    let mut object = object.clone();
    if let (Some(ns), Some(metadata)) = (
        &key.namespace,
        object.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        metadata.insert("namespace".into(), Value::String(ns.clone()));
    }
    object
}

fn api(cluster: &Cluster, served: &Served, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, &served.resource),
        None => Api::all_with(cluster.client.clone(), &served.resource),
    }
}

/// The Namespace a 404 says is missing, as the API server's namespace lifecycle admission
/// words it (`namespaces "x" not found`, details naming kind `namespaces`).
fn namespace_missing(error: &kube::Error) -> Option<String> {
    match error {
        kube::Error::Api(status) if status.code == 404 => status
            .details
            .as_ref()
            .filter(|d| d.kind == "namespaces" && !d.name.is_empty())
            .map(|d| d.name.clone()),
        _ => None,
    }
}

/// Whether an apply left the object as it was. A write that changes nothing leaves the
/// resourceVersion alone (as kubectl decides it), but a controller may write the object
/// between kos's read and its apply, and a dry run never changes it: then the objects are
/// compared without what every write changes.
fn unchanged(before: &DynamicObject, after: &DynamicObject, dry_run: bool) -> bool {
    let same_version = before.metadata.resource_version == after.metadata.resource_version;
    (same_version && !dry_run) || comparable(before) == comparable(after)
}

/// An object without what changes on every write (resourceVersion, managedFields,
/// generation) and without its status (controllers write it at any time).
fn comparable(object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(fields) = value.as_object_mut() {
        fields.remove("status");
    }
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["resourceVersion", "managedFields", "generation"] {
            metadata.remove(field);
        }
    }
    value
}

/// Waits until the CRD `name` has condition Established=True.
pub async fn wait_established(
    cluster: &Cluster,
    served: &Served,
    name: &str,
) -> Result<(), Refused> {
    let api = api(cluster, served, None);
    let deadline = tokio::time::Instant::now() + CRD_ESTABLISH_TIMEOUT;
    loop {
        let crd = crate::cluster::retry(|| api.get(name))
            .await
            .map_err(|e| Refused::Error("get", e))?;
        if is_established(&crd.data) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            let mut status = kube::core::Status::failure(
                &format!("not Established after {CRD_ESTABLISH_TIMEOUT:?}"),
                "Timeout",
            );
            status.code = 504;
            return Err(Refused::Error("get", kube::Error::Api(Box::new(status))));
        }
        tokio::time::sleep(CRD_POLL_INTERVAL).await;
    }
}

/// Whether a CRD's `.status.conditions` has Established=True.
fn is_established(data: &Value) -> bool {
    data.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Established")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn established_needs_the_condition_true() {
        assert!(is_established(
            &json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}})
        ));
        assert!(!is_established(
            &json!({"status": {"conditions": [{"type": "Established", "status": "False"}]}})
        ));
        assert!(!is_established(&json!({})));
    }

    fn object(rv: &str, generation: i64, replicas: i64) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "resourceVersion": rv, "generation": generation,
                         "managedFields": [{"manager": rv}]},
            "spec": {"replicas": replicas}
        }))
        .unwrap()
    }

    #[test]
    fn unchanged_is_the_same_version_or_the_same_object() {
        // Another writer came between the read and the apply: the apply changed nothing.
        assert!(unchanged(&object("1", 1, 2), &object("2", 2, 2), false));
        assert!(!unchanged(&object("1", 1, 2), &object("2", 2, 3), false));
        // The server wrote nothing.
        assert!(unchanged(&object("1", 1, 2), &object("1", 1, 2), false));
        // A dry run keeps the version of what it would change.
        assert!(!unchanged(&object("1", 1, 2), &object("1", 1, 3), true));
        assert!(unchanged(&object("1", 1, 2), &object("1", 1, 2), true));
    }

    #[test]
    fn a_missing_namespace_is_told_by_the_status_details() {
        let status = |kind: &str| -> kube::Error {
            kube::Error::Api(Box::new(
                serde_json::from_value(json!({"status": "Failure", "code": 404,
                    "reason": "NotFound", "message": "namespaces \"shop\" not found",
                    "details": {"name": "shop", "kind": kind}}))
                .unwrap(),
            ))
        };
        assert_eq!(
            namespace_missing(&status("namespaces")).as_deref(),
            Some("shop")
        );
        assert_eq!(namespace_missing(&status("deployments.apps")), None);
    }
}
