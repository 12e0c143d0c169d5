//! The two scrolling panes: a container's log and an object's Events.

use super::details::event_line;
use super::object::highlighted;
use crate::ui::app::{App, LogView};
use crate::ui::tree::one_line;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

pub fn render_logs(app: &App, frame: &mut Frame, area: Rect) {
    let Some(logs) = &app.logs else {
        return;
    };
    let block = Block::bordered().title(log_title(logs));
    let inner = block.inner(area);
    let mut rows = log_rows(logs, usize::from(inner.width), usize::from(inner.height));
    if let Some(note) = &logs.note {
        rows.push(Line::styled(
            format!("— {note}"),
            Style::new().add_modifier(Modifier::DIM),
        ));
        let excess = rows.len().saturating_sub(usize::from(inner.height));
        rows.drain(..excess);
    }
    if rows.is_empty() {
        rows.push(Line::styled(
            "waiting for log lines…",
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    frame.render_widget(Paragraph::new(rows).block(block), area);
}

fn log_title(logs: &LogView) -> String {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let since = logs
        .options
        .since_seconds
        .map(|secs| {
            let since = std::time::Duration::from_secs(u64::from(secs));
            format!(" · last {}", crate::duration::short(since))
        })
        .unwrap_or_default();
    let capped = logs
        .capped
        .map(|total| format!(" · first {} of {total} pods", logs.pods.len()))
        .unwrap_or_default();
    let search = if logs.search.text.is_empty() {
        String::new()
    } else {
        format!(" · /{}", logs.search.text)
    };
    format!(
        " logs {}{capped} · {}{} · follow {} · wrap {}{}{since}{search} ",
        logs.pod,
        match (logs.container, logs.container_name()) {
            (None, _) => "all containers",
            (Some(_), Some(name)) => name,
            (Some(_), None) => "(default container)",
        },
        if logs.previous { " (previous)" } else { "" },
        on_off(logs.follow),
        on_off(logs.wrap),
        if logs.options.timestamps {
            " · timestamps"
        } else {
            ""
        },
    )
}

/// The rows on screen: from `top`, or the last ones when following; wrapped lines take as
/// many rows as they need. The search's matches are highlighted row by row (a match cut by
/// wrapping is not).
fn log_rows(logs: &LogView, width: usize, height: usize) -> Vec<Line<'static>> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let split = |line: &String| -> Vec<String> {
        let line = one_line(line);
        if !logs.wrap {
            return vec![line];
        }
        let chars: Vec<char> = line.chars().collect();
        if chars.is_empty() {
            return vec![String::new()];
        }
        chars.chunks(width).map(|c| c.iter().collect()).collect()
    };
    let rows: Vec<String> = if logs.follow {
        // Walk back from the end until the screen is full.
        let mut rows = Vec::new();
        for line in logs.lines.iter().rev() {
            let mut parts = split(line);
            parts.reverse();
            rows.extend(parts);
            if rows.len() >= height {
                break;
            }
        }
        rows.truncate(height);
        rows.reverse();
        rows
    } else {
        logs.lines
            .iter()
            .skip(logs.top)
            .flat_map(split)
            .take(height)
            .collect()
    };
    rows.into_iter()
        .map(|row| Line::from(highlighted(&row, &logs.search, Style::new())))
        .collect()
}

pub fn render_events(app: &App, frame: &mut Frame, area: Rect) {
    let Some(view) = &app.panes.events else {
        return;
    };
    let block = Block::bordered().title(format!(" events {} ", view.key));
    let events = app
        .world
        .events
        .get(&view.key)
        .map_or(&[][..], Vec::as_slice);
    let lines: Vec<Line> = if events.is_empty() {
        vec![Line::styled(
            "no Events for this object",
            Style::new().add_modifier(Modifier::DIM),
        )]
    } else {
        events.iter().skip(view.top).map(event_line).collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
