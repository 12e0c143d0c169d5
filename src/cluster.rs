//! Cluster access as kubectl does it: `--kubeconfig`, `KUBECONFIG` (several paths merged),
//! `--context`, `-n` and the context's namespace; whatever auth kube-rs supports (tokens,
//! client certificates, exec plugins). Also turns kube errors into messages a person can act
//! on (the server that cannot be reached, the verb and resource that were forbidden).
//!
//! It builds clients and words errors; it must not apply, watch or print anything.

use crate::cli::ClusterArgs;
pub mod exec_guard;
pub mod kubeconfig;
pub mod limits;
pub mod warning;

use kube::config::KubeConfigOptions;
use kube::{Client, Config};
use rand::Rng;
use std::time::Duration;

/// How long to wait for a TCP (and TLS) connection before calling the cluster unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected client and what the front ends show about it.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The API server's URL, for error messages.
    pub server: String,
    /// The namespace of objects that name none: `-n`, else the context's, else `default`.
    pub namespace: String,
    /// The kubeconfig context in use, when it has a name.
    pub context: Option<String>,
}

/// Why a request to the cluster failed, worded for a person.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the cluster at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    #[error("forbidden: cannot {verb} {resource}: {message}")]
    Forbidden {
        verb: String,
        resource: String,
        message: String,
    },
    #[error("{verb} {resource} failed ({code} {reason}): {message}")]
    Rejected {
        verb: String,
        resource: String,
        code: u16,
        reason: String,
        message: String,
    },
    #[error("{verb} {resource} failed: {reason}")]
    Other {
        verb: String,
        resource: String,
        reason: String,
    },
}

impl ApiError {
    /// Words a kube error of request `verb` on `resource` (e.g. `create`, `secrets in
    /// namespace ns`). `sensitive`: the server's message may echo the object's data (a
    /// Secret's), so only its code and reason are kept.
    pub fn from_kube(
        error: &kube::Error,
        server: &str,
        verb: &str,
        resource: &str,
        sensitive: bool,
    ) -> Self {
        let verb = verb.to_owned();
        let resource = resource.to_owned();
        match error {
            kube::Error::Api(status) if status.code == 403 => ApiError::Forbidden {
                verb,
                resource,
                message: quote(if sensitive {
                    &status.reason
                } else {
                    &status.message
                }),
            },
            kube::Error::Api(status) => ApiError::Rejected {
                verb,
                resource,
                code: status.code,
                reason: quote(&status.reason),
                message: if sensitive {
                    "(the server's message is withheld: it may quote Secret data)".to_owned()
                } else {
                    quote(&status.message)
                },
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_)
                if auth_problem(error).is_none() && !limits::exceeded(error) =>
            {
                ApiError::Unreachable {
                    server: server.to_owned(),
                    reason: with_tls_hint(describe(error)),
                }
            }
            other => ApiError::Other {
                verb,
                resource,
                reason: describe(other),
            },
        }
    }

    /// The HTTP status code of a rejected request.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Forbidden { .. } => Some(403),
            ApiError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// How long one request may be retried on transient failures before its error stands.
/// Long enough to ride out an API server restart, short enough to name an unreachable one
/// promptly.
const RETRY_BUDGET: Duration = Duration::from_secs(8);
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Whether another try of the same request may succeed: the server was overloaded or briefly
/// failing (429, 5xx), or could not be reached at all.
pub fn is_transient(error: &kube::Error) -> bool {
    match error {
        // A webhook that cannot be called waits for its pods, which takes longer than this
        // budget: `retry_webhooks` waits for it instead.
        kube::Error::Api(status) => {
            matches!(status.code, 429 | 500 | 502 | 503 | 504) && !webhook_unavailable(error)
        }
        // A certificate refused now is refused on every try.
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_) => {
            !limits::exceeded(error) && !root_cause(error).starts_with(CERTIFICATE_REFUSED)
        }
        _ => false,
    }
}

/// How rustls begins the message of a server certificate it refuses.
const CERTIFICATE_REFUSED: &str = "invalid peer certificate";

/// A refused certificate, with what to do when kubectl would have taken it: rustls (the TLS
/// of kube-rs) refuses a CA certificate served as the server's own, even when the kubeconfig
/// trusts that very certificate as its CA; Go's TLS, and so kubectl, accepts it.
fn with_tls_hint(reason: String) -> String {
    if reason.starts_with(CERTIFICATE_REFUSED) && reason.contains("CaUsedAsEndEntity") {
        format!(
            "{reason}: the server's certificate is a CA certificate (a self-signed one used as \
             its own CA), which kos's TLS refuses though kubectl accepts it; serve a \
             certificate signed by a CA, or set `insecure-skip-tls-verify: true` for this \
             cluster in the kubeconfig"
        )
    } else {
        reason
    }
}

