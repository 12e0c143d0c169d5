//! What is on screen under the header: the main pane, the details beside the tree, the help
//! overlay and the events pane's scroll.
//!
//! Owns [`Panes`] and [`EventsView`]. Only the methods here write them (the fields are
//! public for drawing), and [`App::update`](super::App::update) is their only caller. It
//! must not read the world: what a pane needs from it (an Event count) is passed in.

use super::{Action, KeyContext};
use crate::model::ObjectKey;

/// The main pane under the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pane {
    /// The view opens on the tree.
    #[default]
    Tree,
    Logs,
    Events,
    /// One object's YAML or diff.
    Object,
}

impl Pane {
    /// Where keys go in this pane when neither help nor the filter takes them.
    pub fn key_context(self) -> KeyContext {
        match self {
            Pane::Tree => KeyContext::Tree,
            Pane::Logs => KeyContext::Logs,
            Pane::Events => KeyContext::Events,
            Pane::Object => KeyContext::Object,
        }
    }
}

/// The events pane: one object's latest Events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsView {
    pub key: ObjectKey,
    pub top: usize,
}

impl EventsView {
    /// Applies a scroll key over `total` Events with `page` rows on screen; returns false for
    /// any other key.
    fn scroll(&mut self, action: Action, page: usize, total: usize) -> bool {
        scrolled(&mut self.top, action, page, total)
    }
}

/// Moves `top`, the first of `total` lines shown in `page` rows, by a scroll key; false for
/// any other key. Every pane that scrolls by its top line scrolls by this rule.
pub(super) fn scrolled(top: &mut usize, action: Action, page: usize, total: usize) -> bool {
    let last = total.saturating_sub(page);
    *top = match action {
        Action::Top => 0,
        Action::Bottom => last,
        Action::PageUp => top.saturating_sub(page),
        Action::PageDown => (*top + page).min(last),
        Action::Up => top.saturating_sub(1),
        Action::Down => (*top + 1).min(last),
        _ => return false,
    };
    true
}

/// Which panes are up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Panes {
    pub pane: Pane,
    /// The details of the selected object, beside or below the tree.
    pub details: bool,
    /// The help overlay, over whichever pane is up.
    pub help: bool,
    pub events: Option<EventsView>,
}

impl Panes {
    pub(super) fn show(&mut self, pane: Pane) -> bool {
        self.pane = pane;
        true
    }

    pub(super) fn set_help(&mut self, open: bool) -> bool {
        self.help = open;
        true
    }

    pub(super) fn toggle_details(&mut self) -> bool {
        self.details = !self.details;
        true
    }

    /// Closes the details; returns whether they were open.
    pub(super) fn close_details(&mut self) -> bool {
        std::mem::take(&mut self.details)
    }

    /// Shows the Events of `key` from the first.
    pub(super) fn open_events(&mut self, key: ObjectKey) -> bool {
        self.events = Some(EventsView { key, top: 0 });
        self.show(Pane::Events)
    }

    /// The object whose Events the events pane shows.
    pub(super) fn events_of(&self) -> Option<&ObjectKey> {
        self.events.as_ref().map(|view| &view.key)
    }

    /// Applies a key of the events pane (see [`EventsView::scroll`]). Without an events
    /// view, which the pane never lacks, any key goes back to the tree.
    pub(super) fn scroll_events(&mut self, action: Action, page: usize, total: usize) -> bool {
        match self.events.as_mut() {
            Some(view) => view.scroll(action, page, total),
            None => self.show(Pane::Tree),
        }
    }
}
