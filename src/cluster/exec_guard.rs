//! A guard around exec credential plugins. kube-client runs a kubeconfig's `exec` command
//! itself, waits for it without a limit and reads all it prints; a plugin that hangs holds
//! kos for ever, and one that prints gigabytes takes its memory. So kos points the
//! kubeconfig's command at itself (`kos exec-credential-guard SECONDS -- COMMAND ARGS…`),
//! which runs the plugin with a timeout (killed past it) and passes on at most
//! [`MAX_OUTPUT`] bytes of what it prints. kube-client still decides when to run it and
//! refreshes the credential as before.
//!
//! What it says goes to stderr behind [`SAYS`], so that the error worded for a person can
//! quote the guard and nothing of the plugin's output.

use kube::config::{ExecInteractiveMode, Kubeconfig};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The most a plugin may print: an `ExecCredential` with a client certificate is a few KiB.
pub const MAX_OUTPUT: u64 = 1 << 20;
/// How long a plugin that cannot ask anything may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// How long one that may ask the user (a browser login) may take.
pub const INTERACTIVE_TIMEOUT: Duration = Duration::from_mins(5);
/// How the guard's own lines on stderr begin.
pub const SAYS: &str = "kos exec-credential-guard: ";

/// The name of the hidden subcommand.
pub const SUBCOMMAND: &str = "exec-credential-guard";

/// Points every exec plugin of `config` at the guard, when kos knows its own path.
pub fn guard_plugins(config: &mut Kubeconfig) {
    let Ok(kos) = std::env::current_exe() else {
        return;
    };
    for named in &mut config.auth_infos {
        let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) else {
            continue;
        };
        let Some(command) = exec.command.take() else {
            continue;
        };
        let timeout = match exec.interactive_mode {
            Some(ExecInteractiveMode::Never) => TIMEOUT,
            _ => INTERACTIVE_TIMEOUT,
        };
        let mut args = vec![
            SUBCOMMAND.to_owned(),
            timeout.as_secs().to_string(),
            "--".to_owned(),
            command,
        ];
        args.extend(exec.args.take().unwrap_or_default());
        exec.command = Some(kos.to_string_lossy().into_owned());
        exec.args = Some(args);
    }
}

/// Runs `command` as the plugin: its stdin and stderr are kos's, its stdout is passed on
/// when it ends in time with at most [`MAX_OUTPUT`] bytes. Returns the exit code.
pub async fn run(timeout_secs: u64, command: &[String]) -> u8 {
    let Some((program, args)) = command.split_first() else {
        return say("no plugin command given");
    };
    let mut child = match tokio::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(error) => return say(&format!("cannot start {program}: {error}")),
    };
    let Some(stdout) = child.stdout.take() else {
        return say("no output pipe");
    };
    let work = async {
        let mut output = Vec::new();
        stdout.take(MAX_OUTPUT + 1).read_to_end(&mut output).await?;
        if output.len() as u64 > MAX_OUTPUT {
            return Ok(Err(format!(
                "{program} printed more than {} KiB",
                MAX_OUTPUT >> 10
            )));
        }
        let status = child.wait().await?;
        Ok::<_, std::io::Error>(Ok((output, status)))
    };
    let timeout = Duration::from_secs(timeout_secs);
    match tokio::time::timeout(timeout, work).await {
        Err(_) => say(&format!(
            "{program} did not finish within {timeout_secs}s; it was stopped"
        )),
        Ok(Err(error)) => say(&format!("cannot read {program}'s output: {error}")),
        Ok(Ok(Err(too_much))) => say(&too_much),
        Ok(Ok(Ok((output, status)))) => {
            let mut out = tokio::io::stdout();
            if out.write_all(&output).await.is_err() || out.flush().await.is_err() {
                return 1;
            }
            status.code().map_or(1, |code| code as u8)
        }
    }
}

fn say(what: &str) -> u8 {
    crate::output::sink::err(&format!("{SAYS}{what}"));
    1
}

/// The guard's own words in a plugin's stderr, if it said anything.
pub fn said(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .find_map(|line| line.strip_prefix(SAYS))
        .map(|what| crate::output::safe::clean_bounded(what, 512))
}
