//! Dynamic admission: the webhooks of every MutatingWebhookConfiguration and
//! ValidatingWebhookConfiguration a write reaches, and what the API server answers for each.
//!
//! The simulation does not run a webhook's code. A matched webhook "answers" when it can
//! be reached: a `clientConfig.url` webhook always, a `clientConfig.service` one once the
//! Service has a ready endpoint in its EndpointSlices. An answer allows the request, unless
//! the configuration carries the [`DENY`] annotation, whose value becomes the denial's
//! message. A webhook that cannot be reached fails the request as kube-apiserver words it
//! (500 InternalError, "failed calling webhook ...") with `failurePolicy: Fail`, the v1
//! default, and is skipped with `Ignore`. `matchConditions` (CEL) are not evaluated, and
//! `matchPolicy: Equivalent` is treated as `Exact`.
//!
//! Mutating webhooks are consulted before validating ones; the first refusal ends the request.

use crate::controllers::objects::{selects, str_at};
use crate::errors::ApiError;
use crate::store::Store;
use serde_json::{Value, json};

/// Annotation of a webhook configuration: its reachable webhooks deny what they match, with
/// this message (the webhook's own code would decide; the simulator does not run it).
pub const DENY: &str = "sim.kos.dev/deny";

const GROUP: &str = "admissionregistration.k8s.io";
const CONFIGURATIONS: [&str; 2] = [
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
];
const SLICES: &str = "endpointslices.discovery.k8s.io";

/// One write as admission sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub operation: &'a str,
    pub group: &'a str,
    pub version: &'a str,
    /// The resource's plural name.
    pub resource: &'a str,
    /// `""` for the object itself.
    pub subresource: &'a str,
    /// `""` for cluster-scoped objects.
    pub namespace: &'a str,
    /// The object written (`None` for a deletion).
    pub object: Option<&'a Value>,
    /// The object before the write (`None` for a creation).
    pub old: Option<&'a Value>,
    pub dry_run: bool,
}

impl Request<'_> {
    fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.resource == "namespaces"
    }

    /// The labels the `objectSelector` is matched against: the new object's and the old's.
    fn labels(&self) -> impl Iterator<Item = &Value> {
        [self.object, self.old]
            .into_iter()
            .flatten()
            .map(|o| &o["metadata"]["labels"])
    }
}

/// Webhook configurations (and the admission policies beside them) are never sent to
/// webhooks: a broken webhook could otherwise never be removed.
pub fn exempt(request: &Request) -> bool {
    request.group == GROUP
        && matches!(
            request.resource,
            "mutatingwebhookconfigurations"
                | "validatingwebhookconfigurations"
                | "validatingadmissionpolicies"
                | "validatingadmissionpolicybindings"
                | "mutatingadmissionpolicies"
                | "mutatingadmissionpolicybindings"
        )
}

/// Whether a list of a rule (`operations`, `apiGroups`, ...) names `value` or `*`.
fn lists(list: &Value, value: &str) -> bool {
    list.as_array()
        .is_some_and(|items| items.iter().any(|i| i == "*" || i == value))
}

/// Whether a `resources` entry (`pods`, `*`, `deployments/status`, `*/*`) names the
/// request's resource and subresource: a bare name only matches the object itself.
fn names_resource(entry: &str, request: &Request) -> bool {
    let (resource, sub) = entry.split_once('/').unwrap_or((entry, ""));
    (resource == "*" || resource == request.resource) && (sub == "*" || sub == request.subresource)
}

/// Whether one rule of a webhook matches the request. A Namespace is cluster-scoped.
pub fn rule_matches(rule: &Value, request: &Request) -> bool {
    let cluster_scoped = request.namespace.is_empty() || request.is_namespace();
    let scope = match rule["scope"].as_str().unwrap_or("*") {
        "Cluster" => cluster_scoped,
        "Namespaced" => !cluster_scoped,
        _ => true,
    };
    lists(&rule["operations"], request.operation)
        && lists(&rule["apiGroups"], request.group)
        && lists(&rule["apiVersions"], request.version)
        && rule["resources"].as_array().is_some_and(|r| {
            r.iter()
                .any(|e| names_resource(e.as_str().unwrap_or(""), request))
        })
        && scope
}

