//! What the API server's admission plugins decide about a new pod, for a pod created over
//! the API and for one a controller creates (both go through [`create_pod`] or [`pod`]),
//! in their order: the ServiceAccount plugin names the pod's ServiceAccount (`default`
//! when it names none) and refuses the pod when that ServiceAccount does not exist; the
//! LimitRanger gives containers the namespace's default requests and limits (`limits`);
//! then, once the pod has its name, the LimitRanger checks their minimum and maximum and
//! the ResourceQuota plugin charges the pod to the namespace's quotas or refuses it
//! (`quota`). A new PersistentVolumeClaim that names no StorageClass gets the default one.
//!
//! Every write of any resource also goes through the admission webhooks of the cluster's
//! webhook configurations ([`webhooks`]).
//!
//! It owns no state and runs no loop; the `default` ServiceAccount of each namespace is the
//! ServiceAccount controller's (`controllers::serviceaccounts`), the quotas' usage the
//! quota controller's (`controllers::quota`), which this only adds the admitted pod to.

// Kubernetes kind and field names (ServiceAccount) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

mod limits;
mod quantities;
pub mod quota;
pub mod webhooks;

use crate::controllers::objects::{name, namespace, put, str_at};
use crate::controllers::serviceaccounts;
use crate::store::{Object, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// Why a pod was not created: refused by admission, or by the store.
#[derive(Debug)]
pub enum Refused {
    /// Admission refused it: the message after `pods "NAME" is forbidden: `.
    Forbidden {
        pod: String,
        reason: String,
    },
    /// An admission webhook refused it, or could not be called.
    Webhook(crate::errors::ApiError),
    Store(crate::store::StoreError),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Forbidden { pod, reason } => {
                write!(f, "pods \"{pod}\" is forbidden: {reason}")
            }
            Refused::Webhook(error) => write!(f, "{}", error.message),
            Refused::Store(error) => write!(f, "{error}"),
        }
    }
}

/// Admits `pod` (naming its ServiceAccount in its spec, with the namespace's default
/// requests and limits and, if it had only a `generateName`, its name) or says why not.
/// A dry run is checked against the quotas but charges nothing. The caller holds
/// [`Store::quota_usage`] until the pod is stored.
pub fn pod(store: &Store, pod: &mut Value, dry_run: bool) -> Result<(), Refused> {
    service_account(store, pod)?;
    let ns = namespace(pod).to_owned();
    let (ranges, _) = store.list("limitranges", Some(&ns));
    let ranges: Vec<Value> = ranges.iter().map(|r| (**r).clone()).collect();
    limits::apply_defaults(pod, &ranges);
    // Validating plugins see the pod with its generated name.
    if str_at(pod, "/metadata/name").is_empty() {
        let generated = store.generate_name("pods", &ns, str_at(pod, "/metadata/generateName"));
        put(pod, &["metadata", "name"], json!(generated));
    }
    let forbidden = |reason: String| Refused::Forbidden {
        pod: str_at(pod, "/metadata/name").to_owned(),
        reason,
    };
    if let Some(reason) = limits::violations(pod, &ranges) {
        return Err(forbidden(reason));
    }
    charge_quotas(store, &ns, &pod["spec"], dry_run).map_err(forbidden)
}

/// Charges the pod with `spec` to every quota of `ns` (unless it is a dry run), or says
/// which refuses it.
fn charge_quotas(store: &Store, ns: &str, spec: &Value, dry_run: bool) -> Result<(), String> {
    let (quotas, _) = store.list("resourcequotas", Some(ns));
    let quotas: Vec<&Object> = quotas.iter().filter(|q| quota::unscoped(q)).collect();
    let mut admitted: Vec<BTreeMap<String, f64>> = Vec::new();
    for q in &quotas {
        let used = match q.pointer("/status/used") {
            Some(used) => quota::read(used),
            None => crate::controllers::quota::usage(store, q),
        };
        admitted.push(quota::admit(q, &used, spec)?);
    }
    if dry_run {
        return Ok(());
    }
    for (q, used) in quotas.iter().zip(admitted) {
        let _ = store.mutate("resourcequotas", ns, name(q), |q| {
            put(q, &["status", "hard"], q["spec"]["hard"].clone());
            put(q, &["status", "used"], quota::written(&used));
        });
    }
    Ok(())
}

/// The ServiceAccount plugin: names the pod's account, refused when it does not exist.
fn service_account(store: &Store, pod: &mut Value) -> Result<(), Refused> {
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

/// The DefaultStorageClass plugin: a claim that names no class gets the default one.
pub fn claim(store: &Store, claim: &mut Value) {
    if claim["spec"]["storageClassName"].is_null()
        && let Some(class) = crate::controllers::volumes::default_class(store)
    {
        put(claim, &["spec", "storageClassName"], json!(class));
    }
}

/// Admits and stores a pod a controller makes: its creation reaches the admission
/// webhooks as one over the API does.
pub fn create_pod(store: &Store, mut new: Value) -> Result<Object, Refused> {
    let _charging = store.quota_usage();
    pod(store, &mut new, false)?;
    let request = webhooks::Request {
        operation: "CREATE",
        group: "",
        version: "v1",
        resource: "pods",
        subresource: "",
        namespace: namespace(&new),
        object: Some(&new),
        old: None,
        dry_run: false,
    };
    webhooks::admit(store, &request).map_err(Refused::Webhook)?;
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

    /// A store whose namespace `shop` has a quota `pods` of one pod.
    fn with_quota_of_one_pod() -> Store {
        let store = Store::default();
        store
            .create(
                "resourcequotas",
                json!({"metadata": {"name": "pods", "namespace": "shop"},
                       "spec": {"hard": {"pods": "1"}}}),
            )
            .unwrap();
        store
    }

    #[test]
    fn quotas_are_charged_and_refuse_pods_by_their_generated_name() {
        let store = with_quota_of_one_pod();
        create_pod(&store, new_pod(None)).unwrap();
        let quota = store.get("resourcequotas", "shop", "pods").unwrap();
        assert_eq!(quota["status"]["used"]["pods"], "1");
        let refused = create_pod(&store, new_pod(None)).unwrap_err().to_string();
        assert!(
            refused.starts_with("pods \"web-6d4cf56db6-")
                && refused.ends_with(
                    "\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, \
                     limited: pods=1"
                )
                && refused.len()
                    == "pods \"web-6d4cf56db6-xxxxx\" is forbidden: exceeded quota: \
                     pods, requested: pods=1, used: pods=1, limited: pods=1"
                        .len(),
            "{refused}"
        );
    }

    #[test]
    fn a_dry_run_is_checked_against_quotas_but_charges_nothing() {
        let store = with_quota_of_one_pod();
        for _ in 0..2 {
            pod(&store, &mut new_pod(None), true).unwrap();
        }
        let quota = store.get("resourcequotas", "shop", "pods").unwrap();
        assert!(quota["status"]["used"].is_null(), "{quota}");
        create_pod(&store, new_pod(None)).unwrap();
        let refused = pod(&store, &mut new_pod(None), true).unwrap_err();
        assert!(refused.to_string().contains("exceeded quota"), "{refused}");
    }
}
