//! The simulated cluster: a Kubernetes API server, its controllers and a kubelet, in
//! process, over real HTTPS on 127.0.0.1.
//!
//! It exists to demo, test and benchmark kos. Nothing in kos's own code path may know it is
//! there: kos reaches it only through a kubeconfig, like any other cluster.
//!
//! Layout: [`store`] holds every object and the watch history; [`resources`] the served
//! types; [`api`] the HTTP API (with [`table`], [`log_api`] and [`faults`]);
//! [`controllers`] and [`kubelet`] run the workloads; [`clock`] scales simulated time;
//! [`logs`] keeps container logs; [`tls`] makes the certificates and [`listener`] serves the
//! connections. [`start`] puts them together and [`Sim`] is the running cluster.

pub mod admission;
pub mod api;
pub mod clock;
pub mod controllers;
pub mod duration;
pub mod errors;
pub mod faults;
pub mod kubelet;
pub mod listener;
pub mod log_api;
pub mod logs;
pub mod resources;
pub mod scheduler;
pub mod serve;
pub mod store;
pub mod table;
pub mod tls;

use crate::api::Api;
use crate::api::auth::{self, Auth, Authn, User};
use crate::clock::Clock;
use crate::faults::Faults;
use crate::listener::Connections;
use crate::logs::Logs;
use crate::resources::Registry;
use crate::store::Store;
use crate::tls::{Certificates, ServingCert, TlsError};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The namespaces every cluster starts with.
const NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// How the simulated cluster runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// How much faster than real time the simulated clock runs.
    pub speed: f64,
    /// The faults the API injects (`--faults`).
    pub faults: Arc<Faults>,
    pub transport: Transport,
    /// The deadline of a TLS handshake and of a request's headers.
    pub header_read_timeout: Duration,
    /// Where the certificates and tokens are kept across restarts; None: new ones each start.
    pub pki_dir: Option<PathBuf>,
}

/// How the API server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTPS with a CA made at start; requests need credentials.
    Https(ServingCert),
    /// Plain HTTP, no credentials (`--insecure-http`): for debugging only.
    InsecureHttp,
}

/// kube-apiserver's deadline for a request's headers (`ReadHeaderTimeout`).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(32);

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1.0,
            faults: Arc::new(Faults::default()),
            transport: Transport::Https(ServingCert::CaSigned),
            header_read_timeout: HEADER_READ_TIMEOUT,
            pki_dir: None,
        }
    }
}

/// Why the simulated cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The admin's user entry in the kubeconfig, named as kubeadm names it.
const ADMIN: &str = tls::ADMIN_USER;

/// How long a `restart-every` restart keeps the port closed.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// A running simulated cluster. Dropping it stops nothing; call [`Sim::shutdown`].
pub struct Sim {
    /// The address the API server listens on.
    pub addr: SocketAddr,
    pub store: Arc<Store>,
    pub registry: Arc<Registry>,
    pub logs: Logs,
    pub clock: Clock,
    /// None over plain HTTP.
    certificates: Option<Certificates>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    controllers: JoinSet<()>,
}

/// How requests are authenticated: by the certificates' admin and the viewer's token, or
/// (plain HTTP) not at all.
fn authn(certificates: Option<&Certificates>) -> Authn {
    match certificates {
        None => Authn::Insecure,
        Some(certs) => Authn::Secure {
            tokens: HashMap::from([(
                certs.viewer_token.clone(),
                User::authenticated(auth::VIEWER, Vec::new()),
            )]),
        },
    }
}

/// Starts the simulated cluster: the store with its initial namespaces, the controllers
/// and the kubelet, and the API server.
pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
    let bind_error = |source| SimError::Bind {
        addr: config.addr,
        source,
    };
    let certificates = match (config.transport, &config.pki_dir) {
        (Transport::InsecureHttp, _) => None,
        (Transport::Https(shape), None) => Some(Certificates::generate(shape)?),
        (Transport::Https(shape), Some(dir)) => Some(Certificates::kept_in(dir, shape)?),
    };
    let listener = TcpListener::bind(config.addr).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let store = Arc::new(Store::default());
    for name in NAMESPACES {
        // A fresh store has no namespaces: creating them cannot collide.
        let _ = store.create("namespaces", api::namespaces::object(name));
    }
    let (epoch, epoch_rx) = watch::channel(0);
    let (stop, stop_rx) = watch::channel(false);
    let api = Arc::new(Api {
        store: store.clone(),
        registry: Arc::new(Registry::default()),
        logs: Logs::default(),
        clock: Clock::new(config.speed),
        faults: config.faults.clone(),
        epoch: epoch_rx,
        stop: stop_rx.clone(),
        metrics: api::metrics::Metrics::default(),
    });
    let controllers = controllers::spawn(store.clone(), api.logs.clone(), api.clock);
    let auth = Arc::new(Auth {
        addr,
        authn: authn(certificates.as_ref()),
    });
    let server = Server {
        addr,
        connections: Connections {
            router: api::router(api.clone(), auth),
            tls: certificates.as_ref().map(|certs| certs.server.clone()),
            header_read_timeout: config.header_read_timeout,
        },
        epoch,
        stop: stop_rx,
        restart_every: config.faults.restart_every(),
    };
    let server = tokio::spawn(server.run(listener));
    Ok(Sim {
        addr,
        store,
        registry: api.registry.clone(),
        logs: api.logs.clone(),
        clock: api.clock,
        certificates,
        stop,
        server,
        controllers,
    })
}

