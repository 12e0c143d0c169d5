//! The review kinds, answered and never stored: `TokenReview` and `SelfSubjectReview`
//! (authentication.k8s.io: who a token or the caller is, `kubectl auth whoami`), and
//! `SubjectAccessReview`, `LocalSubjectAccessReview`, `SelfSubjectAccessReview` and
//! `SelfSubjectRulesReview` (authorization.k8s.io: may a user do something, what may they
//! do: `kubectl auth can-i`). The answer is the request with its `status` filled in, `201`
//! as from the API server. Access decisions are [`auth::decide`]'s, the one that also
//! refuses requests with 403.

use super::auth::{self, Authn, User};
use super::objects::body;
use super::rbac::{self, Attributes};
use super::{Api, Call, json};
use crate::errors::ApiError;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// The audience the API server's own tokens are for (kubeadm's default issuer).
const AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// Answers a review of the call's kind for `user`.
pub fn create(api: &Api, call: &Call, user: &User, authn: &Authn) -> Result<Response, ApiError> {
    let mut review = body(call)?;
    let spec = &review["spec"];
    let status = match call.target.resource.kind.as_str() {
        "TokenReview" => token_review(spec, authn)?,
        "SelfSubjectReview" => json!({"userInfo": user_info(user)}),
        "SelfSubjectAccessReview" => {
            access(&attributes(spec, "SelfSubjectAccessReview")?, user, api)
        }
        "SubjectAccessReview" => access(
            &attributes(spec, "SubjectAccessReview")?,
            &subject(spec, "SubjectAccessReview")?,
            api,
        ),
        "LocalSubjectAccessReview" => {
            let kind = "LocalSubjectAccessReview";
            check_namespace(spec, &call.target.namespace)?;
            access(&attributes(spec, kind)?, &subject(spec, kind)?, api)
        }
        "SelfSubjectRulesReview" => rules(user),
        _ => return Err(super::no_such_path()),
    };
    review["apiVersion"] = json!(call.target.resource.api_version());
    review["kind"] = json!(call.target.resource.kind);
    if !review["metadata"].is_object() {
        review["metadata"] = json!({});
    }
    review["status"] = status;
    Ok(json(StatusCode::CREATED, &review))
}

fn user_info(user: &User) -> Value {
    json!({"username": user.name, "groups": user.groups})
}

/// Who the token is: one the server authenticates (the viewer's) is its user, any other
/// is not authenticated (`authenticated` left out, as the API server leaves it).
fn token_review(spec: &Value, authn: &Authn) -> Result<Value, ApiError> {
    let token = spec["token"].as_str().unwrap_or_default();
    if token.is_empty() {
        return Err(ApiError::bad_request(
            "token is required for TokenReview in authentication",
        ));
    }
    Ok(match authn.token_user(token) {
        Some(user) => {
            json!({"authenticated": true, "user": user_info(user), "audiences": [AUDIENCE]})
        }
        None => json!({"user": {}, "error": "invalid bearer token"}),
    })
}

/// 422 as the API server's validation of a review's spec words it.
fn invalid(kind: &str, field: &str, problem: &str) -> ApiError {
    ApiError::invalid(&format!("{kind}.authorization.k8s.io"), "", field, problem)
}

/// The request a review asks about: exactly one of `resourceAttributes` and
/// `nonResourceAttributes`.
fn attributes<'a>(spec: &'a Value, kind: &str) -> Result<Attributes<'a>, ApiError> {
    let text = |value: &'a Value, field: &str| value[field].as_str().unwrap_or_default();
    match (
        spec.get("resourceAttributes").filter(|v| v.is_object()),
        spec.get("nonResourceAttributes").filter(|v| v.is_object()),
    ) {
        (Some(resource), None) => Ok(Attributes::Resource {
            verb: text(resource, "verb"),
            group: text(resource, "group"),
            resource: text(resource, "resource"),
            subresource: Some(text(resource, "subresource")).filter(|s| !s.is_empty()),
        }),
        (None, Some(path)) => Ok(Attributes::Path {
            verb: text(path, "verb"),
            path: text(path, "path"),
        }),
        (Some(_), Some(_)) => Err(invalid(
            kind,
            "spec.nonResourceAttributes",
            "Invalid value: \"object\": cannot be specified in combination with resourceAttributes",
        )),
        (None, None) => Err(invalid(
            kind,
            "spec.resourceAttributes",
            "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes \
             must be specified",
        )),
    }
}

/// The user a (Local)SubjectAccessReview asks about: its name and groups, exactly as given.
fn subject(spec: &Value, kind: &str) -> Result<User, ApiError> {
    let name = spec["user"].as_str().unwrap_or_default().to_owned();
    let groups: Vec<String> = spec["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if name.is_empty() && groups.is_empty() {
        return Err(invalid(
            kind,
            "spec.user",
            "Invalid value: \"\": at least one of user or group must be specified",
        ));
    }
    Ok(User { name, groups })
}

