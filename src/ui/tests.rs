//! Snapshot tests of the view (insta + `TestBackend`): what a person sees, cell by cell.

use crate::status::Status;
use crate::ui::app::{Action, App, Message, Mouse};
use crate::ui::fixtures;
use crate::ui::render::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;

fn draw(app: &mut App, width: u16, height: u16) -> Terminal<TestBackend> {
    app.update(Message::Resize { width, height }, app.now);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    terminal
}

fn screen(app: &mut App, width: u16, height: u16) -> String {
    draw(app, width, height).backend().to_string()
}

fn press(app: &mut App, actions: &[Action]) {
    for action in actions {
        app.update(Message::Key(*action), app.now);
    }
}

#[test]
fn tree_shows_every_object_under_its_owner() {
    let mut app = fixtures::app();
    insta::assert_snapshot!(screen(&mut app, 110, 18));
}

#[test]
fn a_helm_release_leads_its_objects_missing_ones_included() {
    let mut app = fixtures::release_app();
    insta::assert_snapshot!(screen(&mut app, 110, 18));
}

#[test]
fn details_of_a_failing_pod_beside_the_tree() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Details]);
    insta::assert_snapshot!(screen(&mut app, 150, 30));
}

#[test]
fn details_go_below_the_tree_on_a_narrow_screen() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Details]);
    insta::assert_snapshot!(screen(&mut app, 80, 34));
}

#[test]
fn logs_view_follows_the_end() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Logs]);
    for i in 1..=30 {
        app.update(
            Message::LogLine(format!("10.0.0.{i} - - \"GET / HTTP/1.1\" 200 615")),
            app.now,
        );
    }
    insta::assert_snapshot!(screen(&mut app, 80, 12));
}

#[test]
fn logs_view_wraps_and_scrolls() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Logs]);
    app.update(Message::LogLine("x".repeat(100)), app.now);
    app.update(Message::LogLine("short line".into()), app.now);
    app.update(Message::LogEnded("end of log".into()), app.now);
    press(&mut app, &[Action::Wrap, Action::Top]);
    insta::assert_snapshot!(screen(&mut app, 60, 10));
}

#[test]
fn logs_search_highlights_its_matches_and_names_itself_in_the_title() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Logs]);
    for line in ["GET /healthz 200", "GET /api 500", "POST /api 200"] {
        app.update(Message::LogLine(line.into()), app.now);
    }
    press(&mut app, &[Action::StartFilter]);
    press(
        &mut app,
        &"API".chars().map(Action::FilterChar).collect::<Vec<_>>(),
    );
    press(&mut app, &[Action::FilterKeep]);
    let terminal = draw(&mut app, 100, 8);
    let buffer = terminal.backend().buffer();
    let text = terminal.backend().to_string();
    assert!(text.contains("/API "), "{text}");
    // Row 2 is the first log line on screen, inside the border: `GET /api 500`.
    let reversed = |x: u16, y: u16| {
        buffer[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    };
    assert_eq!(buffer[(6, 2)].symbol(), "a");
    assert!(
        (6..9).all(|x| reversed(x, 2)) && !reversed(5, 2) && !reversed(9, 2),
        "{text}"
    );
}

#[test]
fn the_footer_shows_where_s_saved_the_log_or_why_it_could_not() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Logs, Action::Save]);
    let request = app.save_request().unwrap();
    let path = "./kos-logs-nginx-nginx-1.log".to_owned();
    app.update(Message::Saved(request.clone(), Ok(path)), app.now);
    let text = screen(&mut app, 80, 8);
    assert!(
        text.contains("saved to ./kos-logs-nginx-nginx-1.log"),
        "{text}"
    );
    app.update(
        Message::Saved(request, Err("cannot write x: denied".into())),
        app.now,
    );
    let text = screen(&mut app, 80, 8);
    assert!(text.contains("cannot write x: denied"), "{text}");
    press(&mut app, &[Action::Down]);
    assert!(
        !screen(&mut app, 80, 8).contains("denied"),
        "gone at the next key"
    );
}

#[test]
fn events_view_lists_the_objects_events() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Events]);
    insta::assert_snapshot!(screen(&mut app, 110, 10));
}

#[test]
fn help_lists_the_keys_of_the_tree() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::Help]);
    insta::assert_snapshot!(screen(&mut app, 90, 22));
}

#[test]
fn help_lists_the_keys_of_the_logs() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Logs, Action::Help]);
    insta::assert_snapshot!(screen(&mut app, 90, 24));
}

#[test]
fn header_shows_the_verdict_once_there_is_one() {
    let mut app = fixtures::app();
    // The failure holds through the 10 s window that started at 40 s.
    app.update(Message::Tick, Duration::from_secs(50));
    assert_eq!(app.verdict(), Some(crate::tracker::Verdict::Failed));
    insta::assert_snapshot!(screen(&mut app, 100, 3));
}

