//! The failure digest: for every failed or still-in-progress counted object, its reason,
//! what the user can do about it when kos knows (a load balancer that never came), its
//! latest Warning Events and, for pods, the last log lines of the failing container — the
//! answer to "it timed out, but why?".
//!
//! Pure: [`assemble`] picks the entries and the logs to fetch; the driver fetches them and
//! fills [`Entry::logs`]; [`render`] words it for stderr.

use super::safe::{clean, clean_bounded};
use super::tree;
use crate::model::{EventRow, ObjectKey, TrackedObject, World};
use crate::status::{AWAITING_LOAD_BALANCER, ContainerRow, Status};
use serde::{Deserialize, Serialize};

/// How many Warning Events an entry shows.
const WARNINGS: usize = 5;
/// How many log lines an entry shows unless `--digest-logs` says otherwise.
pub const LOG_LINES: usize = 10;

/// One object of the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub status: Status,
    pub reason: String,
    /// What the user can do about it, when kos knows.
    pub hint: Option<String>,
    /// `Reason: message (xN)`, newest last.
    pub warnings: Vec<String>,
    pub logs: Option<Logs>,
}

/// The last lines of one container's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logs {
    pub container: String,
    /// The previous (crashed) instance rather than the current one.
    pub previous: bool,
    pub lines: Vec<String>,
    /// Why the lines could not be read, when they could not.
    pub error: Option<String>,
}

/// Which log to fetch for an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

/// The digest's entries, in tree order, each with the log to fetch for it (if any).
pub fn assemble(world: &World) -> Vec<(Entry, Option<LogRequest>)> {
    let over_allowance = world.over_allowance();
    tree(world)
        .into_iter()
        .filter(|row| {
            row.counted()
                && (over_allowance.contains_key(row.key)
                    || matches!(
                        row.status(),
                        Status::Failed | Status::InProgress | Status::Missing
                    ))
        })
        .map(|row| {
            let events = world.events.get(row.key).map(Vec::as_slice);
            let warnings = warnings(events.unwrap_or_default());
            let request = row.object.and_then(log_request);
            let entry = Entry {
                kind: row.key.kind.clone(),
                namespace: row.key.namespace.clone(),
                name: row.key.name.clone(),
                status: row.status(),
                reason: match over_allowance.get(row.key) {
                    Some((failures, allowed)) => format!(
                        "{}; {failures} failures, {allowed} allowed (kos.dev/allowed-failures)",
                        row.message()
                    ),
                    None => row.message().to_owned(),
                },
                hint: row.object.and_then(hint).map(str::to_owned),
                warnings,
                logs: None,
            };
            (entry, request)
        })
        .collect()
}

/// What a Service still waiting for its load balancer's address at the end means, and what
/// to do: nothing assigns one on a cluster without a load-balancer provider.
const NO_LOAD_BALANCER: &str = "no external address was assigned: a cluster without a \
    load-balancer provider (kind, minikube, bare metal) never assigns one. Use a NodePort \
    Service (or kubectl port-forward), or install a provider: MetalLB, cloud-provider-kind \
    on kind, `minikube tunnel` on minikube";

/// What the user can do about `object`'s state, when kos knows.
fn hint(object: &TrackedObject) -> Option<&'static str> {
    let waiting = object.key.kind == "Service"
        && object.status == Status::InProgress
        && object.message == AWAITING_LOAD_BALANCER;
    waiting.then_some(NO_LOAD_BALANCER)
}

/// The latest Warning Events of `rows` (oldest first), worded for the digest.
pub fn warnings(rows: &[EventRow]) -> Vec<String> {
    let warnings: Vec<String> = rows
        .iter()
        .filter(|e| e.type_ == "Warning")
        .map(|e| {
            if e.count > 1 {
                format!("{}: {} (x{})", e.reason, e.message, e.count)
            } else {
                format!("{}: {}", e.reason, e.message)
            }
        })
        .collect();
    warnings[warnings.len().saturating_sub(WARNINGS)..].to_vec()
}

