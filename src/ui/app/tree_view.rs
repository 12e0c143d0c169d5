//! The tree pane's state: the rows built from the world, which nodes are open, and the
//! selection, kept on the same objects as the world changes.
//!
//! Owns [`TreeView`]: the [`TreeModel`], the widget's [`TreeState`] (open paths and the
//! selection) and the bookkeeping behind them (stable ids, paths seen before, last statuses).
//! Only the methods here write it, and [`App::update`](super::App::update) is their only
//! caller; the drawing code reads `model` and lets the widget scroll `state`. It must not
//! read the filter or the world on its own: both are passed to the methods that need them.

use super::Action;
use crate::model::{ObjectKey, TrackedObject, World};
use crate::status::Status;
use crate::ui::tree::{Ids, NodeId, Role, TreeModel};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use tui_tree_widget::TreeState;

#[derive(Debug)]
pub struct TreeView {
    pub model: TreeModel,
    pub state: TreeState<NodeId>,
    ids: Ids,
    /// The world changed in a way a patched row cannot show: rebuild at the next sync.
    stale: bool,
    /// Paths that were ever shown: a path seen for the first time opens.
    known: FxHashSet<Vec<NodeId>>,
    /// The status each node had at the last rebuild, to spot new failures.
    last_status: FxHashMap<NodeId, Status>,
    /// New pods of folded workloads, with their holder's id, added at the next sync: a
    /// burst of them costs one pass over the holder's rows rather than a rebuild each.
    pending: FxHashMap<ObjectKey, NodeId>,
    /// Rows of removed pods of folded workloads, taken out at the next sync (or before a
    /// row moves): a rolling update's deletions cost one pass over each holder's rows per
    /// batch rather than a rebuild each.
    removed: FxHashSet<NodeId>,
}

impl Default for TreeView {
    /// An empty tree, built at the first sync.
    fn default() -> Self {
        TreeView {
            model: TreeModel::default(),
            state: TreeState::default(),
            ids: Ids::default(),
            stale: true,
            known: FxHashSet::default(),
            last_status: FxHashMap::default(),
            pending: FxHashMap::default(),
            removed: FxHashSet::default(),
        }
    }
}

/// Whether an object that was `old` and is now `new` keeps its row where it is: same owner,
/// and the same counted and applied flags (which decide where and whether it is listed).
pub(super) fn keeps_its_row(old: &TrackedObject, new: &TrackedObject) -> bool {
    old.owner == new.owner && old.counted == new.counted && old.applied == new.applied
}

/// Opens every ancestor of `path`, so that its row is shown.
fn open_ancestors(state: &mut TreeState<NodeId>, path: &[NodeId]) {
    for depth in 1..path.len() {
        state.open(path[..depth].to_vec());
    }
}

impl TreeView {
    /// Selects the row drawn at `position` on screen; false when there is none.
    pub(super) fn click(&mut self, position: ratatui::layout::Position) -> bool {
        match self.state.rendered_at(position) {
            Some(path) => {
                let path = path.to_vec();
                self.state.select(path)
            }
            None => false,
        }
    }

    /// Scrolls the rows by `lines`, down or up, leaving the selection where it is.
    pub(super) fn scroll(&mut self, down: bool, lines: usize) -> bool {
        if down {
            self.state.scroll_down(lines)
        } else {
            self.state.scroll_up(lines)
        }
    }

    pub(super) fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Rebuilds from `world` with `filter` if a change asked for it, or takes the removed
    /// pods' rows out and adds the new pods' rows in place. Returns whether it rebuilt.
    pub(super) fn sync(&mut self, world: &World, filter: &str) -> bool {
        self.remove_pending(world);
        let pending = std::mem::take(&mut self.pending);
        if !self.stale && !pending.is_empty() && !self.insert_pending(&pending, world) {
            self.stale = true;
        }
        let rebuild = std::mem::take(&mut self.stale);
        if rebuild {
            self.rebuild(world, filter);
        }
        rebuild
    }

    /// Rebuilds after the filter changed to `filter`, opening the way to every match.
    pub(super) fn refilter(&mut self, world: &World, filter: &str) {
        self.rebuild(world, filter);
        if !filter.is_empty() {
            for node in &self.model.nodes {
                open_ancestors(&mut self.state, &node.path);
            }
            self.fix_selection();
        }
    }

