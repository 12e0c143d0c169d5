//! Request counts, served at `/metrics` the way a real API server exposes them
//! (`apiserver_request_total{code, verb}` in the Prometheus text format), so that tests and
//! benchmarks can tell how many requests a client made — for instance how hard it retried
//! under `--faults`.
//!
//! It counts and renders only; it must not change any request or answer.

use super::{Api, PathKind, parse_path};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

/// Requests served so far, by verb and response code.
#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

impl Metrics {
    fn record(&self, verb: &'static str, code: u16) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry((verb, code)).or_default() += 1;
    }

    /// The counts in the Prometheus text format.
    pub fn render(&self) -> String {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = String::from(
            "# HELP apiserver_request_total Counter of apiserver requests broken out for each \
             verb and HTTP response code.\n# TYPE apiserver_request_total counter\n",
        );
        for ((verb, code), count) in counts.iter() {
            let _ = writeln!(
                text,
                "apiserver_request_total{{code=\"{code}\",verb=\"{verb}\"}} {count}"
            );
        }
        text
    }
}

/// The verb a real API server's metrics give a request: LIST and WATCH apart from GET, and
/// server-side apply (APPLY) apart from other patches.
fn verb(method: &Method, path: &str, query: &str, content_type: &str) -> &'static str {
    let collection = matches!(
        parse_path(path),
        Some(PathKind::Resource(parts)) if parts.name.is_none()
    );
    let watch = query
        .split('&')
        .any(|pair| matches!(pair, "watch=1" | "watch=true"));
    match *method {
        Method::GET if collection && watch => "WATCH",
        Method::GET if collection => "LIST",
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH if content_type.starts_with("application/apply-patch") => "APPLY",
        Method::PATCH => "PATCH",
        Method::DELETE if collection => "DELETECOLLECTION",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

/// Middleware: counts every request by verb and the code it was answered with.
pub async fn count(State(api): State<Arc<Api>>, request: Request, next: Next) -> Response {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let uri = request.uri();
    let verb = verb(
        request.method(),
        uri.path(),
        uri.query().unwrap_or_default(),
        content_type,
    );
    let response = next.run(request).await;
    api.metrics.record(verb, response.status().as_u16());
    response
}

/// `GET /metrics`.
pub async fn serve(State(api): State<Arc<Api>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        api.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_named_as_a_real_server_names_them() {
        let pods = "/api/v1/namespaces/ns/pods";
        assert_eq!(verb(&Method::GET, pods, "watch=1&rv=5", ""), "WATCH");
        assert_eq!(verb(&Method::GET, pods, "limit=500", ""), "LIST");
        assert_eq!(
            verb(&Method::GET, "/api/v1/namespaces/ns/pods/p", "", ""),
            "GET"
        );
        assert_eq!(verb(&Method::GET, "/apis/apps/v1", "", ""), "GET");
        let deployment = "/apis/apps/v1/namespaces/ns/deployments/web";
        let apply = "application/apply-patch+yaml";
        assert_eq!(verb(&Method::PATCH, deployment, "", apply), "APPLY");
        assert_eq!(
            verb(
                &Method::PATCH,
                deployment,
                "",
                "application/merge-patch+json"
            ),
            "PATCH"
        );
        assert_eq!(verb(&Method::DELETE, pods, "", ""), "DELETECOLLECTION");
    }

    #[test]
    fn counts_render_per_verb_and_code() {
        let metrics = Metrics::default();
        metrics.record("LIST", 200);
        metrics.record("LIST", 200);
        metrics.record("WATCH", 500);
        let text = metrics.render();
        assert!(text.contains("apiserver_request_total{code=\"200\",verb=\"LIST\"} 2\n"));
        assert!(text.contains("apiserver_request_total{code=\"500\",verb=\"WATCH\"} 1\n"));
    }
}
