//! Hostile clusters and hostile text: kos against a server that answers with escape
//! sequences, forged lines, bodies without end, garbage or nothing at all, and against
//! kubeconfigs and credential plugins that hold secrets. Nothing it sends may take over the
//! terminal, the memory or the clock, and no secret may be quoted.
//!
//! Each test starts its own small server (`hostile_server`) and runs the `kos` binary.

mod hostile_server;

use hostile_server::{POD_MANIFEST, Reply, Request, Server};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KOS: &str = env!("CARGO_BIN_EXE_kos");

/// What an attacker who can create a pod or an Event controls: retitle the terminal, write
/// its clipboard, clear the screen, make it type a cursor report, a C1 CSI.
const ESCAPES: &str = "\x1b]0;owned\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07\x1b[6n\u{9b}31m\u{7f}";

/// Lines that a CI runner would obey or a reader would believe.
const FORGED: &str = "pull failed\n::add-mask::x\n::error::forged\noutcome: success after 1s ()";

const SECRET: &str = "s3cr3t-T0KEN-9f8e7d";

/// A kos run: its output, exit code and how long it took.
struct Run {
    output: Output,
    took: Duration,
}

impl Run {
    fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    fn all(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }
}

/// A temporary folder with the Pod manifest and a kubeconfig for `server`.
struct Setup {
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

impl Setup {
    fn new(server: &Server) -> Setup {
        Setup::with_user(server, "    token: t\n")
    }

    fn with_user(server: &Server, user: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("pod.yaml"), POD_MANIFEST).expect("manifest");
        let kubeconfig = server.kubeconfig(dir.path(), user);
        Setup { dir, kubeconfig }
    }

    fn manifest(&self) -> String {
        self.dir.path().join("pod.yaml").display().to_string()
    }

    /// `kos watch -f pod.yaml` with `args`.
    fn watch(&self, args: &[&str]) -> Command {
        self.watch_with(&self.kubeconfig, args)
    }

    /// `kos watch -f pod.yaml --kubeconfig KUBECONFIG` with `args`.
    fn watch_with(&self, kubeconfig: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(KOS);
        command
            .args(["watch", "-f", &self.manifest(), "--kubeconfig"])
            .arg(kubeconfig)
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("GITHUB_ACTIONS")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    }
}

fn run(mut command: Command) -> Run {
    let start = Instant::now();
    let output = command.output().expect("kos runs");
    Run {
        output,
        took: start.elapsed(),
    }
}

/// Whether `text` holds a control character other than line ends.
fn has_controls(text: &str) -> bool {
    text.chars()
        .any(|c| c != '\n' && (c.is_control() || ('\u{80}'..='\u{9f}').contains(&c)))
}

fn pods(pod: String) -> impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static {
    move |request: &Request| {
        (request.path().ends_with("/pods") && !request.is_watch())
            .then(|| Reply::Json(200, hostile_server::pod_list(std::slice::from_ref(&pod))))
    }
}

/// A pod whose image, pull error and Warning Event carry escape sequences and forged lines.
fn hostile_pod_server() -> Server {
    let pod = hostile_server::waiting_pod(
        &format!("nginx{ESCAPES}"),
        "ErrImagePull",
        &format!("{FORGED}{ESCAPES}"),
    );
    let event = hostile_server::warning_event("Failed", &format!("{FORGED}{ESCAPES}"));
    let pods = pods(pod);
    Server::start(move |request| {
        if request.path().ends_with("/events") && !request.is_watch() {
            return Some(Reply::Json(
                200,
                hostile_server::list("EventList", std::slice::from_ref(&event)),
            ));
        }
        pods(request)
    })
}

