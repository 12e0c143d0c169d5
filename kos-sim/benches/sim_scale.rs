//! The simulated cluster at scale (issue 3): 5 000 pods in one namespace with 3 watchers
//! attached. Targets: a full list in under 1 s, a watch event delivered under 50 ms after
//! the change, server RSS under 300 MB.
//!
//! Run with `cargo bench --bench sim_scale`. It starts `kos-sim serve` (built with the
//! bench profile) as its own process so that its memory can be read from
//! `/proc/PID/status`, creates the pods over HTTP with bounded concurrency, attaches three
//! watches, times repeated full lists and the delay from each of 200 patches to its event
//! on every watcher, prints medians and p99s, and exits non-zero when a target is missed.
//! `SIM_SCALE_PODS` overrides the pod count (for a quick try).

// Shared with kos's bench, which runs the same server through `kos sim serve`.
#[path = "../../benches/common/mod.rs"]
mod common;

use common::{Failure, Row, Server, memory_kb, ms, percentile};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::{Api, Client};
use serde_json::json;
use std::ffi::OsStr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const NAMESPACE: &str = "bench";
const WATCHERS: usize = 3;
const LISTS: usize = 20;
const CHANGES: usize = 200;
const CREATE_CONCURRENCY: usize = 16;
const SEQ: &str = "bench.kos.dev/seq";

const LIST_TARGET: Duration = Duration::from_secs(1);
const WATCH_TARGET: Duration = Duration::from_millis(50);
const RSS_TARGET_KB: u64 = 300 * 1024;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sim_scale: cannot start tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("sim_scale: {error}");
            ExitCode::FAILURE
        }
    }
}

fn pod(index: usize) -> Result<Pod, serde_json::Error> {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("pod-{index:05}"), "namespace": NAMESPACE,
                     "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
    }))
}

async fn create_pods(client: &Client, count: usize) -> Result<Duration, Failure> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": NAMESPACE}}))?;
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let start = Instant::now();
    futures::stream::iter(0..count)
        .map(|index| {
            let pods = pods.clone();
            async move {
                pods.create(&PostParams::default(), &pod(index)?)
                    .await
                    .map_err(Failure::from)
            }
        })
        .buffer_unordered(CREATE_CONCURRENCY)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    Ok(start.elapsed())
}

