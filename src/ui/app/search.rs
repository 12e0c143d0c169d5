//! Searching a pane's text (`/`, `n`, `N`): the text typed, whether it is still being
//! typed, and which line the next match is on.
//!
//! Owns [`Search`]; only the methods here write it, and [`App::update`](super::App::update)
//! is their only caller, through the pane that holds it.

use super::Action;
use super::filter::edit_line;

/// What the user searches for in a pane; matching ignores case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub text: String,
    /// The user is typing it.
    pub editing: bool,
}

impl Search {
    /// Whether `line` holds the text searched for (never, while there is none).
    pub fn matches(&self, line: &str) -> bool {
        !self.text.is_empty() && line.to_lowercase().contains(&self.text.to_lowercase())
    }

    pub(super) fn start(&mut self) -> bool {
        self.editing = true;
        true
    }

    /// Applies a key typed while editing: false for one that is not about the search. Esc
    /// drops it, Enter keeps it.
    pub(super) fn edit(&mut self, action: Action) -> bool {
        edit_line(&mut self.text, &mut self.editing, action)
    }

    /// The line of the next match in `lines`: the first at or after `from` going forward, the
    /// last before `from` going back, wrapping around the ends.
    pub fn next(&self, lines: &[String], from: usize, forward: bool) -> Option<usize> {
        let count = lines.len();
        let hit = |i: &usize| self.matches(&lines[*i]);
        let from = from.min(count);
        if forward {
            (from..count).chain(0..from).find(hit)
        } else {
            (0..from).rev().chain((from..count).rev()).find(hit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<String> {
        ["alpha", "Beta", "gamma", "beta again"]
            .map(str::to_owned)
            .to_vec()
    }

    fn search(text: &str) -> Search {
        Search {
            text: text.to_owned(),
            editing: false,
        }
    }

    #[test]
    fn next_and_previous_matches_wrap_around_and_ignore_case() {
        let beta = search("BETA");
        assert_eq!(beta.next(&lines(), 0, true), Some(1));
        assert_eq!(beta.next(&lines(), 2, true), Some(3));
        assert_eq!(beta.next(&lines(), 4, true), Some(1), "wraps to the top");
        assert_eq!(beta.next(&lines(), 3, false), Some(1));
        assert_eq!(beta.next(&lines(), 1, false), Some(3), "wraps to the end");
        assert_eq!(search("delta").next(&lines(), 0, true), None);
        assert_eq!(search("").next(&lines(), 0, true), None);
    }

    #[test]
    fn typing_builds_the_text_and_esc_drops_it() {
        let mut search = Search::default();
        search.start();
        for c in "bex".chars() {
            search.edit(Action::FilterChar(c));
        }
        search.edit(Action::FilterBackspace);
        search.edit(Action::FilterKeep);
        assert_eq!(search, self::search("be"));
        assert!(!search.edit(Action::Down));
        search.edit(Action::Back);
        assert_eq!(search, Search::default());
    }
}
