//! The rules of Service and Ingress: success when traffic can reach them.
//!
//! A `LoadBalancer` Service and an Ingress are done only once they have an address in
//! `status.loadBalancer.ingress` (Argo CD's rule): that address is what the user waits
//! for. kstatus only checks that a `LoadBalancer` Service has a cluster IP.
//!
//! A Service's `EndpointSlices` hang under it in the tree (it owns them) and say which pods
//! it sends traffic to now: after a blue/green switch of its selector, the green ones. A
//! slice without a ready endpoint is in progress, saying why: nothing answers behind the
//! Service yet. The slices do not count toward the verdict (`watch::graph`).

use super::fields::{list, text};
use super::{Assessment, Status};
use serde_json::Value;

/// The message of a `LoadBalancer` Service that has no address yet; the digest explains it.
pub const AWAITING_LOAD_BALANCER: &str = "Waiting for a load balancer address";

pub(crate) fn service(object: &Value) -> Assessment {
    let type_ = text(object, "/spec/type").unwrap_or("ClusterIP");
    match type_ {
        "LoadBalancer" => address(object).unwrap_or_else(|| waiting(AWAITING_LOAD_BALANCER)),
        "ExternalName" => Assessment::new(
            Status::Success,
            format!(
                "ExternalName {}",
                text(object, "/spec/externalName").unwrap_or_default()
            ),
        ),
        _ => {
            let message = match text(object, "/spec/clusterIP") {
                Some("None") => format!("{type_}, headless"),
                Some(ip) if !ip.is_empty() => format!("{type_} {ip}"),
                _ => type_.to_owned(),
            };
            Assessment::new(Status::Success, message)
        }
    }
}

/// `→ 3 ready pods (web-green-7c4b-…)`: the pods behind a Service's `EndpointSlice`. An
/// endpoint whose `ready` condition is unset counts as ready, as the API says.
pub(crate) fn endpoint_slice(object: &Value) -> Assessment {
    let endpoints = list(object, "/endpoints");
    let (ready, not_ready): (Vec<&Value>, Vec<&Value>) = endpoints
        .iter()
        .partition(|e| e.pointer("/conditions/ready") != Some(&Value::Bool(false)));
    if ready.is_empty() {
        let message = if not_ready.is_empty() {
            "No pod matches the Service's selector".to_owned()
        } else {
            format!(
                "No ready pod: {} not ready {}",
                not_ready.len(),
                names(&not_ready)
            )
        };
        return Assessment::new(Status::InProgress, message);
    }
    let noun = if ready.len() == 1 { "pod" } else { "pods" };
    Assessment::new(
        Status::Success,
        format!("→ {} ready {noun} {}", ready.len(), names(&ready)),
    )
}

