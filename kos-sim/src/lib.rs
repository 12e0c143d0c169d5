//! The simulated cluster: a Kubernetes API server, its controllers and a kubelet, in
//! process, over real HTTP on 127.0.0.1.
//!
//! It exists to demo, test and benchmark kos. Nothing in kos's own code path may know it is
//! there: kos reaches it only through a kubeconfig, like any other cluster.
//!
//! Layout: [`store`] holds every object and the watch history; [`resources`] the served
//! types; [`api`] the HTTP API (with [`table`], [`log_api`] and [`faults`]);
//! [`controllers`] and [`kubelet`] run the workloads; [`clock`] scales simulated time;
//! [`logs`] keeps container logs. [`start`] puts them together and [`Sim`] is the running
//! cluster.

pub mod admission;
pub mod api;
pub mod clock;
pub mod controllers;
pub mod duration;
pub mod errors;
pub mod faults;
pub mod kubelet;
pub mod log_api;
pub mod logs;
pub mod resources;
pub mod scheduler;
pub mod serve;
pub mod store;
pub mod table;

use crate::api::Api;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::logs::Logs;
use crate::resources::Registry;
use crate::store::Store;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
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
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1.0,
            faults: Arc::new(Faults::default()),
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
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    controllers: JoinSet<()>,
}

/// Starts the simulated cluster: the store with its initial namespaces, the controllers
/// and the kubelet, and the API server.
pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
    let bind_error = |source| SimError::Bind {
        addr: config.addr,
        source,
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
    let server = Server {
        addr,
        router: api::router(api.clone()),
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
        stop,
        server,
        controllers,
    })
}

/// The serving loop: serves until stopped, and with `restart-every` drops every
/// connection, keeps the port closed for a second, and serves again.
struct Server {
    addr: SocketAddr,
    router: axum::Router,
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
            // Watch events are small writes: with Nagle's algorithm on, one waits for the
            // client's delayed ACK (40 ms). Real API servers (Go) turn it off.
            let listening = listener.tap_io(|stream| {
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, "cannot set TCP_NODELAY");
                }
            });
            let serving =
                axum::serve(listening, self.router.clone()).with_graceful_shutdown(signal);
            if let Err(error) = serving.await {
                tracing::error!(%error, "the simulated API server failed");
                return;
            }
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

    /// Stops the cluster: the controllers stop, open watches end, in-flight requests
    /// finish, the port closes.
    pub async fn shutdown(mut self) {
        self.controllers.shutdown().await;
        self.stop.send_replace(true);
        // The server task ends once its connections have; a panic in it is already logged.
        let _ = self.server.await;
    }
}