/// Whether the webhook's `namespaceSelector` lets the request through: a Namespace is
/// matched by its own labels, other cluster-scoped objects always are, and a namespaced
/// object by the labels of its Namespace (`namespace_labels`).
pub fn namespace_matches(webhook: &Value, request: &Request, namespace_labels: &Value) -> bool {
    let selector = &webhook["namespaceSelector"];
    if request.is_namespace() {
        return request.labels().any(|labels| selects(selector, labels));
    }
    request.namespace.is_empty() || selects(selector, namespace_labels)
}

/// Whether the webhook's `objectSelector` matches the new or the old object's labels.
pub fn object_matches(webhook: &Value, request: &Request) -> bool {
    request
        .labels()
        .any(|labels| selects(&webhook["objectSelector"], labels))
}

/// Whether `webhook` is called for the request.
pub fn webhook_matches(webhook: &Value, request: &Request, namespace_labels: &Value) -> bool {
    webhook["rules"]
        .as_array()
        .is_some_and(|rules| rules.iter().any(|rule| rule_matches(rule, request)))
        && namespace_matches(webhook, request, namespace_labels)
        && object_matches(webhook, request)
}

/// The URL the API server posts the review to, as its error messages print it.
pub fn url(webhook: &Value) -> String {
    let config = &webhook["clientConfig"];
    let timeout = webhook["timeoutSeconds"].as_i64().unwrap_or(10);
    let base = if let Some(url) = config["url"].as_str() {
        url.to_owned()
    } else {
        let service = &config["service"];
        let path = match str_at(service, "/path") {
            "" => "/",
            path => path,
        };
        format!(
            "https://{}.{}.svc:{}{path}",
            str_at(service, "/name"),
            str_at(service, "/namespace"),
            service["port"].as_i64().unwrap_or(443)
        )
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}timeout={timeout}s")
}

/// Why a webhook's Service cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    ServiceNotFound,
    NoEndpoints,
}

/// The 500 kube-apiserver answers when it cannot call a webhook whose failure policy is
/// `Fail`.
pub fn call_failed(webhook: &Value, why: Unreachable) -> ApiError {
    let service = str_at(webhook, "/clientConfig/service/name");
    let reason = match why {
        Unreachable::ServiceNotFound => format!("service \"{service}\" not found"),
        Unreachable::NoEndpoints => format!("no endpoints available for service \"{service}\""),
    };
    let error = format!(
        "failed calling webhook \"{}\": failed to call webhook: Post \"{}\": {reason}",
        str_at(webhook, "/name"),
        url(webhook)
    );
    ApiError::new(
        500,
        "InternalError",
        format!("Internal error occurred: {error}"),
    )
    .with_details(json!({"causes": [{"message": error}]}))
}

/// The 400 for a dry run reaching a webhook that may have side effects.
pub fn no_dry_run(webhook: &Value) -> ApiError {
    ApiError::bad_request(format!(
        "admission webhook \"{}\" does not support dry run",
        str_at(webhook, "/name")
    ))
}

/// A reachable webhook's denial (the [`DENY`] annotation), as controller-runtime webhooks
/// answer it.
pub fn denied(webhook: &Value, message: &str) -> ApiError {
    ApiError::new(
        403,
        "Forbidden",
        format!(
            "admission webhook \"{}\" denied the request: {message}",
            str_at(webhook, "/name")
        ),
    )
}

/// Whether a dry run may reach the webhook: only when it declares no side effects.
fn supports_dry_run(webhook: &Value) -> bool {
    matches!(
        webhook["sideEffects"].as_str(),
        Some("None" | "NoneOnDryRun")
    )
}

