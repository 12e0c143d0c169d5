//! The headless driver of `--output plain|json`: merges the watch actor's updates, a tick at
//! the tracker's next deadline and Ctrl-C in one loop; feeds the `World` and the `Tracker`;
//! prints change lines as they happen, then the final line or JSON report with the digest.
//!
//! It owns printing for the headless modes only; the full-screen view drives the same
//! `watch` actor, `World` and `Tracker` from its own loop.

use crate::apply::Progress;
use crate::apply::later::Later;
use crate::cli::{TrackArgs, TrackOutput};
use crate::cluster::{ApiError, Cluster};
use crate::exit::{ClusterError, ExitCode};
use crate::gauge;
use crate::held;
use crate::model::{EventRow, ObjectKey, World};
use crate::output::report::{Problem, Stop};
use crate::output::{digest, plain, report, safe, sink, tree};
use crate::status::Status;
use crate::tracker::{Tracker, Verdict};
use crate::watch::{self, Root, Update};
use color_eyre::Result;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use kube::api::{Api, ApiResource, ListParams, LogParams};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How many digest entries get their Events and logs read from the cluster.
const DIGEST_READS: usize = 20;

/// How long reading one container's log for the digest may take.
const LOG_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the API server may stay unreachable before tracking gives up (exit 4), even
/// without a step timeout: the statuses shown would be stale.
const LOST_GRACE: Duration = Duration::from_secs(30);

/// How long plain output stays quiet before a progress line (`--progress-interval`'s
/// default, and the demo's).
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

/// The headless formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Json,
}

/// How to track and print.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    /// `None`: no step timeout.
    pub timeout: Option<Duration>,
    pub stabilize: Duration,
    /// Keep printing changes after the verdict until Ctrl-C.
    pub follow: bool,
    pub colour: bool,
    /// Print `::error::` workflow commands (`GITHUB_ACTIONS=true`).
    pub github: bool,
    /// Log lines per failing container in the digest (`--digest-logs`); 0: none read.
    pub digest_logs: usize,
    /// Plain output: how long without a line before a progress line; `None`: never.
    pub progress_interval: Option<Duration>,
}

impl Options {
    /// The options of `--output`, `--timeout` and `--stabilize`.
    pub fn from_args(args: &TrackArgs, follow: bool) -> Self {
        use std::io::IsTerminal;
        let terminal = std::io::stdout().is_terminal();
        // Callers open the full-screen view first when `ui::wanted`; here tui can only mean
        // that the view is not available, and plain stands in for it.
        let format = match args.output {
            Some(TrackOutput::Json) => Format::Json,
            Some(TrackOutput::Plain | TrackOutput::Tui) | None => Format::Plain,
        };
        Options {
            format,
            timeout: (!args.timeout.is_zero()).then_some(args.timeout),
            stabilize: args.stabilize,
            follow,
            colour: plain::use_colour(terminal, std::env::var_os("NO_COLOR").as_deref()),
            github: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            digest_logs: args.digest_logs,
            progress_interval: (!args.progress_interval.is_zero())
                .then_some(args.progress_interval),
        }
    }
}

