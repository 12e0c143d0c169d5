//! The state of the full-screen view and the one function that changes it.
//!
//! [`App::update`] is the only code that mutates the view: keys (as [`Action`]s), world
//! diffs, log lines, ticks and signals all arrive as [`Message`]s. It owns the tracked
//! [`World`], the [`Tracker`], the clock and the exit; what the user opened, selected or
//! typed lives in sub-states, each in its own module and written only through its methods:
//! the tree and its selection ([`TreeView`]), the filter ([`Filter`]), the panes and help
//! ([`Panes`]) and the log ([`LogView`]); `header` says when the header's clocks turn, and
//! [`History`] remembers transitions and ready counts over time. Those
//! methods are `pub(super)`, so that nothing outside this module can call them, and here only
//! `update`, through the helpers below, does: it decides which sub-state a message is for
//! and passes each what it needs of the others. It must not do I/O, read a clock or know
//! about the terminal: time comes in with each message.

mod command;
mod filter;
mod header;
mod history;
mod logs;
mod object;
mod panes;
mod search;
mod tree_view;

pub use command::{Command, Request};
pub use filter::Filter;
pub use header::Header;
pub use history::{History, Transitions};
pub use logs::{LogOptions, LogRequest, LogView, SaveRequest};
pub use object::{Mode as ObjectMode, ObjectRequest, ObjectView};
pub use panes::{EventsView, Pane, Panes};
pub use search::Search;
pub use tree_view::TreeView;

use crate::exit::ExitCode;
use crate::model::{Diff, ObjectKey, TrackedObject, World};
use crate::rollouts::{Operation, is_rollout};
use crate::tracker::{Tracker, Verdict};
use crate::ui::tree::NodeId;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Something that happened, for [`App::update`].
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A key, already turned into what it does (see `keys`).
    Key(Action),
    /// The watch actor's news about the world, as many diffs as were waiting (the tree is
    /// rebuilt once per message).
    Diffs(Vec<Diff>),
    /// Time passed: a countdown's second turned or a tracker deadline came.
    Tick,
    /// The terminal's size, in cells.
    Resize { width: u16, height: u16 },
    /// One line of the followed container log.
    LogLine(String),
    /// The log stream ended or failed; the reason is shown under the lines.
    LogEnded(String),
    /// The cluster's answer to reading an object: the object, or why it could not be read.
    Object(ObjectRequest, Result<Value, String>),
    /// The mouse: a click or the wheel.
    Mouse(Mouse),
    /// The logs written to a file for `s` (the file's path), or why they could not be.
    Saved(SaveRequest, Result<String, String>),
    /// SIGINT, SIGTERM or SIGHUP: leave now with this code.
    Signal(ExitCode),
    /// The API server stopped answering (why), or answers again (`None`).
    Connection(Option<String>),
    /// The cluster's answer to a confirmed promote or abort, for the footer.
    CommandDone(Result<String, String>),
}

/// What the mouse did, where (in cells from the screen's top left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mouse {
    /// The left button went down here.
    Click { column: u16, row: u16 },
    /// The wheel turned one notch, down (toward the end) or up.
    Wheel { down: bool },
}

/// Rows one notch of the wheel scrolls, as most terminals scroll text.
const WHEEL_ROWS: usize = 3;

/// What a key does, in the pane it was pressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    /// Home in the tree, `g` in logs and events.
    Top,
    /// End in the tree, `G` in logs and events.
    Bottom,
    Collapse,
    Expand,
    Toggle,
    Details,
    NextFailure,
    StartFilter,
    FilterChar(char),
    FilterBackspace,
    FilterKeep,
    Logs,
    /// The logs of every pod under the selection, merged.
    WorkloadLogs,
    Events,
    Follow,
    NextContainer,
    /// Every container's log at once, or one again.
    AllContainers,
    Previous,
    Wrap,
    /// `P`: promote the selected Rollout, once confirmed.
    Promote,
    /// `A`: abort the selected Rollout, once confirmed.
    Abort,
    /// `y` to a question.
    Yes,
    /// `n` or Esc to a question.
    No,
    /// Log lines with their times, or without.
    Timestamps,
    /// The log from this far back: an index of `SINCE_PRESETS`.
    Since(u8),
    /// The log lines kept, written to a file.
    Save,
    /// The selected object as the cluster holds it.
    Yaml,
    /// What kos applied against what the cluster holds.
    Diff,
    NextMatch,
    PreviousMatch,
    Help,
    Back,
    Quit,
}

