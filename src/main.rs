//! The `kos` binary: parse the command line, run it, turn the outcome into an exit code.

use clap::Parser;
use kos::cli::Cli;
use kos::exit::{self, ExitCode};

fn main() -> std::process::ExitCode {
    exit::install_reports();

    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are not errors; everything else clap rejects is bad input.
            let code = if error.use_stderr() {
                ExitCode::BadInput
            } else {
                ExitCode::Success
            };
            let _ = error.print();
            return code.into();
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::Cluster.into();
        }
    };
    match runtime.block_on(kos::commands::run(cli)) {
        Ok(code) => code.into(),
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            exit::code_for(&error).into()
        }
    }
}
