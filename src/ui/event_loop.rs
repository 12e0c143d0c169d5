//! The view's one loop (DESIGN.md section 7): a single `select!` over keys, world diffs, log
//! lines, signals and a tick, feeding [`App::update`], redrawing only when it said something
//! changed.
//!
//! Every input is injected (a key stream, a diff stream, a signal stream, a log source) so
//! that the loop runs the same against a real terminal and against a script. The tick is not
//! periodic: it fires only when a countdown's second turns or the tracker has a deadline,
//! so an idle view sleeps. It must never block on the network.

use crate::exit::ExitCode;
use crate::model::Diff;
use crate::ui::app::{App, LogRequest, Message};
use crate::ui::keys;
use crate::ui::logs::{LogEvent, LogSource};
use crate::ui::render::render;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::Event;
use std::io;
use tokio::time::Instant;

/// Diffs applied in one go before a redraw, so that a burst costs one frame while keys
/// stay responsive.
const DIFF_BATCH: usize = 512;

/// Why the loop stopped without an exit code.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("cannot read the keyboard: {0}")]
    Input(#[from] io::Error),
    #[error("cannot draw on the terminal: {0}")]
    Draw(String),
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
    /// The watch actor's diffs. Its end leaves the view open on the last state.
    pub diffs: D,
    /// SIGINT, SIGTERM, SIGHUP as the exit code each one means.
    pub signals: S,
    /// When tracking started: elapsed time for the tracker counts from here.
    pub started: Instant,
}

/// Runs the view until the user quits, a signal comes or the terminal goes away.
pub async fn run<B, K, D, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    inputs: Inputs<K, D, S>,
    log_source: &dyn LogSource,
) -> Result<Outcome, LoopError>
where
    B: Backend,
    B::Error: std::fmt::Display,
    K: Stream<Item = io::Result<Event>> + Unpin,
    D: Stream<Item = Diff> + Unpin,
    S: Stream<Item = ExitCode> + Unpin,
{
    let Inputs {
        mut keys,
        diffs,
        mut signals,
        started,
    } = inputs;
    let mut diffs = diffs.fuse();
    let mut logs = LogStream::default();
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
    let mut changed = true;
    loop {
        if changed {
            terminal
                .draw(|frame| render(app, frame))
                .map_err(|e| LoopError::Draw(e.to_string()))?;
            redraws += 1;
        }
        if let Some(code) = app.exit_code() {
            return Ok(Outcome { code, redraws });
        }
        logs.follow(app.log_request(), log_source);
        let wake = app.next_wake().map(|at| started + at);
        let message = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(event)) => terminal_message(app, &event),
                Some(Err(error)) => return Err(LoopError::Input(error)),
                None => Some(Message::Signal(ExitCode::HungUp)),
            },
            Some(diff) = diffs.next() => Some(Message::Diff(diff)),
            Some(event) = logs.next() => Some(event),
            Some(code) = signals.next() => Some(Message::Signal(code)),
            () = sleep_until(wake) => Some(Message::Tick),
        };
        changed = message.is_some_and(|m| app.update(m, started.elapsed()));
        // Whatever else the watch actor already sent joins this frame.
        for _ in 0..DIFF_BATCH {
            match futures::FutureExt::now_or_never(diffs.next()) {
                Some(Some(diff)) => changed |= app.update(Message::Diff(diff), started.elapsed()),
                _ => break,
            }
        }
    }
}

/// A key (as the current pane reads it) or a resize; other terminal events change nothing.
fn terminal_message(app: &App, event: &Event) -> Option<Message> {
    match event {
        Event::Key(key) => keys::action(app.key_context(), *key).map(Message::Key),
        Event::Resize(width, height) => Some(Message::Resize {
            width: *width,
            height: *height,
        }),
        _ => None,
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
            self.stream = wanted.as_ref().map(|request| source.open(request));
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
