//! The state of the full-screen view and the one function that changes it.
//!
//! [`App::update`] is the only code that mutates the view: keys (as [`Action`]s), world
//! diffs, log lines, ticks and signals all arrive as [`Message`]s. It owns the tracked
//! [`World`], the [`Tracker`] and everything the user opened, selected or typed. It must not
//! do I/O, read a clock or know about the terminal: time comes in with each message.

use crate::exit::ExitCode;
use crate::model::{Diff, ObjectKey, TrackedObject, World};
use crate::status::Status;
use crate::tracker::{Tracker, Verdict};
use crate::ui::tree::{Ids, NodeId, TreeModel};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use tui_tree_widget::TreeState;

/// Log lines kept for the logs view; older ones are dropped.
const LOG_CAPACITY: usize = 10_000;

/// What the header names: where the objects live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub context: String,
    pub namespace: String,
}

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
    /// SIGINT, SIGTERM or SIGHUP: leave now with this code.
    Signal(ExitCode),
    /// The API server stopped answering (why), or answers again (`None`).
    Connection(Option<String>),
}

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
    Events,
    Follow,
    NextContainer,
    Previous,
    Wrap,
    Help,
    Back,
    Quit,
}

/// The main pane under the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Tree,
    Logs,
    Events,
}

/// Where keys go right now (see `keys::action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyContext {
    Tree,
    Filter,
    Logs,
    Events,
    Help,
}

/// The filter of the tree: rows whose name or status contains `text`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub text: String,
    /// The user is typing it.
    pub editing: bool,
}

/// Which container log to stream; the event loop opens one stream per distinct request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub namespace: String,
    pub pod: String,
    /// `None`: the pod's only container, as the API picks it.
    pub container: Option<String>,
    pub previous: bool,
    /// Bumped to reopen an ended stream (see [`LogView::attempt`]).
    pub attempt: u32,
}

/// The logs pane: one pod's container log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    pub pod: ObjectKey,
    pub containers: Vec<String>,
    pub container: usize,
    pub previous: bool,
    pub follow: bool,
    pub wrap: bool,
    /// First line shown when not following.
    pub top: usize,
    pub lines: VecDeque<String>,
    /// Why the stream ended, or why there is none.
    pub note: Option<String>,
    /// Streams opened so far for this container and instance: an ended stream is reopened
    /// when the pod changes (the container started, or restarted), as a person re-running
    /// `kubectl logs -f` would.
    pub attempt: u32,
}

impl LogView {
    fn new(pod: ObjectKey, containers: Vec<String>) -> Self {
        LogView {
            pod,
            containers,
            container: 0,
            previous: false,
            follow: true,
            wrap: false,
            top: 0,
            lines: VecDeque::new(),
            note: None,
            attempt: 0,
        }
    }

    pub fn container_name(&self) -> Option<&str> {
        self.containers.get(self.container).map(String::as_str)
    }

    /// A new stream starts from its first line.
    fn restart(&mut self) {
        self.lines.clear();
        self.top = 0;
        self.note = None;
    }
}

/// The events pane: one object's latest Events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsView {
    pub key: ObjectKey,
    pub top: usize,
}

/// The whole state of the view.
#[derive(Debug)]
pub struct App {
    pub world: World,
    pub tracker: Tracker,
    pub header: Header,
    /// Elapsed time since tracking started, as of the last message.
    pub now: Duration,
    pub tree: TreeModel,
    ids: Ids,
    pub tree_state: TreeState<NodeId>,
    pub pane: Pane,
    pub details: bool,
    pub help: bool,
    pub filter: Filter,
    pub logs: Option<LogView>,
    pub events: Option<EventsView>,
    /// The terminal's size, for paging and layout decisions.
    pub size: (u16, u16),
    /// While the API server does not answer: why, and since when (the rows are as old).
    pub lost: Option<(String, Duration)>,
    exit: Option<ExitCode>,
    tree_stale: bool,
    /// Paths that were ever shown: a path seen for the first time opens.
    known: HashSet<Vec<NodeId>>,
    /// The status each node had at the last rebuild, to spot new failures.
    last_status: HashMap<NodeId, Status>,
}

