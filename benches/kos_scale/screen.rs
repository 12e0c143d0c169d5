//! Issue 19: the full-screen view through a whole rollout, as its user sees it. A Deployment of
//! N replicas is rolled out on a fresh simulated cluster while `kos watch` shows it in a
//! private tmux server (200×60) and `kubectl rollout status` waits for it, both started at the
//! same moment. The screen is read every [`POLL`]: when the Deployment's row first shows every
//! replica available, when the header first shows the verdict. Meanwhile kos's peak memory
//! and, at the verdict, its CPU time; the cluster's changes over the rollout (its
//! resourceVersion moves once per change, and each change is at most one watch event for
//! kos). Optionally with busy loops on every core beside it, and the view's idle CPU after.

use crate::common::{Failure, memory_kb};
use crate::process::{self, cpu_time};
use crate::rollout::{self, NAME, NAMESPACE, TIMEOUT};
use crate::{kos, sim_serve};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often the screen and kos's memory are read: the resolution of the delays measured.
const POLL: Duration = Duration::from_millis(20);
/// How long the idle view's CPU time is sampled for.
const IDLE_WINDOW: Duration = Duration::from_secs(10);
/// The view has settled when its CPU time stands still this long (one 10 ms tick is the
/// resolution of `/proc/PID/stat`).
const SETTLE_STEP: Duration = Duration::from_secs(1);
/// The header's words once the verdict is in.
const VERDICT: &str = "done in";

/// One rollout as the view showed it.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// From the start of both waiters to kubectl's exit.
    pub kubectl: Duration,
    /// From the start to the first screen whose Deployment row shows N/N available.
    pub rows: Duration,
    /// From the start to the first screen whose header shows the verdict.
    pub verdict: Duration,
    /// kos's CPU time when the verdict was first on screen.
    pub cpu: Duration,
    /// kos's peak resident memory up to the verdict.
    pub peak_rss_kb: u64,
    /// The cluster's changes from the Deployment's creation to the verdict.
    pub changes: u64,
    /// The view's CPU use after the verdict, percent of a core, when asked for.
    pub idle_percent: Option<f64>,
}

impl Screen {
    /// Seconds from kubectl's verdict to the view's (negative: earlier).
    pub fn after_kubectl(&self) -> f64 {
        self.verdict.as_secs_f64() - self.kubectl.as_secs_f64()
    }

    /// Seconds from the rows showing the rollout done to the header's verdict.
    pub fn after_rows(&self) -> f64 {
        self.verdict.as_secs_f64() - self.rows.as_secs_f64()
    }

    /// kos's CPU time per change the cluster made, in µs.
    pub fn us_per_change(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.changes.max(1) as f64
    }
}

/// What a run of the view is asked to do besides the rollout.
#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    /// Busy loops beside it, one per core.
    pub busy: bool,
    /// Measure the idle CPU after the verdict.
    pub idle: bool,
}

/// Rolls out `replicas` pods at `speed` under the view's eyes.
pub async fn run(replicas: usize, speed: &str, load: Load) -> Result<Screen, Failure> {
    if Command::new("tmux").arg("-V").output().is_err() {
        return Err("tmux is not installed".into());
    }
    let server = sim_serve(&["--speed", speed]).await?;
    let pods: Api<Pod> = Api::namespaced(server.client.clone(), NAMESPACE);
    rollout::create_namespace(&server).await?;
    let _busy = if load.busy {
        Some(BusyLoops::start()?)
    } else {
        None
    };
    let before = resource_version(&pods).await?;
    rollout::create_deployment(&server, replicas).await?;
    let started = Instant::now();
    let kubectl = process::spawn(&mut rollout::kubectl_waits(server.kubeconfig()))?;
    let tmux = Tmux::start(&view_command(server.kubeconfig()))?;
    let kubectl = tokio::task::spawn_blocking(move || process::measure(kubectl, None));
    let seen = watch_screen(&tmux, replicas, started).await;
    let changes = resource_version(&pods).await? - before;
    let kubectl = rollout::succeeded("kubectl rollout status", kubectl.await??)?;
    let seen = seen?;
    let idle_percent = if load.idle {
        Some(measure_idle(seen.pid).await?)
    } else {
        None
    };
    Ok(Screen {
        kubectl: kubectl.exited - started,
        rows: seen.rows - started,
        verdict: seen.verdict - started,
        cpu: seen.cpu,
        peak_rss_kb: seen.peak_rss_kb,
        changes,
        idle_percent,
    })
}

