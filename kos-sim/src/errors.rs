//! API errors as a real API server writes them: a `Status` object with the HTTP code, a
//! reason (`NotFound`, `AlreadyExists`, `Conflict`, `Gone`, `Invalid`, `Forbidden`, ...) and
//! a message, so that kubectl and kube-rs show what they would show against a real cluster.

use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    /// The machine-readable `reason` of the Status object.
    pub reason: &'static str,
    pub message: String,
    /// `details` of the Status object (name, group, kind, causes), when known.
    pub details: Option<Value>,
    /// Seconds for a `Retry-After` header (429 and some 5xx).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, "NotFound", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    /// 422, naming the field that is wrong, as the API server's validation does.
    pub fn invalid(kind: &str, name: &str, field: &str, problem: &str) -> Self {
        let mut error = ApiError::new(
            422,
            "Invalid",
            format!("{kind} \"{name}\" is invalid: {field}: {problem}"),
        );
        error.details = Some(json!({
            "name": name, "kind": kind,
            "causes": [{"reason": "FieldValueInvalid", "message": problem, "field": field}],
        }));
        error
    }

    /// 504 for a list or watch from a resourceVersion the store has not reached, worded as
    /// a real API server's watch cache words it after waiting for it in vain. Clients that
    /// know it (client-go's reflector) relist from scratch: the server has lost its history,
    /// for instance after a restart with fresh state.
    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        let mut error = ApiError::new(
            504,
            "Timeout",
            format!("Too large resource version: {requested}, current: {current}"),
        );
        error.details = Some(json!({
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1,
        }));
        error.retry_after = Some(1);
        error
    }

    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The `Status` object of this error.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let message = error.to_string();
        match &error {
            StoreError::NotFound { resource, name } => {
                ApiError::not_found(message).with_details(json!({"name": name, "kind": resource}))
            }
            StoreError::AlreadyExists { resource, name } => {
                ApiError::new(409, "AlreadyExists", message)
                    .with_details(json!({"name": name, "kind": resource}))
            }
            StoreError::Conflict { resource, name } => ApiError::new(409, "Conflict", message)
                .with_details(json!({"name": name, "kind": resource})),
            StoreError::Gone { .. } => ApiError::new(410, "Expired", message),
            StoreError::Invalid(_) => ApiError::new(422, "Invalid", message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (code, axum::Json(self.status())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_kubernetes_codes() {
        let gone: ApiError = StoreError::Gone {
            requested: 1,
            oldest: 5,
        }
        .into();
        assert_eq!((gone.code, gone.reason), (410, "Expired"));
        let conflict: ApiError = StoreError::Conflict {
            resource: "pods".into(),
            name: "a".into(),
        }
        .into();
        assert_eq!(conflict.code, 409);
        let status =
            ApiError::invalid("Deployment", "web", "spec.replicas", "must be >= 0").status();
        assert_eq!(status["details"]["causes"][0]["field"], "spec.replicas");
        assert_eq!(status["kind"], "Status");
    }

    #[test]
    fn retry_after_becomes_a_header() {
        let mut error = ApiError::new(429, "TooManyRequests", "slow down");
        error.retry_after = Some(1);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
