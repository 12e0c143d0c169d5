//! Helpers shared by the end-to-end test files: starting `kos sim serve` as a process,
//! running the `kos` binary against it, reading what it said, and asking the simulated API
//! server directly (HTTPS with the admin's credentials from its kubeconfig, no Kubernetes
//! client library) for the truth to compare with.
//!
//! Each test binary uses a part of this module only.
#![allow(dead_code)]

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const KOS: &str = env!("CARGO_BIN_EXE_kos");

/// A running `kos sim serve`. It runs under a shell that kills it when our end of its stdin
/// closes — when [`Sim::stop`] is called or this test process exits — so no sim outlives
/// the tests.
pub struct Sim {
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// How [`Sim::get`] speaks to it.
    direct: Direct,
    _dir: tempfile::TempDir,
    guard: Mutex<Option<(Child, ChildStdin)>>,
}

impl Sim {
    /// Starts a sim running 10 times faster than real time, with `extra` arguments.
    pub fn start(extra: &[&str]) -> Sim {
        Sim::start_at_speed("10", extra)
    }

    /// Starts a sim running `speed` times faster than real time, with `extra` arguments.
    pub fn start_at_speed(speed: &str, extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let kubeconfig_arg = kubeconfig.to_str().expect("utf-8 path");
        let mut child = Command::new("sh")
            .args([
                "-c",
                "\"$@\" & sim=$!; read _; kill $sim; wait $sim",
                "sh",
                KOS,
                "sim",
                "serve",
            ])
            .args(["--speed", speed, "--kubeconfig-out", kubeconfig_arg])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start kos sim serve");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        let mut lines = BufReader::new(stdout);
        lines
            .read_line(&mut first)
            .expect("read the sim's first line");
        // Keep reading so the sim never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        let url = first
            .split_whitespace()
            .find(|word| word.starts_with("https://") || word.starts_with("http://"))
            .unwrap_or_else(|| panic!("kos sim serve did not start (first line: {first:?})"))
            .to_owned();
        assert!(kubeconfig.exists(), "no kubeconfig written");
        let direct = Direct::new(&url, &Kubeconfig::read(&kubeconfig));
        Sim {
            kubeconfig,
            url,
            direct,
            _dir: dir,
            guard: Mutex::new(Some((child, stdin))),
        }
    }

