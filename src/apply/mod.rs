//! `kos apply`'s first half: resolve every object through discovery, have the server check
//! every object with a dry run, then server-side apply them in dependency order (waiting for
//! CRDs to be Established before their custom resources) — or only the dry run.
//!
//! It talks to the cluster and returns what it did; it must not print, watch or judge
//! status. Callers (the headless driver, the full-screen view) decide what to show.

pub mod discovery;
pub mod later;
pub mod order;
mod send;
pub mod webhooks;

use crate::cluster::{ApiError, Cluster};
use crate::manifest::{Manifest, Source};
use crate::model::ObjectKey;
use crate::tracker::Overrides;
use discovery::{Resolver, Served};
use kube::api::ValidationDirective;
use later::Later;
use send::Refused;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use webhooks::Webhook;

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub field_manager: String,
    pub force_conflicts: bool,
    pub dry_run: bool,
    /// `fieldValidation`: what the server does with fields the object's type does not have.
    pub validation: ValidationDirective,
    /// The end of the step (`--timeout`), until which an object the API server refuses for
    /// want of an admission webhook is sent again; `None`: no end.
    pub deadline: Option<Instant>,
}

/// What applying did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    /// Why the server's dry run could not check it: its Namespace or CRD would be created by
    /// the same batch, or a webhook of the batch that must see it cannot be called yet.
    pub unchecked: Option<String>,
    /// Where the object is in the input: the tracked tree keeps the input's order, while
    /// objects are applied in dependency order.
    pub position: usize,
    /// How it counts toward the verdict, from its manifest.
    pub overrides: Overrides,
    /// The object as kos sent it, for the view to compare with what the cluster holds.
    pub sent: Arc<Value>,
}

/// A warning the API server sent with its answer about one object (a `Warning` header): a
/// deprecated API, a field `--validate=warn` let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub key: ObjectKey,
    pub text: String,
}

/// What applying has done so far, filled in as it goes: a batch that stops half way still
/// tells what it applied.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    /// In the order they were applied (or, for a dry run, checked).
    pub applied: Vec<Applied>,
    /// Each once, though the check and the apply both bring it.
    pub warnings: Vec<Warning>,
    /// Where to say, as it happens, that an object waits for an admission webhook the API
    /// server cannot call yet (a line naming the object); `None`: nowhere.
    pub say: Option<fn(&str)>,
}

