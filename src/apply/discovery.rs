//! Which resource serves a kind: API discovery, asked once per group-version and cached.
//!
//! Only the group-versions in use are fetched (not the whole discovery tree). It must not
//! apply anything.

use kube::Client;
use kube::core::GroupVersion;
use kube::discovery::{self, ApiCapabilities, ApiResource, Scope};
use std::collections::HashMap;

/// A kind as the cluster serves it.
#[derive(Debug, Clone)]
pub struct Served {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// The discovery cache.
pub struct Resolver {
    client: Client,
    /// apiVersion → the resources it serves (empty when the cluster does not serve it).
    cache: HashMap<String, Vec<(ApiResource, ApiCapabilities)>>,
}

impl Resolver {
    pub fn new(client: Client) -> Self {
        Resolver {
            client,
            cache: HashMap::new(),
        }
    }

    /// The resource serving `kind` in `api_version`, or `None` when the cluster does not
    /// serve it.
    pub async fn resolve(
        &mut self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Served>, kube::Error> {
        if !self.cache.contains_key(api_version) {
            let resources = self.fetch(api_version).await?;
            self.cache.insert(api_version.to_owned(), resources);
        }
        Ok(self.cache.get(api_version).and_then(|resources| {
            resources
                .iter()
                .find(|(resource, _)| resource.kind == kind)
                .map(|(resource, caps)| Served {
                    resource: resource.clone(),
                    namespaced: caps.scope == Scope::Namespaced,
                })
        }))
    }

    /// Drops what is known of `api_version`, e.g. once a CRD serving it is Established.
    pub fn forget(&mut self, api_version: &str) {
        self.cache.remove(api_version);
    }

    async fn fetch(
        &self,
        api_version: &str,
    ) -> Result<Vec<(ApiResource, ApiCapabilities)>, kube::Error> {
        let Ok(gv) = api_version.parse::<GroupVersion>() else {
            return Ok(Vec::new());
        };
        match crate::cluster::retry(|| discovery::pinned_group(&self.client, &gv)).await {
            Ok(group) => Ok(group.versioned_resources(&gv.version)),
            // The group-version is not served at all.
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }
}

/// kubectl's short names of the built-in kinds, for `kos watch deploy/web`.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("cm", "configmaps"),
    ("cj", "cronjobs"),
    ("crd", "customresourcedefinitions"),
    ("deploy", "deployments"),
    ("ds", "daemonsets"),
    ("ep", "endpoints"),
    ("hpa", "horizontalpodautoscalers"),
    ("ing", "ingresses"),
    ("no", "nodes"),
    ("ns", "namespaces"),
    ("pdb", "poddisruptionbudgets"),
    ("po", "pods"),
    ("pv", "persistentvolumes"),
    ("pvc", "persistentvolumeclaims"),
    ("rs", "replicasets"),
    ("sa", "serviceaccounts"),
    ("sts", "statefulsets"),
    ("svc", "services"),
];

/// Whether `word` (`Deployment`, `deployment`, `deployments`, `deploy`,
/// `deployments.apps`) names `resource`.
pub fn names(word: &str, resource: &ApiResource) -> bool {
    let word = word.to_ascii_lowercase();
    let (word, group) = match word.split_once('.') {
        Some((word, group)) => (word.to_owned(), Some(group.to_owned())),
        None => (word, None),
    };
    if group.is_some_and(|g| g != resource.group) {
        return false;
    }
    let plural = SHORT_NAMES
        .iter()
        .find(|(short, _)| *short == word)
        .map_or(word.as_str(), |(_, plural)| plural);
    plural == resource.plural || word == resource.kind.to_ascii_lowercase()
}

/// The resource a kubectl-style kind word names, among everything `discovery` found
/// (preferred versions).
pub fn find_kind(discovery: &kube::Discovery, word: &str) -> Option<Served> {
    discovery
        .groups()
        .flat_map(kube::discovery::ApiGroup::recommended_resources)
        .find(|(resource, _)| names(word, resource))
        .map(|(resource, caps)| Served {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;

    #[test]
    fn kind_words_match_kind_plural_short_name_and_group() {
        let deployments = ApiResource::erase::<Deployment>(&());
        for word in [
            "Deployment",
            "deployment",
            "deployments",
            "deploy",
            "deployments.apps",
        ] {
            assert!(names(word, &deployments), "{word}");
        }
        for word in ["deployments.batch", "pod", "dep"] {
            assert!(!names(word, &deployments), "{word}");
        }
    }
}
