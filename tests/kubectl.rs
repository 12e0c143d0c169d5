//! Real kubectl against `kos sim serve`: the simulated cluster must look like a cluster to
//! the tool people check it with. Each test starts its own server process (`--speed 20`)
//! and drives it with kubectl through the kubeconfig the server writes.
//!
//! Without kubectl the tests skip with a reason, unless `KOS_REQUIRE_E2E=1`, which makes
//! them fail. Every wait polls a condition under a deadline; nothing sleeps in its place.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any single kubectl command may take before the test calls it hung.
const COMMAND: Duration = Duration::from_secs(90);
/// How long the cluster may take to reach a state the test waits for.
const SETTLE: Duration = Duration::from_mins(1);
/// The interval between two looks at a condition.
const POLL: Duration = Duration::from_millis(200);
const NS: &str = "e2e";

/// Whether kubectl runs here; `false` means skip (after saying why), unless E2E is required.
fn kubectl_present() -> bool {
    let present = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert!(
            std::env::var("KOS_REQUIRE_E2E").as_deref() != Ok("1"),
            "kubectl is not installed and KOS_REQUIRE_E2E=1"
        );
        eprintln!("skipped: kubectl is not installed (set KOS_REQUIRE_E2E=1 to fail instead)");
    }
    present
}

/// What a finished command printed.
struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs a command to completion, killing it (by its pid) if it outlives `deadline`.
fn run(mut command: Command, deadline: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(output) = rx.recv_timeout(deadline) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("{command:?} did not finish within {deadline:?}");
    };
    let output = output.expect("the command's output");
    Output {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Polls `check` until it gives a value, failing with `what` at the deadline.
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < SETTLE, "timed out waiting for {what}");
        std::thread::sleep(POLL);
    }
}

/// Lines a running process prints, read on a thread so the test can wait with a deadline.
struct Lines {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Lines {
    fn spawn(mut command: Command) -> Lines {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the process starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { child, lines }
    }

    /// The next line, or `None` when the process closed its output.
    fn next(&self, what: &str) -> Option<String> {
        match self.lines.recv_timeout(SETTLE) {
            Ok(line) => Some(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no line for {what} in {SETTLE:?}"),
        }
    }

    /// Reads lines until one satisfies `wanted`; every line read is returned.
    fn until(&self, what: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let Some(line) = self.next(what) else {
                panic!("output ended before {what}; saw {seen:#?}");
            };
            let done = wanted(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `kos sim serve` and the kubeconfig it wrote.
struct Sim {
    _server: Lines,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

impl Sim {
    fn start() -> Sim {
        Sim::start_with(&[])
    }

    /// A server with `extra` flags.
    fn start_with(extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kos"));
        command
            .args(["sim", "serve", "--speed", "20", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .args(extra);
        let server = Lines::spawn(command);
        let first = server.next("the server's address");
        assert!(
            first.is_some(),
            "kos sim serve exited before printing its address"
        );
        assert!(
            kubeconfig.is_file(),
            "no kubeconfig at {}",
            kubeconfig.display()
        );
        let sim = Sim {
            _server: server,
            kubeconfig,
            dir,
        };
        sim.ok(&["create", "namespace", NS]);
        sim
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--request-timeout", "30s"])
            .args(args);
        command
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        run(self.command(args), COMMAND)
    }

    /// Runs kubectl, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.ok,
            "kubectl {args:?} failed:\n{}\n{}",
            output.stdout, output.stderr
        );
        output.stdout
    }

    /// Runs kubectl in the test namespace, which must succeed.
    fn ns(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", NS];
        all.extend_from_slice(args);
        self.ok(&all)
    }

    /// Writes a manifest into the test's directory.
    fn manifest(&self, name: &str, yaml: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut file = std::fs::File::create(&path).expect("a manifest file");
        file.write_all(yaml.as_bytes())
            .expect("the manifest is written");
        path
    }

    /// A field of an object by `JSONPath`; empty when the object or field is absent.
    fn field(&self, object: &str, path: &str) -> String {
        let jsonpath = format!("jsonpath={{{path}}}");
        let output = self.kubectl(&["-n", NS, "get", object, "-o", &jsonpath]);
        if output.ok {
            output.stdout
        } else {
            String::new()
        }
    }

    /// Waits until `object`'s field at `path` reads `wanted`.
    fn wait_field(&self, object: &str, path: &str, wanted: &str) {
        eventually(&format!("{object} {path} = {wanted}"), || {
            (self.field(object, path) == wanted).then_some(())
        });
    }

    /// The rows (header excluded) of `kubectl get` in the test namespace.
    fn rows(&self, args: &[&str]) -> Vec<Vec<String>> {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        self.ns(&all)
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().map(str::to_owned).collect())
            .collect()
    }
}

/// The `kubectl get pod NAME` row of one pod: kubectl asks for a Table of one row, and
/// shows only NAME and AGE when the server answers with the object instead.
fn row(sim: &Sim, pod: &str) -> Option<Vec<String>> {
    sim.rows(&["pod", pod])
        .into_iter()
        .find(|row| row[0] == pod)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn deployment(name: &str, replicas: u32, image: &str, annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {NS}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {{{annotations}}}
    spec:
      containers:
      - name: app
        image: {image}
"
    )
}

mod cluster {
    use super::*;

    #[test]
    fn version_namespaces_apply_get_describe_and_events() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let version = sim.ok(&["version", "-o", "json"]);
        assert!(version.contains("serverVersion"), "{version}");
        assert!(sim.ok(&["get", "namespaces"]).contains(NS));

        let file = sim.manifest("web.yaml", &deployment("web", 2, "nginx:1.27", ""));
        let applied = sim.ns(&["apply", "-f", path_str(&file)]);
        assert!(applied.contains("deployment.apps/web created"), "{applied}");
        let again = sim.ns(&["apply", "-f", path_str(&file)]);
        assert!(again.contains("deployment.apps/web unchanged"), "{again}");
        let server_side = sim.ns(&["apply", "--server-side", "-f", path_str(&file)]);
        assert!(server_side.contains("serverside-applied"), "{server_side}");

        sim.wait_field("deployment/web", ".status.readyReplicas", "2");
        let pods = sim.rows(&["pods"]);
        assert_eq!(pods.len(), 2, "{pods:?}");
        for pod in &pods {
            assert!(pod[0].starts_with("web-"), "{pod:?}");
            assert_eq!(
                (pod[1].as_str(), pod[2].as_str()),
                ("1/1", "Running"),
                "{pod:?}"
            );
        }

        let wide = sim.ns(&["get", "pods", "-o", "wide"]);
        let header = wide.lines().next().unwrap_or_default();
        for column in ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] {
            assert!(header.contains(column), "{wide}");
        }
        let nodes = sim.ok(&["get", "nodes", "-o", "name"]);
        let first_pod = wide.lines().nth(1).unwrap_or_default();
        assert!(
            nodes
                .lines()
                .any(|node| first_pod.contains(node.trim_start_matches("node/"))),
            "a wide pod row names its node: {wide}"
        );

        let json: serde_json::Value =
            serde_json::from_str(&sim.ns(&["get", "deployment", "web", "-o", "json"]))
                .expect("kubectl -o json prints JSON");
        assert_eq!(json["kind"], "Deployment");
        assert_eq!(json["spec"]["replicas"], 2);
        let yaml = sim.ns(&["get", "deployment", "web", "-o", "yaml"]);
        assert!(
            yaml.contains("kind: Deployment") && yaml.contains("replicas: 2"),
            "{yaml}"
        );

        let pod = &pods[0][0];
        let described = sim.ns(&["describe", "pod", pod]);
        for wanted in [
            "Name:",
            "Status:",
            "Running",
            "Containers:",
            "nginx:1.27",
            "Events:",
        ] {
            assert!(
                described.contains(wanted),
                "describe lacks {wanted}:\n{described}"
            );
        }
        let events = eventually("Scheduled and ScalingReplicaSet events", || {
            let events = sim.ns(&["get", "events"]);
            (events.contains("Scheduled") && events.contains("ScalingReplicaSet")).then_some(events)
        });
        let header = events.lines().next().unwrap_or_default();
        for column in ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"] {
            assert!(header.contains(column), "{header}");
        }
    }

    #[test]
    fn get_watch_prints_changes_as_they_happen() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let file = sim.manifest("web.yaml", &deployment("web", 1, "nginx:1.27", ""));
        sim.ns(&["apply", "-f", path_str(&file)]);
        sim.wait_field("deployment/web", ".status.readyReplicas", "1");
        let watch = Lines::spawn(sim.command(&["-n", NS, "get", "deployments", "-w"]));
        let first = watch.until("the header", |line| line.starts_with("NAME"));
        assert!(
            first.last().is_some_and(|h| h.contains("READY")),
            "{first:?}"
        );
        watch.until("the current row", |line| {
            line.starts_with("web ") && line.contains("1/1")
        });
        sim.ns(&["scale", "deployment/web", "--replicas", "2"]);
        watch.until("the scaled row", |line| {
            line.starts_with("web ") && line.contains("2/2")
        });
    }
}

mod workloads {
    use super::*;

