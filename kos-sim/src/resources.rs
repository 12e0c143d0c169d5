//! The registry of resource types the simulated API server serves: the built-in kinds and
//! those that `CustomResourceDefinitions` add while the server runs.
//!
//! It owns names (kind, plural, singular, short names), scope, verbs and subresources, and
//! the store key of each type (`pods`, `deployments.apps`). It must not know HTTP or hold
//! objects: discovery, `OpenAPI` and the handlers read it, the CRD handling writes it.

use serde_json::Value;
use std::sync::{PoisonError, RwLock};

/// One served resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// `""` for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    /// Has the `status` subresource.
    pub status: bool,
    /// Categories (`all`) kubectl expands.
    pub categories: Vec<String>,
    /// Served by a `CustomResourceDefinition`.
    pub custom: bool,
    /// The rule the type's object names must follow.
    pub names: NameRule,
    /// The verbs the type serves.
    pub verbs: &'static [&'static str],
    /// The typed decoding of a built-in type's objects (`None` for custom resources).
    pub typed: Option<Typed>,
    /// A custom resource's structural schema: its CRD version's `openAPIV3Schema`.
    pub schema: Option<std::sync::Arc<Value>>,
}

/// What k8s-openapi's struct of a built-in type gives: decoding an object as the struct
/// (the paths of the fields it does not know, or why the object does not decode) and the
/// type's JSON schema.
#[derive(Clone, Copy)]
pub struct Typed {
    unknown_fields: fn(&Value) -> Result<Vec<FieldPath>, String>,
    schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

impl Typed {
    pub fn unknown_fields(&self, object: &Value) -> Result<Vec<FieldPath>, String> {
        (self.unknown_fields)(object)
    }

    /// A reference to the type's schema, which `generator` adds to its definitions (with
    /// those of every type it refers to) under the name the real API server uses.
    pub fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        (self.schema)(generator)
    }
}

impl std::fmt::Debug for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("Typed")
    }
}

/// A type's decoding follows from its group, version and kind, which the rest of
/// [`ResourceType`] compares.
impl PartialEq for Typed {
    fn eq(&self, _: &Typed) -> bool {
        true
    }
}

impl Eq for Typed {}

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Where a field is in an object, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Step>);

impl std::fmt::Display for FieldPath {
    /// As the API server writes it: `spec.containers[0].foo`.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        for (index, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(key) if index == 0 => f.write_str(key)?,
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

impl FieldPath {
    /// The field's value in `object`, if it is there.
    pub fn get<'a>(&self, object: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(object, |at, step| match step {
            Step::Key(key) => at.get(key.as_str()),
            Step::Index(i) => at.get(*i),
        })
    }

    /// Removes the field from `object`, if it is there.
    pub fn remove_from(&self, object: &mut Value) {
        let Some((last, parents)) = self.0.split_last() else {
            return;
        };
        let mut at = object;
        for step in parents {
            let next = match step {
                Step::Key(key) => at.get_mut(key.as_str()),
                Step::Index(i) => at.get_mut(*i),
            };
            let Some(next) = next else { return };
            at = next;
        }
        if let (Step::Key(key), Some(map)) = (last, at.as_object_mut()) {
            map.remove(key);
        }
    }
}

fn unknown_fields<T: serde::de::DeserializeOwned>(
    object: &Value,
) -> Result<Vec<FieldPath>, String> {
    let mut unknown = Vec::new();
    serde_ignored::deserialize::<_, _, T>(object, |path| {
        let mut steps = Vec::new();
        steps_of(&path, &mut steps);
        unknown.push(FieldPath(steps));
    })
    .map_err(|e| e.to_string())?;
    Ok(unknown)
}

fn steps_of(path: &serde_ignored::Path, steps: &mut Vec<Step>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            steps_of(parent, steps);
            steps.push(Step::Index(*index));
        }
        Path::Map { parent, key } => {
            steps_of(parent, steps);
            steps.push(Step::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => {
            steps_of(parent, steps);
        }
    }
}

/// How the API server checks the names of a type's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// A lowercase RFC 1123 subdomain of at most this many characters (253, or 52 for a
    /// `CronJob`, which leaves room for the suffix of its Jobs).
    Subdomain(usize),
    /// A lowercase RFC 1123 label (Namespaces).
    Label,
    /// A DNS-1035 label: an RFC 1123 label that starts with a letter (Services).
    Rfc1035Label,
    /// Anything a URL path segment may hold: not `.` or `..`, no `/` or `%` (RBAC objects,
    /// whose names hold `:`).
    PathSegment,
}

