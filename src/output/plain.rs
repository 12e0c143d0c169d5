//! `--output plain`: one line per status change, a final outcome line, the progress line
//! printed (on stderr) while nothing else is, and the `GitHub` Actions `::error::` workflow
//! command.
//!
//! Pure string building; colour is decided by the caller (a terminal, and no `NO_COLOR`).

use super::{Row, safe};
use crate::duration;
use crate::gauge::{self, Gauge, Pace};
use crate::model::ObjectKey;
use crate::status::Status;
use crate::tracker::Verdict;
use std::time::Duration;

/// Whether to colour: only on a terminal, never with `NO_COLOR` set (to anything non-empty).
pub fn use_colour(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// `   4.2s  Pod shop/web-2-x  failed  nginx: ImagePullBackOff (...)`.
pub fn change_line(
    elapsed: Duration,
    key: &ObjectKey,
    status: Status,
    message: &str,
    colour: bool,
) -> String {
    let word = paint(status.as_str(), colour.then(|| status_colour(status)));
    let key = safe::clean(&key.to_string()).into_owned();
    let message = safe::clean(message);
    let line = format!("{:>7}  {key}  {word}  {message}", duration::short(elapsed));
    line.trim_end().to_owned()
}

/// Roots a progress line names as still waited for; the others are counted.
const WAITING_NAMED: usize = 3;

/// `  12.0s  progress  1 500/3 000 ready (50%) · 42.5/s · about 35.3s left · waiting for
/// Deployment shop/web`: the counted workloads' gauge (when there are any), their pace
/// (once known) and the roots not done yet (`waiting`, in input order). Not a change line:
/// its second column is the word `progress`, never an object.
pub fn progress_line(
    elapsed: Duration,
    gauge: Option<Gauge>,
    pace: Pace,
    waiting: &[&ObjectKey],
) -> String {
    let mut parts = Vec::new();
    if let Some(gauge) = gauge {
        parts.push(gauge::describe(gauge));
        parts.extend(gauge::describe_pace(pace, duration::short));
    }
    if !waiting.is_empty() {
        let named: Vec<String> = waiting
            .iter()
            .take(WAITING_NAMED)
            .map(|key| safe::clean(&key.to_string()).into_owned())
            .collect();
        let more = match waiting.len().saturating_sub(WAITING_NAMED) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        parts.push(format!("waiting for {}{more}", named.join(", ")));
    }
    if parts.is_empty() {
        parts.push("confirming the outcome".to_owned());
    }
    format!(
        "{:>7}  progress  {}",
        duration::short(elapsed),
        parts.join(" · ")
    )
}

/// `outcome: failed after 31.2s (1 failed, 2 in progress, 3 success)`.
pub fn final_line(verdict: Verdict, elapsed: Duration, rows: &[Row<'_>], colour: bool) -> String {
    let mut tally: Vec<(Status, usize)> = Vec::new();
    for row in rows.iter().filter(|r| r.counted()) {
        match tally.iter_mut().find(|(s, _)| *s == row.status()) {
            Some((_, n)) => *n += 1,
            None => tally.push((row.status(), 1)),
        }
    }
    tally.sort();
    let mut parts: Vec<String> = tally
        .iter()
        .map(|(status, n)| format!("{n} {}", status.as_str().replace('_', " ")))
        .collect();
    // Every object untracked (`kos.dev/track: "false"`): say so rather than print `()`.
    if parts.is_empty() {
        parts.push("no object counted".to_owned());
    }
    let colour = colour.then_some(match verdict {
        Verdict::Success => GREEN,
        Verdict::Failed => RED,
        Verdict::Timeout | Verdict::Interrupted => YELLOW,
    });
    format!(
        "outcome: {} after {} ({})",
        paint(verdict.as_str(), colour),
        duration::short(elapsed),
        parts.join(", ")
    )
}

/// `::error title=kos::Pod shop/web-2-x failed: ...`, escaped as workflow commands need
/// (line ends as `%0A`, so that a message cannot start a workflow command of its own), the
/// other controls as everywhere else.
pub fn github_error(key: &ObjectKey, message: &str) -> String {
    let escape = |text: &str| {
        let text = text
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        safe::clean(&text).into_owned()
    };
    format!(
        "::error title=kos::{} failed: {}",
        escape(&key.to_string()),
        escape(message)
    )
}

const GREEN: &str = "32";
const RED: &str = "31";
const YELLOW: &str = "33";

fn status_colour(status: Status) -> &'static str {
    match status {
        Status::Success => GREEN,
        Status::Failed => RED,
        Status::InProgress => YELLOW,
        Status::Terminating | Status::Missing => "35",
        Status::Suspended | Status::Unknown => "34",
    }
}

fn paint(text: &str, colour: Option<&str>) -> String {
    match colour {
        Some(code) => format!("\x1b[{code}m{text}\x1b[0m"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{fixtures, tree};
    use super::*;

    #[test]
    fn a_change_line_has_elapsed_object_status_and_message() {
        let key = ObjectKey::new("Pod", Some("octopus"), "nginx-7c5d-x2x9k");
        let line = change_line(
            Duration::from_millis(4200),
            &key,
            Status::Failed,
            "nginx: ImagePullBackOff",
            false,
        );
        assert_eq!(
            line,
            "   4.2s  Pod octopus/nginx-7c5d-x2x9k  failed  nginx: ImagePullBackOff"
        );
        let coloured = change_line(Duration::ZERO, &key, Status::Failed, "", true);
        assert!(coloured.contains("\x1b[31mfailed\x1b[0m"), "{coloured}");
    }

    #[test]
    fn the_final_line_tallies_counted_objects() {
        let world = fixtures::failing_world();
        let line = final_line(
            Verdict::Failed,
            Duration::from_millis(31_250),
            &tree(&world),
            false,
        );
        assert_eq!(
            line,
            "outcome: failed after 31.2s (2 in progress, 1 failed, 1 missing)"
        );
        assert_eq!(
            final_line(Verdict::Success, Duration::from_secs(10), &[], false),
            "outcome: success after 10.0s (no object counted)"
        );
    }

    #[test]
    fn a_progress_line_has_the_gauge_the_pace_and_what_is_waited_for() {
        let gauge = Gauge {
            ready: 1_500,
            desired: 3_000,
        };
        let pace = Pace {
            per_second: Some(42.5),
            left: Some(Duration::from_secs(35)),
        };
        let keys: Vec<ObjectKey> = ["web", "api", "db", "cache"]
            .iter()
            .map(|name| ObjectKey::new("Deployment", Some("shop"), name))
            .collect();
        let waiting: Vec<&ObjectKey> = keys.iter().collect();
        assert_eq!(
            progress_line(Duration::from_secs(12), Some(gauge), pace, &waiting[..1]),
            "  12.0s  progress  1 500/3 000 ready (50%) · 42.5/s · about 35.0s left · \
             waiting for Deployment shop/web"
        );
        assert_eq!(
            progress_line(Duration::from_secs(3), None, Pace::default(), &waiting),
            "   3.0s  progress  waiting for Deployment shop/web, Deployment shop/api, \
             Deployment shop/db and 1 more"
        );
        assert_eq!(
            progress_line(Duration::ZERO, None, Pace::default(), &[]),
            "   0.0s  progress  confirming the outcome"
        );
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(!use_colour(false, None));
        assert!(!use_colour(true, Some(std::ffi::OsStr::new("1"))));
        assert!(use_colour(true, Some(std::ffi::OsStr::new(""))));
    }

    #[test]
    fn github_errors_are_escaped() {
        let key = ObjectKey::new("Pod", Some("ns"), "p");
        assert_eq!(
            github_error(&key, "50% done\nthen failed"),
            "::error title=kos::Pod ns/p failed: 50%25 done%0Athen failed"
        );
    }
}