impl App {
    pub fn new(world: World, tracker: Tracker, header: Header) -> Self {
        let mut app = App {
            world,
            tracker,
            header,
            now: Duration::ZERO,
            tree: TreeModel::default(),
            ids: Ids::default(),
            tree_state: TreeState::default(),
            pane: Pane::Tree,
            details: false,
            help: false,
            filter: Filter::default(),
            logs: None,
            events: None,
            size: (80, 24),
            lost: None,
            exit: None,
            tree_stale: true,
            known: HashSet::new(),
            last_status: HashMap::new(),
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
        if self.help {
            KeyContext::Help
        } else if self.filter.editing {
            KeyContext::Filter
        } else {
            match self.pane {
                Pane::Tree => KeyContext::Tree,
                Pane::Logs => KeyContext::Logs,
                Pane::Events => KeyContext::Events,
            }
        }
    }

    /// The log stream the view wants open, if any.
    pub fn log_request(&self) -> Option<LogRequest> {
        let logs = self.logs.as_ref().filter(|_| self.pane == Pane::Logs)?;
        Some(LogRequest {
            namespace: logs.pod.namespace.clone().unwrap_or_default(),
            pod: logs.pod.name.clone(),
            container: logs.container_name().map(str::to_owned),
            previous: logs.previous,
            attempt: logs.attempt,
        })
    }

    /// The object under the selection.
    pub fn selected_key(&self) -> Option<&ObjectKey> {
        let id = self.tree_state.selected().last()?;
        self.tree.node(*id).map(|node| &node.key)
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
            Message::Diffs(diffs) => {
                let mut changed = false;
                let mut log_pod_changed = false;
                for diff in diffs {
                    let events = matches!(diff, Diff::Events(..));
                    let row = match &diff {
                        Diff::Upsert(new) if self.row_stays(new) => Some(new.key.clone()),
                        _ => None,
                    };
                    let about_log_pod = matches!((&diff, &self.logs),
                        (Diff::Upsert(o), Some(logs)) if o.key == logs.pod);
                    if self.world.apply(diff) {
                        changed = true;
                        log_pod_changed |= about_log_pod;
                        // No row shows Events; a row that keeps its place is redrawn alone.
                        let patched = events || row.is_some_and(|key| self.patch_row(&key));
                        self.tree_stale |= !patched;
                    }
                }
                if log_pod_changed {
                    self.reopen_ended_log();
                }
                changed
            }
            Message::Tick => true,
            Message::Resize { width, height } => {
                self.size = (width, height);
                true
            }
            Message::LogLine(line) => self.push_log(line),
            Message::LogEnded(reason) => match self.logs.as_mut() {
                Some(logs) => {
                    logs.note = Some(reason);
                    true
                }
                None => false,
            },
            Message::Signal(code) => {
                self.tracker.interrupt(self.now);
                self.exit = Some(code);
                true
            }
            Message::Connection(lost) => {
                self.lost = lost.map(|reason| (reason, self.now));
                true
            }
        };
        let verdict_before = self.tracker.verdict();
        self.sync();
        changed || self.tracker.verdict() != verdict_before
    }

    /// Brings the tree and the verdict up to date with the world (once per batch of diffs).
    fn sync(&mut self) {
        if self.tree_stale {
            self.tree_stale = false;
            self.rebuild();
        }
        self.tracker.update(self.world.raw_state(), self.now);
    }

    /// Whether the new summary `new` of a known object keeps its row in place: same owner
    /// and revision, and no filter (which reads the status) on.
    fn row_stays(&self, new: &TrackedObject) -> bool {
        self.filter.text.is_empty()
            && self.world.objects.get(&new.key).is_some_and(|old| {
                old.owner == new.owner && old.counted == new.counted && old.applied == new.applied
            })
    }

    /// Redraws the row of `key` in place instead of rebuilding the whole tree (a pod's
    /// change at 5 000 rows). Returns false when it cannot, and the tree must be rebuilt.
    fn patch_row(&mut self, key: &ObjectKey) -> bool {
        if self.tree_stale {
            return false;
        }
        let Some(object) = self.world.objects.get(key) else {
            return false;
        };
        let id = self.ids.of(key);
        let Some(path) = self.tree.patch_leaf(id, object) else {
            return false;
        };
        let was = self.last_status.insert(id, object.status);
        // A new failure is never hidden, as in a rebuild.
        if object.status == Status::Failed && was != Some(Status::Failed) {
            for depth in 1..path.len() {
                self.tree_state.open(path[..depth].to_vec());
            }
        }
        true
    }

    fn rebuild(&mut self) {
        self.tree = TreeModel::build(&self.world, &self.filter.text, &mut self.ids);
        let mut open = Vec::new();
        for node in &self.tree.nodes {
            let id = node.path.last().copied().unwrap_or_default();
            let was = self.last_status.insert(id, node.status);
            if !self.known.contains(&node.path) {
                self.known.insert(node.path.clone());
                open.push(node.path.clone());
            }
            // A new failure is never hidden: every ancestor opens.
            if node.status == Status::Failed && was != Some(Status::Failed) {
                for depth in 1..node.path.len() {
                    open.push(node.path[..depth].to_vec());
                }
            }
        }
        for path in open {
            self.tree_state.open(path);
        }
        self.fix_selection();
    }

