//! Issues 6 and 19, in process: the full-screen view over a world of N pods (one Deployment,
//! a new `ReplicaSet` with four fifths of them and an old one), drawn into a 200×60
//! `TestBackend`. Times
//! building and rendering single frames, and the delay from a diff entering the real event
//! loop to the flush of the frame that shows it.

use crate::common::{Failure, percentile};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream};
use futures::{FutureExt, StreamExt};
use kos::exit::ExitCode;
use kos::model::{Diff, ObjectKey, TrackedObject, World};
use kos::status::ContainerRow;
use kos::status::{Counts, Status};
use kos::tracker::Tracker;
use kos::ui::app::{App, Header, LogRequest, Message, ObjectRequest, Request};
use kos::ui::event_loop::{self, Inputs, Sources};
use kos::ui::live::ObjectSource;
use kos::ui::logs::{LogEvent, LogSource};
use kos::ui::operator::Operator;
use kos::ui::render::render;
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;
/// Frames timed per kind of frame.
const FRAMES: usize = 400;
/// Diffs sent through the event loop, one at a time.
const EVENTS: usize = 300;
/// Pods whose rows are on the first screen once they fail (the tree opens top-down).
const ON_SCREEN: usize = 40;

/// Per-frame and event-to-screen times, sorted.
pub struct ViewTimes {
    pub rows: usize,
    /// Update with one pod's change, rebuild, render.
    pub change_frames: Vec<Duration>,
    /// Render alone, nothing changed (a countdown's tick).
    pub tick_frames: Vec<Duration>,
    pub event_to_screen: Vec<Duration>,
}

pub async fn run(pods: usize) -> Result<ViewTimes, Failure> {
    let (world, pods) = world(pods);
    let rows = world.objects.len();
    let mut app = settled_app(world.clone());
    let change_frames = time_frames(&mut app, &pods, true)?;
    let tick_frames = time_frames(&mut app, &pods, false)?;
    let event_to_screen = event_to_screen(settled_app(world), &pods).await?;
    Ok(ViewTimes {
        rows,
        change_frames,
        tick_frames,
        event_to_screen,
    })
}

fn key(kind: &str, name: &str) -> ObjectKey {
    ObjectKey::new(kind, Some("scale"), name)
}

fn object(key: ObjectKey, owner: Option<&ObjectKey>, counted: bool) -> TrackedObject {
    TrackedObject {
        key,
        api_version: "v1".to_owned(),
        uid: String::new(),
        status: Status::Success,
        message: String::new(),
        counts: None,
        owner: owner.cloned(),
        applied: owner.is_none(),
        counted,
        conditions: Vec::new(),
        containers: Vec::new(),
        created: String::new(),
    }
}

fn pod(name: &str, owner: &ObjectKey, counted: bool, status: Status, note: &str) -> TrackedObject {
    let mut pod = object(key("Pod", name), Some(owner), counted);
    pod.uid = format!("uid-{name}");
    pod.status = status;
    pod.message = format!("Running, 1/1 ready{note}");
    pod.containers = vec![ContainerRow {
        name: "app".to_owned(),
        image: "nginx:1.27".to_owned(),
        ready: status == Status::Success,
        state: "running".to_owned(),
        ..ContainerRow::default()
    }];
    pod
}

/// The world of a finished rollout of `pods` pods and their (name, owner, counted), top row
/// first.
fn world(pods: usize) -> (World, Vec<(String, ObjectKey, bool)>) {
    let new_pods = pods * 4 / 5;
    let deployment = key("Deployment", "web");
    let mut world = World::new(vec![deployment.clone()]);
    let mut root = object(deployment.clone(), None, true);
    root.message = format!("{new_pods}/{new_pods} replicas available");
    root.counts = Some(Counts {
        desired: new_pods as u32,
        ready: new_pods as u32,
    });
    world.apply(Diff::Upsert(Box::new(root)));
    let mut names = Vec::with_capacity(pods);
    for (hash, count, counted) in [
        ("7c5ddbdf54", new_pods, true),
        ("5f8d6c9b7", pods - new_pods, false),
    ] {
        let set = key("ReplicaSet", &format!("web-{hash}"));
        world.apply(Diff::Upsert(Box::new(object(
            set.clone(),
            Some(&deployment),
            counted,
        ))));
        for index in 0..count {
            let name = format!("web-{hash}-{index:05}");
            world.apply(Diff::Upsert(Box::new(pod(
                &name,
                &set,
                counted,
                Status::Success,
                "",
            ))));
            names.push((name, set.clone(), counted));
        }
    }
    (world, names)
}

/// An app whose verdict is in (success, no stabilization): nothing ticks any more.
fn settled_app(world: World) -> App {
    let mut app = App::new(
        world,
        Tracker::new(Some(Duration::from_mins(5)), Duration::ZERO),
        Header::default(),
    );
    app.update(
        Message::Resize {
            width: WIDTH,
            height: HEIGHT,
        },
        Duration::ZERO,
    );
    app
}