/// The log worth reading for a pod: its first failing container that has run at all — the
/// previous instance when it crashed and restarted. None when no container ever started
/// (an image that cannot be pulled has no log).
fn log_request(object: &TrackedObject) -> Option<LogRequest> {
    if object.key.kind != "Pod" {
        return None;
    }
    let has_run = |c: &&ContainerRow| c.restarts > 0 || c.state != "waiting";
    let container = object
        .containers
        .iter()
        .filter(has_run)
        .find(|c| !c.ready)
        .or_else(|| object.containers.iter().find(has_run))?;
    Some(LogRequest {
        namespace: object.key.namespace.clone().unwrap_or_default(),
        pod: object.key.name.clone(),
        container: container.name.clone(),
        previous: container.restarts > 0 && container.state != "running",
    })
}

/// How much of one log line the digest shows: an application's line may be megabytes.
pub const LOG_LINE_BYTES: usize = 2048;

/// The digest as text for stderr: each Event, reason and log line on one line of its own,
/// cleaned and indented, so that nothing it quotes can pass for a line of kos's (an
/// `outcome:` line, a `::error::` workflow command).
pub fn render(entries: &[Entry]) -> String {
    use std::fmt::Write;
    let mut out = String::from("digest:\n");
    for entry in entries {
        let key = ObjectKey::new(&entry.kind, entry.namespace.as_deref(), &entry.name);
        let key = clean(&key.to_string()).into_owned();
        let _ = writeln!(out, "  {key}  {}  {}", entry.status, clean(&entry.reason));
        if let Some(hint) = &entry.hint {
            let _ = writeln!(out, "    hint: {}", clean(hint));
        }
        for warning in &entry.warnings {
            let _ = writeln!(out, "    warning: {}", clean(warning));
        }
        if let Some(logs) = &entry.logs {
            render_logs(&mut out, logs);
        }
    }
    out
}

fn render_logs(out: &mut String, logs: &Logs) {
    use std::fmt::Write;
    let instance = if logs.previous {
        " (previous instance)"
    } else {
        ""
    };
    let container = clean(&logs.container);
    if let Some(error) = &logs.error {
        let _ = writeln!(
            out,
            "    logs of {container}{instance}: unavailable: {}",
            clean(error)
        );
        return;
    }
    let _ = writeln!(
        out,
        "    logs of {container}{instance}, last {} lines:",
        logs.lines.len()
    );
    for line in &logs.lines {
        let _ = writeln!(out, "      | {}", clean_bounded(line, LOG_LINE_BYTES));
    }
}

