//! One function per subcommand: they glue the library's pieces together and return the
//! process exit code. Errors come back as `eyre::Report`s that `main` maps to exit codes.

mod apply;
mod demo;
mod sim;
mod status;
mod watch;

use crate::apply::{ApplyError, Progress};
use crate::cli::{Cli, Command};
use crate::exit::ExitCode;
use crate::headless::{self, Format, Options};
use crate::output::problem::{self, Problem};
use crate::output::report::{self, Stop};
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
            let called = crate::cli::CalledAs::this_process();
            let mut command = called.command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, called.program(), &mut script);
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

/// An apply (or discovery) error with its exit code: bad input for kinds nobody serves and
/// objects the server finds invalid, a cluster error otherwise.
fn apply_error(error: &ApplyError) -> color_eyre::Report {
    if error.is_bad_input() {
        crate::exit::BadInput(error.to_string()).into()
    } else {
        crate::exit::ClusterError(error.to_string()).into()
    }
}

/// An error that ends a command before tracking, with the problems its JSON report lists.
struct Failure {
    error: color_eyre::Report,
    problems: Vec<Problem>,
}

impl Failure {
    fn of_apply(error: &ApplyError) -> Failure {
        Failure {
            error: apply_error(error),
            problems: problem::of_apply(error),
        }
    }
}

/// Any other error: its message is the problem.
impl From<color_eyre::Report> for Failure {
    fn from(error: color_eyre::Report) -> Self {
        let problems = vec![Problem::message(format!("{error:#}"))];
        Failure { error, problems }
    }
}

/// Ends a command with `failure` after `elapsed`: with `--output json` its report goes to
/// stdout first (outcome `invalid`, `error` or `timeout`, the problems, what `applied` did
/// before);
/// the error is `main`'s to print and to turn into the exit code.
fn stopped(
    failure: Failure,
    options: &Options,
    elapsed: std::time::Duration,
    applied: &Progress,
) -> color_eyre::Report {
    if options.format == Format::Json {
        let outcome = match crate::exit::code_for(&failure.error) {
            ExitCode::BadInput => Stop::Invalid.into(),
            ExitCode::Timeout => crate::tracker::Verdict::Timeout.into(),
            _ => Stop::Error.into(),
        };
        let timings = headless::timings(elapsed, options);
        let report = report::stopped(outcome, timings, applied, failure.problems);
        if let Err(error) = headless::print_report(&report) {
            return error;
        }
    }
    failure.error
}

/// Runs a phase before tracking (finding the objects, applying them) within the step
/// timeout (`--timeout`; 0: none), so that a server that stops answering half way cannot
/// hold kos past it: exit 4, naming the phase and the request still waiting for its answer.
async fn within<T, E: From<color_eyre::Report>>(
    timeout: std::time::Duration,
    phase: &str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    if timeout.is_zero() {
        return work.await;
    }
    let mut work = std::pin::pin!(work);
    tokio::select! {
        result = &mut work => result,
        // Asked while `work` still lives, so its request is still waiting.
        () = tokio::time::sleep(timeout) => {
            let request = crate::cluster::limits::oldest_unanswered()
                .map(|request| format!("; still waiting for {}", crate::output::safe::clean(&request)))
                .unwrap_or_default();
            let error: color_eyre::Report = crate::exit::ClusterError(format!(
                "{phase}: the cluster did not answer within the step timeout ({}){request}",
                crate::duration::short(timeout)
            ))
            .into();
            Err(error.into())
        }
    }
}