    /// Redraws the row of `object` in place instead of rebuilding the whole tree (a pod's
    /// or a `ReplicaSet`'s change at 5 000 rows); `world` holds the rows that follow it.
    /// Returns false when it cannot, and the tree must be rebuilt.
    pub(super) fn patch_row(&mut self, object: &TrackedObject, world: &World) -> bool {
        if self.stale {
            return false;
        }
        // Not shown yet: it is added as the world has it at the next sync.
        if self.pending.contains_key(&object.key) {
            return true;
        }
        let id = self.ids.of(&object.key);
        let moves = self.model.moves(id, object);
        if moves {
            // Its new place is found among rows that are all in the world.
            self.remove_pending(world);
        }
        let path = if moves && !self.stale {
            self.model.move_pod(id, object, world)
        } else {
            self.model.patch_row(id, object, world)
        };
        let Some(path) = path else {
            return false;
        };
        let was = self.last_status.insert(id, object.status);
        // As a rebuild does: a path seen for the first time opens, and a new failure is
        // never hidden.
        if moves && self.known.insert(path.clone()) {
            self.state.open(path.clone());
        }
        if object.status == Status::Failed && was != Some(Status::Failed) {
            open_ancestors(&mut self.state, &path);
        }
        if moves {
            self.fix_selection();
        }
        true
    }

    /// Takes the removed object `key` out: a pod of a folded workload leaves its rows at the
    /// next sync. Returns false when it cannot, and the tree must be rebuilt.
    pub(super) fn remove_row(&mut self, key: &ObjectKey) -> bool {
        if self.stale || key.kind != "Pod" {
            return false;
        }
        // Never shown: nothing to take out.
        if self.pending.remove(key).is_some() {
            return true;
        }
        let id = self.ids.of(key);
        if self.model.node(id).is_none() {
            return false;
        }
        self.removed.insert(id);
        true
    }

    /// Takes the rows of the pods removed since the last sync out; marks the tree stale when
    /// they must go by a rebuild instead.
    fn remove_pending(&mut self, world: &World) {
        let removed = std::mem::take(&mut self.removed);
        if self.stale || removed.is_empty() {
            return;
        }
        if self.model.remove_pods(&removed, world).is_none() {
            self.stale = true;
            return;
        }
        // As a rebuild does: a selected row that went selects its nearest shown ancestor.
        self.fix_selection();
    }

    /// Takes the new object `object` in: a pod of a folded workload joins the rows its
    /// holder lists at the next sync. Returns false when it cannot, and the tree must be
    /// rebuilt. Only without a filter, which could hide the pod.
    pub(super) fn add_row(&mut self, object: &TrackedObject) -> bool {
        if self.stale || object.key.kind != "Pod" || object.status == Status::Failed {
            return false;
        }
        let holder = object
            .owner
            .as_ref()
            .and_then(|owner| self.ids.holder_of(owner))
            .filter(|holder| self.model.is_holder(*holder));
        let Some(holder) = holder else {
            return false;
        };
        self.pending.insert(object.key.clone(), holder);
        true
    }

    /// Adds the rows of `pending` (pod, holder) as they are in `world` now; false when the
    /// tree must be rebuilt instead (one failed or went away meanwhile).
    fn insert_pending(&mut self, pending: &FxHashMap<ObjectKey, NodeId>, world: &World) -> bool {
        let mut by_holder: BTreeMap<NodeId, Vec<&TrackedObject>> = BTreeMap::new();
        for (key, holder) in pending {
            let Some(object) = world.object(key) else {
                return false;
            };
            by_holder.entry(*holder).or_default().push(object);
        }
        for (holder, pods) in by_holder {
            let Some(paths) = self.model.insert_pods(holder, &pods, world, &mut self.ids) else {
                return false;
            };
            for path in paths {
                let id = path.last().copied().unwrap_or_default();
                if let Some(node) = self.model.node(id) {
                    self.last_status.insert(id, node.status);
                }
                // As a rebuild does: a path seen for the first time opens.
                if self.known.insert(path.clone()) {
                    self.state.open(path);
                }
            }
        }
        true
    }

    fn rebuild(&mut self, world: &World, filter: &str) {
        self.model = TreeModel::build(world, filter, &mut self.ids);
        for node in &self.model.nodes {
            let id = node.path.last().copied().unwrap_or_default();
            let was = self.last_status.insert(id, node.status);
            // A path seen for the first time opens, but a folded workload's pods stay in
            // their row until asked for.
            if self.known.insert(node.path.clone()) && node.role != Role::Holder {
                self.state.open(node.path.clone());
            }
            // A new failure is never hidden: every ancestor opens.
            if node.status == Status::Failed && was != Some(Status::Failed) {
                open_ancestors(&mut self.state, &node.path);
            }
        }
        self.fix_selection();
    }

