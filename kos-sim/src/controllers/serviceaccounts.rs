//! The ServiceAccount controller: every namespace that is not terminating has a
//! ServiceAccount `default`, made when the namespace appears (or the account is found
//! missing), as kube-controller-manager makes it. Pods that name no ServiceAccount run as
//! it (`admission`).

use crate::controllers::objects::{name, terminating};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::{Object, Store, StoreError};
use serde_json::json;

/// The ServiceAccount every namespace has.
pub const DEFAULT: &str = "default";

pub struct ServiceAccounts;

impl Controller for ServiceAccounts {
    const PRIMARY: &'static str = "namespaces";
    const CHILD: Option<&'static str> = None;

    fn reconcile(&mut self, ctx: &Ctx, namespace: &Object, _: &[Object]) -> Outcome {
        if !terminating(namespace) {
            ensure_default(&ctx.store, name(namespace));
        }
        Outcome::default()
    }
}

/// Makes the namespace's `default` ServiceAccount unless it exists; whether it exists now.
pub fn ensure_default(store: &Store, namespace: &str) -> bool {
    if store.get("serviceaccounts", namespace, DEFAULT).is_some() {
        return true;
    }
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": DEFAULT, "namespace": namespace}});
    match store.create("serviceaccounts", account) {
        // Made by someone else in between is as good.
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_account_is_made_once() {
        let store = Store::default();
        assert!(ensure_default(&store, "shop"));
        assert!(ensure_default(&store, "shop"));
        let (accounts, _) = store.list("serviceaccounts", Some("shop"));
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0]["metadata"]["name"], "default");
    }
}
