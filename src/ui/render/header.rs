//! The header line: where, how long, the countdowns and the verdict.

use super::{clock, countdown, status_look};
use crate::status::Status;
use crate::tracker::Verdict;
use crate::ui::app::App;
use crate::ui::tree::one_line;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    frame.render_widget(line(app), area);
}

fn line(app: &App) -> Line<'static> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut spans = vec![
        Span::styled("kos ", bold),
        Span::raw(format!(
            "{} · {}",
            empty_as(&app.header.context, "(no context)"),
            namespaces(app)
        )),
    ];
    if let Some((reason, since)) = &app.lost {
        spans.push(Span::styled(
            format!(
                "   ⚠ cluster not answering for {}: {reason}; retrying (rows as of then)",
                clock(app.now.saturating_sub(*since))
            ),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    if let (Some(verdict), Some(at)) = (app.tracker.verdict(), app.tracker.decided_at()) {
        spans.push(Span::raw(format!("   done in {}", clock(at))));
        if let Some(took) = crate::gauge::rollout_took(&app.world) {
            spans.push(Span::raw(format!(
                " (rollout {} by the cluster's clock)",
                clock(took)
            )));
        }
        let (glyph, style) = verdict_look(verdict);
        spans.push(Span::styled(
            format!("   {glyph} {}", verdict.as_str()),
            style.add_modifier(Modifier::BOLD),
        ));
    } else {
        spans.push(Span::raw(format!("   elapsed {}", clock(app.now))));
        if let Some(left) = app.tracker.timeout_remaining(app.now) {
            spans.push(Span::raw(format!("   timeout {}", countdown(left))));
        }
        if let Some((state, left)) = app.tracker.window_remaining(app.now) {
            let (_, style) = verdict_look(state);
            spans.push(Span::styled(
                format!("   stabilizing {} {}s", state.as_str(), ceil_secs(left)),
                style,
            ));
        }
        spans.extend(super::progress::header_spans(app));
    }
    // Last: a long warning must not push the clocks and the verdict off the line.
    if let Some(first) = app.header.warnings.first() {
        let more = match app.header.warnings.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        spans.push(Span::styled(
            format!("   ⚠ Warning: {}{more}", one_line(first)),
            Style::new().fg(Color::Yellow),
        ));
    }
    Line::from(spans)
}

/// Where the tracked objects live: their namespace, how many when several, or the
/// context's namespace when they are all cluster-scoped.
fn namespaces(app: &App) -> String {
    match app.world.namespaces().as_slice() {
        [] => empty_as(&app.header.namespace, "(all namespaces)").to_owned(),
        [one] => (*one).to_owned(),
        several => format!("{} namespaces", several.len()),
    }
}

fn ceil_secs(left: std::time::Duration) -> u64 {
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

fn empty_as<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.is_empty() { fallback } else { text }
}

/// A verdict looks like the status it stands for; timeout and interrupted get their own.
fn verdict_look(verdict: Verdict) -> (&'static str, Style) {
    match verdict {
        Verdict::Success => {
            let look = status_look(Status::Success);
            (look.glyph, look.style)
        }
        Verdict::Failed => {
            let look = status_look(Status::Failed);
            (look.glyph, look.style)
        }
        Verdict::Timeout => ("⧖", Style::new().fg(Color::Red)),
        Verdict::Interrupted => ("⊘", Style::new().fg(Color::Yellow)),
    }
}
