//! `kos demo`: the simulated cluster in process, a bundled example applied to it, and the
//! live view (or plain/JSON lines) — kos at work with no cluster at all.
//!
//! It goes the way `kos apply` goes, through a kubeconfig for the in-process cluster (HTTPS,
//! its CA and the admin's client certificate) and `kos apply`'s own code, so the demo shows
//! the real thing. It must not reach into the simulated cluster's insides.

use crate::apply::Progress;
use crate::cli::{ApplyArgs, ClusterArgs, DemoArgs, DemoScenario, FileArgs, TrackArgs, Validate};
use crate::cluster::Cluster;
use crate::exit::{BadInput, ClusterError, ExitCode};
use crate::manifest::{self, LoadOptions, Manifest};
use color_eyre::Result;
use color_eyre::eyre::WrapErr;
use kos_sim::{self as sim, SimConfig};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How often the starting point's Rollouts are looked at until they are Healthy.
const SETTLE_POLL: Duration = Duration::from_millis(200);

/// The bundled manifests of a scenario: what is applied before tracking (the revision a
/// rolling update starts from), and what is applied and tracked.
struct Manifests {
    before: Option<&'static str>,
    tracked: &'static str,
}

/// A demo manifest after the Rollout CRD kos ships (`assets/crds/argo-rollouts.yaml`), so
/// that the scenario runs on a cluster without it.
macro_rules! with_rollouts {
    ($file:literal) => {
        concat!(
            include_str!("../../assets/crds/argo-rollouts.yaml"),
            "---\n",
            include_str!(concat!("../../assets/demo/", $file)),
        )
    };
}

fn manifests(scenario: DemoScenario) -> Manifests {
    let tracked = |tracked| Manifests {
        before: None,
        tracked,
    };
    match scenario {
        DemoScenario::Healthy => tracked(include_str!("../../assets/demo/healthy.yaml")),
        DemoScenario::ImagePull => tracked(include_str!("../../assets/demo/image-pull.yaml")),
        DemoScenario::Crashloop => tracked(include_str!("../../assets/demo/crashloop.yaml")),
        DemoScenario::Flaky => tracked(include_str!("../../assets/demo/flaky.yaml")),
        DemoScenario::RollingUpdate => Manifests {
            before: Some(include_str!("../../assets/demo/rolling-update.before.yaml")),
            tracked: include_str!("../../assets/demo/rolling-update.yaml"),
        },
        DemoScenario::Job => tracked(include_str!("../../assets/demo/job.yaml")),
        DemoScenario::Big => tracked(include_str!("../../assets/demo/big.yaml")),
        DemoScenario::MissingConfig => {
            tracked(include_str!("../../assets/demo/missing-config.yaml"))
        }
        DemoScenario::TooBig => tracked(include_str!("../../assets/demo/too-big.yaml")),
        DemoScenario::BlueGreen => Manifests {
            before: Some(with_rollouts!("blue-green.before.yaml")),
            tracked: with_rollouts!("blue-green.yaml"),
        },
        DemoScenario::Canary => Manifests {
            before: Some(with_rollouts!("canary.before.yaml")),
            tracked: with_rollouts!("canary.yaml"),
        },
    }
}

/// `--timeout` and `--stabilize` unless given: both countdowns show, and the flaky
/// scenario's failure (a 10 s image pull back-off) fits inside its window.
fn track_args(args: &DemoArgs) -> TrackArgs {
    let stabilize = match args.scenario {
        DemoScenario::Flaky => Duration::from_secs(15),
        _ => Duration::from_secs(10),
    };
    TrackArgs {
        timeout: args.timeout.unwrap_or(Duration::from_mins(5)),
        stabilize: args.stabilize.unwrap_or(stabilize),
        output: args.output,
        digest_logs: crate::output::digest::LOG_LINES,
        status_rules: None,
    }
}

pub async fn run(args: &DemoArgs) -> Result<ExitCode> {
    let config = SimConfig {
        speed: args.speed,
        ..SimConfig::default()
    };
    let cluster = sim::start(config)
        .await
        .map_err(|e| ClusterError(e.to_string()))?;
    let dir = Scratch::create()?;
    let outcome = demo(args, &cluster, &dir).await;
    cluster.shutdown().await;
    outcome
}

