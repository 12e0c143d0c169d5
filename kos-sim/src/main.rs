//! `kos-sim`: the simulated cluster on its own, without kos — for working on the simulator
//! (building it alone is faster) and for its benchmark. `kos sim serve` runs the same code.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// The same allocator as kos's binary, so that the simulator's benchmark measures what
// `kos sim serve` and `kos demo` run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "kos-sim",
    version,
    about = "A simulated Kubernetes cluster on 127.0.0.1"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the simulated cluster until Ctrl-C or SIGTERM
    Serve(kos_sim::serve::ServeArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Serve(args) = Cli::parse().command;
    match kos_sim::serve::run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
