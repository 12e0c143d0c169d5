//! The simulated cluster's three Nodes (`sim-node-1..3`): Ready, with capacity,
//! allocatable, addresses and nodeInfo, as `kubectl get nodes -o wide` and
//! `kubectl describe node` show them. The first is the control plane, labelled and tainted
//! `node-role.kubernetes.io/control-plane:NoSchedule` as kubeadm taints it. Also where pods
//! get their IPs from.

use crate::store::{self, Store};
use serde_json::{Value, json};

/// The nodes' names, in order.
pub const NODES: [&str; 3] = ["sim-node-1", "sim-node-2", "sim-node-3"];

/// The node's InternalIP (a pod's `hostIP`).
pub fn host_ip(node: &str) -> String {
    format!("172.18.0.{}", index(node) + 2)
}

/// A pod IP on `node`, from its pod CIDR `10.244.N.0/24`; `serial` picks the address.
pub fn pod_ip(node: &str, serial: u64) -> String {
    let n = index(node) + 1;
    // Spread over 10.244.N.2 .. 10.244.(N+…).254 so 5 000 pods stay distinct per node.
    let offset = serial % (253 * 64);
    format!(
        "10.244.{}.{}",
        n + 3 * (offset / 253) as usize,
        offset % 253 + 2
    )
}

fn index(node: &str) -> usize {
    NODES.iter().position(|n| *n == node).unwrap_or(0)
}

fn node(index: usize, name: &str) -> Value {
    let now = store::now();
    let condition = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({"type": type_, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    // The kubelets run with a `--max-pods` large enough for the scale benchmarks' 20 000
    // pods on the two worker nodes, a rolling update's 25 % surge included (a kubelet's
    // default is 110; a real cluster would have some 200 nodes for as many pods).
    let capacity = json!({"cpu": "4", "memory": "16374584Ki", "pods": "12500",
                          "ephemeral-storage": "102626232Ki", "hugepages-2Mi": "0"});
    let mut labels = json!({
        "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
    });
    if index == 0 {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
    }
    let mut node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels,
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"podCIDR": format!("10.244.{}.0/24", index + 1),
                 "podCIDRs": [format!("10.244.{}.0/24", index + 1)],
                 "providerID": format!("kos-sim://{name}")},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                          "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                          "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID",
                          "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": host_ip(name)},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{:032x}", index + 1),
                "systemUUID": format!("00000000-0000-0000-0000-00000000000{}", index + 1),
                "bootID": format!("b0000000-0000-0000-0000-00000000000{}", index + 1),
                "kernelVersion": "6.8.0-sim",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.18",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "images": [],
        },
    });
    if index == 0 {
        node["spec"]["taints"] =
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    }
    node
}

/// Creates the nodes that do not exist yet.
pub fn create(store: &Store) {
    for (i, name) in NODES.iter().enumerate() {
        if store.get("nodes", "", name).is_none() {
            // Created concurrently by someone else is as good.
            let _ = store.create("nodes", node(i, name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nodes_are_ready_with_addresses() {
        let store = Store::default();
        create(&store);
        create(&store);
        let (nodes, _) = store.list("nodes", None);
        assert_eq!(nodes.len(), 3);
        for node in &nodes {
            let ready = node["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            assert!(ready);
            assert!(node["status"]["addresses"][0]["address"].is_string());
        }
    }

    #[test]
    fn pod_ips_are_distinct_per_node() {
        let ips: HashSet<String> = (0..5000).map(|i| pod_ip("sim-node-2", i)).collect();
        assert_eq!(ips.len(), 5000);
        assert!(ips.contains("10.244.2.2"));
    }
}