    #[test]
    fn rollouts_image_changes_scaling_and_garbage_collection() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let file = sim.manifest("web.yaml", &deployment("web", 2, "nginx:1.27", ""));
        sim.ns(&["apply", "-f", path_str(&file)]);
        let status = sim.ns(&["rollout", "status", "deployment/web", "--timeout", "60s"]);
        assert!(status.contains("successfully rolled out"), "{status}");

        let wide = sim.ns(&["get", "deploy", "-o", "wide"]);
        let header = wide.lines().next().unwrap_or_default();
        for column in [
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
        ] {
            assert!(header.contains(column), "{wide}");
        }
        assert!(
            wide.contains("nginx:1.27") && wide.contains("app=web"),
            "{wide}"
        );

        sim.ns(&["set", "image", "deployment/web", "app=nginx:1.28"]);
        let status = sim.ns(&["rollout", "status", "deployment/web", "--timeout", "60s"]);
        assert!(status.contains("successfully rolled out"), "{status}");
        let sets = sim.rows(&["replicasets", "-l", "app=web"]);
        assert_eq!(sets.len(), 2, "a new ReplicaSet per template: {sets:?}");
        let images = sim.field("deployment/web", ".spec.template.spec.containers[0].image");
        assert_eq!(images, "nginx:1.28");

        sim.ns(&["scale", "deployment/web", "--replicas", "3"]);
        sim.wait_field("deployment/web", ".status.readyReplicas", "3");

        sim.ns(&["delete", "deployment", "web"]);
        eventually("the deployment's pods to be collected", || {
            sim.rows(&["pods", "-l", "app=web"])
                .is_empty()
                .then_some(())
        });
        assert!(sim.rows(&["replicasets", "-l", "app=web"]).is_empty());
    }

    #[test]
    fn statefulset_and_daemonset_roll_out() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let manifest = format!(
            "apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: {NS}}}
spec:
  serviceName: db
  replicas: 2
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers: [{{name: db, image: postgres:17}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: {NS}}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      tolerations: [{{operator: Exists}}]
      containers: [{{name: agent, image: fluentbit:3}}]
"
        );
        let file = sim.manifest("sets.yaml", &manifest);
        sim.ns(&["apply", "--server-side", "-f", path_str(&file)]);
        for set in ["statefulset/db", "daemonset/agent"] {
            let status = sim.ns(&["rollout", "status", set, "--timeout", "60s"]);
            // kubectl words it per kind: "partitioned roll out complete" for a StatefulSet
            // (its partition defaults to 0), "successfully rolled out" for a DaemonSet.
            assert!(
                status.contains("roll out complete") || status.contains("successfully rolled out"),
                "{set}: {status}"
            );
        }
        let sets = sim.rows(&["statefulsets"]);
        assert_eq!(
            sets[0][..2],
            ["db".to_owned(), "2/2".to_owned()],
            "{sets:?}"
        );
        let pods: Vec<String> = sim
            .rows(&["pods", "-l", "app=db"])
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(pods, ["db-0", "db-1"]);
        let nodes = sim.rows(&["nodes"]).len();
        let daemons = sim.rows(&["daemonsets"]);
        assert_eq!(
            daemons[0][1],
            nodes.to_string(),
            "one pod per node: {daemons:?}"
        );
    }
}

mod logs {
    use super::*;
    use std::fmt::Write as _;

    /// A pod with annotations and containers (`name: image`).
    fn pod(name: &str, annotations: &str, containers: &[(&str, &str)]) -> String {
        let containers = containers
            .iter()
            .fold(String::new(), |mut out, (name, image)| {
                let _ = writeln!(out, "  - {{name: {name}, image: \"{image}\"}}");
                out
            });
        format!(
            "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {NS}
  annotations: {{{annotations}}}
spec:
  containers:
{containers}"
        )
    }

    #[test]
    fn plain_tail_container_and_follow() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let chatty = pod(
            "chatty",
            "sim.kos.dev/log-rate: 20/s",
            &[("app", "nginx:1.27"), ("sidecar", "envoy:1.31")],
        );
        let file = sim.manifest("chatty.yaml", &chatty);
        sim.ns(&["apply", "-f", path_str(&file)]);
        sim.wait_field("pod/chatty", ".status.phase", "Running");

        let plain = eventually("three log lines", || {
            let output = sim.kubectl(&["-n", NS, "logs", "chatty", "-c", "app"]);
            (output.ok && output.stdout.lines().count() >= 3).then_some(output.stdout)
        });
        assert!(plain.contains("starting app"), "{plain}");
        let tail = sim.ns(&["logs", "chatty", "-c", "app", "--tail", "2"]);
        assert_eq!(tail.lines().count(), 2, "{tail}");
        let sidecar = sim.ns(&["logs", "chatty", "-c", "sidecar"]);
        assert!(
            sidecar.contains("starting sidecar"),
            "each container has its own log"
        );
        let unnamed = sim.kubectl(&["-n", NS, "logs", "chatty"]);
        assert!(
            unnamed.ok,
            "kubectl picks the default container: {}",
            unnamed.stderr
        );
        let missing = sim.kubectl(&["-n", NS, "logs", "chatty", "-c", "app", "--previous"]);
        assert!(!missing.ok);
        assert!(
            missing.stderr.contains("previous terminated container"),
            "{}",
            missing.stderr
        );

