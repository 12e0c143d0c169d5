//! The tree of tracked objects as the view shows it: built from a [`World`], then kept up
//! to date in place where a change moves no row (a row redrawn) or moves, adds or removes
//! pods of a folded workload (rows put where a rebuild would put them); any other change
//! rebuilds it.
//!
//! Owns the shape (roots in input order, children under their owner, filtering, the pods of
//! a big workload folded as [`fold`](super::fold) words them), what a row says (the
//! namespace when the objects span several) and the stable identifiers that keep the
//! selection and the open nodes across rebuilds. It must hold nothing a rebuild would not
//! give (a property test holds the two equal), nor know about keys or the terminal.

use crate::model::{ObjectKey, TrackedObject, World};
use crate::status::Status;
use crate::ui::fold::{self, Revisions, Tally};
use crate::ui::render::status_look;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use tui_tree_widget::TreeItem;

/// Where [`TreeModel`]'s index has a node that is not shown.
const NOT_SHOWN: usize = usize::MAX;

/// A node's identifier, the same for an object across rebuilds (see [`Ids`]). A number
/// rather than the key itself: the tree widget clones and hashes paths of them every frame.
pub type NodeId = u64;

/// Hands out one [`NodeId`] per object, and two per folded workload (its summary row and
/// the row holding its pods), for the life of the view.
#[derive(Debug, Default)]
pub struct Ids {
    by_key: FxHashMap<ObjectKey, NodeId>,
    folds: FxHashMap<ObjectKey, NodeId>,
    next: NodeId,
}

impl Ids {
    pub fn of(&mut self, key: &ObjectKey) -> NodeId {
        if let Some(&id) = self.by_key.get(key) {
            return id;
        }
        let id = self.fresh(1);
        self.by_key.insert(key.clone(), id);
        id
    }

    /// The summary row's and the holder row's ids of the workload `owner`, folded.
    fn fold_of(&mut self, owner: &ObjectKey) -> (NodeId, NodeId) {
        let first = if let Some(&id) = self.folds.get(owner) {
            id
        } else {
            let id = self.fresh(2);
            self.folds.insert(owner.clone(), id);
            id
        };
        (first, first + 1)
    }

    /// The id of the row holding the pods of `owner`, once it was ever folded.
    pub fn holder_of(&self, owner: &ObjectKey) -> Option<NodeId> {
        self.folds.get(owner).map(|first| first + 1)
    }

    fn fresh(&mut self, count: NodeId) -> NodeId {
        let id = self.next;
        self.next += count;
        id
    }
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Object,
    /// The summary of a folded workload's pods (its key is the workload's).
    Summary,
    /// The row holding a folded workload's pods (its key is the workload's); it opens only
    /// when asked to.
    Holder,
}

/// One shown node, in display order (depth first), whether or not its parent is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Identifiers from the root down to this node, as the tree state addresses it.
    pub path: Vec<NodeId>,
    pub key: ObjectKey,
    pub status: Status,
    pub role: Role,
    /// Where its item is among its parent's children (or among the top items): finds the
    /// item of a row in a holder of 5 000 pods without a scan.
    pub slot: usize,
}

/// A folded workload's pods as the tree shows them: the path of its summary row and their
/// tally, kept by pod changes without a rebuild.
#[derive(Debug, Clone)]
struct Fold {
    summary: Vec<NodeId>,
    tally: Tally,
}

/// The tree widget's items and, for each shown node, its path and object.
#[derive(Debug, Default)]
pub struct TreeModel {
    pub items: Vec<TreeItem<'static, NodeId>>,
    /// Every shown node in depth-first display order.
    pub nodes: Vec<Node>,
    /// The position of each shown node in `nodes`, by id ([`Ids`] hands them out densely
    /// from zero); [`NOT_SHOWN`] for the others.
    index: Vec<usize>,
    /// The objects span several namespaces: rows name theirs.
    several_namespaces: bool,
    /// The folded workloads, by the id of the row holding their pods.
    folds: FxHashMap<NodeId, Fold>,
    /// The ids of the folded workloads, each with its holder row's: a pod listed right
    /// under one is a failed one.
    folded: FxHashMap<NodeId, NodeId>,
    /// What each Deployment's row says of its revisions, by the Deployment's id: a change
    /// of one of its `ReplicaSets` redraws that row without a rebuild.
    revisions: FxHashMap<NodeId, Tops>,
}

/// What a Deployment's `ReplicaSets` add to its row: the counted one's ready replicas and
/// the pods under the others ([`Revisions`] without the desired count, which is the
/// Deployment's own).
#[derive(Debug, Clone, Copy, Default)]
struct Tops {
    new_ready: u64,
    old_pods: u64,
    /// The counted `ReplicaSet` `new_ready` was read from (the last one, in display order).
    counted_set: Option<NodeId>,
}

