//! Reliability and security, end to end (issue 7): the real `kos` binary against
//! `kos sim serve` with injected API faults, a dying API server, hostile batches, planted
//! Secrets and a server that rejects one object of a batch.
//!
//! Each test uses its own namespaces; fault cases start their own simulated cluster. The
//! figures a fault run measures (requests, recoveries) are printed for `--nocapture`.

mod common;

use common::*;
use std::process::Output;
use std::time::{Duration, Instant};

/// Runs `kos apply -f YAML ARGS` against `sim`.
fn apply(sim: &Sim, yaml: &str, args: &[&str]) -> Output {
    let file = manifest(yaml);
    let path = file.path().to_str().expect("utf-8 path").to_owned();
    let mut all = vec!["apply", "-f", path.as_str()];
    all.extend_from_slice(args);
    sim.kos(&all).output().expect("run kos")
}

/// `kos apply -f YAML` with the full-screen view, in its own tmux: the shell writes kos's
/// PID to a file (`sh -c 'echo $$ > pid; exec kos ...'`) and its exit code to another.
struct View {
    tmux: Tmux,
    dir: tempfile::TempDir,
}

impl View {
    fn start(name: &str, sim: &Sim, yaml: &str) -> View {
        let tmux = Tmux::start(name, 120, 40);
        let dir = tempfile::tempdir().expect("temp dir");
        let manifest = dir.path().join("manifest.yaml");
        std::fs::write(&manifest, yaml).expect("write manifest");
        let command = format!(
            "sh -c 'echo $$ > {pid}; exec {kos} apply -f {manifest} --kubeconfig {kubeconfig} \
             --timeout 10m'; echo EXIT=$? > {exit}",
            pid = dir.path().join("pid").display(),
            kos = KOS,
            manifest = manifest.display(),
            kubeconfig = sim.kubeconfig.display(),
            exit = dir.path().join("exit").display(),
        );
        tmux.keys(&[&command, "Enter"]);
        View { tmux, dir }
    }

    fn pid(&self) -> String {
        wait_for_file(&self.dir.path().join("pid"), Duration::from_secs(10))
            .trim()
            .to_owned()
    }

    /// `EXIT=N` once kos has ended.
    fn exit(&self) -> String {
        wait_for_file(&self.dir.path().join("exit"), Duration::from_secs(20))
            .trim()
            .to_owned()
    }

    /// Waits until the view shows the tree with `row`.
    fn wait_for_row(&self, row: &str) -> String {
        self.tmux.wait_for(
            &format!("the tree with {row}"),
            Duration::from_mins(1),
            |s| s.contains("┌ objects") && s.contains(row),
        )
    }
}

mod faults {
    use super::*;
    use serde_json::Value;

