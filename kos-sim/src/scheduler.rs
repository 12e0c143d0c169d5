//! The default scheduler's decision for one pod: the nodes it may run on and, when there
//! is none, the FailedScheduling message in the scheduler's words. A node is filtered as
//! the scheduler's plugins do, in their order, stopping at the first that rejects it:
//! taints (NoSchedule and NoExecute, against the pod's tolerations), node affinity
//! (`nodeSelector` and the required `nodeAffinity` terms), resources (pod count, cpu and
//! memory requests against what the node has left of its allocatable), then volume binding
//! (the node affinity of the volumes bound to the pod's claims). Before any node, the
//! pod's PersistentVolumeClaims must exist and be bound, or wait for their first consumer.
//!
//! Pure: the caller gives the nodes, what is already bound to them and the pod's claims,
//! and binds.

// Kubernetes reasons and field names (FailedScheduling, NoSchedule) are words in these
// docs, not code.
#![allow(clippy::doc_markdown)]

use crate::controllers::objects::{str_at, terminating};
use crate::store::Object;
use serde_json::Value;

/// Requests of cpu (millicores), memory (bytes) and pods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub pods: i64,
}

impl Resources {
    /// What a pod asks for: the sum of its containers' requests, or its largest init
    /// container's when that is more, each resource on its own (limits stand in for absent
    /// requests, as the API server defaults them).
    pub fn of_pod(spec: &Value) -> Resources {
        let asked = |container: &Value, resource: &str| {
            let resources = &container["resources"];
            [
                &resources["requests"][resource],
                &resources["limits"][resource],
            ]
            .into_iter()
            .find_map(quantity_of)
            .unwrap_or(0.0)
        };
        let list = |field: &str| spec[field].as_array().cloned().unwrap_or_default();
        let total = |resource: &str| {
            let sum: f64 = list("containers").iter().map(|c| asked(c, resource)).sum();
            let init = list("initContainers")
                .iter()
                .map(|c| asked(c, resource))
                .fold(0.0, f64::max);
            sum.max(init)
        };
        Resources {
            milli_cpu: (total("cpu") * 1000.0).ceil() as i64,
            memory: total("memory").ceil() as i64,
            pods: 1,
        }
    }

    /// A node's `status.allocatable`.
    pub fn allocatable(node: &Value) -> Resources {
        let field = |name: &str| quantity_of(&node["status"]["allocatable"][name]).unwrap_or(0.0);
        Resources {
            milli_cpu: (field("cpu") * 1000.0) as i64,
            memory: field("memory") as i64,
            pods: field("pods") as i64,
        }
    }

    pub fn add(&mut self, other: Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.pods += other.pods;
    }

    pub fn remove(&mut self, other: Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.pods -= other.pods;
    }
}

/// A quantity given as text (`"500m"`) or as a bare JSON number, in base units.
pub fn quantity_of(value: &Value) -> Option<f64> {
    match value {
        Value::String(text) => quantity(text),
        Value::Number(number) => number.as_f64(),
        _ => None,
    }
}

/// A Kubernetes quantity (`500m`, `1.5`, `64`, `512Mi`, `1G`, `1e3`) in base units.
pub fn quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        exponent => {
            let power: i32 = exponent.strip_prefix(['e', 'E'])?.parse().ok()?;
            10f64.powi(power)
        }
    };
    Some(number * factor)
}

/// One node as the scheduler sees it: the Node, and what the pods bound to it request.
pub struct Candidate<'a> {
    pub node: &'a Value,
    pub used: Resources,
}

/// Why a node was rejected, and whether taking pods off it (preemption) could help.
struct Rejection {
    reasons: Vec<String>,
    resolvable: bool,
}

/// Whether `taint` is tolerated by one of `tolerations`.
fn tolerated(taint: &Value, tolerations: &[Value]) -> bool {
    tolerations.iter().any(|t| {
        let effect_matches =
            t["effect"].as_str().is_none_or(str::is_empty) || t["effect"] == taint["effect"];
        let key = t["key"].as_str().unwrap_or_default();
        let key_matches = match t["operator"].as_str().unwrap_or("Equal") {
            "Exists" => key.is_empty() || key == taint["key"].as_str().unwrap_or_default(),
            _ => {
                key == taint["key"].as_str().unwrap_or_default()
                    && t["value"].as_str().unwrap_or_default()
                        == taint["value"].as_str().unwrap_or_default()
            }
        };
        effect_matches && key_matches
    })
}

/// The first NoSchedule or NoExecute taint of `node` that `spec` does not tolerate.
fn untolerated_taint(spec: &Value, node: &Value) -> Option<String> {
    let tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
    node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["effect"] == "NoSchedule" || t["effect"] == "NoExecute")
        .find(|t| !tolerated(t, &tolerations))
        .map(|t| {
            format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t["key"].as_str().unwrap_or_default(),
                t["value"].as_str().unwrap_or_default()
            )
        })
}

