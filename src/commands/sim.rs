//! `kos sim serve`: the simulated cluster as a standalone server (the `kos-sim` crate's
//! `serve`), with kos's exit codes: a kubeconfig path it must not write is bad input (3), a
//! cluster that cannot start exit 4.

use crate::cli::SimCommand;
use crate::exit::{BadInput, ClusterError, ExitCode};
use color_eyre::Result;
use color_eyre::eyre::Report;
use kos_sim::serve::{self, ServeError};

pub async fn run(command: SimCommand) -> Result<ExitCode> {
    let SimCommand::Serve(args) = command;
    match serve::run(&args).await {
        Ok(()) => Ok(ExitCode::Success),
        Err(error @ ServeError::Start(_)) => Err(Report::new(ClusterError(error.to_string()))),
        Err(error @ ServeError::Refused { .. }) => Err(Report::new(BadInput(error.to_string()))),
        Err(error) => Err(Report::new(error)),
    }
}
