//! kos at scale (issues 6 and 19): `cargo bench --bench kos_scale`.
//!
//! 1. The view in process at 5 000 and 20 000 rows: build+render time per frame, and the
//!    delay from a diff entering the real event loop to the flush of the frame that shows it.
//! 2. The view as its user sees it, in tmux, through a rollout of 5 000 pods (alone, then
//!    beside a busy loop per core) and of 20 000 pods, `kubectl rollout status` started at
//!    the same moment: its verdict after kubectl's and after its own rows, its CPU time per
//!    change the cluster made, its peak RSS, and its CPU use idling after the verdict.
//! 3. The same rollouts with `kos watch --output plain`: verdict after kubectl's, peak RSS,
//!    CPU time, memory per pod, and connections to the API server (the same for both sizes).
//! 4. `kos apply --no-wait` of 500 objects of mixed kinds, and kos's watches for them: per
//!    kind and namespace, never per object.
//!
//! Every measurement is repeated (`KOS_SCALE_RUNS`, default 3) and reported as medians and
//! ratios; the machine is shared and noisy. `KOS_SCALE_SPEED` sets the simulated clock's
//! speed (default 1), `KOS_SCALE_LARGE` the larger rollout (default 20 000 pods),
//! `KOS_SCALE_PARTS` the parts to run (`frames,view,busy,large,headless,apply`: all);
//! `KOS_SCALE_BIN` runs another kos build in the processes (the in-process view's figures
//! always come from this tree), `KOS_SCALE_SIM` another build's simulated cluster. It exits non-zero when a target is missed.

mod apply;
#[path = "../common/mod.rs"]
mod common;
mod process;
mod rollout;
mod screen;
mod view;

use common::{Failure, Row, Server, ms, percentile};
use rollout::Rollout;
use screen::{Load, Screen};
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The everyday big rollout, and the largest one kos is held to.
const PODS: usize = 5_000;
const LARGE: usize = 20_000;

/// The kos binary the bench runs: cargo's build of this tree (the bench profile:
/// optimised), or `KOS_SCALE_BIN` to measure another build (a "before" for a fix).
pub fn kos() -> PathBuf {
    std::env::var_os("KOS_SCALE_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_kos").into(), PathBuf::from)
}

/// `kos sim serve ARGS` of the kos under test, or of `KOS_SCALE_SIM` (another kos build, so
/// that two builds of kos are measured against the same simulated cluster), connected.
pub async fn sim_serve(args: &[&str]) -> Result<Server, Failure> {
    let kos = std::env::var_os("KOS_SCALE_SIM").map_or_else(kos, PathBuf::from);
    Server::start(
        &[kos.as_os_str(), OsStr::new("sim"), OsStr::new("serve")],
        args,
    )
    .await
}

/// The headless watch at 5 000 pods as it was before issue 19 (main at `b94b50f`, medians of
/// 3 on a quiet machine against this tree's simulated cluster): it must keep these figures or
/// better them, within [`NOISE`].
const HEADLESS_TODAY: Today = Today {
    after_kubectl_s: 0.02,
    rss_mb: 81.4,
    cpu_s: 0.98,
};
/// What run-to-run noise a kept figure is allowed on this machine: a tenth more, and for the
/// verdict 50 ms more (the bench samples every 10 ms; the verdict lands anywhere in a tick of
/// the simulated cluster).
const NOISE: (f64, f64) = (1.1, 0.05);
const US_PER_CHANGE_TARGET: f64 = 8.0;
const FRAME_TARGET: Duration = Duration::from_millis(8);
const LATENCY_TARGET: Duration = Duration::from_millis(50);
/// "About zero": at most one 10 ms tick of CPU time over the 10 s window.
const IDLE_TARGET_PERCENT: f64 = 0.1;
const APPLY_TARGET: Duration = Duration::from_secs(5);