/// Tracks `roots` until the verdict and prints it; returns the exit code. `applied` (what
/// applying them did and the server's warnings) goes into the JSON report, which is printed
/// on an error too. `later`: roots held back, applied meanwhile (among `roots` already).
pub async fn track(
    cluster: &Cluster,
    roots: Vec<Root>,
    options: &Options,
    applied: &Progress,
    later: Option<Later>,
) -> Result<ExitCode> {
    let started = Instant::now();
    let mut world = World::new(roots.iter().map(|r| r.key.clone()).collect());
    world.overrides = watch::overrides(&roots);
    world.parents = watch::parents(&roots);
    let mut watch = watch::spawn(
        cluster.client.clone(),
        cluster.server.clone(),
        roots,
        watch::Events::Skip,
    );
    let held = later.map(|later| held::start(later, watch.feed()));
    let ctrl_c = async {
        // Without a signal handler there is no Ctrl-C to wait for.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let followed = follow(
        &mut world,
        &mut watch.updates,
        options,
        ctrl_c,
        |line| match line {
            Line::Out(text) => sink::out(&text),
            Line::Err(text) => sink::err(&text),
        },
    )
    .await;
    let with_held;
    let applied = match held {
        Some(running) => {
            with_held = running.stop(applied);
            &with_held
        }
        None => applied,
    };
    drop(watch);
    let ending = match followed {
        Ok(ending) => ending,
        Err(error) if options.format == Format::Json => {
            let timings = timings(started.elapsed(), options);
            let mut report =
                report::build(&world, Stop::Error.into(), timings, Vec::new(), applied);
            report.problems = vec![Problem::message(error.to_string())];
            print_report(&report)?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    let entries = if matches!(ending.verdict, Verdict::Failed | Verdict::Timeout) {
        digest_with_logs(cluster, &world, options.digest_logs).await
    } else {
        Vec::new()
    };
    finish(&world, ending, entries, options, applied)?;
    Ok(ending.verdict.exit_code())
}

/// A line for stdout or stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Out(String),
    Err(String),
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub verdict: Verdict,
    /// When the verdict was reached (or the loop interrupted).
    pub elapsed: Duration,
    /// The outcome line was already printed (`--follow`).
    pub announced: bool,
}

/// The loop: applies updates to `world`, feeds the tracker on every change and at its
/// deadlines, emits change lines (and a progress line whenever it has been quiet for the
/// progress interval), until the verdict (or, with `follow`, until `interrupt`). Returns
/// the verdict and when it was reached.
pub async fn follow(
    world: &mut World,
    updates: &mut mpsc::Receiver<Update>,
    options: &Options,
    interrupt: impl Future<Output = ()>,
    mut emit: impl FnMut(Line),
) -> Result<Ending> {
    let mut tracker = Tracker::new(options.timeout, options.stabilize);
    let mut printer = Printer::new(options);
    let start = Instant::now();
    let mut progress = ProgressLines::new(options);
    // Every line printed, of any kind, restarts the quiet time before a progress line.
    let last_line = std::cell::Cell::new(start);
    let mut emit = |line: Line| {
        last_line.set(Instant::now());
        emit(line);
    };
    // The outage in progress: the error that started it and when.
    let mut lost: Option<(ApiError, Instant)> = None;
    tokio::pin!(interrupt);
    let mut announced = false;
    loop {
        let verdict = tracker.update_world(world, start.elapsed());
        match verdict {
            Some(_) if !options.follow => break,
            // Following: say the verdict once, where it happened, and keep printing changes.
            Some(verdict) if !announced && options.format == Format::Plain => {
                let at = tracker.decided_at().unwrap_or_else(|| start.elapsed());
                let line = plain::final_line(verdict, at, &tree(world), options.colour);
                emit(Line::Out(line));
                announced = true;
            }
            _ => {}
        }
        let deadline = tracker.next_deadline().map(|d| start + d);
        let give_up = lost.as_ref().map(|(_, since)| *since + LOST_GRACE);
        let progress_due = progress
            .as_ref()
            .filter(|_| verdict.is_none())
            .map(|p| last_line.get() + p.every);
        tokio::select! {
            update = updates.recv() => match update {
                Some(Update::Diffs(diffs)) => {
                    for diff in diffs {
                        let key = diff.key().clone();
                        if world.apply(diff) {
                            printer.changed(world, &key, start.elapsed()).into_iter().for_each(&mut emit);
                        }
                    }
                    if let Some(progress) = progress.as_mut() {
                        progress.observe(world, start.elapsed());
                    }
                }
                Some(Update::Error(error)) => {
                    return Err(color_eyre::Report::new(ClusterError(error.to_string())));
                }
                Some(Update::Lost(error)) => {
                    emit(Line::Err(format!("warning: {error}; retrying")));
                    lost = Some((error, Instant::now()));
                }
                Some(Update::NotServed(what)) => {
                    emit(Line::Err(format!("note: the cluster does not serve {what}; tracking goes on without them")));
                }
                Some(Update::Restored) => {
                    if let Some((_, since)) = lost.take() {
                        let after = since.elapsed().as_secs_f64();
                        emit(Line::Err(format!("the cluster answers again after {after:.1}s")));
                    }
                }
                None => return Err(color_eyre::Report::new(ClusterError(
                    "the watch stopped unexpectedly".into(),
                ))),
            },
            () = sleep_until(deadline), if deadline.is_some() => {}
            () = sleep_until(progress_due), if progress_due.is_some() => {
                if let Some(progress) = progress.as_ref() {
                    emit(Line::Err(progress.line(world, start.elapsed())));
                }
            }
            () = sleep_until(give_up), if give_up.is_some() => {
                return Err(lost_contact(lost));
            }
            () = &mut interrupt => {
                tracker.interrupt(start.elapsed());
                break;
            }
        }
    }
    let verdict = tracker.verdict().unwrap_or(Verdict::Interrupted);
    let elapsed = tracker.decided_at().unwrap_or_else(|| start.elapsed());
    Ok(Ending {
        verdict,
        elapsed,
        announced,
    })
}

/// Exit 4 for an outage longer than [`LOST_GRACE`]: names the server and how long it was gone.
fn lost_contact(lost: Option<(ApiError, Instant)>) -> color_eyre::Report {
    let message = match lost {
        Some((error, since)) => format!(
            "gave up after the cluster stopped answering {:.1}s ago: {error}",
            since.elapsed().as_secs_f64()
        ),
        None => "gave up: the cluster stopped answering".to_owned(),
    };
    color_eyre::Report::new(ClusterError(message))
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

/// The progress lines of plain output: the pace of the counted workloads, measured as the
/// diffs come (see [`gauge::Series`]).
struct ProgressLines {
    every: Duration,
    ready: gauge::Series,
}

impl ProgressLines {
    /// Progress lines for `options`: plain output with an interval only.
    fn new(options: &Options) -> Option<Self> {
        let every = options
            .progress_interval
            .filter(|_| options.format == Format::Plain)?;
        Some(ProgressLines {
            every,
            ready: gauge::Series::default(),
        })
    }

    /// Records the ready replicas of the counted workloads as of `elapsed` (after each
    /// batch of diffs: it reads the workloads, never the pods).
    fn observe(&mut self, world: &World, elapsed: Duration) {
        if let Some(now) = gauge::overall(world) {
            self.ready.record(elapsed, now.ready);
        }
    }

    /// The line to print at `elapsed`.
    fn line(&self, world: &World, elapsed: Duration) -> String {
        let overall = gauge::overall(world);
        let pace = overall.map_or_else(gauge::Pace::default, |now| {
            gauge::pace(now, &self.ready, elapsed)
        });
        let waiting: Vec<&ObjectKey> = world
            .roots
            .iter()
            .filter(|key| {
                world
                    .object(key)
                    .is_none_or(|o| o.status != Status::Success)
            })
            .collect();
        plain::progress_line(elapsed, overall, pace, &waiting)
    }
}

/// Prints a line whenever an object's status or message changes.
struct Printer {
    format: Format,
    colour: bool,
    github: bool,
    shown: HashMap<ObjectKey, (Status, String)>,
}

impl Printer {
    fn new(options: &Options) -> Self {
        Printer {
            format: options.format,
            colour: options.colour,
            github: options.github,
            shown: HashMap::new(),
        }
    }

    /// The lines to print after `key` changed in `world`: none unless its status or message
    /// changed.
    fn changed(&mut self, world: &World, key: &ObjectKey, elapsed: Duration) -> Vec<Line> {
        let (status, message) = match world.object(key) {
            Some(object) => (object.status, object.message.clone()),
            // A root that went away is missing; a descendant that went away is not news.
            None if world.roots.contains(key) => {
                (Status::Missing, "not found in the cluster".to_owned())
            }
            None => {
                self.shown.remove(key);
                return Vec::new();
            }
        };
        if self.shown.get(key) == Some(&(status, message.clone())) {
            return Vec::new();
        }
        let mut lines = Vec::new();
        if self.format == Format::Plain {
            let mut line = plain::change_line(elapsed, key, status, &message, self.colour);
            if world.overrides.get(key).is_some_and(|o| !o.track) {
                line.push_str("  (untracked)");
            }
            lines.push(Line::Out(line));
        }
        if self.github && status == Status::Failed {
            let line = plain::github_error(key, &message);
            // stdout holds only the report in JSON mode; the runner reads stderr too.
            lines.push(match self.format {
                Format::Plain => Line::Out(line),
                Format::Json => Line::Err(line),
            });
        }
        self.shown.insert(key.clone(), (status, message));
        lines
    }
}

/// The digest, with the Warning Events of its objects and the log lines of failing
/// containers read from the cluster (the headless watch does not follow Events). Only the
/// first [`DIGEST_READS`] entries, failed ones first, are read: a timeout with thousands
/// of pods still starting must not make thousands of requests before kos can exit.
async fn digest_with_logs(
    cluster: &Cluster,
    world: &World,
    log_lines: usize,
) -> Vec<digest::Entry> {
    let mut entries = digest::assemble(world);
    let statuses: Vec<Status> = entries.iter().map(|(entry, _)| entry.status).collect();
    for index in to_read(&statuses) {
        let (entry, request) = &mut entries[index];
        if entry.warnings.is_empty()
            && let Some(namespace) = &entry.namespace
        {
            let rows = read_events(cluster, namespace, &entry.kind, &entry.name).await;
            entry.warnings = digest::warnings(&rows);
        }
        if let Some(request) = request.take().filter(|_| log_lines > 0) {
            entry.logs = Some(read_logs(cluster, &request, log_lines).await);
        }
    }
    entries.into_iter().map(|(entry, _)| entry).collect()
}

/// Which digest entries (by index) get their Events and logs read: failed ones first, then
/// the rest in order, at most [`DIGEST_READS`].
fn to_read(statuses: &[Status]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..statuses.len()).collect();
    order.sort_by_key(|&i| statuses[i] != Status::Failed);
    order.truncate(DIGEST_READS);
    order
}

/// The Events about one object, oldest first; none when they cannot be read (they only
/// explain, so failing to read them must not fail the run).
async fn read_events(cluster: &Cluster, namespace: &str, kind: &str, name: &str) -> Vec<EventRow> {
    let api: Api<watch::object::Event> = Api::namespaced_with(
        cluster.client.clone(),
        namespace,
        &ApiResource::erase::<CoreEvent>(&()),
    );
    let params = ListParams::default().fields(&format!(
        "involvedObject.kind={kind},involvedObject.name={name}"
    ));
    let Ok(Ok(list)) = tokio::time::timeout(LOG_TIMEOUT, api.list(&params)).await else {
        return Vec::new();
    };
    let mut rows: Vec<EventRow> = list
        .items
        .into_iter()
        .filter(|event| event.about.kind == kind && event.about.name == name)
        .map(|event| event.row)
        .collect();
    rows.sort_by(|a, b| a.last_seen.cmp(&b.last_seen));
    rows
}

async fn read_logs(cluster: &Cluster, request: &digest::LogRequest, count: usize) -> digest::Logs {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &request.namespace);
    let params = LogParams {
        container: Some(request.container.clone()),
        previous: request.previous,
        tail_lines: Some(count as i64),
        // The server stops there: the digest shows a few lines, each cut to a line's worth.
        limit_bytes: Some((count * digest::LOG_LINE_BYTES * 2) as i64),
        ..LogParams::default()
    };
    let result = tokio::time::timeout(LOG_TIMEOUT, api.logs(&request.pod, &params)).await;
    let (lines, error) = match result {
        Ok(Ok(text)) => (digest::tail(&text, count), None),
        Ok(Err(error)) => (Vec::new(), Some(crate::cluster::describe(&error))),
        Err(_) => (
            Vec::new(),
            Some(format!("no answer within {LOG_TIMEOUT:?}")),
        ),
    };
    digest::Logs {
        container: request.container.clone(),
        previous: request.previous,
        lines,
        error,
    }
}