    /// One rollout of a fault run: its namespace, manifest, flags and expected exit code.
    struct Case {
        name: &'static str,
        yaml: String,
        args: &'static [&'static str],
        exit: i32,
        outcome: &'static str,
    }

    fn cases(prefix: &str) -> Vec<Case> {
        vec![
            Case {
                name: "healthy",
                yaml: deployment(&format!("{prefix}-healthy"), 2, "nginx:1.27", ""),
                args: &["--output", "json", "--stabilize", "1s", "--timeout", "60s"],
                exit: 0,
                outcome: "success",
            },
            Case {
                name: "bad-image",
                yaml: deployment(&format!("{prefix}-bad-image"), 1, "nginx:doesnotexist", ""),
                args: &["--output", "json", "--stabilize", "0", "--timeout", "60s"],
                exit: 1,
                outcome: "failed",
            },
            Case {
                name: "unschedulable",
                yaml: deployment(
                    &format!("{prefix}-unschedulable"),
                    1,
                    "nginx:1.27",
                    "sim.kos.dev/unschedulable: \"true\"",
                ),
                args: &["--output", "json", "--stabilize", "0", "--timeout", "6s"],
                exit: 2,
                outcome: "timeout",
            },
        ]
    }

    /// What one fault run measured.
    struct Run {
        requests: Requests,
        /// Seconds from each outage kos noticed until the cluster answered again.
        recoveries: Vec<f64>,
    }

    /// Applies the three cases at once against a sim with `spec`, checks every verdict and
    /// compares kos's final report with the server's objects.
    fn run(prefix: &str, spec: &str) -> Run {
        let sim = if spec.is_empty() {
            Sim::start(&[])
        } else {
            Sim::start(&["--faults", spec])
        };
        let cases = cases(prefix);
        let outputs: Vec<Output> = std::thread::scope(|scope| {
            let running: Vec<_> = cases
                .iter()
                .map(|case| scope.spawn(|| apply(&sim, &case.yaml, case.args)))
                .collect();
            running
                .into_iter()
                .map(|r| r.join().expect("kos run"))
                .collect()
        });
        let mut recoveries = Vec::new();
        for (case, output) in cases.iter().zip(&outputs) {
            let context = format!("faults `{spec}`, case {}: {}", case.name, said(output));
            assert_eq!(code(output), case.exit, "{context}");
            let report = report(output);
            assert_eq!(report["outcome"], case.outcome, "{context}");
            let namespace = format!("{prefix}-{}", case.name);
            compare_with_the_server(&sim, &namespace, &report, &context);
            recoveries.extend(stderr(output).lines().filter_map(|line| {
                let after = line.strip_prefix("the cluster answers again after ")?;
                after.trim_end_matches('s').parse::<f64>().ok()
            }));
        }
        let requests = sim.requests();
        eprintln!(
            "faults `{spec}`: {} requests ({} failed; {:?}), recoveries {recoveries:?}",
            requests.total(),
            requests.failed(),
            ["LIST", "WATCH", "GET", "APPLY"].map(|v| (v, requests.verb(v)))
        );
        Run {
            requests,
            recoveries,
        }
    }

    /// Nothing lost, nothing stale: the report holds exactly the pods, `ReplicaSets` and
    /// Deployments the server has in `namespace`, with the status the server's own objects
    /// give now — except a failing pod, which may be between pull retries.
    fn compare_with_the_server(sim: &Sim, namespace: &str, report: &Value, context: &str) {
        for (kind, path) in [
            ("Pod", format!("/api/v1/namespaces/{namespace}/pods")),
            (
                "ReplicaSet",
                format!("/apis/apps/v1/namespaces/{namespace}/replicasets"),
            ),
            (
                "Deployment",
                format!("/apis/apps/v1/namespaces/{namespace}/deployments"),
            ),
        ] {
            let truth = sim.get_json(&path);
            let mut server: Vec<(String, String)> = truth["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|item| {
                    let mut item = item.clone();
                    item["kind"] = Value::from(kind);
                    let status = kos::status::of(&item).status;
                    let status = serde_json::to_value(status).expect("status word");
                    (
                        item["metadata"]["name"].as_str().unwrap_or_default().into(),
                        status.as_str().unwrap_or_default().into(),
                    )
                })
                .collect();
            let mut ours: Vec<(String, String)> = objects(report, kind)
                .iter()
                .map(|o| {
                    (
                        o["name"].as_str().unwrap_or_default().into(),
                        o["status"].as_str().unwrap_or_default().into(),
                    )
                })
                .collect();
            server.sort();
            ours.sort();
            let names = |rows: &[(String, String)]| -> Vec<String> {
                rows.iter().map(|r| r.0.clone()).collect()
            };
            assert_eq!(names(&ours), names(&server), "{kind}s differ; {context}");
            for ((name, status), (_, truth)) in ours.iter().zip(&server) {
                let pulling = kind == "Pod" && status == "failed" && truth == "in_progress";
                assert!(
                    status == truth || pulling,
                    "{kind} {name}: kos says {status}, the server's object says {truth}; \
                     {context}"
                );
            }
        }
    }

    /// Requests under faults stay within a small multiple of a fault-free run: retries back
    /// off rather than spinning.
    fn assert_backs_off(faulty: &Run, spec: &str) {
        static BASELINE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let base = *BASELINE.get_or_init(|| run("base", "").requests.total());
        let ours = faulty.requests.total();
        eprintln!("faults `{spec}`: {ours} requests against {base} fault-free");
        // Measured: 1.0-1.8 times. A client re-watching in a hot loop makes thousands.
        assert!(
            ours <= base * 5 / 2,
            "faults `{spec}`: {ours} requests against {base} without faults"
        );
    }

    #[test]
    fn dropped_watches() {
        let run = run("drop", "drop-watch=1s");
        assert_backs_off(&run, "drop-watch=1s");
    }

    #[test]
    fn gone_on_rewatch() {
        run("gone", "drop-watch=1s,gone-on-rewatch=0.5");
    }

    #[test]
    fn error_rate() {
        // 15 % rather than the 5 % of the issue: with 5 % a short run may see no error at all.
        let spec = "error-rate=0.15";
        let run = run("errors", spec);
        assert!(
            run.requests.failed() > 0,
            "some requests were failed on purpose"
        );
        assert_backs_off(&run, spec);
    }

    #[test]
    fn latency() {
        run("slow", "latency=50ms");
    }

    #[test]
    fn restarts() {
        let spec = "restart-every=2s";
        let run = run("restart", spec);
        assert!(
            !run.recoveries.is_empty() && run.recoveries.iter().all(|s| *s < 5.0),
            "kos noticed the outages, each (1 s) over within a few seconds: {:?}",
            run.recoveries
        );
        assert_backs_off(&run, spec);
    }

    #[test]
    fn all_together() {
        let spec =
            "drop-watch=1s,gone-on-rewatch=0.5,error-rate=0.05,latency=50ms,restart-every=3s";
        let run = run("all", spec);
        assert_backs_off(&run, spec);
    }

    #[test]
    fn a_dying_api_server_ends_tracking_by_the_timeout_naming_it() {
        let sim = Sim::start(&[]);
        let file = manifest(&deployment(
            "dying",
            1,
            "nginx:1.27",
            "sim.kos.dev/unschedulable: \"true\"",
        ));
        let path = file.path().to_str().expect("utf-8 path");
        let timeout = Duration::from_secs(6);
        let start = Instant::now();
        let mut kos = sim
            .kos(&["apply", "-f", path, "--output", "plain", "--timeout", "6s"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start kos");
        let stdout = kos.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut lines = std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok);
            let tracking = lines.by_ref().any(|l| l.contains("Pod dying/web-"));
            (tracking, lines.collect::<Vec<_>>())
        });
        // The sim dies once kos is tracking (the reader sees the pod) — or after a while.
        let seen = Instant::now() + Duration::from_secs(3);
        while !reader.is_finished() && Instant::now() < seen {
            std::thread::sleep(Duration::from_millis(20));
        }
        sim.stop();
        let killed = start.elapsed();
        let output = kos.wait_with_output().expect("wait for kos");
        let took = start.elapsed();
        let (tracking, _) = reader.join().expect("reader");
        assert!(tracking, "kos tracked the pod before the server died");
        let err = stderr(&output);
        assert!(
            matches!(code(&output), 2 | 4),
            "exit {:?}: {err}",
            output.status.code()
        );
        assert!(
            took < timeout + Duration::from_secs(3),
            "no hang past the timeout: {took:?}"
        );
        assert!(err.contains(&sim.url), "the server is named: {err}");
        eprintln!(
            "dying server: killed at {killed:?}, kos ended after {took:?} with exit {:?}",
            output.status.code()
        );
    }
}

