//! What the benches share (kos's and the simulator's): a simulated cluster's server as a
//! child process (reached over HTTPS with the admin's credentials of the kubeconfig it
//! writes), a process's memory as
//! `/proc/PID/status` tells it, and the percentile/printing helpers of their reports.
//!
//! Benches only: nothing here may be used by kos itself or by `cargo test`.

// Each bench links this module and uses a different part of it.
#![allow(dead_code)]

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// A simulated cluster's server as a child process, killed when dropped.
pub struct Server {
    child: tokio::process::Child,
    pub client: Client,
    kubeconfig: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Runs `serve` (a program and its arguments up to the serve command's flags, such as
    /// `kos sim serve`) with `args` and `--kubeconfig-out`, and connects.
    pub async fn start(serve: &[&OsStr], args: &[&str]) -> Result<Server, Failure> {
        let dir = tempfile::tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        let (program, serve_args) = serve.split_first().ok_or("no server program")?;
        let mut child = tokio::process::Command::new(program)
            .args(serve_args)
            .args(args)
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await??
            .ok_or("the server exited at start")?;
        println!("server: {first}");
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let port = port_of(&first).ok_or_else(|| format!("no port in `{first}`"))?;
        let config = Config::from_custom_kubeconfig(
            Kubeconfig::read_from(&kubeconfig)?,
            &KubeConfigOptions::default(),
        )
        .await?;
        Ok(Server {
            child,
            client: Client::try_from(config)?,
            kubeconfig,
            port,
            _dir: dir,
        })
    }

    pub fn pid(&self) -> Result<u32, Failure> {
        Ok(self.child.id().ok_or("the server exited")?)
    }

    /// The kubeconfig it wrote, for kubectl and kos.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The port it serves on: clients' connections to it are counted by this port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many watch requests it has served so far, from its `/metrics`.
    pub async fn watch_requests(&self) -> Result<u64, Failure> {
        let request = axum::http::Request::get("/metrics").body(Vec::new())?;
        let text = self.client.request_text(request).await?;
        Ok(text
            .lines()
            .filter(|line| {
                line.starts_with("apiserver_request_total{") && line.contains("verb=\"WATCH\"")
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum())
    }
}

/// The port of `kos sim: serving on https://127.0.0.1:PORT (kubeconfig: …)`.
fn port_of(line: &str) -> Option<u16> {
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http"))?;
    url.trim_end_matches('/').rsplit(':').next()?.parse().ok()
}

/// Peak and current resident memory of process `pid` in KiB (`VmHWM`, `VmRSS`).
pub fn memory_kb(pid: u32) -> Result<(u64, u64), Failure> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .ok_or(format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// The `p` quantile (0..=1) of `sorted`, nearest rank.
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// One row of a bench's closing table.
pub struct Row {
    pub metric: String,
    pub median: String,
    pub p99: String,
    pub target: String,
    pub met: bool,
}

/// Prints the closing table; returns whether every target was met.
pub fn print_table(rows: &[Row]) -> bool {
    println!(
        "\n{:<44} {:>12} {:>12} {:>12}  met",
        "metric", "median", "p99/other", "target"
    );
    for row in rows {
        let met = if row.met { "yes" } else { "NO" };
        println!(
            "{:<44} {:>12} {:>12} {:>12}  {met}",
            row.metric, row.median, row.p99, row.target
        );
    }
    rows.iter().all(|row| row.met)
}
