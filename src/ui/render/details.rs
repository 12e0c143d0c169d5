//! The details pane: status, counts, progress, status transitions, conditions, containers
//! and latest Events of the selected object, and for a workload a sparkline of its ready
//! replicas at the bottom. The model carries no Secret data, and neither does this pane.

use super::progress::{self, SPARKLINE_ROWS};
use super::status_look;
use crate::model::{EventRow, TrackedObject};
use crate::status::ContainerRow;
use crate::ui::app::App;
use crate::ui::tree::one_line;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Events shown in the details pane; the events view (`e`) has them all.
const LATEST_EVENTS: usize = 8;

/// The details pane needs this many rows inside its border before it gives some to the
/// sparkline.
const ROOM_FOR_SPARKLINE: u16 = 12;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(" details ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let key = app.selected_key();
    let lines = match key {
        Some(key) => match app.world.object(key) {
            Some(object) => {
                let mut lines = object_lines(object);
                lines.extend(progress::details_line(app, key));
                if let Some(transitions) = app.history.transitions(key) {
                    lines.push(Line::default());
                    lines.push(heading("History"));
                    lines.push(progress::transitions_line(transitions));
                }
                lines.extend(more_lines(object, app.world.events.get(key)));
                lines
            }
            None => vec![
                Line::from(key.to_string()),
                Line::from("∅ missing  not in the cluster"),
            ],
        },
        None => vec![Line::from("nothing selected")],
    };
    let series = key.and_then(|key| app.history.ready(key));
    let text_area = match series {
        Some(series) if inner.height >= ROOM_FOR_SPARKLINE => {
            let [text, chart] =
                Layout::vertical([Constraint::Min(0), Constraint::Length(SPARKLINE_ROWS)])
                    .areas(inner);
            progress::render_sparkline(series, app.now, frame, chart);
            text
        }
        _ => inner,
    };
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    frame.render_widget(paragraph, text_area);
}

fn heading(text: &str) -> Line<'static> {
    Line::styled(
        text.to_owned(),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )
}

/// The object's name, status, counts, owner and revision.
fn object_lines(object: &TrackedObject) -> Vec<Line<'static>> {
    let look = status_look(object.status);
    let mut lines = vec![
        Line::styled(
            object.key.to_string(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::from(vec![
            Span::styled(
                format!("{} {}", look.glyph, object.status.as_str()),
                look.style,
            ),
            Span::raw(format!("  {}", one_line(&object.message))),
        ]),
    ];
    if let Some(counts) = object.counts {
        lines.push(Line::from(format!(
            "replicas ready {}/{}",
            counts.ready, counts.desired
        )));
    }
    if let Some(owner) = &object.owner {
        lines.push(Line::from(format!("owner {}", owner.kind_name())));
    }
    if !object.counted {
        lines.push(Line::styled(
            "old revision: does not count toward the verdict",
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    lines
}

/// The object's conditions, containers and latest Events.
fn more_lines(object: &TrackedObject, events: Option<&Vec<EventRow>>) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if !object.conditions.is_empty() {
        lines.push(Line::default());
        lines.push(heading("Conditions"));
        for c in &object.conditions {
            lines.push(Line::from(format!(
                "{:<20} {:<7} {}  {}",
                c.type_,
                c.status,
                c.reason,
                one_line(&c.message)
            )));
        }
    }
    if !object.containers.is_empty() {
        lines.push(Line::default());
        lines.push(heading("Containers"));
        lines.extend(object.containers.iter().map(container_line));
    }
    let events = events.map_or(&[][..], Vec::as_slice);
    if !events.is_empty() {
        lines.push(Line::default());
        lines.push(heading("Events"));
        let skip = events.len().saturating_sub(LATEST_EVENTS);
        lines.extend(events[skip..].iter().map(event_line));
    }
    lines
}

fn container_line(c: &ContainerRow) -> Line<'static> {
    let mut parts = vec![
        format!("{}{}", c.name, if c.init { " (init)" } else { "" }),
        c.state.clone(),
    ];
    if !c.reason.is_empty() {
        parts.push(c.reason.clone());
    }
    if let Some(code) = c.exit_code {
        parts.push(format!("exit {code}"));
    }
    parts.push(format!("ready {}", if c.ready { "yes" } else { "no" }));
    parts.push(format!("restarts {}", c.restarts));
    if let Some(last) = &c.last_state {
        parts.push(format!("last {last}"));
    }
    if !c.message.is_empty() {
        parts.push(one_line(&c.message));
    }
    let style = if c.state == "running" && c.ready {
        Style::new()
    } else {
        Style::new().fg(Color::Yellow)
    };
    Line::styled(parts.join("  "), style)
}

/// One Event: type, reason, count and message, Warnings in red.
pub fn event_line(e: &EventRow) -> Line<'static> {
    let style = if e.type_ == "Warning" {
        Style::new().fg(Color::Red)
    } else {
        Style::new()
    };
    let count = if e.count > 1 {
        format!(" ×{}", e.count)
    } else {
        String::new()
    };
    Line::from(vec![
        Span::styled(format!("{:<8}", short_time(&e.last_seen)), Style::new()),
        Span::styled(format!(" {:<7} {}{count}", e.type_, e.reason), style),
        Span::raw(format!("  {}", one_line(&e.message))),
    ])
}

/// `2026-11-26T09:24:03Z` → `09:24:03`; anything else as it is.
fn short_time(rfc3339: &str) -> String {
    rfc3339
        .split_once('T')
        .map_or(rfc3339, |(_, time)| time)
        .chars()
        .take(8)
        .collect()
}