fn view_command(kubeconfig: &Path) -> String {
    format!(
        "exec {} watch deployment/{NAME} -n {NAMESPACE} --stabilize 0 --timeout {TIMEOUT} \
         --output tui --kubeconfig {}",
        kos().display(),
        kubeconfig.display()
    )
}

/// The cluster's resourceVersion now, as a number (the simulator counts changes).
async fn resource_version(pods: &Api<Pod>) -> Result<u64, Failure> {
    let list = pods.list_metadata(&ListParams::default().limit(1)).await?;
    let version = list.metadata.resource_version.ok_or("no resourceVersion")?;
    Ok(version.parse()?)
}

/// What reading the screen saw.
struct Seen {
    pid: u32,
    rows: Instant,
    verdict: Instant,
    cpu: Duration,
    peak_rss_kb: u64,
}

async fn watch_screen(tmux: &Tmux, replicas: usize, started: Instant) -> Result<Seen, Failure> {
    let pid = tmux.pane_pid()?;
    let done_row = format!("{replicas}/{replicas} replicas available");
    let deadline = started + Duration::from_mins(10);
    let (mut rows, mut peak_rss_kb) = (None, 0);
    loop {
        tokio::time::sleep(POLL).await;
        if let Ok((peak, _)) = memory_kb(pid) {
            peak_rss_kb = peak_rss_kb.max(peak);
        }
        let screen = tmux.run(&["capture-pane", "-p"])?;
        let now = Instant::now();
        if rows.is_none() && screen.contains(&done_row) {
            rows = Some(now);
        }
        if screen.contains(VERDICT) {
            let cpu = cpu_time(pid)?;
            if !screen.contains("success") {
                return Err(format!("the view's verdict is not success:\n{screen}").into());
            }
            return Ok(Seen {
                pid,
                // A screen may show both at once: the rows were done by then.
                rows: rows.unwrap_or(now),
                verdict: now,
                cpu,
                peak_rss_kb,
            });
        }
        if now > deadline {
            return Err(format!("no verdict on screen within 10 min:\n{screen}").into());
        }
    }
}

/// CPU use of process `pid` once it has settled after its verdict, as percent of a core.
async fn measure_idle(pid: u32) -> Result<f64, Failure> {
    let deadline = Instant::now() + Duration::from_mins(1);
    let verdict = Instant::now();
    // The view may still be reading what came before its verdict: idle starts once no CPU
    // tick is spent over a whole second.
    let mut last = cpu_time(pid)?;
    loop {
        tokio::time::sleep(SETTLE_STEP).await;
        let now = cpu_time(pid)?;
        if now == last {
            break;
        }
        if Instant::now() > deadline {
            return Err("the view never settled after its verdict".into());
        }
        last = now;
    }
    println!(
        "view: settled {:.1} s after its verdict was on screen",
        verdict.elapsed().as_secs_f64()
    );
    let (before, start) = (cpu_time(pid)?, Instant::now());
    tokio::time::sleep(IDLE_WINDOW).await;
    let (after, window) = (cpu_time(pid)?, start.elapsed());
    Ok(after.saturating_sub(before).as_secs_f64() / window.as_secs_f64() * 100.0)
}

/// A tmux server of the bench's own, holding one session; killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A detached 200×60 session running `command`.
    fn start(command: &str) -> Result<Tmux, Failure> {
        let tmux = Tmux {
            socket: format!("kos-bench-{}", std::process::id()),
        };
        tmux.run(&["new-session", "-d", "-x", "200", "-y", "60", command])?;
        Ok(tmux)
    }

    /// The pane's process: kos itself, which the command `exec`s.
    fn pane_pid(&self) -> Result<u32, Failure> {
        Ok(self
            .run(&["display-message", "-p", "#{pane_pid}"])?
            .trim()
            .parse()?)
    }

    fn run(&self, args: &[&str]) -> Result<String, Failure> {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "tmux {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The private server holds only this session: ending it ends kos.
        let _ = self.run(&["kill-server"]);
    }
}

/// `yes > /dev/null`, one per core, until dropped: a machine busy with other work.
struct BusyLoops(Vec<Child>);

impl BusyLoops {
    fn start() -> Result<BusyLoops, Failure> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let mut loops = Vec::with_capacity(cores);
        for _ in 0..cores {
            loops.push(Command::new("yes").stdout(Stdio::null()).spawn()?);
        }
        Ok(BusyLoops(loops))
    }
}

impl Drop for BusyLoops {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
