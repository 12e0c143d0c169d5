//! Who is asking and whether they may: authentication, authorization and the Host check, as
//! an axum middleware in front of every route, and the resource check the dispatcher calls
//! once it knows the verb and the resource. What each user may do is [`rbac`]'s.
//!
//! It answers as kube-apiserver does: a request whose credentials are bad, or that has none
//! and is not for a public health or version endpoint, is 401 `Unauthorized` (the shape of a
//! server whose `AuthenticationConfiguration` allows anonymous requests to those endpoints
//! only); one the user may not make is 403 in RBAC's words. Users: the admin's client
//! certificate (group `system:masters`, may do everything), the read-only viewer's bearer
//! token (get, list and watch), and any other certificate the CA signed (discovery and
//! questions about itself only).
//! With `--insecure-http` every request is `system:unsecured` in `system:masters`, as on the
//! API server's old insecure port.
//!
//! It must not read the store or know the served kinds beyond a request's target.

use super::rbac::{self, Attributes};
use super::{PathKind, Target, parse_path};
use crate::errors::ApiError;
use crate::faults::Faults;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The read-only user's name (and its kubeconfig context's).
pub const VIEWER: &str = "kos-sim-viewer";
pub const MASTERS: &str = "system:masters";
pub const AUTHENTICATED: &str = "system:authenticated";
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
const ANONYMOUS: &str = "system:anonymous";

/// An authenticated user, as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
}

impl User {
    /// A user who proved who they are: in `system:authenticated` besides `groups`.
    pub fn authenticated(name: impl Into<String>, mut groups: Vec<String>) -> User {
        groups.push(AUTHENTICATED.to_owned());
        User {
            name: name.into(),
            groups,
        }
    }

    fn anonymous() -> User {
        User {
            name: ANONYMOUS.to_owned(),
            groups: vec![UNAUTHENTICATED.to_owned()],
        }
    }

    fn is_anonymous(&self) -> bool {
        self.name == ANONYMOUS
    }
}

/// The user of the connection's verified client certificate, if it showed one: put on every
/// request of the connection by the connection loop.
#[derive(Debug, Clone, Default)]
pub struct ClientCert(pub Option<Arc<User>>);

/// How requests are authenticated.
#[derive(Debug)]
pub enum Authn {
    /// Plain HTTP: no credentials, everyone may do everything.
    Insecure,
    /// HTTPS: client certificates (checked by TLS) and these bearer tokens.
    Secure { tokens: HashMap<String, User> },
}

impl Authn {
    /// The user a bearer token authenticates, if it is known (none over plain HTTP).
    pub fn token_user(&self, token: &str) -> Option<&User> {
        match self {
            Authn::Insecure => None,
            Authn::Secure { tokens } => tokens.get(token),
        }
    }
}

/// The middleware's state; put on every request too, for the `TokenReview` handler.
#[derive(Debug)]
pub struct Auth {
    /// The listening address: what the Host header must name.
    pub addr: SocketAddr,
    pub authn: Authn,
}

/// The middleware: the Host check, then authentication, then the check of non-resource
/// paths; the request goes on with its [`User`] in its extensions.
pub async fn check(State(auth): State<Arc<Auth>>, mut request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    if let Err(error) = check_host(host.as_deref(), auth.addr) {
        return error.into_response();
    }
    let cert = request.extensions().get::<ClientCert>().cloned();
    let user = match authenticate(&auth.authn, cert, request.headers()) {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };
    if let Err(error) = authorize_path(&user, request.method(), request.uri().path()) {
        return error.into_response();
    }
    request.extensions_mut().insert(Arc::new(user));
    request.extensions_mut().insert(auth);
    next.run(request).await
}