/// A `LocalSubjectAccessReview` asks about its own namespace only.
fn check_namespace(spec: &Value, namespace: &str) -> Result<(), ApiError> {
    let asked = spec["resourceAttributes"]["namespace"]
        .as_str()
        .unwrap_or_default();
    if spec["nonResourceAttributes"].is_object() {
        return Err(invalid(
            "LocalSubjectAccessReview",
            "spec.nonResourceAttributes",
            "Invalid value: \"object\": disallowed on this kind of request",
        ));
    }
    if asked != namespace {
        return Err(ApiError::bad_request(format!(
            "spec.resourceAttributes.namespace must match namespace: {namespace}"
        )));
    }
    Ok(())
}

/// Whether `user` may make the request: `allowed` and RBAC's reason, or not allowed with
/// no reason (RBAC has no opinion; nothing denies outright).
fn access(attributes: &Attributes<'_>, user: &User, api: &Api) -> Value {
    match auth::decide(user, attributes, &api.faults) {
        Some(grant) => json!({"allowed": true, "reason": rbac::reason(grant)}),
        None => json!({"allowed": false}),
    }
}

/// Every rule of the user's bindings.
fn rules(user: &User) -> Value {
    let grants = rbac::grants(user);
    let resource_rules: Vec<Value> = grants
        .iter()
        .flat_map(|grant| grant.resources)
        .map(|rule| {
            json!({"verbs": rule.verbs, "apiGroups": rule.groups, "resources": rule.resources})
        })
        .collect();
    let path_rules: Vec<Value> = grants
        .iter()
        .flat_map(|grant| grant.paths)
        .map(|rule| json!({"verbs": rule.verbs, "nonResourceURLs": rule.urls}))
        .collect();
    json!({"resourceRules": resource_rules, "nonResourceRules": path_rules, "incomplete": false})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn viewer() -> User {
        User::authenticated(auth::VIEWER, Vec::new())
    }

    #[test]
    fn a_token_review_knows_the_viewers_token_only() {
        let authn = Authn::Secure {
            tokens: HashMap::from([("good".to_owned(), viewer())]),
        };
        let known = token_review(&json!({"token": "good"}), &authn).unwrap();
        assert_eq!(known["authenticated"], true);
        assert_eq!(
            known["user"],
            json!({"username": "kos-sim-viewer", "groups": ["system:authenticated"]})
        );
        let unknown = token_review(&json!({"token": "bad"}), &authn).unwrap();
        assert_eq!(unknown.get("authenticated"), None);
        assert_eq!(unknown["error"], "invalid bearer token");
        let none = token_review(&json!({}), &authn).unwrap_err();
        assert_eq!(none.code, 400);
    }

    #[test]
    fn a_review_asks_about_exactly_one_kind_of_request() {
        let resource = json!({"resourceAttributes": {"verb": "create", "group": "apps",
                                                     "resource": "deployments", "namespace": "ns"}});
        assert_eq!(
            attributes(&resource, "SubjectAccessReview").unwrap(),
            Attributes::Resource {
                verb: "create",
                group: "apps",
                resource: "deployments",
                subresource: None
            }
        );
        let path = json!({"nonResourceAttributes": {"verb": "get", "path": "/metrics"}});
        assert_eq!(
            attributes(&path, "SubjectAccessReview").unwrap(),
            Attributes::Path {
                verb: "get",
                path: "/metrics"
            }
        );
        let neither = attributes(&json!({}), "SubjectAccessReview").unwrap_err();
        assert_eq!(neither.code, 422);
        assert!(
            neither.message.starts_with(
                "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes"
            ),
            "{}",
            neither.message
        );
        let nobody = subject(&resource, "SubjectAccessReview").unwrap_err();
        assert!(nobody.message.contains("at least one of user or group"));
        let named = subject(
            &json!({"user": "u", "groups": ["g"]}),
            "SubjectAccessReview",
        );
        assert_eq!(
            named.unwrap(),
            User {
                name: "u".into(),
                groups: vec!["g".into()]
            }
        );
    }

    #[test]
    fn a_local_review_stays_in_its_namespace() {
        let spec =
            json!({"resourceAttributes": {"namespace": "ns", "verb": "get", "resource": "pods"}});
        assert!(check_namespace(&spec, "ns").is_ok());
        let elsewhere = check_namespace(&spec, "other").unwrap_err();
        assert_eq!(
            (elsewhere.code, elsewhere.message.as_str()),
            (
                400,
                "spec.resourceAttributes.namespace must match namespace: other"
            )
        );
    }

    #[test]
    fn the_rules_review_lists_the_users_bindings() {
        let admin = User::authenticated("kubernetes-admin", vec![auth::MASTERS.into()]);
        let all = rules(&admin);
        assert_eq!(
            all["resourceRules"][0],
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
        );
        assert_eq!(
            all["nonResourceRules"][0],
            json!({"verbs": ["*"], "nonResourceURLs": ["*"]})
        );
        let read = rules(&viewer());
        assert_eq!(
            read["resourceRules"][0],
            json!({"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]})
        );
        let verbs: Vec<&Value> = read["resourceRules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["verbs"])
            .collect();
        assert!(!verbs.contains(&&json!(["*"])), "{read}");
    }
}
