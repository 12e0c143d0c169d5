//! The aggregator's availability controller: the `Available` condition of each APIService,
//! with kube-aggregator's reasons and messages. A local group (no `spec.service`) is always
//! available; one served by a Service is available once the Service exists, listens on the
//! APIService's port, and has a ready endpoint for that port in its EndpointSlices
//! (`Passed`). The simulation does not call the Service's discovery endpoint: a ready
//! endpoint stands for a serving one. The API server answers an unavailable group with 503
//! (`api::aggregated`).

use crate::controllers::objects::{conditions_of, name, set_condition, str_at};
use crate::controllers::runner::{Controller, Ctx, Key, Outcome};
use crate::store::{self, Object};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

pub const KEY: &str = "apiservices.apiregistration.k8s.io";
const SLICES: &str = "endpointslices.discovery.k8s.io";
const SERVICE_NAME: &str = "/metadata/labels/kubernetes.io~1service-name";

#[derive(Default)]
pub struct ApiServices {
    /// Service (namespace, name) → the APIServices it backs.
    backed: HashMap<Key, BTreeSet<String>>,
}

/// The `Available` condition's status, reason and message.
#[derive(Debug, PartialEq, Eq)]
pub struct Availability {
    pub status: &'static str,
    pub reason: &'static str,
    pub message: String,
}

impl Availability {
    fn not(reason: &'static str, message: String) -> Self {
        Availability {
            status: "False",
            reason,
            message,
        }
    }
}

/// The Service an APIService names, if any.
fn service_key(apiservice: &Value) -> Option<Key> {
    let service = apiservice["spec"]["service"].as_object()?;
    let text = |field: &str| service.get(field).and_then(Value::as_str).unwrap_or("");
    Some((text("namespace").to_owned(), text("name").to_owned()))
}