        let args = ["-n", NS, "logs", "-f", "chatty", "-c", "app", "--tail", "1"];
        let follow = Lines::spawn(sim.command(&args));
        let seen = follow.until("two followed lines", {
            let count = std::cell::Cell::new(0);
            move |_| {
                count.set(count.get() + 1);
                count.get() == 3
            }
        });
        assert_eq!(seen.len(), 3, "the tail line and new ones: {seen:?}");
    }

    #[test]
    fn crashed_and_waiting_containers() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let pods = [
            pod(
                "crasher",
                "sim.kos.dev/crash-after: 1s",
                &[("app", "busybox:1.36")],
            ),
            pod("broken", "", &[("app", "nginx:doesnotexist")]),
        ];
        let file = sim.manifest("pods.yaml", &pods.join("---\n"));
        sim.ns(&["apply", "-f", path_str(&file)]);

        eventually("the crasher to restart", || {
            let restarts = sim.field("pod/crasher", ".status.containerStatuses[0].restartCount");
            restarts.parse::<u32>().is_ok_and(|n| n >= 1).then_some(())
        });
        let previous = sim.kubectl(&["-n", NS, "logs", "crasher", "--previous"]);
        assert!(previous.ok, "{}", previous.stderr);
        assert!(
            previous.stdout.contains("exiting with code"),
            "{}",
            previous.stdout
        );
        eventually("the restarts column to say when", || {
            let restarts = row(&sim, "crasher").map(|row| row[3..].join(" "));
            restarts
                .is_some_and(|cell| cell.contains(" ago)"))
                .then_some(())
        });

        eventually("an image pull back-off", || {
            row(&sim, "broken")
                .is_some_and(|row| row[2] == "ImagePullBackOff")
                .then_some(())
        });
        let waiting = sim.kubectl(&["-n", NS, "logs", "broken"]);
        assert!(!waiting.ok);
        assert!(
            waiting.stderr.contains("is waiting to start"),
            "{}",
            waiting.stderr
        );
    }
}

mod credentials {
    use super::*;

    /// The kubeconfig's two users over HTTPS: the admin (a client certificate) may write, the
    /// viewer (a bearer token) may read and gets RBAC's 403 for a write.
    #[test]
    fn the_admin_writes_and_the_viewer_only_reads() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let server = sim.ok(&[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ]);
        assert!(server.starts_with("https://127.0.0.1:"), "{server}");
        sim.ns(&["create", "configmap", "by-admin", "--from-literal=k=v"]);
        let viewer = |args: &[&str]| {
            let mut all = vec!["--context", "kos-sim-viewer", "-n", NS];
            all.extend_from_slice(args);
            sim.kubectl(&all)
        };
        let read = viewer(&["get", "configmap", "by-admin", "-o", "name"]);
        assert!(read.ok, "{}", read.stderr);
        assert_eq!(read.stdout.trim(), "configmap/by-admin");
        let written = viewer(&["create", "configmap", "by-viewer", "--from-literal=k=v"]);
        assert!(!written.ok, "{}", written.stdout);
        let refusal = format!(
            "configmaps is forbidden: User \"kos-sim-viewer\" cannot create resource \
             \"configmaps\" in API group \"\" in the namespace \"{NS}\""
        );
        assert!(written.stderr.contains(&refusal), "{}", written.stderr);
    }

    /// `kubectl auth can-i` answers by the rules that refuse requests with 403, for each
    /// user; `--list` shows the caller's rules and `whoami` who the caller is.
    #[test]
    fn auth_can_i_and_whoami_answer_for_each_user() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let viewer = |args: &[&str]| {
            let mut all = vec!["--context", "kos-sim-viewer"];
            all.extend_from_slice(args);
            sim.kubectl(&all)
        };
        let admin_may = sim.kubectl(&["auth", "can-i", "create", "deployments"]);
        assert!(admin_may.ok, "{}", admin_may.stderr);
        assert_eq!(admin_may.stdout.trim(), "yes");
        let viewer_may_not = viewer(&["auth", "can-i", "create", "deployments"]);
        assert!(!viewer_may_not.ok, "can-i says no with exit 1");
        assert_eq!(
            viewer_may_not.stdout.trim(),
            "no",
            "{}",
            viewer_may_not.stderr
        );
        let viewer_reads = viewer(&["auth", "can-i", "list", "pods", "-n", NS]);
        assert!(viewer_reads.ok, "{}", viewer_reads.stderr);
        assert_eq!(viewer_reads.stdout.trim(), "yes");
        let rules = viewer(&["auth", "can-i", "--list"]);
        assert!(rules.ok, "{}", rules.stderr);
        assert!(
            rules
                .stdout
                .lines()
                .any(|l| l.starts_with("*.*") && l.ends_with("[get list watch]")),
            "{}",
            rules.stdout
        );
        assert!(
            !rules.stdout.contains("[*]"),
            "the viewer has no wildcard verbs:\n{}",
            rules.stdout
        );
        let whoami = sim.ok(&["auth", "whoami"]);
        assert!(
            whoami.contains("kubernetes-admin")
                && whoami.contains("[system:masters system:authenticated]"),
            "{whoami}"
        );
        let viewer_whoami = viewer(&["auth", "whoami", "-o", "jsonpath={.status.userInfo}"]);
        assert!(viewer_whoami.ok, "{}", viewer_whoami.stderr);
        assert!(
            viewer_whoami
                .stdout
                .contains("\"username\":\"kos-sim-viewer\""),
            "{}",
            viewer_whoami.stdout
        );
    }

    /// `kubectl get componentstatuses`: a healthy control plane, with the real server's
    /// deprecation warning.
    #[test]
    fn component_statuses_are_healthy_and_deprecated() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let listed = sim.kubectl(&["get", "cs"]);
        assert!(listed.ok, "{}", listed.stderr);
        assert!(
            listed
                .stderr
                .contains("Warning: v1 ComponentStatus is deprecated in v1.19+"),
            "{}",
            listed.stderr
        );
        let rows: Vec<Vec<&str>> = listed
            .stdout
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows,
            [
                ["scheduler", "Healthy", "ok"],
                ["controller-manager", "Healthy", "ok"],
                ["etcd-0", "Healthy", "ok"]
            ],
            "{}",
            listed.stdout
        );
    }

    /// A Binding assigns a pod no scheduler placed to a node, once.
    #[test]
    fn a_binding_assigns_an_unscheduled_pod_once() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let pod = sim.manifest(
            "parked.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: parked\n  annotations:\n    \
             sim.kos.dev/unschedulable: \"true\"\nspec:\n  containers:\n  - name: app\n    \
             image: nginx\n",
        );
        sim.ns(&["apply", "-f", path_str(&pod)]);
        let binding = sim.manifest(
            "binding.json",
            r#"{"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "parked"},
                "target": {"kind": "Node", "name": "sim-node-2"}}"#,
        );
        let path = format!("/api/v1/namespaces/{NS}/pods/parked/binding");
        let raw = ["create", "--raw", path.as_str(), "-f", path_str(&binding)];
        sim.ok(&raw);
        assert_eq!(sim.field("pod/parked", ".spec.nodeName"), "sim-node-2");
        let again = sim.kubectl(&raw);
        assert!(!again.ok, "{}", again.stdout);
        assert!(
            again.stderr.contains("(Conflict)")
                && again
                    .stderr
                    .contains("pod parked is already assigned to node")
                && again.stderr.contains("sim-node-2"),
            "{}",
            again.stderr
        );
    }

    /// A self-signed serving certificate that is its own CA: kubectl (Go's TLS) accepts it.
    #[test]
    fn a_self_signed_serving_certificate_is_accepted() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start_with(&["--serving-cert", "self-signed"]);
        assert!(sim.ok(&["get", "namespaces"]).contains(NS));
    }
}

mod kinds {
    use super::*;

    /// A typical object of each kind that published install manifests use and the
    /// simulator did not serve before, one document each.
    const TYPICAL: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: e2e}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: {name: metrics-server, namespace: e2e}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: checker}
webhooks:
- name: check.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {service: {name: checker, namespace: e2e, path: /validate}}
  rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: injector}
