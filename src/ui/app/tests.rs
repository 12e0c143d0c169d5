//! [`App::update`] driven as a person drives it: keys read in the context of the moment,
//! diffs, log lines, ticks and signals, checked through what the view then shows.

use super::*;
use crate::status::Status;
use crate::ui::fixtures::{self, key};
use crate::ui::keys;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Types `keys` as a person would: each key read in the context of the moment.
pub(super) fn type_keys(app: &mut App, codes: &[KeyCode]) {
    for code in codes {
        let event = KeyEvent::new(*code, KeyModifiers::NONE);
        if let Some(action) = keys::action(app.key_context(), event) {
            app.update(Message::Key(action), app.now);
        }
    }
}

/// The tree as drawn, opened and selected, to compare an in-place row update with a
/// rebuild.
type Shape = (
    Vec<crate::ui::tree::Node>,
    String,
    Vec<Vec<NodeId>>,
    Vec<NodeId>,
);

fn shape(app: &App) -> Shape {
    let mut opened: Vec<_> = app.tree.state.opened().iter().cloned().collect();
    opened.sort();
    (
        app.tree.model.nodes.clone(),
        format!("{:?}", app.tree.model.items),
        opened,
        app.tree.state.selected().to_vec(),
    )
}

/// The tree of `app` as it is, and as a rebuild makes it from the same world.
fn in_place_and_rebuilt(app: &mut App) -> (Shape, Shape) {
    let in_place = shape(app);
    app.tree.mark_stale();
    app.sync();
    (in_place, shape(app))
}

#[test]
fn a_pods_change_in_place_draws_what_a_rebuild_draws() {
    change_in_place(&mut fixtures::app(), &key("Pod", "nginx-7c5ddbdf54-a1b2c"));
    // Across namespaces, where a top row names its namespace and a row under its owner not.
    let mut app = fixtures::namespaces_app();
    for (kind, name) in [("RoleBinding", "reader"), ("Pod", "web-5d8f7c-k2x4p")] {
        change_in_place(&mut app, &ObjectKey::new(kind, Some("team-a"), name));
    }
}

/// Changes the status of the leaf `leaf` twice, checking each time that the row patched in
/// place is the row a rebuild draws.
fn change_in_place(app: &mut App, leaf: &ObjectKey) {
    for (status, message) in [(Status::Failed, "OOMKilled"), (Status::Success, "Ready")] {
        let mut object = app.world.objects[leaf].clone();
        object.status = status;
        object.message = message.into();
        let diff = Diff::Upsert(Box::new(object));
        assert!(app.update(Message::Diffs(vec![diff]), app.now));
        let patched = shape(app);
        assert!(patched.1.contains(message));
        app.tree.mark_stale();
        app.sync();
        assert_eq!(shape(app), patched);
    }
}

/// One change of an object of [`fixtures::big_app`]: which object (the Deployment, a
/// `ReplicaSet`, a pod of either), its new status, ready count and whether it counts.
#[derive(Debug, Clone)]
struct Change {
    object: usize,
    status: usize,
    ready: u32,
    counted_flip: bool,
}

fn big_app_change() -> impl proptest::strategy::Strategy<Value = Change> {
    use proptest::prelude::*;
    (
        0..113usize,
        0..4usize,
        0..120u32,
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(object, status, ready, counted_flip)| Change {
            object,
            status,
            ready,
            counted_flip,
        })
}

/// The object `change` is about, changed.
fn changed(app: &App, change: &Change) -> TrackedObject {
    let keys: Vec<&ObjectKey> = app.world.objects.keys().collect();
    let mut object = app.world.objects[keys[change.object % keys.len()]].clone();
    object.status = [
        Status::Success,
        Status::InProgress,
        Status::Failed,
        Status::Terminating,
    ][change.status];
    object.message = format!("{} now", change.ready);
    if let Some(counts) = &mut object.counts {
        counts.ready = change.ready;
    }
    object.counted ^= change.counted_flip;
    object
}