/// What kube-aggregator's availability controller concludes from the APIService, its
/// Service (if found) and the Service's EndpointSlices.
pub fn availability(
    apiservice: &Value,
    service: Option<&Value>,
    slices: &[&Value],
) -> Availability {
    let Some((ns, svc)) = service_key(apiservice) else {
        return Availability {
            status: "True",
            reason: "Local",
            message: "Local APIServices are always available".to_owned(),
        };
    };
    let Some(service) = service else {
        return Availability::not(
            "ServiceNotFound",
            format!("service/{svc} in \"{ns}\" is not present"),
        );
    };
    if matches!(str_at(service, "/spec/type"), "" | "ClusterIP") {
        let port = apiservice["spec"]["service"]["port"]
            .as_i64()
            .unwrap_or(443);
        let ports = service["spec"]["ports"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(listening) = ports.iter().find(|p| p["port"].as_i64() == Some(port)) else {
            return Availability::not(
                "ServicePortError",
                format!("service/{svc} in \"{ns}\" is not listening on port {port}"),
            );
        };
        let port_name = str_at(listening, "/name");
        if slices.is_empty() {
            return Availability::not(
                "EndpointsNotFound",
                format!("cannot find endpointslices for service/{svc} in \"{ns}\""),
            );
        }
        if !slices.iter().any(|s| has_ready_endpoint(s, port_name)) {
            return Availability::not(
                "MissingEndpoints",
                format!(
                    "endpointslices for service/{svc} in \"{ns}\" have no addresses with port \
                     name \"{port_name}\""
                ),
            );
        }
    }
    Availability {
        status: "True",
        reason: "Passed",
        message: "all checks passed".to_owned(),
    }
}

/// A slice with a ready endpoint (no condition counts as ready) and the named port.
fn has_ready_endpoint(slice: &Value, port_name: &str) -> bool {
    let list = |field: &str| slice[field].as_array().cloned().unwrap_or_default();
    list("endpoints")
        .iter()
        .any(|e| e["conditions"]["ready"] != false)
        && list("ports")
            .iter()
            .any(|p| str_at(p, "/name") == port_name && p["port"].is_number())
}

/// Whether the APIService's `Available` condition is true.
pub fn available(apiservice: &Value) -> bool {
    crate::controllers::objects::condition_true(apiservice, "Available")
}

impl Controller for ApiServices {
    const PRIMARY: &'static str = KEY;
    const CHILD: Option<&'static str> = None;
    const WATCHES: &'static [&'static str] = &["services", SLICES];

    fn reconcile(&mut self, ctx: &Ctx, apiservice: &Object, _: &[Object]) -> Outcome {
        self.forget(apiservice);
        let service = service_key(apiservice);
        let found = service
            .as_ref()
            .and_then(|(ns, svc)| ctx.store.get("services", ns, svc));
        let (slices, _) = match &service {
            Some((ns, _)) => ctx.store.list(SLICES, Some(ns)),
            None => (Vec::new(), 0),
        };
        let slices: Vec<&Value> = slices
            .iter()
            .map(|s| &**s)
            .filter(|s| {
                service
                    .as_ref()
                    .is_some_and(|k| str_at(s, SERVICE_NAME) == k.1)
            })
            .collect();
        if let Some(key) = service {
            self.backed
                .entry(key)
                .or_default()
                .insert(name(apiservice).to_owned());
        }
        let verdict = availability(apiservice, found.as_deref(), &slices);
        let mut conditions = conditions_of(apiservice);
        let condition = json!({"type": "Available", "status": verdict.status,
                               "reason": verdict.reason, "message": verdict.message});
        set_condition(&mut conditions, condition, &store::now());
        // Unchanged conditions leave the object as it is (the store records no change).
        let _ = ctx.store.mutate(KEY, "", name(apiservice), |o| {
            o["status"]["conditions"] = json!(conditions);
        });
        Outcome::default()
    }

    fn forget(&mut self, apiservice: &Object) {
        let own = name(apiservice);
        self.backed.retain(|_, names| {
            names.remove(own);
            !names.is_empty()
        });
    }

    fn observe(&mut self, resource: &str, object: &Object, _gone: bool) -> Vec<Key> {
        let service = if resource == SLICES {
            str_at(object, SERVICE_NAME)
        } else {
            name(object)
        };
        let key = (
            str_at(object, "/metadata/namespace").to_owned(),
            service.to_owned(),
        );
        self.backed
            .get(&key)
            .into_iter()
            .flatten()
            .map(|apiservice| (String::new(), apiservice.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics_apiservice() -> Value {
        json!({"metadata": {"name": "v1beta1.metrics.k8s.io"},
               "spec": {"group": "metrics.k8s.io", "version": "v1beta1",
                        "service": {"name": "metrics-server", "namespace": "kube-system",
                                    "port": 443}}})
    }

    fn service() -> Value {
        json!({"spec": {"type": "ClusterIP",
                        "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}})
    }

    fn slice(ready: bool, port: &str) -> Value {
        json!({"endpoints": [{"addresses": ["10.0.0.7"], "conditions": {"ready": ready}}],
               "ports": [{"name": port, "port": 10250, "protocol": "TCP"}]})
    }

    #[test]
    fn local_groups_are_available_and_served_ones_need_their_service() {
        let local = json!({"spec": {"group": "apps", "version": "v1"}});
        assert_eq!(availability(&local, None, &[]).reason, "Local");
        let apiservice = metrics_apiservice();
        let missing = availability(&apiservice, None, &[]);
        assert_eq!(
            (missing.status, missing.reason, missing.message.as_str()),
            (
                "False",
                "ServiceNotFound",
                "service/metrics-server in \"kube-system\" is not present"
            )
        );
        let mut elsewhere = service();
        elsewhere["spec"]["ports"][0]["port"] = json!(8443);
        assert_eq!(
            availability(&apiservice, Some(&elsewhere), &[]).message,
            "service/metrics-server in \"kube-system\" is not listening on port 443"
        );
        assert_eq!(
            availability(&apiservice, Some(&service()), &[]).reason,
            "EndpointsNotFound"
        );
    }

    #[test]
    fn endpoints_count_once_ready_on_the_named_port() {
        let (apiservice, service) = (metrics_apiservice(), service());
        let starting = slice(false, "https");
        let verdict = availability(&apiservice, Some(&service), &[&starting]);
        assert_eq!(
            (verdict.status, verdict.reason, verdict.message.as_str()),
            (
                "False",
                "MissingEndpoints",
                "endpointslices for service/metrics-server in \"kube-system\" have no \
                 addresses with port name \"https\""
            )
        );
        let other_port = slice(true, "metrics");
        assert_eq!(
            availability(&apiservice, Some(&service), &[&other_port]).reason,
            "MissingEndpoints"
        );
        let ready = slice(true, "https");
        let verdict = availability(&apiservice, Some(&service), &[&starting, &ready]);
        assert_eq!(
            (verdict.status, verdict.reason, verdict.message.as_str()),
            ("True", "Passed", "all checks passed")
        );
    }
}
