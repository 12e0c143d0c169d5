//! What the simulator's users may do, as RBAC rules: the bindings each user has and RBAC's
//! decision on one request, which the 403 of every request and the access reviews
//! (`SubjectAccessReview` and its kin, `kubectl auth can-i`) share.
//!
//! The bindings are those a kubeadm cluster makes, less what no user of the simulator is
//! in: `cluster-admin` for `system:masters`, `system:basic-user` (asking about oneself) and
//! `system:discovery` for every authenticated user, `system:public-info-viewer` for
//! anonymous requests, and the read-only viewer's own binding (get, list and watch of every
//! resource). Nothing here is stored: `kubectl get clusterroles` does not list them.
//!
//! Pure: a user and a request's attributes in, the binding that allows it out. It must not
//! know HTTP, the store or faults.

use super::auth::{AUTHENTICATED, MASTERS, UNAUTHENTICATED, User, VIEWER};

/// One rule on resources: verbs on resources of API groups, `*` for any. A resource is
/// `plural` or `plural/subresource`.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceRule {
    pub verbs: &'static [&'static str],
    pub groups: &'static [&'static str],
    pub resources: &'static [&'static str],
}

/// One rule on non-resource paths: verbs (lowercase HTTP methods) on URLs, a URL that ends
/// in `*` standing for every path it begins.
#[derive(Debug, PartialEq, Eq)]
pub struct PathRule {
    pub verbs: &'static [&'static str],
    pub urls: &'static [&'static str],
}

/// The rules one binding gives, and its words in an allowed decision's reason.
#[derive(Debug, PartialEq, Eq)]
pub struct Grant {
    pub binding: &'static str,
    pub resources: &'static [ResourceRule],
    pub paths: &'static [PathRule],
}

/// What a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attributes<'a> {
    Resource {
        verb: &'a str,
        /// `""` for the core group.
        group: &'a str,
        /// The plural: `pods`, `deployments`.
        resource: &'a str,
        subresource: Option<&'a str>,
    },
    Path {
        verb: &'a str,
        path: &'a str,
    },
}

const ANY: &[&str] = &["*"];
/// The health and version paths `system:public-info-viewer` opens to everyone.
const PUBLIC_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/version/"];

const ADMIN: Grant = Grant {
    binding: r#"ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters""#,
    resources: &[ResourceRule {
        verbs: ANY,
        groups: ANY,
        resources: ANY,
    }],
    paths: &[PathRule {
        verbs: ANY,
        urls: ANY,
    }],
};

const READ_ONLY: Grant = Grant {
    binding: r#"ClusterRoleBinding "kos-sim-viewer" of ClusterRole "kos-sim-viewer" to User "kos-sim-viewer""#,
    resources: &[ResourceRule {
        verbs: &["get", "list", "watch"],
        groups: ANY,
        resources: ANY,
    }],
    paths: &[],
};

const BASIC_USER: Grant = Grant {
    binding: r#"ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated""#,
    resources: &[
        ResourceRule {
            verbs: &["create"],
            groups: &["authentication.k8s.io"],
            resources: &["selfsubjectreviews"],
        },
        ResourceRule {
            verbs: &["create"],
            groups: &["authorization.k8s.io"],
            resources: &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        },
    ],
    paths: &[],
};

const DISCOVERY: Grant = Grant {
    binding: r#"ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated""#,
    resources: &[],
    paths: &[
        PathRule {
            verbs: &["get"],
            urls: &[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/openapi",
                "/openapi/*",
            ],
        },
        PathRule {
            verbs: &["get"],
            urls: PUBLIC_PATHS,
        },
    ],
};

const PUBLIC_INFO: Grant = Grant {
    binding: r#"ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated""#,
    resources: &[],
    paths: &[PathRule {
        verbs: &["get"],
        urls: PUBLIC_PATHS,
    }],
};

/// The bindings that name `user`, by name or by group.
pub fn grants(user: &User) -> Vec<&'static Grant> {
    let in_group = |group: &str| user.groups.iter().any(|g| g == group);
    let mut grants = Vec::new();
    if in_group(MASTERS) {
        grants.push(&ADMIN);
    }
    if user.name == VIEWER {
        grants.push(&READ_ONLY);
    }
    if in_group(AUTHENTICATED) {
        grants.extend([&BASIC_USER, &DISCOVERY]);
    }
    if in_group(UNAUTHENTICATED) {
        grants.push(&PUBLIC_INFO);
    }
    grants
}

