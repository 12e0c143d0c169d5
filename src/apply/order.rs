//! The order objects are applied in: what others depend on goes first.
//!
//! Pure: kinds in, ranks out. Namespaces and CRDs first (custom resources of a CRD in the
//! same batch wait until it is Established, so they come last), then `ServiceAccounts`, RBAC,
//! `ConfigMaps` and Secrets, storage, then workloads and everything else. Within a rank the
//! input order is kept.

/// The rank of a kind; lower is applied earlier.
pub fn rank(kind: &str, defined_in_batch: bool) -> u8 {
    if defined_in_batch {
        return 9;
    }
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "PriorityClass" | "StorageClass" => 2,
        "ServiceAccount" => 3,
        "ClusterRole" | "Role" => 4,
        "ClusterRoleBinding" | "RoleBinding" => 5,
        "ConfigMap" | "Secret" | "LimitRange" | "ResourceQuota" => 6,
        "PersistentVolume" | "PersistentVolumeClaim" => 7,
        _ => 8,
    }
}

/// The indexes of `items` (kind, defined by a CRD of the batch) in apply order.
pub fn apply_order(items: &[(&str, bool)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    // A stable sort keeps the user's order within a rank.
    order.sort_by_key(|&i| rank(items[i].0, items[i].1));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_go_first_and_input_order_holds_within_a_rank() {
        let items = [
            ("Deployment", false),
            ("Widget", true),
            ("Service", false),
            ("Secret", false),
            ("Namespace", false),
            ("CustomResourceDefinition", false),
            ("RoleBinding", false),
            ("Role", false),
            ("ServiceAccount", false),
            ("PersistentVolumeClaim", false),
            ("ConfigMap", false),
        ];
        let kinds: Vec<&str> = apply_order(&items).iter().map(|&i| items[i].0).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "CustomResourceDefinition",
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "Secret",
                "ConfigMap",
                "PersistentVolumeClaim",
                "Deployment",
                "Service",
                "Widget",
            ]
        );
    }
}
