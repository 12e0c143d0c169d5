//! Watch streams (`?watch=1`): newline-delimited JSON events with the resourceVersion
//! semantics of a real API server.
//!
//! No resourceVersion (or "0", or `sendInitialEvents=true`): synthetic ADDED events for the
//! current objects, then every change. A resourceVersion N: every change after N, or an
//! ERROR event with a 410 `Expired` Status when N is older than the kept history (kube-rs's
//! watcher relists on it); a 504 `Too large resource version` when N is newer than the
//! store. `allowWatchBookmarks=true` adds periodic BOOKMARK events;
//! `timeoutSeconds` ends the stream; label and field selectors filter the events. A
//! subscriber that lags too far behind the store's broadcast is cut off and re-watches.

use super::selector::Selectors;
use super::{Api, Call};
use crate::errors::ApiError;
use crate::store::{Event, EventType, Item, Object, StoreError};
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(1);
/// A watch's lifetime when the client gives no `timeoutSeconds`.
const DEFAULT_TIMEOUT: Duration = Duration::from_mins(30);
/// Encoded events buffered per stream before the writer waits for the client.
const BUFFER: usize = 256;

/// One watch, as the request asked for it.
struct Plan {
    key: String,
    namespace: Option<String>,
    kind: String,
    api_version: String,
    selectors: Selectors,
    bookmarks: bool,
    initial_events_end: bool,
    timeout: Duration,
    /// Events carry one-row Tables (`kubectl get -w`)...
    table: bool,
    /// ... with rows' objects as `includeObject` asks.
    include_object: Option<String>,
    target: super::Target,
    api: Arc<Api>,
    /// `--faults drop-watch`: the stream is cut after this long.
    cut_after: Option<Duration>,
}