/// The longest RFC 1123 subdomain.
pub const SUBDOMAIN_MAX: usize = 253;

/// Every verb of a type that serves them all.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// A Namespace cannot be deleted as part of a collection.
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// The verbs of a built-in kind, as its registry implements them: the reviews and
/// `Binding` are only ever created (nothing is stored), the component statuses only read.
fn verbs(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("", "Namespace") => NAMESPACE_VERBS,
        ("", "ComponentStatus") => &["get", "list"],
        ("", "Binding") | ("authentication.k8s.io" | "authorization.k8s.io", _) => &["create"],
        _ => VERBS,
    }
}

impl ResourceType {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The store's name of the resource: `pods`, `deployments.apps`.
    pub fn key(&self) -> String {
        key(&self.plural, &self.group)
    }

    /// The name used in messages: `deployments.apps`, `pods`.
    pub fn qualified(&self) -> String {
        self.key()
    }
}

/// The store's name of a resource.
pub fn key(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

/// Whether a k8s-openapi scope is that of namespaced objects.
trait Scope {
    const NAMESPACED: bool;
}

impl Scope for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl Scope for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

/// What a real API server says of a type beyond k8s-openapi's metadata (which has no short
/// names, categories or subresources), keyed by (group, kind): each registry's
/// `ShortNames()` and `Categories()`, and whether it serves `status`.
struct Facts {
    group: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    status: bool,
}

const fn facts(
    group: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    status: bool,
) -> Facts {
    Facts {
        group,
        kind,
        short_names,
        categories,
        status,
    }
}

const ALL: &[&str] = &["all"];
const EXTENSIONS: &[&str] = &["api-extensions"];

/// Kinds without an entry have no short names or categories and no `status`.
const FACTS: &[Facts] = &[
    facts("", "ComponentStatus", &["cs"], &[], false),
    facts("", "ConfigMap", &["cm"], &[], false),
    facts("", "Endpoints", &["ep"], &[], false),
    facts("", "Event", &["ev"], &[], false),
    facts("", "LimitRange", &["limits"], &[], false),
    facts("", "Namespace", &["ns"], &[], true),
    facts("", "Node", &["no"], &[], true),
    facts("", "PersistentVolumeClaim", &["pvc"], &[], true),
    facts("", "PersistentVolume", &["pv"], &[], true),
    facts("", "Pod", &["po"], ALL, true),
    facts("", "ReplicationController", &["rc"], ALL, true),
    facts("", "ResourceQuota", &["quota"], &[], true),
    facts("", "ServiceAccount", &["sa"], &[], false),
    facts("", "Service", &["svc"], ALL, true),
    facts(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        &[],
        EXTENSIONS,
        false,
    ),
    facts(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        &[],
        EXTENSIONS,
        false,
    ),
    facts(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        &[],
        EXTENSIONS,
        true,
    ),
    facts(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        &[],
        EXTENSIONS,
        false,
    ),
    facts(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        &[],
        EXTENSIONS,
        false,
    ),
    facts(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        &[],
        EXTENSIONS,
        false,
    ),
    facts(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        &["crd", "crds"],
        EXTENSIONS,
        true,
    ),
    facts(
        "apiregistration.k8s.io",
        "APIService",
        &[],
        EXTENSIONS,
        true,
    ),
    facts("apps", "DaemonSet", &["ds"], ALL, true),
    facts("apps", "Deployment", &["deploy"], ALL, true),
    facts("apps", "ReplicaSet", &["rs"], ALL, true),
    facts("apps", "StatefulSet", &["sts"], ALL, true),
    facts(
        "autoscaling",
        "HorizontalPodAutoscaler",
        &["hpa"],
        ALL,
        true,
    ),
    facts("batch", "CronJob", &["cj"], ALL, true),
    facts("batch", "Job", &[], ALL, true),
    facts(
        "certificates.k8s.io",
        "CertificateSigningRequest",
        &["csr"],
        &[],
        true,
    ),
    facts(
        "certificates.k8s.io",
        "PodCertificateRequest",
        &[],
        &[],
        true,
    ),
    facts("events.k8s.io", "Event", &["ev"], &[], false),
    facts("flowcontrol.apiserver.k8s.io", "FlowSchema", &[], &[], true),
    facts(
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        &[],
        &[],
        true,
    ),
    facts("networking.k8s.io", "Ingress", &["ing"], &[], true),
    facts("networking.k8s.io", "IPAddress", &["ip"], &[], false),
    facts(
        "networking.k8s.io",
        "NetworkPolicy",
        &["netpol"],
        &[],
        false,
    ),
    facts("networking.k8s.io", "ServiceCIDR", &[], &[], true),
    facts("policy", "PodDisruptionBudget", &["pdb"], &[], true),
    facts("resource.k8s.io", "ResourceClaim", &[], &[], true),
    facts("resource.k8s.io", "DeviceTaintRule", &[], &[], true),
    facts("scheduling.k8s.io", "PriorityClass", &["pc"], &[], false),
    facts("storage.k8s.io", "StorageClass", &["sc"], &[], false),
    facts("storage.k8s.io", "VolumeAttachment", &[], &[], true),
    facts(
        "storage.k8s.io",
        "VolumeAttributesClass",
        &["vac"],
        &[],
        false,
    ),
    facts(
        "storagemigration.k8s.io",
        "StorageVersionMigration",
        &[],
        &[],
        true,
    ),
];

/// The name rule of a built-in kind, as its registry's validation applies it.
fn name_rule(group: &str, kind: &str) -> NameRule {
    /// A `CronJob`'s Jobs are named `<cronjob>-<11 characters>` within a label's 63.
    const CRONJOB_MAX: usize = 52;
    match (group, kind) {
        ("", "Service") => NameRule::Rfc1035Label,
        ("", "Namespace") => NameRule::Label,
        ("batch", "CronJob") => NameRule::Subdomain(CRONJOB_MAX),
        (
            "rbac.authorization.k8s.io"
            | "flowcontrol.apiserver.k8s.io"
            | "events.k8s.io"
            | "apiregistration.k8s.io",
            _,
        )
        | ("certificates.k8s.io", "CertificateSigningRequest")
        | ("", "Event") => NameRule::PathSegment,
        _ => NameRule::Subdomain(SUBDOMAIN_MAX),
    }
}

/// A built-in type, from k8s-openapi's metadata of `T` and the [`FACTS`] of its kind.
fn builtin<T>() -> ResourceType
where
    T: k8s_openapi::Resource + serde::de::DeserializeOwned + schemars::JsonSchema,
    T::Scope: Scope,
{
    let facts = FACTS
        .iter()
        .find(|f| f.group == T::GROUP && f.kind == T::KIND);
    let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    ResourceType {
        group: T::GROUP.into(),
        version: T::VERSION.into(),
        kind: T::KIND.into(),
        plural: T::URL_PATH_SEGMENT.into(),
        singular: T::KIND.to_lowercase(),
        short_names: facts.map(|f| strings(f.short_names)).unwrap_or_default(),
        namespaced: <T::Scope as Scope>::NAMESPACED,
        status: facts.is_some_and(|f| f.status),
        categories: facts.map(|f| strings(f.categories)).unwrap_or_default(),
        custom: false,
        names: name_rule(T::GROUP, T::KIND),
        verbs: verbs(T::GROUP, T::KIND),
        typed: Some(Typed {
            unknown_fields: unknown_fields::<T>,
            schema: schemars::SchemaGenerator::subschema_for::<T>,
        }),
        schema: None,
    }
}

/// Every built-in type a real API server of k8s-openapi's newest Kubernetes version serves
/// by default: each generally available kind, a group's preferred version first. The
/// review kinds, `Binding` and the deprecated `ComponentStatus` are answered by handlers of
/// their own: nothing of them is stored.
fn builtins() -> Vec<ResourceType> {
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, apps::v1 as apps,
        authentication::v1 as authentication, authorization::v1 as authorization, autoscaling,
        batch::v1 as batch, certificates::v1 as certificates, coordination::v1 as coordination,
        core::v1 as core, discovery::v1 as discovery, events::v1 as events,
        flowcontrol::v1 as flowcontrol, networking::v1 as networking, node::v1 as node,
        policy::v1 as policy, rbac::v1 as rbac, resource::v1 as resource,
        scheduling::v1 as scheduling, storage::v1 as storage,
        storagemigration::v1 as storagemigration,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
    macro_rules! types {
        ($($t:ty),* $(,)?) => { vec![$(builtin::<$t>()),*] };
    }
    types![
        core::Pod,
        core::Service,
        core::Endpoints,
        core::ConfigMap,
        core::Secret,
        core::Namespace,
        core::Node,
        core::Event,
        core::ServiceAccount,
        core::PersistentVolumeClaim,
        core::PersistentVolume,
        core::ReplicationController,
        core::PodTemplate,
        core::LimitRange,
        core::ResourceQuota,
        core::Binding,
        core::ComponentStatus,
        apps::Deployment,
        apps::ReplicaSet,
        apps::StatefulSet,
        apps::DaemonSet,
        apps::ControllerRevision,
        batch::Job,
        batch::CronJob,
        networking::Ingress,
        networking::IngressClass,
        networking::NetworkPolicy,
        networking::IPAddress,
        networking::ServiceCIDR,
        policy::PodDisruptionBudget,
        autoscaling::v2::HorizontalPodAutoscaler,
        autoscaling::v1::HorizontalPodAutoscaler,
        rbac::Role,
        rbac::RoleBinding,
        rbac::ClusterRole,
        rbac::ClusterRoleBinding,
        authentication::TokenReview,
        authentication::SelfSubjectReview,
        authorization::LocalSubjectAccessReview,
        authorization::SelfSubjectAccessReview,
        authorization::SelfSubjectRulesReview,
        authorization::SubjectAccessReview,
        apiextensions::CustomResourceDefinition,
        apiregistration::APIService,
        admission::MutatingWebhookConfiguration,
        admission::ValidatingWebhookConfiguration,
        admission::ValidatingAdmissionPolicy,
        admission::ValidatingAdmissionPolicyBinding,
        admission::MutatingAdmissionPolicy,
        admission::MutatingAdmissionPolicyBinding,
        certificates::CertificateSigningRequest,
        certificates::ClusterTrustBundle,
        certificates::PodCertificateRequest,
        coordination::Lease,
        discovery::EndpointSlice,
        events::Event,
        flowcontrol::FlowSchema,
        flowcontrol::PriorityLevelConfiguration,
        node::RuntimeClass,
        scheduling::PriorityClass,
        storage::StorageClass,
        storage::CSIDriver,
        storage::CSINode,
        storage::CSIStorageCapacity,
        storage::VolumeAttachment,
        storage::VolumeAttributesClass,
        resource::DeviceClass,
        resource::ResourceClaim,
        resource::ResourceClaimTemplate,
        resource::ResourceSlice,
        resource::DeviceTaintRule,
        storagemigration::StorageVersionMigration,
    ]
}

/// The served types. Share it behind an `Arc`.
pub struct Registry {
    types: RwLock<Vec<ResourceType>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            types: RwLock::new(builtins()),
        }
    }
}

