//! The pod `log` subresource (`GET /api/v1/namespaces/NS/pods/NAME/log`): picks the
//! container and its instance the way the API server and the kubelet do, answers their
//! errors word for word, and serves the lines from [`Logs`] as plain text, following new
//! ones when asked.
//!
//! It reads the store and the logs; it writes nothing and spawns no task: a followed body
//! is a stream that owns its subscriptions, so a client that goes away drops it all.

use crate::errors::ApiError;
use crate::logs::{LogKey, LogLine, Logs};
use crate::store::{Event, EventType, Store, StoreError};
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::convert::Infallible;
use std::fmt::Write;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

/// The query parameters of the `log` subresource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogQuery {
    pub container: Option<String>,
    #[serde(default)]
    pub follow: bool,
    #[serde(default)]
    pub previous: bool,
    pub tail_lines: Option<u64>,
    pub since_seconds: Option<u64>,
    /// RFC 3339; `sinceSeconds` wins when both are given.
    pub since_time: Option<String>,
    #[serde(default)]
    pub timestamps: bool,
    pub limit_bytes: Option<u64>,
}

/// The log of one container instance of a pod, as `kubectl logs` reads it.
pub async fn pod_log(
    store: &Store,
    logs: &Logs,
    namespace: &str,
    pod: &str,
    query: &LogQuery,
) -> Result<Response, ApiError> {
    // Subscribe before reading the pod, so no change between the two is missed.
    let revision = store.revision();
    let object = store
        .get("pods", namespace, pod)
        .ok_or_else(|| StoreError::NotFound {
            resource: "pods".into(),
            name: pod.to_owned(),
        })?;
    let container = choose_container(&object, pod, query.container.as_deref())?;
    let source = instance(&object, pod, &container, query.previous)?;
    let key = LogKey {
        namespace: namespace.to_owned(),
        pod: pod.to_owned(),
        container,
        instance: source.instance,
    };
    let format = Format {
        timestamps: query.timestamps,
    };
    let mut budget = query.limit_bytes;
    if !(query.follow && source.running) {
        let lines = logs.read(&key);
        let body = format.lines(select(&lines, query, Utc::now()), &mut budget);
        return Ok(text_response(Body::from(body)));
    }
    let (missed, pods) = store.watch_from("pods", Some(namespace), revision)?;
    let (lines, follow) = logs.read_and_follow(&key);
    let first = format.lines(select(&lines, query, Utc::now()), &mut budget);
    let ended = missed.iter().any(|event| ends(event, &key));
    let stream = Follow {
        lines: follow,
        pods,
        key,
        format,
        budget,
        draining: ended,
    }
    .into_stream();
    let head = futures::stream::once(async move { Ok::<_, Infallible>(first) });
    Ok(text_response(Body::from_stream(futures::StreamExt::chain(
        head, stream,
    ))))
}

fn text_response(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

fn names(object: &Value, field: &str) -> Vec<String> {
    object["spec"][field]
        .as_array()
        .map(|containers| {
            containers
                .iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The named container, or the only one; the API server's 400s otherwise.
fn choose_container(object: &Value, pod: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let containers = names(object, "containers");
    let init = names(object, "initContainers");
    if let Some(name) = asked.filter(|name| !name.is_empty()) {
        if containers.iter().chain(&init).any(|c| c == name) {
            return Ok(name.to_owned());
        }
        return Err(ApiError::bad_request(format!(
            "container {name} is not valid for pod {pod}"
        )));
    }
    match containers.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(ApiError::bad_request(format!(
            "pod {pod} does not have a container"
        ))),
        many => {
            let mut message = format!(
                "a container name must be specified for pod {pod}, choose one of: [{}]",
                many.join(" ")
            );
            if !init.is_empty() {
                let _ = write!(
                    message,
                    " or one of the init containers: [{}]",
                    init.join(" ")
                );
            }
            Err(ApiError::bad_request(message))
        }
    }
}

/// Which instance of a container to read, and whether it is still running.
#[derive(Debug, PartialEq, Eq)]
struct Source {
    instance: u32,
    running: bool,
}

/// Picks the instance as the kubelet picks the container whose log it serves: the previous
/// one when asked, else the running one, else the last one that ended; a container that
/// never ran is an error naming why.
fn instance(
    object: &Value,
    pod: &str,
    container: &str,
    previous: bool,
) -> Result<Source, ApiError> {
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|field| object["status"][field].as_array())
        .flatten()
        .find(|s| s["name"] == container)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{pod}\" is not available"
            ))
        })?;
    let restarts = status["restartCount"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0);
    let state = &status["state"];
    let last_terminated = status["lastState"].get("terminated").is_some() && restarts > 0;
    let at = |instance, running| Ok(Source { instance, running });
    if previous {
        if last_terminated {
            return at(restarts - 1, false);
        }
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{pod}\" not found"
        )));
    }
    if state.get("running").is_some() {
        return at(restarts, true);
    }
    if state.get("terminated").is_some() {
        return at(restarts, false);
    }
    if last_terminated {
        return at(restarts - 1, false);
    }
    let waiting = |why: &str| {
        Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{pod}\" is waiting to start{why}"
        )))
    };
    match state["waiting"]["reason"].as_str() {
        Some("ErrImagePull") => waiting(": image can't be pulled"),
        Some("ImagePullBackOff") => waiting(": trying and failing to pull image"),
        Some(reason) => waiting(&format!(": {reason}")),
        None => waiting(" - no logs yet"),
    }
}

