//! Issue 6, parts 3 and 4: `kos apply --no-wait` of 500 objects of mixed kinds across a few
//! namespaces (fresh ones each run), then `kos watch` of the same objects, counting its
//! connections to the API server: one watch per kind and namespace, not per object.

use crate::common::{Failure, Server};
use crate::process::{self, Finished};
use crate::{kos, sim_serve};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub const OBJECTS: usize = 500;
pub const NAMESPACES: usize = 5;
/// The kinds each namespace holds besides itself, round-robin.
const KINDS: [&str; 7] = [
    "ConfigMap",
    "Secret",
    "Service",
    "Deployment",
    "ServiceAccount",
    "Role",
    "RoleBinding",
];

/// What one apply run cost.
pub struct ApplyRun {
    pub elapsed: Duration,
    pub cpu: Duration,
}

/// What watching the applied objects took.
pub struct WatchRun {
    /// Watch requests the server saw from kos: the watches it opened.
    pub watches: u64,
    /// TCP connections kos held most of the time: its watches, and the kept-alive
    /// connections left over from its first lists, all sent at once.
    pub connections: usize,
    /// The watches kos plans for these objects: a kind's watch per namespace and the
    /// children's kinds.
    pub planned: usize,
}

/// Applies a fresh set of objects `runs` times, then watches the last set.
pub async fn run(runs: usize) -> Result<(Vec<ApplyRun>, WatchRun), Failure> {
    let server = sim_serve(&["--speed", "10"]).await?;
    let dir = tempfile::tempdir()?;
    let mut applies = Vec::with_capacity(runs);
    let mut last = dir.path().join("none.yaml");
    for run in 0..runs {
        last = dir.path().join(format!("objects-{run}.yaml"));
        std::fs::write(&last, manifest(run))?;
        let started = Instant::now();
        let child = process::spawn(
            Command::new(kos())
                .args(["apply", "--no-wait", "--output", "plain", "-f"])
                .arg(&last)
                .arg("--kubeconfig")
                .arg(server.kubeconfig()),
        )?;
        let finished = tokio::task::spawn_blocking(move || process::measure(child, None)).await??;
        let finished = succeeded("kos apply", finished)?;
        applies.push(ApplyRun {
            elapsed: finished.exited - started,
            cpu: finished.cpu,
        });
    }
    let watch = watch(&server, &last).await?;
    Ok((applies, watch))
}

async fn watch(server: &Server, file: &Path) -> Result<WatchRun, Failure> {
    let watches_before = server.watch_requests().await?;
    let child = process::spawn(
        Command::new(kos())
            .args([
                "watch",
                "--output",
                "plain",
                "--stabilize",
                "0",
                "--timeout",
                "2m",
            ])
            .arg("-f")
            .arg(file)
            .arg("--kubeconfig")
            .arg(server.kubeconfig()),
    )?;
    let port = server.port();
    let finished =
        tokio::task::spawn_blocking(move || process::measure(child, Some(port))).await??;
    let finished = succeeded("kos watch", finished)?;
    Ok(WatchRun {
        watches: server.watch_requests().await? - watches_before,
        connections: finished.connections,
        // Namespaces (named, cluster-wide) + per namespace: its kinds, ReplicaSets and
        // Pods (the Deployments' children). `kos watch` follows no Events.
        planned: 1 + NAMESPACES * (KINDS.len() + 2),
    })
}

fn succeeded(what: &str, finished: Finished) -> Result<Finished, Failure> {
    if finished.status.success() {
        return Ok(finished);
    }
    Err(format!(
        "{what} ended with {}: {}",
        finished.status,
        finished.stderr.trim()
    )
    .into())
}

/// [`OBJECTS`] objects: [`NAMESPACES`] Namespaces of run `run`, each with its share of the
/// other kinds.
fn manifest(run: usize) -> String {
    let per_namespace = OBJECTS / NAMESPACES - 1;
    let mut yaml = String::new();
    for ns in 0..NAMESPACES {
        let namespace = format!("apply-{run}-{ns}");
        let _ = write!(
            yaml,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
        );
        for index in 0..per_namespace {
            yaml.push_str("---\n");
            yaml.push_str(&object(KINDS[index % KINDS.len()], &namespace, index));
        }
    }
    yaml
}

fn object(kind: &str, namespace: &str, index: usize) -> String {
    let name = format!("{}-{index:03}", kind.to_lowercase());
    let head = |api: &str| {
        format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
        )
    };
    match kind {
        "ConfigMap" => head("v1") + "data:\n  key: value\n",
        "Secret" => head("v1") + "type: Opaque\nstringData:\n  password: not-a-real-one\n",
        "Service" => {
            head("v1")
                + "spec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n    targetPort: 8080\n"
        }
        "Deployment" => {
            head("apps/v1")
                + &format!(
                    "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  \
                     template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      \
                     containers:\n      - name: app\n        image: nginx:1.27\n"
                )
        }
        "ServiceAccount" => head("v1"),
        "Role" => {
            head("rbac.authorization.k8s.io/v1")
                + "rules:\n- apiGroups: [\"\"]\n  resources: [\"pods\"]\n  verbs: [\"get\", \"list\"]\n"
        }
        _ => {
            head("rbac.authorization.k8s.io/v1")
                + &format!(
                    "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: role-{:03}\n\
                     subjects:\n- kind: ServiceAccount\n  name: default\n  namespace: {namespace}\n",
                    index - 1
                )
        }
    }
}