proptest::proptest! {
    #[test]
    fn rows_patched_in_place_are_what_a_rebuild_draws(
        changes in proptest::collection::vec(big_app_change(), 1..30)
    ) {
        let mut app = fixtures::big_app();
        for change in changes {
            let object = changed(&app, &change);
            app.update(Message::Diffs(vec![Diff::Upsert(Box::new(object))]), app.now);
            let patched = shape(&app);
            app.tree.mark_stale();
            app.sync();
            proptest::prop_assert_eq!(shape(&app), patched);
        }
    }
}

/// A pod of [`fixtures::big_app`]'s new (or old) `ReplicaSet`, numbered `n` (new or not
/// yet there, as the number falls), in `status`.
fn big_app_pod(n: usize, old: bool, status: usize) -> TrackedObject {
    let (set, prefix) = if old {
        ("web-1", "web-1")
    } else {
        ("web-2", "web-2")
    };
    let mut pod = fixtures::pod(
        &format!("{prefix}-{n:03}"),
        &key("ReplicaSet", set),
        Status::Success,
    );
    pod.counted = !old;
    pod.status = [
        Status::Success,
        Status::InProgress,
        Status::Failed,
        Status::Terminating,
    ][status];
    pod.message = format!("{n} in batch");
    pod
}

#[test]
fn a_new_pod_of_a_folded_workload_joins_its_rows_without_a_rebuild() {
    let mut app = fixtures::big_app();
    let mut add = |pod: TrackedObject| {
        app.world.apply(Diff::Upsert(Box::new(pod.clone())));
        app.tree.add_row(&pod)
    };
    assert!(add(big_app_pod(100, false, 1)));
    assert!(add(big_app_pod(120, true, 0)));
    // A failed pod is listed apart, which a rebuild decides.
    assert!(!app.tree.add_row(&big_app_pod(101, false, 2)));
    app.sync();
    let added = shape(&app);
    let text = &added.1;
    assert!(text.contains("\"web-2-100\""), "{text}");
    // The summary row counts it (each count is a span of its own).
    assert!(text.contains("\"15 starting\""), "{text}");
    assert!(text.contains("new 45/100 · old 51"), "{text}");
    app.tree.mark_stale();
    app.sync();
    assert_eq!(shape(&app), added);
}

#[test]
fn a_pod_that_fails_or_starts_again_moves_without_a_rebuild() {
    let mut app = fixtures::big_app();
    let path_of = |app: &App, pod: &TrackedObject| {
        let node = app.tree.model.nodes.iter().find(|n| n.key == pod.key);
        node.map(|n| n.path.clone()).unwrap_or_default()
    };
    let held = path_of(&app, &big_app_pod(10, false, 0));
    assert_eq!(held.len(), 4, "Deployment, ReplicaSet, holder, pod");
    // Listed once failed (and selected there); held again, the selection goes to its holder.
    for (status, depth, failed, selected) in [
        (2, 3, "\"2 failed\"", None),
        (1, 4, "\"1 failed\"", Some(3)),
    ] {
        let pod = big_app_pod(10, false, status);
        app.world.apply(Diff::Upsert(Box::new(pod.clone())));
        assert!(app.tree.patch_row(&pod, &app.world), "moved in place");
        assert!(!app.tree.sync(&app.world, ""), "no rebuild");
        let path = path_of(&app, &pod);
        assert_eq!(path.len(), depth);
        if let Some(depth) = selected {
            assert_eq!(app.tree.state.selected(), &path[..depth]);
        }
        let (in_place, rebuilt) = in_place_and_rebuilt(&mut app);
        assert!(in_place.1.contains(failed), "{}", in_place.1);
        assert_eq!(in_place, rebuilt);
        app.tree.state.select(path);
    }
}

