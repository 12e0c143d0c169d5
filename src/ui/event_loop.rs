//! The view's one loop: a single `select!` over keys, world diffs, log lines, signals and a
//! tick, feeding [`App::update`], redrawing only when it said something changed.
//!
//! Every input is injected (a key stream, a diff stream, a signal stream, the sources of logs
//! and objects) so
//! that the loop runs the same against a real terminal and against a script. The tick is not
//! periodic: it fires only when a countdown's second turns or the tracker has a deadline,
//! so an idle view sleeps. It must never block on the network.

use crate::exit::ExitCode;
use crate::model::Diff;
use crate::ui::app::{App, LogRequest, Message, Mouse, ObjectRequest, SaveRequest};
use crate::ui::keys;
use crate::ui::live::ObjectSource;
use crate::ui::logs::{LogEvent, LogSource};
use crate::ui::operator::Operator;
use crate::ui::render::render;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, Fuse, Peekable};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{Event, MouseButton, MouseEventKind};
use std::io;
use std::time::Duration;
use tokio::time::Instant;

/// Diffs applied in one go, so that keys stay responsive during a burst.
const DIFF_BATCH: usize = 512;

/// The least time between two frames: during a burst the diffs that come meanwhile are
/// applied and drawn together, at most this long after the first of them (the view stays
/// as live as 30 frames a second are). A frame after a quiet spell is drawn at once.
const FRAME: Duration = Duration::from_millis(33);

/// What the watch actor tells the view.
#[derive(Debug)]
pub enum Feed {
    Diff(Diff),
    /// The API server stopped answering (why), or answers again (`None`).
    Connection(Option<String>),
}

impl From<Diff> for Feed {
    fn from(diff: Diff) -> Self {
        Feed::Diff(diff)
    }
}

/// What the loop takes from its feed: a [`Feed`], or bare diffs from a driver that has no
/// connection to report (benchmarks, scripts).
pub trait FeedItem: Into<Feed> {
    /// Whether it is news of the connection (which ends a batch of diffs).
    fn is_connection(&self) -> bool;
}

impl FeedItem for Feed {
    fn is_connection(&self) -> bool {
        matches!(self, Feed::Connection(_))
    }
}

impl FeedItem for Diff {
    fn is_connection(&self) -> bool {
        false
    }
}

/// Why the loop stopped without an exit code.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("cannot read the keyboard: {0}")]
    Input(#[from] io::Error),
    #[error("cannot draw on the terminal: {0}")]
    Draw(String),
    #[error("the watch stopped: {0}")]
    Watch(String),
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub code: ExitCode,
    /// Frames drawn, the first one included.
    pub redraws: u64,
}

/// The loop's inputs besides the app and the terminal.
pub struct Inputs<K, D, S> {
    /// Terminal events: `EventStream` in production, a script in tests. Its end means the
    /// terminal is gone.
    pub keys: K,
    /// The watch actor's diffs and news of the connection, or the error that stopped it. Its
    /// end leaves the view open on the last state.
    pub diffs: D,
    /// SIGINT, SIGTERM, SIGHUP as the exit code each one means.
    pub signals: S,
    /// When tracking started: elapsed time for the tracker counts from here.
    pub started: Instant,
}

/// Where the view reads what the watches do not bring (container logs, whole objects) and
/// where it sends what the user confirmed.
pub struct Sources<'a> {
    pub logs: &'a dyn LogSource,
    pub objects: &'a dyn ObjectSource,
    /// Where a confirmed promote or abort of a Rollout goes.
    pub operator: &'a dyn Operator,
}

