//! The command line, declared with clap.
//!
//! Parsing only: each subcommand's behaviour lives in `commands`.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// How the user called kos: as itself, or as the kubectl plugin (`kubectl kos`, which
/// kubectl runs as the file `kubectl-kos` on the PATH, a copy or a link of kos).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalledAs {
    Kos,
    Plugin,
}

impl CalledAs {
    /// From `argv[0]`: the plugin when its file name is `kubectl-kos`.
    pub fn from_argv0(argv0: Option<&OsStr>) -> Self {
        let file = argv0.and_then(|arg| Path::new(arg).file_name());
        if file == Some(OsStr::new("kubectl-kos")) {
            CalledAs::Plugin
        } else {
            CalledAs::Kos
        }
    }

    /// This process's `argv[0]`.
    pub fn this_process() -> Self {
        Self::from_argv0(std::env::args_os().next().as_deref())
    }

    /// What the user types, as help and usage lines show it.
    pub fn typed(self) -> &'static str {
        match self {
            CalledAs::Kos => "kos",
            CalledAs::Plugin => "kubectl kos",
        }
    }

    /// The executable's name, which shell completion scripts complete.
    pub fn program(self) -> &'static str {
        match self {
            CalledAs::Kos => "kos",
            CalledAs::Plugin => "kubectl-kos",
        }
    }

    /// The command line as called: help and errors show [`CalledAs::typed`] in usage lines.
    pub fn command(self) -> clap::Command {
        Cli::command().name(self.typed()).bin_name(self.typed())
    }
}

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
    /// Apply manifests (server-side apply) and track every object and its children until the
    /// rollout succeeds, fails or times out
    Apply(ApplyArgs),
    /// Track existing objects (named, selected, or read from manifests) without applying
    Watch(WatchArgs),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout
    Man,
    /// The simulated cluster that `kos demo` and the tests run on
    #[command(subcommand)]
    Sim(SimCommand),
    /// Start the embedded simulated cluster, apply a bundled example to it and show the
    /// live view; no cluster needed
    Demo(DemoArgs),
    /// Runs an exec credential plugin with a timeout and bounded output (kos points
    /// kubeconfigs' exec commands at it)
    #[command(name = "exec-credential-guard", hide = true)]
    ExecGuard {
        /// How long the plugin may run, in seconds
        timeout_secs: u64,
        /// The plugin's command and arguments
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the simulated cluster over HTTPS until Ctrl-C or SIGTERM
    Serve(kos_sim::serve::ServeArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The bundled example to deploy
    #[arg(long, value_enum, default_value_t = DemoScenario::Healthy)]
    pub scenario: DemoScenario,
    /// Run the simulated clock X times faster
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = kos_sim::serve::speed_arg)]
    pub speed: f64,
    /// Step execution timeout [default: 5m]
    #[arg(long, value_name = "DUR", value_parser = duration_arg)]
    pub timeout: Option<std::time::Duration>,
    /// Status stabilization window [default: 10s; 15s for flaky, longer than its failure]
    #[arg(long, value_name = "DUR", value_parser = duration_arg)]
    pub stabilize: Option<std::time::Duration>,
    /// Output format (default: tui when stdout is a terminal, else plain)
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<TrackOutput>,
}

/// The bundled examples of `kos demo` (`assets/demo/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoScenario {
    /// nginx, 3 replicas, in namespace octopus, behind a Service: succeeds
    Healthy,
    /// an image that does not exist, pulled with growing back-off: fails
    ImagePull,
    /// a container that exits 1 after 3s and crash-loops: fails
    Crashloop,
    /// the first image pull fails, the next works; the stabilization window forgives it
    Flaky,
    /// revision 2 of a Deployment rolls out over revision 1, the old one dimmed
    RollingUpdate,
    /// a Job of 3 completions, 2 pods at a time: succeeds
    Job,
    /// a Deployment of 1 000 replicas
    Big,
    /// a Deployment whose pods read a config map that does not exist: fails
    MissingConfig,
    /// a Deployment whose pods ask for more CPU than any node has: stays Pending, times out
    TooBig,
    /// an Argo Rollouts blue-green update: preview, a timed pause, then the active switch
    BlueGreen,
    /// an Argo Rollouts canary: 25%, 50%, 75% of the pods, each step pausing, then all
    Canary,
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
    /// Status rules for custom resources, tried before the built-in ones (README.md,
    /// "Status rules")
    #[arg(long, value_name = "FILE")]
    pub status_rules: Option<PathBuf>,
    /// Plain output: a progress line on stderr after this long without any other line, so
    /// that a CI log never looks frozen; 0 prints none
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = duration_arg)]
    pub progress_interval: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusOutput {
    /// One line per object
    Plain,
    /// A JSON array of `{kind, api_version, namespace, name, status, message}`
    Json,
}