/// Figures a run must keep.
struct Today {
    after_kubectl_s: f64,
    rss_mb: f64,
    cpu_s: f64,
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kos_scale: cannot start tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("kos_scale: {error}");
            ExitCode::FAILURE
        }
    }
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The median of `values` by `f`.
fn median<T: Copy + Default + PartialOrd>(values: impl Iterator<Item = T>) -> T {
    let mut values: Vec<T> = values.collect();
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    percentile(&values, 0.5)
}

/// What one run of the bench is asked for.
struct Settings {
    runs: usize,
    speed: String,
    sizes: [usize; 2],
    /// The parts to run (`KOS_SCALE_PARTS`, comma-separated; all by default).
    parts: Vec<String>,
}

impl Settings {
    fn from_env() -> Settings {
        let parts: String = setting("KOS_SCALE_PARTS", PARTS.join(","));
        Settings {
            runs: setting("KOS_SCALE_RUNS", 3).max(1),
            speed: setting("KOS_SCALE_SPEED", "1".to_owned()),
            sizes: [PODS, setting("KOS_SCALE_LARGE", LARGE)],
            parts: parts.split(',').map(|p| p.trim().to_owned()).collect(),
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.parts.iter().any(|p| p == part)
    }
}

/// The bench's parts, in the order they run.
const PARTS: [&str; 6] = ["frames", "view", "busy", "large", "headless", "apply"];

async fn bench() -> Result<bool, Failure> {
    let settings = Settings::from_env();
    if let Some(unknown) = settings.parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
        return Err(format!(
            "unknown part `{unknown}`: the parts are {}",
            PARTS.join(", ")
        )
        .into());
    }
    let mut rows = Vec::new();
    if settings.wants("frames") {
        for pods in settings.sizes {
            rows.extend(view_rows(&view::run(pods).await?));
        }
    }
    rows.extend(screen_parts(&settings).await?);
    if settings.wants("headless") {
        rows.extend(headless(&settings).await?);
    }
    if settings.wants("apply") {
        rows.extend(apply_rows(settings.runs).await?);
    }
    Ok(common::print_table(&rows))
}

/// The view in tmux: 5 000 pods alone (and idling after), beside busy loops, 20 000 pods.
async fn screen_parts(settings: &Settings) -> Result<Vec<Row>, Failure> {
    let (runs, speed, [pods, large]) = (settings.runs, &settings.speed, settings.sizes);
    let mut rows = Vec::new();
    if settings.wants("view") {
        let alone = screens(runs, speed, pods, Load::default()).await?;
        rows.extend(screen_rows(pods, "", &alone));
        rows.extend(idle_row(&alone));
    }
    if settings.wants("busy") {
        let busy = Load {
            busy: true,
            idle: false,
        };
        let screens = screens(runs, speed, pods, busy).await?;
        rows.extend(screen_rows(pods, " busy", &screens));
    }
    if settings.wants("large") {
        let screens = screens(runs, speed, large, Load::default()).await?;
        rows.extend(screen_rows(large, "", &screens));
    }
    Ok(rows)
}

/// `kos watch --output plain` through rollouts of both sizes.
async fn headless(settings: &Settings) -> Result<Vec<Row>, Failure> {
    let mut rollouts: Vec<Vec<Rollout>> = Vec::new();
    for pods in settings.sizes {
        let mut runs_of_size = Vec::with_capacity(settings.runs);
        for run in 0..settings.runs {
            let rollout = rollout::run(pods, &settings.speed).await?;
            println!(
                "headless {pods} pods, run {}: kubectl {:.2} s, kos {:.2} s, kos RSS {} MB, \
                 kos CPU {:.2} s, connections {}",
                run + 1,
                rollout.kubectl.as_secs_f64(),
                rollout.kos.as_secs_f64(),
                rollout.kos_peak_rss_kb / 1024,
                rollout.kos_cpu.as_secs_f64(),
                rollout.kos_connections
            );
            runs_of_size.push(rollout);
        }
        rollouts.push(runs_of_size);
    }
    let [pods, large] = settings.sizes;
    let mut rows = rollout_rows(pods, &rollouts[0], Some(HEADLESS_TODAY));
    rows.extend(rollout_rows(large, &rollouts[1], None));
    rows.push(memory_row(settings.sizes, &rollouts));
    rows.push(connections_row(settings.sizes, &rollouts));
    Ok(rows)
}