webhooks:
- name: inject.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {service: {name: injector, namespace: e2e}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: example.com/fast
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: e2e}
spec:
  replicas: 1
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
globalDefault: false
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: gvisor}
handler: runsc
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: leader, namespace: e2e}
spec: {holderIdentity: one, leaseDurationSeconds: 15}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: e2e, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: csi.example.com}
spec: {attachRequired: true, podInfoOnMount: false}
---
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata: {name: attach-one}
spec:
  attacher: csi.example.com
  nodeName: node-1
  source: {persistentVolumeName: pv-one}
---
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: "system:node:one"}
spec:
  request: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K
  signerName: kubernetes.io/kube-apiserver-client
  usages: [client auth]
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: "system:probes"}
spec:
  matchingPrecedence: 500
  priorityLevelConfiguration: {name: exempt}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota, namespace: e2e}
spec: {hard: {pods: "10", requests.memory: 1Gi}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: e2e}
spec: {limits: [{type: Container, default: {memory: 256Mi}}]}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: template, namespace: e2e}
template:
  metadata: {labels: {app: template}}
  spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: web-1, namespace: e2e}
revision: 1
data: {spec: {}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:aggregated-metrics-reader"}
rules: [{apiGroups: [metrics.k8s.io], resources: [pods, nodes], verbs: [get, list, watch]}]
"#;

    /// (resource, name, namespaced) of each object of [`TYPICAL`].
    const APPLIED: [(&str, &str, bool); 20] = [
        ("networkpolicies", "deny-all", true),
        ("apiservices", "v1beta1.metrics.k8s.io", false),
        ("validatingwebhookconfigurations", "checker", false),
        ("mutatingwebhookconfigurations", "injector", false),
        ("ingressclasses", "nginx", false),
        ("storageclasses", "fast", false),
        ("replicationcontrollers", "legacy", true),
        ("priorityclasses", "high", false),
        ("runtimeclasses", "gvisor", false),
        ("leases", "leader", true),
        ("endpointslices", "web-abc", true),
        ("csidrivers", "csi.example.com", false),
        ("volumeattachments", "attach-one", false),
        ("certificatesigningrequests", "system:node:one", false),
        ("flowschemas", "system:probes", false),
        ("resourcequotas", "quota", true),
        ("limitranges", "limits", true),
        ("podtemplates", "template", true),
        ("controllerrevisions", "web-1", true),
        ("clusterroles", "system:aggregated-metrics-reader", false),
    ];

    /// Who may do what, and an Endpoints object kept by hand: the kinds besides [`TYPICAL`]
    /// whose columns published install manifests show.
    const ACCESS: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: e2e}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: e2e}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-reads-pods, namespace: e2e}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: app, namespace: e2e}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: app-reads-metrics}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: "system:aggregated-metrics-reader"
subjects:
- {kind: ServiceAccount, name: app, namespace: e2e}
- {kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: v1
kind: Endpoints
metadata: {name: external, namespace: e2e}
subsets: [{addresses: [{ip: 10.0.0.5}], ports: [{port: 5432}]}]
"#;

    /// `kubectl get` prints each kind's columns as a real API server's printers make them:
    /// Argo CD's, cert-manager's and ingress-nginx's installs are mostly these kinds, which
    /// showed NAME and AGE alone.
    #[test]
    fn kubectl_get_prints_the_real_columns_of_access_and_wiring_kinds() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let typical = sim.manifest("kinds.yaml", TYPICAL);
        let access = sim.manifest("access.yaml", ACCESS);
        let (typical, access) = (path_str(&typical), path_str(&access));
        sim.ok(&["apply", "--server-side", "-f", typical, "-f", access]);
        let header = |args: &[&str]| {
            let mut all = vec!["get"];
            all.extend_from_slice(args);
            let table = sim.ns(&all);
            table
                .lines()
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let expected = [
            (&["serviceaccounts"][..], "NAME SECRETS AGE"),
            (&["endpoints", "external"], "NAME ENDPOINTS AGE"),
            (&["endpointslices"], "NAME ADDRESSTYPE PORTS ENDPOINTS AGE"),
            (&["networkpolicies"], "NAME POD-SELECTOR AGE"),
            (&["roles"], "NAME CREATED AT"),
            (&["limitranges"], "NAME CREATED AT"),
            (&["rolebindings"], "NAME ROLE AGE"),
            (
                &["clusterrolebinding", "app-reads-metrics", "-o", "wide"],
                "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS",
            ),
            (&["ingressclasses"], "NAME CONTROLLER PARAMETERS AGE"),
            (&["validatingwebhookconfigurations"], "NAME WEBHOOKS AGE"),
        ];
        for (args, columns) in expected {
            assert_eq!(header(args), columns, "kubectl get {args:?}");
        }
        let row = |args: &[&str]| sim.rows(args).into_iter().next().unwrap_or_default();
        assert_eq!(row(&["endpoints", "external"])[1], "10.0.0.5:5432");
        assert_eq!(
            row(&["endpointslice", "web-abc"])[1..4],
            ["IPv4", "80", "10.0.0.1"]
        );
        assert_eq!(row(&["networkpolicy", "deny-all"])[1], "<none>");
        assert_eq!(
            row(&["rolebinding", "app-reads-pods"])[1],
            "Role/pod-reader"
        );
        // No users: their empty cell leaves the groups and ServiceAccounts after the age.
        let wide = row(&["clusterrolebinding", "app-reads-metrics", "-o", "wide"]);
        assert_eq!(wide[1], "ClusterRole/system:aggregated-metrics-reader");
        assert_eq!(wide[3..], ["devs", "e2e/app"], "{wide:?}");
        assert_eq!(
            row(&["ingressclass", "nginx"])[1..3],
            ["k8s.io/ingress-nginx", "<none>"]
        );
        assert_eq!(row(&["validatingwebhookconfiguration", "checker"])[1], "1");
    }

    /// Client-side apply copies the whole object into an annotation, which may hold 256 KiB:
    /// a bigger object (Argo CD's `ApplicationSet` CRD is 340 KB) is refused as a real API
    /// server refuses it, and goes in with server-side apply.
    #[test]
    fn an_object_too_big_for_client_side_apply_needs_server_side_apply() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let big = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big, namespace: {NS}}}\n\
             data: {{blob: {}}}\n",
            "x".repeat(300 * 1024)
        );
        let file = sim.manifest("big.yaml", &big);
        let refused = sim.kubectl(&["apply", "-f", path_str(&file)]);
        assert!(!refused.ok, "{}", refused.stdout);
        assert!(
            refused.stderr.contains(
                "The ConfigMap \"big\" is invalid: metadata.annotations: Too long: may not be \
                 more than 262144 bytes"
            ),
            "{}",
            refused.stderr
        );
        sim.ok(&["apply", "--server-side", "-f", path_str(&file)]);
        assert_eq!(sim.field("configmap/big", ".data.blob").len(), 300 * 1024);
    }

    #[test]
    fn every_kind_serves_its_typical_object_to_server_side_apply() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let file = sim.manifest("kinds.yaml", TYPICAL);
        let path = path_str(&file);
        sim.ok(&["apply", "--server-side", "-f", path]);
        for (resource, name, namespaced) in APPLIED {
            let mut args = vec!["get", resource, name, "-o", "name"];
            if namespaced {
                args.extend(["-n", NS]);
            }
            assert!(
                sim.ok(&args).trim().ends_with(&format!("/{name}")),
                "{resource} {name}"
            );
        }
        // kubectl knows the kinds by their real short names.
        let listed = sim.ok(&["api-resources", "--no-headers"]);
        for short in ["netpol", "sc", "rc", "pc", "csr", "quota", "limits"] {
            assert!(
                listed
                    .lines()
                    .any(|l| l.split_whitespace().nth(1) == Some(short)),
                "api-resources lists no {short}:\n{listed}"
            );
        }
    }

    #[test]
    fn invalid_objects_are_refused_as_a_real_server_refuses_them() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let refused = |name: &str, yaml: &str, args: &[&str]| {
            let file = sim.manifest(name, yaml);
            let mut all = vec!["-n", NS];
            all.extend_from_slice(args);
            all.extend(["-f", path_str(&file)]);
            let output = sim.kubectl(&all);
            assert!(!output.ok, "{name} was accepted");
            output.stderr
        };
        let service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n";
        let stderr = refused(
            "type.yaml",
            &format!("{service}spec: {{type: LoadBalancr, ports: [{{port: 80}}]}}\n"),
            &["apply", "--server-side"],
        );
        assert!(
            stderr.contains(
                "spec.type: Unsupported value: \"LoadBalancr\": supported values: \
                 \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            ),
            "{stderr}"
        );
        let stderr = refused(
            "ports.yaml",
            &format!("{service}spec: {{selector: {{app: web}}}}\n"),
            &["apply", "--server-side"],
        );
        assert!(stderr.contains("spec.ports: Required value"), "{stderr}");
        let pod = |container: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - {{name: app, image: nginx, {container}}}\n"
            )
        };
        let stderr = refused(
            "quantity.yaml",
            &pod("resources: {limits: {memory: 1Gib}}"),
            &["create"],
        );
        assert!(
            stderr.contains("quantities must match the regular expression"),
            "{stderr}"
        );
        let stderr = refused(
            "pull.yaml",
            &pod("imagePullPolicy: Allways"),
            &["apply", "--server-side"],
        );
        assert!(
            stderr.contains("spec.containers[0].imagePullPolicy: Unsupported value: \"Allways\""),
            "{stderr}"
        );
        let typo = deployment("web", 1, "nginx", "").replace("replicas:", "replica:");
        let stderr = refused("strict.yaml", &typo, &["create", "--validate=strict"]);
        assert!(
            stderr.contains("strict decoding error: unknown field \"spec.replica\""),
            "{stderr}"
        );
        // Warn accepts the object and passes the warning on.
        let file = sim.manifest("warn.yaml", &typo);
        let warned = sim.kubectl(&["-n", NS, "create", "--validate=warn", "-f", path_str(&file)]);
        assert!(warned.ok, "{}", warned.stderr);
        assert!(
            warned
                .stderr
                .contains("Warning: unknown field \"spec.replica\""),
            "{}",
            warned.stderr
        );
    }
}

