//! The object pane's state: one object as the cluster holds it (`y`), or the difference
//! between what kos applied and that (`d`), scrolled and searched.
//!
//! Owns [`ObjectView`] and [`ObjectRequest`]. Only the methods here write an `ObjectView`
//! (the fields are public for drawing), and [`App::update`](super::App::update) is their
//! only caller. It must not read the cluster: it says which object it wants read
//! ([`ObjectView::request`]) and the event loop reads it.

use super::Action;
use super::Search;
use super::panes::scrolled;
use crate::model::ObjectKey;
use crate::ui::object_text::{self, DiffLine};
use serde_json::Value;
use std::sync::Arc;

/// Which object to read from the cluster; the event loop reads once per distinct request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRequest {
    pub key: ObjectKey,
    /// Bumped to read the object again once it changed.
    pub attempt: u32,
}

/// What the pane shows of its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The live object as YAML.
    Yaml,
    /// What kos applied (`-`) against the live object (`+`).
    Diff,
}

/// The object pane.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectView {
    pub key: ObjectKey,
    pub mode: Mode,
    /// The object as kos applied it; `None` for an object kos did not apply (a child).
    pub applied: Option<Arc<Value>>,
    /// The object as last read; `None` until the first answer. An error is the reason the
    /// cluster gave.
    pub live: Option<Result<Value, String>>,
    /// What is on screen, top to bottom (all [`DiffLine::Same`] in YAML mode).
    pub lines: Vec<DiffLine>,
    /// The first line shown.
    pub top: usize,
    pub search: Search,
    pub attempt: u32,
}

impl ObjectView {
    pub(super) fn new(key: ObjectKey, mode: Mode, applied: Option<Arc<Value>>) -> Self {
        let mut view = ObjectView {
            key,
            mode,
            applied,
            live: None,
            lines: Vec::new(),
            top: 0,
            search: Search::default(),
            attempt: 0,
        };
        view.relayout();
        view
    }

    pub(super) fn is_of(&self, key: &ObjectKey) -> bool {
        self.key == *key
    }

    pub(super) fn request(&self) -> ObjectRequest {
        ObjectRequest {
            key: self.key.clone(),
            attempt: self.attempt,
        }
    }

    /// Why there are no lines to show, if there are none.
    pub fn note(&self) -> Option<String> {
        if self.mode == Mode::Diff && self.applied.is_none() {
            return Some(format!(
                "kos did not apply {}: there is nothing applied to compare with",
                self.key
            ));
        }
        match &self.live {
            None => Some("reading the object from the cluster…".to_owned()),
            Some(Err(reason)) => Some(format!("cannot read {}: {reason}", self.key)),
            Some(Ok(_)) => None,
        }
    }

    /// Shows `mode` of the same object, from the top.
    pub(super) fn set_mode(&mut self, mode: Mode) -> bool {
        if self.mode != mode {
            self.mode = mode;
            self.top = 0;
            self.relayout();
        }
        true
    }

    /// The cluster's answer for `request`; an answer to an older request is dropped.
    pub(super) fn answer(&mut self, request: &ObjectRequest, live: Result<Value, String>) -> bool {
        if *request != self.request() {
            return false;
        }
        self.live = Some(live);
        self.relayout();
        true
    }

    /// The object changed in the cluster: it is read again (the view keeps its place).
    pub(super) fn reread(&mut self) {
        self.attempt += 1;
    }

    fn relayout(&mut self) {
        let live = match &self.live {
            Some(Ok(live)) => object_text::yaml_lines(live),
            _ => Vec::new(),
        };
        self.lines = match (self.mode, &self.applied) {
            (Mode::Yaml, _) => live.into_iter().map(DiffLine::Same).collect(),
            (Mode::Diff, Some(applied)) if !live.is_empty() => {
                object_text::diff(&object_text::yaml_lines(applied), &live)
            }
            (Mode::Diff, _) => Vec::new(),
        };
        self.top = self.top.min(self.lines.len().saturating_sub(1));
    }