impl Plan {
    /// Whether a change is of this watch's resource and namespace.
    fn covers(&self, event: &Event) -> bool {
        event.resource == self.key
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == event.namespace)
    }

    /// The line a change shows as through the selectors, as a real server sends it: an
    /// object that starts matching is ADDED, one that stops matching is DELETED.
    fn change(&self, event: &Event) -> Option<Bytes> {
        let before = event.had_previous()
            && (self.selectors.is_empty()
                || event.previous().is_some_and(|p| self.selectors.matches(&p)));
        let type_ = match (event.type_, before, self.selects(event)) {
            (EventType::Modified, false, true) => EventType::Added,
            (EventType::Modified, true, false) => EventType::Deleted,
            (EventType::Deleted, true, _) | (_, _, true) => event.type_,
            _ => return None,
        };
        Some(self.event(type_.as_str(), event))
    }

    /// Whether the selectors select the object; it is decoded only when there are any.
    fn selects(&self, object: &impl Undecoded) -> bool {
        self.selectors.is_empty() || self.selectors.matches(&object.object())
    }

    /// The line of one change: the stored text as it is, unless a Table is asked for.
    fn event(&self, type_: &str, object: &impl Undecoded) -> Bytes {
        if self.table {
            let one = [object.object()];
            let include = self.include_object.as_deref();
            line(
                type_,
                &super::objects::table(&self.api, &self.target, &one, include),
            )
        } else {
            line_with(type_, |out| object.write_json(out))
        }
    }

    fn bookmark(&self, revision: u64, initial_end: bool) -> Bytes {
        let mut object = json!({"kind": self.kind, "apiVersion": self.api_version,
                                "metadata": {"resourceVersion": revision.to_string()}});
        if initial_end {
            object["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line("BOOKMARK", &object)
    }
}

/// An object as the store hands it out undecoded: a change, or an object of a snapshot.
trait Undecoded {
    fn object(&self) -> Object;
    fn write_json(&self, out: &mut Vec<u8>);
}

impl Undecoded for Event {
    fn object(&self) -> Object {
        Event::object(self)
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        Event::write_json(self, out);
    }
}

impl Undecoded for Item {
    fn object(&self) -> Object {
        Item::object(self)
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        Item::write_json(self, out);
    }
}

/// One event line: `{"type":"ADDED","object":{...}}\n`.
fn line(type_: &str, object: &Value) -> Bytes {
    line_with(type_, |out| {
        // A Value always serializes.
        let _ = serde_json::to_writer(out, object);
    })
}

/// One event line whose object `write` appends.
fn line_with(type_: &str, write: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    let mut bytes = format!("{{\"type\":\"{type_}\",\"object\":").into_bytes();
    write(&mut bytes);
    bytes.extend_from_slice(b"}\n");
    Bytes::from(bytes)
}

/// Where a watch starts.
enum Start {
    /// Current objects as ADDED, then changes after the revision.
    Snapshot(Vec<Item>, u64),
    /// Changes after a revision: those already missed, then live ones.
    Resume(Vec<Arc<Event>>, u64),
    /// The revision is too old.
    Gone(ApiError),
}

pub fn serve(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    let params = &call.params;
    let plan = Plan {
        key: target.resource.key(),
        namespace: target.in_namespace.then(|| target.namespace.clone()),
        kind: target.resource.kind.clone(),
        api_version: target.resource.api_version(),
        selectors: Selectors::parse(params.get("labelSelector"), params.get("fieldSelector"))?,
        bookmarks: params.flag("allowWatchBookmarks"),
        initial_events_end: params.flag("sendInitialEvents"),
        timeout: params
            .get("timeoutSeconds")
            .and_then(|t| t.parse().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
        table: super::wants_table(&call.headers),
        include_object: params.get("includeObject").map(str::to_owned),
        target: target.clone(),
        api: api.clone(),
        cut_after: api.faults.watch_cut_after(),
    };
    let namespace = plan.namespace.as_deref();
    let (start, receiver) = match params.get("resourceVersion") {
        Some(rv) if rv != "0" && !plan.initial_events_end => {
            let revision: u64 = rv
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?;
            // From the future: the server answers 504 rather than wait for a version that,
            // here, only a restart with fresh state can have taken away.
            let current = api.store.revision();
            if revision > current {
                return Err(ApiError::too_large_resource_version(revision, current));
            }
            match api.store.watch_from(&plan.key, namespace, revision) {
                Ok(_) if api.faults.gone_on_rewatch() => {
                    let error = StoreError::Gone {
                        requested: revision,
                        oldest: api.store.revision(),
                    };
                    (Start::Gone(error.into()), None)
                }
                Ok((missed, receiver)) => (Start::Resume(missed, revision), Some(receiver)),
                Err(error) => (Start::Gone(error.into()), None),
            }
        }
        _ => {
            let (objects, revision, receiver) = api.store.items_and_watch(&plan.key, namespace);
            (Start::Snapshot(objects, revision), Some(receiver))
        }
    };
    let (sender, stream) = mpsc::channel::<Bytes>(BUFFER);
    let mut epoch = api.epoch.clone();
    // A clone starts from what the original has seen, and nobody marks the original: without
    // this, every watch opened after the first restart would end at once, and clients would
    // re-watch in a hot loop.
    epoch.mark_unchanged();
    tokio::spawn(async move {
        // The client went away: nothing to do.
        let _ = run(plan, start, receiver, &sender, epoch).await;
    });
    let body = Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(stream).map(Ok::<Bytes, Infallible>),
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(|e| ApiError::new(500, "InternalError", e.to_string()))
}

/// The client hung up.
struct Closed;

async fn send(sender: &mpsc::Sender<Bytes>, bytes: Bytes) -> Result<(), Closed> {
    sender.send(bytes).await.map_err(|_| Closed)
}

async fn run(
    plan: Plan,
    start: Start,
    receiver: Option<broadcast::Receiver<Arc<Event>>>,
    sender: &mpsc::Sender<Bytes>,
    mut epoch: tokio::sync::watch::Receiver<u64>,
) -> Result<(), Closed> {
    let mut last = match start {
        Start::Gone(error) => return send(sender, line("ERROR", &error.status())).await,
        Start::Snapshot(objects, revision) => {
            for object in objects.iter().filter(|o| plan.selects(*o)) {
                send(sender, plan.event("ADDED", object)).await?;
            }
            if plan.initial_events_end {
                send(sender, plan.bookmark(revision, true)).await?;
            }
            revision
        }
        Start::Resume(missed, revision) => replay(&plan, missed, revision, sender).await?,
    };
    let Some(mut receiver) = receiver else {
        return Ok(());
    };
    let deadline = tokio::time::sleep(
        plan.cut_after
            .map_or(plan.timeout, |cut| cut.min(plan.timeout)),
    );
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
    ticker.tick().await;
    loop {
        tokio::select! {
            () = sender.closed() => return Err(Closed),
            () = &mut deadline => return Ok(()),
            _ = epoch.changed() => return Ok(()),
            _ = ticker.tick(), if plan.bookmarks => send(sender, plan.bookmark(last, false)).await?,
            received = receiver.recv() => match received {
                Ok(event) if event.revision > last => {
                    last = event.revision;
                    if let Some(line) = plan.covers(&event).then(|| plan.change(&event)).flatten() {
                        send(sender, line).await?;
                    }
                }
                Ok(_) => {}
                // Too slow for the live feed: carry on from the history, as a real API
                // server's watch cache serves a watcher that fell behind. Past the history
                // the stream ends; the client's re-watch then gets 410 and relists.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let namespace = plan.namespace.as_deref();
                    let Ok((missed, fresh)) = plan.api.store.watch_from(&plan.key, namespace, last)
                    else {
                        return Ok(());
                    };
                    receiver = fresh;
                    last = replay(&plan, missed, last, sender).await?;
                }
                // The store is gone.
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}

/// Sends the changes a watch missed after `revision`; returns the last one's revision.
async fn replay(
    plan: &Plan,
    missed: Vec<Arc<Event>>,
    revision: u64,
    sender: &mpsc::Sender<Bytes>,
) -> Result<u64, Closed> {
    let mut last = revision;
    for event in missed {
        last = last.max(event.revision);
        if let Some(line) = plan.change(&event) {
            send(sender, line).await?;
        }
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_newline_delimited_events() {
        let bytes = line("ADDED", &json!({"a": 1}));
        assert_eq!(&bytes[..], b"{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n");
        let parsed: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(parsed["type"], "ADDED");
    }
}