mod rollouts {
    use super::*;

    /// The Rollout CRD kos ships, applied and established.
    fn install_rollouts(sim: &Sim) {
        let crd = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/crds/argo-rollouts.yaml"
        );
        sim.ok(&["apply", "-f", crd]);
        sim.ok(&[
            "wait",
            "--for",
            "condition=established",
            "crd/rollouts.argoproj.io",
        ]);
    }

    fn service(name: &str) -> String {
        format!(
            "apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: shop}}
  ports: [{{port: 80}}]
---
"
        )
    }

    fn rollout(strategy: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: shop}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: shop}}
  strategy:
{strategy}
  template:
    metadata:
      labels: {{app: shop}}
    spec:
      containers: [{{name: shop, image: 'nginx:1.26'}}]
"
        )
    }

    /// A new image, as a merge patch of the pod template.
    fn update_image(sim: &Sim) {
        let patch = r#"{"spec":{"template":{"spec":{"containers":[{"name":"shop","image":"nginx:1.27"}]}}}}"#;
        sim.ns(&["patch", "rollout", "shop", "--type", "merge", "-p", patch]);
    }

    /// What `kubectl argo rollouts promote` sends when the rollout is paused.
    fn promote(sim: &Sim) {
        let patch = r#"{"status":{"pauseConditions":null}}"#;
        sim.ns(&[
            "patch",
            "rollout",
            "shop",
            "--subresource=status",
            "--type",
            "merge",
            "-p",
            patch,
        ]);
    }

    fn selector(sim: &Sim, service: &str) -> String {
        sim.field(
            &format!("service/{service}"),
            ".spec.selector.rollouts-pod-template-hash",
        )
    }

    #[test]
    fn blue_green_waits_on_the_preview_until_promoted_then_switches_the_active_service() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        install_rollouts(&sim);
        let strategy = "    blueGreen:
      activeService: shop-active
      previewService: shop-preview
      autoPromotionEnabled: false
      scaleDownDelaySeconds: 10";
        let yaml = service("shop-active") + &service("shop-preview") + &rollout(strategy);
        let file = sim.manifest("shop.yaml", &yaml);
        sim.ns(&["apply", "-f", path_str(&file)]);
        sim.wait_field("rollout/shop", ".status.phase", "Healthy");
        let v1 = sim.field("ro/shop", ".status.currentPodHash");
        assert_eq!(selector(&sim, "shop-active"), v1);
        let table = sim.ns(&["get", "rollouts"]);
        assert!(
            table.starts_with("NAME") && table.contains("UP-TO-DATE") && table.contains("shop"),
            "{table}"
        );

        update_image(&sim);
        sim.wait_field(
            "rollout/shop",
            ".status.pauseConditions[0].reason",
            "BlueGreenPause",
        );
        assert_eq!(sim.field("rollout/shop", ".status.phase"), "Paused");
        let v2 = sim.field("rollout/shop", ".status.currentPodHash");
        assert_ne!(v1, v2);
        assert_eq!(selector(&sim, "shop-preview"), v2);
        assert_eq!(
            selector(&sim, "shop-active"),
            v1,
            "the active Service waits"
        );
        let owner = sim.field(
            &format!("rs/shop-{v2}"),
            ".metadata.ownerReferences[0].kind",
        );
        assert_eq!(owner, "Rollout");
        sim.wait_field(&format!("rs/shop-{v2}"), ".status.readyReplicas", "2");

        promote(&sim);
        sim.wait_field("rollout/shop", ".status.blueGreen.activeSelector", &v2);
        assert_eq!(selector(&sim, "shop-active"), v2);
        sim.wait_field("rollout/shop", ".status.phase", "Healthy");
        assert_eq!(sim.field("rollout/shop", ".status.stableRS"), v2);
        // The old ReplicaSet is scaled down after scaleDownDelaySeconds.
        sim.wait_field(&format!("rs/shop-{v1}"), ".spec.replicas", "0");
        let events = sim.ns(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=shop",
        ]);
        assert!(events.contains("SwitchService"), "{events}");
    }

    #[test]
    fn a_canary_step_pauses_until_promoted_then_finishes() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        install_rollouts(&sim);
        let strategy = "    canary:
      steps:
        - setWeight: 50
        - pause: {}";
        let file = sim.manifest("shop.yaml", &(service("shop") + &rollout(strategy)));
        sim.ns(&["apply", "-f", path_str(&file)]);
        sim.wait_field("rollout/shop", ".status.phase", "Healthy");
        let v1 = sim.field("ro/shop", ".status.stableRS");

        update_image(&sim);
        sim.wait_field(
            "rollout/shop",
            ".status.pauseConditions[0].reason",
            "CanaryPauseStep",
        );
        assert_eq!(sim.field("rollout/shop", ".status.currentStepIndex"), "1");
        let v2 = sim.field("rollout/shop", ".status.currentPodHash");
        sim.wait_field(&format!("rs/shop-{v2}"), ".spec.replicas", "1");
        sim.wait_field(&format!("rs/shop-{v1}"), ".spec.replicas", "1");

        promote(&sim);
        sim.wait_field("rollout/shop", ".status.phase", "Healthy");
        assert_eq!(sim.field("rollout/shop", ".status.stableRS"), v2);
        assert_eq!(sim.field("rollout/shop", ".status.currentStepIndex"), "2");
        sim.wait_field(&format!("rs/shop-{v1}"), ".spec.replicas", "0");
    }
}

