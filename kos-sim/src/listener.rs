//! The API server's connections: accepting them, the TLS handshake, HTTP/1.1 or HTTP/2 on
//! each, and closing them all when the server stops or restarts.
//!
//! It owns the connection-level limits a real API server has: `TCP_NODELAY`, a deadline for
//! the TLS handshake and for each request's headers (a client that opens connections and
//! sends nothing, or a byte a minute, ties up nothing for long). It reads who a verified
//! client certificate names and hands that to every request of the connection; what the
//! user may do is `api::auth`'s to decide. It must not know the API's routes.

use crate::api::auth::ClientCert;
use crate::tls;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// How long a failed `accept` (out of file descriptors, say) waits before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long a stop or restart lets the connections finish the requests they serve before it
/// cuts them. Watches end with the stop, but a followed log ends only with its container,
/// and a request read as the server stopped may have begun a watch of its own: waited for,
/// either would hold the port closed for as long as it runs.
const DRAIN: Duration = Duration::from_millis(500);

/// What every connection is served with.
#[derive(Clone)]
pub struct Connections {
    pub router: axum::Router,
    /// None: plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The deadline of the TLS handshake and of each request's headers.
    pub header_read_timeout: Duration,
}

impl Connections {
    /// Serves `listener` until `stop` resolves; then closes the port, asks every connection
    /// to end after the request it is serving, waits until they have, and cuts those still
    /// busy after [`DRAIN`].
    pub async fn serve(&self, listener: TcpListener, stop: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let mut open = tokio::task::JoinSet::new();
        let mut stop = std::pin::pin!(stop);
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
                Some(_) = open.join_next(), if !open.is_empty() => continue,
                () = &mut stop => break,
            };
            // Watch events are small writes: with Nagle's algorithm on, one waits for the
            // client's delayed ACK (40 ms). Real API servers (Go) turn it off.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
            // Taken now, so that a connection still in its handshake when the server stops
            // is waited for too.
            let watcher = graceful.watcher();
            let connections = self.clone();
            open.spawn(async move { connections.connection(stream, watcher).await });
        }
        drop(listener);
        if tokio::time::timeout(DRAIN, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::debug!("connections still busy after the drain are cut");
        }
        open.shutdown().await;
    }

    async fn connection(self, stream: TcpStream, watcher: Watcher) {
        let Some(config) = self.tls.clone() else {
            return self.http(stream, ClientCert::default(), watcher).await;
        };
        let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
        match tokio::time::timeout(self.header_read_timeout, handshake).await {
            Ok(Ok(stream)) => {
                let cert = ClientCert(
                    stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(tls::certificate_user)
                        .map(Arc::new),
                );
                self.http(stream, cert, watcher).await;
            }
            Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        }
    }

    async fn http<Io>(&self, io: Io, cert: ClientCert, watcher: Watcher)
    where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let router = self.router.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(cert.clone());
            router.clone().oneshot(request)
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        if let Err(error) = watcher.watch(connection).await {
            tracing::debug!(%error, "connection ended with an error");
        }
    }
}