#[test]
fn escape_sequences_and_forged_lines_never_reach_the_terminal_or_the_ci_log() {
    let server = hostile_pod_server();
    let setup = Setup::new(&server);
    let mut command = setup.watch(&["-o", "plain", "--stabilize", "0", "--timeout", "30s"]);
    command.env("GITHUB_ACTIONS", "true");
    let run = run(command);
    let all = run.all();
    assert_eq!(run.code(), 1, "the pod failed: {all}");
    assert!(
        !has_controls(&all),
        "controls reached the terminal: {all:?}"
    );
    assert!(
        all.contains("\\u{1b}]0;owned\\u{7}"),
        "shown escaped: {all}"
    );
    for line in all.lines() {
        assert!(
            !line.starts_with("::") || line.starts_with("::error title=kos::Pod shop/p failed"),
            "a forged workflow command: {line:?}\n{all}"
        );
        assert!(
            !line.starts_with("outcome: success"),
            "a forged outcome: {line:?}"
        );
    }
    assert!(
        all.contains("warning: Failed: pull failed\\n::add-mask::x"),
        "the digest quotes the Event on one line: {all}"
    );
}

#[test]
fn the_json_report_escapes_c1_controls_and_keeps_the_text() {
    let server = hostile_pod_server();
    let setup = Setup::new(&server);
    let run = run(setup.watch(&["-o", "json", "--stabilize", "0", "--timeout", "30s"]));
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let stdout = run.stdout();
    assert!(
        !has_controls(&stdout),
        "raw controls in the report: {stdout:?}"
    );
    assert!(stdout.contains("\\u009b31m"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let message = report["objects"][0]["message"].as_str().expect("a message");
    assert!(
        message.contains("\u{9b}31m"),
        "the text is kept: {message:?}"
    );
    assert!(!has_controls(&run.stderr()), "{:?}", run.stderr());
}

#[test]
fn kos_status_shows_a_manifests_escapes_escaped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pod.json");
    let pod: serde_json::Value = serde_json::from_str(&hostile_server::waiting_pod(
        &format!("nginx{ESCAPES}"),
        "ErrImagePull",
        &format!("{FORGED}{ESCAPES}"),
    ))
    .expect("pod JSON");
    let mut pod = pod;
    pod["apiVersion"] = "v1".into();
    pod["kind"] = "Pod".into();
    std::fs::write(&path, pod.to_string()).expect("write");
    for output in ["plain", "json"] {
        let mut command = Command::new(KOS);
        command
            .args(["status", "-f"])
            .arg(&path)
            .args(["-o", output]);
        let run = run(command);
        assert_eq!(run.code(), 0, "{}", run.stderr());
        assert!(!has_controls(&run.all()), "{output}: {:?}", run.all());
        assert_eq!(
            run.stdout().lines().count() > 1,
            output == "json",
            "{}",
            run.stdout()
        );
    }
}

#[test]
fn a_reader_that_goes_away_ends_kos_quietly() {
    let server = hostile_pod_server();
    let setup = Setup::new(&server);
    let mut command = setup.watch(&["-o", "plain", "--stabilize", "3s", "--timeout", "30s"]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.env("RUST_BACKTRACE", "1");
    let mut child = command.spawn().expect("kos starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("the first line");
    // The reader is dropped here, as `head -1` exits; the outcome line comes 3 s later.
    assert!(first.contains("Pod shop/p  failed"), "{first}");
    let output = child.wait_with_output().expect("kos ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}

/// `kos watch` against a server whose Pod list is `reply()`.
fn watch_with_list(reply: impl Fn() -> Reply + Send + Sync + 'static) -> Run {
    let server = Server::start(move |request| {
        (request.path().ends_with("/pods") && !request.is_watch()).then(&reply)
    });
    let setup = Setup::new(&server);
    run(setup.watch(&["-o", "plain", "--timeout", "60s"]))
}

#[test]
fn undecodable_lists_end_with_exit_4_naming_the_decode_error() {
    type Hostile = (&'static str, fn() -> Reply);
    let replies: [Hostile; 3] = [
        ("garbage", || Reply::Text(200, "<html>nope".into())),
        ("wrong shape", || {
            Reply::Json(200, r#"{"kind":"PodList","items":{"a":1}}"#.into())
        }),
        ("invalid UTF-8", || {
            Reply::Raw(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                  Content-Length: 13\r\n\r\n{\"kind\":\"\xff\xfe\"}"
                    .to_vec(),
            )
        }),
    ];
    for (what, reply) in replies {
        let run = watch_with_list(reply);
        let stderr = run.stderr();
        assert_eq!(run.code(), 4, "{what}: {stderr}");
        assert!(run.took < Duration::from_secs(20), "{what}: {:?}", run.took);
        assert!(
            stderr.contains(
                "list pods in namespace shop failed: its reply cannot be decoded (5 times in a row)"
            ),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("timeout"), "{what}: {stderr}");
    }
}

#[test]
fn a_reply_declaring_10_gb_is_refused_unread() {
    let run = watch_with_list(|| {
        Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n{\"kind\"".to_vec())
    });
    assert_eq!(run.code(), 4, "{}", run.stderr());
    assert!(
        run.stderr().contains("larger than 128 MiB"),
        "{}",
        run.stderr()
    );
    assert!(run.took < Duration::from_secs(20), "{:?}", run.took);
}

#[test]
fn an_endless_body_is_cut_at_its_bound() {
    let run = watch_with_list(|| Reply::Endless {
        code: 200,
        chunk: vec![b' '; 64 << 10],
        limit: 4 << 30,
    });
    assert_eq!(run.code(), 4, "{}", run.stderr());
    assert!(
        run.stderr().contains("larger than 128 MiB"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_huge_error_body_is_quoted_bounded() {
    let run = watch_with_list(|| Reply::Endless {
        code: 403,
        chunk: format!("denied{ESCAPES}\n").repeat(4096).into_bytes(),
        limit: 1 << 30,
    });
    let stderr = run.stderr();
    assert_eq!(run.code(), 4, "{stderr}");
    assert!(stderr.contains("forbidden: cannot list pods"), "{stderr}");
    assert!(stderr.len() < 4096, "{} bytes: {stderr}", stderr.len());
    assert!(!has_controls(&stderr), "{stderr:?}");
}

#[test]
fn a_watch_line_without_end_is_cut_at_its_bound() {
    let server = Server::start(|request| {
        request.is_watch().then(|| Reply::Endless {
            code: 200,
            chunk: vec![b'x'; 64 << 10],
            limit: 4 << 30,
        })
    });
    let setup = Setup::new(&server);
    let run = run(setup.watch(&["-o", "plain", "--timeout", "60s"]));
    let stderr = run.stderr();
    assert_eq!(run.code(), 4, "{stderr}");
    assert!(
        stderr.contains("a watch event is larger than 16 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_server_that_never_answers_is_given_up_on_at_the_step_timeout() {
    let server = Server::start(|request| (request.path() == "/api/v1").then_some(Reply::Hang));
    let setup = Setup::new(&server);
    let run = run(setup.watch(&["-o", "plain", "--timeout", "5s"]));
    assert_eq!(run.code(), 4, "{}", run.stderr());
    assert!(run.took < Duration::from_secs(15), "{:?}", run.took);
    assert!(
        run.stderr().contains(
            "did not answer within the step timeout (5.0s); still waiting for GET /api/v1"
        ),
        "{}",
        run.stderr()
    );
    // Without a step timeout, the request's own head timeout ends it.
    let run = self::run(setup.watch(&["-o", "plain", "--timeout", "0"]));
    assert_eq!(run.code(), 4, "{}", run.stderr());
    assert!(run.took < Duration::from_secs(45), "{:?}", run.took);
    assert!(
        run.stderr().contains("no answer within 30s"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_broken_kubeconfig_is_named_by_line_and_never_quoted() {
    let server = Server::start(|_| None);
    let user = format!("    token: {SECRET}\n    client-key-data: [{SECRET}\n  bad: : :\n");
    let setup = Setup::with_user(&server, &user);
    let run = run(setup.watch(&["-o", "plain"]));
    assert_eq!(run.code(), 4, "{}", run.stderr());
    assert!(!run.all().contains(SECRET), "{}", run.all());
    assert!(run.stderr().contains("line"), "{}", run.stderr());
    let endless = self::run(setup.watch_with(Path::new("/dev/zero"), &["-o", "plain"]));
    assert_eq!(endless.code(), 4, "{}", endless.stderr());
    assert!(
        endless.stderr().contains("larger than 4 MiB"),
        "{}",
        endless.stderr()
    );
}

/// A shell script in `dir` that prints `output` and exits with `code`: an exec plugin.
fn plugin(dir: &Path, name: &str, output: &str, code: i32) -> String {
    script(dir, name, &format!("printf '%s' '{output}'\nexit {code}"))
}

/// An executable shell script in `dir` running `body`.
fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write plugin");
    let mut permissions = std::fs::metadata(&path).expect("plugin").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&path, permissions).expect("chmod");
    path.display().to_string()
}

#[test]
fn an_exec_plugins_output_is_never_quoted() {
    let server = Server::start(|_| None);
    let dir = tempfile::tempdir().expect("temp dir");
    let credential = format!(
        r#"{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"{SECRET}""#
    );
    for (name, output, code) in [
        ("truncated", credential.as_str(), 0),
        ("failing", credential.as_str(), 1),
    ] {
        let command = plugin(dir.path(), name, output, code);
        let setup = Setup::with_user(&server, &exec_user(&command));
        let run = run(setup.watch(&["-o", "plain", "--timeout", "20s"]));
        assert_eq!(run.code(), 4, "{name}: {}", run.stderr());
        assert!(!run.all().contains(SECRET), "{name}: {}", run.all());
        assert!(
            run.stderr().contains("exec credential plugin"),
            "{name}: {}",
            run.stderr()
        );
    }
}

/// A kubeconfig user whose exec plugin is `command`, which cannot ask anything.
fn exec_user(command: &str) -> String {
    format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: \
         {command}\n      interactiveMode: Never\n"
    )
}

#[test]
fn a_hanging_or_endless_exec_plugin_is_stopped() {
    let server = Server::start(|_| None);
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, body, said) in [
        ("endless", "exec yes", "printed more than 1024 KiB"),
        (
            "hanging",
            "exec sleep 120",
            "did not finish within 30s; it was stopped",
        ),
    ] {
        let setup = Setup::with_user(&server, &exec_user(&script(dir.path(), name, body)));
        let run = run(setup.watch(&["-o", "plain", "--timeout", "0"]));
        assert_eq!(run.code(), 4, "{name}: {}", run.stderr());
        assert!(run.stderr().contains(said), "{name}: {}", run.stderr());
        assert!(run.took < Duration::from_secs(40), "{name}: {:?}", run.took);
    }
}

/// A server that answers only requests bearing token `tok`.
fn token_server() -> Server {
    Server::start(|request| {
        let bearer = request.headers.get("authorization").map(String::as_str);
        (bearer != Some("Bearer tok")).then(|| {
            Reply::Json(
                401,
                r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401,"message":"Unauthorized"}"#.into(),
            )
        })
    })
}

#[test]
fn a_token_file_ending_in_a_newline_is_trimmed_as_kubectl_does() {
    let server = token_server();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("token"), "tok\n").expect("token");
    let setup = Setup::with_user(
        &server,
        &format!("    tokenFile: {}\n", dir.path().join("token").display()),
    );
    let run = run(setup.watch(&["-o", "plain", "--timeout", "2s"]));
    // The pod is not there: the run times out, which means every request was let in.
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(server.count("GET /api/v1/namespaces/shop/pods") > 0);
}

#[test]
fn missing_entries_of_kubeconfig_are_skipped_as_kubectl_does() {
    let server = token_server();
    let setup = Setup::with_user(&server, "    token: tok\n");
    let list = std::env::join_paths([Path::new("/nonexistent/config"), &setup.kubeconfig])
        .expect("a path list");
    let mut command = Command::new(KOS);
    command
        .args([
            "watch",
            "-f",
            &setup.manifest(),
            "-o",
            "plain",
            "--timeout",
            "2s",
        ])
        .env("KUBECONFIG", list)
        .stdin(Stdio::null());
    let run = run(command);
    assert_eq!(run.code(), 2, "{}", run.stderr());
}

/// A pod whose container crashed and restarted, and a log route that says `log`.
fn crashed_pod_server(log: String) -> Server {
    let pod = hostile_server::waiting_pod("nginx", "CrashLoopBackOff", "back-off")
        .replace(r#""restartCount":0"#, r#""restartCount":3"#);
    let pods = pods(pod);
    Server::start(move |request| {
        if request.path().ends_with("/log") {
            return Some(Reply::Text(200, log.clone()));
        }
        pods(request)
    })
}

#[test]
fn the_digest_quotes_as_many_log_lines_as_asked_each_cleaned_and_cut() {
    let log = format!("first\nsecret=hunter2 {ESCAPES}\n{}\n", "y".repeat(100_000));
    let server = crashed_pod_server(log.clone());
    let setup = Setup::new(&server);
    let run = self::run(setup.watch(&["-o", "plain", "--stabilize", "0", "--timeout", "20s"]));
    let stderr = run.stderr();
    assert_eq!(run.code(), 1, "{stderr}");
    assert!(
        stderr.contains("logs of app (previous instance)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("| secret=hunter2 \\u{1b}]0;owned"),
        "{stderr}"
    );
    assert!(!has_controls(&stderr), "{stderr:?}");
    assert!(
        stderr.len() < 8192,
        "the long line is cut: {} bytes",
        stderr.len()
    );
    assert!(server.count("/log?") == 1);

    let server = crashed_pod_server(log);
    let setup = Setup::new(&server);
    let run = self::run(setup.watch(&[
        "-o",
        "plain",
        "--stabilize",
        "0",
        "--timeout",
        "20s",
        "--digest-logs",
        "0",
    ]));
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(!run.stderr().contains("hunter2"), "{}", run.stderr());
    assert_eq!(server.count("/log?"), 0, "no log is read");
}

/// A server whose aggregated group `metrics.k8s.io` fails discovery with 503 (its backend is
/// not ready), listed before `apps`, which serves a complete Deployment `shop/web`.
fn unavailable_group_server() -> Server {
    Server::start(|request| {
        let path = request.path();
        let reply = match path {
            "/apis" => Reply::Json(200, API_GROUPS.into()),
            "/apis/metrics.k8s.io/v1beta1" => Reply::Json(503, UNAVAILABLE.into()),
            "/apis/apps/v1" => Reply::Json(200, APPS_V1.into()),
            _ if request.is_watch() => Reply::Watch(Vec::new()),
            "/apis/apps/v1/namespaces/shop/deployments" => Reply::Json(
                200,
                hostile_server::list("DeploymentList", &[COMPLETE_DEPLOYMENT.into()]),
            ),
            _ if path.ends_with("/replicasets") => {
                Reply::Json(200, hostile_server::list("ReplicaSetList", &[]))
            }
            _ => return None,
        };
        Some(reply)
    })
}

/// `kos watch ARGS… -o plain` against `server`, with a step timeout of 20 s.
fn watch_kinds(server: &Server, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = server.kubeconfig(dir.path(), "    token: t\n");
    let mut command = Command::new(KOS);
    command
        .arg("watch")
        .args(args)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["-o", "plain", "--timeout", "20s", "--stabilize", "0s"])
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    run(command)
}

#[test]
fn a_group_that_fails_discovery_is_named_once_and_skipped() {
    let server = unavailable_group_server();
    let run = watch_kinds(&server, &["deployment/web"]);
    assert_eq!(run.code(), 0, "{}", run.all());
    assert!(run.took < Duration::from_secs(15), "{:?}", run.took);
    let stderr = run.stderr();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr());
    assert!(
        warnings[0].contains(
            "metrics.k8s.io/v1beta1 (503: the server is currently unable to handle the request)"
        ),
        "{}",
        run.stderr()
    );
    // Asked once, not retried for the retry budget.
    assert_eq!(server.count("GET /apis/metrics.k8s.io/v1beta1"), 1);

    // A word no answering group serves may be the failing group's: a cluster error naming it.
    let run = watch_kinds(&server, &["nodemetrics/x"]);
    assert_eq!(run.code(), 4, "{}", run.all());
    assert!(
        run.stderr().contains("no kind named `nodemetrics`")
            && run.stderr().contains("metrics.k8s.io/v1beta1"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_group_not_needed_is_never_asked() {
    let server = unavailable_group_server();
    let run = watch_kinds(&server, &["deployments.apps/web"]);
    assert_eq!(run.code(), 0, "{}", run.all());
    assert!(!run.stderr().contains("warning:"), "{}", run.stderr());
    assert_eq!(server.count("GET /apis/metrics.k8s.io"), 0);
}

const API_GROUPS: &str = r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[
{"name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}],
 "preferredVersion":{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}},
{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],
 "preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}"#;

/// What the API server answers for an aggregated group whose backend is not ready.
const UNAVAILABLE: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
"message":"the server is currently unable to handle the request","reason":"ServiceUnavailable",
"details":{"causes":[{"reason":"UnexpectedServerResponse","message":"service unavailable"}]},"code":503}"#;

const APPS_V1: &str = r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1",
"resources":[
{"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment",
 "shortNames":["deploy"],"verbs":["create","delete","get","list","patch","update","watch"]},
{"name":"replicasets","singularName":"replicaset","namespaced":true,"kind":"ReplicaSet",
 "shortNames":["rs"],"verbs":["create","delete","get","list","patch","update","watch"]}]}"#;

const COMPLETE_DEPLOYMENT: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment",
"metadata":{"name":"web","namespace":"shop","uid":"d1","resourceVersion":"7","generation":1},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"nginx"}]}}},
"status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"readyReplicas":1,
 "availableReplicas":1,"conditions":[
 {"type":"Available","status":"True","reason":"MinimumReplicasAvailable"},
 {"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable"}]}}"#;

/// How kube-apiserver refuses a request that a webhook must see while the webhook's Service
/// has no ready endpoint.
const NO_WEBHOOK: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
"message":"Internal error occurred: failed calling webhook \"check.shop.example\": failed to call webhook: Post \"https://checker.shop.svc:443/validate?timeout=10s\": no endpoints available for service \"checker\"",
"reason":"InternalError","details":{"causes":[{"message":"failed calling webhook \"check.shop.example\""}]},"code":500}"#;

/// Pod `shop/p`, running and ready.
const READY_POD: &str = r#"{"apiVersion":"v1","kind":"Pod",
"metadata":{"name":"p","namespace":"shop","uid":"u1","resourceVersion":"8"},
"spec":{"containers":[{"name":"app","image":"nginx"}]},
"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],
 "containerStatuses":[{"name":"app","image":"nginx","imageID":"x","ready":true,"restartCount":0,
 "started":true,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}}"#;

/// A server whose admission webhook for Pods (installed earlier, not by kos) cannot be called
/// for `down` after the first apply reaches it: every apply of Pod `shop/p`, dry run or
/// not, is refused as kube-apiserver refuses it then; afterwards the Pod is created, and is
/// running and ready.
fn webhook_down_server(down: Duration) -> Server {
    let since = Mutex::new(None::<Instant>);
    Server::start(move |request| {
        let path = request.path();
        if request.method == "PATCH" && path == "/api/v1/namespaces/shop/pods/p" {
            let first = *since
                .lock()
                .expect("clock")
                .get_or_insert_with(Instant::now);
            return Some(if first.elapsed() < down {
                Reply::Json(500, NO_WEBHOOK.into())
            } else {
                Reply::Json(201, READY_POD.into())
            });
        }
        let applied = since
            .lock()
            .expect("clock")
            .is_some_and(|t| t.elapsed() >= down);
        (applied && path.ends_with("/pods") && !request.is_watch())
            .then(|| Reply::Json(200, hostile_server::pod_list(&[READY_POD.into()])))
    })
}

/// `kos apply -f pod.yaml -o plain` with `args`.
fn apply_pod(setup: &Setup, args: &[&str]) -> Run {
    let mut command = Command::new(KOS);
    command
        .args(["apply", "-f", &setup.manifest(), "--kubeconfig"])
        .arg(&setup.kubeconfig)
        .args(["-o", "plain", "--stabilize", "0s"])
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    run(command)
}

#[test]
fn an_object_whose_webhook_cannot_be_called_yet_is_retried_until_the_step_timeout() {
    // Longer than the 8 s that other transient errors are retried for.
    let down = Duration::from_secs(11);
    let server = webhook_down_server(down);
    let setup = Setup::new(&server);
    let run = apply_pod(&setup, &["--timeout", "40s"]);
    assert_eq!(run.code(), 0, "{}", run.all());
    assert!(run.took >= down, "{:?}", run.took);
    let said: Vec<String> = run
        .stderr()
        .lines()
        .filter(|l| l.contains("waiting for its admission webhook, retrying"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        said.len(),
        1,
        "said once, not at every try: {}",
        run.stderr()
    );
    assert!(
        said[0].starts_with("Pod shop/p  ")
            && said[0].contains("no endpoints available for service"),
        "{}",
        said[0]
    );
    assert!(
        run.stdout().contains("Pod shop/p created"),
        "{}",
        run.stdout()
    );
    let tries = server.count("PATCH /api/v1/namespaces/shop/pods/p");
    assert!((4..40).contains(&tries), "backed off: {tries} tries");

    // The step timeout ends the wait: a cluster error naming the webhook, and nothing applied.
    let server = webhook_down_server(Duration::from_mins(10));
    let setup = Setup::new(&server);
    let run = apply_pod(&setup, &["--timeout", "4s"]);
    assert_eq!(run.code(), 4, "{}", run.all());
    assert!(run.took < Duration::from_secs(8), "{:?}", run.took);
    assert!(
        run.stderr()
            .contains("failed calling webhook \"check.shop.example\""),
        "{}",
        run.stderr()
    );
    assert!(!run.stdout().contains("created"), "{}", run.stdout());
}

/// A `ValidatingWebhookConfiguration` `shop-checks` whose webhook sees every Pod write, called
/// through Service `shop/checker`, then Pod `shop/p`.
const WEBHOOK_AND_POD: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: shop-checks}
webhooks:
- name: check.shop.example
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig: {service: {namespace: shop, name: checker}}
  rules: [{operations: [CREATE, UPDATE], apiGroups: [''], apiVersions: [v1], resources: [pods]}]
---
";

const ADMISSION_GROUPS: &str = r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[
{"name":"admissionregistration.k8s.io","versions":[{"groupVersion":"admissionregistration.k8s.io/v1","version":"v1"}],
 "preferredVersion":{"groupVersion":"admissionregistration.k8s.io/v1","version":"v1"}}]}"#;

const ADMISSION_V1: &str = r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"admissionregistration.k8s.io/v1",
"resources":[{"name":"validatingwebhookconfigurations","singularName":"validatingwebhookconfiguration",
 "namespaced":false,"kind":"ValidatingWebhookConfiguration","verbs":["create","get","list","patch","watch"]}]}"#;

const CHECKS: &str = r#"{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration",
"metadata":{"name":"shop-checks","uid":"w1","resourceVersion":"9"},"webhooks":[]}"#;