    /// Keeps the selection on the same object when it moved, else on its nearest shown
    /// ancestor, else on the first row.
    fn fix_selection(&mut self) {
        let selected = self.tree_state.selected().to_vec();
        if self.is_shown(&selected) {
            return;
        }
        let mut candidate = selected
            .last()
            .and_then(|id| self.tree.node(*id))
            .map_or(selected, |node| node.path.clone());
        while !candidate.is_empty() && !self.is_shown(&candidate) {
            candidate.pop();
        }
        if candidate.is_empty() {
            candidate = self
                .tree
                .nodes
                .first()
                .map(|node| node.path.clone())
                .unwrap_or_default();
        }
        self.tree_state.select(candidate);
    }

    /// Whether `path` is a row on screen (scrolling aside): it is in the tree and every
    /// ancestor is open. Cheaper than flattening the tree.
    fn is_shown(&self, path: &[NodeId]) -> bool {
        let Some(&id) = path.last() else {
            return false;
        };
        let in_tree = self.tree.node(id).is_some_and(|node| node.path == path);
        let opened = self.tree_state.opened();
        in_tree && (1..path.len()).all(|depth| opened.contains(&path[..depth]))
    }

    /// The paths of the rows the tree shows (open parents only), top to bottom.
    pub fn visible(&self) -> Vec<Vec<NodeId>> {
        self.tree_state
            .flatten(&self.tree.items)
            .into_iter()
            .map(|row| row.identifier)
            .collect()
    }

