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

/// What discovery found of the kind words a command names.
#[derive(Debug, Default)]
pub struct Kinds {
    /// Each word found, and the resource it names.
    pub served: HashMap<String, Served>,
    /// The group-versions that did not answer their discovery request, and why.
    pub unavailable: Vec<(String, String)>,
}

impl Kinds {
    /// One line naming the groups that did not answer, as kubectl warns of them.
    pub fn warning(&self) -> Option<String> {
        (!self.unavailable.is_empty()).then(|| {
            let groups: Vec<String> = self
                .unavailable
                .iter()
                .map(|(group_version, why)| format!("{group_version} ({why})"))
                .collect();
            format!(
                "API groups that did not answer discovery, skipped: {}",
                groups.join(", ")
            )
        })
    }
}

/// Finds the resources that kubectl-style kind `words` name, one group at a time in the
/// server's order (the core group first, then `/apis` as listed: built-in groups before
/// those of CRDs and aggregated APIs), and stops once every word is found — so a group that
/// is not needed is never asked. A group whose discovery fails (an aggregated API whose
/// backend is not ready yet, an `APIService` left by an uninstalled add-on: both common) is
/// skipped and reported in [`Kinds::unavailable`], as kubectl warns and goes on, and it is
/// asked once, not retried: a busy group must not hold up the others.
pub async fn find_kinds(client: &Client, words: &[&str]) -> Result<Kinds, kube::Error> {
    let mut kinds = Kinds::default();
    let mut missing: Vec<&str> = words.to_vec();
    let mut versions = vec![GroupVersion::gv("", "v1")];
    let groups = crate::cluster::retry(|| client.list_api_groups()).await?;
    versions.extend(groups.groups.iter().filter_map(|group| {
        let preferred = group
            .preferred_version
            .as_ref()
            .or(group.versions.first())?;
        preferred.group_version.parse().ok()
    }));
    for gv in versions {
        if missing.is_empty() {
            break;
        }
        if !missing.iter().any(|word| may_name_group(word, &gv.group)) {
            continue;
        }
        match discovery::pinned_group(client, &gv).await {
            Ok(group) => {
                for (resource, caps) in group.recommended_resources() {
                    missing.retain(|word| {
                        let found = names(word, &resource);
                        if found {
                            let served = Served {
                                resource: resource.clone(),
                                namespaced: caps.scope == Scope::Namespaced,
                            };
                            kinds.served.insert((*word).to_owned(), served);
                        }
                        !found
                    });
                }
            }
            Err(error) => kinds
                .unavailable
                .push((gv.api_version(), short_reason(&error))),
        }
    }
    Ok(kinds)
}

/// Whether `word` could name a kind of `group`: unless it names its group
/// (`deployments.apps`), any group may serve it.
fn may_name_group(word: &str, group: &str) -> bool {
    word.split_once('.')
        .is_none_or(|(_, named)| named.eq_ignore_ascii_case(group))
}

/// Why a discovery request failed: the server's code and message, or the error; cleaned
/// and cut, as it comes from the server.
fn short_reason(error: &kube::Error) -> String {
    let text = match error {
        kube::Error::Api(status) => format!("{}: {}", status.code, status.message),
        other => other.to_string(),
    };
    crate::output::safe::clean_bounded(&text, 200)
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
