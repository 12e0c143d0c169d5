//! Drawing the view: a function of the [`App`] state and the frame, nothing else.
//!
//! Owns layout, colours and glyphs. It must not change what the user sees next time except
//! through the tree widget's own scroll bookkeeping (the only reason it takes `&mut App`),
//! and must not panic at any terminal size, down to 0×0.

mod details;
mod header;
mod help;
mod lists;
mod object;
mod progress;

use crate::status::Status;
use crate::ui::app::{App, Pane};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use std::time::Duration;
use tui_tree_widget::Tree;

/// How a status looks: a glyph, so that it reads without colour, and a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub glyph: &'static str,
    pub style: Style,
}

pub fn status_look(status: Status) -> Look {
    let (glyph, color) = match status {
        Status::Success => ("✓", Color::Green),
        Status::Failed => ("✗", Color::Red),
        Status::InProgress => ("⟳", Color::Yellow),
        Status::Suspended => ("‖", Color::Blue),
        Status::Terminating => ("⌫", Color::Magenta),
        Status::Unknown => ("?", Color::Gray),
        Status::Missing => ("∅", Color::Gray),
    };
    Look {
        glyph,
        style: Style::new().fg(color),
    }
}

/// Width from which the details pane sits beside the tree rather than below it.
const SIDE_BY_SIDE: u16 = 110;

/// Draws the whole screen.
pub fn render(app: &mut App, frame: &mut Frame) {
    // On a screen of one or two rows the header is what matters most.
    let footer_rows = u16::from(frame.area().height >= 3);
    let [header_area, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(footer_rows),
    ])
    .areas(frame.area());
    header::render(app, frame, header_area);
    match app.panes.pane {
        Pane::Tree => render_tree_pane(app, frame, body),
        Pane::Logs => lists::render_logs(app, frame, body),
        Pane::Events => lists::render_events(app, frame, body),
        Pane::Object => object::render(app, frame, body),
    }
    frame.render_widget(footer_line(app), footer);
    if app.panes.help {
        help::render(app, frame, body);
    }
}

fn render_tree_pane(app: &mut App, frame: &mut Frame, area: Rect) {
    let (tree_area, details_area) = if app.panes.details {
        let direction = if area.width >= SIDE_BY_SIDE {
            Direction::Horizontal
        } else {
            Direction::Vertical
        };
        let [a, b] = Layout::new(
            direction,
            [Constraint::Percentage(55), Constraint::Percentage(45)],
        )
        .areas(area);
        (a, Some(b))
    } else {
        (area, None)
    };
    let title = if app.filter.text.is_empty() {
        " objects ".to_owned()
    } else {
        format!(" objects matching “{}” ", app.filter.text)
    };
    let block = Block::bordered().title(title);
    if app.tree.model.items.is_empty() {
        let text = if app.filter.text.is_empty() {
            "nothing tracked yet"
        } else {
            "no object matches the filter"
        };
        frame.render_widget(Paragraph::new(text).block(block), tree_area);
    } else if let Ok(tree) = Tree::new(&app.tree.model.items) {
        let tree = tree
            .block(block)
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED))
            .highlight_symbol("›")
            .node_closed_symbol("▸ ")
            .node_open_symbol("▾ ");
        frame.render_stateful_widget(tree, tree_area, &mut app.tree.state);
    }
    if let Some(details_area) = details_area {
        details::render(app, frame, details_area);
    }
}

/// The last line: a promote or abort to confirm, the filter being typed, the cluster's
/// answer to the last one, or the main keys of the pane.
fn footer_line(app: &App) -> Line<'static> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    if let Some(request) = app.command.asking() {
        let question = format!(
            "{} rollout {}? ",
            capitalized(&request.operation.to_string()),
            request.rollout.name
        );
        return Line::from(vec![Span::styled(question, bold), Span::raw("y/n")]);
    }
    let typed = match app.search() {
        Some(search) if search.editing => Some(&search.text),
        _ => app.filter.editing.then_some(&app.filter.text),
    };
    if let Some(typed) = typed {
        return Line::from(vec![
            Span::styled("/", bold),
            Span::raw(typed.clone()),
            Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
            Span::raw("   Enter keep · Esc clear"),
        ]);
    }
    if let Some(notice) = app.command.notice() {
        return Line::styled(notice.to_owned(), bold);
    }
    let saved = app.logs.as_ref().and_then(|logs| logs.saved.as_ref());
    match saved {
        Some(Ok(path)) if app.panes.pane == Pane::Logs => {
            return Line::styled(format!("saved to {path}"), Style::new().fg(Color::Green));
        }
        Some(Err(reason)) if app.panes.pane == Pane::Logs => {
            return Line::styled(reason.clone(), Style::new().fg(Color::Red));
        }
        _ => {}
    }
    let hints = match app.panes.pane {
        Pane::Tree => {
            "↑↓ move · ←→ fold · Enter details · f failure · / filter · l logs · e events · ? help · q quit"
        }
        Pane::Logs => {
            "f follow · c container · p previous · w wrap · / search · n/N match · Esc back · ? help"
        }
        Pane::Events => "g/G top/bottom · PgUp/PgDn scroll · Esc back · ? help",
        Pane::Object => {
            "y yaml · d diff · / search · n/N match · g/G top/bottom · Esc back · ? help"
        }
    };
    Line::styled(hints, Style::new().add_modifier(Modifier::DIM))
}

/// `promote` → `Promote`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// `4:05`, or `1:02:03` past an hour: whole seconds, rounded down.
pub fn clock(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 3600 {
        format!("{}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

/// A countdown in whole seconds rounded up, so that `0:00` shows only at the end.
pub fn countdown(left: Duration) -> String {
    let up = if left.subsec_nanos() == 0 {
        left
    } else {
        Duration::from_secs(left.as_secs() + 1)
    };
    clock(up)
}