impl TreeModel {
    /// Builds the tree of `world`, keeping only rows that match `filter` (case-insensitive,
    /// on kind, namespace, name, status word or message) and their ancestors. An empty filter
    /// keeps everything.
    pub fn build(world: &World, filter: &str, ids: &mut Ids) -> Self {
        let children = ChildIndex::new(world);
        let filter = filter.to_lowercase();
        let several_namespaces = world.namespaces().len() > 1;
        let mut builder = Builder {
            ids,
            world,
            children: &children,
            filter: &filter,
            several_namespaces,
            nodes: Vec::new(),
            seen: FxHashSet::default(),
            folds: FxHashMap::default(),
            folded: FxHashMap::default(),
            revisions: FxHashMap::default(),
        };
        let mut items = Vec::new();
        let tops = world
            .roots
            .iter()
            .filter(|r| !world.parents.contains_key(*r));
        for root in tops.chain(children.orphans.iter()) {
            if let Some(item) = builder.item(root, None, &[]) {
                items.push(item);
            }
        }
        let mut nodes = builder.nodes;
        number_slots(&mut nodes);
        let mut model = TreeModel {
            items,
            nodes,
            index: Vec::new(),
            several_namespaces,
            folds: builder.folds,
            folded: builder.folded,
            revisions: builder.revisions,
        };
        model.reindex(0);
        model
    }

    /// Points the index at the nodes from position `from` on, after they moved.
    fn reindex(&mut self, from: usize) {
        for (i, node) in self.nodes.iter().enumerate().skip(from) {
            let Some(slot) = node.path.last().and_then(|&id| usize::try_from(id).ok()) else {
                continue;
            };
            if slot >= self.index.len() {
                self.index.resize(slot + 1, NOT_SHOWN);
            }
            self.index[slot] = i;
        }
    }

    /// Whether `holder` is the row holding a folded workload's pods.
    pub fn is_holder(&self, holder: NodeId) -> bool {
        self.folds.contains_key(&holder)
    }

    /// Adds the new pods `pods` (none failed, none shown yet) to the folded workload whose
    /// pods `holder` holds, where a rebuild would list them, without a rebuild: a pod
    /// created during a rollout of 5 000. The summary row counts them, and the Deployment's
    /// row its old pods. Returns the new rows' paths, or `None` when the tree must be
    /// rebuilt instead.
    pub fn insert_pods(
        &mut self,
        holder: NodeId,
        pods: &[&TrackedObject],
        world: &World,
        ids: &mut Ids,
    ) -> Option<Vec<Vec<NodeId>>> {
        let mut pods = pods.to_vec();
        pods.sort_by(|a, b| display_order(a, b));
        let at = self.position(holder)?;
        let holder_path = self.nodes[at].path.clone();
        let held = self.item_mut(&holder_path)?.children().len();
        let first = at + 1;
        let rows = self.nodes.get(first..first + held)?;
        // The held rows are leaves (pods own nothing shown), so they follow the holder.
        if rows
            .iter()
            .any(|node| node.path.len() != holder_path.len() + 1)
        {
            return None;
        }
        let mut new_rows = Vec::with_capacity(pods.len());
        for pod in &pods {
            if pod.status == Status::Failed || self.position(ids.of(&pod.key)).is_some() {
                return None;
            }
            let before = rows.partition_point(|node| {
                world
                    .object(&node.key)
                    .is_some_and(|shown| display_order(shown, pod).is_lt())
            });
            new_rows.push((before, *pod));
        }
        let mut merged_nodes = Vec::with_capacity(held + pods.len());
        let mut merged_items = Vec::with_capacity(held + pods.len());
        let mut old_items = take_children(self.item_mut(&holder_path)?).into_iter();
        let tail = self.nodes.split_off(first + held);
        let mut old_nodes = self.nodes.split_off(first).into_iter();
        let mut paths = Vec::with_capacity(pods.len());
        let mut taken = 0;
        for (before, pod) in new_rows {
            while taken < before {
                merged_nodes.extend(old_nodes.next());
                merged_items.extend(old_items.next());
                taken += 1;
            }
            let id = ids.of(&pod.key);
            let path = [holder_path.as_slice(), &[id]].concat();
            merged_items.push(TreeItem::new_leaf(id, self.line(id, &path, pod)));
            merged_nodes.push(Node {
                path: path.clone(),
                key: pod.key.clone(),
                status: pod.status,
                role: Role::Object,
                slot: 0,
            });
            paths.push(path);
        }
        merged_nodes.extend(old_nodes);
        merged_items.extend(old_items);
        for (slot, node) in merged_nodes.iter_mut().enumerate() {
            node.slot = slot;
        }
        let count = merged_items.len();
        self.nodes.extend(merged_nodes);
        self.nodes.extend(tail);
        self.reindex(first);
        // The widget offers no way to insert a child: the holder's item is made anew (a
        // failure here leaves the tree to a rebuild, as `None` says).
        let holder_item = TreeItem::new(holder, fold::holder_row(count), merged_items).ok()?;
        *self.item_mut(&holder_path)? = holder_item;
        if let Some(fold) = self.folds.get_mut(&holder) {
            for pod in &pods {
                fold.tally.add(pod.status);
            }
        }
        self.show_tally(holder);
        self.count_old_pods(&holder_path, pods.len() as i64, world)?;
        Some(paths)
    }