async fn apply_rows(runs: usize) -> Result<Vec<Row>, Failure> {
    let (applies, watch) = apply::run(runs).await?;
    let apply_median = median(applies.iter().map(|a| a.elapsed));
    Ok(vec![
        Row {
            metric: format!("apply --no-wait, {} objects", apply::OBJECTS),
            median: format!("{:.2} s", apply_median.as_secs_f64()),
            p99: format!(
                "cpu {:.2} s",
                median(applies.iter().map(|a| a.cpu)).as_secs_f64()
            ),
            target: "<= 5 s".to_owned(),
            met: apply_median <= APPLY_TARGET,
        },
        Row {
            metric: format!(
                "watches, {} objects in {} namespaces",
                apply::OBJECTS,
                apply::NAMESPACES
            ),
            median: watch.watches.to_string(),
            p99: format!("plan {}", watch.planned),
            target: "per kind".to_owned(),
            met: watch.watches == watch.planned as u64,
        },
        Row {
            metric: "  TCP connections held (watches + idle)".to_owned(),
            median: watch.connections.to_string(),
            p99: format!("plan {}", watch.planned),
            target: "<= 2 x plan".to_owned(),
            // The first lists go out together; each may leave one kept-alive connection idle
            // beside the watch that follows it: bounded by the kinds, never by the objects.
            met: watch.connections <= 2 * watch.planned,
        },
    ])
}

/// `runs` rollouts of `pods` pods under the view's eyes; the last one also measures the view
/// idling after its verdict.
async fn screens(
    runs: usize,
    speed: &str,
    pods: usize,
    load: Load,
) -> Result<Vec<Screen>, Failure> {
    let mut screens = Vec::with_capacity(runs);
    for run in 0..runs {
        let idle = !load.busy && pods == PODS && run + 1 == runs;
        let screen = screen::run(pods, speed, Load { idle, ..load }).await?;
        println!(
            "view {pods} pods{}, run {}: kubectl {:.2} s, rows {:.2} s, verdict {:.2} s, \
             CPU {:.2} s for {} changes, RSS {} MB",
            if load.busy { " (busy)" } else { "" },
            run + 1,
            screen.kubectl.as_secs_f64(),
            screen.rows.as_secs_f64(),
            screen.verdict.as_secs_f64(),
            screen.cpu.as_secs_f64(),
            screen.changes,
            screen.peak_rss_kb / 1024,
        );
        screens.push(screen);
    }
    Ok(screens)
}

fn screen_rows(pods: usize, load: &str, screens: &[Screen]) -> Vec<Row> {
    let targets = ScreenTargets::for_run(pods, !load.is_empty());
    let after_kubectl = median(screens.iter().map(Screen::after_kubectl));
    let after_rows = median(screens.iter().map(Screen::after_rows));
    let rss_mb = median(screens.iter().map(|s| s.peak_rss_kb)) as f64 / 1024.0;
    let cpu = median(screens.iter().map(|s| s.cpu.as_secs_f64()));
    let per_change = median(screens.iter().map(Screen::us_per_change));
    let changes = median(screens.iter().map(|s| s.changes));
    let title = |what: &str| format!("view {pods}{load}: {what}");
    let verdict_at = median(screens.iter().map(|s| s.verdict.as_secs_f64()));
    let mut rows = vec![
        held(
            title("verdict after kubectl's"),
            (after_kubectl, format!("{after_kubectl:+.2} s")),
            format!("at {verdict_at:.1} s"),
            (targets.after_kubectl, "s"),
        ),
        held(
            title("verdict after the rows"),
            (after_rows, format!("{after_rows:+.2} s")),
            "-".to_owned(),
            (targets.after_rows, "s"),
        ),
        held(
            title("peak RSS"),
            (rss_mb, format!("{rss_mb:.1} MB")),
            "-".to_owned(),
            (Some(targets.rss_mb), "MB"),
        ),
        held(
            title("CPU for the rollout"),
            (cpu, format!("{cpu:.2} s")),
            format!("{changes} chg"),
            (targets.cpu, "s"),
        ),
    ];
    // Busy loops and 20 000 pods are held to their verdict and memory; CPU is for the record.
    let per_change_target = targets.cpu.map(|_| US_PER_CHANGE_TARGET);
    rows.push(held(
        title("CPU per change"),
        (per_change, format!("{per_change:.1} µs")),
        "-".to_owned(),
        (per_change_target, "µs"),
    ));
    rows
}