/// Where keys go right now (see `keys::action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyContext {
    Tree,
    Filter,
    Logs,
    Events,
    Object,
    /// Typing a search in the object or logs pane.
    Search,
    Help,
    /// A promote or abort waits for `y` or `n`.
    Confirm,
}

/// The whole state of the view.
#[derive(Debug)]
pub struct App {
    pub world: World,
    pub tracker: Tracker,
    pub header: Header,
    /// Elapsed time since tracking started, as of the last message.
    pub now: Duration,
    pub tree: TreeView,
    pub panes: Panes,
    pub filter: Filter,
    pub logs: Option<LogView>,
    pub history: History,
    pub object: Option<ObjectView>,
    /// The objects as kos applied them (empty when it applied none, as for `kos watch`).
    pub applied: BTreeMap<ObjectKey, Arc<Value>>,
    /// The terminal's size, for paging and layout decisions.
    pub size: (u16, u16),
    /// Where `s` writes the logs pane's lines: the directory kos runs in.
    pub logs_dir: std::path::PathBuf,
    /// While the API server does not answer: why, and since when (the rows are as old).
    pub lost: Option<(String, Duration)>,
    /// The promote or abort being asked, sent or answered.
    pub command: Command,
    exit: Option<ExitCode>,
}

impl App {
    pub fn new(world: World, tracker: Tracker, header: Header) -> Self {
        let mut app = App {
            world,
            tracker,
            header,
            now: Duration::ZERO,
            tree: TreeView::default(),
            panes: Panes::default(),
            filter: Filter::default(),
            logs: None,
            history: History::default(),
            object: None,
            applied: BTreeMap::new(),
            size: (80, 24),
            logs_dir: std::path::PathBuf::from("."),
            lost: None,
            command: Command::default(),
            exit: None,
        };
        app.sync();
        app
    }

    /// The exit code, once the user (or a signal) asked to leave.
    pub fn exit_code(&self) -> Option<ExitCode> {
        self.exit
    }

    pub fn verdict(&self) -> Option<Verdict> {
        self.tracker.verdict()
    }

    /// Where keys go right now.
    pub fn key_context(&self) -> KeyContext {
        if self.command.asking().is_some() {
            KeyContext::Confirm
        } else if self.panes.help {
            KeyContext::Help
        } else if self.filter.editing {
            KeyContext::Filter
        } else if self.search().is_some_and(|search| search.editing) {
            KeyContext::Search
        } else {
            self.panes.pane.key_context()
        }
    }

    /// The search of the pane on screen, for the panes that have one.
    pub fn search(&self) -> Option<&Search> {
        match self.panes.pane {
            Pane::Object => self.object.as_ref().map(|o| &o.search),
            Pane::Logs => self.logs.as_ref().map(|l| &l.search),
            Pane::Tree | Pane::Events => None,
        }
    }

    /// The log stream the view wants open, if any.
    pub fn log_request(&self) -> Option<LogRequest> {
        let logs = self
            .logs
            .as_ref()
            .filter(|_| self.panes.pane == Pane::Logs)?;
        Some(logs.request())
    }

    /// The file of log lines the view wants written, once `s` was pressed in the pane.
    pub fn save_request(&self) -> Option<SaveRequest> {
        let logs = self
            .logs
            .as_ref()
            .filter(|_| self.panes.pane == Pane::Logs)?;
        logs.save_request(&self.logs_dir)
    }

    /// The object the view wants read from the cluster, if any.
    pub fn object_request(&self) -> Option<ObjectRequest> {
        let object = self
            .object
            .as_ref()
            .filter(|_| self.panes.pane == Pane::Object)?;
        Some(object.request())
    }

    /// The object under the selection.
    pub fn selected_key(&self) -> Option<&ObjectKey> {
        self.tree.selected_key()
    }

    /// The paths of the rows the tree shows (open parents only), top to bottom.
    pub fn visible(&self) -> Vec<Vec<NodeId>> {
        self.tree.visible()
    }

    /// The confirmed promote or abort, once: the event loop sends it.
    pub fn take_request(&mut self) -> Option<Request> {
        self.command.take()
    }