    /// `added` pods more (fewer when negative) under the holder at `holder_path`: when its
    /// workload is an old `ReplicaSet` of a Deployment, the Deployment's row counts them
    /// among its old pods.
    fn count_old_pods(&mut self, holder_path: &[NodeId], added: i64, world: &World) -> Option<()> {
        let [.., deployment, set, _] = holder_path else {
            return Some(());
        };
        let set = world.object(&self.node(*set)?.key)?;
        let Some(tops) = self.revisions.get_mut(deployment) else {
            return Some(());
        };
        if set.counted || set.key.kind != "ReplicaSet" {
            return Some(());
        }
        tops.old_pods = tops.old_pods.saturating_add_signed(added);
        self.redraw(*deployment, world)
    }

    /// Redraws the row of `object` (node `id`) in place, keeping the shape: what a change
    /// that moves no row needs (a pod's, a `ReplicaSet`'s counts), without a rebuild. A
    /// folded pod's summary row follows, and so does a Deployment's row when one of its
    /// `ReplicaSets` changes; `world` holds the objects of those rows. Returns the node's
    /// path, or `None` when the node is not shown, or when it must move (see [`Self::moves`]).
    pub fn patch_row(
        &mut self,
        id: NodeId,
        object: &TrackedObject,
        world: &World,
    ) -> Option<Vec<NodeId>> {
        let position = self.position(id)?;
        if self.moves(id, object) {
            return None;
        }
        let path = self.nodes[position].path.clone();
        let parent_id = parent(&path);
        let folded = parent_id.filter(|parent| self.folds.contains_key(parent));
        if let Some(deployment) = parent_id.filter(|_| object.key.kind == "ReplicaSet") {
            self.recount(deployment, id, object, world)?;
        }
        let line = self.line(id, &path, object);
        relabel(self.item_mut(&path)?, id, line)?;
        let was = std::mem::replace(&mut self.nodes[position].status, object.status);
        if let Some(holder) = folded
            && was != object.status
        {
            self.retally(holder, was, object.status);
        }
        Some(path)
    }

    /// Whether the row of `object` (node `id`), changed, moves between a folded workload's
    /// pods held in its holder row and the failed ones listed apart.
    pub fn moves(&self, id: NodeId, object: &TrackedObject) -> bool {
        let Some(parent_id) = self.node(id).and_then(|node| parent(&node.path)) else {
            return false;
        };
        let failed = object.status == Status::Failed;
        (failed && self.folds.contains_key(&parent_id))
            || (!failed && self.folded.contains_key(&parent_id))
    }

    /// Moves the row of the pod `object` (node `id`) between its folded siblings and the
    /// failed ones listed, where a rebuild would put it: a pod that fails during a rollout of
    /// 20 000, or starts again. The holder's and the summary's rows follow. Returns its new
    /// path, or `None` when the tree must be rebuilt instead; nothing that a rebuild would
    /// not mend is left half done then.
    pub fn move_pod(
        &mut self,
        id: NodeId,
        object: &TrackedObject,
        world: &World,
    ) -> Option<Vec<NodeId>> {
        let position = self.position(id)?;
        let path = self.nodes[position].path.clone();
        let parent_id = parent(&path)?;
        let to_fold = object.status != Status::Failed;
        let (workload_path, holder) = if to_fold {
            (&path[..path.len() - 1], *self.folded.get(&parent_id)?)
        } else {
            (&path[..path.len() - 2], parent_id)
        };
        let workload_path = workload_path.to_vec();
        let workload = world.object(&self.node(*workload_path.last()?)?.key)?;
        let workload_line = self.line(*workload_path.last()?, &workload_path, workload);
        let holder_at = self.position(holder)?;
        let holder_slot = self.nodes[holder_at].slot;
        let held = self
            .item_mut(&self.nodes[holder_at].path.clone())?
            .children()
            .len();
        if object.key.kind != "Pod" || !self.is_leaf(position) {
            return None;
        }
        let held = if to_fold { held + 1 } else { held - 1 };
        let (from_line, to_line) = if to_fold {
            (workload_line, fold::holder_row(held))
        } else {
            (fold::holder_row(held), workload_line)
        };
        let mut node = self.take_leaf(position, from_line)?;
        let was = std::mem::replace(&mut node.status, object.status);
        let (run, first_slot, parent_path) = if to_fold {
            (holder_at + 1, 0, self.nodes[holder_at].path.clone())
        } else {
            (self.subtree_end(holder_at), holder_slot + 1, workload_path)
        };
        node.path = [parent_path.as_slice(), &[id]].concat();
        let path = self.put_leaf(node, to_line, run, first_slot, object, world)?;
        self.retally(holder, was, object.status);
        Some(path)
    }