/// The lines `sinceSeconds`/`sinceTime` and `tailLines` keep, oldest first.
fn select<'a>(lines: &'a [LogLine], query: &LogQuery, now: DateTime<Utc>) -> &'a [LogLine] {
    let since = match (query.since_seconds, query.since_time.as_deref()) {
        (Some(seconds), _) => {
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            chrono::TimeDelta::try_seconds(seconds).and_then(|age| now.checked_sub_signed(age))
        }
        (None, Some(stamp)) => DateTime::parse_from_rfc3339(stamp)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        (None, None) => None,
    };
    let first = since.map_or(0, |since| lines.partition_point(|line| line.time < since));
    let kept = &lines[first..];
    match query.tail_lines {
        Some(tail) => {
            let tail = usize::try_from(tail).unwrap_or(usize::MAX);
            &kept[kept.len().saturating_sub(tail)..]
        }
        None => kept,
    }
}

/// How a line is written.
#[derive(Debug, Clone, Copy)]
struct Format {
    timestamps: bool,
}

impl Format {
    fn line(self, line: &LogLine, out: &mut Vec<u8>) {
        if self.timestamps {
            let stamp = line
                .time
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            out.extend_from_slice(stamp.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(line.text.as_bytes());
        out.push(b'\n');
    }

    /// Writes `lines`, cut at `budget` bytes (`limitBytes`), which it uses up.
    fn lines(self, lines: &[LogLine], budget: &mut Option<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            self.line(line, &mut out);
            if budget.is_some_and(|b| out.len() as u64 >= b) {
                break;
            }
        }
        if let Some(left) = budget {
            let cut = usize::try_from(*left).unwrap_or(usize::MAX).min(out.len());
            out.truncate(cut);
            *left -= cut as u64;
        }
        out
    }
}

/// Whether a pod change ends the followed container instance: the pod is gone, the
/// container restarted (a newer instance), or this instance terminated.
fn ends(event: &Event, key: &LogKey) -> bool {
    if event.resource != "pods" || event.namespace != key.namespace {
        return false;
    }
    let pod = &event.object();
    if pod["metadata"]["name"] != key.pod.as_str() {
        return false;
    }
    if event.type_ == EventType::Deleted {
        return true;
    }
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|field| pod["status"][field].as_array())
        .flatten()
        .find(|s| s["name"] == key.container.as_str());
    status.is_none_or(|status| {
        let restarts = status["restartCount"].as_u64().unwrap_or(0);
        restarts > u64::from(key.instance) || status["state"].get("running").is_none()
    })
}

/// A followed log: new lines until the instance ends, the budget is spent, the logs are
/// dropped (pod deleted) or the stream is dropped (client gone).
struct Follow {
    lines: broadcast::Receiver<LogLine>,
    pods: broadcast::Receiver<Arc<Event>>,
    key: LogKey,
    format: Format,
    budget: Option<u64>,
    /// The instance ended: send what is already buffered, then stop.
    draining: bool,
}

impl Follow {
    fn into_stream(self) -> impl futures::Stream<Item = Result<Vec<u8>, Infallible>> + Send {
        futures::stream::unfold(self, |mut follow| async move {
            let line = follow.next_line().await?;
            let chunk = follow
                .format
                .lines(std::slice::from_ref(&line), &mut follow.budget);
            Some((Ok(chunk), follow))
        })
    }

