//! One function per subcommand: they glue the library's pieces together and return the
//! process exit code. Errors come back as `eyre::Report`s that `main` maps to exit codes.

mod apply;
mod demo;
mod sim;
mod status;
mod watch;

use crate::cli::{Cli, Command};
use crate::exit::ExitCode;
use clap::CommandFactory;
use color_eyre::Result;

/// Runs the parsed command line to completion.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let rules = match &cli.command {
        Command::Status(args) => args.status_rules.as_deref(),
        Command::Apply(args) => args.track.status_rules.as_deref(),
        Command::Watch(args) => args.track.status_rules.as_deref(),
        _ => None,
    };
    if let Some(path) = rules {
        install_rules(path)?;
    }
    match cli.command {
        Command::Status(args) => status::run(&args),
        Command::Apply(args) => apply::run(&args).await,
        Command::Watch(args) => watch::run(&args).await,
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "kos", &mut script);
            crate::output::sink::out_raw(&script);
            Ok(ExitCode::Success)
        }
        Command::Sim(command) => sim::run(command).await,
        Command::Demo(args) => demo::run(&args).await,
        Command::ExecGuard {
            timeout_secs,
            command,
        } => {
            // The plugin's own exit code, which none of kos's means.
            let code = crate::cluster::exec_guard::run(timeout_secs, &command).await;
            std::process::exit(i32::from(code))
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            crate::output::sink::out_raw(&page);
            Ok(ExitCode::Success)
        }
    }
}

/// Reads the `--status-rules` file and puts its rules before the built-in ones; a file that
/// cannot be read or is not a rules table is bad input (exit 3), before anything is applied.
fn install_rules(path: &std::path::Path) -> Result<()> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::exit::BadInput(format!("{origin}: {e}")))?;
    let table = crate::status::Table::parse(&text, &origin)
        .map_err(|e| crate::exit::BadInput(e.to_string()))?;
    crate::status::install_rules(table);
    Ok(())
}

/// A client for `args`, or exit 4 naming what is wrong with the kubeconfig.
async fn connect(args: &crate::cli::ClusterArgs) -> Result<crate::cluster::Cluster> {
    crate::cluster::connect(args)
        .await
        .map_err(|error| crate::exit::ClusterError(error.to_string()).into())
}

/// An apply (or discovery) error with its exit code: bad input for kinds nobody serves,
/// a cluster error otherwise.
fn apply_error(error: &crate::apply::ApplyError) -> color_eyre::Report {
    if error.is_bad_input() {
        crate::exit::BadInput(error.to_string()).into()
    } else {
        crate::exit::ClusterError(error.to_string()).into()
    }
}

/// Runs a phase before tracking (finding the objects, applying them) within the step
/// timeout (`--timeout`; 0: none), so that a server that stops answering half way cannot
/// hold kos past it: exit 4, naming the phase.
async fn within<T>(
    timeout: std::time::Duration,
    phase: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    if timeout.is_zero() {
        return work.await;
    }
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(crate::exit::ClusterError(format!(
                "{phase}: the cluster did not answer within the step timeout ({})",
                crate::duration::short(timeout)
            ))
            .into())
        })
}