/// A row whose `value` (shown as the text beside it) is held to at most `target` in `unit`;
/// with no target it is reported only.
fn held(metric: String, value: (f64, String), other: String, target: (Option<f64>, &str)) -> Row {
    let (value, shown) = value;
    let (target, unit) = target;
    Row {
        metric,
        median: shown,
        p99: other,
        // Rounded: a target derived by arithmetic (today's figure with its noise) would
        // print as 89.54000000000002.
        target: target.map_or_else(
            || "-".to_owned(),
            |t| format!("<= {} {unit}", (t * 100.0).round() / 100.0),
        ),
        met: target.is_none_or(|t| value <= t),
    }
}

/// The view's targets for a run of `pods` pods, alone or beside busy loops.
struct ScreenTargets {
    after_kubectl: Option<f64>,
    after_rows: Option<f64>,
    rss_mb: f64,
    cpu: Option<f64>,
}

impl ScreenTargets {
    fn for_run(pods: usize, busy: bool) -> ScreenTargets {
        match (pods == PODS, busy) {
            (true, false) => ScreenTargets {
                after_kubectl: Some(0.2),
                after_rows: Some(0.1),
                rss_mb: 100.0,
                cpu: Some(0.5),
            },
            // A busy machine delays everyone: only the lag behind its own rows and memory.
            (true, true) => ScreenTargets {
                after_kubectl: None,
                after_rows: Some(1.0),
                rss_mb: 100.0,
                cpu: None,
            },
            (false, _) => ScreenTargets {
                after_kubectl: Some(0.5),
                after_rows: None,
                rss_mb: rss_target_mb(pods),
                cpu: None,
            },
        }
    }
}

/// The memory allowed at `pods` pods: 300 MB at 20 000, in proportion elsewhere.
fn rss_target_mb(pods: usize) -> f64 {
    300.0 * pods as f64 / LARGE as f64
}

fn idle_row(screens: &[Screen]) -> Option<Row> {
    let percent = screens.iter().find_map(|s| s.idle_percent)?;
    Some(Row {
        metric: "view idle after the verdict (10 s)".to_owned(),
        median: format!("{percent:.2} %"),
        p99: "of a core".to_owned(),
        target: format!("<= {IDLE_TARGET_PERCENT} %"),
        met: percent <= IDLE_TARGET_PERCENT,
    })
}

fn view_rows(view: &view::ViewTimes) -> Vec<Row> {
    let (change50, change99) = view::p50_p99(&view.change_frames);
    let (tick50, tick99) = view::p50_p99(&view.tick_frames);
    let (event50, event99) = view::p50_p99(&view.event_to_screen);
    vec![
        Row {
            metric: format!("frame after a pod change ({} rows)", view.rows),
            median: ms(change50),
            p99: ms(change99),
            target: "p99 <= 8 ms".to_owned(),
            met: change99 <= FRAME_TARGET,
        },
        Row {
            metric: format!("frame, nothing changed ({} rows)", view.rows),
            median: ms(tick50),
            p99: ms(tick99),
            target: "p99 <= 8 ms".to_owned(),
            met: tick99 <= FRAME_TARGET,
        },
        Row {
            metric: format!("diff to screen, event loop ({} rows)", view.rows),
            median: ms(event50),
            p99: ms(event99),
            target: "p99 <= 50 ms".to_owned(),
            met: event99 <= LATENCY_TARGET,
        },
    ]
}