    /// Takes the leaf row at `position` out of the tree; its parent's row reads
    /// `parent_line` from now on.
    fn take_leaf(&mut self, position: usize, parent_line: Line<'static>) -> Option<Node> {
        let node = self.nodes.get(position)?;
        let (id, slot) = (*node.path.last()?, node.slot);
        let parent_path = node.path[..node.path.len() - 1].to_vec();
        let parent_at = self.position(*parent_path.last()?)?;
        let item = self.item_mut(&parent_path)?;
        if item.child(slot).map(TreeItem::identifier) != Some(&id) {
            return None;
        }
        let mut children = take_children(item);
        children.remove(slot);
        *item = TreeItem::new(*parent_path.last()?, parent_line, children).ok()?;
        let node = self.nodes.remove(position);
        self.index[usize::try_from(id).ok()?] = NOT_SHOWN;
        self.reindex(position);
        self.renumber(parent_at);
        Some(node)
    }

    /// Puts the leaf `node` of `object` (its path names its parent) among its parent's leaf
    /// rows that start at position `run` (the first of them in slot `first_slot`), in
    /// display order; its parent's row reads `parent_line` from now on. Returns its path.
    fn put_leaf(
        &mut self,
        node: Node,
        parent_line: Line<'static>,
        run: usize,
        first_slot: usize,
        object: &TrackedObject,
        world: &World,
    ) -> Option<Vec<NodeId>> {
        let depth = node.path.len();
        let siblings = self.nodes.get(run..).unwrap_or_default();
        let count = siblings
            .iter()
            .take_while(|sibling| sibling.path.len() >= depth)
            .count();
        let siblings = &siblings[..count];
        if siblings.iter().any(|sibling| sibling.path.len() != depth) {
            return None;
        }
        let before = siblings.partition_point(|sibling| {
            world
                .object(&sibling.key)
                .is_some_and(|shown| display_order(shown, object).is_lt())
        });
        let id = *node.path.last()?;
        let line = self.line(id, &node.path, object);
        let parent_path = node.path[..depth - 1].to_vec();
        let parent_id = *parent_path.last()?;
        let item = self.item_mut(&parent_path)?;
        let mut children = take_children(item);
        children.insert(first_slot + before, TreeItem::new_leaf(id, line));
        *item = TreeItem::new(parent_id, parent_line, children).ok()?;
        let path = node.path.clone();
        self.nodes.insert(run + before, node);
        self.reindex(run + before);
        self.renumber(self.position(parent_id)?);
        Some(path)
    }

    /// Takes the rows of the removed pods `gone` out of their folded workloads (held or
    /// listed failed), as a rebuild would leave them: the summary rows, the holders' and
    /// the Deployments' old pods counted without them. One pass over each workload's rows
    /// however many go: a rolling update removes thousands. Returns `None` when the tree must
    /// be rebuilt instead (a row of another kind, a workload left with too few pods to fold).
    pub fn remove_pods(&mut self, gone: &FxHashSet<NodeId>, world: &World) -> Option<()> {
        let mut by_parent: BTreeMap<NodeId, Vec<Status>> = BTreeMap::new();
        for &id in gone {
            let position = self.position(id)?;
            let node = &self.nodes[position];
            let parent_id = parent(&node.path)?;
            let folded =
                self.folds.contains_key(&parent_id) || self.folded.contains_key(&parent_id);
            if node.key.kind != "Pod" || node.role != Role::Object || !folded {
                return None;
            }
            if !self.is_leaf(position) {
                return None;
            }
            by_parent.entry(parent_id).or_default().push(node.status);
        }
        for (&parent_id, statuses) in &by_parent {
            let holder = self.folded.get(&parent_id).copied().unwrap_or(parent_id);
            let fold = self.folds.get_mut(&holder)?;
            for &status in statuses {
                fold.tally.remove(status);
            }
            if fold.tally.total() <= fold::FOLD_ABOVE as u64 {
                return None;
            }
            let parent_path = self.node(parent_id)?.path.clone();
            let parent_line = if parent_id == holder {
                let held = self.item_mut(&parent_path)?.children().len();
                fold::holder_row(held - statuses.len())
            } else {
                let workload = world.object(&self.node(parent_id)?.key)?;
                self.line(parent_id, &parent_path, workload)
            };
            let item = self.item_mut(&parent_path)?;
            let mut children = take_children(item);
            children.retain(|child| !gone.contains(child.identifier()));
            *item = TreeItem::new(parent_id, parent_line, children).ok()?;
            self.show_tally(holder);
            let holder_path = self.node(holder)?.path.clone();
            self.count_old_pods(&holder_path, -(statuses.len() as i64), world)?;
        }
        let first = gone.iter().filter_map(|&id| self.position(id)).min()?;
        for &id in gone {
            self.index[usize::try_from(id).ok()?] = NOT_SHOWN;
        }
        let kept = self
            .nodes
            .split_off(first)
            .into_iter()
            .filter(|node| node.path.last().is_none_or(|id| !gone.contains(id)));
        self.nodes.extend(kept);
        self.reindex(first);
        for parent_id in by_parent.keys() {
            self.renumber(self.position(*parent_id)?);
        }
        Some(())
    }