/// A server whose Pod webhook (`shop-checks`, configured by the batch itself) never has an
/// endpoint: every Pod write is refused as kube-apiserver refuses it; the configuration is
/// taken.
fn webhook_never_ready_server() -> Server {
    Server::start(|request| {
        let path = request.path();
        let reply = match path {
            "/apis" => Reply::Json(200, ADMISSION_GROUPS.into()),
            "/apis/admissionregistration.k8s.io/v1" => Reply::Json(200, ADMISSION_V1.into()),
            _ if request.method == "PATCH" && path.ends_with("/pods/p") => {
                Reply::Json(500, NO_WEBHOOK.into())
            }
            _ if request.method == "PATCH" && path.ends_with("/shop-checks") => {
                Reply::Json(201, CHECKS.into())
            }
            _ if path.ends_with("/validatingwebhookconfigurations") && !request.is_watch() => {
                Reply::Json(200, hostile_server::list("List", &[CHECKS.into()]))
            }
            _ => return None,
        };
        Some(reply)
    })
}

#[test]
fn an_object_a_webhook_of_the_batch_intercepts_waits_for_it_and_does_not_fail_the_dry_run() {
    let server = webhook_never_ready_server();
    let setup = Setup::new(&server);
    let both = setup.dir.path().join("both.yaml");
    std::fs::write(&both, format!("{WEBHOOK_AND_POD}{POD_MANIFEST}")).expect("manifest");
    let apply = |args: &[&str]| {
        let mut command = Command::new(KOS);
        command
            .arg("apply")
            .arg("-f")
            .arg(&both)
            .arg("--kubeconfig")
            .arg(&setup.kubeconfig)
            .args(["-o", "plain", "--stabilize", "0s"])
            .args(args)
            .env_remove("KUBECONFIG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        run(command)
    };

    // The dry run cannot check the Pod now; that is no reason to fail the run.
    let run = apply(&["--dry-run", "--timeout", "20s"]);
    assert_eq!(run.code(), 0, "{}", run.all());
    assert!(
        run.took < Duration::from_secs(5),
        "not retried: {:?}",
        run.took
    );
    assert!(
        run.stdout().contains(
            "Pod shop/p created (dry run; not checked by the server: its webhook \
             check.shop.example of this batch cannot be called yet)"
        ),
        "{}",
        run.stdout()
    );

    // Applied: the Pod waits for the webhook's Service, and says so, until the step timeout.
    let run = apply(&["--timeout", "3s"]);
    assert_eq!(run.code(), 2, "{}", run.all());
    assert!(
        run.stdout().contains(
            "Pod shop/p  in_progress  waiting for webhook check.shop.example: \
             Service shop/checker has no ready endpoints"
        ),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout().contains("outcome: timeout"),
        "{}",
        run.stdout()
    );
    let seen = server.seen.lock().expect("log").clone();
    let pod_writes: Vec<&String> = seen
        .iter()
        .filter(|r| r.starts_with("PATCH /api/v1/namespaces/shop/pods/p?"))
        .collect();
    assert!(
        pod_writes.iter().all(|r| r.contains("dryRun=All")),
        "only dry runs of the Pod, never the Pod itself: {pod_writes:?}"
    );
    assert!(
        server.count("/endpoints/checker") >= 2,
        "the Service is asked again"
    );

    // Without tracking, the step timeout ends the wait as a cluster error naming it.
    let run = apply(&["--no-wait", "--timeout", "3s"]);
    assert_eq!(run.code(), 4, "{}", run.all());
    assert!(
        run.stderr().contains(
            "not applied: Pod shop/p: waiting for webhook check.shop.example: Service \
             shop/checker has no ready endpoints within the step timeout"
        ),
        "{}",
        run.stderr()
    );
}

/// The core group with Services besides what `hostile_server::normal` lists.
const CORE_V1_WITH_SERVICES: &str = r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1",
"resources":[
{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","shortNames":["po"],
 "verbs":["create","delete","get","list","patch","update","watch"]},
{"name":"services","singularName":"service","namespaced":true,"kind":"Service","shortNames":["svc"],
 "verbs":["create","delete","get","list","patch","update","watch"]},
{"name":"events","singularName":"event","namespaced":true,"kind":"Event",
 "verbs":["create","get","list","watch"]}]}"#;