impl Progress {
    fn warn(&mut self, key: &ObjectKey, texts: Vec<String>) {
        for text in texts {
            let warning = Warning {
                key: key.clone(),
                text,
            };
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
    }
}

/// A request about one object that the cluster refused.
#[derive(Debug, thiserror::Error)]
#[error("{at}: {key}: {error}")]
pub struct ObjectError {
    pub at: Source,
    pub key: ObjectKey,
    pub error: ApiError,
}

impl ObjectError {
    /// Whether the server found the object itself invalid (400 Bad Request, 422 Invalid:
    /// an unknown field under strict validation, a bad value), rather than refusing the
    /// request for another reason.
    pub fn is_invalid(&self) -> bool {
        matches!(self.error.code(), Some(400 | 422))
    }
}

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Kinds the cluster does not serve (where, and which); nothing was applied.
    #[error("the cluster does not serve these kinds (nothing was applied):\n{}", unserved(.0))]
    Unserved(Vec<(Source, String)>),
    #[error("API discovery failed: {0}")]
    Discovery(#[source] ApiError),
    #[error("{0}")]
    Object(ObjectError),
    /// Objects the server's dry run found invalid; nothing was applied.
    #[error("the server rejects these objects (nothing was applied):\n{}", lines(.0))]
    Invalid(Vec<ObjectError>),
    #[error("CustomResourceDefinition {0} did not become Established within {1:?}")]
    NotEstablished(String, Duration),
    /// The step ended while objects still waited for a webhook of the batch (`--no-wait`).
    #[error("not applied: {}: {why} within the step timeout", .objects.join(", "))]
    WebhookNotReady { objects: Vec<String>, why: String },
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

fn unserved(kinds: &[(Source, String)]) -> String {
    let lines: Vec<String> = kinds
        .iter()
        .map(|(source, what)| format!("{source}: {what}"))
        .collect();
    lines.join("\n")
}

fn lines(errors: &[ObjectError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

impl ApplyError {
    /// Whether the fault is in the input (exit 3) rather than the cluster (exit 4): kinds
    /// nobody serves, objects the server finds invalid.
    pub fn is_bad_input(&self) -> bool {
        match self {
            ApplyError::Unserved(_) | ApplyError::Invalid(_) => true,
            ApplyError::Object(error) => error.is_invalid(),
            ApplyError::Stopped { error, .. } => error.is_bad_input(),
            ApplyError::Discovery(_)
            | ApplyError::NotEstablished(..)
            | ApplyError::WebhookNotReady { .. } => false,
        }
    }
}

/// One manifest, resolved.
struct Planned<'a> {
    manifest: &'a Manifest,
    /// Its position in the input.
    position: usize,
    api_version: String,
    kind: String,
    /// `None`: a custom resource of a CRD in this batch, resolved once it is Established.
    served: Option<Served>,
}

/// Applies `manifests` (or, with `dry_run`, only checks them), recording in `progress` what
/// was applied, in apply order, and the server's warnings. Nothing is written before the
/// server has checked every object it can (a dry run of each): an invalid object stops the
/// batch before its first write. Objects that a webhook of the batch intercepts are not
/// applied: they are returned, to be applied once the webhook can be called (see
/// [`later`]).
pub async fn apply(
    cluster: &Cluster,
    manifests: &[Manifest],
    options: &ApplyOptions,
    progress: &mut Progress,
) -> Result<Later, ApplyError> {
    let mut resolver = Resolver::new(cluster.client.clone());
    let plans = plan(cluster, &mut resolver, manifests).await?;
    let items: Vec<(&str, bool)> = plans
        .iter()
        .map(|p| (p.kind.as_str(), p.served.is_none()))
        .collect();
    let order = order::apply_order(&items);
    let batch = Batch {
        cluster,
        manifests,
        options,
        say: progress.say,
    };
    let interceptors = batch.interceptors(&plans);
    let checked = batch.check(&plans, &order, &interceptors, progress).await?;
    let mut later = Later::new(cluster, options);
    if options.dry_run {
        progress.applied = checked;
        return Ok(later);
    }
    for (position, &index) in order.iter().enumerate() {
        let plan = &plans[index];
        let done = match &interceptors[index] {
            Some(webhook) => batch.resolve(&mut resolver, plan).await.map(|served| {
                later.hold(plan.manifest, batch.to_hold(plan, served), webhook.clone());
            }),
            None => batch
                .apply(&mut resolver, plan)
                .await
                .map(|(done, warnings)| {
                    progress.warn(&done.key, warnings);
                    progress.applied.push(done);
                }),
        };
        if let Err(error) = done {
            let not_applied = order[position..].iter().map(|&i| batch.key(&plans[i]));
            return Err(ApplyError::Stopped {
                error: Box::new(error),
                applied: progress.applied.iter().map(|a| a.key.to_string()).collect(),
                not_applied: not_applied.map(|key| key.to_string()).collect(),
            });
        }
    }
    Ok(later)
}

/// What applying one object of a batch needs to know about the rest.
struct Batch<'a> {
    cluster: &'a Cluster,
    manifests: &'a [Manifest],
    options: &'a ApplyOptions,
    say: Option<fn(&str)>,
}

impl Batch<'_> {
    /// The server's dry run of every object, in apply order: what it would do to each (for
    /// `--dry-run`), or every object it finds invalid. An object whose Namespace is new in
    /// the batch is decoded (and its fields validated) before the server looks for the
    /// Namespace, and is checked again as it is applied; a custom resource of a CRD new in
    /// the batch cannot be sent yet.
    async fn check(
        &self,
        plans: &[Planned<'_>],
        order: &[usize],
        interceptors: &[Option<Webhook>],
        progress: &mut Progress,
    ) -> Result<Vec<Applied>, ApplyError> {
        let mut checked = Vec::with_capacity(order.len());
        let mut invalid = Vec::new();
        for &index in order {
            let plan = &plans[index];
            let key = self.key(plan);
            let Some(served) = plan.served.clone() else {
                let served = crd_served(self.manifests, &plan.api_version, &plan.kind);
                checked.push(unchecked(plan, key, served, NEW_NAMESPACE_OR_CRD));
                continue;
            };
            // Only `--dry-run` shows what the dry run would do.
            let compare = self.options.dry_run;
            let object = &plan.manifest.object;
            let interceptor = interceptors[index].as_ref();
            let mut said = self.retried(&key);
            let mut params = self.params(true, &mut said);
            if interceptor.is_some() {
                // Its webhook, new in the batch, is not expected to answer yet.
                params.deadline = Some(Instant::now());
            }
            match send::apply(self.cluster, object, &key, &served, params, compare).await {
                Ok(sent) => {
                    progress.warn(&key, sent.warnings);
                    checked.push(applied(plan, key, served, sent.action));
                }
                Err(Refused::NamespaceMissing(ns, _)) if self.creates_namespace(&ns) => {
                    checked.push(unchecked(plan, key, served, NEW_NAMESPACE_OR_CRD));
                }
                Err(Refused::Error(_, error))
                    if interceptor.is_some() && crate::cluster::webhook_unavailable(&error) =>
                {
                    let why = interceptor.map_or_else(String::new, |hook| {
                        format!(
                            "its webhook {} of this batch cannot be called yet",
                            hook.name
                        )
                    });
                    checked.push(unchecked(plan, key, served, &why));
                }
                Err(refused) => {
                    let error = self.object_error(plan.manifest, key, &served, &refused);
                    if !error.is_invalid() {
                        return Err(ApplyError::Object(error));
                    }
                    invalid.push(error);
                }
            }
        }
        if invalid.is_empty() {
            Ok(checked)
        } else {
            Err(ApplyError::Invalid(invalid))
        }
    }

    /// The resource of a planned object: a custom resource of a CRD of the batch is resolved
    /// once its CRD is Established.
    async fn resolve(
        &self,
        resolver: &mut Resolver,
        plan: &Planned<'_>,
    ) -> Result<Served, ApplyError> {
        if let Some(served) = &plan.served {
            return Ok(served.clone());
        }
        resolver.forget(&plan.api_version);
        resolve_deferred(self.cluster, resolver, plan).await
    }

    /// Applies one planned object; returns it with the server's warnings.
    async fn apply(
        &self,
        resolver: &mut Resolver,
        plan: &Planned<'_>,
    ) -> Result<(Applied, Vec<String>), ApplyError> {
        let served = self.resolve(resolver, plan).await?;
        let key = self.key(plan);
        let fail = |refused: Refused| {
            ApplyError::Object(self.object_error(plan.manifest, key.clone(), &served, &refused))
        };
        let object = &plan.manifest.object;
        let mut said = self.retried(&key);
        let params = self.params(false, &mut said);
        let sent = send::apply(self.cluster, object, &key, &served, params, true)
            .await
            .map_err(fail)?;
        if plan.kind == "CustomResourceDefinition" {
            send::wait_established(self.cluster, &served, &key.name)
                .await
                .map_err(fail)?;
        }
        Ok((applied(plan, key, served, sent.action), sent.warnings))
    }

    /// What says that `key` is sent again while a webhook cannot be called: once per answer
    /// of the server, not at every try.
    fn retried(&self, key: &ObjectKey) -> impl FnMut(&str) + Send + use<> {
        let (say, key) = (self.say, key.clone());
        let mut last = String::new();
        move |message: &str| {
            if message != last {
                if let Some(say) = say {
                    say(&format!(
                        "{key}  waiting for its admission webhook, retrying: {message}"
                    ));
                }
                message.clone_into(&mut last);
            }
        }
    }

    /// An object held back, as it will be once applied.
    fn to_hold(&self, plan: &Planned<'_>, served: Served) -> Applied {
        let key = self.key(plan);
        applied(plan, key, served, Action::Created)
    }

    /// Applies a held object (its webhook can be called now), telling `waiting` the server's
    /// answer while it still cannot, until `deadline` (`None`: the caller ends it).
    async fn send_held(
        &self,
        manifest: &Manifest,
        held: &Applied,
        deadline: Option<Instant>,
        waiting: &mut (dyn FnMut(&str) + Send),
    ) -> Result<send::Sent, ApplyError> {
        let mut params = self.params(false, waiting);
        params.deadline = deadline;
        send::apply(
            self.cluster,
            &manifest.object,
            &held.key,
            &held.served,
            params,
            true,
        )
        .await
        .map_err(|refused| {
            ApplyError::Object(self.object_error(
                manifest,
                held.key.clone(),
                &held.served,
                &refused,
            ))
        })
    }

    /// Which webhook of the batch (if any) intercepts each planned object.
    fn interceptors(&self, plans: &[Planned<'_>]) -> Vec<Option<Webhook>> {
        let objects: Vec<&Value> = self.manifests.iter().map(|m| &m.object).collect();
        let hooks = webhooks::webhooks(&objects);
        if hooks.is_empty() {
            return vec![None; plans.len()];
        }
        plans
            .iter()
            .map(|plan| {
                let served = plan
                    .served
                    .clone()
                    .unwrap_or_else(|| crd_served(self.manifests, &plan.api_version, &plan.kind));
                let key = self.key(plan);
                let target = webhooks::Target {
                    object: &plan.manifest.object,
                    group: &served.resource.group,
                    version: &served.resource.version,
                    resource: &served.resource.plural,
                    namespace: key.namespace.as_deref(),
                };
                webhooks::interceptor(&hooks, &target, &objects).cloned()
            })
            .collect()
    }

    fn params<'a>(
        &'a self,
        dry_run: bool,
        waiting: &'a mut (dyn FnMut(&str) + Send),
    ) -> send::Params<'a> {
        send::Params {
            field_manager: &self.options.field_manager,
            force: self.options.force_conflicts,
            dry_run,
            validation: self.options.validation.clone(),
            deadline: self.options.deadline,
            waiting,
        }
    }

    /// Whether the batch holds Namespace `name`.
    fn creates_namespace(&self, name: &str) -> bool {
        self.manifests.iter().any(|m| {
            text(&m.object, "/kind") == "Namespace" && text(&m.object, "/metadata/name") == name
        })
    }

    /// A refused request about `manifest`'s object, worded.
    fn object_error(
        &self,
        manifest: &Manifest,
        key: ObjectKey,
        served: &Served,
        refused: &Refused,
    ) -> ObjectError {
        let (verb, error) = refused.parts();
        ObjectError {
            at: manifest.source.clone(),
            error: ApiError::from_kube(
                error,
                &self.cluster.server,
                verb,
                &resource_words(served, key.namespace.as_deref()),
                key.kind == "Secret",
            ),
            key,
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

/// An object the server took (or, in a dry run, would take).
fn applied(plan: &Planned<'_>, key: ObjectKey, served: Served, action: Action) -> Applied {
    Applied {
        api_version: plan.api_version.clone(),
        served,
        action,
        unchecked: None,
        position: plan.position,
        overrides: plan.manifest.overrides,
        sent: Arc::new(send::body(&plan.manifest.object, &key)),
        key,
    }
}

/// Why the dry run cannot check an object whose Namespace or CRD the batch creates.
const NEW_NAMESPACE_OR_CRD: &str = "its Namespace or CRD is new";

/// A dry-run object the server could not check, and why.
fn unchecked(plan: &Planned<'_>, key: ObjectKey, served: Served, why: &str) -> Applied {
    Applied {
        api_version: plan.api_version.clone(),
        served,
        action: Action::Created,
        unchecked: Some(why.to_owned()),
        position: plan.position,
        overrides: plan.manifest.overrides,
        sent: Arc::new(send::body(&plan.manifest.object, &key)),
        key,
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
    for (position, manifest) in manifests.iter().enumerate() {
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
            unserved.push((manifest.source.clone(), format!("{kind} in {api_version}")));
        }
        plans.push(Planned {
            manifest,
            position,
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
        ApplyError::Unserved(vec![(
            plan.manifest.source.clone(),
            format!(
                "{} in {} (its CustomResourceDefinition is Established but does not serve it)",
                plan.kind, plan.api_version
            ),
        )])
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
            None => unserved.push((
                plan.manifest.source.clone(),
                format!("{} in {}", plan.kind, plan.api_version),
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

/// The string at `pointer` in `object`, or `""`.
pub(crate) fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
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