mod aggregation {
    use super::*;

    const METRICS_API: &str = "apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: {name: metrics-server, namespace: kube-system, port: 443}
";

    /// The metrics-server's Service and Deployment, its pod reporting 250m of CPU.
    const METRICS_SERVER: &str = "apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system}
spec:
  selector: {app: metrics-server}
  ports: [{name: https, port: 443, targetPort: 10250}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics-server, namespace: kube-system}
spec:
  selector:
    matchLabels: {app: metrics-server}
  template:
    metadata:
      labels: {app: metrics-server}
      annotations: {sim.kos.dev/cpu-usage: 250m}
    spec:
      containers:
      - name: metrics-server
        image: registry.k8s.io/metrics-server/metrics-server:v0.7.2
";

    #[test]
    fn kubectl_top_works_once_the_metrics_api_is_available() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let api = sim.manifest("api.yaml", METRICS_API);
        sim.ok(&["apply", "-f", path_str(&api)]);
        let available = || {
            let rows = sim.ok(&["get", "apiservices", "v1beta1.metrics.k8s.io"]);
            rows.lines().nth(1).unwrap_or_default().to_owned()
        };
        let missing = eventually("the APIService's condition", || {
            let row = available();
            row.contains("False").then_some(row)
        });
        assert!(
            missing.contains("kube-system/metrics-server")
                && missing.contains(" False (ServiceNotFound) "),
            "{missing}"
        );
        let top = sim.kubectl(&["top", "pods", "-n", "kube-system"]);
        assert!(!top.ok, "{}", top.stdout);
        let server = sim.manifest("server.yaml", METRICS_SERVER);
        sim.ok(&["apply", "-f", path_str(&server)]);
        eventually("the metrics API", || {
            available().contains("True").then_some(())
        });
        let top = sim.ok(&[
            "top",
            "pods",
            "-n",
            "kube-system",
            "-l",
            "app=metrics-server",
        ]);
        let row = top.lines().nth(1).unwrap_or_default();
        assert!(
            row.starts_with("metrics-server-") && row.split_whitespace().nth(1) == Some("250m"),
            "{top}"
        );
    }
}

mod openapi {
    use super::*;

    /// A namespaced custom kind with a schema, and one object of it.
    const CRD: &str = r"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A table of timed commands.
        properties:
          spec:
            type: object
            description: What to run and when.
            required: [cronSpec]
            properties:
              cronSpec: {type: string, description: When to run in cron's syntax.}
              image: {type: string}
";

    /// Applies [`CRD`] and waits until it is established.
    fn install_crontabs(sim: &Sim) {
        let crd = sim.manifest("crd.yaml", CRD);
        sim.ok(&["apply", "-f", path_str(&crd)]);
        sim.ok(&[
            "wait",
            "--for",
            "condition=established",
            "crd/crontabs.stable.example.com",
        ]);
    }

    const CRONTAB: &str = "apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: nightly, namespace: e2e}
spec: {cronSpec: '0 3 * * *', image: backup}
";

    /// `kubectl explain` reads the built-in kinds' descriptions and types from the
    /// server's `OpenAPI` v3 documents.
    #[test]
    fn explain_prints_a_built_in_fields_description_and_type() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let out = sim.ok(&["explain", "deployment.spec.strategy"]);
        for wanted in [
            "GROUP:      apps",
            "KIND:       Deployment",
            "FIELD: strategy <DeploymentStrategy>",
            "The deployment strategy to use to replace existing pods with new ones.",
            "DeploymentStrategy describes how to replace existing pods with new ones.",
            "rollingUpdate\t<RollingUpdateDeployment>",
            "type\t<string>",
        ] {
            assert!(out.contains(wanted), "no {wanted:?} in:\n{out}");
        }
        let out = sim.ok(&["explain", "pods.spec.containers.image"]);
        assert!(out.contains("FIELD: image <string>"), "{out}");
        let out = sim.ok(&["explain", "deployment.spec"]);
        assert!(
            out.contains("selector\t<LabelSelector> -required-"),
            "{out}"
        );
    }

    /// A CRD's schema is in its group-version's document: `explain` shows the kind and
    /// its fields.
    #[test]
    fn explain_prints_a_custom_kind_and_its_spec() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        install_crontabs(&sim);
        let out = sim.ok(&["explain", "crontabs"]);
        for wanted in [
            "GROUP:      stable.example.com",
            "KIND:       CronTab",
            "VERSION:    v1",
            "A table of timed commands.",
            "metadata\t<ObjectMeta>",
            "spec\t<Object>",
        ] {
            assert!(out.contains(wanted), "no {wanted:?} in:\n{out}");
        }
        let out = sim.ok(&["explain", "ct.spec"]);
        for wanted in [
            "FIELD: spec <Object>",
            "What to run and when.",
            "cronSpec\t<string> -required-",
            "When to run in cron's syntax.",
            "image\t<string>",
        ] {
            assert!(out.contains(wanted), "no {wanted:?} in:\n{out}");
        }
    }

    /// A CRD and an object of it in one file: as on a real cluster, kubectl creates the
    /// CRD and cannot map the object on that first run ("ensure CRDs are installed
    /// first"); once the CRD is established the same apply creates the object. Validation
    /// never fails for want of `OpenAPI`.
    #[test]
    fn a_crd_and_its_object_in_one_file_apply_as_on_a_real_cluster() {
        if !kubectl_present() {
            return;
        }
        for server_side in [false, true] {
            let sim = Sim::start();
            let file = sim.manifest("both.yaml", &format!("{CRD}---\n{CRONTAB}"));
            let mut args = vec!["apply", "-f", path_str(&file)];
            if server_side {
                args.push("--server-side");
            }
            let first = sim.kubectl(&args);
            assert!(!first.ok, "{}", first.stdout);
            assert!(
                first.stdout.contains(
                    "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com"
                ),
                "{}",
                first.stdout
            );
            assert!(
                first.stderr.contains(
                    "resource mapping not found for name: \"nightly\" namespace: \"e2e\""
                ) && first.stderr.contains("ensure CRDs are installed first"),
                "{}",
                first.stderr
            );
            assert!(!first.stderr.contains("openapi"), "{}", first.stderr);
            sim.ok(&[
                "wait",
                "--for",
                "condition=established",
                "crd/crontabs.stable.example.com",
            ]);
            let second = sim.ok(&args);
            assert!(
                second.contains("crontab.stable.example.com/nightly"),
                "{second}"
            );
            assert_eq!(sim.field("crontab/nightly", ".spec.image"), "backup");
        }
    }

    /// A custom resource is checked against its CRD's structural schema: an undeclared
    /// field refused under strict validation, a missing required field and a value of the
    /// wrong type refused as invalid, each in the server's words.
    #[test]
    fn custom_resources_are_checked_against_their_crds_schema() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        install_crontabs(&sim);
        let refused = |name: &str, spec: &str, server_side: bool| {
            let yaml = CRONTAB
                .replace("nightly", name)
                .replace("spec: {cronSpec: '0 3 * * *', image: backup}", spec);
            let file = sim.manifest(&format!("{name}.yaml"), &yaml);
            let mut args = vec!["apply", "-f", path_str(&file)];
            if server_side {
                args.push("--server-side");
            }
            let answer = sim.kubectl(&args);
            assert!(!answer.ok, "{name} accepted: {}", answer.stdout);
            answer.stderr
        };
        let typo = refused("typo", "spec: {cronSpec: x, imag: backup}", true);
        assert!(
            typo.contains(".spec.imag: field not declared in schema"),
            "{typo}"
        );
        let missing = refused("missing", "spec: {image: backup}", false);
        assert!(
            missing.contains("\"missing\" is invalid: spec.cronSpec: Required value"),
            "{missing}"
        );
        let wrong = refused("wrong", "spec: {cronSpec: 3}", false);
        assert!(
            wrong.contains(
                "spec.cronSpec: Invalid value: \"integer\": spec.cronSpec in body must be of \
                 type string: \"integer\""
            ),
            "{wrong}"
        );
    }

    /// `apply` validates strictly by default: the server refuses an unknown field with
    /// its own message, and a `List` (which kubectl checks itself, against the server's
    /// Swagger 2.0 document in protobuf) is refused by kubectl with its message.
    #[test]
    fn default_strict_validation_refuses_unknown_fields() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let typo = deployment("web", 1, "nginx", "").replace("replicas:", "replica:");
        let file = sim.manifest("typo.yaml", &typo);
        let refused = sim.kubectl(&["apply", "-f", path_str(&file)]);
        assert!(!refused.ok, "{}", refused.stdout);
        assert!(
            refused
                .stderr
                .contains("strict decoding error: unknown field \"spec.replica\""),
            "{}",
            refused.stderr
        );
        let list = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed, namespace: e2e}
  data: {k: v}