/// Runs `request` until it succeeds, fails for good, or [`RETRY_BUDGET`] is spent, waiting
/// between tries with exponential back-off (or the server's `Retry-After`, capped). Only for
/// idempotent requests: reads and server-side applies.
pub async fn retry<T, F, Fut>(mut request: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
    let mut delay = FIRST_RETRY;
    loop {
        match request().await {
            Err(error) if is_transient(&error) => {
                let wait = retry_after(&error)
                    .unwrap_or_else(|| jittered(delay, 0.5))
                    .min(MAX_RETRY_DELAY);
                if tokio::time::Instant::now() + wait >= deadline {
                    return Err(error);
                }
                tracing::debug!(%error, ?wait, "transient API error; retrying");
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
            result => return result,
        }
    }
}

/// Whether the API server refused a request because it could not call an admission webhook
/// (its Service has no ready endpoint, does not exist, or does not answer yet), as
/// kube-apiserver words it: the answer of a webhook still starting.
pub fn webhook_unavailable(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => {
            status.code == 500
                && (status.message.contains("failed calling webhook")
                    || status
                        .message
                        .contains("no endpoints available for service"))
        }
        _ => false,
    }
}

/// Runs `request` (each time through [`retry`]) again while the API server cannot call an
/// admission webhook, with back-off, until `deadline` (`None`: no end; the step timeout
/// ends the run then). `waiting` gets the server's message before each wait, to say why.
/// Only for idempotent requests.
pub async fn retry_webhooks<T, F, Fut>(
    deadline: Option<tokio::time::Instant>,
    mut waiting: impl FnMut(&str),
    mut request: F,
) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = FIRST_RETRY;
    loop {
        match retry(&mut request).await {
            Err(error) if webhook_unavailable(&error) => {
                let wait = jittered(delay, 0.5);
                if deadline.is_some_and(|d| tokio::time::Instant::now() + wait >= d) {
                    return Err(error);
                }
                waiting(&describe(&error));
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
            result => return result,
        }
    }
}

/// `delay`, give or take `spread` of it (0.5: half). Without jitter, retries whose waits
/// reach the cap keep step with a server that restarts on a fixed period and can land in its
/// outage every time, and watches cut at once all come back in the same instant.
pub fn jittered(delay: Duration, spread: f64) -> Duration {
    delay.mul_f64(rand::rng().random_range(1.0 - spread..1.0 + spread))
}

/// The wait a 429 (or 5xx) asks for in its Status details.
fn retry_after(error: &kube::Error) -> Option<Duration> {
    match error {
        kube::Error::Api(status) => status
            .details
            .as_ref()
            .map(|d| d.retry_after_seconds)
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(u64::from(s))),
        _ => None,
    }
}

/// The innermost message of an error chain: "Connection refused (os error 111)" rather than
/// "`ServiceError`: client error (Connect)".
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// How much of a message that the server (or a proxy before it) sent is quoted in an error:
/// an error body may be a gigabyte.
pub const QUOTED_BYTES: usize = 1024;

/// A server's text for an error message: cleaned and bounded.
fn quote(text: &str) -> String {
    crate::output::safe::clean_bounded(text, QUOTED_BYTES)
}

/// A kube error in a few words a person can act on, quoting at most [`QUOTED_BYTES`] of what
/// the server said and nothing of what a credential plugin printed.
pub fn describe(error: &kube::Error) -> String {
    if let Some(problem) = auth_problem(error) {
        return problem;
    }
    match error {
        kube::Error::Api(status) => quote(&status.message),
        other => quote(&root_cause(other)),
    }
}

/// What went wrong with the credentials, worded without their content: kube's own messages
/// quote an exec plugin's whole output (its token) and the YAML it could not parse.
fn auth_problem(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    use kube::client::AuthError;
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(auth) = error.downcast_ref::<AuthError>() {
            return Some(match auth {
                AuthError::AuthExecRun { out, .. } => match exec_guard::said(&out.stderr) {
                    Some(said) => format!("the exec credential plugin failed: {said}"),
                    None => format!(
                        "the exec credential plugin failed ({}); its output is not shown",
                        out.status
                    ),
                },
                AuthError::AuthExecParse(parse) => format!(
                    "the exec credential plugin's output is not an ExecCredential{}; it is \
                     not shown",
                    yaml_position(parse)
                ),
                AuthError::AuthExecStart(io) => {
                    format!("cannot start the exec credential plugin: {io}")
                }
                AuthError::ReadTokenFile(io, path) => {
                    format!("cannot read the tokenFile {}: {io}", path.display())
                }
                AuthError::InvalidBearerToken(_) | AuthError::InvalidBasicAuth(_) => {
                    "the credentials hold characters an HTTP header cannot carry".to_owned()
                }
                _ => "authentication failed (the credential's content is not shown)".to_owned(),
            });
        }
        current = error.source();
    }
    None
}