    /// The elapsed time at which the screen next changes by itself: a countdown's or the
    /// elapsed clock's second turns, or the tracker must decide. `None` after the verdict.
    pub fn next_wake(&self) -> Option<Duration> {
        header::next_wake(&self.tracker, self.now)
    }

    /// Rows a page holds: the tree or log area is the screen minus header, borders, footer.
    fn page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(4)).max(1)
    }

    /// Applies `message` at elapsed time `now`; returns whether the screen must be redrawn.
    pub fn update(&mut self, message: Message, now: Duration) -> bool {
        self.now = self.now.max(now);
        let changed = match message {
            Message::Key(action) => {
                self.sync();
                self.act(action)
            }
            Message::Diffs(diffs) => self.apply_diffs(diffs),
            Message::Tick => true,
            Message::Resize { width, height } => {
                self.size = (width, height);
                true
            }
            // Lines and ends of a log nobody opened are dropped; a line is drawn only while
            // the logs pane is up, an end is noted for when it comes back.
            Message::LogLine(line) => {
                let kept = self.logs.as_mut().map(|logs| logs.push(line)).is_some();
                kept && self.panes.pane == Pane::Logs
            }
            Message::LogEnded(reason) => self.logs.as_mut().map(|logs| logs.end(reason)).is_some(),
            Message::Object(request, live) => self
                .object
                .as_mut()
                .is_some_and(|object| object.answer(&request, live)),
            Message::Saved(request, outcome) => self
                .logs
                .as_mut()
                .is_some_and(|logs| logs.answer_save(&request, outcome)),
            Message::Mouse(mouse) => {
                self.sync();
                self.mouse(mouse)
            }
            Message::Signal(code) => {
                self.tracker.interrupt(self.now);
                self.exit = Some(code);
                true
            }
            Message::Connection(lost) => {
                self.lost = lost.map(|reason| (reason, self.now));
                true
            }
            Message::CommandDone(answer) => self.command.done(answer),
        };
        let verdict_before = self.tracker.verdict();
        self.sync();
        changed || self.tracker.verdict() != verdict_before
    }

    /// Brings the tree and the verdict up to date with the world (once per batch of diffs).
    fn sync(&mut self) {
        self.tree.sync(&self.world, &self.filter.text);
        self.tracker.update_world(&self.world, self.now);
    }

    /// Applies a batch of diffs to the world. A row that keeps its place is redrawn alone,
    /// and a folded workload's pods come, go and move between its holder and the failed
    /// ones listed in place; any other change has the tree rebuilt at the next sync. Returns whether the world
    /// changed.
    fn apply_diffs(&mut self, diffs: Vec<Diff>) -> bool {
        let mut changed = false;
        let mut log_pod_changed = false;
        let mut object_changed = false;
        for diff in diffs {
            let events = matches!(diff, Diff::Events(..));
            let row = match &diff {
                Diff::Upsert(new) if self.row_stays(new) => Some(new.key.clone()),
                _ => None,
            };
            let new_row = matches!(&diff, Diff::Upsert(new) if self.is_new_row(new));
            let removed = matches!(&diff, Diff::Remove(_)) && !self.filter.is_on();
            let about_log_pod = matches!((&diff, &self.logs),
                (Diff::Upsert(o), Some(logs)) if logs.is_of(&o.key));
            let key = (!events).then(|| diff.key().clone());
            let about_object = matches!((&diff, &self.object),
                (Diff::Upsert(o), Some(view)) if view.is_of(&o.key));
            if self.world.apply(diff) {
                changed = true;
                if let Some(key) = &key {
                    self.history.observe(&self.world, key, self.now);
                }
                log_pod_changed |= about_log_pod;
                object_changed |= about_object;
                // No row shows Events.
                let patched = events
                    || row.is_some_and(|key| self.patch_row(&key))
                    || (new_row && key.as_ref().is_some_and(|key| self.add_row(key)))
                    || (removed && key.as_ref().is_some_and(|key| self.tree.remove_row(key)));
                if !patched {
                    self.tree.mark_stale();
                }
            }
        }
        if log_pod_changed && let Some(logs) = self.logs.as_mut() {
            logs.reopen_if_ended();
        }
        if changed {
            self.history.observe_overall(&self.world, self.now);
        }
        if object_changed && let Some(object) = self.object.as_mut() {
            object.reread();
        }
        changed
    }

    /// Whether the new summary `new` of a known object keeps its row in place; never with a
    /// filter on, as the filter reads the status.
    fn row_stays(&self, new: &TrackedObject) -> bool {
        !self.filter.is_on()
            && self
                .world
                .object(&new.key)
                .is_some_and(|old| tree_view::keeps_its_row(old, new))
    }

    /// Whether `new` is an object the world does not show yet; never with a filter on, as
    /// the filter could hide it.
    fn is_new_row(&self, new: &TrackedObject) -> bool {
        !self.filter.is_on() && self.world.object(&new.key).is_none()
    }

    /// Adds the row of the new object `key` from the world; false when the tree must be
    /// rebuilt instead.
    fn add_row(&mut self, key: &ObjectKey) -> bool {
        self.world
            .object(key)
            .is_some_and(|object| self.tree.add_row(object))
    }

    /// Redraws the row of `key` from the world; false when the tree must be rebuilt instead.
    fn patch_row(&mut self, key: &ObjectKey) -> bool {
        self.world
            .object(key)
            .is_some_and(|object| self.tree.patch_row(object, &self.world))
    }

    /// Rebuilds the tree after the filter changed.
    fn refilter(&mut self) {
        self.tree.refilter(&self.world, &self.filter.text);
    }

    /// A key, in the context it was pressed in; returns whether anything changed.
    fn act(&mut self, action: Action) -> bool {
        match self.key_context() {
            KeyContext::Confirm => match action {
                Action::Yes => self.command.answer(true),
                Action::No | Action::Back => self.command.answer(false),
                Action::Quit => self.quit(),
                _ => false,
            },
            KeyContext::Help => match action {
                Action::Help | Action::Back => self.panes.set_help(false),
                Action::Quit => self.quit(),
                _ => false,
            },
            KeyContext::Filter => self.act_filter(action),
            KeyContext::Tree => self.act_tree(action),
            KeyContext::Logs => self.act_logs(action),
            KeyContext::Events => self.act_events(action),
            KeyContext::Object => self.act_object(action),
            KeyContext::Search => self.edit_search(action),
        }
    }

    /// A key typed into the search of the pane on screen.
    fn edit_search(&mut self, action: Action) -> bool {
        let page = self.page();
        match self.panes.pane {
            Pane::Object => self
                .object
                .as_mut()
                .is_some_and(|object| object.edit_search(action)),
            Pane::Logs => self
                .logs
                .as_mut()
                .is_some_and(|logs| logs.edit_search(action, page)),
            Pane::Tree | Pane::Events => false,
        }
    }

    /// A click selects the tree's row under it; the wheel scrolls the tree or the pane up.
    /// Help and a filter being typed take no mouse.
    fn mouse(&mut self, mouse: Mouse) -> bool {
        let context = self.key_context();
        match (mouse, context) {
            (Mouse::Click { column, row }, KeyContext::Tree) => {
                self.tree.click(ratatui::layout::Position::new(column, row))
            }
            // Only the tree's rows take a click.
            (_, KeyContext::Help | KeyContext::Filter | KeyContext::Search)
            | (Mouse::Click { .. }, _) => false,
            (Mouse::Wheel { down }, KeyContext::Tree) => self.tree.scroll(down, WHEEL_ROWS),
            (Mouse::Wheel { down }, _) => {
                let action = if down { Action::Down } else { Action::Up };
                let mut changed = false;
                for _ in 0..WHEEL_ROWS {
                    changed |= self.act(action);
                }
                changed
            }
        }
    }

    /// Leaves with the verdict's code, or as interrupted before the verdict.
    fn quit(&mut self) -> bool {
        self.tracker.interrupt(self.now);
        self.exit = Some(
            self.tracker
                .verdict()
                .map_or(ExitCode::Interrupted, Verdict::exit_code),
        );
        true
    }

    fn act_filter(&mut self, action: Action) -> bool {
        if action == Action::Quit {
            return self.quit();
        }
        if !self.filter.edit(action) {
            return false;
        }
        self.refilter();
        true
    }

    fn act_tree(&mut self, action: Action) -> bool {
        match action {
            Action::Details => self.panes.toggle_details(),
            Action::StartFilter => self.filter.start_editing(),
            Action::Logs => self.open_logs(),
            Action::WorkloadLogs => self.open_workload_logs(),
            Action::Events => self.open_events(),
            Action::Promote => self
                .command
                .ask(Operation::Promote, self.selected_rollout()),
            Action::Abort => self.command.ask(Operation::Abort, self.selected_rollout()),
            Action::Yaml => self.open_object(ObjectMode::Yaml),
            Action::Diff => self.open_object(ObjectMode::Diff),
            Action::Help => self.panes.set_help(true),
            Action::Back => self.back_in_tree(),
            Action::Quit => self.quit(),
            _ => self.tree.act(action, self.page()),
        }
    }

    /// The selected row, when it is an Argo Rollout (the only kind `P` and `A` act on).
    fn selected_rollout(&self) -> Option<ObjectKey> {
        let key = self.tree.selected_key()?;
        let object = self.world.object(key)?;
        is_rollout(&object.api_version, &key.kind).then(|| key.clone())
    }

    /// Esc in the tree: closes the details first, then the last command's answer, then
    /// clears a kept filter.
    fn back_in_tree(&mut self) -> bool {
        if self.panes.close_details() || self.command.dismiss() {
            true
        } else if self.filter.is_on() {
            self.filter.clear();
            self.refilter();
            true
        } else {
            false
        }
    }

    /// Shows the log of the selected pod (or the first pod under the selection), keeping
    /// where it was when it is the log shown last.
    fn open_logs(&mut self) -> bool {
        let Some(pod) = self.tree.pod_under_selection() else {
            return false;
        };
        if !self.logs.as_ref().is_some_and(|logs| logs.is_of(&pod)) {
            let containers = self
                .world
                .objects
                .get(&pod)
                .map_or_else(Vec::new, logs::containers);
            self.logs = Some(LogView::new(pod, containers));
        }
        self.panes.show(Pane::Logs)
    }

    /// Shows the logs of every pod under the selected object (`L`), merged, anew.
    fn open_workload_logs(&mut self) -> bool {
        let Some(workload) = self.tree.selected_key().cloned() else {
            return false;
        };
        let pods: Vec<_> = self
            .tree
            .pods_under_selection()
            .into_iter()
            .map(|pod| {
                let containers = self
                    .world
                    .objects
                    .get(&pod)
                    .map_or_else(Vec::new, logs::containers);
                (pod.name, containers)
            })
            .collect();
        if pods.is_empty() {
            return false;
        }
        self.logs = Some(LogView::workload(workload, pods));
        self.panes.show(Pane::Logs)
    }

    /// Shows the selected object in `mode`, read anew from the cluster.
    fn open_object(&mut self, mode: ObjectMode) -> bool {
        let Some(key) = self.tree.selected_key().cloned() else {
            return false;
        };
        let applied = self.applied.get(&key).cloned();
        self.object = Some(ObjectView::new(key, mode, applied));
        self.panes.show(Pane::Object)
    }

    fn act_object(&mut self, action: Action) -> bool {
        let page = self.page();
        match self.object.as_mut() {
            Some(object) => object.act(action, page) || self.act_over_tree(action),
            // The pane never shows without an object; should it, the tree comes back.
            None => self.panes.show(Pane::Tree),
        }
    }

    fn open_events(&mut self) -> bool {
        let Some(key) = self.tree.selected_key().cloned() else {
            return false;
        };
        self.panes.open_events(key)
    }

    fn act_logs(&mut self, action: Action) -> bool {
        let page = self.page();
        match self.logs.as_mut() {
            Some(logs) => logs.act(action, page) || self.act_over_tree(action),
            // The pane never shows without a log; should it, the tree comes back.
            None => self.panes.show(Pane::Tree),
        }
    }

    fn act_events(&mut self, action: Action) -> bool {
        let page = self.page();
        let total = self
            .panes
            .events_of()
            .and_then(|key| self.world.events.get(key))
            .map_or(0, Vec::len);
        self.panes.scroll_events(action, page, total) || self.act_over_tree(action)
    }

    /// The keys every pane over the tree shares: back to the tree, help and quit.
    fn act_over_tree(&mut self, action: Action) -> bool {
        match action {
            Action::Back => self.panes.show(Pane::Tree),
            Action::Help => self.panes.set_help(true),
            Action::Quit => self.quit(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
