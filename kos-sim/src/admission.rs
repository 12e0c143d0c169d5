//! What the API server's admission plugins decide about a new pod, for a pod created over
//! the API and for one a controller creates (both go through [`create_pod`] or [`pod`]):
//! the ServiceAccount plugin names the pod's ServiceAccount (`default` when it names none)
//! and refuses the pod when that ServiceAccount does not exist.
//!
//! It owns no state and runs no loop; the `default` ServiceAccount of each namespace is the
//! ServiceAccount controller's (`controllers::serviceaccounts`).

// Kubernetes kind and field names (ServiceAccount) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

use crate::controllers::objects::{namespace, put, str_at};
use crate::controllers::serviceaccounts;
use crate::store::{Object, Store};
use serde_json::{Value, json};
use std::fmt;

/// Why a pod was not created: refused by admission, or by the store.
#[derive(Debug)]
pub enum Refused {
    /// Admission refused it: the message after `pods "NAME" is forbidden: `.
    Forbidden {
        pod: String,
        reason: String,
    },
    Store(crate::store::StoreError),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Forbidden { pod, reason } => {
                write!(f, "pods \"{pod}\" is forbidden: {reason}")
            }
            Refused::Store(error) => write!(f, "{error}"),
        }
    }
}

/// Admits `pod` (naming its ServiceAccount in its spec) or says why not.
pub fn pod(store: &Store, pod: &mut Value) -> Result<(), Refused> {
    let ns = namespace(pod).to_owned();
    let account = match (
        str_at(pod, "/spec/serviceAccountName"),
        str_at(pod, "/spec/serviceAccount"),
    ) {
        ("", "") => serviceaccounts::DEFAULT,
        ("", deprecated) => deprecated,
        (name, _) => name,
    }
    .to_owned();
    // The controller makes `default` as a namespace appears; a pod arriving in the same
    // instant finds it made here rather than racing it.
    let found = store.get("serviceaccounts", &ns, &account).is_some()
        || (account == serviceaccounts::DEFAULT && serviceaccounts::ensure_default(store, &ns));
    if !found {
        let name = match str_at(pod, "/metadata/name") {
            "" => str_at(pod, "/metadata/generateName"),
            name => name,
        };
        return Err(Refused::Forbidden {
            pod: name.to_owned(),
            reason: format!(
                "error looking up service account {ns}/{account}: serviceaccount \"{account}\" not found"
            ),
        });
    }
    put(pod, &["spec", "serviceAccountName"], json!(account));
    put(pod, &["spec", "serviceAccount"], json!(account));
    Ok(())
}

/// Admits and stores a pod a controller makes.
pub fn create_pod(store: &Store, mut new: Value) -> Result<Object, Refused> {
    pod(store, &mut new)?;
    store.create("pods", new).map_err(Refused::Store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_pod(account: Option<&str>) -> Value {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "web-6d4cf56db6-", "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}});
        if let Some(account) = account {
            pod["spec"]["serviceAccountName"] = json!(account);
        }
        pod
    }

    #[test]
    fn a_pod_naming_a_missing_service_account_is_forbidden() {
        let store = Store::default();
        let refused = create_pod(&store, new_pod(Some("builder"))).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "pods \"web-6d4cf56db6-\" is forbidden: error looking up service account \
             shop/builder: serviceaccount \"builder\" not found"
        );
        store
            .create(
                "serviceaccounts",
                json!({"metadata": {"name": "builder", "namespace": "shop"}}),
            )
            .unwrap();
        let created = create_pod(&store, new_pod(Some("builder"))).unwrap();
        assert_eq!(created["spec"]["serviceAccount"], "builder");
    }

    #[test]
    fn a_pod_naming_none_runs_as_default() {
        let store = Store::default();
        let created = create_pod(&store, new_pod(None)).unwrap();
        assert_eq!(created["spec"]["serviceAccountName"], "default");
        assert!(store.get("serviceaccounts", "shop", "default").is_some());
    }
}
