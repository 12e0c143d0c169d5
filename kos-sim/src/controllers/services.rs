//! The small controllers of networking: Services get a ClusterIP (10.96.x.y) and node
//! ports, LoadBalancer Services an ingress IP after a delay unless they name a
//! `loadBalancerClass` (another implementation's, which nothing plays). (Namespaces are the
//! API server's: it sets them `Active`; storage is `volumes`'.)

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{name, namespace, put, str_at, terminating, uid};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::Object;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Time until a LoadBalancer gets its address.
const LOAD_BALANCER: Duration = Duration::from_secs(3);

/// When each object (by uid) was first seen: the start of its delay.
#[derive(Default)]
struct Seen(HashMap<String, Instant>);

impl Seen {
    /// The simulated time still to wait, if any, for `object` after `delay`.
    fn remaining(&mut self, ctx: &Ctx, object: &Value, delay: Duration) -> Option<Duration> {
        let since = *self
            .0
            .entry(uid(object).to_owned())
            .or_insert_with(Instant::now);
        let real = ctx.clock.real(delay);
        let elapsed = since.elapsed();
        (elapsed < real).then(|| real.saturating_sub(elapsed).mul_f64(ctx.clock.speed()))
    }
}

/// Services: addresses and node ports handed out so far.
#[derive(Default)]
pub struct Services {
    cluster_ips: HashMap<String, String>,
    used: HashSet<String>,
    next_ip: u32,
    next_port: u32,
    ingress: u32,
    seen: Seen,
}

impl Services {
    fn cluster_ip(&mut self, service: &Value) -> String {
        if let Some(ip) = self.cluster_ips.get(uid(service)) {
            return ip.clone();
        }
        let ip = loop {
            self.next_ip += 1;
            // 10.96.0.10 onwards; 10.96.0.1 is the API server's, .10 kube-dns's in kind.
            let n = self.next_ip + 10;
            let ip = format!("10.96.{}.{}", (n / 254) % 256, n % 254 + 1);
            if self.used.insert(ip.clone()) {
                break ip;
            }
        };
        self.cluster_ips.insert(uid(service).to_owned(), ip.clone());
        ip
    }

    fn node_port(&mut self) -> u32 {
        self.next_port = (self.next_port + 1) % 2768;
        30000 + self.next_port
    }
}

impl Controller for Services {
    const PRIMARY: &'static str = "services";
    const CHILD: Option<&'static str> = None;

    fn reconcile(&mut self, ctx: &Ctx, service: &Object, _: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(service) {
            return outcome;
        }
        let type_ = match str_at(service, "/spec/type") {
            "" => "ClusterIP",
            other => other,
        };
        if type_ == "ExternalName" {
            return outcome;
        }
        let needs_ip = service["spec"]["clusterIP"]
            .as_str()
            .is_none_or(str::is_empty);
        let ip = needs_ip.then(|| self.cluster_ip(service));
        let exposed = matches!(type_, "NodePort" | "LoadBalancer");
        let ports: Vec<Option<u32>> = service["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (exposed && p["nodePort"].is_null()).then(|| self.node_port()))
            .collect();
        // A Service naming a `loadBalancerClass` is left to that class's controller, as the
        // cloud provider's service controller leaves it; none here plays one.
        let ingress = if type_ == "LoadBalancer"
            && service["spec"]["loadBalancerClass"].is_null()
            && service.pointer("/status/loadBalancer/ingress").is_none()
        {
            if let Some(wait) = self.seen.remaining(ctx, service, LOAD_BALANCER) {
                outcome.requeue(wait);
                None
            } else {
                self.ingress += 1;
                Some(format!("172.18.255.{}", 200 + self.ingress % 55))
            }
        } else {
            None
        };
        if ip.is_none() && ports.iter().all(Option::is_none) && ingress.is_none() {
            return outcome;
        }
        let source = Source::controller("service-controller");
        if ingress.is_some() {
            ctx.events.record(
                &source,
                service,
                &Note::normal("EnsuringLoadBalancer", "Ensuring load balancer"),
            );
        }
        let _ = ctx
            .store
            .mutate(Self::PRIMARY, namespace(service), name(service), |s| {
                if let Some(ip) = &ip {
                    put(s, &["spec", "clusterIP"], json!(ip));
                    put(s, &["spec", "clusterIPs"], json!([ip]));
                    put(s, &["spec", "ipFamilies"], json!(["IPv4"]));
                    put(s, &["spec", "ipFamilyPolicy"], json!("SingleStack"));
                }
                if let Some(list) = s["spec"]["ports"].as_array_mut() {
                    for (port, node_port) in list.iter_mut().zip(&ports) {
                        if let Some(node_port) = node_port {
                            put(port, &["nodePort"], json!(node_port));
                        }
                    }
                }
                if let Some(address) = &ingress {
                    let ingress = json!({"ingress": [{"ip": address, "ipMode": "VIP"}]});
                    put(s, &["status", "loadBalancer"], ingress);
                }
            });
        if ingress.is_some() {
            ctx.events.record(
                &source,
                service,
                &Note::normal("EnsuredLoadBalancer", "Ensured load balancer"),
            );
        }
        outcome
    }

    fn forget(&mut self, object: &Object) {
        if let Some(ip) = self.cluster_ips.remove(uid(object)) {
            self.used.remove(&ip);
        }
        self.seen.0.remove(uid(object));
    }
}