    /// The position after the last row under the node at `position`.
    fn subtree_end(&self, position: usize) -> usize {
        let depth = self.nodes[position].path.len();
        position
            + 1
            + self.nodes[position + 1..]
                .iter()
                .take_while(|node| node.path.len() > depth)
                .count()
    }

    /// Whether the node at `position` shows no child.
    fn is_leaf(&self, position: usize) -> bool {
        let depth = self.nodes[position].path.len();
        self.nodes
            .get(position + 1)
            .is_none_or(|next| next.path.len() <= depth)
    }

    /// Numbers the slots of the children of the node at `position` anew, after one came or
    /// went.
    fn renumber(&mut self, position: usize) {
        let depth = self.nodes[position].path.len() + 1;
        let mut slot = 0;
        for node in self.nodes[position + 1..]
            .iter_mut()
            .take_while(|node| node.path.len() >= depth)
        {
            if node.path.len() == depth {
                node.slot = slot;
                slot += 1;
            }
        }
    }

    /// The row of `object` at `path` (node `id`), as a rebuild draws it.
    fn line(&self, id: NodeId, path: &[NodeId], object: &TrackedObject) -> Line<'static> {
        let parent = object.owner.as_ref().filter(|_| path.len() > 1);
        let namespaced = shows_namespace(self.several_namespaces, &object.key, parent);
        let tops = self.revisions.get(&id).copied();
        row_with_revisions(&object.key, Some(object), namespaced, tops)
    }

    /// The `ReplicaSet` `set` (node `id`) under node `deployment` changed: when it is the
    /// counted one, the Deployment's row says its ready replicas. `None` when the change
    /// moves a row (a `ReplicaSet` that starts or stops counting needs a rebuild).
    fn recount(
        &mut self,
        deployment: NodeId,
        id: NodeId,
        set: &TrackedObject,
        world: &World,
    ) -> Option<()> {
        let Some(tops) = self.revisions.get_mut(&deployment) else {
            return Some(());
        };
        if tops.counted_set != Some(id) {
            return (!set.counted).then_some(());
        }
        tops.new_ready = set.counts.map_or(0, |c| u64::from(c.ready));
        self.redraw(deployment, world)
    }

    /// Draws the row of node `id` anew from what `world` holds of it.
    fn redraw(&mut self, id: NodeId, world: &World) -> Option<()> {
        let node = self.node(id)?;
        let object = world.object(&node.key)?.clone();
        let path = node.path.clone();
        let line = self.line(id, &path, &object);
        relabel(self.item_mut(&path)?, id, line)
    }

    /// A pod of the folded workload whose holder row is `holder` went from `was` to `now`:
    /// its summary row says so.
    fn retally(&mut self, holder: NodeId, was: Status, now: Status) {
        let Some(fold) = self.folds.get_mut(&holder) else {
            return;
        };
        fold.tally.moved(was, now);
        self.show_tally(holder);
    }

    /// The summary row of the folded workload whose holder row is `holder` says its tally.
    fn show_tally(&mut self, holder: NodeId) {
        let Some(fold) = self.folds.get(&holder) else {
            return;
        };
        let (summary, line, busy) = (fold.summary.clone(), fold.tally.row(), busy(&fold.tally));
        if let Some(&id) = summary.last()
            && let Some(item) = self.item_mut(&summary)
        {
            *item = TreeItem::new_leaf(id, line);
        }
        // Both rows of the fold say whether its pods are still starting.
        for id in summary.last().into_iter().chain([&holder]) {
            if let Some(position) = self.position(*id) {
                self.nodes[position].status = busy;
            }
        }
    }

    /// The item at `path`.
    fn item_mut(&mut self, path: &[NodeId]) -> Option<&mut TreeItem<'static, NodeId>> {
        let slots: Vec<usize> = path
            .iter()
            .map(|id| self.node(*id).map(|node| node.slot))
            .collect::<Option<_>>()?;
        let (first, rest) = slots.split_first()?;
        let mut item = self.items.get_mut(*first)?;
        for &slot in rest {
            item = item.child_mut(slot)?;
        }
        // The slots are kept with the items; a mismatch would be a bug, never a wrong row.
        (path.last() == Some(item.identifier())).then_some(item)
    }

    /// The shown node whose path ends in `id`.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.position(id).and_then(|i| self.nodes.get(i))
    }

    /// Position of the node `id` in display order.
    pub fn position(&self, id: NodeId) -> Option<usize> {
        let slot = usize::try_from(id).ok()?;
        self.index.get(slot).copied().filter(|&i| i != NOT_SHOWN)
    }
}