/// What calling one matched webhook gives, given whether it can be reached.
pub fn outcome(
    webhook: &Value,
    request: &Request,
    reachable: Result<(), Unreachable>,
    deny: Option<&str>,
) -> Result<(), ApiError> {
    if request.dry_run && !supports_dry_run(webhook) {
        return Err(no_dry_run(webhook));
    }
    match reachable {
        Ok(()) => deny.map_or(Ok(()), |message| Err(denied(webhook, message))),
        Err(_) if webhook["failurePolicy"] == "Ignore" => Ok(()),
        Err(why) => Err(call_failed(webhook, why)),
    }
}

/// Whether the webhook's Service exists and has a ready endpoint (`url` webhooks are
/// always reachable).
fn reachable(store: &Store, webhook: &Value) -> Result<(), Unreachable> {
    let service = &webhook["clientConfig"]["service"];
    if service.is_null() {
        return Ok(());
    }
    let (ns, service) = (str_at(service, "/namespace"), str_at(service, "/name"));
    if store.get("services", ns, service).is_none() {
        return Err(Unreachable::ServiceNotFound);
    }
    let (slices, _) = store.list(SLICES, Some(ns));
    let ready = slices
        .iter()
        .filter(|s| str_at(s, "/metadata/labels/kubernetes.io~1service-name") == service)
        .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
        .any(|e| e["conditions"]["ready"] != false);
    if ready {
        Ok(())
    } else {
        Err(Unreachable::NoEndpoints)
    }
}