impl Registry {
    /// Every served type, built-ins first.
    pub fn all(&self) -> Vec<ResourceType> {
        self.types
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The type served at `/api{s}/{group}/{version}/{plural}`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.types
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .cloned()
    }

    /// The type of a kind in a group-version, if served.
    pub fn find_kind(&self, group: &str, version: &str, kind: &str) -> Option<ResourceType> {
        self.types
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|t| t.group == group && t.version == version && t.kind == kind)
            .cloned()
    }

    /// The served versions of each group, groups in first-served order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.all() {
            match groups.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) if !versions.contains(&t.version) => {
                    versions.push(t.version.clone());
                }
                Some(_) => {}
                None => groups.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        groups
    }

    /// Replaces the types a CRD serves (none when `types` is empty: the CRD is gone).
    pub fn set_custom(&self, group: &str, plural: &str, types: Vec<ResourceType>) {
        let mut all = self.types.write().unwrap_or_else(PoisonError::into_inner);
        all.retain(|t| !(t.custom && t.group == group && t.plural == plural));
        all.extend(types);
    }
}

/// The types a `CustomResourceDefinition` object serves: one per served version. Errors name
/// the field that is missing.
pub fn from_crd(crd: &Value) -> Result<Vec<ResourceType>, String> {
    let text = |pointer: &str| {
        crd.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let group = text("/spec/group").ok_or("spec.group: Required value")?;
    let kind = text("/spec/names/kind").ok_or("spec.names.kind: Required value")?;
    let plural = text("/spec/names/plural").ok_or("spec.names.plural: Required value")?;
    let expected = format!("{plural}.{group}");
    if text("/metadata/name").as_deref() != Some(expected.as_str()) {
        return Err(format!(
            "metadata.name: Invalid value: must be spec.names.plural+\".\"+spec.group ({expected})"
        ));
    }
    let singular = text("/spec/names/singular").unwrap_or_else(|| kind.to_lowercase());
    let strings = |pointer: &str| -> Vec<String> {
        crd.pointer(pointer)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let namespaced = text("/spec/scope").as_deref() != Some("Cluster");
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or("spec.versions: Required value")?;
    let mut types = Vec::new();
    for (index, version) in versions.iter().enumerate() {
        let name = version["name"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("spec.versions[{index}].name: Required value"))?;
        if version["served"].as_bool() == Some(false) {
            continue;
        }
        types.push(ResourceType {
            group: group.clone(),
            version: name.to_owned(),
            kind: kind.clone(),
            plural: plural.clone(),
            singular: singular.clone(),
            short_names: strings("/spec/names/shortNames"),
            namespaced,
            status: version.pointer("/subresources/status").is_some(),
            categories: strings("/spec/names/categories"),
            custom: true,
            names: NameRule::Subdomain(SUBDOMAIN_MAX),
            verbs: VERBS,
            typed: None,
            schema: version
                .pointer("/schema/openAPIV3Schema")
                .filter(|schema| schema.is_object())
                .map(|schema| std::sync::Arc::new(schema.clone())),
        });
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtins_resolve_by_path_and_kind() {
        let registry = Registry::default();
        let deployments = registry.find("apps", "v1", "deployments").unwrap();
        assert_eq!(deployments.key(), "deployments.apps");
        assert_eq!(deployments.api_version(), "apps/v1");
        assert!(deployments.namespaced && deployments.status);
        assert_eq!(
            registry.find_kind("", "v1", "Namespace").unwrap().plural,
            "namespaces"
        );
        assert!(registry.find("apps", "v1", "pods").is_none());
        let groups = registry.groups();
        assert_eq!(groups[0], (String::new(), vec!["v1".to_owned()]));
        assert!(
            groups
                .iter()
                .any(|(g, v)| g == "autoscaling" && v == &["v2", "v1"])
        );
    }

    /// What `kubectl api-resources` lists for a real cluster of k8s-openapi's newest
    /// version (each registry's names, short names and scope), aggregated APIs aside.
    const REAL: &str = include_str!("testdata/api-resources.txt");

    #[test]
    fn the_builtins_are_what_a_real_cluster_lists() {
        let registry = Registry::default();
        let mut served: Vec<String> = Vec::new();
        for (group, versions) in registry.groups() {
            // kubectl lists each group's preferred (first) version only.
            for t in registry
                .all()
                .iter()
                .filter(|t| t.group == group && t.version == versions[0])
            {
                served.push(format!(
                    "{} {} {} {} {}",
                    t.plural,
                    if t.short_names.is_empty() {
                        "-".to_owned()
                    } else {
                        t.short_names.join(",")
                    },
                    t.api_version(),
                    t.namespaced,
                    t.kind
                ));
            }
        }
        let mut real: Vec<String> = REAL
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        served.sort();
        real.sort();
        assert_eq!(served, real);
    }

    #[test]
    fn every_fact_is_of_a_served_kind_and_categories_are_real() {
        let all = Registry::default().all();
        for facts in FACTS {
            assert!(
                all.iter()
                    .any(|t| t.group == facts.group && t.kind == facts.kind),
                "{} {} is not served",
                facts.group,
                facts.kind
            );
        }
        let in_all: Vec<&str> = all
            .iter()
            .filter(|t| t.categories.contains(&"all".to_owned()))
            .map(|t| t.plural.as_str())
            .collect();
        assert_eq!(
            in_all,
            [
                "pods",
                "services",
                "replicationcontrollers",
                "deployments",
                "replicasets",
                "statefulsets",
                "daemonsets",
                "jobs",
                "cronjobs",
                "horizontalpodautoscalers",
                "horizontalpodautoscalers"
            ]
        );
        let namespaces = all.iter().find(|t| t.kind == "Namespace").unwrap();
        assert!(!namespaces.verbs.contains(&"deletecollection"));
        assert_eq!(namespaces.names, NameRule::Label);
    }

    #[test]
    fn a_crd_adds_and_removes_its_types() {
        let registry = Registry::default();
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
                     "versions": [{"name": "v1", "served": true, "subresources": {"status": {}}},
                                  {"name": "v0", "served": false}]}
        });
        let types = from_crd(&crd).unwrap();
        assert_eq!(types.len(), 1);
        assert_eq!(types[0].singular, "widget");
        registry.set_custom("example.com", "widgets", types);
        let widget = registry.find("example.com", "v1", "widgets").unwrap();
        assert!(widget.status && widget.custom);
        registry.set_custom("example.com", "widgets", Vec::new());
        assert!(registry.find("example.com", "v1", "widgets").is_none());
    }

    #[test]
    fn a_crd_without_names_is_refused_naming_the_field() {
        let error = from_crd(&json!({"spec": {"group": "g"}})).unwrap_err();
        assert!(error.starts_with("spec.names.kind"), "{error}");
    }
}