/// The `n`th single-pod change, with a new message each time so that no diff is a no-op.
/// A pod off screen flips between ready and starting inside its workload's fold. The pods on
/// screen are changed in turn, each failing (a folded workload lists its failed pods) and
/// starting again on alternate turns: every change on screen moves a row.
fn change(pods: &[(String, ObjectKey, bool)], n: usize, on_screen: bool) -> Diff {
    let (index, turn) = if on_screen {
        (n % ON_SCREEN, n / ON_SCREEN)
    } else {
        ((n * 7919) % pods.len(), n)
    };
    let (name, owner, counted) = &pods[index];
    let status = match (turn.is_multiple_of(2), on_screen) {
        (true, _) => Status::InProgress,
        (false, true) => Status::Failed,
        (false, false) => Status::Success,
    };
    Diff::Upsert(Box::new(pod(
        name,
        owner,
        *counted,
        status,
        &format!(" #{n}"),
    )))
}

fn time_frames(
    app: &mut App,
    pods: &[(String, ObjectKey, bool)],
    changes: bool,
) -> Result<Vec<Duration>, Failure> {
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    terminal.draw(|frame| render(app, frame))?;
    let mut times = Vec::with_capacity(FRAMES);
    for n in 0..FRAMES {
        let message = if changes {
            Message::Diffs(vec![change(pods, n, n % 2 == 0)])
        } else {
            Message::Tick
        };
        let start = Instant::now();
        if !app.update(message, app.now) {
            return Err(format!("frame {n}: the view saw no change").into());
        }
        terminal.draw(|frame| render(app, frame))?;
        times.push(start.elapsed());
    }
    times.sort_unstable();
    Ok(times)
}

/// Sends diffs one at a time through the real event loop and times each to the flush of
/// the frame after it. With the verdict in, nothing else draws frames, so each flush is
/// the one that shows the diff (checked: one frame per diff, and the last one on screen).
async fn event_to_screen(
    mut app: App,
    pods: &[(String, ObjectKey, bool)],
) -> Result<Vec<Duration>, Failure> {
    let (flushed_tx, mut flushed) = mpsc::unbounded_channel();
    let mut terminal = Terminal::new(Flushes {
        inner: TestBackend::new(WIDTH, HEIGHT),
        flushed: flushed_tx,
    })?;
    let (diffs_tx, diffs) = mpsc::unbounded_channel::<Result<Diff, String>>();
    let (stop, signals) = mpsc::unbounded_channel();
    let inputs = Inputs {
        keys: stream::pending(),
        diffs: tokio_stream::wrappers::UnboundedReceiverStream::new(diffs),
        signals: tokio_stream::wrappers::UnboundedReceiverStream::new(signals),
        started: tokio::time::Instant::now(),
    };
    let driver = async {
        let mut times = Vec::with_capacity(EVENTS);
        // The first frame.
        next_flush(&mut flushed).await?;
        for n in 0..EVENTS {
            let sent = Instant::now();
            diffs_tx.send(Ok(change(pods, n, true)))?;
            times.push(next_flush(&mut flushed).await? - sent);
        }
        stop.send(ExitCode::Terminated)?;
        Ok::<_, Failure>(times)
    };
    let (outcome, times) = tokio::join!(
        event_loop::run(
            &mut terminal,
            &mut app,
            inputs,
            &Sources {
                logs: &Nothing,
                objects: &Nothing,
                operator: &Nothing,
            }
        ),
        driver
    );
    let outcome = outcome?;
    let mut times = times?;
    // The first frame, one per diff, and the one for the signal.
    if outcome.redraws != EVENTS as u64 + 2 {
        return Err(format!("{} frames for {EVENTS} diffs", outcome.redraws).into());
    }
    let last = format!(" #{}", EVENTS - 1);
    let screen = terminal.backend().inner.to_string();
    if !screen.contains(&last) {
        return Err(format!("the last diff ({last}) is not on screen:\n{screen}").into());
    }
    times.sort_unstable();
    Ok(times)
}

async fn next_flush(flushed: &mut mpsc::UnboundedReceiver<Instant>) -> Result<Instant, Failure> {
    Ok(
        tokio::time::timeout(Duration::from_secs(10), flushed.recv())
            .await?
            .ok_or("the view stopped")?,
    )
}

/// The view opens no logs, reads no object and sends nothing here: the bench presses no key.
struct Nothing;

impl LogSource for Nothing {
    fn open(&self, _: &LogRequest) -> BoxStream<'static, LogEvent> {
        stream::empty().boxed()
    }
}

impl ObjectSource for Nothing {
    fn read(&self, _: &ObjectRequest) -> BoxFuture<'static, Result<serde_json::Value, String>> {
        futures::future::pending().boxed()
    }
}

impl Operator for Nothing {
    fn send(&self, _: Request) -> BoxFuture<'static, Result<String, String>> {
        Box::pin(async { Err("the bench sends nothing".to_owned()) })
    }
}

/// A `TestBackend` that reports when each frame is flushed: the moment it would reach a
/// real terminal.
struct Flushes {
    inner: TestBackend,
    flushed: mpsc::UnboundedSender<Instant>,
}

impl Backend for Flushes {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        // The driver may have stopped listening after the last diff; nothing to report then.
        let _ = self.flushed.send(Instant::now());
        Ok(())
    }
}

/// The p50 and p99 of sorted times.
pub fn p50_p99(sorted: &[Duration]) -> (Duration, Duration) {
    (percentile(sorted, 0.5), percentile(sorted, 0.99))
}