/// Waits until the kubelet has started every pod, so that the measurements see a cluster
/// of `count` running pods rather than the start-up churn.
async fn wait_running(client: &Client, count: usize) -> Result<Duration, Failure> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let start = Instant::now();
    loop {
        let list = pods.list(&ListParams::default()).await?;
        let running = list
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count();
        if running == count {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_mins(3) {
            return Err(format!("only {running} of {count} pods Running after 180 s").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One full list over HTTP, timed to the last byte of the body; checks the item count.
async fn list_once(client: &Client, count: usize) -> Result<(Duration, String), Failure> {
    let request =
        axum::http::Request::get(format!("/api/v1/namespaces/{NAMESPACE}/pods")).body(Vec::new())?;
    let start = Instant::now();
    let body = client.request_text(request).await?;
    let elapsed = start.elapsed();
    let list: serde_json::Value = serde_json::from_str(&body)?;
    let items = list["items"].as_array().map_or(0, Vec::len);
    if items != count {
        return Err(format!("a list returned {items} pods, not {count}").into());
    }
    let version = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_owned();
    Ok((elapsed, version))
}

/// Starts a watcher that reports `(watcher, seq, arrival)` for each event carrying a
/// sequence annotation.
async fn watch(
    client: &Client,
    watcher: usize,
    version: &str,
    seen: mpsc::UnboundedSender<(usize, usize, Instant)>,
) -> Result<(), Failure> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let mut stream = pods
        .watch(&WatchParams::default().timeout(290), version)
        .await?
        .boxed();
    tokio::spawn(async move {
        while let Ok(Some(event)) = stream.try_next().await {
            let WatchEvent::Modified(pod) = event else {
                continue;
            };
            let arrived = Instant::now();
            let seq = pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(SEQ)?.parse::<usize>().ok());
            if let Some(seq) = seq
                && seen.send((watcher, seq, arrived)).is_err()
            {
                break;
            }
        }
    });
    Ok(())
}

/// Patches pods one at a time and returns, per change and watcher, the time from sending
/// the PATCH to the event's arrival.
async fn change_latencies(client: &Client, count: usize) -> Result<Vec<Duration>, Failure> {
    let (_, version) = list_once(client, count).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    for watcher in 0..WATCHERS {
        watch(client, watcher, &version, tx.clone()).await?;
    }
    drop(tx);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let mut latencies = Vec::with_capacity(CHANGES * WATCHERS);
    for seq in 0..CHANGES {
        let name = format!("pod-{:05}", (seq * 7919) % count);
        let patch = json!({"metadata": {"annotations": {SEQ: seq.to_string()}}});
        let sent = Instant::now();
        pods.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let mut heard = [false; WATCHERS];
        while heard.iter().any(|h| !h) {
            let event = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
            let (watcher, event_seq, arrived) = event
                .map_err(|_| format!("change {seq}: no event within 10 s"))?
                .ok_or("every watch ended")?;
            if event_seq == seq && !heard[watcher] {
                heard[watcher] = true;
                latencies.push(arrived.saturating_duration_since(sent));
            }
        }
    }
    Ok(latencies)
}

async fn bench() -> Result<bool, Failure> {
    let count = std::env::var("SIM_SCALE_PODS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5000);
    let serve = [
        OsStr::new(env!("CARGO_BIN_EXE_kos-sim")),
        OsStr::new("serve"),
    ];
    let server = Server::start(&serve, &[]).await?;
    let client = server.client.clone();
    let created = create_pods(&client, count).await?;
    println!(
        "created {count} pods in {:.1} s ({:.0}/s); server RSS now {} MB",
        created.as_secs_f64(),
        count as f64 / created.as_secs_f64(),
        memory_kb(server.pid()?)?.1 / 1024
    );

    let settled = wait_running(&client, count).await?;
    println!(
        "all {count} pods Running after {:.1} s; server RSS now {} MB",
        settled.as_secs_f64(),
        memory_kb(server.pid()?)?.1 / 1024
    );

    let mut latencies = change_latencies(&client, count).await?;
    latencies.sort_unstable();
    println!(
        "after the changes: server RSS {} MB",
        memory_kb(server.pid()?)?.1 / 1024
    );
    let mut lists = Vec::with_capacity(LISTS);
    for _ in 0..LISTS {
        lists.push(list_once(&client, count).await?.0);
    }
    lists.sort_unstable();
    let (peak_kb, rss_kb) = memory_kb(server.pid()?)?;

    let list_median = percentile(&lists, 0.5);
    let watch_median = percentile(&latencies, 0.5);
    let rows = [
        Row {
            metric: format!("full list ({count} pods, {LISTS}x)"),
            median: ms(list_median),
            p99: ms(percentile(&lists, 0.99)),
            target: "< 1 s".to_owned(),
            met: list_median < LIST_TARGET,
        },
        Row {
            metric: format!("watch event ({CHANGES} changes x {WATCHERS})"),
            median: ms(watch_median),
            p99: ms(percentile(&latencies, 0.99)),
            target: "< 50 ms".to_owned(),
            met: watch_median < WATCH_TARGET,
        },
        Row {
            metric: "server RSS (peak / now)".to_owned(),
            median: format!("{} MB", peak_kb / 1024),
            p99: format!("{} MB", rss_kb / 1024),
            target: "< 300 MB".to_owned(),
            met: peak_kb < RSS_TARGET_KB,
        },
    ];
    Ok(common::print_table(&rows))
}