/// Prints the final line (and digest) or the JSON report.
fn finish(
    world: &World,
    ending: Ending,
    entries: Vec<digest::Entry>,
    options: &Options,
    applied: &Progress,
) -> Result<()> {
    match options.format {
        Format::Plain => {
            if !entries.is_empty() {
                sink::err(&digest::render(&entries));
            }
            let Ending {
                verdict,
                elapsed,
                announced,
            } = ending;
            if announced {
                return Ok(());
            }
            let rows = tree(world);
            sink::out(&plain::final_line(verdict, elapsed, &rows, options.colour));
        }
        Format::Json => {
            let timings = timings(ending.elapsed, options);
            let report = report::build(world, ending.verdict.into(), timings, entries, applied);
            print_report(&report)?;
        }
    }
    Ok(())
}

/// The report's timings of a run that took `elapsed`.
pub fn timings(elapsed: Duration, options: &Options) -> report::Timings {
    report::Timings {
        elapsed,
        timeout: options.timeout,
        stabilize: options.stabilize,
    }
}

/// Writes the JSON report: the one document on stdout.
pub fn print_report(report: &report::Report) -> Result<()> {
    sink::out(&safe::json(&serde_json::to_string_pretty(report)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Diff, TrackedObject};

    #[test]
    fn the_digest_reads_failed_objects_first_and_no_more_than_its_budget() {
        let mut statuses = vec![Status::InProgress; 30];
        statuses[25] = Status::Failed;
        statuses[3] = Status::Failed;
        let order = to_read(&statuses);
        assert_eq!(order.len(), DIGEST_READS);
        assert_eq!(order[..3], [3, 25, 0]);
        assert_eq!(to_read(&statuses[..2]), [0, 1]);
    }

    fn options(format: Format, timeout: u64, stabilize: u64) -> Options {
        Options {
            format,
            timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
            stabilize: Duration::from_secs(stabilize),
            follow: false,
            colour: false,
            github: true,
            digest_logs: digest::LOG_LINES,
            progress_interval: None,
        }
    }

    fn pod(status: Status, message: &str) -> Update {
        Update::Diffs(vec![Diff::Upsert(Box::new(TrackedObject::root(
            ObjectKey::new("Pod", Some("ns"), "p"),
            "v1".into(),
            "u".into(),
            status,
            message.into(),
        )))])
    }

    async fn run(
        options: &Options,
        script: Vec<(u64, Update)>,
    ) -> (Verdict, Duration, Vec<String>) {
        let (ending, lines) = run_until(options, script, std::future::pending()).await;
        (ending.verdict, ending.elapsed, lines)
    }

    async fn run_until(
        options: &Options,
        script: Vec<(u64, Update)>,
        interrupt: impl Future<Output = ()>,
    ) -> (Ending, Vec<String>) {
        let (sender, mut updates) = mpsc::channel(16);
        tokio::spawn(async move {
            for (at, update) in script {
                tokio::time::sleep(Duration::from_millis(at)).await;
                if sender.send(update).await.is_err() {
                    return;
                }
            }
            // Keep the channel open: a closed watch is an error.
            std::future::pending::<()>().await;
        });
        let mut world = World::new(vec![ObjectKey::new("Pod", Some("ns"), "p")]);
        let mut lines = Vec::new();
        let ending = follow(&mut world, &mut updates, options, interrupt, |l| {
            lines.push(match l {
                Line::Out(t) | Line::Err(t) => t,
            });
        })
        .await
        .unwrap();
        (ending, lines)
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_that_clears_inside_the_window_is_forgiven() {
        let script = vec![
            (100, pod(Status::Failed, "ErrImagePull")),
            (2000, pod(Status::InProgress, "pulling")),
            (1000, pod(Status::Success, "ready")),
        ];
        let (verdict, at, lines) = run(&options(Format::Plain, 60, 5), script).await;
        assert_eq!(verdict, Verdict::Success);
        let at = at.as_millis();
        assert!(
            (8100..8200).contains(&at),
            "success decided after its 5s window: {at}"
        );
        let texts = lines;
        assert_eq!(
            texts.len(),
            4,
            "three changes and one ::error:: line: {texts:?}"
        );
        assert!(
            texts[0].ends_with("Pod ns/p  failed  ErrImagePull"),
            "{texts:?}"
        );
        assert!(texts[1].starts_with("::error title=kos::Pod ns/p failed"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_plain_run_prints_a_progress_line_every_interval_and_none_when_off() {
        let script = || {
            vec![
                (100, pod(Status::InProgress, "Pending")),
                (6_900, pod(Status::Success, "Ready")),
            ]
        };
        let mut every_two = options(Format::Plain, 60, 0);
        every_two.progress_interval = Some(Duration::from_secs(2));
        let (verdict, _, lines) = run(&every_two, script()).await;
        assert_eq!(verdict, Verdict::Success);
        let progress: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("  progress  "))
            .collect();
        // Quiet from the change line at 0.1s: at 2.1s, 4.1s and 6.1s, none after the verdict.
        assert_eq!(
            progress,
            [
                "   2.1s  progress  waiting for Pod ns/p",
                "   4.1s  progress  waiting for Pod ns/p",
                "   6.1s  progress  waiting for Pod ns/p",
            ],
            "{lines:?}"
        );
        let (_, _, lines) = run(&options(Format::Plain, 60, 0), script()).await;
        assert_eq!(lines.len(), 2, "off: the two change lines only: {lines:?}");
        every_two.format = Format::Json;
        let (_, _, lines) = run(&every_two, script()).await;
        assert!(lines.is_empty(), "JSON prints no progress line: {lines:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_window_the_first_failure_is_final() {
        let script = vec![(100, pod(Status::Failed, "ErrImagePull"))];
        let (verdict, at, _) = run(&options(Format::Json, 60, 0), script).await;
        assert_eq!(verdict, Verdict::Failed);
        assert!(at < Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn an_outage_and_its_end_are_told_on_stderr_naming_the_server() {
        let lost = || {
            Update::Lost(ApiError::Unreachable {
                server: "http://127.0.0.1:1".into(),
                reason: "Connection refused".into(),
            })
        };
        let (sender, mut updates) = mpsc::channel(16);
        let script = [
            (100, pod(Status::InProgress, "Pending")),
            (100, lost()),
            (1500, Update::Restored),
            (100, lost()),
        ];
        tokio::spawn(async move {
            for (at, update) in script {
                tokio::time::sleep(Duration::from_millis(at)).await;
                let _ = sender.send(update).await;
            }
            std::future::pending::<()>().await;
        });
        let mut world = World::new(vec![ObjectKey::new("Pod", Some("ns"), "p")]);
        let mut lines = Vec::new();
        let never = std::future::pending::<()>();
        let options = options(Format::Json, 5, 0);
        let ending = follow(&mut world, &mut updates, &options, never, |l| lines.push(l))
            .await
            .unwrap();
        assert_eq!(ending.verdict, Verdict::Timeout);
        assert_eq!(
            lines,
            [
                Line::Err(
                    "warning: cannot reach the cluster at http://127.0.0.1:1: Connection refused; \
                     retrying"
                        .into()
                ),
                Line::Err("the cluster answers again after 1.5s".into()),
                Line::Err(
                    "warning: cannot reach the cluster at http://127.0.0.1:1: Connection refused; \
                     retrying"
                        .into()
                ),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_timeout_a_long_outage_still_ends() {
        let (sender, mut updates) = mpsc::channel(16);
        sender
            .send(Update::Lost(ApiError::Unreachable {
                server: "http://127.0.0.1:1".into(),
                reason: "Connection refused".into(),
            }))
            .await
            .unwrap();
        let mut world = World::new(vec![ObjectKey::new("Pod", Some("ns"), "p")]);
        let never = std::future::pending::<()>();
        let options = options(Format::Plain, 0, 0);
        let start = Instant::now();
        let error = follow(&mut world, &mut updates, &options, never, |_| {})
            .await
            .unwrap_err();
        assert!((LOST_GRACE..LOST_GRACE + Duration::from_secs(1)).contains(&start.elapsed()));
        assert!(error.to_string().contains("gave up"), "{error}");
        drop(sender);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_settling_ends_at_the_timeout_through_the_tick() {
        let script = vec![(100, pod(Status::InProgress, "Pending"))];
        let (verdict, at, lines) = run(&options(Format::Json, 3, 0), script).await;
        assert_eq!(verdict, Verdict::Timeout);
        assert_eq!(at.as_secs(), 3);
        assert!(lines.is_empty(), "JSON mode prints no change lines");
    }

    #[tokio::test(start_paused = true)]
    async fn following_announces_the_verdict_and_keeps_printing_until_interrupted() {
        let mut options = options(Format::Plain, 60, 0);
        options.follow = true;
        options.github = false;
        let script = vec![
            (100, pod(Status::Success, "ready")),
            (1000, pod(Status::Failed, "OOMKilled")),
        ];
        let interrupt = tokio::time::sleep(Duration::from_secs(5));
        let (ending, lines) = run_until(&options, script, interrupt).await;
        assert_eq!(ending.verdict, Verdict::Success, "a verdict never changes");
        assert!(ending.announced);
        assert_eq!(ending.elapsed, Duration::from_millis(100));
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[1].starts_with("outcome: success after 0.1s"),
            "{lines:?}"
        );
        assert!(lines[2].ends_with("failed  OOMKilled"), "{lines:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_is_judged_whole_never_halfway() {
        // The root is done, but in the same batch its counted child is still busy: judging
        // after the first diff would end the run on a world that never was.
        let root = ObjectKey::new("Pod", Some("ns"), "p");
        let child = |status| {
            let key = ObjectKey::new("Pod", Some("ns"), "c");
            Diff::Upsert(Box::new(TrackedObject::for_test(key, status, Some(&root))))
        };
        let Update::Diffs(mut batch) = pod(Status::Success, "ready") else {
            unreachable!("pod() is one batch")
        };
        batch.push(child(Status::InProgress));
        let script = vec![
            (100, Update::Diffs(batch)),
            (400, Update::Diffs(vec![child(Status::Success)])),
        ];
        let (verdict, elapsed, _) = run(&options(Format::Plain, 60, 0), script).await;
        assert_eq!(verdict, Verdict::Success);
        assert_eq!(
            elapsed,
            Duration::from_millis(500),
            "not at the first batch"
        );
    }
}