#[test]
fn rows_name_their_namespace_when_the_objects_span_several() {
    // The third RoleBinding is not in the cluster (yet): missing, with its namespace too.
    let mut app = fixtures::namespaces_app();
    insta::assert_snapshot!(screen(&mut app, 90, 11));
}

#[test]
fn one_namespace_is_named_in_the_header_not_on_the_rows() {
    // The fixture's objects live in `octopus`, whatever the context's namespace.
    let mut app = fixtures::app();
    app.header.namespace = "default".into();
    let text = screen(&mut app, 110, 18);
    assert!(text.contains("kos kos-sim · octopus "), "{text}");
    assert!(text.contains("✓ Service nginx  success"), "{text}");
}

#[test]
fn header_shows_the_servers_warnings_after_the_clocks() {
    let mut app = fixtures::app();
    app.header.warnings = vec![
        "Deployment octopus/nginx: .spec.replica: field not\ndeclared".into(),
        "Deployment octopus/other: deprecated".into(),
    ];
    let top = screen(&mut app, 200, 3);
    let top = top.lines().next().unwrap_or_default();
    assert!(
        top.contains(
            "timeout 4:18   stabilizing failed 8s   ███████░░░ 3/4 ready (75%) · 0.0/s   \
             ⚠ Warning: Deployment octopus/nginx: .spec.replica: field not declared (+1 more)"
        ),
        "{top}"
    );
}

#[test]
fn filter_keeps_matches_and_their_ancestors() {
    let mut app = fixtures::app();
    press(&mut app, &[Action::StartFilter]);
    for c in "failed".chars() {
        press(&mut app, &[Action::FilterChar(c)]);
    }
    insta::assert_snapshot!(screen(&mut app, 100, 8));
}

#[test]
fn very_small_screens() {
    let mut app = fixtures::app();
    insta::assert_snapshot!("20x5", screen(&mut app, 20, 5));
    insta::assert_snapshot!("1x1", screen(&mut app, 1, 1));
}

#[test]
fn no_size_panics_in_any_pane() {
    let panes: [&[Action]; 5] = [
        &[],
        &[Action::NextFailure, Action::Details],
        &[Action::NextFailure, Action::Logs, Action::Wrap],
        &[Action::NextFailure, Action::Events],
        &[Action::Help],
    ];
    for keys in panes {
        let mut app = fixtures::app();
        press(&mut app, keys);
        app.update(Message::LogLine("a log line that is long".into()), app.now);
        for width in 0..=24 {
            for height in 0..=7 {
                // The backend cannot print a zero-width buffer; drawing is what is tested.
                draw(&mut app, width, height);
            }
        }
    }
}

#[test]
fn a_missing_root_shows_as_missing() {
    let mut app = App::new(
        crate::model::World::new(vec![fixtures::key("ConfigMap", "settings")]),
        crate::tracker::Tracker::new(None, Duration::ZERO),
        crate::ui::app::Header::default(),
    );
    let text = screen(&mut app, 70, 5);
    assert!(
        text.contains("∅ ConfigMap settings  missing  not in the cluster"),
        "{text}"
    );
    assert_eq!(app.tree.model.nodes[0].status, Status::Missing);
}

#[test]
fn a_held_root_shows_what_it_waits_for() {
    let key = fixtures::key("Issuer", "selfsigned");
    let mut app = App::new(
        crate::model::World::new(vec![key.clone()]),
        crate::tracker::Tracker::new(None, Duration::ZERO),
        crate::ui::app::Header::default(),
    );
    let mut row = crate::model::TrackedObject::for_test(key, Status::InProgress, None);
    row.message = "waiting for webhook w.example: Service cm/w has no ready endpoints".into();
    let diff = crate::model::Diff::Held(Box::new(row));
    app.update(Message::Diffs(vec![diff]), app.now);
    let text = screen(&mut app, 110, 5);
    assert!(
        text.contains(
            "Issuer selfsigned  in_progress  waiting for webhook w.example: Service cm/w has no \
             ready endpoints"
        ),
        "{text}"
    );
}

#[test]
fn a_slice_that_does_not_count_informs_and_an_old_revision_is_old() {
    use crate::model::{ObjectKey, TrackedObject};
    let service = ObjectKey::new("Service", Some("ns"), "web");
    let deployment = ObjectKey::new("Deployment", Some("ns"), "web");
    let text = |kind: &str, owner: &ObjectKey, counted: bool| {
        let key = ObjectKey::new(kind, Some("ns"), "web-1");
        let mut object = TrackedObject::for_test(key.clone(), Status::InProgress, Some(owner));
        object.counted = counted;
        let line = crate::ui::tree::row(&key, Some(&object), false);
        line.spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect::<String>()
    };
    assert!(
        text("EndpointSlice", &service, false)
            .contains("EndpointSlice web-1 (informs)  in_progress")
    );
    assert!(text("EndpointSlice", &service, true).contains("EndpointSlice web-1  in_progress"));
    assert!(text("ReplicaSet", &deployment, false).contains("ReplicaSet web-1 (old)  in_progress"));
}