/// The endpoints' pod names in parentheses: one name, or what they share followed by `…`.
fn names(endpoints: &[&Value]) -> String {
    let names: Vec<&str> = endpoints
        .iter()
        .map(|e| {
            e.pointer("/targetRef/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        })
        .filter(|name| !name.is_empty())
        .collect();
    let Some((first, rest)) = names.split_first() else {
        return String::new();
    };
    if rest.is_empty() {
        return format!("({first})");
    }
    let shared = rest
        .iter()
        .map(|name| {
            first
                .chars()
                .zip(name.chars())
                .take_while(|(a, b)| a == b)
                .count()
        })
        .min()
        .unwrap_or_default();
    let prefix: String = first.chars().take(shared).collect();
    format!("({prefix}…)")
}

pub(crate) fn ingress(object: &Value) -> Assessment {
    address(object).unwrap_or_else(|| waiting("Waiting for an address"))
}

fn waiting(message: &str) -> Assessment {
    Assessment::new(Status::InProgress, message)
}

/// Success when `status.loadBalancer.ingress` holds an entry, naming its IP or host name.
/// An entry without either still counts, as in Argo CD: the provider has answered.
fn address(object: &Value) -> Option<Assessment> {
    let entries = list(object, "/status/loadBalancer/ingress");
    let first = entries.first()?;
    let message = match text(first, "/ip").or_else(|| text(first, "/hostname")) {
        Some(address) => format!("Address {address}"),
        None => "Address assigned".to_owned(),
    };
    Some(Assessment::new(Status::Success, message))
}

#[cfg(test)]
mod tests {
    use super::super::of;
    use super::*;
    use serde_json::json;

    #[test]
    fn an_endpoint_slice_names_the_ready_pods_behind_its_service() {
        let slice = |endpoints: Value| {
            of(
                &json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "addressType": "IPv4", "endpoints": endpoints}),
            )
        };
        let pod = |name: &str, ready: Option<bool>| {
            let mut e =
                json!({"addresses": ["10.0.0.1"], "targetRef": {"kind": "Pod", "name": name}});
            if let Some(ready) = ready {
                e["conditions"] = json!({"ready": ready});
            }
            e
        };
        let green = slice(json!([
            pod("web-green-7c4b-abcde", Some(true)),
            pod("web-green-7c4b-fghij", None),
            pod("web-green-7c4b-klmno", Some(true)),
            pod("web-blue-5d9f-pqrst", Some(false)),
        ]));
        assert_eq!(green.status, Status::Success);
        assert_eq!(green.message, "→ 3 ready pods (web-green-7c4b-…)");
        let one = slice(json!([pod("web-blue-5d9f-pqrst", None)]));
        assert_eq!(one.message, "→ 1 ready pod (web-blue-5d9f-pqrst)");
        let starting = slice(json!([
            pod("web-1", Some(false)),
            pod("web-2", Some(false))
        ]));
        assert_eq!(starting.status, Status::InProgress);
        assert_eq!(starting.message, "No ready pod: 2 not ready (web-…)");
        let none = slice(json!([]));
        assert_eq!(
            (none.status, none.message.as_str()),
            (Status::InProgress, "No pod matches the Service's selector")
        );
    }

    #[test]
    fn load_balancer_waits_for_an_address() {
        let lb = |status: &Value| {
            of(&json!({"apiVersion": "v1", "kind": "Service",
                "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.9"}, "status": status}))
        };
        let a = lb(&json!({"loadBalancer": {}}));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::InProgress, "Waiting for a load balancer address")
        );
        let a = lb(&json!({"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}}));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "Address lb.example.com")
        );
        assert_eq!(
            lb(&json!({"loadBalancer": {"ingress": [{}]}})).message,
            "Address assigned"
        );
    }

    #[test]
    fn other_services_succeed_once_they_exist() {
        let svc = |spec: &Value| of(&json!({"apiVersion": "v1", "kind": "Service", "spec": spec}));
        assert_eq!(
            svc(&json!({"clusterIP": "10.0.0.1"})).message,
            "ClusterIP 10.0.0.1"
        );
        assert_eq!(
            svc(&json!({"clusterIP": "None"})).message,
            "ClusterIP, headless"
        );
        assert_eq!(svc(&json!({"type": "NodePort"})).status, Status::Success);
        assert_eq!(
            svc(&json!({"type": "ExternalName", "externalName": "db.example.com"})).message,
            "ExternalName db.example.com"
        );
    }

    #[test]
    fn ingress_waits_for_an_address() {
        let ing = |status: &Value| {
            of(&json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "status": status}))
        };
        assert_eq!(ing(&json!({"loadBalancer": {}})).status, Status::InProgress);
        let a = ing(&json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "Address 1.2.3.4")
        );
    }

    #[test]
    fn a_service_of_another_group_is_not_a_core_service() {
        let knative = json!({"apiVersion": "serving.knative.dev/v1", "kind": "Service",
            "spec": {"type": "LoadBalancer"}});
        // Judged by the rules table's Knative rule, not waiting for a load balancer.
        let a = of(&knative);
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::InProgress, "Waiting for the Ready condition")
        );
    }
}
