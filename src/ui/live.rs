//! Objects as the cluster holds them now, for the object pane: one GET per
//! [`ObjectRequest`], the answer as JSON.
//!
//! The event loop owns the pending read and drops it when the request changes or the pane
//! closes. Nothing here touches the view.

use crate::model::ObjectKey;
use crate::ui::app::ObjectRequest;
use crate::watch::{self, HelmPart, Root};
use futures::FutureExt;
use futures::future::BoxFuture;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use serde_json::Value;
use std::collections::BTreeMap;

/// Where objects are read from: the cluster in production, a table in tests.
pub trait ObjectSource {
    /// Reads the object of `request`: it, or why it could not be read, for the user.
    fn read(&self, request: &ObjectRequest) -> BoxFuture<'static, Result<Value, String>>;
}

/// The cluster's API, for the tracked objects: the roots where they were applied or named,
/// their children where the watches find them.
pub struct ClusterObjects {
    client: kube::Client,
    roots: BTreeMap<ObjectKey, ApiResource>,
}

impl ClusterObjects {
    /// Reads `roots` (a Helm release is a record, not an object, and is left out) and their
    /// children.
    pub fn new(client: kube::Client, roots: &[Root]) -> Self {
        let roots = roots
            .iter()
            .filter(|root| !matches!(root.helm, Some(HelmPart::Release { .. })))
            .map(|root| (root.key.clone(), root.resource.clone()))
            .collect();
        ClusterObjects { client, roots }
    }

    fn resource(&self, key: &ObjectKey) -> Option<ApiResource> {
        self.roots
            .get(key)
            .cloned()
            .or_else(|| watch::child_resource(&key.kind))
    }
}

impl ObjectSource for ClusterObjects {
    fn read(&self, request: &ObjectRequest) -> BoxFuture<'static, Result<Value, String>> {
        let key = request.key.clone();
        let Some(resource) = self.resource(&key) else {
            let reason = format!("kos does not know where the cluster serves {}", key.kind);
            return futures::future::ready(Err(reason)).boxed();
        };
        let api: Api<DynamicObject> = match &key.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        };
        async move {
            let object = crate::cluster::retry(|| api.get(&key.name))
                .await
                .map_err(|error| crate::cluster::describe(&error))?;
            serde_json::to_value(object).map_err(|error| error.to_string())
        }
        .boxed()
    }
}
