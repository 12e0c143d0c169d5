//! Big rollouts at a glance: above [`FOLD_ABOVE`] pods, a workload's pods fold into one
//! summary row by status (`2 195 ready · 805 starting · 0 failed`) and one closed row that
//! holds them, failed pods staying listed; a Deployment's row says its new and old revision
//! side by side (`new 1 500/3 000 · old 695`).
//!
//! Pure: what the rows say and the counting behind them. The tree ([`super::tree`]) decides
//! where they go and keeps a [`Tally`] per folded workload up to date as pods change, one
//! pod at a time.

use crate::gauge::thousands;
use crate::status::Status;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// A workload with more pods than this shows them folded.
pub const FOLD_ABOVE: usize = 40;

/// Pods of a folded workload, by what they are doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub ready: u64,
    pub starting: u64,
    pub failed: u64,
    pub terminating: u64,
    /// Unknown, suspended or missing.
    pub other: u64,
}

impl Tally {
    fn slot(&mut self, status: Status) -> &mut u64 {
        match status {
            Status::Success => &mut self.ready,
            Status::InProgress => &mut self.starting,
            Status::Failed => &mut self.failed,
            Status::Terminating => &mut self.terminating,
            Status::Suspended | Status::Unknown | Status::Missing => &mut self.other,
        }
    }

    pub fn add(&mut self, status: Status) {
        *self.slot(status) += 1;
    }

    /// A pod that was `was` went away.
    pub fn remove(&mut self, was: Status) {
        let slot = self.slot(was);
        *slot = slot.saturating_sub(1);
    }

    /// A pod that was `was` is now `now`.
    pub fn moved(&mut self, was: Status, now: Status) {
        self.remove(was);
        self.add(now);
    }

    /// How many pods it counts.
    pub fn total(&self) -> u64 {
        self.ready + self.starting + self.failed + self.terminating + self.other
    }

    /// `≡ 2 195 ready · 805 starting · 0 failed`, and terminating or other pods when there
    /// are any.
    pub fn row(&self) -> Line<'static> {
        let dim = Style::new().add_modifier(Modifier::DIM);
        let mut parts = vec![
            (self.ready, "ready", Color::Green),
            (self.starting, "starting", Color::Yellow),
            (self.failed, "failed", Color::Red),
        ];
        if self.terminating > 0 {
            parts.push((self.terminating, "terminating", Color::Magenta));
        }
        if self.other > 0 {
            parts.push((self.other, "other", Color::Gray));
        }
        let mut spans = vec![Span::styled("≡ ", dim)];
        for (i, (count, word, colour)) in parts.into_iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", dim));
            }
            let style = if count > 0 {
                Style::new().fg(colour)
            } else {
                dim
            };
            spans.push(Span::styled(format!("{} {word}", thousands(count)), style));
        }
        Line::from(spans)
    }
}

/// The row that holds a folded workload's pods (all but the failed ones), closed at first.
pub fn holder_row(pods: usize) -> Line<'static> {
    Line::styled(
        format!("{} pods (→ lists them)", thousands(pods as u64)),
        Style::new().add_modifier(Modifier::DIM),
    )
}

/// A Deployment's revisions during an update: its new revision's ready replicas of its
/// desired ones, and the pods its old revisions still have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revisions {
    pub new_ready: u64,
    pub desired: u64,
    pub old_pods: u64,
}

impl Revisions {
    /// `  new 1 500/3 000 · old 695`, or nothing once no old pod is left.
    pub fn spans(self) -> Option<Span<'static>> {
        (self.old_pods > 0).then(|| {
            Span::styled(
                format!(
                    "  new {}/{} · old {}",
                    thousands(self.new_ready),
                    thousands(self.desired),
                    thousands(self.old_pods)
                ),
                Style::new().add_modifier(Modifier::BOLD),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_tally_counts_by_status_and_follows_a_pod_that_changes() {
        let mut tally = Tally::default();
        for _ in 0..2_195 {
            tally.add(Status::Success);
        }
        for _ in 0..806 {
            tally.add(Status::InProgress);
        }
        tally.moved(Status::InProgress, Status::Success);
        tally.moved(Status::Success, Status::InProgress);
        tally.moved(Status::InProgress, Status::Success);
        assert_eq!(
            text(&tally.row()),
            "≡ 2 196 ready · 805 starting · 0 failed"
        );
        tally.moved(Status::Success, Status::Terminating);
        tally.add(Status::Unknown);
        assert_eq!(
            text(&tally.row()),
            "≡ 2 195 ready · 805 starting · 0 failed · 1 terminating · 1 other"
        );
        assert_eq!(tally.total(), 3_002);
        tally.remove(Status::Terminating);
        assert_eq!((tally.terminating, tally.total()), (0, 3_001));
        // Never below zero, whatever comes.
        let mut empty = Tally::default();
        empty.moved(Status::Failed, Status::Success);
        assert_eq!((empty.failed, empty.ready), (0, 1));
        empty.remove(Status::Terminating);
        assert_eq!(empty.total(), 1);
    }

    #[test]
    fn a_deployment_shows_its_revisions_only_while_old_pods_are_left() {
        let update = Revisions {
            new_ready: 1_500,
            desired: 3_000,
            old_pods: 695,
        };
        assert_eq!(
            update.spans().map(|s| s.content.into_owned()).as_deref(),
            Some("  new 1 500/3 000 · old 695")
        );
        let done = Revisions {
            old_pods: 0,
            ..update
        };
        assert_eq!(done.spans(), None);
        assert_eq!(text(&holder_row(3_000)), "3 000 pods (→ lists them)");
    }
}
