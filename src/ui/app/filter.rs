//! The tree's filter: the text typed after `/`, and whether it is still being typed.
//!
//! Owns [`Filter`]; only the methods here write it, and [`App::update`](super::App::update)
//! is their only caller. It must not rebuild the tree itself: a change of the filter is
//! reported, and `update` has the tree rebuilt with the new text.

use super::Action;

/// The filter of the tree: rows whose kind, namespace, name, status or message contains
/// `text`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub text: String,
    /// The user is typing it.
    pub editing: bool,
}

impl Filter {
    /// Whether any row is filtered out: a filter is on once it has text.
    pub fn is_on(&self) -> bool {
        !self.text.is_empty()
    }

    pub(super) fn start_editing(&mut self) -> bool {
        self.editing = true;
        true
    }

    pub(super) fn clear(&mut self) {
        *self = Filter::default();
    }

    /// Applies a key typed while editing. Returns false for a key that is not about the
    /// filter; true otherwise, Enter (keep) included, after which the tree is rebuilt.
    pub(super) fn edit(&mut self, action: Action) -> bool {
        edit_line(&mut self.text, &mut self.editing, action)
    }
}

/// Applies a key typed into a one-line prompt (the filter, a pane's search): characters and
/// Backspace edit `text`, Enter keeps it and ends `editing`, Esc empties it and ends
/// `editing`. False for a key that is not about the prompt.
pub(super) fn edit_line(text: &mut String, editing: &mut bool, action: Action) -> bool {
    match action {
        Action::FilterChar(c) => text.push(c),
        Action::FilterBackspace => {
            text.pop();
        }
        Action::FilterKeep => *editing = false,
        Action::Back => {
            text.clear();
            *editing = false;
        }
        _ => return false,
    }
    true
}
