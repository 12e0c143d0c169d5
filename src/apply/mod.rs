//! `kos apply`'s first half: resolve every object through discovery, then server-side apply
//! them in dependency order (waiting for CRDs to be Established before their custom
//! resources), or dry-run them.
//!
//! It talks to the cluster and returns what it did; it must not print, watch or judge
//! status. Callers (the headless driver, the full-screen view) decide what to show.

pub mod discovery;
pub mod order;

use crate::cluster::{ApiError, Cluster};
use crate::manifest::Manifest;
use crate::model::ObjectKey;
use crate::tracker::Overrides;
use discovery::{Resolver, Served};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// How long a CRD may take to become Established.
const CRD_ESTABLISH_TIMEOUT: Duration = Duration::from_secs(30);
const CRD_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub field_manager: String,
    pub force_conflicts: bool,
    pub dry_run: bool,
}

/// What applying did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Configured,
    Unchanged,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
        })
    }
}

/// One applied object: a root of the tracked tree.
#[derive(Debug, Clone)]
pub struct Applied {
    pub key: ObjectKey,
    pub api_version: String,
    pub served: Served,
    pub action: Action,
    /// False for dry-run objects the server could not check: their Namespace or CRD would
    /// be created by the same batch.
    pub checked: bool,
    /// How it counts toward the verdict, from its manifest.
    pub overrides: Overrides,
}

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Kinds the cluster does not serve; nothing was applied.
    #[error("the cluster does not serve these kinds (nothing was applied):\n{}", .0.join("\n"))]
    Unserved(Vec<String>),
    #[error("API discovery failed: {0}")]
    Discovery(#[source] ApiError),
    #[error("{source_ref}: {kind_name}: {error}")]
    Object {
        source_ref: String,
        kind_name: String,
        #[source]
        error: ApiError,
    },
    #[error("CustomResourceDefinition {0} did not become Established within {1:?}")]
    NotEstablished(String, Duration),
    /// An object failed in the middle of a batch: what was applied before it stays applied.
    #[error(
        "{error}\napplied before the error: {}\nnot applied: {}",
        list(.applied),
        list(.not_applied)
    )]
    Stopped {
        error: Box<ApplyError>,
        applied: Vec<String>,
        /// The object that failed first, then the rest in apply order.
        not_applied: Vec<String>,
    },
}

fn list(keys: &[String]) -> String {
    if keys.is_empty() {
        "nothing".to_owned()
    } else {
        keys.join(", ")
    }
}

impl ApplyError {
    /// Whether the fault is in the input (exit 3) rather than the cluster (exit 4).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, ApplyError::Unserved(_))
    }
}

/// One manifest, resolved.
struct Planned<'a> {
    manifest: &'a Manifest,
    api_version: String,
    kind: String,
    /// `None`: a custom resource of a CRD in this batch, resolved once it is Established.
    served: Option<Served>,
}

/// Applies `manifests` (or dry-runs them) and returns the applied objects in input order.
pub async fn apply(
    cluster: &Cluster,
    manifests: &[Manifest],
    options: &ApplyOptions,
) -> Result<Vec<Applied>, ApplyError> {
    let mut resolver = Resolver::new(cluster.client.clone());
    let plans = plan(cluster, &mut resolver, manifests).await?;
    let items: Vec<(&str, bool)> = plans
        .iter()
        .map(|p| (p.kind.as_str(), p.served.is_none()))
        .collect();
    let mut applied: Vec<Option<Applied>> = vec![None; plans.len()];
    // Namespaces a dry run would create: the server cannot check objects inside them.
    let mut new_namespaces = Vec::new();
    let order = order::apply_order(&items);
    for (position, &index) in order.iter().enumerate() {
        let plan = &plans[index];
        let batch = Batch {
            cluster,
            manifests,
            options,
            new_namespaces: &new_namespaces,
        };
        let done = match batch.apply(&mut resolver, plan).await {
            Ok(done) => done,
            Err(error) => {
                let not_applied = order[position..].iter().map(|&i| batch.key(&plans[i]));
                return Err(ApplyError::Stopped {
                    error: Box::new(error),
                    applied: applied
                        .iter()
                        .flatten()
                        .map(|a| a.key.to_string())
                        .collect(),
                    not_applied: not_applied.map(|key| key.to_string()).collect(),
                });
            }
        };
        if done.key.kind == "Namespace" && done.action == Action::Created {
            new_namespaces.push(done.key.name.clone());
        }
        applied[index] = Some(done);
    }
    Ok(applied.into_iter().flatten().collect())
}