/// ` at line L, column C` of a YAML error, when it knows where.
pub fn yaml_position(error: &serde_saphyr::Error) -> String {
    error.location().map_or_else(String::new, |at| {
        format!(" at line {}, column {}", at.line(), at.column())
    })
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Read(#[from] kubeconfig::Problem),
    #[error("cannot use the kubeconfig: {0}")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    #[error("cannot set up a client for {server}: {reason}")]
    Client { server: String, reason: String },
}

/// Builds a client from the kubeconfig the way kubectl would choose it. Sends no request.
pub async fn connect(args: &ClusterArgs) -> Result<Cluster, ConnectError> {
    let kubeconfig = kubeconfig::load(args.kubeconfig.as_deref())?;
    let context = args
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone());
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(ConnectError::Kubeconfig)?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    // kube's own retry layer answers 429/503/504 with up to 15 tries whose back-off grows
    // towards 1 000 s: one request could outlive any step timeout, and a watch would hide a
    // 504 "Too large resource version" for minutes. kos retries where it matters itself
    // (`retry`, with a bounded budget) and its watches back off on their own.
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|error| ConnectError::Client {
            server: server.clone(),
            reason: describe(&error),
        })?
        .with_layer(&limits::LimitLayer)
        .build();
    Ok(Cluster {
        client,
        server,
        namespace,
        context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    #[test]
    fn retry_waits_are_jittered_around_the_back_off() {
        let delay = Duration::from_secs(2);
        let waits: Vec<Duration> = (0..200).map(|_| jittered(delay, 0.5)).collect();
        assert!(waits.iter().all(|w| *w >= delay / 2 && *w < delay * 3 / 2));
        let early = waits.iter().filter(|w| **w < delay).count();
        assert!(
            (40..160).contains(&early),
            "{early} of 200 below the back-off"
        );
    }

    fn api_error(code: u16, message: &str) -> kube::Error {
        let mut status = Status::failure(message, "Forbidden");
        status.code = code;
        kube::Error::Api(Box::new(status))
    }

    const NO_ENDPOINTS: &str = "Internal error occurred: failed calling webhook \"webhook.cert-manager.io\": failed to call webhook: Post \"https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s\": no endpoints available for service \"cert-manager-webhook\"";

    #[test]
    fn a_webhook_that_cannot_be_called_is_told_by_its_answer() {
        assert!(webhook_unavailable(&api_error(500, NO_ENDPOINTS)));
        assert!(!webhook_unavailable(&api_error(422, NO_ENDPOINTS)));
        assert!(!webhook_unavailable(&api_error(
            500,
            "etcdserver: request timed out"
        )));
        // Left to `retry_webhooks`, which may wait longer than the transient budget.
        assert!(!is_transient(&api_error(500, NO_ENDPOINTS)));
        assert!(is_transient(&api_error(
            500,
            "etcdserver: request timed out"
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn webhook_answers_are_retried_past_the_transient_budget_until_the_deadline() {
        let started = tokio::time::Instant::now();
        let mut tries = 0;
        let mut said = Vec::new();
        let answered = retry_webhooks(
            None,
            |m| said.push(m.to_owned()),
            || {
                tries += 1;
                let ready = started.elapsed() > RETRY_BUDGET * 2;
                async move {
                    if ready {
                        Ok(tries)
                    } else {
                        Err(api_error(500, NO_ENDPOINTS))
                    }
                }
            },
        )
        .await;
        assert!(answered.is_ok_and(|n| n > 1));
        assert!(said[0].contains("no endpoints available"), "{said:?}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        let refused: Result<(), _> = retry_webhooks(
            Some(deadline),
            |_| {},
            || async { Err(api_error(500, NO_ENDPOINTS)) },
        )
        .await;
        assert!(refused.is_err_and(|e| webhook_unavailable(&e)));
        assert!(tokio::time::Instant::now() <= deadline);
    }

    #[test]
    fn forbidden_names_verb_and_resource() {
        let error = ApiError::from_kube(
            &api_error(403, "user cannot create secrets"),
            "https://x",
            "create",
            "secrets in namespace ns",
            false,
        );
        let text = error.to_string();
        assert!(
            text.contains("cannot create secrets in namespace ns"),
            "{text}"
        );
        assert_eq!(error.code(), Some(403));
    }

    #[test]
    fn sensitive_messages_are_withheld() {
        let error = ApiError::from_kube(
            &api_error(422, "data.password: Invalid value: \"hunter2\""),
            "https://x",
            "apply",
            "Secret ns/db",
            true,
        );
        assert!(!error.to_string().contains("hunter2"));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_with_back_off_and_others_are_not() {
        let tries = std::sync::atomic::AtomicU32::new(0);
        let result = retry(|| async {
            let n = tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n < 3 {
                Err(api_error(503, "busy"))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);

        let start = tokio::time::Instant::now();
        tries.store(0, std::sync::atomic::Ordering::SeqCst);
        let result: Result<(), _> = retry(|| async {
            tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(api_error(500, "down"))
        })
        .await;
        assert!(result.is_err());
        let tries_made = tries.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            (4..=10).contains(&tries_made),
            "backs off: {tries_made} tries"
        );
        assert!(start.elapsed() <= RETRY_BUDGET);

        tries.store(0, std::sync::atomic::Ordering::SeqCst);
        let result: Result<(), _> = retry(|| async {
            tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(api_error(422, "invalid"))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(tries.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_is_an_error_not_a_panic() {
        let args = ClusterArgs {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..ClusterArgs::default()
        };
        assert!(matches!(connect(&args).await, Err(ConnectError::Read(_))));
    }
}