/// Runs the view until the user quits, a signal comes or the terminal goes away.
pub async fn run<B, K, D, T, E, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    inputs: Inputs<K, D, S>,
    sources: &Sources<'_>,
) -> Result<Outcome, LoopError>
where
    B: Backend,
    B::Error: std::fmt::Display,
    K: Stream<Item = io::Result<Event>> + Unpin,
    D: Stream<Item = Result<T, E>> + Unpin,
    T: FeedItem,
    E: std::fmt::Display,
    S: Stream<Item = ExitCode> + Unpin,
{
    let Inputs {
        mut keys,
        diffs,
        mut signals,
        started,
    } = inputs;
    let mut diffs = diffs.fuse().peekable();
    let mut logs = LogStream::default();
    // The promote or abort on its way: one at a time, the view refuses another meanwhile.
    let mut sending: Option<BoxFuture<'static, Result<String, String>>> = None;
    let mut saves = LogSaves::default();
    let mut object = ObjectRead::default();
    let mut redraws = 0;
    let size = terminal
        .size()
        .map_err(|e| LoopError::Draw(e.to_string()))?;
    app.update(
        Message::Resize {
            width: size.width,
            height: size.height,
        },
        started.elapsed(),
    );
    // Something changed since the last frame; when that frame was drawn.
    let mut changed = true;
    let mut drawn: Option<Instant> = None;
    loop {
        let due = changed.then(|| next_frame(drawn));
        if due.is_some_and(|due| due <= Instant::now()) || (changed && app.exit_code().is_some()) {
            drawn = Some(Instant::now());
            terminal
                .draw(|frame| render(app, frame))
                .map_err(|e| LoopError::Draw(e.to_string()))?;
            redraws += 1;
            changed = false;
        }
        if let Some(code) = app.exit_code() {
            return Ok(Outcome { code, redraws });
        }
        logs.follow(app.log_request(), sources.logs);
        if let Some(message) = saves.follow(app) {
            changed |= app.update(message, started.elapsed());
            continue;
        }
        object.follow(app.object_request(), sources.objects);
        if let Some(request) = app.take_request() {
            sending = Some(sources.operator.send(request));
        }
        let wake = app.next_wake().map(|at| started + at);
        let message = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(event)) => terminal_message(app, &event),
                Some(Err(error)) => return Err(LoopError::Input(error)),
                None => Some(Message::Signal(ExitCode::HungUp)),
            },
            Some(item) = diffs.next() => match item.map_err(|e| LoopError::Watch(e.to_string()))?.into() {
                Feed::Connection(lost) => Some(Message::Connection(lost)),
                Feed::Diff(first) => Some(Message::Diffs(batch(first, &mut diffs)?)),
            },
            Some(event) = logs.next() => Some(event),
            answer = answer(&mut sending) => {
                sending = None;
                Some(Message::CommandDone(answer))
            }
            answer = object.next() => Some(answer),
            Some(code) = signals.next() => Some(Message::Signal(code)),
            () = sleep_until(wake) => Some(Message::Tick),
            // The frame of what changed meanwhile is due.
            () = sleep_until(changed.then(|| next_frame(drawn))) => None,
        };
        changed |= message.is_some_and(|m| app.update(m, started.elapsed()));
    }
}

/// When the next frame may be drawn, the last one drawn at `drawn`: a frame interval
/// later, or now when none was.
fn next_frame(drawn: Option<Instant>) -> Instant {
    drawn.map_or_else(Instant::now, |at| at + FRAME)
}

/// `first` and the diffs the watch actor already sent after it, up to [`DIFF_BATCH`]; or
/// the error that stopped it. News of the connection ends the batch: it is a message of its
/// own, taken on the next turn.
fn batch<D, T, E>(first: Diff, diffs: &mut Peekable<Fuse<D>>) -> Result<Vec<Diff>, LoopError>
where
    D: Stream<Item = Result<T, E>> + Unpin,
    T: FeedItem,
    E: std::fmt::Display,
{
    let mut batch = vec![first];
    while batch.len() < DIFF_BATCH {
        let next = futures::FutureExt::now_or_never(std::pin::Pin::new(&mut *diffs).peek());
        match next {
            Some(Some(Ok(item))) if !item.is_connection() => {}
            Some(Some(Err(_))) => {}
            _ => break,
        }
        match futures::FutureExt::now_or_never(diffs.next()) {
            Some(Some(Ok(item))) => match item.into() {
                Feed::Diff(diff) => batch.push(diff),
                Feed::Connection(_) => unreachable!("peeked: a diff"),
            },
            Some(Some(Err(error))) => return Err(LoopError::Watch(error.to_string())),
            _ => break,
        }
    }
    Ok(batch)
}

