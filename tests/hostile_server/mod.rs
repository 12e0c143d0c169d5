//! A small API server for the hostile tests: plain HTTP on 127.0.0.1, one thread per
//! connection, answering discovery and one namespace's Pods as a real server would — except
//! where the test's route answers with a hostile reply instead (escape sequences, a body
//! that never ends, a line without end, garbage, no answer at all).
//!
//! It is not the simulated cluster: it holds no state and only says what each test tells it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the server answers to one request.
pub enum Reply {
    /// A status and a JSON body, with its Content-Length.
    Json(u16, String),
    /// A status and a text body.
    Text(u16, String),
    /// These bytes exactly, then the connection closes.
    Raw(Vec<u8>),
    /// The head of a chunked reply, then `chunk` over and over until the client goes away
    /// or `limit` bytes were sent.
    Endless {
        code: u16,
        chunk: Vec<u8>,
        limit: u64,
    },
    /// No answer: the connection stays open and silent until the client closes it.
    Hang,
    /// The head of a watch reply, then these lines, then silence until the client goes.
    Watch(Vec<String>),
}

/// A request as the route sees it.
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: HashMap<String, String>,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn is_watch(&self) -> bool {
        self.target.contains("watch=true") || self.target.contains("watch=1")
    }
}

type Route = dyn Fn(&Request) -> Option<Reply> + Send + Sync;

/// A running server.
pub struct Server {
    pub url: String,
    /// `METHOD target` of every request, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serves `route` first; what it leaves (`None`) is answered by [`normal`].
    pub fn start(route: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let route: Arc<Route> = Arc::new(route);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let route = route.clone();
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &*route, &log));
            }
        });
        Server { url, seen }
    }

    /// How many requests so far had `needle` in their `METHOD target`.
    pub fn count(&self, needle: &str) -> usize {
        let seen = self.seen.lock().expect("log");
        seen.iter().filter(|r| r.contains(needle)).count()
    }

    /// A kubeconfig for this server in `dir`, its user given as YAML lines (indented 4).
    pub fn kubeconfig(&self, dir: &Path, user: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, kubeconfig_text(&self.url, user)).expect("write kubeconfig");
        path
    }
}

/// A kubeconfig of one cluster at `url`, one context `hostile`, namespace `shop`.
pub fn kubeconfig_text(url: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: hostile\nclusters:\n- name: h\n  \
         cluster:\n    server: {url}\ncontexts:\n- name: hostile\n  context:\n    cluster: h\n    \
         namespace: shop\n    user: u\nusers:\n- name: u\n  user:\n{user}"
    )
}

/// Answers requests on one connection until it closes.
fn serve(stream: TcpStream, route: &Route, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        seen.lock()
            .expect("log")
            .push(format!("{} {}", request.method, request.target));
        let reply = route(&request).unwrap_or_else(|| normal(&request));
        if !answer(&mut writer, &mut reader, reply) {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
    })
}

/// Writes `reply`; whether the connection can serve another request.
fn answer(writer: &mut TcpStream, reader: &mut BufReader<TcpStream>, reply: Reply) -> bool {
    match reply {
        Reply::Json(code, body) => respond(writer, code, "application/json", &body),
        Reply::Text(code, body) => respond(writer, code, "text/plain", &body),
        Reply::Raw(bytes) => {
            let _ = writer.write_all(&bytes);
            false
        }
        Reply::Endless { code, chunk, limit } => {
            let head = format!(
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\n\r\n"
            );
            if writer.write_all(head.as_bytes()).is_err() {
                return false;
            }
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            let mut sent = 0;
            while sent < limit && writer.write_all(&framed).is_ok() {
                sent += chunk.len() as u64;
            }
            false
        }
        Reply::Hang => {
            wait_for_close(reader);
            false
        }
        Reply::Watch(lines) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Transfer-Encoding: chunked\r\n\r\n";
            let _ = writer.write_all(head.as_bytes());
            for line in lines {
                let line = format!("{line}\n");
                let _ = write!(writer, "{:x}\r\n{line}\r\n", line.len());
            }
            wait_for_close(reader);
            false
        }
    }
}