#[test]
fn an_untracked_object_is_dimmed_and_says_so() {
    let mut app = fixtures::app();
    let key = fixtures::key("Service", "nginx");
    let mut service = app.world.objects[&key].clone();
    service.counted = false;
    let diff = crate::model::Diff::Upsert(Box::new(service));
    app.update(Message::Diffs(vec![diff]), app.now);
    let terminal = draw(&mut app, 110, 18);
    let buffer = terminal.backend().buffer();
    let text = terminal.backend().to_string();
    let (row, line) = text
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains("Service nginx"))
        .expect("the Service's row");
    assert!(
        line.contains("Service nginx (untracked)  success"),
        "{text}"
    );
    let column = line.find("nginx").expect("name");
    let cell = &buffer[(
        u16::try_from(line[..column].chars().count()).unwrap(),
        u16::try_from(row).unwrap(),
    )];
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::DIM),
        "{text}"
    );
}

#[test]
fn header_gauges_the_new_revision_with_its_pace_and_time_left() {
    let mut app = fixtures::big_app();
    let top = screen(&mut app, 160, 3);
    let top = top.lines().next().unwrap_or_default();
    // 45 of 100 ready, 35 more in the last 10 s: 3.5/s, 55 left in about 15 s.
    assert!(
        top.contains(
            "stabilizing failed 48s   ████░░░░░░ 45/100 ready (45%) · 3.5/s · about 0:15 left"
        ),
        "{top}"
    );
}

/// README's picture: the failing rollout with the failed pod's details open, as drawn.
#[test]
fn the_readme_picture_is_the_current_rendering() {
    const PICTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/view.svg");
    let mut app = fixtures::app();
    press(&mut app, &[Action::NextFailure, Action::Details]);
    let terminal = draw(&mut app, 150, 30);
    let svg = crate::ui::svg::svg(terminal.backend().buffer());
    if std::env::var_os("KOS_UPDATE_PICTURE").is_some() {
        std::fs::write(PICTURE, &svg).unwrap();
    }
    let committed = std::fs::read_to_string(PICTURE).unwrap_or_default();
    assert!(
        committed == svg,
        "{PICTURE} is not the view as drawn now; regenerate it with\n  \
         KOS_UPDATE_PICTURE=1 cargo test --release -p kos --lib the_readme_picture"
    );
}

#[test]
fn a_big_workload_folds_its_pods_and_its_deployment_shows_both_revisions() {
    let mut app = fixtures::big_app();
    insta::assert_snapshot!(screen(&mut app, 100, 12));
}

#[test]
fn a_folded_workloads_pods_open_on_request() {
    let mut app = fixtures::big_app();
    // Deployment, new ReplicaSet, its summary, the row holding its pods: open it.
    press(
        &mut app,
        &[Action::Down, Action::Down, Action::Down, Action::Expand],
    );
    let text = screen(&mut app, 100, 12);
    assert!(text.contains("59 pods (→ lists them)"), "{text}");
    assert!(text.contains("Pod web-2-000  success"), "{text}");
    assert!(
        !text.contains("Pod web-2-059"),
        "the failed one is listed after: {text}"
    );
}

#[test]
fn details_of_a_workload_show_its_progress_history_and_sparkline() {
    let mut app = fixtures::big_app();
    press(&mut app, &[Action::Details]);
    insta::assert_snapshot!(screen(&mut app, 150, 24));
}

#[test]
fn a_folded_pod_that_changes_moves_the_summary_in_place_and_a_failure_is_listed() {
    let mut app = fixtures::big_app();
    let new_rs = fixtures::key("ReplicaSet", "web-2");
    let summary = |app: &mut App| {
        let text = screen(app, 100, 12);
        text.lines()
            .find(|line| line.contains('≡') && line.contains("failed"))
            .map(|line| line.trim_matches(['│', ' ', '"']).to_owned())
            .unwrap_or_default()
    };
    assert_eq!(summary(&mut app), "≡ 45 ready · 14 starting · 1 failed");
    let mut ready = fixtures::pod("web-2-050", &new_rs, Status::Success);
    ready.message = "Ready".into();
    app.update(
        Message::Diffs(vec![crate::model::Diff::Upsert(Box::new(ready))]),
        Duration::from_secs(43),
    );
    assert_eq!(summary(&mut app), "≡ 46 ready · 13 starting · 1 failed");
    let failing = fixtures::pod("web-2-051", &new_rs, Status::Failed);
    app.update(
        Message::Diffs(vec![crate::model::Diff::Upsert(Box::new(failing))]),
        Duration::from_secs(44),
    );
    assert_eq!(summary(&mut app), "≡ 46 ready · 12 starting · 2 failed");
    assert!(screen(&mut app, 100, 14).contains("✗ Pod web-2-051  failed"));
}

