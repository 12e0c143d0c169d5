//! The simulated cluster: a Kubernetes API server, its controllers and a kubelet, in
//! process, over real HTTP on 127.0.0.1 (DESIGN.md section 6).
//!
//! It exists to demo, test and benchmark kos. Nothing in kos's own code path may know it is
//! there: kos reaches it only through a kubeconfig, like any other cluster.
//!
//! Layout: [`store`] holds every object and the watch history; [`resources`] the served
//! types; [`api`] the HTTP API; [`clock`] scales simulated time; [`logs`] keeps container
//! logs. [`start`] puts them together and [`Sim`] is the running cluster.

pub mod api;
pub mod clock;
pub mod controllers;
pub mod errors;
pub mod faults;
pub mod kubelet;
pub mod log_api;
pub mod logs;
pub mod resources;
pub mod store;
pub mod table;

use crate::sim::api::Api;
use crate::sim::clock::Clock;
use crate::sim::logs::Logs;
use crate::sim::resources::Registry;
use crate::sim::store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The namespaces every cluster starts with.
const NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// How the simulated cluster runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// How much faster than real time the simulated clock runs.
    pub speed: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1.0,
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
}

/// A running simulated cluster. Dropping it stops nothing; call [`Sim::shutdown`].
pub struct Sim {
    /// The address the API server listens on.
    pub addr: SocketAddr,
    pub store: Arc<Store>,
    pub registry: Arc<Registry>,
    pub logs: Logs,
    pub clock: Clock,
    epoch: watch::Sender<u64>,
    server: JoinHandle<()>,
}

/// Starts the simulated cluster: the store with its initial namespaces, and the API server.
pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.addr,
        source,
    })?;
    let store = Arc::new(Store::default());
    for name in NAMESPACES {
        // A fresh store has no namespaces: creating them cannot collide.
        let _ = store.create("namespaces", api::namespaces::object(name));
    }
    let (epoch, epoch_rx) = watch::channel(0);
    let api = Arc::new(Api {
        store: store.clone(),
        registry: Arc::new(Registry::default()),
        logs: Logs::default(),
        clock: Clock::new(config.speed),
        epoch: epoch_rx,
    });
    let router = api::router(api.clone());
    let mut stopping = epoch.subscribe();
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = stopping.changed().await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(%error, "the simulated API server stopped");
        }
    });
    Ok(Sim {
        addr,
        store,
        registry: api.registry.clone(),
        logs: api.logs.clone(),
        clock: api.clock,
        epoch,
        server,
    })
}

impl Sim {
    /// The API server's URL: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig whose current context `kos-sim` points at this cluster.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: kos-sim\n  cluster:\n    server: {url}\n\
             users:\n\
             - name: kos-sim\n  user:\n    token: kos-sim-token\n\
             contexts:\n\
             - name: kos-sim\n  context:\n    cluster: kos-sim\n    user: kos-sim\n    namespace: default\n\
             current-context: kos-sim\n\
             preferences: {{}}\n",
            url = self.url()
        )
    }

    /// Stops the API server: open watches end, in-flight requests finish, the port closes.
    pub async fn shutdown(self) {
        self.epoch.send_modify(|epoch| *epoch += 1);
        // The server task ends once its connections have; a panic in it is already logged.
        let _ = self.server.await;
    }
}
