//! One function per subcommand: they glue the library's pieces together and return the
//! process exit code. Errors come back as `eyre::Report`s that `main` maps to exit codes.

mod sim;
mod status;

use crate::cli::{Cli, Command};
use crate::exit::ExitCode;
use clap::CommandFactory;
use color_eyre::Result;

/// Runs the parsed command line to completion.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Status(args) => status::run(&args),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "kos", &mut std::io::stdout());
            Ok(ExitCode::Success)
        }
        Command::Sim(command) => sim::run(command).await,
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(ExitCode::Success)
        }
    }
}