/// The binding that allows `user` the request, if one does: RBAC's decision.
pub fn allowed_by(user: &User, attributes: &Attributes<'_>) -> Option<&'static Grant> {
    grants(user)
        .into_iter()
        .find(|grant| allows(grant, attributes))
}

/// The reason an allowed decision gives, in RBAC's words.
pub fn reason(grant: &Grant) -> String {
    format!("RBAC: allowed by {}", grant.binding)
}

fn allows(grant: &Grant, attributes: &Attributes<'_>) -> bool {
    let named = |list: &[&str], word: &str| list.iter().any(|w| *w == "*" || *w == word);
    match *attributes {
        Attributes::Resource {
            verb,
            group,
            resource,
            subresource,
        } => grant.resources.iter().any(|rule| {
            named(rule.verbs, verb)
                && named(rule.groups, group)
                && rule
                    .resources
                    .iter()
                    .any(|r| resource_matches(r, resource, subresource))
        }),
        Attributes::Path { verb, path } => grant.paths.iter().any(|rule| {
            named(rule.verbs, verb) && rule.urls.iter().any(|url| path_matches(url, path))
        }),
    }
}

/// As RBAC matches a rule's resource: `*` is every resource and subresource, `*/scale`
/// a subresource of any resource.
fn resource_matches(rule: &str, resource: &str, subresource: Option<&str>) -> bool {
    if rule == "*" {
        return true;
    }
    match subresource {
        None => rule == resource,
        Some(sub) => rule
            .split_once('/')
            .is_some_and(|(r, s)| (r == resource || r == "*") && s == sub),
    }
}

fn path_matches(rule: &str, path: &str) -> bool {
    match rule.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => rule == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource<'a>(verb: &'a str, group: &'a str, resource: &'a str) -> Attributes<'a> {
        Attributes::Resource {
            verb,
            group,
            resource,
            subresource: None,
        }
    }

    fn admin() -> User {
        User::authenticated("kubernetes-admin", vec![MASTERS.to_owned()])
    }

    #[test]
    fn the_admin_may_do_everything_by_cluster_admin() {
        let admin = admin();
        for attributes in [
            resource("create", "apps", "deployments"),
            resource("delete", "", "secrets"),
            Attributes::Path {
                verb: "get",
                path: "/metrics",
            },
        ] {
            assert_eq!(
                allowed_by(&admin, &attributes),
                Some(&ADMIN),
                "{attributes:?}"
            );
        }
        assert_eq!(
            reason(&ADMIN),
            "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \
             \"cluster-admin\" to Group \"system:masters\""
        );
    }

    #[test]
    fn the_viewer_reads_and_asks_about_itself_only() {
        let viewer = User::authenticated(VIEWER, Vec::new());
        for verb in ["get", "list", "watch"] {
            assert!(allowed_by(&viewer, &resource(verb, "apps", "deployments")).is_some());
        }
        let logs = Attributes::Resource {
            verb: "get",
            group: "",
            resource: "pods",
            subresource: Some("log"),
        };
        assert!(allowed_by(&viewer, &logs).is_some());
        for verb in ["create", "update", "patch", "delete", "deletecollection"] {
            assert!(allowed_by(&viewer, &resource(verb, "", "configmaps")).is_none());
        }
        let asking = resource("create", "authorization.k8s.io", "selfsubjectaccessreviews");
        assert_eq!(allowed_by(&viewer, &asking), Some(&BASIC_USER));
        let whoami = resource("create", "authentication.k8s.io", "selfsubjectreviews");
        assert_eq!(allowed_by(&viewer, &whoami), Some(&BASIC_USER));
        let others = resource("create", "authorization.k8s.io", "subjectaccessreviews");
        assert!(allowed_by(&viewer, &others).is_none());
        let tokens = resource("create", "authentication.k8s.io", "tokenreviews");
        assert!(allowed_by(&viewer, &tokens).is_none());
        // A SubjectAccessReview's user without the authenticated group: its own binding only.
        let bare = User {
            name: VIEWER.to_owned(),
            groups: Vec::new(),
        };
        assert!(allowed_by(&bare, &asking).is_none());
        assert!(allowed_by(&bare, &resource("list", "", "pods")).is_some());
    }

    #[test]
    fn paths_open_to_each_user_as_the_default_bindings_open_them() {
        let path = |verb, path| Attributes::Path { verb, path };
        let anonymous = User {
            name: "system:anonymous".to_owned(),
            groups: vec![UNAUTHENTICATED.to_owned()],
        };
        let other = User::authenticated("someone", Vec::new());
        for public in PUBLIC_PATHS {
            assert!(allowed_by(&anonymous, &path("get", *public)).is_some());
            assert!(allowed_by(&other, &path("get", *public)).is_some());
        }
        assert!(allowed_by(&anonymous, &path("get", "/api")).is_none());
        assert!(allowed_by(&anonymous, &path("post", "/healthz")).is_none());
        for discovery in ["/api", "/api/v1", "/apis/apps/v1", "/openapi/v3"] {
            assert_eq!(
                allowed_by(&other, &path("get", discovery)),
                Some(&DISCOVERY),
                "{discovery}"
            );
        }
        assert!(allowed_by(&other, &path("get", "/apiextra")).is_none());
        assert!(allowed_by(&other, &path("get", "/metrics")).is_none());
        assert!(allowed_by(&other, &resource("get", "", "pods")).is_none());
    }

    #[test]
    fn subresources_match_as_rbac_matches_them() {
        assert!(resource_matches("*", "pods", Some("log")));
        assert!(resource_matches("pods/log", "pods", Some("log")));
        assert!(resource_matches("*/scale", "deployments", Some("scale")));
        assert!(!resource_matches("pods", "pods", Some("log")));
        assert!(!resource_matches("pods/log", "pods", None));
        assert!(!resource_matches("*/scale", "deployments", Some("status")));
    }
}
