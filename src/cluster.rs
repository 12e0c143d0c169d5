//! Cluster access as kubectl does it: `--kubeconfig`, `KUBECONFIG` (several paths merged),
//! `--context`, `-n` and the context's namespace; whatever auth kube-rs supports (tokens,
//! client certificates, exec plugins). Also turns kube errors into messages a person can act
//! on (the server that cannot be reached, the verb and resource that were forbidden).
//!
//! It builds clients and words errors; it must not apply, watch or print anything.

use crate::cli::ClusterArgs;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
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
                message: if sensitive {
                    status.reason.clone()
                } else {
                    status.message.clone()
                },
            },
            kube::Error::Api(status) => ApiError::Rejected {
                verb,
                resource,
                code: status.code,
                reason: status.reason.clone(),
                message: if sensitive {
                    "(the server's message is withheld: it may quote Secret data)".to_owned()
                } else {
                    status.message.clone()
                },
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_) => {
                ApiError::Unreachable {
                    server: server.to_owned(),
                    reason: root_cause(error),
                }
            }
            other => ApiError::Other {
                verb,
                resource,
                reason: root_cause(other),
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

/// The innermost message of an error chain: "Connection refused (os error 111)" rather than
/// "`ServiceError`: client error (Connect)".
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read the kubeconfig: {0}")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    #[error("cannot set up a client for {server}: {reason}")]
    Client { server: String, reason: String },
}

/// Builds a client from the kubeconfig the way kubectl would choose it. Sends no request.
pub async fn connect(args: &ClusterArgs) -> Result<Cluster, ConnectError> {
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(ConnectError::Kubeconfig)?;
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
    let server = config.cluster_url.to_string();
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).map_err(|error| ConnectError::Client {
        server: server.clone(),
        reason: root_cause(&error),
    })?;
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

    fn api_error(code: u16, message: &str) -> kube::Error {
        let mut status = Status::failure(message, "Forbidden");
        status.code = code;
        kube::Error::Api(Box::new(status))
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

    #[tokio::test]
    async fn a_missing_kubeconfig_is_an_error_not_a_panic() {
        let args = ClusterArgs {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..ClusterArgs::default()
        };
        assert!(matches!(
            connect(&args).await,
            Err(ConnectError::Kubeconfig(_))
        ));
    }
}
