//! What a pod does in the simulation, read from its `sim.kos.dev/…` annotations and its
//! image (README.md lists the annotations), and the kubelet's back-off schedule. Pure; no I/O.

use serde_json::Value;
use std::time::Duration;

const PREFIX: &str = "sim.kos.dev/";

/// How one pod behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// Running → Ready.
    pub start_delay: Duration,
    /// The containers exit 1 this long after they start.
    pub crash_after: Option<Duration>,
    /// The first N image pulls fail.
    pub pull_failures: u32,
    /// Ready, then not ready again this many times.
    pub ready_failures: u32,
    pub unschedulable: bool,
    /// The containers exit with `exit_code` this long after they start.
    pub exit_after: Option<Duration>,
    pub exit_code: i32,
    /// Time between two log lines.
    pub log_every: Duration,
    /// `readiness: fail`: the application fails its readiness probes.
    pub readiness_fails: bool,
    /// `liveness: fail`: the application fails its liveness probes.
    pub liveness_fails: bool,
    /// `memory-usage: 300Mi`: the memory each container uses, in bytes.
    pub memory_usage: Option<f64>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            start_delay: Duration::from_secs(1),
            crash_after: None,
            pull_failures: 0,
            ready_failures: 0,
            unschedulable: false,
            exit_after: None,
            exit_code: 0,
            log_every: Duration::from_secs(2),
            readiness_fails: false,
            liveness_fails: false,
            memory_usage: None,
        }
    }
}

/// How long a Job-style pod (restartPolicy Never / OnFailure) runs when not told.
const DEFAULT_RUN: Duration = Duration::from_secs(2);
/// How long a crashing container runs when `crash: "true"` names no time.
const DEFAULT_CRASH: Duration = Duration::from_secs(3);

impl Behaviour {
    /// The behaviour of `pod`. Malformed annotation values fall back to the defaults.
    pub fn of(pod: &Value) -> Behaviour {
        let annotations = pod.pointer("/metadata/annotations");
        let get = |key: &str| {
            annotations
                .and_then(|a| a.get(format!("{PREFIX}{key}")))
                .and_then(Value::as_str)
                .map(str::trim)
        };
        let duration = |key: &str| get(key).and_then(|t| crate::duration::parse(t).ok());
        let count = |key: &str| get(key).and_then(|t| t.parse::<u32>().ok()).unwrap_or(0);
        let defaults = Behaviour::default();
        let crash_after = duration("crash-after")
            .or_else(|| (get("crash") == Some("true")).then_some(DEFAULT_CRASH));
        let restarts_always = matches!(
            pod.pointer("/spec/restartPolicy").and_then(Value::as_str),
            None | Some("Always")
        );
        let exit_after = duration("exit-after")
            .or_else(|| (!restarts_always && crash_after.is_none()).then_some(DEFAULT_RUN));
        Behaviour {
            start_delay: duration("start-delay").unwrap_or(defaults.start_delay),
            crash_after,
            pull_failures: count("pull-failures"),
            ready_failures: count("ready-failures"),
            unschedulable: get("unschedulable") == Some("true"),
            exit_after,
            exit_code: get("exit-code").and_then(|t| t.parse().ok()).unwrap_or(0),
            log_every: get("log-rate")
                .and_then(parse_rate)
                .unwrap_or(defaults.log_every),
            readiness_fails: get("readiness") == Some("fail"),
            liveness_fails: get("liveness") == Some("fail"),
            memory_usage: get("memory-usage").and_then(crate::scheduler::quantity),
        }
    }

    /// When the containers exit after starting, and with which code.
    pub fn exit(&self) -> Option<(Duration, i32)> {
        match (self.crash_after, self.exit_after) {
            (Some(crash), Some(exit)) if exit < crash => Some((exit, self.exit_code)),
            (Some(crash), _) => Some((crash, 1)),
            (None, Some(exit)) => Some((exit, self.exit_code)),
            (None, None) => None,
        }
    }
}

/// `10/s`, `30/m`, `2/h` or a bare number per second → time between two lines.
fn parse_rate(text: &str) -> Option<Duration> {
    let (count, unit) = text.split_once('/').unwrap_or((text, "s"));
    let count: f64 = count.trim().parse().ok()?;
    let per = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    if count > 0.0 {
        Duration::try_from_secs_f64(per / count).ok()
    } else {
        None
    }
}

/// The kubelet's back-off before the `attempt`-th retry (1-based): 10 s doubling up to 5 m.
pub fn back_off(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(10);
    Duration::from_secs(10 << doublings).min(Duration::from_mins(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(annotations: &Value, restart: &str) -> Value {
        json!({"metadata": {"annotations": annotations}, "spec": {"restartPolicy": restart}})
    }

    #[test]
    fn annotations_set_the_behaviour() {
        let b = Behaviour::of(&pod(
            &json!({"sim.kos.dev/start-delay": "5s", "sim.kos.dev/crash": "true",
                    "sim.kos.dev/pull-failures": "2", "sim.kos.dev/ready-failures": "1",
                    "sim.kos.dev/unschedulable": "true", "sim.kos.dev/log-rate": "10/s",
                    "sim.kos.dev/readiness": "fail", "sim.kos.dev/liveness": "fail",
                    "sim.kos.dev/memory-usage": "300Mi"}),
            "Always",
        ));
        assert_eq!(b.start_delay, Duration::from_secs(5));
        assert_eq!(b.exit(), Some((DEFAULT_CRASH, 1)));
        assert_eq!((b.pull_failures, b.ready_failures), (2, 1));
        assert!(b.unschedulable);
        assert_eq!(b.log_every, Duration::from_millis(100));
        assert!(b.readiness_fails && b.liveness_fails);
        assert_eq!(b.memory_usage, Some(300.0 * 1024.0 * 1024.0));
    }

    #[test]
    fn job_pods_exit_and_service_pods_run_on() {
        let job = Behaviour::of(&pod(
            &json!({"sim.kos.dev/exit-after": "4s", "sim.kos.dev/exit-code": "3"}),
            "Never",
        ));
        assert_eq!(job.exit(), Some((Duration::from_secs(4), 3)));
        assert_eq!(
            Behaviour::of(&pod(&json!({}), "OnFailure")).exit(),
            Some((DEFAULT_RUN, 0))
        );
        assert_eq!(Behaviour::of(&pod(&json!({}), "Always")).exit(), None);
        let garbage = Behaviour::of(&pod(&json!({"sim.kos.dev/start-delay": "soon"}), "Always"));
        assert_eq!(garbage, Behaviour::default());
        for rate in ["0/s", "-1/s", "1e-300/s", "NaN", "5/d"] {
            let odd = Behaviour::of(&pod(&json!({"sim.kos.dev/log-rate": rate}), "Always"));
            assert_eq!(odd.log_every, Duration::from_secs(2), "{rate}");
        }
    }

    #[test]
    fn back_off_doubles_from_ten_seconds_up_to_five_minutes() {
        let schedule: Vec<u64> = (1..=7).map(|n| back_off(n).as_secs()).collect();
        assert_eq!(schedule, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(back_off(100).as_secs(), 300);
    }
}
