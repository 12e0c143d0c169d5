//! End to end: the real `kos apply` in a real terminal (tmux) against `kos sim serve`.
//!
//! The test reads the screen as a person would: the tree with every pod, a moving
//! countdown, collapse, the logs pane, `q` with the verdict's exit code, the shell's
//! screen back afterwards, and the same after SIGTERM (exit 143). It skips (with the reason) where tmux is missing, and fails
//! instead under `KOS_REQUIRE_E2E=1`.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

const MANIFEST: &str = r"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
      annotations:
        sim.kos.dev/start-delay: 3s
        sim.kos.dev/log-rate: 5/s
    spec:
      containers:
        - name: web
          image: nginx:1.27
";

fn pod_rows(screen: &str) -> usize {
    screen.lines().filter(|l| l.contains(" Pod web-")).count()
}

fn header(screen: &str) -> String {
    screen.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_live_view_in_a_real_terminal() {
    if !have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let manifest = manifest(MANIFEST);
    let exit_file = dir.path().join("exit");
    // Real time: the pods' start delay keeps the rollout visibly in progress for a while.
    let sim = Sim::start_at_speed("1", &[]);
    let tmux = Tmux::start("e2e-tui", 120, 40);
    let command = format!(
        "{KOS} apply -f {manifest} --kubeconfig {kubeconfig} --timeout 10m --stabilize 2s; \
         echo EXIT=$? > {exit}",
        manifest = manifest.path().display(),
        kubeconfig = sim.kubeconfig.display(),
        exit = exit_file.display(),
    );
    tmux.keys(&[&command, "Enter"]);

    let first = tmux.wait_for("the tree with 3 pods", Duration::from_mins(1), |s| {
        pod_rows(s) == 3
    });
    assert!(header(&first).contains("kos-sim"), "{first}");
    let countdown = |s: &str| {
        header(s).split("timeout ").nth(1).map(|rest| {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    };
    let before = countdown(&first).expect("the header shows the timeout countdown");
    tmux.wait_for("the countdown to move", Duration::from_secs(5), |s| {
        countdown(s).is_some_and(|now| now != before)
    });

    // The Deployment (first row, selected) collapses: its ReplicaSet and pods hide.
    tmux.keys(&["Left"]);
    tmux.wait_for("the pods to hide", Duration::from_secs(5), |s| {
        pod_rows(s) == 0 && s.contains("Deployment web")
    });
    tmux.keys(&["Right"]);
    tmux.wait_for("the pods to come back", Duration::from_secs(5), |s| {
        pod_rows(s) == 3
    });

    // Logs of the first pod under the Deployment, streamed by the simulated kubelet.
    tmux.keys(&["l"]);
    tmux.wait_for("log lines", Duration::from_secs(30), |s| {
        s.contains("logs Pod default/web-") && s.contains("INFO ")
    });
    tmux.keys(&["Escape"]);

    let done = tmux.wait_for("the success verdict", Duration::from_mins(1), |s| {
        header(s).contains("✓ success")
    });
    assert!(header(&done).contains("done in"), "{done}");
    tmux.keys(&["q"]);
    assert_eq!(
        wait_for_exit(&exit_file),
        "EXIT=0",
        "q after success exits 0"
    );

    // The terminal is back: normal screen, the typed command visible again, no view.
    assert_eq!(tmux.format("#{alternate_on}"), "0");
    let after = tmux.screen();
    assert!(after.contains("apply -f"), "{after}");
    assert!(!after.contains("┌ objects"), "{after}");

    // SIGTERM while the view is open: exit 143, terminal restored.
    std::fs::remove_file(&exit_file).expect("the exit file exists");
    tmux.keys(&["clear", "Enter"]);
    tmux.keys(&[&command, "Enter"]);
    tmux.wait_for("the view again", Duration::from_secs(30), |s| {
        pod_rows(s) == 3
    });
    signal_kos(&tmux, "-TERM");
    assert_eq!(wait_for_exit(&exit_file), "EXIT=143", "SIGTERM exits 143");
    assert_eq!(tmux.format("#{alternate_on}"), "0");

    // SIGQUIT too (raw mode reads Ctrl-\\ as a key, so it comes from kill): exit 131,
    // terminal restored.
    std::fs::remove_file(&exit_file).expect("the exit file exists");
    tmux.keys(&["clear", "Enter"]);
    tmux.keys(&[&command, "Enter"]);
    tmux.wait_for("the view once more", Duration::from_secs(30), |s| {
        pod_rows(s) == 3
    });
    signal_kos(&tmux, "-QUIT");
    assert_eq!(wait_for_exit(&exit_file), "EXIT=131", "SIGQUIT exits 131");
    assert_eq!(tmux.format("#{alternate_on}"), "0");
    assert!(!tmux.screen().contains("┌ objects"), "the view is gone");
}

/// Sends `signal` (`-TERM`) to the kos running under the pane's shell.
fn signal_kos(tmux: &Tmux, signal: &str) {
    let shell = tmux.format("#{pane_pid}");
    let kos = Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&kos.stdout).trim().to_owned();
    assert!(!pid.is_empty(), "kos runs under the pane's shell");
    let killed = Command::new("kill").args([signal, &pid]).status();
    assert!(killed.is_ok_and(|s| s.success()));
}

/// The `EXIT=n` line the shell writes once kos has exited.
fn wait_for_exit(file: &std::path::Path) -> String {
    wait_for_file(file, Duration::from_secs(10))
        .trim()
        .to_owned()
}

/// `kos demo` without a terminal: the bundled scenario runs against the in-process cluster
/// and ends with the verdict the scenario is built for.
#[test]
fn demo_scenarios_end_with_their_verdict() {
    for (scenario, outcome, code) in [("job", "success", 0), ("image-pull", "failed", 1)] {
        let out = Command::new(KOS)
            .args([
                "demo",
                "--scenario",
                scenario,
                "--speed",
                "5",
                "--stabilize",
                "1s",
            ])
            .args(["--timeout", "2m", "--output", "json"])
            .output()
            .expect("kos demo runs");
        let report = report(&out);
        assert_eq!(report["outcome"], outcome, "{scenario}: {}", said(&out));
        assert_eq!(out.status.code(), Some(code), "{scenario}");
    }
}

/// `y` and `d` on what kos applied and on a child it did not, and the mouse captured while
/// the view runs and released after.
#[test]
fn y_shows_the_live_object_and_d_what_the_cluster_changed() {
    if !have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let manifest = manifest(&MANIFEST.replace("replicas: 3", "replicas: 2"));
    let exit_file = dir.path().join("exit");
    let sim = Sim::start(&[]);
    let tmux = Tmux::start("e2e-tui-object", 120, 50);
    let command = format!(
        "{KOS} apply -f {manifest} --kubeconfig {kubeconfig} --timeout 10m; \
         echo EXIT=$? > {exit}",
        manifest = manifest.path().display(),
        kubeconfig = sim.kubeconfig.display(),
        exit = exit_file.display(),
    );
    tmux.keys(&[&command, "Enter"]);
    tmux.wait_for("the tree with 2 pods", Duration::from_mins(1), |s| {
        pod_rows(s) == 2
    });
    assert_eq!(
        tmux.format("#{mouse_any_flag}"),
        "1",
        "the view takes the mouse"
    );

    // The Deployment, first row and selected, as the cluster holds it.
    tmux.keys(&["y"]);
    let yaml = tmux.wait_for("the live YAML", Duration::from_secs(30), |s| {
        s.contains("Deployment default/web · live") && s.contains("  replicas: 2")
    });
    assert!(yaml.contains("uid: "), "the server's fields show:\n{yaml}");
    assert!(!yaml.contains("managedFields"), "{yaml}");
    eprintln!("--- y\n{yaml}");

    // What the server and controllers added to what kos sent.
    tmux.keys(&["d"]);
    let diff = tmux.wait_for("the diff", Duration::from_secs(30), |s| {
        s.contains("applied (-) → live (+)") && s.contains("+   uid: ")
    });
    assert!(
        diff.contains("  kind: Deployment"),
        "unchanged lines show:\n{diff}"
    );
    assert!(diff.contains("+ status:"), "{diff}");
    eprintln!("--- d\n{diff}");

    // Search: the first line with "revisionHistoryLimit" (a default) goes on top.
    tmux.keys(&["/", "revisionhistory", "Enter"]);
    let found = tmux.wait_for("the match on top", Duration::from_secs(5), |s| {
        s.lines()
            .nth(2)
            .is_some_and(|l| l.contains("revisionHistoryLimit: 10"))
    });
    eprintln!("--- d /revisionhistory\n{found}");

    // A pod kos did not apply: nothing to compare with.
    // (Escape goes alone: followed at once by a key, terminals read the pair as Alt-key.)
    tmux.keys(&["Escape"]);
    tmux.wait_for("the tree", Duration::from_secs(5), |s| {
        s.contains("┌ objects")
    });
    tmux.keys(&["Down", "Down", "d"]);
    let child = tmux.wait_for("the note on a child", Duration::from_secs(10), |s| {
        s.contains("nothing applied to compare with")
    });
    assert!(
        child.contains("kos did not apply Pod default/web-"),
        "{child}"
    );

    // The same pod's log with the times the container wrote each line, from a minute back.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the tree", Duration::from_secs(5), |s| {
        s.contains("┌ objects")
    });
    tmux.keys(&["l"]);
    tmux.wait_for("the logs", Duration::from_secs(10), |s| {
        s.contains("┌ logs Pod")
    });
    tmux.keys(&["t", "1"]);
    let stamped = tmux.wait_for("timestamped lines", Duration::from_secs(30), |s| {
        s.contains("· timestamps · last 1m00s")
            && s.lines()
                .any(|l| l.starts_with("│20") && l.contains("Z INFO "))
    });
    eprintln!("--- logs t 1\n{stamped}");

    tmux.keys(&["q"]);
    wait_for_exit(&exit_file);
    assert_eq!(tmux.format("#{alternate_on}"), "0");
    assert_eq!(
        tmux.format("#{mouse_any_flag}"),
        "0",
        "the mouse is given back"
    );
}