/// How to reach the cluster, as kubectl does it.
#[derive(Debug, Args, Clone, Default)]
pub struct ClusterArgs {
    /// The namespace of objects that do not name one (default: the context's namespace)
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The kubeconfig context to use (default: the current context)
    #[arg(long)]
    pub context: Option<String>,
    /// The kubeconfig file (default: $KUBECONFIG, several paths merged, or ~/.kube/config)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

/// How long to track and how to show it.
#[derive(Debug, Args, Clone)]
pub struct TrackArgs {
    /// Step execution timeout, measured from the start of tracking; 0 disables it
    #[arg(long, value_name = "DUR", default_value = "5m", value_parser = duration_arg)]
    pub timeout: std::time::Duration,
    /// Status stabilization window: how long a success or failure must hold; 0 makes the
    /// first one final
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = duration_arg)]
    pub stabilize: std::time::Duration,
    /// Output format (default: tui when stdout is a terminal, else plain)
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<TrackOutput>,
    /// How many log lines of each failing container the failure digest quotes; 0 quotes
    /// none (an application that logs a secret would leak it into the CI log)
    #[arg(long, value_name = "N", default_value_t = crate::output::digest::LOG_LINES)]
    pub digest_logs: usize,
    /// Status rules for custom resources, tried before the built-in ones (README.md,
    /// "Status rules")
    #[arg(long, value_name = "FILE")]
    pub status_rules: Option<PathBuf>,
    /// Plain output: a progress line on stderr after this long without any other line, so
    /// that a CI log never looks frozen; 0 prints none
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = duration_arg)]
    pub progress_interval: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrackOutput {
    /// The full-screen live view
    Tui,
    /// One line per status change, then a final line
    Plain,
    /// One JSON report at the end
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub files: FileArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub track: TrackArgs,
    /// Apply only and check nothing
    #[arg(long, conflicts_with = "dry_run")]
    pub no_wait: bool,
    /// Server-side dry run of every object: print what would change, apply nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The field manager of server-side apply
    #[arg(long, value_name = "NAME", default_value = "kos")]
    pub field_manager: String,
    /// Take over fields owned by another field manager
    #[arg(long)]
    pub force_conflicts: bool,
    /// Field validation, as kubectl's: strict refuses an object with a field its type does
    /// not have (nothing is applied), warn applies it without the field and shows the
    /// server's warning, ignore applies it silently
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Validate::Strict)]
    pub validate: Validate,
}

/// `--validate`: what the API server does with fields an object's type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Validate {
    Strict,
    Warn,
    Ignore,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Objects to track, as KIND/NAME (kind, plural or short name: deploy/web, pods/db-0);
    /// a bare KIND with -l selects objects of that kind; helm/RELEASE tracks a Helm release
    /// and its objects
    #[arg(value_name = "KIND/NAME")]
    pub targets: Vec<String>,
    /// Track the objects matching this label selector
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Track the objects named in these manifests (nothing is applied); may repeat
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Read directories recursively
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Keep watching after the verdict, printing further changes until Ctrl-C; with
    /// helm/RELEASE, wait for its next revision first, as --wait-revision does
    #[arg(long)]
    pub follow: bool,
    /// With helm/RELEASE: unless Helm is writing a revision now, wait (within --timeout) for
    /// the next one — `helm upgrade` started after kos — and track it
    #[arg(long)]
    pub wait_revision: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub track: TrackArgs,
}

/// A duration flag's value parser: `90s`, `5m`, `1h30m` or a bare number of seconds.
pub fn duration_arg(text: &str) -> Result<std::time::Duration, String> {
    crate::duration::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_as_the_kubectl_plugin_its_usage_says_kubectl_kos() {
        let called = |arg: &str| CalledAs::from_argv0(Some(OsStr::new(arg)));
        assert_eq!(called("/tmp/x/kubectl-kos"), CalledAs::Plugin);
        assert_eq!(called("kubectl-kos"), CalledAs::Plugin);
        assert_eq!(called("/usr/bin/kos"), CalledAs::Kos);
        assert_eq!(called("kubectl-kos-old"), CalledAs::Kos);
        assert_eq!(CalledAs::from_argv0(None), CalledAs::Kos);
        let help = CalledAs::Plugin
            .command()
            .try_get_matches_from(["kubectl-kos", "apply", "--help"])
            .unwrap_err()
            .to_string();
        assert!(help.contains("Usage: kubectl kos apply"), "{help}");
    }

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

    #[test]
    fn apply_and_watch_take_the_design_flags() {
        let cli = Cli::try_parse_from([
            "kos",
            "apply",
            "-f",
            "a.yaml",
            "-n",
            "ns",
            "--timeout",
            "0",
            "--stabilize",
            "2s",
            "--force-conflicts",
            "--output",
            "json",
        ])
        .unwrap();
        let Command::Apply(args) = cli.command else {
            panic!("not apply")
        };
        assert_eq!(args.cluster.namespace.as_deref(), Some("ns"));
        assert_eq!(args.track.timeout, std::time::Duration::ZERO);
        assert_eq!(args.track.stabilize, std::time::Duration::from_secs(2));
        assert_eq!(args.field_manager, "kos");
        assert!(args.force_conflicts);
        assert_eq!(args.validate, Validate::Strict);
        assert_eq!(args.track.output, Some(TrackOutput::Json));
        assert!(
            Cli::try_parse_from(["kos", "apply", "-f", "a", "--no-wait", "--dry-run"]).is_err()
        );
        let cli = Cli::try_parse_from(["kos", "apply", "-f", "a", "--validate=warn"]).unwrap();
        let Command::Apply(args) = cli.command else {
            panic!("not apply")
        };
        assert_eq!(args.validate, Validate::Warn);
        assert!(Cli::try_parse_from(["kos", "apply", "-f", "a", "--validate", "lax"]).is_err());

        let cli = Cli::try_parse_from(["kos", "watch", "deploy/web", "pod/x", "--follow"]).unwrap();
        let Command::Watch(args) = cli.command else {
            panic!("not watch")
        };
        assert_eq!(args.targets, ["deploy/web", "pod/x"]);
        assert!(args.follow);
        assert!(!args.wait_revision);
        let cli = Cli::try_parse_from(["kos", "watch", "helm/web", "--wait-revision"]).unwrap();
        let Command::Watch(args) = cli.command else {
            panic!("not watch")
        };
        assert!(args.wait_revision);
        assert_eq!(args.track.timeout, std::time::Duration::from_mins(5));
    }
}