/// What applying one object of a batch needs to know about the rest.
struct Batch<'a> {
    cluster: &'a Cluster,
    manifests: &'a [Manifest],
    options: &'a ApplyOptions,
    new_namespaces: &'a [String],
}

impl Batch<'_> {
    /// Applies (or dry-runs) one planned object.
    async fn apply(
        &self,
        resolver: &mut Resolver,
        plan: &Planned<'_>,
    ) -> Result<Applied, ApplyError> {
        let (cluster, options) = (self.cluster, self.options);
        match &plan.served {
            Some(served) => {
                let key = self.key(plan);
                if options.dry_run
                    && key
                        .namespace
                        .as_ref()
                        .is_some_and(|ns| self.new_namespaces.contains(ns))
                {
                    Ok(unchecked(plan, key, served.clone()))
                } else {
                    apply_one(cluster, plan, served.clone(), options).await
                }
            }
            // In a dry run the CRD was not created: its custom resources cannot be checked.
            None if options.dry_run => {
                let served = crd_served(self.manifests, &plan.api_version, &plan.kind);
                Ok(unchecked(plan, self.key(plan), served))
            }
            None => {
                resolver.forget(&plan.api_version);
                let served = resolve_deferred(cluster, resolver, plan).await?;
                apply_one(cluster, plan, served, options).await
            }
        }
    }

    /// The key a planned object has (or will have, once its CRD serves it).
    fn key(&self, plan: &Planned<'_>) -> ObjectKey {
        let served = plan
            .served
            .clone()
            .unwrap_or_else(|| crd_served(self.manifests, &plan.api_version, &plan.kind));
        key_of(
            &plan.manifest.object,
            &plan.kind,
            &served,
            &self.cluster.namespace,
        )
    }
}

/// A dry-run object the server could not check (its Namespace or CRD is new).
fn unchecked(plan: &Planned<'_>, key: ObjectKey, served: Served) -> Applied {
    Applied {
        key,
        api_version: plan.api_version.clone(),
        served,
        action: Action::Created,
        checked: false,
        overrides: plan.manifest.overrides,
    }
}

/// Resolves every manifest; a kind nobody serves (and no CRD of the batch defines) is an
/// error before anything is applied.
async fn plan<'a>(
    cluster: &Cluster,
    resolver: &mut Resolver,
    manifests: &'a [Manifest],
) -> Result<Vec<Planned<'a>>, ApplyError> {
    let defined = crd_kinds(manifests);
    let mut plans = Vec::with_capacity(manifests.len());
    let mut unserved = Vec::new();
    for manifest in manifests {
        let api_version = text(&manifest.object, "/apiVersion").to_owned();
        let kind = text(&manifest.object, "/kind").to_owned();
        let served = resolver
            .resolve(&api_version, &kind)
            .await
            .map_err(|error| {
                let error =
                    ApiError::from_kube(&error, &cluster.server, "discover", &api_version, false);
                ApplyError::Discovery(error)
            })?;
        if served.is_none() && !defined.iter().any(|d| d.serves(&api_version, &kind)) {
            unserved.push(format!("{}: {kind} in {api_version}", manifest.source));
        }
        plans.push(Planned {
            manifest,
            api_version,
            kind,
            served,
        });
    }
    if unserved.is_empty() {
        Ok(plans)
    } else {
        Err(ApplyError::Unserved(unserved))
    }
}

/// A kind a CRD of the batch defines.
struct Defined {
    group: String,
    kind: String,
    plural: String,
    namespaced: bool,
}