/// The id of the parent of the node at `path`.
fn parent(path: &[NodeId]) -> Option<NodeId> {
    path.len().checked_sub(2).map(|i| path[i])
}

/// The tracked children of every object, sorted for display, computed once per rebuild so
/// that building stays linear in the number of objects.
struct ChildIndex<'w> {
    by_owner: FxHashMap<&'w ObjectKey, Vec<&'w TrackedObject>>,
    /// Objects neither applied nor under a tracked owner: shown as extra roots at the end.
    orphans: Vec<ObjectKey>,
    /// Roots shown under another root (a Helm release's objects) that are not in the
    /// cluster, by that root, in input order.
    missing_members: FxHashMap<&'w ObjectKey, Vec<&'w ObjectKey>>,
}

impl<'w> ChildIndex<'w> {
    fn new(world: &'w World) -> Self {
        let roots: FxHashSet<&ObjectKey> = world.roots.iter().collect();
        let mut by_owner: FxHashMap<&ObjectKey, Vec<&TrackedObject>> = FxHashMap::default();
        let mut orphans = Vec::new();
        for object in world.objects.values() {
            match &object.owner {
                Some(owner) if world.objects.contains_key(owner) || roots.contains(owner) => {
                    by_owner.entry(owner).or_default().push(object);
                }
                _ if !roots.contains(&object.key) => orphans.push(object.key.clone()),
                _ => {}
            }
        }
        for list in by_owner.values_mut() {
            list.sort_by(|a, b| display_order(a, b));
        }
        let mut missing_members: FxHashMap<&ObjectKey, Vec<&ObjectKey>> = FxHashMap::default();
        for root in &world.roots {
            if let Some(parent) = world.parents.get(root)
                && !world.objects.contains_key(root)
            {
                missing_members.entry(parent).or_default().push(root);
            }
        }
        ChildIndex {
            by_owner,
            orphans,
            missing_members,
        }
    }
}

/// The order of an owner's children: current revision before old ones, then by kind and
/// name (the newest `ReplicaSet` leads, pods follow in name order).
fn display_order(a: &TrackedObject, b: &TrackedObject) -> std::cmp::Ordering {
    b.counted
        .cmp(&a.counted)
        .then_with(|| (&a.key.kind, &a.key.name).cmp(&(&b.key.kind, &b.key.name)))
}

/// Numbers each node's place among its siblings, as the items nest: the nodes are the
/// items in depth-first order.
fn number_slots(nodes: &mut [Node]) {
    let mut next: FxHashMap<Option<NodeId>, usize> = FxHashMap::default();
    for node in nodes {
        let parent = node.path.len().checked_sub(2).map(|i| node.path[i]);
        let slot = next.entry(parent).or_default();
        node.slot = *slot;
        *slot += 1;
    }
}

struct Builder<'a> {
    ids: &'a mut Ids,
    world: &'a World,
    children: &'a ChildIndex<'a>,
    filter: &'a str,
    several_namespaces: bool,
    nodes: Vec<Node>,
    /// Guards against an owner cycle in bad data.
    seen: FxHashSet<&'a ObjectKey>,
    folds: FxHashMap<NodeId, Fold>,
    folded: FxHashMap<NodeId, NodeId>,
    revisions: FxHashMap<NodeId, Tops>,
}

