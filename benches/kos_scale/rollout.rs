//! Issue 6, parts 1, 2 (idle CPU) and 4: a Deployment of N replicas rolled out on a fresh
//! simulated cluster while `kubectl rollout status` and `kos watch` — started together —
//! wait for it; kos's peak memory, CPU time and connections to the API server, and how
//! long after kubectl it reaches its verdict. Then the full-screen view, in tmux, idling
//! after the verdict.

use crate::common::{Failure, Server};
use crate::process::{self, Finished};
use crate::{kos, sim_serve};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const NAMESPACE: &str = "scale";
const NAME: &str = "web";
/// Both waiters give up after this long; a rollout of 5 000 pods takes well under it.
const TIMEOUT: &str = "5m";
/// How long the idle view's CPU time is sampled for.
const IDLE_WINDOW: Duration = Duration::from_secs(10);
/// The view has settled when its CPU time stands still this long (one 10 ms tick is the
/// resolution of `/proc/PID/stat`).
const SETTLE_STEP: Duration = Duration::from_secs(1);

/// One rollout, as both waiters saw it.
#[derive(Debug, Clone, Copy)]
pub struct Rollout {
    /// From the start of both waiters to kubectl's exit.
    pub kubectl: Duration,
    /// From the start of both waiters to kos's exit.
    pub kos: Duration,
    pub kos_peak_rss_kb: u64,
    pub kos_cpu: Duration,
    pub kos_connections: usize,
    pub kubectl_peak_rss_kb: u64,
}

impl Rollout {
    /// How much later than kubectl kos reached its verdict (negative: earlier), in seconds.
    pub fn delay(&self) -> f64 {
        self.kos.as_secs_f64() - self.kubectl.as_secs_f64()
    }
}

/// Rolls out `replicas` pods on a fresh cluster at `speed`; with `idle`, also measures the
/// view's CPU use after the verdict (percent of one core), or says why it could not.
pub async fn run(
    replicas: usize,
    speed: &str,
    idle: bool,
) -> Result<(Rollout, Option<Result<f64, String>>), Failure> {
    let server = sim_serve(&["--speed", speed]).await?;
    create(&server, replicas).await?;
    let kubeconfig = server.kubeconfig().to_owned();
    let started = Instant::now();
    let kubectl = process::spawn(
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args([
                "rollout",
                "status",
                &format!("deployment/{NAME}"),
                "-n",
                NAMESPACE,
                &format!("--timeout={TIMEOUT}"),
            ]),
    )?;
    let kos = process::spawn(
        Command::new(kos())
            .args(["watch", &format!("deployment/{NAME}"), "-n", NAMESPACE])
            .args([
                "--output",
                "plain",
                "--stabilize",
                "0",
                "--timeout",
                TIMEOUT,
            ])
            .arg("--kubeconfig")
            .arg(&kubeconfig),
    )?;
    let port = server.port();
    let kubectl = tokio::task::spawn_blocking(move || process::measure(kubectl, None));
    let kos = tokio::task::spawn_blocking(move || process::measure(kos, Some(port)));
    let kubectl = succeeded("kubectl rollout status", kubectl.await??)?;
    let kos = succeeded("kos watch", kos.await??)?;
    let rollout = Rollout {
        kubectl: kubectl.exited - started,
        kos: kos.exited - started,
        kos_peak_rss_kb: kos.peak_rss_kb,
        kos_cpu: kos.cpu,
        kos_connections: kos.connections,
        kubectl_peak_rss_kb: kubectl.peak_rss_kb,
    };
    let idle = if idle {
        Some(idle_cpu(&kubeconfig).await)
    } else {
        None
    };
    Ok((rollout, idle))
}

async fn create(server: &Server, replicas: usize) -> Result<(), Failure> {
    let namespaces: Api<Namespace> = Api::all(server.client.clone());
    let namespace = serde_json::from_value(json!({"metadata": {"name": NAMESPACE}}))?;
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }))?;
    Api::<Deployment>::namespaced(server.client.clone(), NAMESPACE)
        .create(&PostParams::default(), &deployment)
        .await?;
    Ok(())
}

fn succeeded(what: &str, finished: Finished) -> Result<Finished, Failure> {
    if finished.status.success() {
        return Ok(finished);
    }
    let tail: Vec<&str> = finished.stdout.lines().rev().take(5).collect();
    Err(format!(
        "{what} ended with {}: {} / {}",
        finished.status,
        tail.join(" | "),
        finished.stderr.trim()
    )
    .into())
}

/// The full-screen view on a private tmux server, 200×60, against the finished rollout: CPU
/// time over [`IDLE_WINDOW`] once the header shows the verdict, as percent of one core.
async fn idle_cpu(kubeconfig: &Path) -> Result<f64, String> {
    if Command::new("tmux").arg("-V").output().is_err() {
        return Err("tmux is not installed".to_owned());
    }
    let tmux = Tmux {
        socket: format!("kos-bench-{}", std::process::id()),
    };
    let command = format!(
        "exec {} watch deployment/{NAME} -n {NAMESPACE} --stabilize 0 --output tui --kubeconfig {}",
        kos().display(),
        kubeconfig.display()
    );
    tmux.run(&["new-session", "-d", "-x", "200", "-y", "60", &command])?;
    let measured = measure_idle(&tmux).await;
    // The private server holds only this session: ending it ends kos.
    let _ = tmux.run(&["kill-server"]);
    measured
}

async fn measure_idle(tmux: &Tmux) -> Result<f64, String> {
    let pid: u32 = tmux
        .run(&["display-message", "-p", "#{pane_pid}"])?
        .trim()
        .parse()
        .map_err(|e| format!("tmux pane pid: {e}"))?;
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let screen = tmux.run(&["capture-pane", "-p"])?;
        if screen.contains("done in") {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("no verdict on screen within 60 s:\n{screen}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu = |pid| process::cpu_time(pid).map_err(|e| e.to_string());
    // A Deployment that is already done is judged on sight, before the view has read its
    // pods: idle starts once reading them is over (no CPU tick over a whole second).
    let verdict = Instant::now();
    let mut last = cpu(pid)?;
    loop {
        tokio::time::sleep(SETTLE_STEP).await;
        let now = cpu(pid)?;
        if now == last {
            break;
        }
        if Instant::now() > deadline {
            return Err("the view never settled after its verdict".to_owned());
        }
        last = now;
    }
    println!(
        "view: settled {:.1} s after its verdict was on screen",
        verdict.elapsed().as_secs_f64()
    );
    let (before, start) = (cpu(pid)?, Instant::now());
    tokio::time::sleep(IDLE_WINDOW).await;
    let (after, window) = (cpu(pid)?, start.elapsed());
    Ok(after.saturating_sub(before).as_secs_f64() / window.as_secs_f64() * 100.0)
}

/// A tmux server of the bench's own.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .map_err(|e| format!("tmux: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "tmux {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}