    /// Keeps the selection on the same object when it moved, else on its nearest shown
    /// ancestor, else on the first row.
    fn fix_selection(&mut self) {
        let selected = self.state.selected().to_vec();
        if self.is_shown(&selected) {
            return;
        }
        let mut candidate = selected
            .last()
            .and_then(|id| self.model.node(*id))
            .map_or(selected, |node| node.path.clone());
        while !candidate.is_empty() && !self.is_shown(&candidate) {
            candidate.pop();
        }
        if candidate.is_empty() {
            candidate = self
                .model
                .nodes
                .first()
                .map(|node| node.path.clone())
                .unwrap_or_default();
        }
        self.state.select(candidate);
    }

    /// Whether `path` is a row on screen (scrolling aside): it is in the tree and every
    /// ancestor is open. Cheaper than flattening the tree.
    fn is_shown(&self, path: &[NodeId]) -> bool {
        let Some(&id) = path.last() else {
            return false;
        };
        let in_tree = self.model.node(id).is_some_and(|node| node.path == path);
        let opened = self.state.opened();
        in_tree && (1..path.len()).all(|depth| opened.contains(&path[..depth]))
    }

    /// The object under the selection.
    pub fn selected_key(&self) -> Option<&ObjectKey> {
        let id = self.state.selected().last()?;
        self.model.node(*id).map(|node| &node.key)
    }

    /// The paths of the rows the tree shows (open parents only), top to bottom.
    pub fn visible(&self) -> Vec<Vec<NodeId>> {
        self.state
            .flatten(&self.model.items)
            .into_iter()
            .map(|row| row.identifier)
            .collect()
    }

    /// Applies a key that moves the selection or folds, with `page` rows on screen.
    /// Returns whether anything changed; false for any other key.
    pub(super) fn act(&mut self, action: Action, page: usize) -> bool {
        let page = page as isize;
        match action {
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-page),
            Action::PageDown => self.move_selection(page),
            Action::Top => self.move_selection(isize::MIN),
            Action::Bottom => self.move_selection(isize::MAX),
            Action::Collapse => self.collapse(),
            Action::Expand => {
                let selected = self.state.selected().to_vec();
                self.state.open(selected)
            }
            Action::Toggle => self.state.toggle_selected(),
            Action::NextFailure => self.next_failure(),
            _ => false,
        }
    }

    /// Closes the selected node, or, when it is closed already, selects its parent.
    fn collapse(&mut self) -> bool {
        let selected = self.state.selected().to_vec();
        if self.has_children(&selected) && self.state.close(&selected) {
            return true;
        }
        if selected.len() > 1 {
            return self.state.select(selected[..selected.len() - 1].to_vec());
        }
        false
    }

    /// Whether the node at `path` shows any child (open or not).
    fn has_children(&self, path: &[NodeId]) -> bool {
        path.last()
            .and_then(|id| self.model.position(*id))
            .and_then(|i| self.model.nodes.get(i + 1))
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
            .position(|path| path.as_slice() == self.state.selected())
            .unwrap_or(0);
        let last = visible.len() - 1;
        let target = current.saturating_add_signed(delta).min(last);
        self.state.select(visible[target].clone())
    }

    /// Selects the next failed object after the selection (wrapping), opening its path.
    fn next_failure(&mut self) -> bool {
        let start = self
            .state
            .selected()
            .last()
            .and_then(|id| self.model.position(*id))
            .map_or(0, |i| i + 1);
        let count = self.model.nodes.len();
        let found = (0..count)
            .map(|offset| (start + offset) % count)
            .find(|&i| self.model.nodes[i].status == Status::Failed);
        let Some(index) = found else {
            return false;
        };
        let path = self.model.nodes[index].path.clone();
        open_ancestors(&mut self.state, &path);
        self.state.select(path);
        true
    }

    /// The selected pod, or the first pod under the selected object.
    pub(super) fn pod_under_selection(&self) -> Option<ObjectKey> {
        self.pods_under_selection().into_iter().next()
    }

    /// The selected pod, or every pod under the selected object, in tree order, each once.
    pub(super) fn pods_under_selection(&self) -> Vec<ObjectKey> {
        let Some(start) = self
            .state
            .selected()
            .last()
            .and_then(|id| self.model.position(*id))
        else {
            return Vec::new();
        };
        let root = &self.model.nodes[start].path;
        let mut pods: Vec<ObjectKey> = Vec::new();
        for node in self.model.nodes[start..]
            .iter()
            .take_while(|node| node.path.starts_with(root))
        {
            if node.key.kind == "Pod" && !pods.contains(&node.key) {
                pods.push(node.key.clone());
            }
        }
        pods
    }
}