fn respond(writer: &mut TcpStream, code: u16, content_type: &str, body: &str) -> bool {
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    writer.write_all(head.as_bytes()).is_ok() && writer.write_all(body.as_bytes()).is_ok()
}

/// Blocks until the client closes the connection (or it breaks).
fn wait_for_close(reader: &mut BufReader<TcpStream>) {
    let mut buf = [0; 1024];
    while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
}

/// What a real API server answers: discovery of the core group, an empty Pod list, silent
/// watches, no Events.
pub fn normal(request: &Request) -> Reply {
    match request.path() {
        "/version" => Reply::Json(200, VERSION.into()),
        "/api" => Reply::Json(
            200,
            r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}"#.into(),
        ),
        "/apis" => Reply::Json(
            200,
            r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[]}"#.into(),
        ),
        "/api/v1" => Reply::Json(200, CORE_V1.into()),
        _ if request.is_watch() => Reply::Watch(Vec::new()),
        path if path.ends_with("/pods") => Reply::Json(200, pod_list(&[])),
        path if path.ends_with("/events") => Reply::Json(200, list("EventList", &[])),
        _ => Reply::Json(
            404,
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not found"}"#.into(),
        ),
    }
}

/// A list of `kind` holding `items` (JSON objects).
pub fn list(kind: &str, items: &[String]) -> String {
    format!(
        r#"{{"kind":"{kind}","apiVersion":"v1","metadata":{{"resourceVersion":"7"}},"items":[{}]}}"#,
        items.join(",")
    )
}

pub fn pod_list(pods: &[String]) -> String {
    list("PodList", pods)
}

/// Pod `shop/p`, its container `app` waiting with `reason` and `message` (JSON-escaped
/// here), its image `image`.
pub fn waiting_pod(image: &str, reason: &str, message: &str) -> String {
    let json = |text: &str| serde_json::to_string(text).expect("a string");
    format!(
        r#"{{"metadata":{{"name":"p","namespace":"shop","uid":"u1","resourceVersion":"7"}},
        "spec":{{"containers":[{{"name":"app","image":{image}}}]}},
        "status":{{"phase":"Pending","containerStatuses":[{{"name":"app","image":{image},
        "imageID":"","ready":false,"restartCount":0,
        "state":{{"waiting":{{"reason":{reason},"message":{message}}}}}}}]}}}}"#,
        image = json(image),
        reason = json(reason),
        message = json(message),
    )
}

/// A Warning Event about Pod `shop/p`.
pub fn warning_event(reason: &str, message: &str) -> String {
    let json = |text: &str| serde_json::to_string(text).expect("a string");
    format!(
        r#"{{"metadata":{{"name":"p.1","namespace":"shop","uid":"e1"}},
        "involvedObject":{{"kind":"Pod","namespace":"shop","name":"p","uid":"u1"}},
        "type":"Warning","reason":{reason},"message":{message},"count":1,
        "lastTimestamp":"2026-01-01T00:00:00Z"}}"#,
        reason = json(reason),
        message = json(message),
    )
}

/// The manifest `kos watch -f` reads: Pod `shop/p`.
pub const POD_MANIFEST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\nspec:\n  \
     containers:\n  - name: app\n    image: nginx\n";

const VERSION: &str = r#"{"major":"1","minor":"34","gitVersion":"v1.34.0","gitCommit":"x",
"gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go1.24",
"compiler":"gc","platform":"linux/amd64"}"#;

const CORE_V1: &str = r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1",
"resources":[
{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","shortNames":["po"],
 "verbs":["create","delete","get","list","patch","update","watch"]},
{"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},
{"name":"events","singularName":"event","namespaced":true,"kind":"Event",
 "verbs":["create","get","list","watch"]},
{"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace",
 "verbs":["create","get","list","patch","watch"]}]}"#;
