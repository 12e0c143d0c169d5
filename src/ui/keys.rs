//! Keys → [`Action`]s, per [`KeyContext`] (the pane, the filter being typed, or help), and
//! the help text that lists them. It only translates: what an action does is
//! `App::update`'s business.

use crate::ui::app::{Action, KeyContext};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What `key` does in `context`, if anything. Key releases and repeats of releases are
/// ignored (terminals that report them would otherwise act twice).
pub fn action(context: KeyContext, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Action::Quit);
    }
    match context {
        KeyContext::Filter | KeyContext::Search => filter(key.code),
        KeyContext::Confirm => match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Yes),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::No),
            _ => None,
        },
        KeyContext::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('?') => Some(Action::Back),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        KeyContext::Tree => tree(key.code).or_else(|| common(key.code)),
        KeyContext::Logs => logs(key.code)
            .or_else(|| scroll(key.code))
            .or_else(|| common(key.code)),
        KeyContext::Events => scroll(key.code).or_else(|| common(key.code)),
        KeyContext::Object => object(key.code)
            .or_else(|| scroll(key.code))
            .or_else(|| common(key.code)),
    }
}

fn common(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

fn tree(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home => Action::Top,
        KeyCode::End => Action::Bottom,
        KeyCode::Left => Action::Collapse,
        KeyCode::Right => Action::Expand,
        KeyCode::Char(' ') => Action::Toggle,
        KeyCode::Enter => Action::Details,
        KeyCode::Char('f') => Action::NextFailure,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('l') => Action::Logs,
        KeyCode::Char('L') => Action::WorkloadLogs,
        KeyCode::Char('e') => Action::Events,
        KeyCode::Char('P') => Action::Promote,
        KeyCode::Char('A') => Action::Abort,
        KeyCode::Char('y') => Action::Yaml,
        KeyCode::Char('d') => Action::Diff,
        _ => return None,
    })
}

fn logs(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Char('f') => Action::Follow,
        KeyCode::Char('c') => Action::NextContainer,
        KeyCode::Char('a') => Action::AllContainers,
        KeyCode::Char('p') => Action::Previous,
        KeyCode::Char('w') => Action::Wrap,
        KeyCode::Char('t') => Action::Timestamps,
        KeyCode::Char('s') => Action::Save,
        KeyCode::Char(c @ '0'..='5') => Action::Since(c as u8 - b'0'),
        _ => return search(code),
    })
}

/// The keys of a searchable pane.
fn search(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('n') => Action::NextMatch,
        KeyCode::Char('N') => Action::PreviousMatch,
        _ => return None,
    })
}

fn object(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Char('y') => Action::Yaml,
        KeyCode::Char('d') => Action::Diff,
        _ => return search(code),
    })
}

fn scroll(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        _ => return None,
    })
}

fn filter(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Char(c) => Action::FilterChar(c),
        KeyCode::Backspace => Action::FilterBackspace,
        KeyCode::Enter => Action::FilterKeep,
        KeyCode::Esc => Action::Back,
        _ => return None,
    })
}

/// Every key of `context`, as the help overlay lists it.
pub fn help(context: KeyContext) -> &'static [(&'static str, &'static str)] {
    const QUIT: (&str, &str) = (
        "q, Ctrl-C",
        "quit: the verdict's exit code, or 130 before it",
    );
    match context {
        KeyContext::Tree | KeyContext::Help => &[
            ("↑ ↓, j k", "move the selection"),
            (
                "PgUp PgDn, Home End",
                "move by a page, to the top or bottom",
            ),
            ("← →", "collapse / expand the selected node"),
            ("Space", "toggle the selected node"),
            ("Enter", "open or close the details pane"),
            ("f", "jump to the next failed object"),
            ("/", "filter by kind, namespace, name, status or message"),
            (
                "l",
                "logs of the selected pod, or of the first pod under it",
            ),
            ("L", "logs of every pod under it (20 at most), merged"),
            ("e", "Events of the selected object"),
            (
                "P, A",
                "promote / abort the selected Argo Rollout (asks y/n)",
            ),
            ("y", "the selected object as the cluster holds it, as YAML"),
            ("d", "what kos applied against what the cluster holds"),
            ("Esc", "close details, clear the filter"),
            ("?", "this help"),
            QUIT,
        ],
        KeyContext::Confirm => &[
            ("y", "send the promote or abort"),
            ("n, Esc", "cancel"),
            ("Ctrl-C", "quit"),
        ],
        KeyContext::Search => &[
            ("text", "lines that have it, in any case"),
            ("Backspace", "delete a character"),
            ("Enter", "keep it and go to the first match"),
            ("Esc", "drop the search"),
            ("Ctrl-C", "quit"),
        ],
        KeyContext::Filter => &[
            (
                "text",
                "rows whose kind, namespace, name, status or message has it",
            ),
            ("Backspace", "delete a character"),
            ("Enter", "keep the filter"),
            ("Esc", "clear the filter"),
            ("Ctrl-C", "quit"),
        ],
        KeyContext::Logs => &[
            ("f", "follow on/off"),
            ("c", "next container"),
            ("a", "all containers at once, init ones included, on/off"),
            ("p", "previous (crashed) container instance on/off"),
            ("w", "wrap on/off"),
            ("t", "timestamps on/off"),
            (
                "0 1 2 3 4 5",
                "from the start, or the last 1m, 5m, 15m, 30m, 1h",
            ),
            ("/", "search, matches highlighted"),
            ("n N", "next, previous match"),
            ("s", "save the lines kept to a file (its path shown below)"),
            ("g G, Home End", "top, bottom"),
            ("PgUp PgDn, ↑ ↓", "scroll"),
            ("Esc", "back to the tree"),
            ("?", "this help"),
            QUIT,
        ],
        KeyContext::Object => &[
            (
                "y",
                "the object as YAML (managedFields and Secret data left out)",
            ),
            (
                "d",
                "what kos applied (-) against what the cluster holds (+)",
            ),
            ("/", "search"),
            ("n N", "next, previous match"),
            ("g G, Home End", "top, bottom"),
            ("PgUp PgDn, ↑ ↓", "scroll"),
            ("Esc", "back to the tree"),
            ("?", "this help"),
            QUIT,
        ],
        KeyContext::Events => &[
            ("g G, Home End", "top, bottom"),
            ("PgUp PgDn, ↑ ↓", "scroll"),
            ("Esc", "back to the tree"),
            ("?", "this help"),
            QUIT,
        ],
    }
}
