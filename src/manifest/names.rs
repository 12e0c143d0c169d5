//! The name rules the Kubernetes API server applies, checked before anything is sent.
//!
//! Which rule a kind follows is known here only for built-in kinds; every other kind (custom
//! resources, RBAC objects whose names may hold ':') gets the rule every name must meet, the
//! path-segment rule. Messages follow the API server's wording. Pure; no I/O.

/// A naming rule of the Kubernetes API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain: at most 253 lowercase alphanumerics, '-' or '.'.
    Subdomain,
    /// RFC 1123 subdomain of at most `max` characters (a `CronJob`'s name leaves room for
    /// the suffix of its Jobs).
    ShortSubdomain(usize),
    /// RFC 1123 label: at most 63 lowercase alphanumerics or '-'.
    Label,
    /// RFC 1035 label: an RFC 1123 label that starts with a letter (Services).
    Rfc1035Label,
    /// Only what a URL path segment allows: not `.` or `..`, no '/' or '%'.
    PathSegment,
}

const SUBDOMAIN_MAX: usize = 253;
const LABEL_MAX: usize = 63;
/// 63 (a label) minus the 11 characters a `CronJob` appends to name its Jobs.
const CRONJOB_MAX: usize = 52;

/// Built-in kinds named as RFC 1123 subdomains, by API group.
const SUBDOMAIN_KINDS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "ConfigMap",
            "Endpoints",
            "LimitRange",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "ServiceAccount",
        ],
    ),
    (
        "apps",
        &[
            "ControllerRevision",
            "DaemonSet",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
        ],
    ),
    ("batch", &["Job"]),
    (
        "networking.k8s.io",
        &["Ingress", "IngressClass", "NetworkPolicy"],
    ),
    ("policy", &["PodDisruptionBudget"]),
    (
        "storage.k8s.io",
        &["CSIDriver", "StorageClass", "VolumeAttachment"],
    ),
    ("scheduling.k8s.io", &["PriorityClass"]),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
];

/// The rule the API server applies to the names of `kind` in API `group`.
pub fn rule_for(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("", "Service") => NameRule::Rfc1035Label,
        ("", "Namespace") => NameRule::Label,
        ("batch", "CronJob") => NameRule::ShortSubdomain(CRONJOB_MAX),
        _ if SUBDOMAIN_KINDS
            .iter()
            .any(|(g, kinds)| *g == group && kinds.contains(&kind)) =>
        {
            NameRule::Subdomain
        }
        _ => NameRule::PathSegment,
    }
}

/// Why `name` breaks `rule`, in the API server's words; `None` when it is valid.
pub fn check(rule: NameRule, name: &str) -> Option<String> {
    match rule {
        NameRule::Subdomain => check_subdomain(name, SUBDOMAIN_MAX),
        NameRule::ShortSubdomain(max) => check_subdomain(name, max),
        NameRule::Label => check_label(name, false),
        NameRule::Rfc1035Label => check_label(name, true),
        NameRule::PathSegment => check_path_segment(name),
    }
}

fn check_subdomain(name: &str, max: usize) -> Option<String> {
    if name.len() > max {
        return Some(format!("must be no more than {max} characters"));
    }
    let valid = name.split('.').all(is_rfc1123_label_text);
    (!valid).then(|| {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
         '-' or '.', and must start and end with an alphanumeric character"
            .to_owned()
    })
}

fn check_label(name: &str, rfc1035: bool) -> Option<String> {
    if name.len() > LABEL_MAX {
        return Some(format!("must be no more than {LABEL_MAX} characters"));
    }
    if rfc1035 {
        let starts_with_letter = name.starts_with(|c: char| c.is_ascii_lowercase());
        (!(starts_with_letter && is_rfc1123_label_text(name))).then(|| {
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
             start with an alphabetic character, and end with an alphanumeric character"
                .to_owned()
        })
    } else {
        (!is_rfc1123_label_text(name)).then(|| {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
             '-', and must start and end with an alphanumeric character"
                .to_owned()
        })
    }
}

fn check_path_segment(name: &str) -> Option<String> {
    if name == "." || name == ".." {
        return Some(format!("may not be '{name}'"));
    }
    ["/", "%"]
        .iter()
        .find(|bad| name.contains(*bad))
        .map(|bad| format!("may not contain '{bad}'"))
}

/// Lowercase alphanumerics and '-', starting and ending with an alphanumeric, not empty.
fn is_rfc1123_label_text(text: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    text.starts_with(alphanumeric)
        && text.ends_with(alphanumeric)
        && text.chars().all(|c| alphanumeric(c) || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_get_the_api_servers_rule() {
        assert_eq!(rule_for("apps", "Deployment"), NameRule::Subdomain);
        assert_eq!(rule_for("", "Secret"), NameRule::Subdomain);
        assert_eq!(rule_for("", "Service"), NameRule::Rfc1035Label);
        assert_eq!(rule_for("", "Namespace"), NameRule::Label);
        assert_eq!(rule_for("batch", "CronJob"), NameRule::ShortSubdomain(52));
        assert_eq!(
            rule_for("rbac.authorization.k8s.io", "ClusterRole"),
            NameRule::PathSegment
        );
        // A custom resource that happens to share a built-in kind's name.
        assert_eq!(rule_for("example.com", "Deployment"), NameRule::PathSegment);
    }

    #[test]
    fn subdomains() {
        assert_eq!(check(NameRule::Subdomain, "web-1.example"), None);
        assert_eq!(check(NameRule::Subdomain, &"a".repeat(253)), None);
        for bad in [
            "Web", "web_1", "-web", "web-", "a..b", ".a", "", "web.", "wéb",
        ] {
            assert!(check(NameRule::Subdomain, bad).is_some(), "{bad}");
        }
        assert_eq!(
            check(NameRule::Subdomain, &"a".repeat(254)).as_deref(),
            Some("must be no more than 253 characters")
        );
        assert!(check(NameRule::ShortSubdomain(52), &"a".repeat(53)).is_some());
    }

    #[test]
    fn labels() {
        assert_eq!(check(NameRule::Label, "1-kube"), None);
        assert!(check(NameRule::Label, "a.b").is_some());
        assert!(check(NameRule::Label, &"a".repeat(64)).is_some());
        assert_eq!(check(NameRule::Rfc1035Label, "web-1"), None);
        assert!(check(NameRule::Rfc1035Label, "1-web").is_some());
        assert!(check(NameRule::Rfc1035Label, "web.svc").is_some());
    }

    #[test]
    fn path_segments() {
        assert_eq!(check(NameRule::PathSegment, "system:controller:x"), None);
        assert_eq!(check(NameRule::PathSegment, "Anything_Goes"), None);
        for bad in [".", "..", "a/b", "50%"] {
            assert!(check(NameRule::PathSegment, bad).is_some(), "{bad}");
        }
    }
}