/// A key (as the current pane reads it), a click, the wheel or a resize; other terminal
/// events change nothing.
fn terminal_message(app: &App, event: &Event) -> Option<Message> {
    match event {
        Event::Key(key) => keys::action(app.key_context(), *key).map(Message::Key),
        Event::Mouse(mouse) => Some(Message::Mouse(match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => Mouse::Click {
                column: mouse.column,
                row: mouse.row,
            },
            MouseEventKind::ScrollDown => Mouse::Wheel { down: true },
            MouseEventKind::ScrollUp => Mouse::Wheel { down: false },
            _ => return None,
        })),
        Event::Resize(width, height) => Some(Message::Resize {
            width: *width,
            height: *height,
        }),
        _ => None,
    }
}

/// The answer to the request on its way; never, without one.
async fn answer(
    sending: &mut Option<BoxFuture<'static, Result<String, String>>>,
) -> Result<String, String> {
    match sending.as_mut() {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The log stream the app asked for: reopened when the request changes, dropped (which
/// closes it) when the logs pane closes.
#[derive(Default)]
struct LogStream {
    request: Option<LogRequest>,
    stream: Option<BoxStream<'static, LogEvent>>,
}

impl LogStream {
    fn follow(&mut self, wanted: Option<LogRequest>, source: &dyn LogSource) {
        if wanted != self.request {
            self.stream = wanted
                .as_ref()
                .map(|request| crate::ui::logs::open_merged(source, request));
            self.request = wanted;
        }
    }

    /// The next log message; pending forever when there is no open stream.
    async fn next(&mut self) -> Option<Message> {
        let Some(stream) = self.stream.as_mut() else {
            return std::future::pending().await;
        };
        let message = match stream.next().await {
            Some(LogEvent::Line(line)) => return Some(Message::LogLine(line)),
            Some(LogEvent::Failed(reason)) => Message::LogEnded(reason),
            None => Message::LogEnded("end of log".to_owned()),
        };
        // Ended or failed: keep the request so it is not reopened in a loop.
        self.stream = None;
        Some(message)
    }
}

/// The files of log lines the app asked for: each distinct request written once.
#[derive(Default)]
struct LogSaves {
    done: Option<SaveRequest>,
}

impl LogSaves {
    /// Writes the file the app asks for, if it is a new request: the answer for the app.
    fn follow(&mut self, app: &App) -> Option<Message> {
        let request = app.save_request()?;
        let lines = &app.logs.as_ref()?.lines;
        if self.done.as_ref() == Some(&request) {
            return None;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let outcome = crate::ui::logs::save(&request, lines, now);
        self.done = Some(request.clone());
        Some(Message::Saved(request, outcome))
    }
}

/// The object read the app asked for: started when the request changes, dropped (which
/// cancels it) when the object pane closes.
#[derive(Default)]
struct ObjectRead {
    request: Option<ObjectRequest>,
    read: Option<BoxFuture<'static, Result<serde_json::Value, String>>>,
}

impl ObjectRead {
    fn follow(&mut self, wanted: Option<ObjectRequest>, source: &dyn ObjectSource) {
        if wanted != self.request {
            self.read = wanted.as_ref().map(|request| source.read(request));
            self.request = wanted;
        }
    }

    /// The answer; pending forever when nothing is being read.
    async fn next(&mut self) -> Message {
        let (Some(read), Some(request)) = (self.read.as_mut(), self.request.as_ref()) else {
            return std::future::pending().await;
        };
        let answer = read.await;
        // Answered: keep the request so that it is not read again in a loop.
        self.read = None;
        Message::Object(request.clone(), answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ObjectKey, TrackedObject, World};
    use crate::status::Status;
    use crate::tracker::Tracker;
    use crate::ui::app::{Header, Request};
    use crate::ui::fixtures;
    use futures::stream;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    enum Step {
        Key(KeyCode),
        Wait(u64),
    }

    /// A keyboard that types `steps`, waiting (real milliseconds) where told.
    fn script(steps: Vec<Step>) -> impl Stream<Item = io::Result<Event>> + Unpin {
        Box::pin(
            stream::iter(steps)
                .then(|step| async move {
                    match step {
                        Step::Key(code) => {
                            Some(Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))))
                        }
                        Step::Wait(ms) => {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            None
                        }
                    }
                })
                .filter_map(|event| async move { event }),
        )
    }

    /// Log lines per container name, recording every request opened.
    #[derive(Default)]
    struct FakeLogs {
        opened: Arc<Mutex<Vec<LogRequest>>>,
    }

    impl LogSource for FakeLogs {
        fn open(&self, request: &LogRequest) -> BoxStream<'static, LogEvent> {
            self.opened.lock().unwrap().push(request.clone());
            let container = request.container.clone().unwrap_or_default();
            stream::iter([
                LogEvent::Line(format!("{container}: hello")),
                LogEvent::Line(format!("{container}: world")),
            ])
            .boxed()
        }
    }

    /// Records the requests sent and answers each as the cluster would.
    #[derive(Default)]
    struct FakeOperator {
        sent: Arc<Mutex<Vec<Request>>>,
    }

    impl Operator for FakeOperator {
        fn send(&self, request: Request) -> BoxFuture<'static, Result<String, String>> {
            let answer = format!(
                "{} sent to rollout {}",
                request.operation, request.rollout.name
            );
            self.sent.lock().unwrap().push(request);
            Box::pin(async move { Ok(answer) })
        }
    }

    /// Sources with nothing to tell, for tests that press no key reading them.
    #[derive(Default)]
    struct Fakes {
        logs: FakeLogs,
        objects: FakeObjects,
        operator: FakeOperator,
    }

    impl Fakes {
        fn sources(&self) -> Sources<'_> {
            Sources {
                logs: &self.logs,
                objects: &self.objects,
                operator: &self.operator,
            }
        }
    }

    /// Objects by key, recording every read.
    #[derive(Default)]
    struct FakeObjects {
        objects: BTreeMap<ObjectKey, serde_json::Value>,
        read: Arc<Mutex<Vec<ObjectRequest>>>,
    }

    impl ObjectSource for FakeObjects {
        fn read(
            &self,
            request: &ObjectRequest,
        ) -> BoxFuture<'static, Result<serde_json::Value, String>> {
            self.read.lock().unwrap().push(request.clone());
            let found = self.objects.get(&request.key).cloned();
            futures::FutureExt::boxed(futures::future::ready(
                found.ok_or_else(|| "not found".to_owned()),
            ))
        }
    }

    async fn run_script(
        app: &mut App,
        steps: Vec<Step>,
        diffs: Vec<Diff>,
        logs: &FakeLogs,
    ) -> (Outcome, Terminal<TestBackend>) {
        run_script_with(app, steps, diffs, logs, &FakeOperator::default()).await
    }

    async fn run_script_with(
        app: &mut App,
        steps: Vec<Step>,
        diffs: Vec<Diff>,
        logs: &FakeLogs,
        operator: &FakeOperator,
    ) -> (Outcome, Terminal<TestBackend>) {
        let objects = FakeObjects::default();
        let sources = Sources {
            logs,
            objects: &objects,
            operator,
        };
        run_with(app, steps, diffs, &sources).await
    }

    async fn run_with(
        app: &mut App,
        steps: Vec<Step>,
        diffs: Vec<Diff>,
        sources: &Sources<'_>,
    ) -> (Outcome, Terminal<TestBackend>) {
        let mut terminal = Terminal::new(TestBackend::new(100, 20)).unwrap();
        let inputs = Inputs {
            keys: script(steps),
            diffs: stream::iter(diffs.into_iter().map(Ok::<_, String>)).chain(stream::pending()),
            signals: stream::pending(),
            started: Instant::now(),
        };
        let outcome = run(&mut terminal, app, inputs, sources).await.unwrap();
        (outcome, terminal)
    }

    fn settled_app() -> App {
        let root = fixtures::key("Service", "web");
        let mut app = App::new(
            World::new(vec![root]),
            Tracker::new(Some(Duration::from_mins(5)), Duration::ZERO),
            Header::default(),
        );
        let svc = fixtures::object("Service", "web", Status::Success, None);
        app.update(
            Message::Diffs(vec![Diff::Upsert(Box::new(svc))]),
            Duration::ZERO,
        );
        app
    }

    #[tokio::test]
    async fn an_idle_view_after_the_verdict_never_redraws() {
        let mut app = settled_app();
        assert!(app.verdict().is_some());
        let steps = vec![Step::Wait(1_300), Step::Key(KeyCode::Char('q'))];
        let (outcome, _) = run_script(&mut app, steps, Vec::new(), &FakeLogs::default()).await;
        assert_eq!(outcome.code, ExitCode::Success);
        assert_eq!(
            outcome.redraws, 2,
            "the first frame and the one after q, nothing between"
        );
    }

    #[tokio::test]
    async fn before_the_verdict_it_redraws_once_per_second() {
        let root = fixtures::key("Service", "web");
        let mut app = App::new(
            World::new(vec![root]),
            Tracker::new(Some(Duration::from_mins(5)), Duration::ZERO),
            Header::default(),
        );
        let steps = vec![Step::Wait(2_500), Step::Key(KeyCode::Char('q'))];
        let (outcome, terminal) =
            run_script(&mut app, steps, Vec::new(), &FakeLogs::default()).await;
        assert_eq!(outcome.code, ExitCode::Interrupted);
        // First frame, the seconds 1 and 2 turning, the frame after q.
        assert_eq!(outcome.redraws, 4);
        let screen = terminal.backend().to_string();
        assert!(screen.contains("done in 0:02"), "{screen}");
    }

    #[tokio::test]
    async fn a_burst_of_diffs_costs_one_frame() {
        let mut app = settled_app();
        let service = fixtures::key("Service", "web");
        let diffs: Vec<Diff> = (0..100)
            .map(|i| {
                let mut pod = fixtures::pod(&format!("web-{i:03}"), &service, Status::Success);
                pod.counted = false;
                Diff::Upsert(Box::new(pod))
            })
            .collect();
        let steps = vec![Step::Wait(200), Step::Key(KeyCode::Char('q'))];
        let (outcome, terminal) = run_script(&mut app, steps, diffs, &FakeLogs::default()).await;
        assert_eq!(app.world.objects.len(), 101);
        assert_eq!(
            outcome.redraws, 3,
            "first frame, the burst, the frame after q"
        );
        // A hundred pods fold into their summary row.
        let screen = terminal.backend().to_string();
        assert!(
            screen.contains("≡ 100 ready · 0 starting · 0 failed"),
            "{screen}"
        );
    }

    #[tokio::test]
    async fn diffs_coming_one_by_one_are_drawn_a_frame_at_a_time_up_to_the_last() {
        let mut app = settled_app();
        let service = fixtures::key("Service", "web");
        let pods = 60;
        let diffs = (0..pods).map(move |i| {
            let mut pod = fixtures::pod(&format!("web-{i:03}"), &service, Status::Success);
            pod.counted = false;
            Ok::<_, String>(Diff::Upsert(Box::new(pod)))
        });
        // One diff every 2 ms: without pacing, a frame each.
        let diffs = stream::iter(diffs)
            .then(|diff| async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                diff
            })
            .chain(stream::pending());
        let mut terminal = Terminal::new(TestBackend::new(100, 20)).unwrap();
        let inputs = Inputs {
            keys: script(vec![
                Step::Wait(pods * 2 + 300),
                Step::Key(KeyCode::Char('q')),
            ]),
            diffs: Box::pin(diffs),
            signals: stream::pending(),
            started: Instant::now(),
        };
        let fakes = Fakes::default();
        let started = Instant::now();
        let outcome = run(&mut terminal, &mut app, inputs, &fakes.sources())
            .await
            .unwrap();
        let intervals = started.elapsed().as_millis() / FRAME.as_millis();
        assert_eq!(app.world.objects.len(), 61);
        // The first frame, at most one per frame interval after it, and the one after q:
        // some 14 on an idle machine, where a frame per diff would be 62.
        let most = u64::try_from(intervals).unwrap() + 2;
        assert!(
            (3..=most).contains(&outcome.redraws),
            "{} frames for {pods} diffs over {intervals} frame intervals",
            outcome.redraws
        );
        // Every diff is on screen.
        let screen = terminal.backend().to_string();
        assert!(
            screen.contains("≡ 60 ready · 0 starting · 0 failed"),
            "{screen}"
        );
    }

    #[tokio::test]
    async fn a_confirmed_promote_is_sent_once_and_its_answer_shown() {
        let root = fixtures::key("Rollout", "web");
        let mut app = App::new(
            World::new(vec![root.clone()]),
            Tracker::new(Some(Duration::from_mins(5)), Duration::ZERO),
            Header::default(),
        );
        let mut rollout = fixtures::object("Rollout", "web", Status::Suspended, None);
        rollout.api_version = "argoproj.io/v1alpha1".into();
        app.update(
            Message::Diffs(vec![Diff::Upsert(Box::new(rollout))]),
            Duration::ZERO,
        );
        let operator = FakeOperator::default();
        let steps = vec![
            // Asked, then refused: nothing is sent.
            Step::Key(KeyCode::Char('A')),
            Step::Key(KeyCode::Char('n')),
            Step::Key(KeyCode::Char('P')),
            Step::Key(KeyCode::Char('y')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('q')),
        ];
        let (_, terminal) =
            run_script_with(&mut app, steps, Vec::new(), &FakeLogs::default(), &operator).await;
        let sent = operator.sent.lock().unwrap().clone();
        assert_eq!(
            sent,
            [Request {
                operation: crate::rollouts::Operation::Promote,
                rollout: root
            }]
        );
        assert!(
            terminal
                .backend()
                .to_string()
                .contains("promote sent to rollout web"),
            "{}",
            terminal.backend()
        );
    }

    #[tokio::test]
    async fn logs_stream_while_the_pane_is_open_and_restart_on_a_container_switch() {
        let mut app = fixtures::app();
        let logs = FakeLogs::default();
        let steps = vec![
            Step::Key(KeyCode::Char('f')),
            Step::Key(KeyCode::Char('l')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('c')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('q')),
        ];
        let (outcome, terminal) = run_script(&mut app, steps, Vec::new(), &logs).await;
        assert_eq!(outcome.code, ExitCode::Interrupted);
        let opened = logs.opened.lock().unwrap().clone();
        let containers: Vec<_> = opened.iter().map(|r| r.container.clone()).collect();
        assert_eq!(
            containers,
            [Some("nginx".to_owned()), Some("init-config".to_owned())]
        );
        let view = app.logs.as_ref().unwrap();
        assert_eq!(view.lines, ["init-config: hello", "init-config: world"]);
        assert_eq!(view.note.as_deref(), Some("end of log"));
        let screen = terminal.backend().to_string();
        assert!(screen.contains("init-config: world"), "{screen}");
    }

    #[tokio::test]
    async fn a_merges_every_containers_log_with_its_name_in_front() {
        let mut app = fixtures::app();
        let logs = FakeLogs::default();
        let steps = vec![
            Step::Key(KeyCode::Char('f')),
            Step::Key(KeyCode::Char('l')),
            Step::Key(KeyCode::Char('a')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('q')),
        ];
        let (_, terminal) = run_script(&mut app, steps, Vec::new(), &logs).await;
        let opened: Vec<_> = logs
            .opened
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.container.clone())
            .collect();
        assert_eq!(
            opened,
            [
                Some("nginx".to_owned()),
                Some("nginx".to_owned()),
                Some("init-config".to_owned())
            ],
            "one stream, then one per container"
        );
        let mut lines: Vec<_> = app.logs.as_ref().unwrap().lines.iter().cloned().collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "[init-config] init-config: hello",
                "[init-config] init-config: world",
                "[nginx] nginx: hello",
                "[nginx] nginx: world",
            ]
        );
        let screen = terminal.backend().to_string();
        assert!(screen.contains("all containers"), "{screen}");
    }

    #[tokio::test]
    async fn shift_l_merges_every_pod_of_the_workload_with_pod_and_container_in_front() {
        let mut app = fixtures::app();
        let logs = FakeLogs::default();
        let steps = vec![
            Step::Key(KeyCode::Down),
            Step::Key(KeyCode::Char('L')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('q')),
        ];
        let (_, terminal) = run_script(&mut app, steps, Vec::new(), &logs).await;
        let opened = logs.opened.lock().unwrap().clone();
        let pods: std::collections::BTreeSet<_> = opened.iter().map(|r| r.pod.clone()).collect();
        assert!(pods.len() > 1, "{opened:?}");
        let view = app.logs.as_ref().unwrap();
        assert_eq!(view.lines.len(), 2 * opened.len(), "{:?}", view.lines);
        for request in &opened {
            let container = request.container.clone().unwrap();
            let line = format!("[{}/{container}] {container}: hello", request.pod);
            assert!(view.lines.contains(&line), "{line} in {:?}", view.lines);
        }
        let screen = terminal.backend().to_string();
        assert!(screen.contains("logs Deployment octopus/nginx"), "{screen}");
    }

    #[tokio::test]
    async fn s_writes_the_lines_kept_to_a_file_once_per_press() {
        let mut app = fixtures::app();
        let dir = tempfile::tempdir().unwrap();
        app.logs_dir = dir.path().to_owned();
        let steps = vec![
            Step::Key(KeyCode::Char('f')),
            Step::Key(KeyCode::Char('l')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('s')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('q')),
        ];
        run_script(&mut app, steps, Vec::new(), &FakeLogs::default()).await;
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("kos-logs-nginx-7c5ddbdf54-x2x9k-nginx-"),
            "{name}"
        );
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert_eq!(text, "nginx: hello\nnginx: world\n");
    }

    #[tokio::test]
    async fn y_reads_the_selected_object_once_and_shows_it() {
        let mut app = fixtures::app();
        let pod = fixtures::key("Pod", "nginx-7c5ddbdf54-x2x9k");
        let mut objects = FakeObjects::default();
        let live = serde_json::json!({"kind": "Pod", "spec": {"nodeName": "node-2"}});
        objects.objects.insert(pod.clone(), live);
        let logs = FakeLogs::default();
        let steps = vec![
            Step::Key(KeyCode::Char('f')),
            Step::Key(KeyCode::Char('y')),
            Step::Wait(100),
            Step::Key(KeyCode::Char('q')),
        ];
        let sources = Sources {
            logs: &logs,
            objects: &objects,
            operator: &FakeOperator::default(),
        };
        let (_, terminal) = run_with(&mut app, steps, Vec::new(), &sources).await;
        let read = objects.read.lock().unwrap().clone();
        assert_eq!(
            read,
            [ObjectRequest {
                key: pod,
                attempt: 0
            }]
        );
        let screen = terminal.backend().to_string();
        assert!(screen.contains("nodeName: node-2"), "{screen}");
    }

    #[tokio::test]
    async fn a_signal_ends_the_loop_with_its_code() {
        let mut app = fixtures::app();
        let mut terminal = Terminal::new(TestBackend::new(40, 10)).unwrap();
        let inputs = Inputs {
            keys: stream::pending(),
            diffs: stream::pending::<Result<Feed, String>>(),
            signals: stream::iter([ExitCode::Terminated]),
            started: Instant::now(),
        };
        let fakes = Fakes::default();
        let outcome = run(&mut terminal, &mut app, inputs, &fakes.sources())
            .await
            .unwrap();
        assert_eq!(outcome.code, ExitCode::Terminated);
    }

    #[tokio::test]
    async fn a_stopped_watch_ends_the_view_with_its_reason() {
        let mut app = fixtures::app();
        let mut terminal = Terminal::new(TestBackend::new(40, 10)).unwrap();
        let inputs = Inputs {
            keys: stream::pending(),
            diffs: stream::iter([Err::<Diff, _>("pods is forbidden")]),
            signals: stream::pending(),
            started: Instant::now(),
        };
        let fakes = Fakes::default();
        let error = run(&mut terminal, &mut app, inputs, &fakes.sources())
            .await
            .unwrap_err();
        assert!(matches!(&error, LoopError::Watch(reason) if reason == "pods is forbidden"));
    }

    #[tokio::test]
    async fn the_end_of_the_keyboard_is_a_hang_up() {
        let mut app = fixtures::app();
        let (outcome, _) = run_script(&mut app, Vec::new(), Vec::new(), &FakeLogs::default()).await;
        assert_eq!(outcome.code, ExitCode::HungUp);
    }

    #[test]
    fn the_header_says_while_the_cluster_does_not_answer() {
        let mut app = fixtures::app();
        let reason = "cannot reach the cluster at http://x: refused";
        let lost_at = app.now;
        app.update(Message::Connection(Some(reason.into())), lost_at);
        app.update(Message::Tick, lost_at + Duration::from_secs(16));
        let mut terminal = Terminal::new(TestBackend::new(160, 10)).unwrap();
        terminal.draw(|frame| render(&mut app, frame)).unwrap();
        let screen = terminal.backend().to_string();
        assert!(
            screen.contains("⚠ cluster not answering for 0:16: cannot reach the cluster"),
            "{screen}"
        );
        app.update(Message::Connection(None), lost_at + Duration::from_secs(17));
        terminal.draw(|frame| render(&mut app, frame)).unwrap();
        assert!(!terminal.backend().to_string().contains("not answering"));
    }

    #[test]
    fn news_of_the_connection_ends_a_batch_of_diffs() {
        let pod = |name: &str| {
            let key = fixtures::key("Pod", name);
            Feed::Diff(Diff::Upsert(Box::new(TrackedObject::for_test(
                key,
                Status::InProgress,
                None,
            ))))
        };
        let feed = vec![
            Ok::<_, String>(pod("b")),
            Ok(Feed::Connection(None)),
            Ok(pod("c")),
        ];
        let mut diffs = stream::iter(feed).fuse().peekable();
        let first = Diff::Remove(fixtures::key("Pod", "a"));
        assert_eq!(batch(first, &mut diffs).unwrap().len(), 2);
        let next = futures::FutureExt::now_or_never(diffs.next());
        assert!(matches!(next, Some(Some(Ok(Feed::Connection(None))))));
    }
}