    /// Stops the sim and waits until it is gone.
    pub fn stop(&self) {
        let taken = self.guard.lock().expect("sim guard").take();
        if let Some((mut child, mut stdin)) = taken {
            let _ = stdin.write_all(b"\n");
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// `kos ARGS --kubeconfig SIM`, not yet started.
    pub fn kos(&self, args: &[&str]) -> Command {
        kos_command(&self.kubeconfig, args)
    }

    /// `GET path` on the API server, retried on failures (the sim may be injecting faults)
    /// until it answers with `expected`-like success or 404, within 20 s. Returns the code
    /// and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.direct.get(path, None) {
                Ok((code, body)) if code < 500 && code != 429 => return (code, body),
                other => assert!(
                    Instant::now() < deadline,
                    "GET {path} kept failing: {other:?}"
                ),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `DELETE path` on the API server as the admin: the code and the body.
    pub fn delete(&self, path: &str) -> (u16, String) {
        self.direct
            .send("DELETE", path, None)
            .unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
    }

    /// `GET path` as JSON, expecting 200.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (code, body) = self.get(path);
        assert_eq!(code, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    /// The requests the API server has counted, by verb, from its `/metrics`.
    pub fn requests(&self) -> Requests {
        let (code, body) = self.get("/metrics");
        assert_eq!(code, 200, "{body}");
        Requests::parse(&body)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Request counts from `apiserver_request_total`.
#[derive(Debug, Default, Clone)]
pub struct Requests {
    /// (verb, code, count)
    pub rows: Vec<(String, u16, u64)>,
}

impl Requests {
    fn parse(text: &str) -> Requests {
        let rows = text
            .lines()
            .filter_map(|line| line.strip_prefix("apiserver_request_total{"))
            .filter_map(|rest| {
                let (labels, count) = rest.split_once("} ")?;
                let label = |name: &str| {
                    labels
                        .split(',')
                        .find_map(|l| l.strip_prefix(&format!("{name}=\"")))
                        .map(|v| v.trim_end_matches('"').to_owned())
                };
                Some((
                    label("verb")?,
                    label("code")?.parse().ok()?,
                    count.trim().parse().ok()?,
                ))
            })
            .collect();
        Requests { rows }
    }

    pub fn total(&self) -> u64 {
        self.rows.iter().map(|r| r.2).sum()
    }

    /// Requests answered with a server error or 429 (what `--faults error-rate` injects).
    pub fn failed(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.1 == 429 || r.1 >= 500)
            .map(|r| r.2)
            .sum()
    }

    pub fn verb(&self, verb: &str) -> u64 {
        self.rows.iter().filter(|r| r.0 == verb).map(|r| r.2).sum()
    }

    /// The counts of `self` minus those of `before`.
    pub fn since(&self, before: &Requests) -> Requests {
        let rows = self
            .rows
            .iter()
            .map(|(verb, code, count)| {
                let old = before
                    .rows
                    .iter()
                    .find(|r| &r.0 == verb && r.1 == *code)
                    .map_or(0, |r| r.2);
                (verb.clone(), *code, count - old)
            })
            .collect();
        Requests { rows }
    }
}

/// A kubeconfig as JSON, to read and to rewrite (a kubeconfig may be JSON).
pub struct Kubeconfig(pub serde_json::Value);

impl Kubeconfig {
    pub fn read(path: &Path) -> Kubeconfig {
        let text = std::fs::read_to_string(path).expect("read the kubeconfig");
        Kubeconfig(serde_saphyr::from_str(&text).expect("a YAML kubeconfig"))
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.0.to_string()).expect("write the kubeconfig");
    }

    /// The one cluster entry's `cluster`.
    pub fn cluster(&mut self) -> &mut serde_json::Value {
        &mut self.0["clusters"][0]["cluster"]
    }

    /// The `user` of the user entry `name`.
    pub fn user(&self, name: &str) -> &serde_json::Value {
        self.0["users"]
            .as_array()
            .and_then(|users| users.iter().find(|u| u["name"] == name))
            .map_or(&serde_json::Value::Null, |u| &u["user"])
    }

    /// The user entry of the current context.
    pub fn current_user(&self) -> &serde_json::Value {
        let current = &self.0["current-context"];
        let user = self.0["contexts"]
            .as_array()
            .and_then(|contexts| contexts.iter().find(|c| &c["name"] == current))
            .and_then(|c| c["context"]["user"].as_str())
            .unwrap_or_default();
        self.user(user)
    }

    /// The PEM text of a `*-data` field.
    pub fn data(field: &serde_json::Value) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(field.as_str()?)
            .ok()
    }
}

/// Where and how to send requests to the API server: its address, and over HTTPS the TLS
/// configuration of the kubeconfig's current context (its CA and client certificate).
#[derive(Clone)]
pub struct Direct {
    addr: String,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Direct {
    pub fn new(url: &str, kubeconfig: &Kubeconfig) -> Direct {
        let Some(addr) = url.strip_prefix("https://") else {
            let addr = url.trim_start_matches("http://").to_owned();
            return Direct { addr, tls: None };
        };
        let mut kubeconfig = Kubeconfig(kubeconfig.0.clone());
        let ca = Kubeconfig::data(&kubeconfig.cluster()["certificate-authority-data"])
            .expect("certificate-authority-data");
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&ca) {
            roots.add(cert.expect("a CA certificate")).expect("a CA");
        }
        let user = kubeconfig.current_user();
        let cert = Kubeconfig::data(&user["client-certificate-data"]).expect("a client cert");
        let key = Kubeconfig::data(&user["client-key-data"]).expect("a client key");
        let chain = CertificateDer::pem_slice_iter(&cert)
            .collect::<Result<Vec<_>, _>>()
            .expect("a client certificate");
        let key = PrivateKeyDer::from_pem_slice(&key).expect("a client key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .expect("a client certificate and key");
        Direct {
            addr: addr.trim_end_matches('/').to_owned(),
            tls: Some(Arc::new(config)),
        }
    }

    /// One HTTP/1.1 GET without a client library, with `host` as the Host header (the
    /// server's address when None): the status code and the body.
    pub fn get(&self, path: &str, host: Option<&str>) -> std::io::Result<(u16, String)> {
        self.send("GET", path, host)
    }

    /// One HTTP/1.1 request of `method` with no body, as [`Direct::get`] sends a GET.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        host: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        let mut tcp = TcpStream::connect(&self.addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            host.unwrap_or(&self.addr)
        );
        let mut raw = Vec::new();
        match &self.tls {
            None => {
                tcp.write_all(request.as_bytes())?;
                tcp.read_to_end(&mut raw)?;
            }
            Some(config) => {
                let ip = ServerName::try_from("127.0.0.1").expect("an IP address");
                let connection = rustls::ClientConnection::new(config.clone(), ip)
                    .map_err(std::io::Error::other)?;
                let mut tls = rustls::StreamOwned::new(connection, tcp);
                tls.write_all(request.as_bytes())?;
                // The server may close without a TLS close_notify once it has answered.
                match tls.read_to_end(&mut raw) {
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok(parse_response(&raw))
    }
}

/// The status code and the (de-chunked) body of an HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (code, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The fault-free simulated cluster shared by the tests of one file (each test uses its own
/// namespace).
pub fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| Sim::start(&[]))
}

/// A manifest file that lives as long as the returned guard.
pub fn manifest(yaml: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    file.write_all(yaml.as_bytes()).expect("write manifest");
    file
}

pub fn kos_command(kubeconfig: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(KOS);
    command
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1");
    command
}

pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Everything kos said, for assertion messages.
pub fn said(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
}

pub fn report(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", said(output)))
}

/// The report's objects of `kind`.
pub fn objects<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["kind"] == kind)
        .collect()
}