/// The serving loop: serves until stopped, and with `restart-every` drops every
/// connection, keeps the port closed for a second, and serves again.
struct Server {
    addr: SocketAddr,
    connections: Connections,
    epoch: watch::Sender<u64>,
    stop: watch::Receiver<bool>,
    restart_every: Option<Duration>,
}

impl Server {
    async fn run(mut self, mut listener: TcpListener) {
        loop {
            let mut stop = self.stop.clone();
            let restart_every = self.restart_every;
            let epoch = self.epoch.clone();
            let signal = async move {
                tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => {}
                    () = restart_timer(restart_every) => {}
                }
                // Open watch streams end, so that the graceful shutdown can finish.
                epoch.send_modify(|epoch| *epoch += 1);
            };
            self.connections.serve(listener, signal).await;
            if *self.stop.borrow() {
                return;
            }
            match self.reopen().await {
                Some(reopened) => listener = reopened,
                None => return,
            }
        }
    }

    /// Waits out the restart pause and listens again; None when stopped meanwhile.
    async fn reopen(&mut self) -> Option<TcpListener> {
        tokio::select! {
            _ = self.stop.wait_for(|stopped| *stopped) => return None,
            () = tokio::time::sleep(RESTART_PAUSE) => {}
        }
        loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => return Some(listener),
                Err(error) => {
                    tracing::warn!(%error, "the simulated API server cannot listen again yet");
                    tokio::select! {
                        _ = self.stop.wait_for(|stopped| *stopped) => return None,
                        () = tokio::time::sleep(RESTART_PAUSE) => {}
                    }
                }
            }
        }
    }
}

async fn restart_timer(every: Option<Duration>) {
    match every {
        Some(every) => tokio::time::sleep(every).await,
        None => std::future::pending().await,
    }
}

impl Sim {
    /// The API server's URL: `https://127.0.0.1:PORT` (`http://` with `--insecure-http`).
    pub fn url(&self) -> String {
        let scheme = match self.certificates {
            Some(_) => "https",
            None => "http",
        };
        format!("{scheme}://{}", self.addr)
    }

    /// A kubeconfig for this cluster, as kubeadm and kind write one: the cluster's CA, and
    /// the admin's client certificate in the current context `kos-sim`; a second context,
    /// `kos-sim-viewer`, is a read-only user with a bearer token. Over plain HTTP it has
    /// the one context and no credentials.
    pub fn kubeconfig(&self) -> String {
        let url = self.url();
        let context = |name: &str, user: &str| {
            format!(
                "- name: {name}\n  context:\n    cluster: kos-sim\n    user: {user}\n    namespace: default\n"
            )
        };
        let (ca, users, contexts) = match &self.certificates {
            None => (
                String::new(),
                format!("- name: {ADMIN}\n  user: {{}}\n"),
                context("kos-sim", ADMIN),
            ),
            Some(certs) => (
                format!("    certificate-authority-data: {}\n", certs.trusted_data()),
                format!(
                    "- name: {ADMIN}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n\
                     - name: {viewer}\n  user:\n    token: {token}\n",
                    certs.admin.cert_data(),
                    certs.admin.key_data(),
                    viewer = auth::VIEWER,
                    token = certs.viewer_token,
                ),
                context("kos-sim", ADMIN) + &context(auth::VIEWER, auth::VIEWER),
            ),
        };
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: kos-sim\n  cluster:\n    server: {url}\n{ca}\
             users:\n{users}\
             contexts:\n{contexts}\
             current-context: kos-sim\n\
             preferences: {{}}\n"
        )
    }

    /// Stops the cluster: the controllers stop, open watches end, in-flight requests
    /// finish, the port closes.
    pub async fn shutdown(mut self) {
        self.controllers.shutdown().await;
        self.stop.send_replace(true);
        // The server task ends once its connections have; a panic in it is already logged.
        let _ = self.server.await;
    }
}