    fn act(&mut self, action: Action) -> bool {
        match self.key_context() {
            KeyContext::Help => match action {
                Action::Help | Action::Back => {
                    self.help = false;
                    true
                }
                Action::Quit => self.quit(),
                _ => false,
            },
            KeyContext::Filter => self.act_filter(action),
            KeyContext::Tree => self.act_tree(action),
            KeyContext::Logs => self.act_logs(action),
            KeyContext::Events => self.act_events(action),
        }
    }

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
        match action {
            Action::FilterChar(c) => self.filter.text.push(c),
            Action::FilterBackspace => {
                self.filter.text.pop();
            }
            Action::FilterKeep => self.filter.editing = false,
            Action::Back => {
                self.filter = Filter::default();
            }
            Action::Quit => return self.quit(),
            _ => return false,
        }
        self.refilter();
        true
    }

    /// Rebuilds after the filter changed, opening the way to every match.
    fn refilter(&mut self) {
        self.rebuild();
        if !self.filter.text.is_empty() {
            for node in &self.tree.nodes {
                for depth in 1..node.path.len() {
                    self.tree_state.open(node.path[..depth].to_vec());
                }
            }
            self.fix_selection();
        }
    }

    fn act_tree(&mut self, action: Action) -> bool {
        match action {
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-(self.page() as isize)),
            Action::PageDown => self.move_selection(self.page() as isize),
            Action::Top => self.move_selection(isize::MIN),
            Action::Bottom => self.move_selection(isize::MAX),
            Action::Collapse => self.collapse(),
            Action::Expand => {
                let selected = self.tree_state.selected().to_vec();
                self.tree_state.open(selected)
            }
            Action::Toggle => self.tree_state.toggle_selected(),
            Action::Details => {
                self.details = !self.details;
                true
            }
            Action::NextFailure => self.next_failure(),
            Action::StartFilter => {
                self.filter.editing = true;
                true
            }
            Action::Logs => self.open_logs(),
            Action::Events => self.open_events(),
            Action::Help => {
                self.help = true;
                true
            }
            Action::Back => self.back_in_tree(),
            Action::Quit => self.quit(),
            _ => false,
        }
    }

    fn back_in_tree(&mut self) -> bool {
        if self.details {
            self.details = false;
            true
        } else if !self.filter.text.is_empty() {
            self.filter = Filter::default();
            self.refilter();
            true
        } else {
            false
        }
    }

    /// Closes the selected node, or, when it is closed already, selects its parent.
    fn collapse(&mut self) -> bool {
        let selected = self.tree_state.selected().to_vec();
        if self.has_children(&selected) && self.tree_state.close(&selected) {
            return true;
        }
        if selected.len() > 1 {
            return self
                .tree_state
                .select(selected[..selected.len() - 1].to_vec());
        }
        false
    }

    /// Whether the node at `path` shows any child (open or not).
    fn has_children(&self, path: &[NodeId]) -> bool {
        path.last()
            .and_then(|id| self.tree.position(*id))
            .and_then(|i| self.tree.nodes.get(i + 1))
            .is_some_and(|next| next.path.len() > path.len() && next.path.starts_with(path))
    }

    /// Moves the selection by `delta` visible rows, clamped to the first and last row.
    fn move_selection(&mut self, delta: isize) -> bool {
        let visible = self.visible();
        if visible.is_empty() {
            return false;
        }
        let current = visible
            .iter()
            .position(|path| path.as_slice() == self.tree_state.selected())
            .unwrap_or(0);
        let last = visible.len() - 1;
        let target = current.saturating_add_signed(delta).min(last);
        self.tree_state.select(visible[target].clone())
    }

    /// Selects the next failed object after the selection (wrapping), opening its path.
    fn next_failure(&mut self) -> bool {
        let start = self
            .tree_state
            .selected()
            .last()
            .and_then(|id| self.tree.position(*id))
            .map_or(0, |i| i + 1);
        let count = self.tree.nodes.len();
        let found = (0..count)
            .map(|offset| (start + offset) % count)
            .find(|&i| self.tree.nodes[i].status == Status::Failed);
        let Some(index) = found else {
            return false;
        };
        let path = self.tree.nodes[index].path.clone();
        for depth in 1..path.len() {
            self.tree_state.open(path[..depth].to_vec());
        }
        self.tree_state.select(path);
        true
    }

    /// The selected pod, or the first pod under the selected object.
    fn pod_for_logs(&self) -> Option<ObjectKey> {
        let selected = self.tree_state.selected();
        let start = self.tree.position(*selected.last()?)?;
        let root = &self.tree.nodes[start].path;
        self.tree.nodes[start..]
            .iter()
            .take_while(|node| node.path.starts_with(root))
            .find(|node| node.key.kind == "Pod")
            .map(|node| node.key.clone())
    }

    fn open_logs(&mut self) -> bool {
        let Some(pod) = self.pod_for_logs() else {
            return false;
        };
        let containers = self
            .world
            .objects
            .get(&pod)
            .map(|o| {
                // Regular containers first: they are what a person usually wants to read.
                let mut rows: Vec<_> = o.containers.iter().collect();
                rows.sort_by_key(|c| c.init);
                rows.into_iter().map(|c| c.name.clone()).collect()
            })
            .unwrap_or_default();
        let keep = self.logs.as_ref().is_some_and(|logs| logs.pod == pod);
        if !keep {
            self.logs = Some(LogView::new(pod, containers));
        }
        self.pane = Pane::Logs;
        true
    }

    fn open_events(&mut self) -> bool {
        let Some(key) = self.selected_key().cloned() else {
            return false;
        };
        self.events = Some(EventsView { key, top: 0 });
        self.pane = Pane::Events;
        true
    }

    fn act_logs(&mut self, action: Action) -> bool {
        let page = self.page();
        let Some(logs) = self.logs.as_mut() else {
            self.pane = Pane::Tree;
            return true;
        };
        let last = logs.lines.len().saturating_sub(page);
        match action {
            Action::Follow => {
                logs.follow = !logs.follow;
                logs.top = last;
            }
            Action::NextContainer if logs.containers.len() > 1 => {
                logs.container = (logs.container + 1) % logs.containers.len();
                logs.restart();
            }
            Action::Previous => {
                logs.previous = !logs.previous;
                logs.restart();
            }
            Action::Wrap => logs.wrap = !logs.wrap,
            Action::Top | Action::PageUp | Action::Up => {
                let from = if logs.follow { last } else { logs.top };
                logs.follow = false;
                logs.top = match action {
                    Action::Top => 0,
                    Action::PageUp => from.saturating_sub(page),
                    _ => from.saturating_sub(1),
                };
            }
            Action::Bottom => {
                logs.top = last;
                logs.follow = true;
            }
            Action::PageDown | Action::Down => {
                let step = if action == Action::Down { 1 } else { page };
                logs.top = (logs.top + step).min(last);
            }
            Action::Back => self.pane = Pane::Tree,
            Action::Help => self.help = true,
            Action::Quit => return self.quit(),
            _ => return false,
        }
        true
    }

    fn act_events(&mut self, action: Action) -> bool {
        let page = self.page();
        let total = self
            .events
            .as_ref()
            .and_then(|view| self.world.events.get(&view.key))
            .map_or(0, Vec::len);
        let last = total.saturating_sub(page);
        let Some(view) = self.events.as_mut() else {
            self.pane = Pane::Tree;
            return true;
        };
        match action {
            Action::Top => view.top = 0,
            Action::Bottom => view.top = last,
            Action::PageUp => view.top = view.top.saturating_sub(page),
            Action::PageDown => view.top = (view.top + page).min(last),
            Action::Up => view.top = view.top.saturating_sub(1),
            Action::Down => view.top = (view.top + 1).min(last),
            Action::Back => self.pane = Pane::Tree,
            Action::Help => self.help = true,
            Action::Quit => return self.quit(),
            _ => return false,
        }
        true
    }

    /// A stream that ended (the container was not running yet, or exited) starts again.
    fn reopen_ended_log(&mut self) {
        if let Some(logs) = self.logs.as_mut().filter(|logs| logs.note.is_some()) {
            logs.restart();
            logs.attempt += 1;
        }
    }

    fn push_log(&mut self, line: String) -> bool {
        let Some(logs) = self.logs.as_mut() else {
            return false;
        };
        if logs.lines.len() == LOG_CAPACITY {
            logs.lines.pop_front();
            logs.top = logs.top.saturating_sub(1);
        }
        logs.lines.push_back(line);
        self.pane == Pane::Logs
    }

    /// The elapsed time at which the screen next changes by itself: a countdown's or the
    /// elapsed clock's second turns, or the tracker must decide. `None` after the verdict.
    pub fn next_wake(&self) -> Option<Duration> {
        if self.tracker.verdict().is_some() {
            return None;
        }
        let now = self.now;
        let mut wake = now + until_second_turns(now);
        if let Some(left) = self.tracker.timeout_remaining(now) {
            wake = wake.min(now + until_countdown_turns(left));
        }
        if let Some((_, left)) = self.tracker.window_remaining(now) {
            wake = wake.min(now + until_countdown_turns(left));
        }
        if let Some(deadline) = self.tracker.next_deadline() {
            wake = wake.min(deadline.max(now));
        }
        Some(wake)
    }
}