/// A Namespace `ns`, as the first document of a manifest.
pub fn namespace(ns: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n---\n")
}

/// A Namespace and a Deployment `web` in it; `template_annotations` go on the pod template.
pub fn deployment(ns: &str, replicas: u32, image: &str, template_annotations: &str) -> String {
    namespace(ns)
        + &format!(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
      annotations: {{{template_annotations}}}
    spec:
      containers:
      - name: app
        image: {image}
"
        )
}

/// [`deployment`] with the Deployment itself labelled `app: web` too, so that a label
/// selector finds it (not only its pods).
pub fn labelled_deployment(
    ns: &str,
    replicas: u32,
    image: &str,
    template_annotations: &str,
) -> String {
    let yaml = deployment(ns, replicas, image, template_annotations);
    // The first `spec:` is the Deployment's: the Namespace before it has none.
    let labelled = yaml.replacen("\nspec:\n", "\n  labels: {app: web}\nspec:\n", 1);
    assert_ne!(labelled, yaml, "the Deployment got no label");
    labelled
}

/// A `kos` run in the background whose stdout lines are read as they come.
pub struct Running {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Running {
    /// Starts `kos ARGS --kubeconfig SIM` on the shared sim.
    pub fn start(args: &[&str]) -> Running {
        let mut child = sim()
            .kos(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start kos");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let reader = {
            let lines = lines.clone();
            let stdout = child.stdout.take().expect("stdout");
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stdout)
                    .lines()
                    .map_while(Result::ok)
                {
                    lines.lock().expect("the lines").push(line);
                }
            })
        };
        Running {
            child,
            lines,
            reader,
        }
    }

    /// Waits until the lines so far satisfy `what`; panics after 30 s.
    pub fn wait_for(&self, label: &str, what: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !what(&self.lines.lock().expect("the lines")) {
            assert!(
                Instant::now() < deadline,
                "no {label}: {:?}",
                self.lines.lock().expect("the lines")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill -INT");
        assert!(status.success());
    }

    /// Waits for kos to exit: its exit code and every line it printed.
    pub fn finish(mut self) -> (Option<i32>, Vec<String>) {
        let exit = self.child.wait().expect("wait for kos");
        self.reader.join().expect("reader");
        let lines = std::mem::take(&mut *self.lines.lock().expect("the lines"));
        (exit.code(), lines)
    }
}

/// A Job `name` in `ns` whose pod exits with `exit_code` after `exit_after` (simulated
/// time), with `annotations` on the Job itself and `spec` lines added to its spec (indented
/// by two spaces), ending in a document separator.
pub fn job_document(
    ns: &str,
    name: &str,
    exit_code: u8,
    exit_after: &str,
    annotations: &str,
    spec: &str,
) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: {ns}
  annotations: {{{annotations}}}
spec:
  backoffLimit: 0{spec}
  template:
    metadata:
      annotations:
        sim.kos.dev/exit-after: {exit_after}
        sim.kos.dev/exit-code: \"{exit_code}\"
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox:1.36
---
"
    )
}

/// Whether `tool` can be run; when not, the test skips with a printed reason — or fails
/// under `KOS_REQUIRE_E2E=1`.
pub fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("KOS_REQUIRE_E2E").as_deref() != Ok("1"),
            "{tool} is required (KOS_REQUIRE_E2E=1) but cannot be run"
        );
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

/// A tmux server of our own (its own socket) with one window running `sh`; killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A `width`×`height` window; `name` keeps sockets of parallel tests apart.
    pub fn start(name: &str, width: u16, height: u16) -> Tmux {
        let tmux = Tmux {
            socket: format!("kos-{name}-{}", std::process::id()),
        };
        let (width, height) = (width.to_string(), height.to_string());
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &width,
            "-y",
            &height,
            "sh",
        ]);
        tmux
    }

    pub fn run(&self, args: &[&str]) -> String {
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

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "main"])
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    pub fn format(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "main", format])
            .trim()
            .to_owned()
    }

    /// Waits until the screen satisfies `ready`; panics with the last screen at the deadline.
    pub fn wait_for(&self, what: &str, timeout: Duration, ready: impl Fn(&str) -> bool) -> String {
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

/// Waits until `path` holds text; panics at the deadline.
pub fn wait_for_file(path: &Path, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.trim().is_empty()
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
