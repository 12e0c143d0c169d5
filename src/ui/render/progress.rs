//! How progress and history look: the gauge bar with ready of desired, pace and time left
//! (the header's for the counted workloads, the details pane's for one workload), the
//! status transitions line and the sparkline of ready replicas.

use super::clock;
use crate::gauge::{self, Gauge, Series};
use crate::model::ObjectKey;
use crate::ui::app::{App, Transitions};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use std::time::Duration;

/// Cells of the header's bar.
const HEADER_BAR: usize = 10;

/// Cells of the details pane's bar.
const DETAILS_BAR: usize = 20;

/// Rows the details pane gives the sparkline: a caption and the bars.
pub const SPARKLINE_ROWS: u16 = 4;

/// `██████░░░░`: `ratio` of `width` cells filled, rounded down (full only when done).
pub fn bar(ratio: f64, width: usize) -> String {
    let filled = ((ratio.clamp(0.0, 1.0) * width as f64).floor() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// `██████░░░░ 1 500/3 000 ready (50%) · 42.5/s · about 0:36 left`.
fn gauge_spans(
    gauge: Gauge,
    series: Option<&Series>,
    now: Duration,
    width: usize,
) -> Vec<Span<'static>> {
    let colour = if gauge.ready >= gauge.desired {
        Color::Green
    } else {
        Color::Yellow
    };
    let mut spans = vec![
        Span::styled(bar(gauge.ratio(), width), Style::new().fg(colour)),
        Span::raw(format!(" {}", gauge::describe(gauge))),
    ];
    let pace = series.map(|series| gauge::pace(gauge, series, now));
    if let Some(pace) = pace.and_then(|pace| gauge::describe_pace(pace, clock)) {
        spans.push(Span::raw(format!(" · {pace}")));
    }
    spans
}

/// The header's gauge: the counted workloads of the new revision, until the verdict.
pub fn header_spans(app: &App) -> Vec<Span<'static>> {
    let Some(overall) = gauge::overall(&app.world).filter(|g| g.desired > 0) else {
        return Vec::new();
    };
    let mut spans = vec![Span::raw("   ")];
    spans.extend(gauge_spans(
        overall,
        Some(app.history.overall()),
        app.now,
        HEADER_BAR,
    ));
    spans
}

/// The details pane's progress of the workload `key`, if it is one.
pub fn details_line(app: &App, key: &ObjectKey) -> Option<Line<'static>> {
    let gauge = gauge::of_key(&app.world, key)?;
    let mut spans = vec![Span::raw("progress ")];
    spans.extend(gauge_spans(
        gauge,
        app.history.ready(key),
        app.now,
        DETAILS_BAR,
    ));
    Some(Line::from(spans))
}

/// `Pending 0:00 → ContainerCreating 0:01 → Running 0:03 → Ready 0:05`, with `… →` first
/// when earlier ones were forgotten.
pub fn transitions_line(transitions: &Transitions) -> Line<'static> {
    let mut spans = Vec::new();
    if transitions.earlier {
        spans.push(Span::styled(
            "… → ",
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    for (i, (label, at)) in transitions.steps.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(
                " → ",
                Style::new().add_modifier(Modifier::DIM),
            ));
        }
        spans.push(Span::raw(label.clone()));
        spans.push(Span::styled(
            format!(" {}", clock(*at)),
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    Line::from(spans)
}

/// The sparkline of a workload's ready replicas, one bar per second up to now, in `area`
/// (a caption row, then the bars).
pub fn render_sparkline(series: &Series, now: Duration, frame: &mut Frame, area: Rect) {
    if area.height < 2 || area.width == 0 {
        return;
    }
    let values = series.tail(now, usize::from(area.width));
    let most = values.iter().copied().max().unwrap_or(0);
    let caption = format!(
        "ready replicas, last {} (top {})",
        clock(Duration::from_secs(values.len() as u64)),
        gauge::thousands(most)
    );
    let [caption_area, bars] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(1),
        ratatui::layout::Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(caption).style(Style::new().add_modifier(Modifier::DIM)),
        caption_area,
    );
    frame.render_widget(
        Sparkline::default()
            .data(&values)
            .max(most.max(1))
            .style(Style::new().fg(Color::Green)),
        bars,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_by_the_ratio_and_is_full_only_when_done() {
        assert_eq!(bar(0.0, 4), "░░░░");
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(bar(0.99, 4), "███░");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(7.0, 2), "██");
        assert_eq!(bar(f64::NAN, 2), "░░");
    }
}