impl<'a> Builder<'a> {
    /// The item for `key` (under `owner`'s row, at `parent`) and its subtree, or `None` when
    /// the filter hides it all.
    fn item(
        &mut self,
        key: &'a ObjectKey,
        owner: Option<&'a ObjectKey>,
        parent: &[NodeId],
    ) -> Option<TreeItem<'static, NodeId>> {
        if !self.seen.insert(key) {
            return None;
        }
        let object = self.world.object(key);
        let status = object.map_or(Status::Missing, |o| o.status);
        let id = self.ids.of(key);
        let mut path = parent.to_vec();
        path.push(id);
        let slot = self.nodes.len();
        self.push_node(path.clone(), key, status, Role::Object);
        let present = self
            .children
            .by_owner
            .get(key)
            .map_or(&[][..], Vec::as_slice);
        let pods = present.iter().filter(|c| c.key.kind == "Pod").count();
        // A filter already narrows the rows to what was asked for: nothing folds then.
        let kids = if pods > fold::FOLD_ABOVE && self.filter.is_empty() {
            self.folded_children(key, present, &path)
        } else {
            let missing = self.children.missing_members.get(key).into_iter().flatten();
            let keys = present
                .iter()
                .map(|child| &child.key)
                .chain(missing.copied());
            keys.filter_map(|child| self.item(child, Some(key), &path))
                .collect()
        };
        let matches = self.filter.is_empty() || matches(key, status, object, self.filter);
        if !matches && kids.is_empty() {
            self.nodes.truncate(slot);
            return None;
        }
        let namespaced = shows_namespace(self.several_namespaces, key, owner);
        let tops = (key.kind == "Deployment").then(|| self.tops(key));
        if let Some(tops) = tops {
            self.revisions.insert(id, tops);
        }
        let line = row_with_revisions(key, object, namespaced, tops);
        // Identifiers are unique among siblings by construction (one node per object).
        TreeItem::new(id, line, kids).ok()
    }

    fn push_node(&mut self, path: Vec<NodeId>, key: &ObjectKey, status: Status, role: Role) {
        self.nodes.push(Node {
            path,
            key: key.clone(),
            status,
            role,
            slot: 0,
        });
    }

    /// The children of the folded workload `key` (at `path`): its other children, then the
    /// summary of its pods, the row holding them, and the failed ones listed.
    fn folded_children(
        &mut self,
        key: &'a ObjectKey,
        present: &'a [&'a TrackedObject],
        path: &[NodeId],
    ) -> Vec<TreeItem<'static, NodeId>> {
        let (is_pod, others): (Vec<&TrackedObject>, Vec<&TrackedObject>) =
            present.iter().partition(|c| c.key.kind == "Pod");
        let mut kids: Vec<_> = others
            .iter()
            .filter_map(|child| self.item(&child.key, Some(key), path))
            .collect();
        let (summary_id, holder_id) = self.ids.fold_of(key);
        let mut tally = Tally::default();
        for pod in &is_pod {
            tally.add(pod.status);
        }
        let summary_path = [path, &[summary_id]].concat();
        let holder_path = [path, &[holder_id]].concat();
        let busy = busy(&tally);
        self.push_node(summary_path.clone(), key, busy, Role::Summary);
        kids.push(TreeItem::new_leaf(summary_id, tally.row()));
        self.push_node(holder_path.clone(), key, busy, Role::Holder);
        let held: Vec<_> = is_pod
            .iter()
            .filter(|pod| pod.status != Status::Failed)
            .filter_map(|pod| self.item(&pod.key, Some(key), &holder_path))
            .collect();
        kids.extend(TreeItem::new(holder_id, fold::holder_row(held.len()), held).ok());
        for pod in is_pod.iter().filter(|pod| pod.status == Status::Failed) {
            kids.extend(self.item(&pod.key, Some(key), path));
        }
        self.folds.insert(
            holder_id,
            Fold {
                summary: summary_path,
                tally,
            },
        );
        if let Some(&workload) = path.last() {
            self.folded.insert(workload, holder_id);
        }
        kids
    }

    /// What the `ReplicaSets` of the Deployment `key` add to its row.
    fn tops(&mut self, key: &ObjectKey) -> Tops {
        let mut tops = Tops::default();
        let sets = self.children.by_owner.get(key).into_iter().flatten();
        for set in sets.filter(|c| c.key.kind == "ReplicaSet") {
            if set.counted {
                tops.new_ready = set.counts.map_or(0, |c| u64::from(c.ready));
                tops.counted_set = Some(self.ids.of(&set.key));
            } else {
                let pods = self.children.by_owner.get(&set.key).map_or(0, Vec::len);
                tops.old_pods += pods as u64;
            }
        }
        tops
    }
}

/// What the rows of a folded workload's pods say of them: in progress while one starts.
fn busy(tally: &Tally) -> Status {
    if tally.starting > 0 {
        Status::InProgress
    } else {
        Status::Success
    }
}

