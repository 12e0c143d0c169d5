//! `kos sim serve`: the simulated cluster as a standalone server. It writes the kubeconfig
//! first, then prints the one line tests and scripts read the address from, and serves
//! until Ctrl-C or SIGTERM.

use crate::cli::{SimCommand, SimServeArgs};
use crate::exit::{ClusterError, ExitCode};
use crate::sim::{self, SimConfig};
use color_eyre::Result;
use color_eyre::eyre::{Report, WrapErr};
use std::io::Write;

pub async fn run(command: SimCommand) -> Result<ExitCode> {
    match command {
        SimCommand::Serve(args) => serve(&args).await,
    }
}

async fn serve(args: &SimServeArgs) -> Result<ExitCode> {
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
    let cluster = sim::start(config)
        .await
        .map_err(|e| Report::new(ClusterError(e.to_string())))?;
    let written = match &args.kubeconfig_out {
        Some(path) => {
            std::fs::write(path, cluster.kubeconfig())
                .wrap_err_with(|| format!("cannot write the kubeconfig to {}", path.display()))?;
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
    Ok(ExitCode::Success)
}

/// Waits for Ctrl-C or SIGTERM.
async fn stopped() -> Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .wrap_err("cannot listen for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.wrap_err("cannot listen for Ctrl-C")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