const SERVICE: &str = r#"{"apiVersion":"v1","kind":"Service",
"metadata":{"name":"web","namespace":"shop","uid":"s1","resourceVersion":"7"},
"spec":{"type":"ClusterIP","clusterIP":"10.96.0.9","selector":{"app":"web"},"ports":[{"port":80}]}}"#;

#[test]
fn a_kind_of_children_the_server_does_not_serve_is_noted_once_and_tracking_goes_on() {
    // A server without `discovery.k8s.io`: every EndpointSlice request is a 404.
    let server = Server::start(|request| {
        let reply = match request.path() {
            "/api/v1" => Reply::Json(200, CORE_V1_WITH_SERVICES.into()),
            _ if request.is_watch() => return None,
            "/api/v1/namespaces/shop/services" => {
                Reply::Json(200, hostile_server::list("ServiceList", &[SERVICE.into()]))
            }
            _ => return None,
        };
        Some(reply)
    });
    let run = watch_kinds(&server, &["service/web", "-n", "shop"]);
    assert_eq!(run.code(), 0, "{}", run.all());
    assert!(run.took < Duration::from_secs(15), "{:?}", run.took);
    let notes: Vec<&str> = run
        .output
        .stderr
        .split(|b| *b == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter(|l| l.contains("endpointslices"))
        .collect();
    assert_eq!(
        notes,
        [
            "note: the cluster does not serve endpointslices in namespace shop; tracking goes on \
          without them"
        ],
        "{}",
        run.all()
    );
    assert!(run.stdout().contains("outcome: success"), "{}", run.all());
    // Asked once: a kind not served is not asked again.
    assert_eq!(server.count("endpointslices"), 1, "{}", run.all());
}