";
        let file = sim.manifest("list.yaml", list);
        let out = sim.ok(&["apply", "-f", path_str(&file)]);
        assert!(out.contains("configmap/listed"), "{out}");
        let file = sim.manifest("bad-list.yaml", &list.replace("data:", "dataa:"));
        let refused = sim.kubectl(&["apply", "-f", path_str(&file)]);
        assert!(!refused.ok, "{}", refused.stdout);
        assert!(
            refused
                .stderr
                .contains("unknown field \"dataa\" in io.k8s.api.core.v1.ConfigMap"),
            "{}",
            refused.stderr
        );
    }
}

mod protobuf {
    use super::*;
    use base64::Engine;
    use serde_json::{Value, json};

    fn get(sim: &Sim, object: &str) -> Value {
        serde_json::from_str(&sim.ns(&["get", object, "-o", "json"])).expect("kubectl's JSON")
    }

    fn decoded(data: &Value) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 text"))
            .expect("base64");
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// The client certificate and key of the kubeconfig the server wrote: a matching pair
    /// for `kubectl create secret tls`.
    fn key_pair(sim: &Sim) -> (PathBuf, PathBuf) {
        let mut paths = Vec::new();
        for (field, file) in [
            ("client-certificate-data", "tls.crt"),
            ("client-key-data", "tls.key"),
        ] {
            let jsonpath = format!("jsonpath={{.users[0].user.{field}}}");
            // The current context's user: the admin, who has a client certificate.
            let data = sim.ok(&["config", "view", "--raw", "--minify", "-o", &jsonpath]);
            paths.push(sim.manifest(file, &decoded(&json!(data.trim()))));
        }
        (paths.remove(0), paths.remove(0))
    }

    #[test]
    fn create_workloads() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        sim.ns(&[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=3",
            "--port=80",
        ]);
        let web = get(&sim, "deployment/web");
        let container = &web["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(web["spec"]["replicas"], 3);
        assert_eq!(web["spec"]["selector"]["matchLabels"]["app"], "web");
        assert_eq!(container["image"], "nginx:1.27");
        assert_eq!(container["ports"][0]["containerPort"], 80);
        sim.ns(&[
            "create",
            "job",
            "once",
            "--image=busybox",
            "--",
            "echo",
            "hi",
        ]);
        let once = get(&sim, "job/once");
        assert_eq!(
            once["spec"]["template"]["spec"]["containers"][0]["command"],
            json!(["echo", "hi"])
        );
        sim.ns(&[
            "create",
            "cronjob",
            "nightly",
            "--image=busybox",
            "--schedule=0 3 * * *",
            "--",
            "date",
        ]);
        assert_eq!(
            get(&sim, "cronjob/nightly")["spec"]["schedule"],
            "0 3 * * *"
        );
        sim.ns(&["create", "job", "manual", "--from=cronjob/nightly"]);
        let manual = get(&sim, "job/manual");
        assert_eq!(
            manual["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
            "manual"
        );
        assert_eq!(manual["metadata"]["ownerReferences"][0]["kind"], "CronJob");
        assert_eq!(
            manual["spec"]["template"]["spec"]["containers"][0]["command"],
            json!(["date"])
        );
    }

    #[test]
    fn create_services_and_policies() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        sim.ns(&["create", "service", "clusterip", "web", "--tcp=80:8080"]);
        let service = get(&sim, "service/web");
        assert_eq!(service["spec"]["type"], "ClusterIP");
        assert_eq!(service["spec"]["ports"][0]["port"], 80);
        assert_eq!(service["spec"]["ports"][0]["targetPort"], 8080);
        sim.ns(&[
            "create",
            "service",
            "nodeport",
            "np",
            "--tcp=80:http",
            "--node-port=30080",
        ]);
        let service = get(&sim, "service/np");
        assert_eq!(service["spec"]["type"], "NodePort");
        assert_eq!(service["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(service["spec"]["ports"][0]["targetPort"], "http");
        sim.ns(&["create", "service", "loadbalancer", "lb", "--tcp=443:8443"]);
        assert_eq!(get(&sim, "service/lb")["spec"]["type"], "LoadBalancer");
        sim.ns(&[
            "create",
            "service",
            "externalname",
            "ext",
            "--external-name=db.example.com",
        ]);
        let service = get(&sim, "service/ext");
        assert_eq!(service["spec"]["type"], "ExternalName");
        assert_eq!(service["spec"]["externalName"], "db.example.com");
        sim.ns(&[
            "create",
            "poddisruptionbudget",
            "web",
            "--selector=app=web",
            "--max-unavailable=50%",
        ]);
        assert_eq!(
            get(&sim, "poddisruptionbudget/web")["spec"]["maxUnavailable"],
            "50%"
        );
        sim.ok(&["create", "priorityclass", "high", "--value=1000"]);
        let high: Value =
            serde_json::from_str(&sim.ok(&["get", "priorityclass", "high", "-o", "json"]))
                .expect("JSON");
        assert_eq!(high["value"], 1000);
        sim.ns(&[
            "create",
            "ingress",
            "shop",
            "--class=nginx",
            "--rule=shop.example.com/cart*=web:80",
        ]);
        // The rule's host and paths are Go fields embedded inline: protobuf nests them.
        let rule = &get(&sim, "ingress/shop")["spec"]["rules"][0];
        assert_eq!(rule["host"], "shop.example.com", "{rule}");
        assert_eq!(rule["http"]["paths"][0]["path"], "/cart", "{rule}");
        assert_eq!(rule["http"]["paths"][0]["pathType"], "Prefix", "{rule}");
        assert_eq!(
            rule["http"]["paths"][0]["backend"]["service"]["name"],
            "web"
        );
        sim.ns(&["create", "quota", "small", "--hard=pods=10,requests.cpu=2"]);
        let hard = &get(&sim, "resourcequota/small")["spec"]["hard"];
        assert_eq!(*hard, json!({"pods": "10", "requests.cpu": "2"}));
    }

    /// The claims of the token `kubectl create token ACCOUNT --duration=DURATION` prints.
    fn token_claims(sim: &Sim, account: &str, duration: &str) -> Value {
        let token = sim.ns(&[
            "create",
            "token",
            account,
            &format!("--duration={duration}"),
        ]);
        let payload = token.trim().split('.').nth(1).expect("a JWT");
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url");
        serde_json::from_slice(&payload).expect("JSON claims")
    }

    #[test]
    fn create_accounts_roles_and_secrets() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        sim.ns(&["create", "serviceaccount", "robot"]);
        assert_eq!(
            get(&sim, "serviceaccount/robot")["metadata"]["name"],
            "robot"
        );
        // A TokenRequest: the token names the account and lives as long as asked.
        let claims = token_claims(&sim, "robot", "10m");
        assert_eq!(claims["sub"], "system:serviceaccount:e2e:robot");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            600
        );
        sim.ns(&[
            "create",
            "role",
            "reader",
            "--verb=get,list",
            "--resource=pods",
        ]);
        let rule = &get(&sim, "role/reader")["rules"][0];
        assert_eq!(rule["verbs"], json!(["get", "list"]));
        assert_eq!(rule["apiGroups"], json!([""]));
        assert_eq!(rule["resources"], json!(["pods"]));
        sim.ns(&[
            "create",
            "rolebinding",
            "reader",
            "--role=reader",
            "--serviceaccount=e2e:robot",
        ]);
        let binding = get(&sim, "rolebinding/reader");
        assert_eq!(binding["roleRef"]["kind"], "Role");
        assert_eq!(binding["subjects"][0]["kind"], "ServiceAccount");
        sim.ok(&[
            "create",
            "clusterrole",
            "system:pod-reader",
            "--verb=get",
            "--resource=pods",
        ]);
        sim.ok(&[
            "create",
            "clusterrolebinding",
            "alice",
            "--clusterrole=system:pod-reader",
            "--user=alice",
        ]);
        let binding: Value =
            serde_json::from_str(&sim.ok(&["get", "clusterrolebinding", "alice", "-o", "json"]))
                .expect("JSON");
        assert_eq!(binding["roleRef"]["name"], "system:pod-reader");
        assert_eq!(binding["subjects"][0]["name"], "alice");
        sim.ns(&[
            "create",
            "configmap",
            "settings",
            "--from-literal=mode=fast",
        ]);
        assert_eq!(get(&sim, "configmap/settings")["data"]["mode"], "fast");
        sim.ns(&[
            "create",
            "secret",
            "generic",
            "password",
            "--from-literal=p=s3cret",
        ]);
        let secret = get(&sim, "secret/password");
        assert_eq!(decoded(&secret["data"]["p"]), "s3cret");
        assert_eq!(secret["type"], "Opaque", "the API server's default");
        let (cert, key) = key_pair(&sim);
        sim.ns(&[
            "create",
            "secret",
            "tls",
            "serving",
            &format!("--cert={}", path_str(&cert)),
            &format!("--key={}", path_str(&key)),
        ]);
        let secret = get(&sim, "secret/serving");
        assert_eq!(secret["type"], "kubernetes.io/tls");
        assert!(decoded(&secret["data"]["tls.crt"]).contains("BEGIN CERTIFICATE"));
        sim.ns(&[
            "create",
            "secret",
            "docker-registry",
            "pull",
            "--docker-server=registry.example.com",
            "--docker-username=u",
            "--docker-password=p",
        ]);
        let secret = get(&sim, "secret/pull");
        assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
        let config: Value =
            serde_json::from_str(&decoded(&secret["data"][".dockerconfigjson"])).expect("JSON");
        assert_eq!(config["auths"]["registry.example.com"]["username"], "u");
    }

