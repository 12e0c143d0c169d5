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
}

/// Every verb a served type supports (the simulation serves all of them for every type).
pub const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

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

/// (group, version, kind, plural, short names, namespaced, status, in category `all`)
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
    bool,
    bool,
);

const BUILTINS: &[Builtin] = &[
    ("", "v1", "Pod", "pods", &["po"], true, true, true),
    ("", "v1", "Service", "services", &["svc"], true, true, true),
    (
        "",
        "v1",
        "Endpoints",
        "endpoints",
        &["ep"],
        true,
        false,
        false,
    ),
    (
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        &["cm"],
        true,
        false,
        false,
    ),
    ("", "v1", "Secret", "secrets", &[], true, false, false),
    (
        "",
        "v1",
        "Namespace",
        "namespaces",
        &["ns"],
        false,
        true,
        false,
    ),
    ("", "v1", "Node", "nodes", &["no"], false, true, false),
    ("", "v1", "Event", "events", &["ev"], true, false, false),
    (
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        &["sa"],
        true,
        false,
        false,
    ),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        &["pvc"],
        true,
        true,
        false,
    ),
    (
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        &["pv"],
        false,
        true,
        false,
    ),
    (
        "apps",
        "v1",
        "Deployment",
        "deployments",
        &["deploy"],
        true,
        true,
        true,
    ),
    (
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        &["rs"],
        true,
        true,
        true,
    ),
    (
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        &["sts"],
        true,
        true,
        true,
    ),
    (
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        &["ds"],
        true,
        true,
        true,
    ),
    (
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        &[],
        true,
        false,
        false,
    ),
    ("batch", "v1", "Job", "jobs", &[], true, true, true),
    (
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        &["cj"],
        true,
        true,
        true,
    ),
    (
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        &["ing"],
        true,
        true,
        false,
    ),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        &["pdb"],
        true,
        true,
        false,
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        &["hpa"],
        true,
        true,
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        &[],
        true,
        false,
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        &[],
        true,
        false,
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        &[],
        false,
        false,
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        &[],
        false,
        false,
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        &["crd", "crds"],
        false,
        true,
        false,
    ),
];

fn builtin(entry: &Builtin) -> ResourceType {
    let (group, version, kind, plural, short, namespaced, status, all) = *entry;
    ResourceType {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        short_names: short.iter().map(|s| (*s).to_owned()).collect(),
        namespaced,
        status,
        categories: if all { vec!["all".into()] } else { Vec::new() },
        custom: false,
    }
}

/// The served types. Share it behind an `Arc`.
pub struct Registry {
    types: RwLock<Vec<ResourceType>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            types: RwLock::new(BUILTINS.iter().map(builtin).collect()),
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
                .any(|(g, v)| g == "autoscaling" && v == &["v2"])
        );
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