/// The headless watch's rows for `pods` pods, held to `today`'s figures where given and to
/// the targets for the verdict and memory otherwise.
fn rollout_rows(pods: usize, runs: &[Rollout], today: Option<Today>) -> Vec<Row> {
    let kubectl = median(runs.iter().map(|r| r.kubectl.as_secs_f64()));
    let kos = median(runs.iter().map(|r| r.kos.as_secs_f64()));
    let delay = median(runs.iter().map(Rollout::delay));
    let rss_mb = median(runs.iter().map(|r| r.kos_peak_rss_kb)) as f64 / 1024.0;
    let kubectl_mb = median(runs.iter().map(|r| r.kubectl_peak_rss_kb)) as f64 / 1024.0;
    let cpu = median(runs.iter().map(|r| r.kos_cpu.as_secs_f64()));
    let (delay_target, rss_target, cpu_target) = match today {
        Some(today) => (
            today.after_kubectl_s + NOISE.1,
            today.rss_mb * NOISE.0,
            Some(today.cpu_s * NOISE.0),
        ),
        None => (0.5, rss_target_mb(pods), None),
    };
    let title = |what: &str| format!("headless {pods}: {what}");
    vec![
        held(
            title("verdict after kubectl's"),
            (delay, format!("{delay:+.2} s")),
            format!("x{:.3}", kos / kubectl),
            (Some(delay_target), "s"),
        ),
        held(
            title("kubectl / kos verdict at"),
            (kubectl, format!("{kubectl:.2} s")),
            format!("{kos:.2} s"),
            (None, "s"),
        ),
        held(
            title("peak RSS (kubectl's)"),
            (rss_mb, format!("{rss_mb:.1} MB")),
            format!("{kubectl_mb:.1} MB"),
            (Some(rss_target), "MB"),
        ),
        held(
            title("CPU time"),
            (cpu, format!("{cpu:.2} s")),
            format!("{:.1} ms/pod", cpu * 1000.0 / pods as f64),
            (cpu_target, "s"),
        ),
    ]
}

/// Bytes per pod: the slope of peak RSS between the two sizes.
fn memory_row(sizes: [usize; 2], rollouts: &[Vec<Rollout>]) -> Row {
    let peak = |runs: &[Rollout]| median(runs.iter().map(|r| r.kos_peak_rss_kb)) as f64 * 1024.0;
    let slope = (peak(&rollouts[1]) - peak(&rollouts[0])) / (sizes[1] - sizes[0]) as f64;
    Row {
        metric: "headless memory per pod (RSS slope)".to_owned(),
        median: format!("{slope:.0} B"),
        p99: format!("x{:.2} RSS", peak(&rollouts[1]) / peak(&rollouts[0])),
        target: "linear".to_owned(),
        met: true,
    }
}

/// kos's connections for a Deployment: the same whatever its size, one per planned watch
/// (the Deployment by name, its `ReplicaSets`, its Pods; `kos watch` follows no Events).
fn connections_row(sizes: [usize; 2], rollouts: &[Vec<Rollout>]) -> Row {
    const PLANNED: usize = 3;
    let typical = |runs: &[Rollout]| median(runs.iter().map(|r| r.kos_connections));
    let (small, large) = (typical(&rollouts[0]), typical(&rollouts[1]));
    Row {
        metric: format!(
            "connections, 1 Deployment: {} / {} pods",
            sizes[0], sizes[1]
        ),
        median: small.to_string(),
        p99: large.to_string(),
        target: format!("<= {PLANNED}+1"),
        // One more may be a kept-alive connection of the requests beside the watches; what
        // matters is that more pods open none.
        met: small.max(large) <= PLANNED + 1,
    }
}
