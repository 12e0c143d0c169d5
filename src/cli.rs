//! The command line (DESIGN.md section 2), declared with clap.
//!
//! Parsing only: each subcommand's behaviour lives in `commands`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "kos",
    version,
    about = "Kubernetes Object Status: apply manifests and watch every object and its children \
             until the rollout succeeds, fails or times out",
    long_about = None,
    after_help = "Exit codes: 0 success, 1 failed, 2 timeout, 3 bad input, 4 cluster or API error, \
                  130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the status of the objects in manifests offline, as the live view would
    /// (objects carry their own .status); no cluster
    Status(StatusArgs),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout
    Man,
    /// The simulated cluster (DESIGN.md section 6)
    #[command(subcommand)]
    Sim(SimCommand),
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the simulated cluster over HTTP until Ctrl-C or SIGTERM
    Serve(SimServeArgs),
}

#[derive(Debug, Args)]
pub struct SimServeArgs {
    /// The address to listen on; port 0 picks a free port
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Write a kubeconfig (context kos-sim) for this cluster to FILE
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Run the simulated clock X times faster
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = speed_arg)]
    pub speed: f64,
    /// Inject API faults: a comma-separated list of drop-watch=DUR, gone-on-rewatch=P,
    /// error-rate=P, latency=DUR, restart-every=DUR, forbid=VERB:RESOURCE
    #[arg(long, value_name = "SPEC", value_parser = faults_arg)]
    pub faults: Option<std::sync::Arc<crate::sim::faults::Faults>>,
}

/// A `--faults` value.
fn faults_arg(text: &str) -> Result<std::sync::Arc<crate::sim::faults::Faults>, String> {
    text.parse()
        .map(std::sync::Arc::new)
        .map_err(|e: crate::sim::faults::FaultsError| e.to_string())
}

/// A `--speed` value: a positive number.
fn speed_arg(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

/// Where manifests come from: `-f` (repeatable) and `-R`.
#[derive(Debug, Args, Clone)]
pub struct FileArgs {
    /// A manifest file, a directory (its *.yaml, *.yml and *.json, sorted by name), or - for
    /// stdin; may repeat
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
    /// Read directories recursively
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = StatusOutput::Plain)]
    pub output: StatusOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusOutput {
    /// One line per object
    Plain,
    /// A JSON array of `{kind, api_version, namespace, name, status, message}`
    Json,
}

/// A duration flag's value parser: `90s`, `5m`, `1h30m` or a bare number of seconds.
pub fn duration_arg(text: &str) -> Result<std::time::Duration, String> {
    crate::duration::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn status_takes_repeated_files() {
        let cli = Cli::try_parse_from(["kos", "status", "-f", "a.yaml", "-f", "dir", "-o", "json"])
            .unwrap();
        let Command::Status(args) = cli.command else {
            panic!("not status")
        };
        assert_eq!(args.files.files.len(), 2);
        assert_eq!(args.output, StatusOutput::Json);
    }
}
