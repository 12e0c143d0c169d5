//! End to end: the real `kos apply` in a real terminal (tmux) against `kos sim serve`.
//!
//! The test reads the screen as a person would: the tree with every pod, a moving
//! countdown, collapse, the logs pane, `q` with the verdict's exit code, the shell's
//! screen back afterwards, and the same after SIGTERM (exit 143). It skips (with the reason) where tmux is missing, and fails
//! instead under `KOS_REQUIRE_E2E=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// Whether the test can run; prints why not, and panics instead under `KOS_REQUIRE_E2E=1`.
fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        assert!(
            std::env::var("KOS_REQUIRE_E2E").as_deref() != Ok("1"),
            "tmux is required (KOS_REQUIRE_E2E=1) but not installed"
        );
        eprintln!("skipping: tmux is not installed");
    }
    found
}

/// `kos sim serve` in the background, stopped on drop.
struct Sim {
    child: Child,
}

impl Sim {
    fn start(kubeconfig: &Path) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kos"))
            .args(["sim", "serve", "--kubeconfig-out"])
            .arg(kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kos sim serve starts");
        // The server prints its address once the kubeconfig is written and it listens.
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("kos sim serve prints its address");
        assert!(line.contains("serving on"), "unexpected first line: {line}");
        Sim { child }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tmux server of our own (its own socket), with one 120×40 window; killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start() -> Tmux {
        let tmux = Tmux {
            socket: format!("kos-e2e-{}", std::process::id()),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "120",
            "-y",
            "40",
            "sh",
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "main"])
    }

    /// Waits until the screen satisfies `ready`; panics with the last screen at the deadline.
    fn wait_for(&self, what: &str, timeout: Duration, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn pod_rows(screen: &str) -> usize {
    screen.lines().filter(|l| l.contains(" Pod web-")).count()
}

fn header(screen: &str) -> String {
    screen.lines().next().unwrap_or_default().to_owned()
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kos-e2e-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

#[test]
fn the_live_view_in_a_real_terminal() {
    if !tmux_available() {
        return;
    }
    let dir = temp_dir();
    let kubeconfig = dir.join("kubeconfig");
    let manifest = dir.join("web.yaml");
    let exit_file = dir.join("exit");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let _sim = Sim::start(&kubeconfig);
    let tmux = Tmux::start();
    let command = format!(
        "{kos} apply -f {manifest} --kubeconfig {kubeconfig} --timeout 10m --stabilize 2s; \
         echo EXIT=$? > {exit}",
        kos = env!("CARGO_BIN_EXE_kos"),
        manifest = manifest.display(),
        kubeconfig = kubeconfig.display(),
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
    assert_eq!(
        tmux.run(&["display-message", "-p", "-t", "main", "#{alternate_on}"])
            .trim(),
        "0"
    );
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
    let shell = tmux.run(&["display-message", "-p", "-t", "main", "#{pane_pid}"]);
    let kos = Command::new("pgrep")
        .args(["-P", shell.trim()])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&kos.stdout).trim().to_owned();
    assert!(!pid.is_empty(), "kos runs under the pane's shell");
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.is_ok_and(|s| s.success()));
    assert_eq!(wait_for_exit(&exit_file), "EXIT=143", "SIGTERM exits 143");
    assert_eq!(
        tmux.run(&["display-message", "-p", "-t", "main", "#{alternate_on}"])
            .trim(),
        "0"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `EXIT=n` line the shell writes once kos has exited.
fn wait_for_exit(file: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && !text.is_empty()
        {
            return text.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "kos did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `kos demo` without a terminal: the bundled scenario runs against the in-process cluster
/// and ends with the verdict the scenario is built for.
#[test]
fn demo_scenarios_end_with_their_verdict() {
    for (scenario, outcome, code) in [("job", "success", 0), ("image-pull", "failed", 1)] {
        let out = Command::new(env!("CARGO_BIN_EXE_kos"))
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
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("{scenario}: stdout is not one JSON document ({e}):\n{stdout}")
        });
        assert_eq!(report["outcome"], outcome, "{scenario}: {stdout}");
        assert_eq!(out.status.code(), Some(code), "{scenario}");
    }
}