    async fn next_line(&mut self) -> Option<LogLine> {
        loop {
            if self.budget == Some(0) {
                return None;
            }
            if self.draining {
                return match self.lines.try_recv() {
                    Ok(line) => Some(line),
                    Err(TryRecvError::Lagged(_)) => continue,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => None,
                };
            }
            tokio::select! {
                biased;
                line = self.lines.recv() => match line {
                    Ok(line) => return Some(line),
                    // A reader too slow for the writer loses lines, as with a real kubelet.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                event = self.pods.recv() => match event {
                    Ok(event) => self.draining = ends(&event, &self.key),
                    // A missed pod change: the logs closing on deletion still ends us.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => self.draining = true,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use serde_json::json;
    use std::time::Duration;

    const DEADLINE: Duration = Duration::from_secs(5);

    fn pod(containers: &[&str], statuses: Value) -> Value {
        let containers: Vec<Value> = containers
            .iter()
            .map(|name| json!({"name": name, "image": "nginx"}))
            .collect();
        let mut object = json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": containers},
        });
        object["status"]["containerStatuses"] = statuses;
        object
    }

    fn running(name: &str, restarts: u32) -> Value {
        let mut status = json!({"name": name, "ready": true, "restartCount": restarts,
                                "state": {"running": {}}});
        if restarts > 0 {
            status["lastState"] = json!({"terminated": {"exitCode": 1}});
        }
        status
    }

    fn key(container: &str, instance: u32) -> LogKey {
        LogKey {
            namespace: "ns".into(),
            pod: "p".into(),
            container: container.into(),
            instance,
        }
    }

    fn setup(object: Value) -> (Store, Logs) {
        let store = Store::default();
        store.create("pods", object).unwrap();
        (store, Logs::default())
    }

    async fn body(response: Response) -> String {
        let bytes = tokio::time::timeout(
            DEADLINE,
            axum::body::to_bytes(response.into_body(), usize::MAX),
        )
        .await
        .expect("the body ends")
        .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    async fn error(store: &Store, logs: &Logs, pod: &str, query: LogQuery) -> ApiError {
        pod_log(store, logs, "ns", pod, &query).await.unwrap_err()
    }

    #[tokio::test]
    async fn refuses_like_the_api_server_and_the_kubelet() {
        let (store, logs) = setup(pod(&["a", "b"], json!([running("a", 0), running("b", 0)])));
        let missing = error(&store, &logs, "nope", LogQuery::default()).await;
        assert_eq!(
            (missing.code, missing.message.as_str()),
            (404, "pods \"nope\" not found")
        );
        let unnamed = error(&store, &logs, "p", LogQuery::default()).await;
        assert_eq!(unnamed.code, 400);
        assert_eq!(
            unnamed.message,
            "a container name must be specified for pod p, choose one of: [a b]"
        );
        let query = |container: &str, previous| LogQuery {
            container: Some(container.into()),
            previous,
            ..LogQuery::default()
        };
        let wrong = error(&store, &logs, "p", query("c", false)).await;
        assert_eq!(wrong.message, "container c is not valid for pod p");
        let previous = error(&store, &logs, "p", query("a", true)).await;
        assert_eq!(previous.code, 400);
        assert_eq!(
            previous.message,
            "previous terminated container \"a\" in pod \"p\" not found"
        );
    }

    #[tokio::test]
    async fn a_container_that_never_ran_says_why() {
        let waiting = |reason: &str| json!([{"name": "c", "restartCount": 0, "state": {"waiting": {"reason": reason}}}]);
        let (store, logs) = setup(pod(&["c"], waiting("ImagePullBackOff")));
        assert_eq!(
            error(&store, &logs, "p", LogQuery::default()).await.message,
            "container \"c\" in pod \"p\" is waiting to start: trying and failing to pull image"
        );
        let (store, logs) = setup(pod(&["c"], waiting("ContainerCreating")));
        let message = error(&store, &logs, "p", LogQuery::default()).await.message;
        assert_eq!(
            message,
            "container \"c\" in pod \"p\" is waiting to start: ContainerCreating"
        );
    }

    #[tokio::test]
    async fn serves_plain_text_with_tail_timestamps_and_limit() {
        let (store, logs) = setup(pod(&["c"], json!([running("c", 0)])));
        for n in 1..=4 {
            logs.append(&key("c", 0), format!("line {n}"));
        }
        let read = |query: LogQuery| {
            let (store, logs) = (&store, &logs);
            async move { pod_log(store, logs, "ns", "p", &query).await.unwrap() }
        };
        let response = read(LogQuery::default()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain");
        assert_eq!(body(response).await, "line 1\nline 2\nline 3\nline 4\n");
        let tail = read(LogQuery {
            tail_lines: Some(2),
            ..LogQuery::default()
        })
        .await;
        assert_eq!(body(tail).await, "line 3\nline 4\n");
        let limited = read(LogQuery {
            limit_bytes: Some(10),
            ..LogQuery::default()
        })
        .await;
        assert_eq!(body(limited).await, "line 1\nlin");
        let stamped = body(
            read(LogQuery {
                timestamps: true,
                ..LogQuery::default()
            })
            .await,
        )
        .await;
        let first = stamped.lines().next().unwrap();
        let (stamp, text) = first.split_once(' ').unwrap();
        assert!(DateTime::parse_from_rfc3339(stamp).is_ok(), "{stamp}");
        assert_eq!(
            stamp.len(),
            "2026-11-26T09:30:00.123456789Z".len(),
            "nanoseconds"
        );
        assert_eq!(text, "line 1");
    }

    #[test]
    fn since_keeps_recent_lines() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .to_utc();
        let line = |seconds_ago: i64, text: &str| LogLine {
            time: now - chrono::TimeDelta::seconds(seconds_ago),
            text: text.into(),
        };
        let lines = [line(60, "old"), line(20, "recent"), line(1, "new")];
        let texts = |query: LogQuery| {
            select(&lines, &query, now)
                .iter()
                .map(|l| l.text.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            texts(LogQuery {
                since_seconds: Some(30),
                ..LogQuery::default()
            }),
            ["recent", "new"]
        );
        let since_time = Some("2026-11-26T09:59:50Z".to_owned());
        assert_eq!(
            texts(LogQuery {
                since_time,
                ..LogQuery::default()
            }),
            ["new"]
        );
        let both = LogQuery {
            since_seconds: Some(30),
            tail_lines: Some(1),
            ..LogQuery::default()
        };
        assert_eq!(texts(both), ["new"]);
        assert_eq!(texts(LogQuery::default()).len(), 3);
    }

    #[tokio::test]
    async fn previous_and_crash_looping_containers_serve_the_ended_instance() {
        let crash_looping = json!([{"name": "c", "restartCount": 2,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1}}}]);
        let (store, logs) = setup(pod(&["c"], crash_looping));
        logs.append(&key("c", 0), "first run");
        logs.append(&key("c", 1), "second run");
        let current = pod_log(&store, &logs, "ns", "p", &LogQuery::default())
            .await
            .unwrap();
        assert_eq!(body(current).await, "second run\n");
        let query = LogQuery {
            previous: true,
            ..LogQuery::default()
        };
        let previous = pod_log(&store, &logs, "ns", "p", &query).await.unwrap();
        assert_eq!(body(previous).await, "second run\n");

        let (store, logs) = setup(pod(&["c"], json!([running("c", 1)])));
        logs.append(&key("c", 0), "crashed run");
        logs.append(&key("c", 1), "this run");
        let previous = pod_log(&store, &logs, "ns", "p", &query).await.unwrap();
        assert_eq!(body(previous).await, "crashed run\n");
    }

    #[tokio::test]
    async fn follow_streams_new_lines_until_the_instance_ends() {
        let (store, logs) = setup(pod(&["c"], json!([running("c", 0)])));
        logs.append(&key("c", 0), "before");
        let query = LogQuery {
            follow: true,
            ..LogQuery::default()
        };
        let response = pod_log(&store, &logs, "ns", "p", &query).await.unwrap();
        let mut stream = response.into_body().into_data_stream();
        let mut next = async || {
            let chunk = tokio::time::timeout(DEADLINE, futures::StreamExt::next(&mut stream)).await;
            chunk
                .expect("a chunk in time")
                .map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
        };
        assert_eq!(next().await.as_deref(), Some("before\n"));
        logs.append(&key("c", 0), "after");
        assert_eq!(next().await.as_deref(), Some("after\n"));
        logs.append(&key("c", 0), "last words");
        store
            .mutate("pods", "ns", "p", |pod| {
                pod["status"]["containerStatuses"][0]["state"] =
                    json!({"terminated": {"exitCode": 1}});
            })
            .unwrap();
        assert_eq!(next().await.as_deref(), Some("last words\n"));
        assert_eq!(next().await, None, "the stream ends with the instance");
    }

    #[tokio::test]
    async fn follow_ends_when_the_pod_is_deleted_or_the_budget_is_spent() {
        let (store, logs) = setup(pod(&["c"], json!([running("c", 0)])));
        let query = LogQuery {
            follow: true,
            ..LogQuery::default()
        };
        let response = pod_log(&store, &logs, "ns", "p", &query).await.unwrap();
        store.delete("pods", "ns", "p", false).unwrap();
        logs.remove_pod("ns", "p");
        assert_eq!(body(response).await, "");

        let (store, logs) = setup(pod(&["c"], json!([running("c", 0)])));
        let query = LogQuery {
            follow: true,
            limit_bytes: Some(8),
            ..LogQuery::default()
        };
        let response = pod_log(&store, &logs, "ns", "p", &query).await.unwrap();
        logs.append(&key("c", 0), "12345");
        logs.append(&key("c", 0), "67890");
        assert_eq!(body(response).await, "12345\n67");
    }
}