mod hostile {
    use super::*;

    #[test]
    fn a_kind_nobody_serves_in_the_middle_of_a_batch_applies_nothing() {
        let sim = sim();
        let yaml = "apiVersion: v1
kind: Namespace
metadata: {name: frob}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: frob}
data: {a: b}
---
apiVersion: example.com/v1
kind: Frobnicator
metadata: {name: thing, namespace: frob}
spec: {level: 11}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: frob}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx:1.27}]}
";
        let file = manifest(yaml);
        let path = file.path().to_str().expect("utf-8 path");
        let output = sim.kos(&["apply", "-f", path]).output().expect("run kos");
        assert!(matches!(code(&output), 3 | 4), "{}", said(&output));
        let err = stderr(&output);
        assert!(err.contains(path) && err.contains("Frobnicator"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        for object in [
            "/api/v1/namespaces/frob",
            "/api/v1/namespaces/frob/configmaps/settings",
            "/apis/apps/v1/namespaces/frob/deployments/web",
        ] {
            assert_eq!(sim.get(object).0, 404, "{object} was created");
        }
    }
}

mod apply_safety {
    use super::*;

    #[test]
    fn an_object_the_server_rejects_stops_the_batch_before_anything_is_applied() {
        let sim = sim();
        // The selector does not match the template's labels: the server answers 422.
        let yaml = "apiVersion: v1
kind: Namespace
metadata: {name: half}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken, namespace: half}
spec:
  selector: {matchLabels: {app: one}}
  template:
    metadata: {labels: {app: other}}
    spec: {containers: [{name: app, image: nginx:1.27}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: after, namespace: half}
spec:
  selector: {matchLabels: {app: after}}
  template:
    metadata: {labels: {app: after}}
    spec: {containers: [{name: app, image: nginx:1.27}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: half}
data: {a: b}
";
        let output = apply(sim, yaml, &["--output", "plain"]);
        // The dry run of the whole batch finds it before the first write: bad input.
        assert_eq!(code(&output), 3, "{}", said(&output));
        let err = stderr(&output);
        assert!(err.contains("422"), "{err}");
        assert!(err.contains("(nothing was applied)"), "{err}");
        assert!(err.contains("Deployment half/broken"), "{err}");
        for path in [
            "/api/v1/namespaces/half",
            "/api/v1/namespaces/half/configmaps/settings",
            "/apis/apps/v1/namespaces/half/deployments/after",
        ] {
            assert_eq!(sim.get(path).0, 404, "{path}");
        }
    }
}

mod secrets {
    use super::*;

