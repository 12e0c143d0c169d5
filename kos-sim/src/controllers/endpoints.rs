//! The Endpoints and EndpointSlice controllers: for each Service with a selector, the pods
//! it selects that have an IP, as an Endpoints object of the Service's name (ready pods in
//! `addresses`, the others in `notReadyAddresses`) and as EndpointSlices owned by the
//! Service (`<service>-<5 chars>`, at most 100 endpoints each, with the `ready`, `serving`
//! and `terminating` conditions). Ports are the Service's, with `targetPort` resolved
//! against each pod's container ports (a named port the pod lacks leaves the pod out).
//! A Service without a selector is left alone, as the real controllers leave it.

use crate::controllers::objects::{controller_ref, name, namespace, put, str_at, terminating};
use crate::controllers::runner::{Controller, Ctx, Key, Outcome};
use crate::controllers::selection::{Pod, Selection};
use crate::store::Object;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The most endpoints one EndpointSlice holds (`--max-endpoints-per-slice`).
const PER_SLICE: usize = 100;
const SLICES: &str = "endpointslices.discovery.k8s.io";
const SERVICE_NAME: &str = "kubernetes.io/service-name";
const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";

#[derive(Default)]
pub struct Endpoints {
    selection: Selection,
}

/// One pod as an endpoint of the Service.
struct Endpoint<'a> {
    pod: &'a Pod,
    ready: bool,
    /// The Service's ports with `targetPort` resolved for this pod.
    ports: Vec<Value>,
}

impl Controller for Endpoints {
    const PRIMARY: &'static str = "services";
    const CHILD: Option<&'static str> = Some(SLICES);
    const WATCHES: &'static [&'static str] = &["pods"];

    fn reconcile(&mut self, ctx: &Ctx, service: &Object, slices: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        let key = (namespace(service).to_owned(), name(service).to_owned());
        let selector = service["spec"]["selector"]
            .as_object()
            .filter(|s| !s.is_empty())
            .map(|s| json!({"matchLabels": s}));
        let external = str_at(service, "/spec/type") == "ExternalName";
        if terminating(service) || external || selector.is_none() {
            self.selection.unselect(&key.0, &key.1);
            return outcome;
        }
        self.selection.select(&key, selector.as_ref());
        let selector = selector.unwrap_or_default();
        let not_ready_too = service["spec"]["publishNotReadyAddresses"] == true;
        let endpoints: Vec<Endpoint> = self
            .selection
            .pods(&key.0, &selector)
            .filter(|p| !p.ip.is_empty() && !p.finished)
            .filter_map(|pod| {
                let ports = resolve_ports(service, pod)?;
                let ready = not_ready_too || (pod.ready && !pod.terminating);
                Some(Endpoint { pod, ready, ports })
            })
            .collect();
        write_endpoints(ctx, service, &endpoints);
        write_slices(ctx, service, slices, &endpoints, &mut outcome);
        outcome
    }

    fn forget(&mut self, service: &Object) {
        self.selection.unselect(namespace(service), name(service));
    }

    /// The Endpoints go with their Service (its EndpointSlices, which it owns, go by
    /// garbage collection).
    fn deleted(&mut self, ctx: &Ctx, service: &Object) {
        // Never made (no selector) or already gone: nothing to do.
        let _ = ctx
            .store
            .delete("endpoints", namespace(service), name(service), false);
    }

    fn observe(&mut self, _: &str, pod: &Object, gone: bool) -> Vec<Key> {
        self.selection.observe(pod, gone)
    }

    fn reset(&mut self) {
        self.selection.clear_pods();
    }
}

/// The Service's ports for `pod` (`name`, `port` = the resolved target, `protocol`), or
/// `None` when a named `targetPort` names no port of the pod's containers.
fn resolve_ports(service: &Value, pod: &Pod) -> Option<Vec<Value>> {
    let list = service["spec"]["ports"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    list.iter()
        .map(|port| {
            let number = match &port["targetPort"] {
                Value::Number(n) => n.as_i64(),
                Value::String(named) if named.parse::<i64>().is_ok() => named.parse().ok(),
                Value::String(named) => pod.ports.iter().find(|p| &p.0 == named).map(|p| p.1),
                _ => port["port"].as_i64(),
            }?;
            let protocol = port["protocol"].as_str().unwrap_or("TCP");
            let name = port["name"].as_str().unwrap_or_default();
            Some(json!({"name": name, "port": number, "protocol": protocol}))
        })
        .collect()
}

fn target_ref(service: &Value, pod: &Pod) -> Value {
    json!({"kind": "Pod", "namespace": namespace(service), "name": pod.name, "uid": pod.uid})
}

/// The Service's labels, which its Endpoints and EndpointSlices carry too.
fn labels_of(service: &Value) -> Map<String, Value> {
    let mut labels = service["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if str_at(service, "/spec/clusterIP") == "None" {
        labels.insert("service.kubernetes.io/headless".into(), json!(""));
    }
    labels
}

/// One subset of an Endpoints object: ready addresses, the others, and their ports.
type Subset<'a> = (Vec<Value>, Vec<Value>, &'a [Value]);