/// Time until a clock counting up, shown in whole seconds, shows the next second.
fn until_second_turns(elapsed: Duration) -> Duration {
    Duration::from_nanos(1_000_000_000 - u64::from(elapsed.subsec_nanos()))
}

/// Time until a countdown, shown in whole seconds rounded up, shows the next lower second.
fn until_countdown_turns(left: Duration) -> Duration {
    match left.subsec_nanos() {
        0 => Duration::from_secs(1),
        nanos => Duration::from_nanos(u64::from(nanos)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::fixtures::{self, key};
    use crate::ui::keys;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    /// Types `keys` as a person would: each key read in the context of the moment.
    fn type_keys(app: &mut App, codes: &[KeyCode]) {
        for code in codes {
            let event = KeyEvent::new(*code, KeyModifiers::NONE);
            if let Some(action) = keys::action(app.key_context(), event) {
                app.update(Message::Key(action), app.now);
            }
        }
    }

    /// The tree as drawn and opened, to compare an in-place row update with a rebuild.
    fn shape(app: &App) -> (Vec<crate::ui::tree::Node>, String, Vec<Vec<NodeId>>) {
        let mut opened: Vec<_> = app.tree_state.opened().iter().cloned().collect();
        opened.sort();
        (
            app.tree.nodes.clone(),
            format!("{:?}", app.tree.items),
            opened,
        )
    }

    #[test]
    fn a_pods_change_in_place_draws_what_a_rebuild_draws() {
        let mut app = fixtures::app();
        for (status, message) in [(Status::Failed, "OOMKilled"), (Status::Success, "Ready")] {
            let mut pod = app
                .world
                .objects
                .values()
                .find(|o| o.key.kind == "Pod" && o.counted)
                .unwrap()
                .clone();
            pod.status = status;
            pod.message = message.into();
            assert!(app.update(Message::Diffs(vec![Diff::Upsert(Box::new(pod))]), app.now));
            let patched = shape(&app);
            assert!(patched.1.contains(message));
            app.tree_stale = true;
            app.sync();
            assert_eq!(shape(&app), patched);
        }
    }

    fn selected_name(app: &App) -> String {
        app.selected_key()
            .map(|k| k.name.clone())
            .unwrap_or_default()
    }

    fn visible_names(app: &App) -> Vec<String> {
        app.visible()
            .iter()
            .filter_map(|path| path.last())
            .filter_map(|id| app.tree.node(*id))
            .map(|node| node.key.name.clone())
            .collect()
    }

    const FAILING: &str = "nginx-7c5ddbdf54-x2x9k";

    #[test]
    fn arrows_and_vi_keys_move_the_selection_within_the_rows() {
        let mut app = fixtures::app();
        assert_eq!(
            selected_name(&app),
            "octopus",
            "the first row starts selected"
        );
        type_keys(&mut app, &[KeyCode::Up]);
        assert_eq!(selected_name(&app), "octopus", "no row above the first");
        type_keys(
            &mut app,
            &[KeyCode::Down, KeyCode::Char('j'), KeyCode::Char('j')],
        );
        assert_eq!(selected_name(&app), "nginx-7c5ddbdf54-a1b2c");
        type_keys(&mut app, &[KeyCode::Char('k')]);
        assert_eq!(selected_name(&app), "nginx-7c5ddbdf54");
        type_keys(&mut app, &[KeyCode::End]);
        assert_eq!(selected_name(&app), "migrate-5kq7w");
        type_keys(&mut app, &[KeyCode::Home]);
        assert_eq!(selected_name(&app), "octopus");
        app.update(
            Message::Resize {
                width: 80,
                height: 8,
            },
            app.now,
        );
        type_keys(&mut app, &[KeyCode::PageDown]);
        assert_eq!(
            visible_names(&app)[4],
            selected_name(&app),
            "a page is 4 rows here"
        );
    }

    #[test]
    fn left_collapses_then_climbs_right_and_space_expand() {
        let mut app = fixtures::app();
        assert_eq!(visible_names(&app).len(), 11, "everything starts open");
        type_keys(&mut app, &[KeyCode::Down, KeyCode::Left]);
        assert_eq!(selected_name(&app), "nginx");
        assert_eq!(
            visible_names(&app).len(),
            5,
            "the Deployment's 6 rows are hidden"
        );
        type_keys(&mut app, &[KeyCode::Right]);
        assert_eq!(visible_names(&app).len(), 11);
        type_keys(&mut app, &[KeyCode::Char(' ')]);
        assert_eq!(visible_names(&app).len(), 5);
        type_keys(
            &mut app,
            &[
                KeyCode::Char(' '),
                KeyCode::Down,
                KeyCode::Down,
                KeyCode::Left,
            ],
        );
        assert_eq!(
            selected_name(&app),
            "nginx-7c5ddbdf54",
            "Left on a leaf selects its parent"
        );
    }

    #[test]
    fn selection_and_open_nodes_survive_updates() {
        let mut app = fixtures::app();
        type_keys(&mut app, &[KeyCode::End, KeyCode::Up, KeyCode::Left]);
        assert_eq!(selected_name(&app), "migrate");
        type_keys(&mut app, &[KeyCode::Char('f')]);
        assert_eq!(selected_name(&app), FAILING);
        let rows = visible_names(&app);

        // Another object changes, a new pod appears under the collapsed Job.
        let mut svc = fixtures::object("Service", "nginx", Status::Success, None);
        svc.message = "LoadBalancer 203.0.113.7".into();
        app.update(Message::Diffs(vec![Diff::Upsert(Box::new(svc))]), app.now);
        let job = key("Job", "migrate");
        let pod = fixtures::pod("migrate-second", &job, Status::InProgress);
        app.update(Message::Diffs(vec![Diff::Upsert(Box::new(pod))]), app.now);
        assert_eq!(selected_name(&app), FAILING);
        assert_eq!(
            visible_names(&app),
            rows,
            "the collapsed Job stays collapsed"
        );

        // The selected pod goes away: the selection falls back to its parent.
        app.update(
            Message::Diffs(vec![Diff::Remove(key("Pod", FAILING))]),
            app.now,
        );
        assert_eq!(selected_name(&app), "nginx-7c5ddbdf54");
    }

    #[test]
    fn a_new_failure_opens_the_path_to_it() {
        let mut app = fixtures::app();
        type_keys(&mut app, &[KeyCode::Down, KeyCode::Left]);
        assert!(!visible_names(&app).contains(&"nginx-7c5ddbdf54-a1b2c".to_owned()));
        let rs = key("ReplicaSet", "nginx-7c5ddbdf54");
        let crashed = fixtures::pod("nginx-7c5ddbdf54-a1b2c", &rs, Status::Failed);
        app.update(
            Message::Diffs(vec![Diff::Upsert(Box::new(crashed))]),
            app.now,
        );
        assert!(visible_names(&app).contains(&"nginx-7c5ddbdf54-a1b2c".to_owned()));
        assert_eq!(selected_name(&app), "nginx", "the selection does not jump");
    }

    #[test]
    fn f_cycles_through_failures() {
        let mut app = fixtures::app();
        let rs = key("ReplicaSet", "nginx-7c5ddbdf54");
        let crashed = fixtures::pod("nginx-7c5ddbdf54-a1b2c", &rs, Status::Failed);
        app.update(
            Message::Diffs(vec![Diff::Upsert(Box::new(crashed))]),
            app.now,
        );
        type_keys(&mut app, &[KeyCode::Char('f')]);
        assert_eq!(selected_name(&app), "nginx-7c5ddbdf54-a1b2c");
        type_keys(&mut app, &[KeyCode::Char('f')]);
        assert_eq!(selected_name(&app), FAILING);
        type_keys(&mut app, &[KeyCode::Char('f')]);
        assert_eq!(
            selected_name(&app),
            "nginx-7c5ddbdf54-a1b2c",
            "wraps around"
        );
    }

    #[test]
    fn f_without_failures_changes_nothing() {
        let mut app = fixtures::app();
        app.update(
            Message::Diffs(vec![Diff::Remove(key("Pod", FAILING))]),
            app.now,
        );
        let before = app.tree_state.selected().to_vec();
        assert!(!app.update(Message::Key(Action::NextFailure), app.now));
        assert_eq!(app.tree_state.selected(), before);
    }

    #[test]
    fn filter_types_keeps_and_clears() {
        let mut app = fixtures::app();
        type_keys(&mut app, &[KeyCode::Char('/')]);
        assert_eq!(app.key_context(), KeyContext::Filter);
        type_keys(&mut app, &[KeyCode::Char('q'), KeyCode::Backspace]);
        assert_eq!(app.exit_code(), None, "q is text while filtering");
        for c in "X2X9".chars() {
            type_keys(&mut app, &[KeyCode::Char(c)]);
        }
        assert_eq!(visible_names(&app), ["nginx", "nginx-7c5ddbdf54", FAILING]);
        type_keys(&mut app, &[KeyCode::Enter]);
        assert_eq!(app.key_context(), KeyContext::Tree);
        assert_eq!(app.filter.text, "X2X9", "Enter keeps the filter");
        type_keys(
            &mut app,
            &[KeyCode::Char('/'), KeyCode::Char('Z'), KeyCode::Esc],
        );
        assert_eq!(app.filter, Filter::default());
        assert_eq!(visible_names(&app).len(), 11);

        type_keys(&mut app, &[KeyCode::Char('/')]);
        for c in "terminating".chars() {
            type_keys(&mut app, &[KeyCode::Char(c)]);
        }
        assert_eq!(
            visible_names(&app),
            ["nginx", "nginx-6b9f8c7d4", "nginx-6b9f8c7d4-q8r2t"],
            "status words match too"
        );
        type_keys(&mut app, &[KeyCode::Enter, KeyCode::Esc]);
        assert!(
            app.filter.text.is_empty(),
            "Esc in the tree clears a kept filter"
        );
    }

    #[test]
    fn enter_toggles_details_and_esc_closes_them() {
        let mut app = fixtures::app();
        type_keys(&mut app, &[KeyCode::Enter]);
        assert!(app.details);
        type_keys(&mut app, &[KeyCode::Enter]);
        assert!(!app.details);
        type_keys(&mut app, &[KeyCode::Enter, KeyCode::Esc]);
        assert!(!app.details);
    }

    #[test]
    fn logs_pane_picks_a_pod_and_asks_for_its_stream() {
        let mut app = fixtures::app();
        assert_eq!(app.log_request(), None);
        type_keys(&mut app, &[KeyCode::Down, KeyCode::Char('l')]);
        assert_eq!(app.pane, Pane::Logs);
        let request = app.log_request().unwrap();
        assert_eq!(
            request.pod, "nginx-7c5ddbdf54-a1b2c",
            "first pod under the Deployment"
        );
        assert_eq!(request.namespace, "octopus");

        type_keys(
            &mut app,
            &[KeyCode::Esc, KeyCode::Char('f'), KeyCode::Char('l')],
        );
        let request = app.log_request().unwrap();
        assert_eq!(request.pod, FAILING);
        assert_eq!(
            request.container.as_deref(),
            Some("nginx"),
            "regular containers first"
        );
        app.update(Message::LogLine("one".into()), app.now);
        type_keys(&mut app, &[KeyCode::Char('c')]);
        let request = app.log_request().unwrap();
        assert_eq!(request.container.as_deref(), Some("init-config"));
        assert!(
            app.logs.as_ref().unwrap().lines.is_empty(),
            "a new stream starts empty"
        );
        type_keys(&mut app, &[KeyCode::Char('p')]);
        assert!(app.log_request().unwrap().previous);
        type_keys(&mut app, &[KeyCode::Char('w'), KeyCode::Char('f')]);
        let logs = app.logs.as_ref().unwrap();
        assert!(logs.wrap && !logs.follow);
        type_keys(&mut app, &[KeyCode::Esc]);
        assert_eq!(app.pane, Pane::Tree);
        assert_eq!(
            app.log_request(),
            None,
            "leaving the pane closes the stream"
        );
    }

    #[test]
    fn an_ended_log_stream_reopens_when_its_pod_changes() {
        let mut app = fixtures::app();
        type_keys(&mut app, &[KeyCode::Char('f'), KeyCode::Char('l')]);
        let first = app.log_request().unwrap();
        let rs = key("ReplicaSet", "nginx-7c5ddbdf54");
        let mut pod = fixtures::failing_pod(&rs);
        pod.message = "still pulling".into();
        app.update(
            Message::Diffs(vec![Diff::Upsert(Box::new(pod.clone()))]),
            app.now,
        );
        assert_eq!(
            app.log_request(),
            Some(first.clone()),
            "a live stream is left alone"
        );

        app.update(Message::LogEnded("waiting to start".into()), app.now);
        pod.message = "Running".into();
        app.update(Message::Diffs(vec![Diff::Upsert(Box::new(pod))]), app.now);
        let second = app.log_request().unwrap();
        assert_eq!(second.attempt, first.attempt + 1);
        assert_eq!(app.logs.as_ref().unwrap().note, None);
    }

    #[test]
    fn logs_scroll_keys_stop_and_resume_following() {
        let mut app = fixtures::app();
        app.update(
            Message::Resize {
                width: 80,
                height: 14,
            },
            app.now,
        );
        type_keys(&mut app, &[KeyCode::Char('f'), KeyCode::Char('l')]);
        for i in 0..100 {
            app.update(Message::LogLine(format!("line {i}")), app.now);
        }
        type_keys(&mut app, &[KeyCode::PageUp]);
        let logs = app.logs.as_ref().unwrap();
        assert!(!logs.follow);
        assert_eq!(logs.top, 80, "one page (10 rows) above the last page");
        type_keys(&mut app, &[KeyCode::Char('g')]);
        assert_eq!(app.logs.as_ref().unwrap().top, 0);
        type_keys(&mut app, &[KeyCode::PageDown]);
        assert_eq!(app.logs.as_ref().unwrap().top, 10);
        type_keys(&mut app, &[KeyCode::Char('G')]);
        let logs = app.logs.as_ref().unwrap();
        assert!(logs.follow);
        assert_eq!(logs.top, 90);
    }

    #[test]
    fn events_pane_shows_the_selected_object_and_scrolls() {
        let mut app = fixtures::app();
        app.update(
            Message::Resize {
                width: 80,
                height: 6,
            },
            app.now,
        );
        type_keys(&mut app, &[KeyCode::Char('f'), KeyCode::Char('e')]);
        assert_eq!(app.pane, Pane::Events);
        assert_eq!(app.events.as_ref().unwrap().key, key("Pod", FAILING));
        type_keys(&mut app, &[KeyCode::Char('G')]);
        assert_eq!(
            app.events.as_ref().unwrap().top,
            2,
            "4 events, 2 rows per page"
        );
        type_keys(&mut app, &[KeyCode::Char('g')]);
        assert_eq!(app.events.as_ref().unwrap().top, 0);
        type_keys(&mut app, &[KeyCode::Esc]);
        assert_eq!(app.pane, Pane::Tree);
    }

    #[test]
    fn help_opens_anywhere_and_closes_with_esc_or_question_mark() {
        let mut app = fixtures::app();
        type_keys(&mut app, &[KeyCode::Char('?')]);
        assert_eq!(app.key_context(), KeyContext::Help);
        type_keys(&mut app, &[KeyCode::Char('j')]);
        assert_eq!(selected_name(&app), "octopus", "help swallows other keys");
        type_keys(
            &mut app,
            &[
                KeyCode::Esc,
                KeyCode::Char('f'),
                KeyCode::Char('l'),
                KeyCode::Char('?'),
            ],
        );
        assert_eq!(app.key_context(), KeyContext::Help);
        type_keys(&mut app, &[KeyCode::Char('?')]);
        assert_eq!(app.key_context(), KeyContext::Logs);
    }

    #[test]
    fn quit_before_the_verdict_is_interrupted() {
        let mut app = fixtures::app();
        type_keys(&mut app, &[KeyCode::Char('q')]);
        assert_eq!(app.exit_code(), Some(ExitCode::Interrupted));
        assert_eq!(app.verdict(), Some(Verdict::Interrupted));
    }

    #[test]
    fn ctrl_c_after_the_verdict_exits_with_its_code() {
        let mut app = fixtures::app();
        app.update(Message::Tick, Duration::from_secs(51));
        assert_eq!(app.verdict(), Some(Verdict::Failed));
        assert_eq!(app.exit_code(), None, "the view stays after the verdict");
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        let action = keys::action(app.key_context(), ctrl_c).unwrap();
        app.update(Message::Key(action), app.now);
        assert_eq!(app.exit_code(), Some(ExitCode::Failed));
    }

    #[test]
    fn signals_exit_with_their_code() {
        let mut app = fixtures::app();
        app.update(Message::Signal(ExitCode::Terminated), app.now);
        assert_eq!(app.exit_code(), Some(ExitCode::Terminated));
        assert_eq!(app.verdict(), Some(Verdict::Interrupted));
    }

    #[test]
    fn the_next_wake_is_the_next_visible_second_or_deadline() {
        let mut app = fixtures::app();
        // Window of 10 s opened at 40 s; at 42 s every clock turns at 43 s.
        assert_eq!(app.next_wake(), Some(Duration::from_secs(43)));
        // A window opened at a fractional time turns its countdown in between.
        let mut app2 = App::new(
            World::new(vec![key("Service", "s")]),
            Tracker::new(Some(Duration::from_mins(5)), Duration::from_secs(10)),
            Header::default(),
        );
        let svc = fixtures::object("Service", "s", Status::Success, None);
        app2.update(
            Message::Diffs(vec![Diff::Upsert(Box::new(svc))]),
            Duration::from_millis(40_300),
        );
        app2.update(Message::Tick, Duration::from_secs(42));
        assert_eq!(app2.next_wake(), Some(Duration::from_millis(42_300)));
        app2.update(Message::Tick, Duration::from_millis(50_300));
        assert_eq!(app2.verdict(), Some(Verdict::Success));
        assert_eq!(app2.next_wake(), None, "nothing moves after the verdict");
        app.update(Message::Tick, Duration::from_mins(1));
        assert_eq!(app.next_wake(), None);
    }
}
