//! The simulated cluster's control plane: the three Nodes, and every controller that turns
//! specs into children and status (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
//! CronJob, Argo Rollouts' Rollout and its AnalysisRuns, Service, Endpoints and EndpointSlices, PersistentVolumeClaim and
//! PersistentVolume, ServiceAccount, ResourceQuota, TTL-after-finished,
//! PodDisruptionBudget, HorizontalPodAutoscaler, Ingress, APIService availability, garbage
//! collection), plus the kubelet that runs pods (`sim::kubelet`).
//!
//! They reach the cluster only through the in-process [`Store`], never over HTTP, and every
//! delay goes through the [`Clock`] so that `--speed` scales it. Nothing here serves HTTP.

// Kubernetes kind and field names (ReplicaSet, maxSurge) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

pub mod analysis;
pub mod apiservices;
pub mod autoscaler;
pub mod cron;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod events;
pub mod gc;
pub mod ingress;
pub mod job;
pub mod nodes;
pub mod objects;
pub mod quota;
pub mod replicaset;
pub mod rolling;
pub mod rollout;
pub mod rollout_plan;
pub mod rollout_status;
pub mod runner;
pub mod selection;
pub mod serviceaccounts;
pub mod services;
pub mod statefulset;
pub mod ttl;
pub mod volumes;

use crate::clock::Clock;
use crate::logs::Logs;
use crate::store::Store;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Creates the Nodes and starts every controller and the kubelet, each as a task of the
/// returned set (dropping it stops them all). Must be called inside a tokio runtime.
pub fn spawn(store: Arc<Store>, logs: Logs, clock: Clock) -> JoinSet<()> {
    nodes::create(&store);
    volumes::create_default_class(&store);
    let ctx = runner::Ctx::new(store, clock);
    let mut tasks = JoinSet::new();
    tasks.spawn(crate::kubelet::run(ctx.clone(), logs));
    tasks.spawn(gc::run(ctx.clone()));
    tasks.spawn(runner::run(ctx.clone(), replicaset::ReplicaSets));
    tasks.spawn(runner::run(ctx.clone(), deployment::Deployments::default()));
    tasks.spawn(runner::run(ctx.clone(), rollout::Rollouts));
    tasks.spawn(runner::run(ctx.clone(), statefulset::StatefulSets));
    tasks.spawn(runner::run(ctx.clone(), daemonset::DaemonSets));
    tasks.spawn(runner::run(ctx.clone(), job::Jobs::default()));
    tasks.spawn(runner::run(ctx.clone(), cronjob::CronJobs::default()));
    tasks.spawn(runner::run(ctx.clone(), ttl::TtlAfterFinished::default()));
    tasks.spawn(runner::run(ctx.clone(), endpoints::Endpoints::default()));
    tasks.spawn(runner::run(ctx.clone(), disruption::Disruption::default()));
    tasks.spawn(runner::run(ctx.clone(), autoscaler::Autoscalers::default()));
    tasks.spawn(runner::run(ctx.clone(), ingress::Ingresses::default()));
    tasks.spawn(runner::run(
        ctx.clone(),
        apiservices::ApiServices::default(),
    ));
    tasks.spawn(runner::run(ctx.clone(), services::Services::default()));
    tasks.spawn(runner::run(ctx.clone(), serviceaccounts::ServiceAccounts));
    tasks.spawn(runner::run(ctx.clone(), quota::Quotas));
    tasks.spawn(runner::run(ctx.clone(), volumes::Claims::default()));
    tasks.spawn(runner::run(ctx, volumes::Volumes));
    tasks
}
