//! Helm releases, read from the cluster with no Helm binary (`kos watch helm/NAME`): which
//! revision of a release to track, waiting for the next one when asked, and the objects it
//! stands for — its manifest's and its hooks'.
//!
//! Records are decoded in memory only (`record`): their values and manifests are never
//! printed, logged or reported. Tracking itself is the watch's: the release is a root
//! (`watch::HelmPart::Release`) with its objects under it.

pub mod record;

use crate::cluster::{ApiError, Cluster};
use crate::exit::{BadInput, ClusterError};
use crate::manifest::{self, LoadOptions, Manifest};
use crate::model::ObjectKey;
use crate::watch::graph::Hook;
use crate::watch::{Feed, WatchSpec};
use color_eyre::Result;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::{WatchStreamExt, watcher};
use record::Release;
use serde_json::Value;

/// The kind of a release's row: `HelmRelease shop/web` reads like every other row, and
/// Flux's custom resource of that name stands for the same thing. Its `api_version` in the
/// JSON report, `helm.sh/release.v1` (Helm's record type), tells the two apart.
pub const KIND: &str = "HelmRelease";

/// The word of `kos watch helm/NAME`.
pub const TARGET: &str = "helm";

/// Where Helm stores releases: its Secrets driver (the default), then its `ConfigMap` driver
/// (`HELM_DRIVER=configmap`).
fn drivers() -> [ApiResource; 2] {
    [
        ApiResource::erase::<Secret>(&()),
        ApiResource::erase::<ConfigMap>(&()),
    ]
}

/// A revision of a release, with where Helm stores it.
#[derive(Debug, Clone)]
pub struct Revision {
    pub storage: ApiResource,
    pub release: Release,
}

impl Revision {
    /// The release's row.
    pub fn key(&self) -> ObjectKey {
        ObjectKey::new(KIND, Some(&self.release.namespace), &self.release.name)
    }

    /// `Helm release shop/web revision 3`: how problems name it.
    pub fn origin(&self) -> String {
        let release = &self.release;
        format!(
            "Helm release {}/{} revision {}",
            release.namespace, release.name, release.version
        )
    }

    /// The objects this revision stands for, in order: its manifest's, then its rollout's
    /// hooks, each hook with what it is. A manifest kos cannot read is bad input, naming
    /// the release, the revision and the hook.
    pub fn objects(&self) -> Result<Vec<(Manifest, Option<Hook>)>> {
        let origin = self.origin();
        let mut objects: Vec<(Manifest, Option<Hook>)> = load(&origin, &self.release.manifest)?
            .into_iter()
            .map(|manifest| (manifest, None))
            .collect();
        for hook in self.release.rollout_hooks() {
            let what = Hook {
                label: hook.label(),
                succeeded: hook.succeeded(),
            };
            let name = format!("{origin}, hook {}", hook.name);
            for manifest in load(&name, &hook.manifest)? {
                objects.push((manifest, Some(what.clone())));
            }
        }
        Ok(objects)
    }
}

/// The objects of one manifest text of a release (none when it holds none, as a chart of
/// hooks only renders).
fn load(origin: &str, text: &str) -> Result<Vec<Manifest>> {
    let blank = text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---"
    });
    if blank {
        return Ok(Vec::new());
    }
    manifest::load_str(origin, text, &LoadOptions::default())
        .map_err(|errors| BadInput(errors.to_string()).into())
}

/// The revision of a record as its `version` label says; 0 when it says none.
fn version(object: &DynamicObject) -> u64 {
    object
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get("version"))
        .and_then(|version| version.parse().ok())
        .unwrap_or(0)
}

/// The release in a record listed or watched as `storage`.
fn decode(object: &DynamicObject, storage: &ApiResource, name: &str) -> Result<Release> {
    let mut value = serde_json::to_value(object).map_err(|e| ClusterError(e.to_string()))?;
    // A real API server leaves kind out of list items.
    if let Value::Object(fields) = &mut value {
        fields.insert("kind".to_owned(), Value::String(storage.kind.clone()));
    }
    let namespace = object.metadata.namespace.as_deref().unwrap_or_default();
    let mut release = record::from_storage(&value).map_err(|error| {
        let record = object.metadata.name.as_deref().unwrap_or_default();
        let why = format!(
            "Helm release {namespace}/{name} revision {}: its record ({} {record}) cannot be read: {error}",
            version(object),
            storage.kind
        );
        color_eyre::Report::from(BadInput(why))
    })?;
    // Helm stores a release in its own namespace; a record that does not say it is there.
    if release.namespace.is_empty() {
        namespace.clone_into(&mut release.namespace);
    }
    Ok(release)
}

/// The latest revision of release `name` in the cluster's namespace, from the first driver
/// that holds any record of it; `None` when neither does.
pub async fn latest(cluster: &Cluster, name: &str) -> Result<Option<Revision>> {
    let params = ListParams::default().labels(&record::selector(name));
    for storage in drivers() {
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &storage);
        let list = crate::cluster::retry(|| api.list(&params))
            .await
            .map_err(|e| refused(cluster, &e, "list", &storage))?;
        if let Some(newest) = list.items.iter().max_by_key(|object| version(object)) {
            let release = decode(newest, &storage, name)?;
            return Ok(Some(Revision { storage, release }));
        }
    }
    Ok(None)
}

/// Waits until a revision of release `name` newer than `after` (0: any) is stored, by
/// either driver, and returns it. Helm stores a new revision as pending before it touches
/// any object, so its rollout is tracked from its start.
pub async fn next(cluster: &Cluster, name: &str, after: u64) -> Result<Revision> {
    let config = watcher::Config::default().labels(&record::selector(name));
    let streams = drivers().map(|storage| {
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &storage);
        watcher(api, config.clone())
            .default_backoff()
            .map(move |seen| (storage.clone(), seen))
            .boxed()
    });
    let mut records = futures::stream::select_all(streams);
    while let Some((storage, seen)) = records.next().await {
        match seen {
            Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object))
                if version(&object) > after =>
            {
                let release = decode(&object, &storage, name)?;
                return Ok(Revision { storage, release });
            }
            Ok(_) => {}
            Err(error) => {
                let spec = WatchSpec {
                    resource: storage,
                    namespace: Some(cluster.namespace.clone()),
                    name: None,
                    feed: Feed::Release,
                };
                if let Some(refusal) = crate::watch::fatal(&error, &cluster.server, &spec) {
                    return Err(ClusterError(refusal.to_string()).into());
                }
                tracing::debug!(%error, "watching Helm's records; backing off");
            }
        }
    }
    Err(ClusterError("the watch of Helm's records stopped".into()).into())
}

fn refused(
    cluster: &Cluster,
    error: &kube::Error,
    verb: &str,
    storage: &ApiResource,
) -> color_eyre::Report {
    let what = format!("{} in namespace {}", storage.plural, cluster.namespace);
    ClusterError(ApiError::from_kube(error, &cluster.server, verb, &what, false).to_string()).into()
}