/// A browser page on another site can reach 127.0.0.1 under a name of its own that it
/// re-points there (DNS rebinding), and would read the answers as its own: only the
/// listening address, or `localhost`, with the listening port, may be named.
fn check_host(host: Option<&str>, addr: SocketAddr) -> Result<(), ApiError> {
    let refused = |named: &str| {
        ApiError::new(
            403,
            "Forbidden",
            format!(
                "the Host header {named:?} does not name this server ({addr}): refused, as a \
                 page of another site could name it to read the answers (DNS rebinding)"
            ),
        )
        .with_details(json!({}))
    };
    let Some(host) = host else {
        return Err(refused(""));
    };
    let Some((name, port)) = host.rsplit_once(':') else {
        return Err(refused(host));
    };
    if port.parse::<u16>().ok() != Some(addr.port()) {
        return Err(refused(host));
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let listening = addr.ip();
    let allowed = if name.eq_ignore_ascii_case("localhost") {
        listening.is_loopback() || listening.is_unspecified()
    } else {
        name.parse::<IpAddr>()
            .is_ok_and(|ip| ip == listening || listening.is_unspecified())
    };
    if allowed { Ok(()) } else { Err(refused(host)) }
}

/// A 401 as kube-apiserver writes it.
fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

/// Who sent the request: the client certificate's user first (as kube-apiserver tries
/// x509 before tokens), then a bearer token, which must be known; else anonymous.
fn authenticate(
    authn: &Authn,
    cert: Option<ClientCert>,
    headers: &axum::http::HeaderMap,
) -> Result<User, ApiError> {
    if let Authn::Insecure = authn {
        return Ok(User {
            name: "system:unsecured".to_owned(),
            groups: vec![MASTERS.to_owned(), AUTHENTICATED.to_owned()],
        });
    }
    if let Some(ClientCert(Some(user))) = cert {
        return Ok((*user).clone());
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty());
    match bearer {
        Some(token) => authn.token_user(token).cloned().ok_or_else(unauthorized),
        None => Ok(User::anonymous()),
    }
}

/// Non-resource paths: public ones for anyone, anonymous requests for nothing else (401),
/// the rest as the user's bindings allow (discovery for every user, `/metrics` for the
/// admin). Resource requests pass on to [`authorize`].
fn authorize_path(user: &User, method: &Method, path: &str) -> Result<(), ApiError> {
    let verb = method.as_str().to_ascii_lowercase();
    let get = Attributes::Path { verb: "get", path };
    if user.is_anonymous() && rbac::allowed_by(user, &get).is_none() {
        return Err(unauthorized());
    }
    let asked = Attributes::Path { verb: &verb, path };
    if matches!(parse_path(path), Some(PathKind::Resource(_)))
        || rbac::allowed_by(user, &asked).is_some()
    {
        return Ok(());
    }
    Err(ApiError::new(
        403,
        "Forbidden",
        format!(
            "forbidden: User \"{}\" cannot {verb} path \"{path}\"",
            user.name
        ),
    )
    .with_details(json!({})))
}

/// The binding that lets `user` make the request, if any: RBAC's decision, then
/// `--faults forbid=`, which takes rights to resources away from everyone. The 403 of each
/// request and the access reviews both ask it.
pub fn decide(
    user: &User,
    attributes: &Attributes<'_>,
    faults: &Faults,
) -> Option<&'static rbac::Grant> {
    let grant = rbac::allowed_by(user, attributes)?;
    match *attributes {
        Attributes::Resource {
            verb,
            group,
            resource,
            ..
        } if faults.forbids(verb, &crate::resources::key(resource, group)) => None,
        _ => Some(grant),
    }
}

/// Whether `user` may `verb` the target (`verb` as RBAC names it), as [`decide`] says;
/// 403 in RBAC's words when not.
pub fn authorize(
    user: &User,
    verb: &str,
    target: &Target,
    faults: &Faults,
) -> Result<(), ApiError> {
    let resource = &target.resource;
    let attributes = Attributes::Resource {
        verb,
        group: &resource.group,
        resource: &resource.plural,
        subresource: target.subresource.as_deref(),
    };
    if decide(user, &attributes, faults).is_some() {
        return Ok(());
    }
    Err(forbidden(&Refusal {
        user: &user.name,
        verb,
        resource: &resource.key(),
        subresource: target.subresource.as_deref(),
        namespace: &target.namespace,
        name: target.name.as_deref(),
    }))
}

/// One request the authorizer refused.
pub struct Refusal<'a> {
    pub user: &'a str,
    pub verb: &'a str,
    /// As `resources` keys it: `pods`, `deployments.apps`.
    pub resource: &'a str,
    pub subresource: Option<&'a str>,
    /// `""` at the cluster scope.
    pub namespace: &'a str,
    pub name: Option<&'a str>,
}