async fn demo(args: &DemoArgs, cluster: &sim::Sim, dir: &Scratch) -> Result<ExitCode> {
    let manifests = manifests(args.scenario);
    let kubeconfig = dir.write("kubeconfig", &cluster.kubeconfig())?;
    let apply = |file: PathBuf, no_wait: bool| ApplyArgs {
        files: FileArgs {
            files: vec![file],
            recursive: false,
        },
        cluster: ClusterArgs {
            kubeconfig: Some(kubeconfig.clone()),
            ..ClusterArgs::default()
        },
        track: track_args(args),
        no_wait,
        dry_run: false,
        field_manager: "kos".to_owned(),
        force_conflicts: false,
        validate: Validate::Strict,
    };
    if let Some(before) = manifests.before {
        let file = dir.write("before.yaml", before)?;
        apply_only(&apply(file, true)).await?;
    }
    let file = dir.write("demo.yaml", manifests.tracked)?;
    super::apply::run(&apply(file, false)).await
}

/// Applies without tracking or printing anything: the starting point of a scenario.
async fn apply_only(args: &ApplyArgs) -> Result<()> {
    let manifests = manifest::load(&args.files.files, &LoadOptions::default())
        .map_err(|errors| BadInput(errors.to_string()))?;
    let cluster = crate::cluster::connect(&args.cluster)
        .await
        .map_err(|e| ClusterError(e.to_string()))?;
    let options = super::apply::options(args);
    let mut progress = Progress::default();
    let later = crate::apply::apply(&cluster, &manifests, &options, &mut progress).await;
    let later = later.map_err(|e| ClusterError(e.to_string()))?;
    later
        .finish(&mut progress)
        .await
        .map_err(|e| ClusterError(e.to_string()))?;
    settle(&cluster, &manifests, args.track.timeout).await
}

/// Waits until each Rollout of the starting point serves its first revision (phase
/// Healthy): a blue-green update pauses only when there is an active revision to replace.
async fn settle(cluster: &Cluster, manifests: &[Manifest], timeout: Duration) -> Result<()> {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "rollouts");
    let deadline = tokio::time::Instant::now() + timeout;
    for rollout in manifests.iter().filter(|m| m.object["kind"] == "Rollout") {
        let meta = &rollout.object["metadata"];
        let name = meta["name"].as_str().unwrap_or_default();
        let namespace = meta["namespace"].as_str().unwrap_or(&cluster.namespace);
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client.clone(), namespace, &resource);
        loop {
            let phase = api
                .get(name)
                .await
                .ok()
                .and_then(|ro| ro.data["status"]["phase"].as_str().map(str::to_owned));
            if phase.as_deref() == Some("Healthy") {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                let phase = phase.unwrap_or_else(|| "no phase".to_owned());
                return Err(ClusterError(format!(
                    "Rollout {namespace}/{name} of the first revision is not Healthy after {}s ({phase})",
                    timeout.as_secs()
                ))
                .into());
            }
            tokio::time::sleep(SETTLE_POLL).await;
        }
    }
    Ok(())
}

/// A directory of our own (mode 0700) for the kubeconfig and manifests, removed on drop.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn create() -> Result<Self> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("kos-demo-{}-{n}", std::process::id()));
        // Owner only: the kubeconfig holds the cluster admin's private key.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&path)
            .wrap_err_with(|| format!("cannot create {}", path.display()))?;
        Ok(Scratch { path })
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.path.join(name);
        std::fs::write(&path, text).wrap_err_with(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// Every bundled manifest loads, and each scenario tracks at least one object.
    #[test]
    fn every_scenario_has_valid_manifests() {
        let dir = Scratch::create().unwrap();
        for scenario in DemoScenario::value_variants() {
            let m = manifests(*scenario);
            for (i, text) in m.before.into_iter().chain([m.tracked]).enumerate() {
                let file = dir.write(&format!("{scenario:?}-{i}.yaml"), text).unwrap();
                let loaded = manifest::load(&[file], &LoadOptions::default())
                    .unwrap_or_else(|e| panic!("{scenario:?}: {e}"));
                assert!(!loaded.is_empty(), "{scenario:?}");
            }
        }
    }
}