    /// The planted value, in `data` (base64) and `stringData`.
    const VALUE: &str = "s3cr3t-Planted-Value-7f1c";
    const STRING_VALUE: &str = "other-Planted-Token-42aa";

    fn base64(text: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn planted(ns: &str, with_status: bool) -> String {
        let (status, generation) = if with_status {
            (
                "status: {replicas: 1, availableReplicas: 0, observedGeneration: 1}\n",
                ", generation: 1",
            )
        } else {
            ("", "")
        };
        format!(
            "apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: db, namespace: {ns}}}
type: Opaque
data: {{password: {data}}}
stringData: {{token: {VALUE}-{STRING_VALUE}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}{generation}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: app
        image: nginx:doesnotexist
        env:
        - name: PASSWORD
          valueFrom: {{secretKeyRef: {{name: db, key: password}}}}
        envFrom:
        - secretRef: {{name: db}}
{status}",
            data = base64(VALUE),
        )
    }

    fn assert_clean(what: &str, output: &Output) {
        assert_clean_text(what, &format!("{}{}", stdout(output), stderr(output)));
    }

    fn assert_clean_text(what: &str, all: &str) {
        for needle in [
            VALUE.to_owned(),
            base64(VALUE),
            STRING_VALUE.to_owned(),
            base64(&format!("{VALUE}-{STRING_VALUE}")),
        ] {
            assert!(!all.contains(&needle), "{what} shows `{needle}`:\n{all}");
        }
    }

    #[test]
    fn the_view_shows_no_secret_data() {
        if !have("tmux") {
            return;
        }
        let view = View::start("secret-view", sim(), &planted("secret-view", false));
        let mut screens = vec![view.wait_for_row("Secret db")];
        // Select the Secret's row, then its details and its Events. Each Down is followed by
        // waiting for the selection to move, so that a slow redraw cannot make the loop
        // press past the row it looks for.
        // The selected row's kind and name (its status may change under it).
        let selected = |screen: &str| {
            let row = screen.lines().find(|l| l.contains('›')).unwrap_or_default();
            row.split('›')
                .nth(1)
                .unwrap_or_default()
                .split_whitespace()
                .filter(|word| word.starts_with(|c: char| c.is_ascii_alphabetic()))
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        };
        for _ in 0..12 {
            let before = selected(&view.tmux.screen());
            if before.contains("Secret db") {
                break;
            }
            view.tmux.keys(&["Down"]);
            view.tmux
                .wait_for("the selection to move", Duration::from_secs(10), |s| {
                    selected(s) != before
                });
        }
        view.tmux.keys(&["Enter"]);
        screens.push(
            view.tmux
                .wait_for("the Secret's details", Duration::from_secs(10), |s| {
                    s.contains("┌ details") && s.contains("Secret secret-view/db")
                }),
        );
        view.tmux.keys(&["Escape", "e"]);
        screens.push(
            view.tmux
                .wait_for("the events view", Duration::from_secs(10), |s| {
                    !s.contains("┌ objects")
                }),
        );
        view.tmux.keys(&["Escape", "q"]);
        assert_eq!(view.exit(), "EXIT=130", "q before the verdict");
        screens.push(view.tmux.screen());
        for screen in &screens {
            assert_clean_text("the view", screen);
        }
    }

    #[test]
    fn no_output_shows_secret_data() {
        let sim = sim();
        let offline = manifest(&planted("secret-status", true));
        let path = offline.path().to_str().expect("utf-8 path");
        for format in ["plain", "json"] {
            let output = std::process::Command::new(KOS)
                .args(["status", "-f", path, "--output", format])
                .output()
                .expect("kos status");
            assert!(stdout(&output).contains("Secret"), "{}", said(&output));
            assert_clean(&format!("kos status --output {format}"), &output);
        }
        let yaml = planted("secret-live", false);
        let dry = apply(sim, &yaml, &["--dry-run"]);
        assert_eq!(code(&dry), 0, "{}", said(&dry));
        assert_clean("kos apply --dry-run", &dry);
        let dry_json = apply(sim, &yaml, &["--dry-run", "--output", "json"]);
        assert_clean("kos apply --dry-run --output json", &dry_json);
        // The pod cannot pull: the run fails and prints its digest.
        let plain = apply(
            sim,
            &yaml,
            &["--output", "plain", "--stabilize", "0", "--timeout", "60s"],
        );
        assert_eq!(code(&plain), 1, "{}", said(&plain));
        assert!(stderr(&plain).contains("digest:"), "{}", said(&plain));
        assert_clean("kos apply --output plain (with its digest)", &plain);
        let json = apply(
            sim,
            &yaml,
            &["--output", "json", "--stabilize", "0", "--timeout", "60s"],
        );
        assert_eq!(code(&json), 1, "{}", said(&json));
        assert!(
            report(&json)["digest"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
        );
        assert_clean("kos apply --output json (with its digest)", &json);
        let watch = sim
            .kos(&[
                "watch",
                "secret/db",
                "deploy/web",
                "-n",
                "secret-live",
                "--stabilize",
                "0",
                "--timeout",
                "30s",
                "--output",
                "json",
            ])
            .output()
            .expect("kos watch");
        assert_eq!(code(&watch), 1, "{}", said(&watch));
        assert_clean("kos watch --output json", &watch);
        // The Secret did reach the cluster with its data: the needles are real.
        let stored = sim.get_json("/api/v1/namespaces/secret-live/secrets/db");
        assert_eq!(stored["data"]["password"], base64(VALUE));
    }
}

mod signals {
    use super::*;

    /// A panic while the view owns the terminal: the panic hook leaves the alternate
    /// screen first, so the report is printed where the user can read it.
    #[test]
    fn a_panic_restores_the_terminal_before_its_report() {
        if !have("tmux") {
            return;
        }
        // Examples are built beside the test binaries: target/PROFILE/examples.
        let example = std::env::current_exe()
            .expect("test binary path")
            .parent()
            .and_then(std::path::Path::parent)
            .expect("target/PROFILE")
            .join("examples/view_panic");
        assert!(
            example.exists(),
            "{} is built by cargo test",
            example.display()
        );
        let tmux = Tmux::start("panic", 100, 30);
        let dir = tempfile::tempdir().expect("temp dir");
        let exit = dir.path().join("exit");
        // As a user runs it: no backtrace asked for, so the report stays short.
        let command = format!(
            "env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE {}; echo EXIT=$? > {}",
            example.display(),
            exit.display()
        );
        tmux.keys(&[&command, "Enter"]);
        assert_eq!(
            wait_for_file(&exit, Duration::from_secs(20)).trim(),
            "EXIT=101",
            "a panic's exit code"
        );
        assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
        assert_eq!(tmux.format("#{cursor_flag}"), "1", "cursor visible");
        let screen = tmux.screen();
        assert!(
            screen.contains("a bug in the view"),
            "the report is on the normal screen:\n{screen}"
        );
        assert!(!screen.contains("kos view before the panic"), "{screen}");
        assert!(
            screen.lines().filter(|l| !l.trim().is_empty()).count() < 12,
            "a short report, not a wall of text:\n{screen}"
        );
    }

    /// Sends `signal` to kos while its view is up (before any verdict: the pod cannot be
    /// scheduled) and checks the exit code and that the terminal is given back.
    fn restores_the_terminal(name: &str, signal: &str, code: i32, faults: &[&str]) {
        if !have("tmux") {
            return;
        }
        let sim = Sim::start(faults);
        let yaml = deployment(name, 1, "nginx:1.27", "sim.kos.dev/unschedulable: \"true\"");
        let view = View::start(name, &sim, &yaml);
        view.wait_for_row("Deployment web");
        if !faults.is_empty() {
            // Restarts and failed requests while the view is up: nothing but the view may
            // write to its screen (no warnings, no retry messages, no log lines). The view's
            // own header says when the cluster does not answer; nothing else may.
            let watched = Instant::now() + Duration::from_secs(3);
            while Instant::now() < watched {
                let screen = view.tmux.screen();
                assert!(
                    screen.starts_with("kos "),
                    "not the view's header:\n{screen}"
                );
                let below_the_header: String = screen.lines().skip(1).collect();
                for intruder in ["warning", "retrying", "cannot reach", "ERROR", "WARN"] {
                    assert!(
                        !below_the_header.contains(intruder),
                        "`{intruder}` on the view:\n{screen}"
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let pid = view.pid();
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        assert_eq!(view.exit(), format!("EXIT={code}"), "after SIG{signal}");
        assert_eq!(
            view.tmux.format("#{alternate_on}"),
            "0",
            "alternate screen left"
        );
        assert_eq!(view.tmux.format("#{cursor_flag}"), "1", "cursor visible");
        let shell = view.tmux.screen();
        assert!(
            shell.contains("apply -f"),
            "the shell's screen is back:\n{shell}"
        );
        assert!(!shell.contains("┌ objects"), "{shell}");
    }

    #[test]
    fn sigint_exits_130() {
        restores_the_terminal("sigint", "INT", 130, &[]);
    }

    #[test]
    fn sigterm_exits_143() {
        restores_the_terminal("sigterm", "TERM", 143, &[]);
    }

    #[test]
    fn sighup_exits_129_and_outages_never_write_on_the_view() {
        restores_the_terminal(
            "sighup",
            "HUP",
            129,
            &["--faults", "restart-every=1s,error-rate=0.1"],
        );
    }
}

mod fuzz {
    //! Loading and judging together, as `kos status -f` does: Kubernetes-shaped YAML with
    //! random fields and values goes through the loader and every loaded object through the
    //! status engine. (Each on its own is fuzzed in `tests/manifest.rs` and
    //! `tests/conformance.rs`.)
    use kos::manifest::{LoadOptions, load_str};
    use proptest::prelude::*;
    use std::fmt::Write as _;

    const KINDS: &[(&str, &str)] = &[
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("v1", "Service"),
        ("v1", "PersistentVolumeClaim"),
        ("example.com/v1", "Widget"),
    ];

    /// A YAML scalar of any of the types a status field may (wrongly) hold.
    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            "[a-zA-Z]{0,8}",
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("[]".to_owned()),
            Just("{}".to_owned()),
            Just("\"\"".to_owned()),
            Just("-1".to_owned()),
            Just("1e400".to_owned()),
        ]
    }

    const FIELDS: &[&str] = &[
        "replicas",
        "readyReplicas",
        "availableReplicas",
        "updatedReplicas",
        "observedGeneration",
        "phase",
        "succeeded",
        "failed",
        "active",
        "currentNumberScheduled",
        "desiredNumberScheduled",
        "numberReady",
        "conditions",
        "containerStatuses",
        "loadBalancer",
    ];

    fn document() -> impl Strategy<Value = String> {
        (
            prop::sample::select(KINDS),
            prop::collection::vec((prop::sample::select(FIELDS), scalar()), 0..8),
            prop::collection::vec((prop::sample::select(FIELDS), scalar()), 0..4),
            prop::collection::vec(
                (
                    "[A-Z][a-z]{0,6}",
                    prop_oneof!["True", "False", "Unknown", "x"],
                ),
                0..3,
            ),
        )
            .prop_map(|((api_version, kind), status, spec, conditions)| {
                let mut text = format!(
                    "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n  \
                     generation: 2\nspec:\n"
                );
                for (field, value) in spec {
                    let _ = writeln!(text, "  {field}: {value}");
                }
                text.push_str("status:\n");
                for (field, value) in status {
                    let _ = writeln!(text, "  {field}: {value}");
                }
                if !conditions.is_empty() {
                    text.push_str("  conditions:\n");
                    for (kind, state) in conditions {
                        let _ = writeln!(text, "  - {{type: {kind}, status: \"{state}\"}}");
                    }
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 128,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn loaded_objects_are_judged_without_panics(
            documents in prop::collection::vec(document(), 1..4),
        ) {
            let text = documents.join("---\n");
            if let Ok(manifests) = load_str("fuzz.yaml", &text, &LoadOptions::default()) {
                for manifest in manifests {
                    let assessment = kos::status::of(&manifest.object);
                    prop_assert!(!assessment.message.is_empty());
                    prop_assert!(!assessment.message.contains('\n'));
                }
            }
        }
    }
}