/// Calls every webhook the request reaches, mutating configurations first; the first
/// refusal is the request's.
pub fn admit(store: &Store, request: &Request) -> Result<(), ApiError> {
    if exempt(request) {
        return Ok(());
    }
    let namespace_labels = if request.namespace.is_empty() {
        Value::Null
    } else {
        store
            .get("namespaces", "", request.namespace)
            .map(|ns| ns["metadata"]["labels"].clone())
            .unwrap_or_default()
    };
    for key in CONFIGURATIONS {
        let (configurations, _) = store.list(key, None);
        for configuration in &configurations {
            let deny = configuration["metadata"]["annotations"][DENY].as_str();
            let webhooks = configuration["webhooks"].as_array();
            for webhook in webhooks.into_iter().flatten() {
                if webhook_matches(webhook, request, &namespace_labels) {
                    outcome(webhook, request, reachable(store, webhook), deny)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_request<'a>(object: &'a Value, operation: &'a str) -> Request<'a> {
        Request {
            operation,
            group: "",
            version: "v1",
            resource: "pods",
            subresource: "",
            namespace: "shop",
            object: Some(object),
            old: None,
            dry_run: false,
        }
    }

    fn webhook(rules: &Value) -> Value {
        json!({"name": "webhook.cert-manager.io", "rules": rules, "sideEffects": "None",
               "clientConfig": {"service": {"name": "cert-manager-webhook",
                                            "namespace": "cert-manager", "path": "/validate"}}})
    }

    fn rule(operations: &[&str], groups: &[&str], resources: &[&str]) -> Value {
        json!({"operations": operations, "apiGroups": groups, "apiVersions": ["*"],
               "resources": resources})
    }

    #[test]
    fn rules_match_operations_groups_resources_and_subresources() {
        let pod = json!({"metadata": {"name": "web", "labels": {"app": "web"}}});
        let create = pod_request(&pod, "CREATE");
        assert!(rule_matches(&rule(&["CREATE"], &[""], &["pods"]), &create));
        assert!(rule_matches(&rule(&["*"], &["*"], &["*"]), &create));
        assert!(!rule_matches(&rule(&["UPDATE"], &[""], &["pods"]), &create));
        assert!(!rule_matches(
            &rule(&["CREATE"], &["apps"], &["pods"]),
            &create
        ));
        assert!(!rule_matches(
            &rule(&["CREATE"], &[""], &["services"]),
            &create
        ));
        let status = Request {
            subresource: "status",
            ..pod_request(&pod, "UPDATE")
        };
        // A bare resource (and `*`) is the object itself, never a subresource.
        assert!(!rule_matches(&rule(&["*"], &[""], &["pods"]), &status));
        assert!(!rule_matches(&rule(&["*"], &[""], &["*"]), &status));
        assert!(rule_matches(
            &rule(&["*"], &[""], &["pods/status"]),
            &status
        ));
        assert!(rule_matches(&rule(&["*"], &[""], &["*/*"]), &status));
        assert!(rule_matches(&rule(&["*"], &[""], &["pods/*"]), &status));
        assert!(rule_matches(&rule(&["*"], &[""], &["*/status"]), &status));
    }

    #[test]
    fn scopes_treat_namespaces_as_cluster_scoped() {
        let object = json!({"metadata": {"name": "shop"}});
        let scoped = |scope: &str| {
            let mut rule = rule(&["*"], &["*"], &["*"]);
            rule["scope"] = json!(scope);
            rule
        };
        let pod = pod_request(&object, "CREATE");
        let namespace = Request {
            resource: "namespaces",
            namespace: "shop",
            ..pod
        };
        let node = Request {
            resource: "nodes",
            namespace: "",
            ..pod
        };
        assert!(rule_matches(&scoped("Namespaced"), &pod));
        assert!(!rule_matches(&scoped("Cluster"), &pod));
        assert!(rule_matches(&scoped("Cluster"), &namespace));
        assert!(!rule_matches(&scoped("Namespaced"), &namespace));
        assert!(rule_matches(&scoped("Cluster"), &node));
        assert!(rule_matches(&scoped("*"), &node));
    }

    #[test]
    fn selectors_match_the_namespace_and_the_new_or_old_object() {
        let mut hook = webhook(&json!([rule(&["*"], &["*"], &["*"])]));
        hook["namespaceSelector"] = json!({"matchExpressions": [
            {"key": "webhooks", "operator": "NotIn", "values": ["off"]}]});
        hook["objectSelector"] = json!({"matchLabels": {"app": "web"}});
        let web = json!({"metadata": {"labels": {"app": "web"}}});
        let other = json!({"metadata": {"labels": {"app": "db"}}});
        let on = json!({"team": "a"});
        let off = json!({"webhooks": "off"});
        assert!(webhook_matches(&hook, &pod_request(&web, "CREATE"), &on));
        assert!(!webhook_matches(&hook, &pod_request(&web, "CREATE"), &off));
        assert!(!webhook_matches(&hook, &pod_request(&other, "CREATE"), &on));
        // An update that takes the label away still reaches the webhook (old object).
        let relabel = Request {
            old: Some(&web),
            ..pod_request(&other, "UPDATE")
        };
        assert!(webhook_matches(&hook, &relabel, &on));
        // Cluster-scoped objects other than Namespaces are never exempted by namespace.
        let node = Request {
            resource: "nodes",
            namespace: "",
            ..pod_request(&web, "CREATE")
        };
        assert!(webhook_matches(&hook, &node, &Value::Null));
        // A Namespace is matched by its own labels.
        let namespace = json!({"metadata": {"labels": {"webhooks": "off", "app": "web"}}});
        let creating = Request {
            resource: "namespaces",
            namespace: "",
            ..pod_request(&namespace, "CREATE")
        };
        assert!(!webhook_matches(&hook, &creating, &Value::Null));
    }

    #[test]
    fn webhook_configurations_are_never_intercepted() {
        let object = json!({});
        let configuration = Request {
            group: "admissionregistration.k8s.io",
            resource: "validatingwebhookconfigurations",
            namespace: "",
            ..pod_request(&object, "DELETE")
        };
        assert!(exempt(&configuration));
        assert!(!exempt(&pod_request(&object, "DELETE")));
    }

    #[test]
    fn unreachable_webhooks_fail_as_kube_apiserver_words_it_unless_ignored() {
        let mut hook = webhook(&json!([]));
        hook["timeoutSeconds"] = json!(30);
        let object = json!({});
        let request = pod_request(&object, "CREATE");
        let error = outcome(&hook, &request, Err(Unreachable::NoEndpoints), None).unwrap_err();
        assert_eq!((error.code, error.reason), (500, "InternalError"));
        assert_eq!(
            error.message,
            "Internal error occurred: failed calling webhook \"webhook.cert-manager.io\": \
             failed to call webhook: Post \"https://cert-manager-webhook.cert-manager.svc:443\
             /validate?timeout=30s\": no endpoints available for service \"cert-manager-webhook\""
        );
        let missing = outcome(&hook, &request, Err(Unreachable::ServiceNotFound), None);
        assert!(
            missing
                .unwrap_err()
                .message
                .ends_with("?timeout=30s\": service \"cert-manager-webhook\" not found")
        );
        hook["failurePolicy"] = json!("Ignore");
        assert!(outcome(&hook, &request, Err(Unreachable::NoEndpoints), None).is_ok());
        assert!(outcome(&hook, &request, Ok(()), None).is_ok());
        let denied = outcome(&hook, &request, Ok(()), Some("no")).unwrap_err();
        assert_eq!(
            (denied.code, denied.message.as_str()),
            (
                403,
                "admission webhook \"webhook.cert-manager.io\" denied the request: no"
            )
        );
    }

    #[test]
    fn dry_runs_are_refused_by_webhooks_with_side_effects() {
        let mut hook = webhook(&json!([]));
        let object = json!({});
        let request = Request {
            dry_run: true,
            ..pod_request(&object, "CREATE")
        };
        assert!(outcome(&hook, &request, Ok(()), None).is_ok());
        for effects in [json!("Some"), json!("Unknown"), Value::Null] {
            hook["sideEffects"] = effects;
            let error = outcome(&hook, &request, Ok(()), None).unwrap_err();
            assert_eq!(
                (error.code, error.message.as_str()),
                (
                    400,
                    "admission webhook \"webhook.cert-manager.io\" does not support dry run"
                )
            );
        }
    }

    #[test]
    fn url_webhooks_print_their_url_and_service_ones_default_port_and_path() {
        let by_url = json!({"clientConfig": {"url": "https://hooks.example.com/check"}});
        assert_eq!(url(&by_url), "https://hooks.example.com/check?timeout=10s");
        let bare =
            json!({"clientConfig": {"service": {"name": "s", "namespace": "n", "port": 8443}}});
        assert_eq!(url(&bare), "https://s.n.svc:8443/?timeout=10s");
    }

    #[test]
    fn a_service_webhook_answers_once_its_service_has_a_ready_endpoint() {
        let store = Store::default();
        let hook = webhook(&json!([]));
        assert_eq!(reachable(&store, &hook), Err(Unreachable::ServiceNotFound));
        store
            .create(
                "services",
                json!({"metadata": {"name": "cert-manager-webhook", "namespace": "cert-manager"}}),
            )
            .unwrap();
        assert_eq!(reachable(&store, &hook), Err(Unreachable::NoEndpoints));
        let slice = |ready: bool| {
            json!({"metadata": {"generateName": "cert-manager-webhook-", "namespace": "cert-manager",
                                "labels": {"kubernetes.io/service-name": "cert-manager-webhook"}},
                   "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": ready}}]})
        };
        store.create(SLICES, slice(false)).unwrap();
        assert_eq!(reachable(&store, &hook), Err(Unreachable::NoEndpoints));
        store.create(SLICES, slice(true)).unwrap();
        assert_eq!(reachable(&store, &hook), Ok(()));
    }
}