#[test]
fn removed_pods_of_a_folded_workload_leave_without_a_rebuild() {
    let mut app = fixtures::big_app();
    assert!(shape(&app).1.contains("· old 50"));
    let remove = |app: &mut App, pod: TrackedObject| {
        app.world.apply(Diff::Remove(pod.key.clone()));
        app.tree.remove_row(&pod.key)
    };
    // Five old pods and the failed new one listed apart.
    for n in 0..5 {
        assert!(remove(&mut app, big_app_pod(n, true, 0)));
    }
    assert!(remove(&mut app, big_app_pod(59, false, 2)));
    assert!(!app.tree.sync(&app.world, ""), "no rebuild");
    let (in_place, rebuilt) = in_place_and_rebuilt(&mut app);
    assert!(in_place.1.contains("· old 45"), "{}", in_place.1);
    assert!(
        in_place.1.contains("\"45 pods (→ lists them)\""),
        "{}",
        in_place.1
    );
    assert!(!in_place.1.contains("web-2-059"), "{}", in_place.1);
    assert_eq!(in_place, rebuilt);
    // Down to 40 pods the old revision no longer folds: that takes a rebuild.
    for n in 5..10 {
        assert!(remove(&mut app, big_app_pod(n, true, 0)));
    }
    assert!(app.tree.sync(&app.world, ""), "rebuilt");
    assert!(!shape(&app).1.contains("\"40 pods (→ lists them)\""));
}

/// What a batch does to one pod of [`big_app_pod`]: its number, revision, status, and
/// whether it goes away.
type PodChange = (usize, bool, usize, bool);

