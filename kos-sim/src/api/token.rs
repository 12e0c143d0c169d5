//! `serviceaccounts/NAME/token`: the TokenRequest `kubectl create token` sends. The answer
//! carries a token shaped as the API server's (a JWT naming the ServiceAccount, its
//! audiences and expiry) whose signature is a placeholder: the simulated cluster
//! authenticates only the credentials it wrote into its kubeconfig, so the token is for
//! reading, not for calling the API with.

// Kubernetes kind names (TokenRequest, ServiceAccount) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

use super::objects::body;
use super::{Call, json};
use crate::errors::ApiError;
use crate::store::Store;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

/// How long a token lives when the request does not say (the API server's default).
const DEFAULT_SECONDS: i64 = 3600;

/// Answers a TokenRequest for the ServiceAccount the call names.
pub fn create(store: &Store, call: &Call) -> Result<Response, ApiError> {
    let namespace = call.target.namespace.as_str();
    let name = call.target.name.as_deref().unwrap_or_default();
    if store.get("serviceaccounts", namespace, name).is_none() {
        return Err(ApiError::not_found(format!(
            "serviceaccounts \"{name}\" not found"
        )));
    }
    let request = body(call)?;
    Ok(json(
        StatusCode::CREATED,
        &answer(&request, namespace, name),
    ))
}

/// The TokenRequest answered: the request's spec, with its audiences and expiry filled in,
/// and the token in its status.
fn answer(request: &Value, namespace: &str, name: &str) -> Value {
    let seconds = request["spec"]["expirationSeconds"]
        .as_i64()
        .unwrap_or(DEFAULT_SECONDS);
    let audiences = match &request["spec"]["audiences"] {
        Value::Array(list) if !list.is_empty() => Value::Array(list.clone()),
        _ => json!(["https://kubernetes.default.svc.cluster.local"]),
    };
    let issued = Utc::now();
    let expires = issued + chrono::Duration::seconds(seconds);
    let claims = json!({
        "aud": audiences,
        "exp": expires.timestamp(),
        "iat": issued.timestamp(),
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
    });
    let part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let token = format!(
        "{}.{}.{}",
        part(&json!({"alg": "RS256", "typ": "JWT"})),
        part(&claims),
        URL_SAFE_NO_PAD.encode("simulated-signature")
    );
    let mut spec = request["spec"].clone();
    if !spec.is_object() {
        spec = json!({});
    }
    spec["audiences"] = audiences;
    spec["expirationSeconds"] = json!(seconds);
    json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace,
                     "creationTimestamp": issued.to_rfc3339_opts(SecondsFormat::Secs, true)},
        "spec": spec,
        "status": {"token": token,
                   "expirationTimestamp": expires.to_rfc3339_opts(SecondsFormat::Secs, true)},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(answer: &Value) -> Value {
        let token = answer["status"]["token"].as_str().expect("a token");
        let payload = token.split('.').nth(1).expect("three parts");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("JSON claims")
    }

    #[test]
    fn the_token_names_the_account_its_audiences_and_expiry() {
        let request = json!({"spec": {"audiences": ["vault"], "expirationSeconds": 600}});
        let answer = answer(&request, "shop", "robot");
        let claims = claims(&answer);
        assert_eq!(claims["sub"], "system:serviceaccount:shop:robot");
        assert_eq!(claims["aud"], json!(["vault"]));
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            600
        );
        assert_eq!(answer["spec"]["expirationSeconds"], 600);
        assert!(answer["status"]["expirationTimestamp"].is_string());
    }

    #[test]
    fn an_empty_request_gets_the_api_servers_audience_and_an_hour() {
        let answer = answer(&json!({}), "shop", "robot");
        assert_eq!(
            answer["spec"]["audiences"],
            json!(["https://kubernetes.default.svc.cluster.local"])
        );
        assert_eq!(answer["spec"]["expirationSeconds"], 3600);
    }
}