/// The last `count` lines of a log text.
pub fn tail(text: &str, count: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;
    use crate::model::Diff;

    fn crashing_container() -> ContainerRow {
        ContainerRow {
            name: "app".into(),
            state: "waiting".into(),
            reason: "CrashLoopBackOff".into(),
            restarts: 3,
            ..ContainerRow::default()
        }
    }

    #[test]
    fn entries_cover_failed_busy_and_missing_counted_objects_with_warnings() {
        let mut world = fixtures::failing_world();
        let pod = ObjectKey::new("Pod", Some("shop"), "web-2-x");
        let event = |type_: &str, reason: &str, count| EventRow {
            type_: type_.into(),
            reason: reason.into(),
            message: "m".into(),
            count,
            last_seen: String::new(),
        };
        world.apply(Diff::Events(
            pod,
            vec![event("Normal", "Pulling", 1), event("Warning", "Failed", 3)],
        ));
        let entries = assemble(&world);
        let names: Vec<&str> = entries.iter().map(|(e, _)| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["web", "web-2", "web-2-x", "web"],
            "old ReplicaSet web-1 left out"
        );
        let (pod_entry, request) = &entries[2];
        assert_eq!(pod_entry.warnings, ["Failed: m (x3)"]);
        assert_eq!(*request, None, "a pod that never ran has no log");
        assert_eq!(entries[3].0.status, Status::Missing);
    }

    #[test]
    fn a_load_balancer_without_an_address_says_why_and_what_to_do() {
        let key = ObjectKey::new("Service", Some("shop"), "web");
        let mut world = World::new(vec![key.clone()]);
        let mut service = TrackedObject::for_test(key, Status::InProgress, None);
        service.message = AWAITING_LOAD_BALANCER.into();
        world.apply(Diff::Upsert(Box::new(service)));
        let entries: Vec<Entry> = assemble(&world).into_iter().map(|(e, _)| e).collect();
        let hint = entries[0].hint.as_deref().unwrap_or_default();
        assert!(
            hint.starts_with("no external address was assigned"),
            "{hint}"
        );
        for remedy in ["NodePort", "MetalLB", "cloud-provider-kind"] {
            assert!(hint.contains(remedy), "{hint}");
        }
        let text = render(&entries);
        assert!(
            text.contains("  Service shop/web  in_progress  Waiting for a load balancer address\n    hint: no external address was assigned: "),
            "{text}"
        );
        // Other objects still in progress get no such hint.
        let world = fixtures::failing_world();
        assert!(assemble(&world).iter().all(|(e, _)| e.hint.is_none()));
    }

    #[test]
    fn a_crashed_container_is_read_from_its_previous_instance() {
        let mut pod = fixtures::object("Pod", "p", Status::Failed, "app: CrashLoopBackOff", None);
        pod.containers = vec![
            ContainerRow {
                name: "sidecar".into(),
                state: "running".into(),
                ready: true,
                ..ContainerRow::default()
            },
            crashing_container(),
        ];
        let request = log_request(&pod).unwrap();
        assert_eq!(request.container, "app");
        assert!(request.previous);
        assert_eq!(request.namespace, "shop");
    }

    #[test]
    fn rendering_shows_reason_warnings_and_log_lines() {
        let entry = Entry {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: "p".into(),
            status: Status::Failed,
            reason: "app: CrashLoopBackOff".into(),
            hint: None,
            warnings: vec!["BackOff: restarting".into()],
            logs: Some(Logs {
                container: "app".into(),
                previous: true,
                lines: tail(
                    &(1..=12)
                        .map(|i| format!("line {i}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    LOG_LINES,
                ),
                error: None,
            }),
        };
        let text = render(&[entry]);
        assert!(
            text.contains("Pod shop/p  failed  app: CrashLoopBackOff"),
            "{text}"
        );
        assert!(text.contains("warning: BackOff: restarting"));
        assert!(text.contains("logs of app (previous instance), last 10 lines:"));
        assert!(
            text.contains("| line 12") && text.contains("| line 3") && !text.contains("| line 2\n")
        );
    }

    #[test]
    fn quoted_text_cannot_forge_a_line_or_reach_the_terminal() {
        let entry = Entry {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: "p".into(),
            status: Status::Failed,
            reason: "nginx\x1b]0;owned\x07: ErrImagePull".into(),
            hint: None,
            warnings: vec!["Failed: x\n::error::forged\noutcome: success after 1s ()".into()],
            logs: Some(Logs {
                container: "app".into(),
                previous: false,
                lines: vec!["\u{9b}2J".into(), "x".repeat(10 * LOG_LINE_BYTES)],
                error: None,
            }),
        };
        let text = render(&[entry]);
        assert!(
            text.lines()
                .skip(1)
                .all(|line| line.starts_with("  ")
                    && !line.chars().any(crate::output::safe::is_control)),
            "{text}"
        );
        assert!(text.contains("x\\n::error::forged\\noutcome"), "{text}");
        assert!(text.len() < 4 * LOG_LINE_BYTES, "long log lines are cut");
    }
}
