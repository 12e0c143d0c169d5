//! The object pane: one object's live YAML, or the diff of what kos applied against it,
//! with the search's matches highlighted.

use crate::ui::app::{App, ObjectMode, ObjectView, Search};
use crate::ui::object_text::DiffLine;
use crate::ui::tree::one_line;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(view) = &app.object else {
        return;
    };
    let block = Block::bordered().title(title(view));
    let height = usize::from(block.inner(area).height);
    let mut rows: Vec<Line> = (view.top..view.lines.len())
        .take(height)
        .filter_map(|i| Some(row(&view.shown(i)?, &view.lines[i], &view.search)))
        .collect();
    if let Some(note) = view.note() {
        rows.push(Line::styled(note, Style::new().add_modifier(Modifier::DIM)));
    } else if view.lines.iter().all(|l| matches!(l, DiffLine::Same(_)))
        && view.mode == ObjectMode::Diff
        && view.top == 0
    {
        rows.insert(
            0,
            Line::styled(
                "no difference: the cluster holds the object as kos applied it",
                Style::new().add_modifier(Modifier::DIM),
            ),
        );
    }
    frame.render_widget(Paragraph::new(rows).block(block), area);
}

fn title(view: &ObjectView) -> String {
    let what = match view.mode {
        ObjectMode::Yaml => "live",
        ObjectMode::Diff => "applied (-) → live (+)",
    };
    let search = if view.search.text.is_empty() {
        String::new()
    } else {
        format!(" · /{}", view.search.text)
    };
    format!(" {} · {what}{search} ", view.key)
}

/// One line: red for what only kos applied, green for what only the cluster holds, the
/// search's matches reversed.
fn row(text: &str, line: &DiffLine, search: &Search) -> Line<'static> {
    let style = match line {
        DiffLine::Same(_) => Style::new(),
        DiffLine::Applied(_) => Style::new().fg(Color::Red),
        DiffLine::Live(_) => Style::new().fg(Color::Green),
    };
    let text = one_line(text);
    Line::from(highlighted(&text, search, style)).style(style)
}

/// `text` as spans, the matches of `search` (ignoring case) reversed.
pub fn highlighted(text: &str, search: &Search, style: Style) -> Vec<Span<'static>> {
    if !search.matches(text) {
        return vec![Span::styled(text.to_owned(), style)];
    }
    let lower = text.to_lowercase();
    let needle = search.text.to_lowercase();
    // Lower-casing may change byte lengths; then the whole line is marked instead.
    if lower.len() != text.len() {
        return vec![Span::styled(
            text.to_owned(),
            style.add_modifier(Modifier::REVERSED),
        )];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    for (start, found) in lower.match_indices(&needle) {
        spans.push(Span::styled(text[at..start].to_owned(), style));
        let end = start + found.len();
        spans.push(Span::styled(
            text[start..end].to_owned(),
            style.add_modifier(Modifier::REVERSED),
        ));
        at = end;
    }
    spans.push(Span::styled(text[at..].to_owned(), style));
    spans
}
