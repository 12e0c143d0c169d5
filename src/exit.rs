//! Exit codes (README.md, "Exit codes") and the error kinds that select them.
//!
//! Errors travel as `eyre::Report`; the two user-facing kinds below are attached as the
//! report's root so that `main` can pick the exit code with a downcast.

use std::fmt;

/// The process exit code of every kos command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    Failed = 1,
    Timeout = 2,
    BadInput = 3,
    Cluster = 4,
    /// 128 + SIGHUP: the terminal went away.
    HungUp = 129,
    /// 128 + SIGINT.
    Interrupted = 130,
    /// 128 + SIGQUIT (Ctrl-\\).
    Quit = 131,
    /// 128 + SIGPIPE: stdout's reader went away (`kos … | head -1`); kos stops quietly.
    BrokenPipe = 141,
    /// 128 + SIGTERM.
    Terminated = 143,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// Bad input: a manifest, a flag, a path, an object the server's validation rejects.
/// Nothing was applied. Exit 3.
#[derive(Debug)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// The cluster refused or could not be reached. Exit 4.
#[derive(Debug)]
pub struct ClusterError(pub String);

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

/// What was to be tracked did not come within the step timeout (a Helm revision waited
/// for). Exit 2.
#[derive(Debug)]
pub struct TimedOut(pub String);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimedOut {}

/// The exit code an error ends the process with: 3 for bad input, 2 for a wait that ran out
/// of time, 4 for everything else (a cluster, network or local I/O problem).
pub fn code_for(error: &color_eyre::Report) -> ExitCode {
    if error.chain().any(<dyn std::error::Error>::is::<BadInput>) {
        ExitCode::BadInput
    } else if error.chain().any(<dyn std::error::Error>::is::<TimedOut>) {
        ExitCode::Timeout
    } else {
        ExitCode::Cluster
    }
}

/// An error as kos prints it: `error: …`, then each cause as `  caused by: …`. A message
/// of several lines (a manifest's problems) keeps its lines, indented, so that no line of
/// it starts at column 0 where it could pass for a line of kos's own (`::error::`,
/// `outcome:`); the sink cleans every line.
pub fn describe(error: &color_eyre::Report) -> String {
    let indented = |text: String| text.replace('\n', "\n  ");
    let mut out = format!("error: {}", indented(error.to_string()));
    for cause in error.chain().skip(1) {
        out.push_str("\n  caused by: ");
        out.push_str(&indented(cause.to_string()));
    }
    out
}

/// Installs the error and panic reports: for users, not developers — no backtrace section,
/// no environment hints. The full-screen view installs its terminal-restoring panic hook on
/// top of this one, so a panic gives the terminal back before the report is printed.
pub fn install_reports() {
    // A second installation (tests, examples) is refused; the first one stays.
    let _ = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .display_location_section(false)
        .install();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_line_of_an_error_starts_where_kos_writes_its_own() {
        let error = color_eyre::Report::new(ClusterError(
            "apply failed: x\n::error::forged\noutcome: success".into(),
        ));
        let text = describe(&error);
        assert!(text.starts_with("error: apply failed: x\n"), "{text}");
        assert!(text.lines().skip(1).all(|l| l.starts_with("  ")), "{text}");
        assert_eq!(code_for(&error), ExitCode::Cluster);
    }
}
