//! The `kos` binary: parse the command line, run it, turn the outcome into an exit code.

use clap::FromArgMatches;
use kos::cli::{CalledAs, Cli};
use kos::exit::{self, ExitCode};
use kos::output::sink;
use std::io::Write;

/// kos makes and frees millions of small strings and JSON nodes while it follows thousands
/// of pods (and the simulated cluster more so): under glibc's malloc that was some 40 % of
/// kos's CPU time at 5 000 pods (perf), and freeing the tracked world took 90 ms at exit.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    exit::install_reports();

    // Run as `kubectl kos`, help and errors say so.
    let parsed = CalledAs::this_process()
        .command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
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
            sink::err(&format!("error: cannot start the async runtime: {error}"));
            return ExitCode::Cluster.into();
        }
    };
    let code = match runtime.block_on(kos::commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            sink::err(&exit::describe(&error));
            exit::code_for(&error)
        }
    };
    // The verdict is out: leave without tearing the runtime down. Its tasks still hold the
    // watches' owner graph of thousands of objects, and freeing it is work a CI step waiting
    // on kos would wait for. Every report is written and the terminal restored by now; only
    // the standard streams may still hold bytes.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(i32::from(code as u8))
}
