//! `serve`: the simulated cluster as a standalone server, the command behind both
//! `kos sim serve` and the `kos-sim serve` binary. It writes the kubeconfig first, then
//! prints the one line tests and scripts read the address from, and serves until Ctrl-C or
//! SIGTERM.

use crate::faults::{Faults, FaultsError};
use crate::{SimConfig, SimError};
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Write a kubeconfig (context kos-sim) for this cluster to FILE
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Run the simulated clock X times faster
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = speed_arg)]
    pub speed: f64,
    /// Inject API faults: a comma-separated list of drop-watch=DUR, gone-on-rewatch=P,
    /// error-rate=P, latency=DUR, restart-every=DUR, forbid=VERB:RESOURCE
    #[arg(long, value_name = "SPEC", value_parser = faults_arg)]
    pub faults: Option<Arc<Faults>>,
}

/// A `--speed` value: a positive number.
pub fn speed_arg(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

/// A `--faults` value.
fn faults_arg(text: &str) -> Result<Arc<Faults>, String> {
    text.parse()
        .map(Arc::new)
        .map_err(|e: FaultsError| e.to_string())
}

/// Why `serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] SimError),
    #[error("cannot write the kubeconfig to {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(args: &ServeArgs) -> Result<(), ServeError> {
    // The server's own warnings and errors go to stderr (RUST_LOG overrides the level);
    // stdout carries only the address line.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Already installed (the sim embedded in a process that has its own): keep that one.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
    let config = SimConfig {
        addr: args.addr,
        speed: args.speed,
        faults: args.faults.clone().unwrap_or_default(),
    };
    let cluster = crate::start(config).await?;
    let written = match &args.kubeconfig_out {
        Some(path) => {
            std::fs::write(path, cluster.kubeconfig()).map_err(|source| {
                ServeError::Kubeconfig {
                    path: path.clone(),
                    source,
                }
            })?;
            path.display().to_string()
        }
        None => "not written".to_owned(),
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "kos sim: serving on {} (kubeconfig: {written})",
        cluster.url()
    )?;
    stdout.flush()?;
    drop(stdout);
    stopped().await?;
    cluster.shutdown().await;
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM.
async fn stopped() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