    /// The text of line `index` as shown.
    pub fn shown(&self, index: usize) -> Option<String> {
        let line = self.lines.get(index)?;
        Some(match (self.mode, line) {
            (Mode::Yaml, DiffLine::Same(text)) => text.clone(),
            _ => line.text(),
        })
    }

    /// Applies a key of the pane with `page` rows on screen; false for a key it does not
    /// take (leaving, help and quit are the app's).
    pub(super) fn act(&mut self, action: Action, page: usize) -> bool {
        match action {
            Action::Yaml => self.set_mode(Mode::Yaml),
            Action::Diff => self.set_mode(Mode::Diff),
            Action::StartFilter => self.search.start(),
            // `n` looks past the line on top, `N` before it.
            Action::NextMatch => self.jump(self.top + 1, true),
            Action::PreviousMatch => self.jump(self.top, false),
            _ => scrolled(&mut self.top, action, page, self.lines.len()),
        }
    }

    /// A key typed into the search; Enter jumps to the first match from the line on top.
    pub(super) fn edit_search(&mut self, action: Action) -> bool {
        if !self.search.edit(action) {
            return false;
        }
        if action == Action::FilterKeep {
            self.jump(self.top, true);
        }
        true
    }

    /// Scrolls to the next match from line `from` (see [`Search::next`]); false when
    /// nothing matches.
    fn jump(&mut self, from: usize, forward: bool) -> bool {
        let shown: Vec<String> = (0..self.lines.len())
            .filter_map(|i| self.shown(i))
            .collect();
        let Some(line) = self.search.next(&shown, from, forward) else {
            return false;
        };
        // The match goes on top, even near the end: `n` moves on from there.
        self.top = line;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::type_keys;
    use super::super::{App, KeyContext, Message, Pane};
    use super::*;
    use crate::model::Diff;
    use crate::ui::fixtures::{self, key};
    use ratatui::crossterm::event::KeyCode;
    use serde_json::json;

    fn applied() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "nginx", "namespace": "octopus"},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "nginx", "image": "nginx:1.27"}
            ]}}}
        })
    }

    /// What the cluster holds: a controller scaled it and defaulted a field, and the
    /// server keeps managedFields.
    fn live() -> Value {
        let mut live = applied();
        live["spec"]["replicas"] = json!(4);
        live["spec"]["revisionHistoryLimit"] = json!(10);
        live["metadata"]["managedFields"] = json!([{"manager": "kos"}]);
        live["status"] = json!({"readyReplicas": 2});
        live
    }

    /// The fixture with the Deployment selected and applied by kos.
    fn app() -> App {
        let mut app = fixtures::app();
        app.applied
            .insert(key("Deployment", "nginx"), Arc::new(applied()));
        type_keys(&mut app, &[KeyCode::Down]);
        assert_eq!(app.selected_key(), Some(&key("Deployment", "nginx")));
        app
    }

    fn answer(app: &mut App, live: Result<Value, String>) {
        let request = app.object_request().expect("the pane asks for the object");
        assert!(app.update(Message::Object(request, live), app.now));
    }

    fn shown(app: &App) -> Vec<String> {
        let view = app.object.as_ref().unwrap();
        (0..view.lines.len())
            .filter_map(|i| view.shown(i))
            .collect()
    }

    #[test]
    fn y_shows_the_live_object_without_managed_fields() {
        let mut app = app();
        type_keys(&mut app, &[KeyCode::Char('y')]);
        assert_eq!(app.panes.pane, Pane::Object);
        let note = app.object.as_ref().unwrap().note();
        assert_eq!(
            note.as_deref(),
            Some("reading the object from the cluster…")
        );
        answer(&mut app, Ok(live()));
        let lines = shown(&app);
        assert!(lines.contains(&"  replicas: 4".to_owned()), "{lines:#?}");
        assert!(
            lines.contains(&"  readyReplicas: 2".to_owned()),
            "{lines:#?}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("managedFields")),
            "{lines:#?}"
        );
        type_keys(&mut app, &[KeyCode::Esc]);
        assert_eq!(app.panes.pane, Pane::Tree);
        assert_eq!(app.object_request(), None, "the read ends with the pane");
    }

    #[test]
    fn d_shows_what_changed_since_kos_applied_it() {
        let mut app = app();
        type_keys(&mut app, &[KeyCode::Char('d')]);
        answer(&mut app, Ok(live()));
        let lines = shown(&app);
        for line in [
            "-   replicas: 3",
            "+   replicas: 4",
            "+   revisionHistoryLimit: 10",
            "+ status:",
            "  kind: Deployment",
        ] {
            assert!(lines.contains(&line.to_owned()), "{line} in {lines:#?}");
        }
        type_keys(&mut app, &[KeyCode::Char('y')]);
        assert!(shown(&app).contains(&"  replicas: 4".to_owned()));
    }

    #[test]
    fn d_on_a_child_says_nothing_was_applied() {
        let mut app = app();
        type_keys(&mut app, &[KeyCode::Char('f'), KeyCode::Char('d')]);
        answer(&mut app, Ok(json!({"kind": "Pod"})));
        let view = app.object.as_ref().unwrap();
        assert!(view.lines.is_empty());
        let note = view.note().unwrap();
        assert!(
            note.contains("kos did not apply Pod octopus/nginx-7c5ddbdf54-x2x9k"),
            "{note}"
        );
        assert!(note.contains("nothing applied to compare with"), "{note}");
    }

    #[test]
    fn a_change_in_the_cluster_reads_the_object_again_and_old_answers_are_dropped() {
        let mut app = app();
        type_keys(&mut app, &[KeyCode::Char('y')]);
        let first = app.object_request().unwrap();
        let mut deployment = app.world.objects[&key("Deployment", "nginx")].clone();
        deployment.message = "3/3 replicas available".into();
        app.update(
            Message::Diffs(vec![Diff::Upsert(Box::new(deployment))]),
            app.now,
        );
        let second = app.object_request().unwrap();
        assert_eq!(second.attempt, first.attempt + 1);
        assert!(!app.update(Message::Object(first, Ok(live())), app.now));
        assert!(app.object.as_ref().unwrap().lines.is_empty());
        answer(&mut app, Err("deployments.apps \"nginx\" not found".into()));
        let note = app.object.as_ref().unwrap().note().unwrap();
        assert!(
            note.starts_with("cannot read Deployment octopus/nginx: "),
            "{note}"
        );
    }

    #[test]
    fn search_jumps_between_matches() {
        let mut app = app();
        app.size = (100, 8);
        type_keys(&mut app, &[KeyCode::Char('y')]);
        answer(&mut app, Ok(live()));
        let lines = shown(&app);
        let at = |text: &str| lines.iter().position(|l| l.contains(text)).unwrap();
        type_keys(&mut app, &[KeyCode::Char('/')]);
        assert_eq!(app.key_context(), KeyContext::Search);
        for c in "REPLICAS".chars() {
            type_keys(&mut app, &[KeyCode::Char(c)]);
        }
        type_keys(&mut app, &[KeyCode::Enter]);
        let (spec, status) = (at("  replicas: 4"), at("readyReplicas"));
        assert!(spec < status);
        assert_eq!(app_top(&app), spec, "the first match, in any case");
        type_keys(&mut app, &[KeyCode::Char('n')]);
        assert_eq!(app_top(&app), status);
        type_keys(&mut app, &[KeyCode::Char('n')]);
        assert_eq!(app_top(&app), spec, "round to the first again");
        type_keys(&mut app, &[KeyCode::Char('N')]);
        assert_eq!(app_top(&app), status, "and back round to the last");
        assert_eq!(app.key_context(), KeyContext::Object);
    }

    fn app_top(app: &App) -> usize {
        app.object.as_ref().unwrap().top
    }
}