    #[test]
    fn run_expose_scale_label_set_image_and_roll_back() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        sim.ns(&[
            "run",
            "shell",
            "--image=busybox",
            "--labels=app=shell",
            "--command",
            "--",
            "sleep",
            "3600",
        ]);
        let pod = get(&sim, "pod/shell");
        assert_eq!(pod["metadata"]["labels"]["app"], "shell");
        assert_eq!(
            pod["spec"]["containers"][0]["command"],
            json!(["sleep", "3600"])
        );
        sim.ns(&["create", "deployment", "web", "--image=nginx:1.27"]);
        sim.ns(&[
            "expose",
            "deployment",
            "web",
            "--port=80",
            "--target-port=8080",
        ]);
        let service = get(&sim, "service/web");
        assert_eq!(service["spec"]["selector"]["app"], "web");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], 8080);
        sim.ns(&["scale", "deployment", "web", "--replicas=2"]);
        assert_eq!(get(&sim, "deployment/web")["spec"]["replicas"], 2);
        sim.ns(&["label", "deployment", "web", "tier=front"]);
        sim.ns(&["annotate", "deployment", "web", "note=protobuf"]);
        let web = get(&sim, "deployment/web");
        assert_eq!(web["metadata"]["labels"]["tier"], "front");
        assert_eq!(web["metadata"]["annotations"]["note"], "protobuf");
        sim.ns(&["set", "image", "deployment/web", "nginx=nginx:1.28"]);
        sim.wait_field("deployment/web", ".status.updatedReplicas", "2");
        sim.ns(&["rollout", "restart", "deployment/web"]);
        let web = get(&sim, "deployment/web");
        assert!(
            web["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
                .is_string(),
            "{web}"
        );
        sim.ns(&["rollout", "undo", "deployment/web", "--to-revision=1"]);
        sim.wait_field(
            "deployment/web",
            ".spec.template.spec.containers[0].image",
            "nginx:1.27",
        );
    }
}

/// kos as a kubectl plugin: `kubectl kos …` runs `kubectl-kos` from the PATH.
mod plugin {
    use super::*;

    /// `kubectl ARGS` with a directory on the PATH holding `kubectl-kos`, a link to kos.
    fn kubectl_with_plugin(sim: &Sim, args: &[&str]) -> Output {
        let bin = sim.dir.path().join("bin");
        if !bin.exists() {
            std::fs::create_dir(&bin).expect("a directory for the plugin");
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kos"), bin.join("kubectl-kos"))
                .expect("the plugin link");
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin];
        dirs.extend(std::env::split_paths(&path));
        let mut command = Command::new("kubectl");
        command
            .args(args)
            .env("PATH", std::env::join_paths(dirs).expect("a PATH"))
            .env("KUBECONFIG", &sim.kubeconfig)
            .env("NO_COLOR", "1");
        run(command, COMMAND)
    }

    #[test]
    fn kubectl_kos_shows_its_help_and_applies() {
        if !kubectl_present() {
            return;
        }
        let sim = Sim::start();
        let help = kubectl_with_plugin(&sim, &["kos", "--help"]);
        assert!(help.ok, "{}", help.stderr);
        assert!(
            help.stdout.contains("Usage: kubectl kos"),
            "{}",
            help.stdout
        );
        let apply_help = kubectl_with_plugin(&sim, &["kos", "apply", "--help"]);
        assert!(
            apply_help.stdout.contains("Usage: kubectl kos apply"),
            "{}",
            apply_help.stdout
        );
        let completions = kubectl_with_plugin(&sim, &["kos", "completions", "bash"]);
        assert!(
            completions.stdout.contains("kubectl-kos"),
            "{}",
            completions.stdout
        );

        let file = sim.manifest("web.yaml", &deployment("web", 2, "nginx:1.27", ""));
        let applied = kubectl_with_plugin(
            &sim,
            &["kos", "apply", "-f", path_str(&file), "--output", "plain"],
        );
        assert!(applied.ok, "{}\n{}", applied.stdout, applied.stderr);
        assert!(
            applied.stdout.contains("Deployment e2e/web"),
            "{}",
            applied.stdout
        );
        assert_eq!(sim.field("deployment/web", ".status.readyReplicas"), "2");
    }
}
