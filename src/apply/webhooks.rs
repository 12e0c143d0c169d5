//! Which objects of a batch an admission webhook of the same batch intercepts: those must
//! wait until the webhook's Service can answer, or the API server refuses them ("failed
//! calling webhook …").
//!
//! Pure: the batch's objects in, webhooks and matches out. The API server's own matching
//! (rules, scope, objectSelector, namespaceSelector) is followed for the requests kos sends
//! (server-side apply: a CREATE or an UPDATE), with one difference: a namespaceSelector is
//! judged against the labels of the object's Namespace only when the batch holds that
//! Namespace; otherwise kos cannot know its labels without asking and assumes it matches,
//! which at worst makes an object wait for a webhook that would not have been called.

use super::text;
use serde_json::{Map, Value};

/// The Service a webhook is called through (`clientConfig.service`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
}

/// One webhook of a `ValidatingWebhookConfiguration` or `MutatingWebhookConfiguration` of the batch that kos waits
/// for: its failurePolicy is Fail (when it is Ignore the API server lets requests through
/// without it) and it is called through a Service (a `url` webhook has no endpoints to
/// wait for).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The webhook's own name (`webhook.cert-manager.io`).
    pub name: String,
    pub service: ServiceRef,
    rules: Vec<Value>,
    namespace_selector: Option<Value>,
    object_selector: Option<Value>,
}

/// What the matching needs to know of one object of the batch: its resource as the API
/// server serves it (from discovery, or from a CRD of the batch) and the object itself.
pub struct Target<'a> {
    pub object: &'a Value,
    pub group: &'a str,
    pub version: &'a str,
    /// The plural resource name (`issuers`).
    pub resource: &'a str,
    /// Its namespace (the default one when it names none); `None`: cluster-scoped.
    pub namespace: Option<&'a str>,
}

const CONFIGURATION_KINDS: [&str; 2] = [
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

/// The webhooks of the batch's configurations that kos waits for.
pub fn webhooks(objects: &[&Value]) -> Vec<Webhook> {
    objects
        .iter()
        .filter(|o| CONFIGURATION_KINDS.contains(&text(o, "/kind")))
        .filter_map(|o| o.get("webhooks").and_then(Value::as_array))
        .flatten()
        .filter(|hook| text(hook, "/failurePolicy") != "Ignore")
        .filter_map(|hook| {
            let service = hook.pointer("/clientConfig/service")?;
            Some(Webhook {
                name: text(hook, "/name").to_owned(),
                service: ServiceRef {
                    namespace: text(service, "/namespace").to_owned(),
                    name: text(service, "/name").to_owned(),
                },
                rules: array(hook, "/rules").to_vec(),
                namespace_selector: hook.get("namespaceSelector").cloned(),
                object_selector: hook.get("objectSelector").cloned(),
            })
        })
        .collect()
}

/// The first of `webhooks` that intercepts `target` when kos applies it; `batch` is every
/// object of the batch (for the labels of its Namespaces). Webhook configurations are never
/// intercepted: the API server exempts them, or no webhook could ever be fixed.
pub fn interceptor<'w>(
    webhooks: &'w [Webhook],
    target: &Target<'_>,
    batch: &[&Value],
) -> Option<&'w Webhook> {
    if CONFIGURATION_KINDS.contains(&text(target.object, "/kind")) {
        return None;
    }
    webhooks.iter().find(|hook| hook.intercepts(target, batch))
}

impl Webhook {
    fn intercepts(&self, target: &Target<'_>, batch: &[&Value]) -> bool {
        self.rules.iter().any(|rule| rule_matches(rule, target))
            && selects(self.object_selector.as_ref(), labels(target.object))
            && self.namespace_matches(target, batch)
    }