proptest::proptest! {
    #[test]
    fn pods_added_moved_and_removed_in_place_are_what_a_rebuild_draws(
        batches in proptest::collection::vec(
            (
                proptest::collection::vec(
                    (0..150usize, proptest::bool::ANY, 0..4usize, proptest::bool::weighted(0.3)),
                    1..12,
                ),
                0..200usize,
            ),
            1..8,
        )
    ) {
        let mut app = fixtures::big_app();
        for (batch, selected) in batches {
            // Whatever row is selected stays selected, or its nearest shown ancestor.
            let visible = app.visible();
            app.tree.state.select(visible[selected % visible.len()].clone());
            let diffs = batch
                .into_iter()
                .map(|(n, old, status, gone): PodChange| {
                    let pod = big_app_pod(n, old, status);
                    if gone {
                        Diff::Remove(pod.key)
                    } else {
                        Diff::Upsert(Box::new(pod))
                    }
                })
                .collect();
            app.update(Message::Diffs(diffs), app.now);
            let (in_place, rebuilt) = in_place_and_rebuilt(&mut app);
            proptest::prop_assert_eq!(in_place, rebuilt);
        }
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
        .filter_map(|id| app.tree.model.node(*id))
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
    let before = app.tree.state.selected().to_vec();
    assert!(!app.update(Message::Key(Action::NextFailure), app.now));
    assert_eq!(app.tree.state.selected(), before);
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

/// The visible rows after typing `/` and `text`, as `Kind namespace/name`.
fn filtered(app: &mut App, text: &str) -> Vec<String> {
    type_keys(app, &[KeyCode::Esc, KeyCode::Esc, KeyCode::Char('/')]);
    for c in text.chars() {
        type_keys(app, &[KeyCode::Char(c)]);
    }
    app.visible()
        .iter()
        .filter_map(|path| path.last())
        .filter_map(|id| app.tree.model.node(*id))
        .map(|node| node.key.to_string())
        .collect()
}

#[test]
fn filter_matches_kind_namespace_name_status_and_message() {
    let mut app = fixtures::namespaces_app();
    let readers = [
        "RoleBinding team-a/reader",
        "RoleBinding team-b/reader",
        "RoleBinding team-c/reader",
    ];
    assert_eq!(filtered(&mut app, "rolebinding"), readers, "by kind");
    assert_eq!(filtered(&mut app, "team-b"), [readers[1]], "by namespace");
    assert_eq!(
        filtered(&mut app, "team-c/reader"),
        [readers[2]],
        "by namespace/name"
    );
    assert_eq!(
        filtered(&mut app, "containercreating"),
        [
            "Deployment team-a/web",
            "ReplicaSet team-a/web-5d8f7c",
            "Pod team-a/web-5d8f7c-k2x4p"
        ],
        "by message, with the ancestors"
    );
    assert_eq!(filtered(&mut app, "missing"), [readers[2]], "by status");
    assert_eq!(
        filtered(&mut app, "not in the cluster"),
        [readers[2]],
        "a missing row by what it says"
    );
}

#[test]
fn enter_toggles_details_and_esc_closes_them() {
    let mut app = fixtures::app();
    type_keys(&mut app, &[KeyCode::Enter]);
    assert!(app.panes.details);
    type_keys(&mut app, &[KeyCode::Enter]);
    assert!(!app.panes.details);
    type_keys(&mut app, &[KeyCode::Enter, KeyCode::Esc]);
    assert!(!app.panes.details);
}

#[test]
fn logs_pane_picks_a_pod_and_asks_for_its_stream() {
    let mut app = fixtures::app();
    assert_eq!(app.log_request(), None);
    type_keys(&mut app, &[KeyCode::Down, KeyCode::Char('l')]);
    assert_eq!(app.panes.pane, Pane::Logs);
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
    assert_eq!(app.panes.pane, Pane::Tree);
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
    assert_eq!(app.panes.pane, Pane::Events);
    assert_eq!(app.panes.events.as_ref().unwrap().key, key("Pod", FAILING));
    type_keys(&mut app, &[KeyCode::Char('G')]);
    assert_eq!(
        app.panes.events.as_ref().unwrap().top,
        2,
        "4 events, 2 rows per page"
    );
    type_keys(&mut app, &[KeyCode::Char('g')]);
    assert_eq!(app.panes.events.as_ref().unwrap().top, 0);
    type_keys(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.panes.pane, Pane::Tree);
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

#[test]
fn promote_and_abort_act_only_on_a_rollout_and_only_once_confirmed() {
    // The fixture's first row is a Deployment: the view stays read-only.
    let mut app = fixtures::app();
    type_keys(&mut app, &[KeyCode::Char('P')]);
    assert_eq!(app.key_context(), KeyContext::Tree);
    assert!(
        app.command
            .notice()
            .unwrap()
            .contains("select an Argo Rollout")
    );
    assert_eq!(app.take_request(), None);
    type_keys(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.command.notice(), None, "Esc dismisses the answer");

    let root = key("Rollout", "web");
    let mut app = App::new(
        World::new(vec![root.clone()]),
        Tracker::new(None, Duration::ZERO),
        super::Header::default(),
    );
    let mut rollout = fixtures::object("Rollout", "web", Status::Suspended, None);
    rollout.api_version = "argoproj.io/v1alpha1".into();
    app.update(
        Message::Diffs(vec![Diff::Upsert(Box::new(rollout))]),
        app.now,
    );
    type_keys(&mut app, &[KeyCode::Char('A')]);
    assert_eq!(app.key_context(), KeyContext::Confirm);
    // Any other key is ignored while asking; Esc cancels.
    type_keys(&mut app, &[KeyCode::Char('j'), KeyCode::Esc]);
    assert_eq!(app.take_request(), None);
    assert_eq!(app.command.notice(), Some("abort cancelled"));
    type_keys(&mut app, &[KeyCode::Char('A'), KeyCode::Char('y')]);
    let request = app.take_request().expect("confirmed");
    assert_eq!(
        (request.operation, request.rollout),
        (Operation::Abort, root)
    );
    assert_eq!(app.take_request(), None, "taken once");
    // A second one waits for the answer to the first.
    type_keys(&mut app, &[KeyCode::Char('P')]);
    assert_eq!(app.key_context(), KeyContext::Tree);
    app.update(
        Message::CommandDone(Err("abort web failed: Forbidden".into())),
        app.now,
    );
    assert_eq!(app.command.notice(), Some("abort web failed: Forbidden"));
}