/// One `matchExpressions` requirement against the node's labels (or, for `matchFields`,
/// its name).
fn requirement_met(requirement: &Value, value: Option<&str>) -> bool {
    let values: Vec<&str> = requirement["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let number = |text: &str| text.parse::<i64>().ok();
    match requirement["operator"].as_str().unwrap_or_default() {
        "In" => value.is_some_and(|v| values.contains(&v)),
        "NotIn" => value.is_none_or(|v| !values.contains(&v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => matches!((value.and_then(number), values.first().and_then(|v| number(v))),
            (Some(v), Some(bound)) if v > bound),
        "Lt" => matches!((value.and_then(number), values.first().and_then(|v| number(v))),
            (Some(v), Some(bound)) if v < bound),
        _ => false,
    }
}

/// Whether the node satisfies one of the `nodeSelectorTerms` (every requirement of it).
fn terms_match(terms: &[Value], node: &Value) -> bool {
    let labels = &node["metadata"]["labels"];
    terms.iter().any(|term| {
        let expressions = term["matchExpressions"].as_array().into_iter().flatten();
        let fields = term["matchFields"].as_array().into_iter().flatten();
        let mut any = false;
        let labels_ok = expressions.into_iter().all(|r| {
            any = true;
            requirement_met(r, labels[r["key"].as_str().unwrap_or_default()].as_str())
        });
        let fields_ok = fields.into_iter().all(|r| {
            any = true;
            let name = (r["key"] == "metadata.name")
                .then(|| node["metadata"]["name"].as_str())
                .flatten();
            requirement_met(r, name)
        });
        // A term with no requirement matches no node.
        any && labels_ok && fields_ok
    })
}

/// Whether the node satisfies the pod's `nodeSelector` and required node affinity.
fn affinity_matches(spec: &Value, node: &Value) -> bool {
    let labels = &node["metadata"]["labels"];
    let selector_ok = spec["nodeSelector"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(key, value)| labels[key] == *value);
    let terms = spec
        .pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Value::as_array);
    selector_ok && terms.is_none_or(|terms| terms_match(terms, node))
}

/// Whether the node satisfies the node affinity of every volume bound to the pod's claims
/// (`volumeAffinity` of the placement: one list of `nodeSelectorTerms` per volume).
fn volumes_fit(spec: &Value, node: &Value) -> bool {
    spec["volumeAffinity"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|terms| terms.as_array().is_none_or(|t| terms_match(t, node)))
}

/// What the pod's PersistentVolumeClaims ask of scheduling (the VolumeBinding plugin).
#[derive(Debug, Default, PartialEq)]
pub struct Claims {
    /// The required `nodeSelectorTerms` of each bound claim's volume that has them.
    pub affinity: Vec<Value>,
    /// Unbound claims whose class waits for a first consumer: provisioned on the node
    /// chosen for the pod.
    pub waiting: Vec<String>,
}

/// The pod's claims, looked up with `find(resource, name)` (claims in the pod's namespace;
/// volumes and StorageClasses are cluster-wide), or why no node will do: a claim that does
/// not exist or is being deleted, or one that is not bound though its class binds at once.
pub fn claims(
    spec: &Value,
    find: &impl Fn(&str, &str) -> Option<Object>,
) -> Result<Claims, String> {
    let mut claims = Claims::default();
    let mut unbound_immediate = false;
    let names = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str());
    for claim_name in names {
        let Some(claim) = find("persistentvolumeclaims", claim_name) else {
            return Err(format!("persistentvolumeclaim \"{claim_name}\" not found"));
        };
        if terminating(&claim) {
            return Err(format!(
                "persistentvolumeclaim \"{claim_name}\" is being deleted"
            ));
        }
        let volume_name = str_at(&claim, "/spec/volumeName");
        if str_at(&claim, "/status/phase") == "Bound" && !volume_name.is_empty() {
            let terms = find("persistentvolumes", volume_name).and_then(|v| {
                v.pointer("/spec/nodeAffinity/required/nodeSelectorTerms")
                    .cloned()
            });
            claims.affinity.extend(terms);
            continue;
        }
        let class = find(
            crate::controllers::volumes::CLASSES,
            str_at(&claim, "/spec/storageClassName"),
        );
        if class.is_some_and(|c| crate::controllers::volumes::waits_for_consumer(&c)) {
            claims.waiting.push(claim_name.to_owned());
        } else {
            unbound_immediate = true;
        }
    }
    if unbound_immediate {
        return Err("pod has unbound immediate PersistentVolumeClaims".to_owned());
    }
    Ok(claims)
}

/// The FailedScheduling message when something rules out every one of `total` nodes
/// before any is looked at (a PreFilter plugin): preemption cannot help.
pub fn prefilter_failed(total: usize, reason: &str) -> String {
    format!(
        "0/{total} nodes are available: {reason}. preemption: 0/{total} nodes are available: \
         {total} Preemption is not helpful for scheduling."
    )
}

/// Whether the pod may run on the node at all, resources aside: what the DaemonSet
/// controller asks before it makes a node's pod.
pub fn eligible(spec: &Value, node: &Value) -> bool {
    untolerated_taint(spec, node).is_none() && affinity_matches(spec, node)
}

fn filter(spec: &Value, asked: Resources, candidate: &Candidate<'_>) -> Option<Rejection> {
    let unresolvable = |reason: String| Rejection {
        reasons: vec![reason],
        resolvable: false,
    };
    if let Some(taint) = untolerated_taint(spec, candidate.node) {
        return Some(unresolvable(taint));
    }
    if !affinity_matches(spec, candidate.node) {
        return Some(unresolvable(
            "node(s) didn't match Pod's node affinity/selector".to_owned(),
        ));
    }
    let free = {
        let mut free = Resources::allocatable(candidate.node);
        free.remove(candidate.used);
        free
    };
    let mut reasons = Vec::new();
    if asked.pods > free.pods {
        reasons.push("Too many pods".to_owned());
    }
    if asked.milli_cpu > free.milli_cpu {
        reasons.push("Insufficient cpu".to_owned());
    }
    if asked.memory > free.memory {
        reasons.push("Insufficient memory".to_owned());
    }
    if !reasons.is_empty() {
        return Some(Rejection {
            reasons,
            resolvable: true,
        });
    }
    (!volumes_fit(spec, candidate.node))
        .then(|| unresolvable("node(s) had volume node affinity conflict".to_owned()))
}

/// `N reason` per distinct reason, sorted as text, joined (the scheduler's histogram).
fn histogram(reasons: impl Iterator<Item = String>) -> String {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for reason in reasons {
        *counts.entry(reason).or_default() += 1;
    }
    let mut parts: Vec<String> = counts
        .into_iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    parts.sort();
    parts.join(", ")
}

/// The indices of the candidates `spec` fits on now, or the FailedScheduling message.
pub fn feasible(spec: &Value, candidates: &[Candidate<'_>]) -> Result<Vec<usize>, String> {
    let asked = Resources::of_pod(spec);
    let mut fits = Vec::new();
    let mut rejections = Vec::new();
    for (i, candidate) in candidates.iter().enumerate() {
        match filter(spec, asked, candidate) {
            None => fits.push(i),
            Some(rejection) => rejections.push(rejection),
        }
    }
    if !fits.is_empty() {
        return Ok(fits);
    }
    let total = candidates.len();
    let reasons = histogram(rejections.iter().flat_map(|r| r.reasons.iter().cloned()));
    // No pod runs at a lower priority than another here, so preemption finds no victims
    // where resources are short, and cannot help where a node is ruled out.
    let preemption = histogram(rejections.iter().map(|r| {
        if r.resolvable {
            "No preemption victims found for incoming pod".to_owned()
        } else {
            "Preemption is not helpful for scheduling".to_owned()
        }
    }));
    Err(format!(
        "0/{total} nodes are available: {reasons}. preemption: 0/{total} nodes are \
         available: {preemption}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, labels: &Value, taints: &Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints},
               "status": {"allocatable": {"cpu": "4", "memory": "16374584Ki", "pods": "110"}}})
    }

    fn cluster() -> Vec<Value> {
        let control_plane = json!([{"key": "node-role.kubernetes.io/control-plane",
                                    "effect": "NoSchedule"}]);
        vec![
            node("n1", &json!({"role": "cp"}), &control_plane),
            node("n2", &json!({"disk": "ssd"}), &json!(null)),
            node("n3", &json!({"disk": "hdd"}), &json!(null)),
        ]
    }

    fn decide(spec: &Value, nodes: &[Value]) -> Result<Vec<usize>, String> {
        let candidates: Vec<Candidate<'_>> = nodes
            .iter()
            .map(|node| Candidate {
                node,
                used: Resources::default(),
            })
            .collect();
        feasible(spec, &candidates)
    }

    fn asking(cpu: &str) -> Value {
        json!({"containers": [{"name": "app", "resources": {"requests": {"cpu": cpu}}}]})
    }

    #[test]
    fn quantities_are_read_in_base_units() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("64"), Some(64.0));
        assert_eq!(quantity("1Gi"), Some(1_073_741_824.0));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("2x"), None);
        let spec = json!({"containers": [
            {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
            {"resources": {"limits": {"cpu": "1"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "2"}}}]});
        let asked = Resources::of_pod(&spec);
        assert_eq!((asked.milli_cpu, asked.memory), (2000, 64 * 1024 * 1024));
    }

    #[test]
    fn a_pod_too_big_for_any_node_is_unschedulable_in_the_schedulers_words() {
        assert_eq!(
            decide(&asking("64"), &cluster()),
            Err("0/3 nodes are available: 1 node(s) had untolerated taint \
                 {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: \
                 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No \
                 preemption victims found for incoming pod."
                .to_owned())
        );
        assert_eq!(decide(&asking("500m"), &cluster()), Ok(vec![1, 2]));
    }

    #[test]
    fn selectors_affinity_and_tolerations_choose_the_nodes() {
        let selected = json!({"nodeSelector": {"disk": "ssd"}, "containers": []});
        assert_eq!(decide(&selected, &cluster()), Ok(vec![1]));
        let nowhere = json!({"nodeSelector": {"gpu": "yes"}, "containers": []});
        assert_eq!(
            decide(&nowhere, &cluster()).unwrap_err(),
            "0/3 nodes are available: 1 node(s) had untolerated taint \
             {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node \
             affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not \
             helpful for scheduling."
        );
        let affinity = json!({"affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]},
            ]}}}, "containers": []});
        assert_eq!(decide(&affinity, &cluster()), Ok(vec![2]));
        let tolerant = json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane",
                                               "operator": "Exists", "effect": "NoSchedule"}],
                              "nodeSelector": {"role": "cp"}, "containers": []});
        assert_eq!(decide(&tolerant, &cluster()), Ok(vec![0]));
        let everything = json!({"tolerations": [{"operator": "Exists"}], "containers": []});
        assert_eq!(decide(&everything, &cluster()), Ok(vec![0, 1, 2]));
        assert!(!eligible(&json!({}), &cluster()[0]));
    }

    #[test]
    fn claims_must_exist_and_be_bound_or_wait_for_their_consumer() {
        let objects = |resource: &str, name: &str| -> Option<Object> {
            let object = match (resource, name) {
                ("persistentvolumeclaims", "bound") => json!({"spec": {"volumeName": "pv-1"},
                                                             "status": {"phase": "Bound"}}),
                ("persistentvolumeclaims", "later") => {
                    json!({"spec": {"storageClassName": "standard"}})
                }
                ("persistentvolumeclaims", "now") => json!({"spec": {"storageClassName": "fast"}}),
                ("persistentvolumes", "pv-1") => json!({"spec": {"nodeAffinity": {"required": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": "disk",
                        "operator": "In", "values": ["hdd"]}]}]}}}}),
                ("storageclasses.storage.k8s.io", "standard") => {
                    json!({"volumeBindingMode": "WaitForFirstConsumer"})
                }
                ("storageclasses.storage.k8s.io", "fast") => json!({}),
                _ => return None,
            };
            Some(std::sync::Arc::new(object))
        };
        let using = |names: &[&str]| {
            let volumes: Vec<Value> = names
                .iter()
                .map(|n| json!({"name": n, "persistentVolumeClaim": {"claimName": n}}))
                .collect();
            json!({"volumes": volumes})
        };
        assert_eq!(
            claims(&using(&["bound", "gone"]), &objects),
            Err("persistentvolumeclaim \"gone\" not found".to_owned())
        );
        assert_eq!(
            claims(&using(&["now"]), &objects),
            Err("pod has unbound immediate PersistentVolumeClaims".to_owned())
        );
        let found = claims(&using(&["bound", "later"]), &objects).unwrap();
        assert_eq!(found.waiting, ["later"]);
        // The bound volume lives on the node labelled disk=hdd: the pod goes there.
        let spec = json!({"volumeAffinity": found.affinity, "containers": []});
        assert_eq!(decide(&spec, &cluster()), Ok(vec![2]));
        assert_eq!(
            prefilter_failed(3, "pod has unbound immediate PersistentVolumeClaims"),
            "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
             preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn what_is_bound_already_counts_against_the_node() {
        let nodes = cluster();
        let used = Resources {
            milli_cpu: 3_500,
            memory: 0,
            pods: 110,
        };
        let candidates = [
            Candidate {
                node: &nodes[1],
                used,
            },
            Candidate {
                node: &nodes[2],
                used: Resources::default(),
            },
        ];
        assert_eq!(feasible(&asking("1"), &candidates), Ok(vec![1]));
        let message = feasible(&asking("3"), &candidates[..1]).unwrap_err();
        assert!(
            message.starts_with("0/1 nodes are available: 1 Insufficient cpu, 1 Too many pods."),
            "{message}"
        );
    }
}