impl Defined {
    fn serves(&self, api_version: &str, kind: &str) -> bool {
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        self.group == group && self.kind == kind
    }
}

/// The kinds the CRDs of the batch define.
fn crd_kinds(manifests: &[Manifest]) -> Vec<Defined> {
    manifests
        .iter()
        .filter(|m| text(&m.object, "/kind") == "CustomResourceDefinition")
        .map(|m| Defined {
            group: text(&m.object, "/spec/group").to_owned(),
            kind: text(&m.object, "/spec/names/kind").to_owned(),
            plural: text(&m.object, "/spec/names/plural").to_owned(),
            namespaced: text(&m.object, "/spec/scope") != "Cluster",
        })
        .collect()
}

/// The resource a CRD of the batch would serve `kind` of `api_version` as.
fn crd_served(manifests: &[Manifest], api_version: &str, kind: &str) -> Served {
    let defined = crd_kinds(manifests)
        .into_iter()
        .find(|d| d.serves(api_version, kind));
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
    Served {
        resource: match &defined {
            Some(d) => kube::discovery::ApiResource::from_gvk_with_plural(&gvk, &d.plural),
            None => kube::discovery::ApiResource::from_gvk(&gvk),
        },
        namespaced: defined.is_none_or(|d| d.namespaced),
    }
}

/// The resource of a custom resource whose CRD was applied (and Established) earlier in
/// this batch.
async fn resolve_deferred(
    cluster: &Cluster,
    resolver: &mut Resolver,
    plan: &Planned<'_>,
) -> Result<Served, ApplyError> {
    let resolved = resolver
        .resolve(&plan.api_version, &plan.kind)
        .await
        .map_err(|error| {
            ApplyError::Discovery(ApiError::from_kube(
                &error,
                &cluster.server,
                "discover",
                &plan.api_version,
                false,
            ))
        })?;
    resolved.ok_or_else(|| {
        ApplyError::Unserved(vec![format!(
            "{}: {} in {} (its CustomResourceDefinition is Established but does not serve it)",
            plan.manifest.source, plan.kind, plan.api_version
        )])
    })
}

/// Server-side applies (or dry-runs) one object and tells what it did.
async fn apply_one(
    cluster: &Cluster,
    plan: &Planned<'_>,
    served: Served,
    options: &ApplyOptions,
) -> Result<Applied, ApplyError> {
    let mut object = plan.manifest.object.clone();
    let name = text(&object, "/metadata/name").to_owned();
    let key = key_of(&object, &plan.kind, &served, &cluster.namespace);
    let namespace = key.namespace.clone();
    if let (Some(ns), Some(metadata)) = (
        &namespace,
        object.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        metadata.insert("namespace".into(), Value::String(ns.clone()));
    }
    let api: Api<DynamicObject> = match &namespace {
        Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, &served.resource),
        None => Api::all_with(cluster.client.clone(), &served.resource),
    };
    let fail = |verb: &str, error: &kube::Error| ApplyError::Object {
        source_ref: plan.manifest.source.to_string(),
        kind_name: key.to_string(),
        error: ApiError::from_kube(
            error,
            &cluster.server,
            verb,
            &resource_words(&served, namespace.as_deref()),
            plan.kind == "Secret",
        ),
    };
    let before = crate::cluster::retry(|| api.get_opt(&name))
        .await
        .map_err(|e| fail("get", &e))?;
    let mut params = PatchParams::apply(&options.field_manager);
    params.force = options.force_conflicts;
    params.dry_run = options.dry_run;
    // Server-side apply is idempotent: a transient failure may be retried.
    let patch = Patch::Apply(&object);
    let after = crate::cluster::retry(|| api.patch(&name, &params, &patch))
        .await
        .map_err(|e| fail("apply", &e))?;
    let action = match before {
        None => Action::Created,
        Some(before) if comparable(&before) == comparable(&after) => Action::Unchanged,
        Some(_) => Action::Configured,
    };
    if plan.kind == "CustomResourceDefinition" && !options.dry_run {
        wait_established(&api, &name)
            .await
            .map_err(|e| fail("get", &e))?;
    }
    Ok(Applied {
        key,
        api_version: plan.api_version.clone(),
        served,
        action,
        checked: true,
        overrides: plan.manifest.overrides,
    })
}

