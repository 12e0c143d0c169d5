//! Issue 6, parts 1 and 4: a Deployment of N replicas rolled out on a fresh simulated cluster
//! while `kubectl rollout status` and `kos watch --output plain` — started together — wait
//! for it; kos's peak memory, CPU time and connections to the API server, and how long after
//! kubectl it reaches its verdict.

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

pub const NAMESPACE: &str = "scale";
pub const NAME: &str = "web";
/// Both waiters give up after this long; a rollout of 20 000 pods takes well under it.
pub const TIMEOUT: &str = "10m";

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

/// Rolls out `replicas` pods on a fresh cluster at `speed`.
pub async fn run(replicas: usize, speed: &str) -> Result<Rollout, Failure> {
    let server = sim_serve(&["--speed", speed]).await?;
    create_namespace(&server).await?;
    create_deployment(&server, replicas).await?;
    let kubeconfig = server.kubeconfig();
    let started = Instant::now();
    let kubectl = process::spawn(&mut kubectl_waits(kubeconfig))?;
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
            .arg(kubeconfig),
    )?;
    let port = server.port();
    let kubectl = tokio::task::spawn_blocking(move || process::measure(kubectl, None));
    let kos = tokio::task::spawn_blocking(move || process::measure(kos, Some(port)));
    let kubectl = succeeded("kubectl rollout status", kubectl.await??)?;
    let kos = succeeded("kos watch", kos.await??)?;
    Ok(Rollout {
        kubectl: kubectl.exited - started,
        kos: kos.exited - started,
        kos_peak_rss_kb: kos.peak_rss_kb,
        kos_cpu: kos.cpu,
        kos_connections: kos.connections,
        kubectl_peak_rss_kb: kubectl.peak_rss_kb,
    })
}

/// `kubectl rollout status` of the Deployment, the reference every verdict is timed against.
pub fn kubectl_waits(kubeconfig: &Path) -> Command {
    let mut command = Command::new("kubectl");
    command.arg("--kubeconfig").arg(kubeconfig).args([
        "rollout",
        "status",
        &format!("deployment/{NAME}"),
        "-n",
        NAMESPACE,
        &format!("--timeout={TIMEOUT}"),
    ]);
    command
}

pub async fn create_namespace(server: &Server) -> Result<(), Failure> {
    let namespaces: Api<Namespace> = Api::all(server.client.clone());
    let namespace = serde_json::from_value(json!({"metadata": {"name": NAMESPACE}}))?;
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;
    Ok(())
}

pub async fn create_deployment(server: &Server, replicas: usize) -> Result<(), Failure> {
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

pub fn succeeded(what: &str, finished: Finished) -> Result<Finished, Failure> {
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