    /// The API server's rule: a Namespace is judged by its own labels, any other
    /// cluster-scoped object always matches, a namespaced object by its Namespace's labels.
    fn namespace_matches(&self, target: &Target<'_>, batch: &[&Value]) -> bool {
        let Some(selector) = self.namespace_selector.as_ref() else {
            return true;
        };
        if text(target.object, "/kind") == "Namespace" {
            return selects(Some(selector), labels(target.object));
        }
        let Some(namespace) = target.namespace else {
            return true;
        };
        let own = batch
            .iter()
            .find(|o| text(o, "/kind") == "Namespace" && text(o, "/metadata/name") == namespace);
        own.is_none_or(|ns| selects(Some(selector), labels(ns)))
    }
}

/// Whether one rule of a webhook covers applying `target` (a CREATE or an UPDATE of the
/// resource itself, not a subresource).
fn rule_matches(rule: &Value, target: &Target<'_>) -> bool {
    let any = |pointer: &str, wanted: &[&str]| {
        array(rule, pointer)
            .iter()
            .filter_map(Value::as_str)
            .any(|entry| wanted.contains(&entry))
    };
    let scope = match text(rule, "/scope") {
        "Cluster" => target.namespace.is_none(),
        "Namespaced" => target.namespace.is_some(),
        _ => true,
    };
    scope
        && any("/operations", &["CREATE", "UPDATE", "*"])
        && any("/apiGroups", &[target.group, "*"])
        && any("/apiVersions", &[target.version, "*"])
        && any("/resources", &[target.resource, "*", "*/*"])
}

/// Whether a label selector (matchLabels, matchExpressions) selects `labels`; none selects
/// everything, as does an empty one.
fn selects(selector: Option<&Value>, labels: Option<&Map<String, Value>>) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    let wanted = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == value.as_str());
    wanted
        && array(selector, "/matchExpressions")
            .iter()
            .all(|expression| {
                let value = label(text(expression, "/key"));
                let listed = || {
                    array(expression, "/values")
                        .iter()
                        .any(|v| v.as_str().is_some() && v.as_str() == value)
                };
                match text(expression, "/operator") {
                    "In" => listed(),
                    "NotIn" => !listed(),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    // An operator the API server would have refused: it selects nothing.
                    _ => false,
                }
            })
}

fn labels(object: &Value) -> Option<&Map<String, Value>> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
}

fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn configuration(kind: &str, hook: Value) -> Value {
        let mut configuration = json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind, "metadata": {"name": "cert-manager-webhook"}});
        configuration["webhooks"] = Value::Array(vec![hook]);
        configuration
    }

    fn hook(rules: Value) -> Value {
        let mut hook = json!({"name": "webhook.cert-manager.io", "failurePolicy": "Fail",
               "clientConfig": {"service": {"namespace": "cert-manager",
                                            "name": "cert-manager-webhook"}}});
        hook["rules"] = rules;
        hook
    }

    fn issuer_rule() -> Value {
        json!([{"operations": ["CREATE", "UPDATE"], "apiGroups": ["cert-manager.io"],
                "apiVersions": ["v1"], "resources": ["issuers"]}])
    }

    fn issuer(labels: Value) -> Value {
        let mut issuer = json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
               "metadata": {"name": "selfsigned", "namespace": "demo"}});
        issuer["metadata"]["labels"] = labels;
        issuer
    }

    fn target(object: &Value) -> Target<'_> {
        Target {
            object,
            group: "cert-manager.io",
            version: "v1",
            resource: "issuers",
            namespace: Some("demo"),
        }
    }

    fn intercepted(hook: Value, object: &Value, others: &[&Value]) -> bool {
        let config = configuration("ValidatingWebhookConfiguration", hook);
        let mut batch = vec![&config, object];
        batch.extend_from_slice(others);
        let found = webhooks(&batch);
        interceptor(&found, &target(object), &batch).is_some()
    }

    #[test]
    fn a_webhook_names_its_service() {
        let config = configuration("MutatingWebhookConfiguration", hook(issuer_rule()));
        let found = webhooks(&[&config]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "webhook.cert-manager.io");
        assert_eq!(
            found[0].service,
            ServiceRef {
                namespace: "cert-manager".into(),
                name: "cert-manager-webhook".into()
            }
        );
    }

    #[test]
    fn ignore_and_url_webhooks_are_not_waited_for() {
        let mut ignore = hook(issuer_rule());
        ignore["failurePolicy"] = json!("Ignore");
        let mut url = hook(issuer_rule());
        url["clientConfig"] = json!({"url": "https://example.com/validate"});
        let a = configuration("ValidatingWebhookConfiguration", ignore);
        let b = configuration("ValidatingWebhookConfiguration", url);
        assert!(webhooks(&[&a, &b]).is_empty());
        // The v1 default policy is Fail.
        let mut default = hook(issuer_rule());
        default.as_object_mut().unwrap().remove("failurePolicy");
        let c = configuration("ValidatingWebhookConfiguration", default);
        assert_eq!(webhooks(&[&c]).len(), 1);
    }

    #[test]
    fn rules_match_group_version_resource_and_operation() {
        let object = issuer(json!({}));
        assert!(intercepted(hook(issuer_rule()), &object, &[]));
        let wildcard = json!([{"operations": ["*"], "apiGroups": ["*"],
                               "apiVersions": ["*"], "resources": ["*/*"]}]);
        assert!(intercepted(hook(wildcard), &object, &[]));
        for (field, value) in [
            ("operations", json!(["DELETE"])),
            ("apiGroups", json!(["acme.cert-manager.io"])),
            ("apiVersions", json!(["v1alpha2"])),
            ("resources", json!(["certificates"])),
            // Subresources only: not the object kos applies.
            ("resources", json!(["issuers/status"])),
        ] {
            let mut rules = issuer_rule();
            rules[0][field] = value;
            assert!(!intercepted(hook(rules), &object, &[]), "{field}");
        }
    }

    #[test]
    fn scope_separates_namespaced_and_cluster_objects() {
        let object = issuer(json!({}));
        let mut rules = issuer_rule();
        rules[0]["scope"] = json!("Cluster");
        assert!(!intercepted(hook(rules.clone()), &object, &[]));
        rules[0]["scope"] = json!("Namespaced");
        assert!(intercepted(hook(rules), &object, &[]));
    }

    #[test]
    fn the_object_selector_reads_the_object_labels() {
        let mut selective = hook(issuer_rule());
        selective["objectSelector"] = json!({"matchLabels": {"webhook": "on"},
            "matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]});
        assert!(intercepted(
            selective.clone(),
            &issuer(json!({"webhook": "on"})),
            &[]
        ));
        assert!(!intercepted(
            selective.clone(),
            &issuer(json!({"webhook": "off"})),
            &[]
        ));
        assert!(!intercepted(
            selective,
            &issuer(json!({"webhook": "on", "skip": "yes"})),
            &[]
        ));
    }

    #[test]
    fn the_namespace_selector_reads_a_namespace_of_the_batch_or_assumes_a_match() {
        let mut selective = hook(issuer_rule());
        selective["namespaceSelector"] = json!({"matchExpressions": [{"key": "cert-manager.io/disable-validation", "operator": "NotIn", "values": ["true"]}]});
        let object = issuer(json!({}));
        let namespace = |labels: Value| {
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "demo", "labels": labels}})
        };
        let disabled = namespace(json!({"cert-manager.io/disable-validation": "true"}));
        let plain = namespace(json!({}));
        assert!(!intercepted(selective.clone(), &object, &[&disabled]));
        assert!(intercepted(selective.clone(), &object, &[&plain]));
        // A Namespace that is not in the batch: its labels are unknown.
        assert!(intercepted(selective, &object, &[]));
    }

    #[test]
    fn webhook_configurations_are_never_intercepted() {
        let everything = json!([{"operations": ["*"], "apiGroups": ["*"],
                                 "apiVersions": ["*"], "resources": ["*"]}]);
        let config = configuration("ValidatingWebhookConfiguration", hook(everything));
        let batch = [&config];
        let found = webhooks(&batch);
        let itself = Target {
            object: &config,
            group: "admissionregistration.k8s.io",
            version: "v1",
            resource: "validatingwebhookconfigurations",
            namespace: None,
        };
        assert!(interceptor(&found, &itself, &batch).is_none());
    }
}