#[test]
fn a_folded_pods_row_is_patched_without_a_rebuild_unless_it_fails() {
    use crate::ui::tree::{Ids, TreeModel};
    let app = fixtures::big_app();
    let new_rs = fixtures::key("ReplicaSet", "web-2");
    let mut ids = Ids::default();
    let mut model = TreeModel::build(&app.world, "", &mut ids);
    let ready = fixtures::pod("web-2-050", &new_rs, Status::Success);
    let id = ids.of(&ready.key);
    assert!(
        model.patch_row(id, &ready, &app.world).is_some(),
        "ready: patched in place"
    );
    let failed = fixtures::pod("web-2-050", &new_rs, Status::Failed);
    assert!(
        model.patch_row(id, &failed, &app.world).is_none(),
        "failed: listed, a rebuild"
    );
    let listed = fixtures::pod("web-2-059", &new_rs, Status::Success);
    assert!(
        model
            .patch_row(ids.of(&listed.key), &listed, &app.world)
            .is_none(),
        "a listed failure that recovers folds again, a rebuild"
    );
}

#[test]
fn after_the_verdict_the_header_says_how_long_the_rollout_took_by_the_clusters_clock() {
    use crate::model::Diff;
    use crate::status::Condition;
    let web = fixtures::key("Deployment", "web");
    let mut app = App::new(
        crate::model::World::new(vec![web.clone()]),
        crate::tracker::Tracker::new(None, Duration::ZERO),
        crate::ui::app::Header::default(),
    );
    let mut deployment = fixtures::object("Deployment", "web", Status::Success, None);
    deployment.conditions = vec![Condition {
        type_: "Progressing".into(),
        status: "True".into(),
        reason: "NewReplicaSetAvailable".into(),
        updated: "2026-01-01T10:04:00Z".into(),
        ..Condition::default()
    }];
    let mut set = fixtures::object("ReplicaSet", "web-2", Status::Success, Some(web));
    set.created = "2026-01-01T10:00:35Z".into();
    app.update(
        Message::Diffs(vec![
            Diff::Upsert(Box::new(deployment)),
            Diff::Upsert(Box::new(set)),
        ]),
        Duration::from_secs(21),
    );
    let top = screen(&mut app, 100, 3);
    assert!(
        top.contains("done in 0:21 (rollout 3:25 by the cluster's clock)   ✓ success"),
        "{top}"
    );
}

#[test]
fn a_click_selects_the_row_under_it() {
    let mut app = fixtures::app();
    let drawn = screen(&mut app, 110, 18);
    let row = drawn
        .lines()
        .position(|line| line.contains("Service nginx"))
        .expect("the Service's row is drawn");
    let click = Mouse::Click {
        column: 10,
        row: u16::try_from(row).unwrap(),
    };
    assert!(app.update(Message::Mouse(click), app.now));
    assert_eq!(app.selected_key(), Some(&fixtures::key("Service", "nginx")));
    // Below the last row there is nothing to select.
    let below = Mouse::Click {
        column: 10,
        row: 16,
    };
    assert!(!app.update(Message::Mouse(below), app.now));
    assert_eq!(app.selected_key(), Some(&fixtures::key("Service", "nginx")));
}

#[test]
fn the_wheel_scrolls_the_tree_and_the_panes() {
    let mut app = fixtures::app();
    let selected = app.selected_key().cloned();
    // Six rows of tree on a short screen: the wheel moves them, not the selection.
    let top_row = |screen: &str| screen.lines().nth(2).unwrap_or_default().to_owned();
    let before = top_row(&screen(&mut app, 110, 10));
    app.update(Message::Mouse(Mouse::Wheel { down: true }), app.now);
    let after = top_row(&screen(&mut app, 110, 10));
    assert_ne!(before, after, "the wheel scrolled the tree");
    assert_eq!(app.selected_key().cloned(), selected);
    app.update(Message::Mouse(Mouse::Wheel { down: false }), app.now);
    assert_eq!(top_row(&screen(&mut app, 110, 10)), before);

    // In a pane, the wheel scrolls as the arrow keys do: three rows a notch.
    press(&mut app, &[Action::NextFailure, Action::Logs]);
    for i in 0..40 {
        app.update(Message::LogLine(format!("line {i}")), app.now);
    }
    app.update(Message::Mouse(Mouse::Wheel { down: false }), app.now);
    let logs = app.logs.as_ref().unwrap();
    assert!(!logs.follow, "scrolling up stops following");
    assert_eq!(logs.top, 40 - 6 - 3, "three rows up from the last page");
}