/// The key of `object`: a namespaced object without a namespace gets `default_namespace`
/// (as kubectl does), a cluster-scoped one none.
fn key_of(object: &Value, kind: &str, served: &Served, default_namespace: &str) -> ObjectKey {
    let namespace = served.namespaced.then(|| {
        object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(default_namespace)
    });
    ObjectKey::new(kind, namespace, text(object, "/metadata/name"))
}

/// The objects of `manifests` as the cluster knows them, without applying anything (for
/// `kos watch -f`). Kinds the cluster does not serve are an error.
pub async fn identify(
    cluster: &Cluster,
    manifests: &[Manifest],
) -> Result<Vec<(ObjectKey, Served, Overrides)>, ApplyError> {
    let mut resolver = Resolver::new(cluster.client.clone());
    let plans = plan(cluster, &mut resolver, manifests).await?;
    let mut unserved = Vec::new();
    let mut found = Vec::new();
    for plan in plans {
        match plan.served {
            Some(served) => found.push((
                key_of(
                    &plan.manifest.object,
                    &plan.kind,
                    &served,
                    &cluster.namespace,
                ),
                served,
                plan.manifest.overrides,
            )),
            None => unserved.push(format!(
                "{}: {} in {}",
                plan.manifest.source, plan.kind, plan.api_version
            )),
        }
    }
    if unserved.is_empty() {
        Ok(found)
    } else {
        Err(ApplyError::Unserved(unserved))
    }
}

/// `deployments.apps in namespace ns`, the words RBAC uses.
fn resource_words(served: &Served, namespace: Option<&str>) -> String {
    let resource = if served.resource.group.is_empty() {
        served.resource.plural.clone()
    } else {
        format!("{}.{}", served.resource.plural, served.resource.group)
    };
    match namespace {
        Some(ns) => format!("{resource} in namespace {ns}"),
        None => resource,
    }
}

/// An object without what changes on every write (resourceVersion, managedFields,
/// generation) and without its status (controllers write it at any time), to tell
/// `configured` from `unchanged`.
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
async fn wait_established(api: &Api<DynamicObject>, name: &str) -> Result<(), kube::Error> {
    let deadline = tokio::time::Instant::now() + CRD_ESTABLISH_TIMEOUT;
    loop {
        let crd = crate::cluster::retry(|| api.get(name)).await?;
        if is_established(&crd.data) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            let mut status = kube::core::Status::failure(
                &format!("not Established after {CRD_ESTABLISH_TIMEOUT:?}"),
                "Timeout",
            );
            status.code = 504;
            return Err(kube::Error::Api(Box::new(status)));
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

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Source;
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

    #[test]
    fn comparison_ignores_what_every_write_changes() {
        let object = |rv: &str, generation: i64, replicas: i64| -> DynamicObject {
            serde_json::from_value(json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "resourceVersion": rv, "generation": generation,
                             "managedFields": [{"manager": rv}]},
                "spec": {"replicas": replicas}
            }))
            .unwrap()
        };
        assert_eq!(
            comparable(&object("1", 1, 2)),
            comparable(&object("2", 2, 2))
        );
        assert_ne!(
            comparable(&object("1", 1, 2)),
            comparable(&object("1", 1, 3))
        );
    }

    #[test]
    fn crd_kinds_come_from_the_batch() {
        let manifest = Manifest {
            object: json!({"apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "spec": {"group": "kos.dev", "scope": "Namespaced",
                         "names": {"kind": "Widget", "plural": "widgets"}}}),
            source: Source {
                file: "a.yaml".into(),
                document: 1,
                line: 1,
                column: 1,
            },
            overrides: crate::tracker::Overrides::default(),
        };
        let served = crd_served(&[manifest], "kos.dev/v1", "Widget");
        assert_eq!(served.resource.plural, "widgets");
        assert_eq!(served.resource.group, "kos.dev");
        assert!(served.namespaced);
    }
}