/// A 403 as the RBAC authorizer words it.
pub fn forbidden(refusal: &Refusal<'_>) -> ApiError {
    let resource = refusal.resource;
    let (plural, group) = resource.split_once('.').unwrap_or((resource, ""));
    let scope = if refusal.namespace.is_empty() {
        "at the cluster scope".to_owned()
    } else {
        format!("in the namespace \"{}\"", refusal.namespace)
    };
    let what = refusal
        .subresource
        .map_or_else(|| plural.to_owned(), |sub| format!("{plural}/{sub}"));
    let subject = refusal.name.map_or_else(
        || resource.to_owned(),
        |name| format!("{resource} \"{name}\""),
    );
    let mut details = json!({"group": group, "kind": plural});
    if let Some(name) = refusal.name {
        details["name"] = json!(name);
    }
    ApiError::new(
        403,
        "Forbidden",
        format!(
            "{subject} is forbidden: User \"{}\" cannot {} resource \"{what}\" in API group \
             \"{group}\" {scope}",
            refusal.user, refusal.verb
        ),
    )
    .with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_the_listening_address_or_localhost_may_be_named() {
        let loopback = addr("127.0.0.1:6443");
        for host in ["127.0.0.1:6443", "localhost:6443", "LOCALHOST:6443"] {
            assert!(check_host(Some(host), loopback).is_ok(), "{host}");
        }
        for host in [
            "evil.example:6443",
            "127.0.0.1",
            "127.0.0.1:80",
            "127.0.0.2:6443",
            "kubernetes:6443",
            "",
        ] {
            let refused = check_host(Some(host), loopback).unwrap_err();
            assert_eq!((refused.code, refused.reason), (403, "Forbidden"), "{host}");
            assert!(
                refused.message.contains("DNS rebinding"),
                "{}",
                refused.message
            );
        }
        assert!(check_host(None, loopback).is_err());
        assert!(check_host(Some("[::1]:6443"), addr("[::1]:6443")).is_ok());
        let everywhere = addr("0.0.0.0:6443");
        assert!(check_host(Some("192.0.2.7:6443"), everywhere).is_ok());
        assert!(check_host(Some("rebound.example:6443"), everywhere).is_err());
    }

    fn secure() -> Authn {
        let viewer = User::authenticated(VIEWER, Vec::new());
        Authn::Secure {
            tokens: HashMap::from([("good".to_owned(), viewer)]),
        }
    }

    fn bearer(token: &str) -> axum::http::HeaderMap {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn a_known_token_is_its_user_an_unknown_one_401_none_anonymous() {
        let authn = secure();
        assert_eq!(
            authenticate(&authn, None, &bearer("good")).unwrap().name,
            VIEWER
        );
        let bad = authenticate(&authn, None, &bearer("bad")).unwrap_err();
        assert_eq!(
            (bad.code, bad.reason, bad.message.as_str()),
            (401, "Unauthorized", "Unauthorized")
        );
        let none = authenticate(&authn, None, &axum::http::HeaderMap::new()).unwrap();
        assert!(none.is_anonymous());
        let admin = Arc::new(User::authenticated(
            "kubernetes-admin",
            vec![MASTERS.into()],
        ));
        let cert = authenticate(
            &authn,
            Some(ClientCert(Some(admin.clone()))),
            &bearer("bad"),
        );
        assert_eq!(cert.unwrap(), *admin);
        let insecure = authenticate(&Authn::Insecure, None, &bearer("bad")).unwrap();
        assert!(insecure.groups.contains(&MASTERS.to_owned()));
    }

    #[test]
    fn anonymous_requests_reach_health_and_version_only() {
        let anonymous = User::anonymous();
        for path in ["/healthz", "/livez", "/readyz", "/version", "/version/"] {
            assert!(
                authorize_path(&anonymous, &Method::GET, path).is_ok(),
                "{path}"
            );
        }
        for path in ["/api", "/api/v1/pods", "/metrics", "/openapi/v3"] {
            let refused = authorize_path(&anonymous, &Method::GET, path).unwrap_err();
            assert_eq!(refused.code, 401, "{path}");
        }
        let viewer = User::authenticated(VIEWER, Vec::new());
        for path in [
            "/api",
            "/apis/apps/v1",
            "/openapi/v3",
            "/api/v1/pods",
            "/version",
        ] {
            assert!(
                authorize_path(&viewer, &Method::GET, path).is_ok(),
                "{path}"
            );
        }
        let metrics = authorize_path(&viewer, &Method::GET, "/metrics").unwrap_err();
        assert_eq!(
            (metrics.code, metrics.message.as_str()),
            (
                403,
                "forbidden: User \"kos-sim-viewer\" cannot get path \"/metrics\""
            )
        );
        let posted = authorize_path(&anonymous, &Method::POST, "/healthz").unwrap_err();
        assert_eq!(
            (posted.code, posted.message.as_str()),
            (
                403,
                "forbidden: User \"system:anonymous\" cannot post path \"/healthz\""
            )
        );
    }

    #[test]
    fn refusals_are_worded_as_rbac_words_them() {
        let refusal = |resource, subresource, namespace, name| {
            forbidden(&Refusal {
                user: VIEWER,
                verb: "create",
                resource,
                subresource,
                namespace,
                name,
            })
        };
        let error = refusal("configmaps", None, "default", None);
        assert_eq!((error.code, error.reason), (403, "Forbidden"));
        assert_eq!(
            error.message,
            "configmaps is forbidden: User \"kos-sim-viewer\" cannot create resource \
             \"configmaps\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!(
            error.details,
            Some(json!({"group": "", "kind": "configmaps"}))
        );
        let error = refusal("deployments.apps", Some("scale"), "", Some("web"));
        assert_eq!(
            error.message,
            "deployments.apps \"web\" is forbidden: User \"kos-sim-viewer\" cannot create \
             resource \"deployments/scale\" in API group \"apps\" at the cluster scope"
        );
        assert_eq!(
            error.details,
            Some(json!({"group": "apps", "kind": "deployments", "name": "web"}))
        );
    }
}