/// A row as [`row`] draws it, with a Deployment's revisions during an update (`tops`:
/// what its `ReplicaSets` say) when it has counts.
fn row_with_revisions(
    key: &ObjectKey,
    object: Option<&TrackedObject>,
    namespaced: bool,
    tops: Option<Tops>,
) -> Line<'static> {
    let mut line = row(key, object, namespaced);
    let desired = object.and_then(|o| o.counts).map(|c| c.desired);
    if let (Some(tops), Some(desired)) = (tops, desired) {
        let revisions = Revisions {
            new_ready: tops.new_ready,
            desired: u64::from(desired),
            old_pods: tops.old_pods,
        };
        line.spans.extend(revisions.spans());
    }
    line
}

/// Replaces the row of `item` (node `id`) with `line`, keeping its children: the widget
/// offers no way to change a row's text alone. `None` only if the children clash, which
/// a built tree rules out.
fn relabel(item: &mut TreeItem<'static, NodeId>, id: NodeId, line: Line<'static>) -> Option<()> {
    let children = take_children(item);
    *item = TreeItem::new(id, line, children).ok()?;
    Some(())
}

/// The children of `item`, taken out of it: it must be made anew right after (the widget
/// lets a child be changed, never taken or inserted).
fn take_children(item: &mut TreeItem<'static, NodeId>) -> Vec<TreeItem<'static, NodeId>> {
    let id = *item.identifier();
    let mut children = Vec::with_capacity(item.children().len());
    for index in 0..item.children().len() {
        if let Some(child) = item.child_mut(index) {
            // An empty text allocates nothing: a holder of 20 000 pods is taken apart
            // on every pod that comes or goes.
            children.push(std::mem::replace(
                child,
                TreeItem::new_leaf(id, Text::default()),
            ));
        }
    }
    children
}

/// What a row says of an object that is not in the cluster.
const NOT_IN_CLUSTER: &str = "not in the cluster";

/// Whether the row of `key` matches `filter` (lower case): its kind, `namespace/name`,
/// status word or message contains it.
fn matches(key: &ObjectKey, status: Status, object: Option<&TrackedObject>, filter: &str) -> bool {
    let message = object.map_or(NOT_IN_CLUSTER, |o| o.message.as_str());
    let namespace = key.namespace.as_deref().unwrap_or_default();
    let text = format!("{} {namespace}/{} {status} {message}", key.kind, key.name);
    text.to_lowercase().contains(filter)
}

/// Whether the row of `key`, under `owner`'s row (none at the top), names the namespace:
/// when the objects span several, and the row above does not say it already.
fn shows_namespace(several: bool, key: &ObjectKey, owner: Option<&ObjectKey>) -> bool {
    several && key.namespace.is_some() && owner.is_none_or(|o| o.namespace != key.namespace)
}

/// One row: glyph, kind, name (`namespace/name` when `namespaced`), `(old)` or why it does
/// not count, status word,
/// counts and message.
pub fn row(key: &ObjectKey, object: Option<&TrackedObject>, namespaced: bool) -> Line<'static> {
    let status = object.map_or(Status::Missing, |o| o.status);
    let look = status_look(status);
    let old = object.is_some_and(|o| !o.counted);
    let mut spans = vec![
        Span::styled(format!("{} ", look.glyph), look.style),
        Span::raw(format!("{} ", key.kind)),
    ];
    if let Some(namespace) = key.namespace.as_ref().filter(|_| namespaced) {
        spans.push(Span::raw(format!("{namespace}/")));
    }
    spans.push(Span::styled(
        key.name.clone(),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    if old {
        // Not counted: an applied object is so by its `kos.dev/track`, a Service's slice as
        // where traffic goes (it informs, it is no revision), anything else as an old
        // revision.
        let why = if object.is_some_and(|o| o.applied) {
            " (untracked)"
        } else if key.kind == "EndpointSlice" {
            " (informs)"
        } else {
            " (old)"
        };
        spans.push(Span::raw(why));
    }
    spans.push(Span::styled(format!("  {}", status.as_str()), look.style));
    if let Some(counts) = object.and_then(|o| o.counts) {
        spans.push(Span::raw(format!("  {}/{}", counts.ready, counts.desired)));
    }
    let message = object.map_or(NOT_IN_CLUSTER, |o| o.message.as_str());
    if !message.is_empty() {
        spans.push(Span::styled(
            format!("  {}", one_line(message)),
            Style::new().add_modifier(Modifier::ITALIC),
        ));
    }
    let line = Line::from(spans);
    if old {
        line.style(Style::new().add_modifier(Modifier::DIM))
    } else {
        line
    }
}

/// `text` on one line: control characters (newlines, tabs, escapes) and bidirectional
/// overrides become spaces, so that nothing from the cluster can move the cursor, break a
/// row or reorder what the row shows.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if crate::output::safe::is_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}