/// The Endpoints object: one subset per distinct set of resolved ports, addresses by IP.
fn write_endpoints(ctx: &Ctx, service: &Value, endpoints: &[Endpoint]) {
    let mut subsets: BTreeMap<String, Subset> = BTreeMap::new();
    for endpoint in endpoints {
        let address = json!({
            "ip": endpoint.pod.ip,
            "nodeName": endpoint.pod.node,
            "targetRef": target_ref(service, endpoint.pod),
        });
        let subset = subsets
            .entry(Value::from(endpoint.ports.clone()).to_string())
            .or_insert_with(|| (Vec::new(), Vec::new(), endpoint.ports.as_slice()));
        if endpoint.ready {
            subset.0.push(address);
        } else {
            subset.1.push(address);
        }
    }
    let subsets: Vec<Value> = subsets
        .into_values()
        .map(|(mut ready, mut not_ready, ports)| {
            let by_ip = |a: &Value, b: &Value| str_at(a, "/ip").cmp(str_at(b, "/ip"));
            ready.sort_by(by_ip);
            not_ready.sort_by(by_ip);
            let mut subset = json!({"ports": ports});
            if !ready.is_empty() {
                subset["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = json!(not_ready);
            }
            subset
        })
        .collect();
    let (ns, name) = (namespace(service), name(service));
    let labels = labels_of(service);
    let write = |e: &mut Value| {
        put(e, &["metadata", "labels"], json!(labels));
        if !subsets.is_empty() {
            e["subsets"] = json!(subsets);
        } else if let Some(fields) = e.as_object_mut() {
            fields.remove("subsets");
        }
    };
    if ctx.store.get("endpoints", ns, name).is_some() {
        // Gone meanwhile: the next change brings it back.
        let _ = ctx.store.mutate("endpoints", ns, name, write);
    } else {
        let mut object = json!({"apiVersion": "v1", "kind": "Endpoints",
                                "metadata": {"name": name, "namespace": ns}});
        write(&mut object);
        // Created meanwhile by someone else: the next change updates it.
        let _ = ctx.store.create("endpoints", object);
    }
}

/// The EndpointSlices: the existing ones reused in name order, new ones created, extra
/// ones deleted. A Service selecting no pod still has one, empty.
fn write_slices(
    ctx: &Ctx,
    service: &Value,
    existing: &[Object],
    endpoints: &[Endpoint],
    outcome: &mut Outcome,
) {
    let mut groups: BTreeMap<String, (&[Value], Vec<Value>)> = BTreeMap::new();
    for endpoint in endpoints {
        let entry = json!({
            "addresses": [endpoint.pod.ip],
            "conditions": {
                "ready": endpoint.ready,
                "serving": endpoint.pod.ready,
                "terminating": endpoint.pod.terminating,
            },
            "nodeName": endpoint.pod.node,
            "targetRef": target_ref(service, endpoint.pod),
        });
        groups
            .entry(Value::from(endpoint.ports.clone()).to_string())
            .or_insert_with(|| (endpoint.ports.as_slice(), Vec::new()))
            .1
            .push(entry);
    }
    let mut wanted: Vec<(Value, &[Value])> = Vec::new();
    for (ports, entries) in groups.values() {
        for chunk in entries.chunks(PER_SLICE) {
            wanted.push((json!(ports), chunk));
        }
    }
    if wanted.is_empty() {
        wanted.push((json!([]), &[]));
    }
    let mut labels = labels_of(service);
    labels.insert(SERVICE_NAME.into(), json!(name(service)));
    labels.insert(MANAGED_BY.into(), json!("endpointslice-controller.k8s.io"));
    let ns = namespace(service);
    for (index, (ports, entries)) in wanted.iter().enumerate() {
        let fill = |slice: &mut Value| {
            put(slice, &["metadata", "labels"], json!(labels));
            slice["addressType"] = json!("IPv4");
            slice["endpoints"] = json!(entries);
            slice["ports"] = ports.clone();
        };
        let written = if let Some(slice) = existing.get(index) {
            ctx.store.mutate(SLICES, ns, name(slice), fill)
        } else {
            let mut slice = json!({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": format!("{}-", name(service)), "namespace": ns,
                             "ownerReferences": [controller_ref(service)]},
            });
            fill(&mut slice);
            ctx.store.create(SLICES, slice)
        };
        // A failed write is retried on the next change.
        outcome.written.extend(written);
    }
    for extra in existing.iter().skip(wanted.len()) {
        outcome
            .removed
            .extend(ctx.store.delete(SLICES, ns, name(extra), false));
    }
}
