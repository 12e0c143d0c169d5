//! The full-screen live view: a tree of every tracked object with its status, details, logs,
//! Events and the verdict's countdowns.
//!
//! The view only reads the engine's output: it is handed the [`World`] to start from, a
//! [`Tracker`], a stream of [`Diff`](crate::model::Diff)s (and news of the connection) from
//! the watch actor, a [`LogSource`] and an [`Operator`]. It must not talk to the cluster
//! other than through those two (logs; a promote or abort of an Argo Rollout the user
//! confirmed), nor decide anything about status.

pub mod app;
pub mod event_loop;
pub mod fold;
pub mod keys;
pub mod live;
pub mod logs;
pub mod object_text;
pub mod operator;
pub mod render;
pub mod terminal;
pub mod tree;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod svg;
#[cfg(test)]
mod tests;

use crate::apply::later::Later;
use crate::cli::{TrackArgs, TrackOutput};
use crate::cluster::Cluster;
use crate::exit::{ClusterError, ExitCode};
use crate::headless::Options;
use crate::held;
use crate::model::World;
use crate::tracker::Tracker;
use crate::watch::{self, Root, Update};
use app::{App, Header};
use event_loop::Sources;
use event_loop::{Feed, Inputs, LoopError};
use futures::{Stream, StreamExt};
use live::{ClusterObjects, ObjectSource};
use logs::{ClusterLogs, LogSource};
use operator::{ClusterOperator, Operator};
use ratatui::crossterm::event::EventStream;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use tokio::time::Instant;

/// Whether `kos apply` / `kos watch` open the view: `--output tui`, or no `--output` and
/// stdout is a terminal.
pub fn wanted(args: &TrackArgs) -> bool {
    match args.output {
        Some(TrackOutput::Tui) => true,
        Some(_) => false,
        None => std::io::stdout().is_terminal(),
    }
}

/// What kos applied, for the view: the server's warnings (shown in the header), the objects
/// as sent (for `d`), and what is held back until its webhook can be called.
#[derive(Default)]
pub struct AppliedBatch {
    pub warnings: Vec<String>,
    pub sent: BTreeMap<crate::model::ObjectKey, Arc<Value>>,
    pub later: Option<Later>,
}

/// Tracks `roots` in the view: the watch actor and tracker of the headless modes, with the
/// view as front end. Returns the exit code the user left with.
pub async fn track(
    cluster: &Cluster,
    roots: Vec<Root>,
    args: &TrackArgs,
    applied: AppliedBatch,
) -> color_eyre::Result<ExitCode> {
    let AppliedBatch {
        warnings,
        sent,
        later,
    } = applied;
    let options = Options::from_args(args, false);
    let mut world = World::new(roots.iter().map(|r| r.key.clone()).collect());
    world.overrides = watch::overrides(&roots);
    world.parents = watch::parents(&roots);
    let objects = ClusterObjects::new(cluster.client.clone(), &roots);
    let mut watch = watch::spawn(
        cluster.client.clone(),
        cluster.server.clone(),
        roots,
        watch::Events::Follow,
    );
    // Stopped when the view ends, with whatever is still held unapplied.
    let _held = later.map(|later| held::start(later, watch.feed()));
    let diffs = futures::stream::poll_fn(|cx| watch.updates.poll_recv(cx)).flat_map(|update| {
        // A batch's diffs come out together, all ready at once: the loop takes them in one go.
        futures::stream::iter(match update {
            Update::Diffs(diffs) => diffs.into_iter().map(|d| Ok(Feed::Diff(d))).collect(),
            Update::Error(error) => vec![Err(error)],
            // The view keeps the last known state while the watches retry, and says so.
            Update::Lost(error) => vec![Ok(Feed::Connection(Some(error.to_string())))],
            Update::Restored => vec![Ok(Feed::Connection(None))],
            // Only informs; the watch has logged it.
            Update::NotServed(_) => Vec::new(),
        })
    });
    let session = Session {
        world,
        tracker: Tracker::new(options.timeout, options.stabilize),
        header: Header {
            context: cluster.context.clone().unwrap_or_default(),
            namespace: cluster.namespace.clone(),
            warnings,
        },
        started: Instant::now(),
        diffs,
        logs: Box::new(ClusterLogs::new(cluster.client.clone())),
        operator: Box::new(ClusterOperator::new(cluster.client.clone())),
        objects: Box::new(objects),
        applied: sent,
    };
    run(session).await
}

/// What the view needs from the command that opens it.
pub struct Session<D> {
    /// The roots in input order, and whatever is known of them already.
    pub world: World,
    pub tracker: Tracker,
    pub header: Header,
    /// When tracking started (the tracker's zero).
    pub started: Instant,
    /// The watch actor's diffs, or the error that stopped it (exit 4).
    pub diffs: D,
    pub logs: Box<dyn LogSource + Send>,
    /// Where a confirmed promote or abort of a Rollout goes.
    pub operator: Box<dyn Operator + Send>,
    pub objects: Box<dyn ObjectSource + Send>,
    /// The objects as kos sent them.
    pub applied: BTreeMap<crate::model::ObjectKey, Arc<Value>>,
}

/// Opens the view on this terminal and runs it until the user quits; returns the exit code
/// (the verdict's after a verdict, 130 before it, 143/129 on SIGTERM/SIGHUP).
pub async fn run<D, T, E>(session: Session<D>) -> color_eyre::Result<ExitCode>
where
    D: Stream<Item = Result<T, E>> + Unpin,
    T: event_loop::FeedItem,
    E: std::fmt::Display,
{
    let signals = terminal::signals()?;
    let mut app = App::new(session.world, session.tracker, session.header);
    app.applied = session.applied;
    // Armed first: an init that fails half way (raw mode on, no alternate screen) is undone.
    let _guard = terminal::Guard;
    let mut terminal = terminal::init()?;
    let inputs = Inputs {
        keys: EventStream::new(),
        diffs: session.diffs,
        signals,
        started: session.started,
    };
    let sources = Sources {
        logs: session.logs.as_ref(),
        objects: session.objects.as_ref(),
        operator: session.operator.as_ref(),
    };
    let outcome = event_loop::run(&mut terminal, &mut app, inputs, &sources).await;
    match outcome {
        Ok(outcome) => Ok(outcome.code),
        Err(error @ LoopError::Watch(_)) => Err(ClusterError(error.to_string()).into()),
        Err(error) => Err(error.into()),
    }
}
