//! Bounds on what kos reads from an API server, as a layer of the kube client's service
//! stack: every reply passes through it, whichever API call made the request.
//!
//! kube-client reads a reply's whole body into memory before it decodes it, and splits watch
//! streams into lines of any length; a server (or a proxy before it) that sends a 10 GB
//! body, an endless chunked one or a watch line that never ends would take all of kos's
//! memory, and one that never answers would hold kos past every timeout. Here:
//! - the response head must come within [`HEAD_TIMEOUT`];
//! - a reply read whole (everything but watches and followed logs) may hold at most
//!   [`MAX_BODY`] bytes ([`MAX_LOG`] for a log) — a `Content-Length` above it is refused before reading — and must
//!   be complete within [`BODY_DEADLINE`];
//! - an error reply is cut at [`MAX_ERROR_BODY`] (what is left is still quoted, bounded);
//! - a watch stream's lines (one event each) may hold at most [`MAX_LINE`] bytes.
//!
//! It bounds and times; wording the errors for people is the parent module's.

use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::{Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Layer, Service};

/// The most a reply read whole may hold. A list of 10 000 real pods is about 100 MB.
pub const MAX_BODY: u64 = 128 << 20;
/// The most a log read whole may hold (kos asks for less with `limitBytes`, which a server
/// may ignore).
pub const MAX_LOG: u64 = 8 << 20;
/// The most of an error reply that is read: a `Status` is a few hundred bytes.
pub const MAX_ERROR_BODY: usize = 64 << 10;
/// The most one watch event (one line of a watch stream) may hold. etcd stores objects of
/// at most 1.5 MiB.
pub const MAX_LINE: usize = 16 << 20;
/// How long the server may take to start its answer. The API server gives up on a request
/// after 60 s itself; webhooks are allowed 30 s at most.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a reply read whole may take to arrive, once its head has.
pub const BODY_DEADLINE: Duration = Duration::from_mins(1);

/// A bound kos keeps was passed.
#[derive(Debug, thiserror::Error)]
pub enum Exceeded {
    #[error("the reply is larger than {} MiB (Content-Length {})", .max >> 20, .length)]
    Declared { max: u64, length: u64 },
    #[error("the reply is larger than {} MiB", .0 >> 20)]
    Body(u64),
    #[error("a watch event is larger than {} MiB", MAX_LINE >> 20)]
    Line,
    #[error("the reply did not arrive within {}s", BODY_DEADLINE.as_secs())]
    Slow,
}

/// The server did not start its answer in time.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {}s", HEAD_TIMEOUT.as_secs())]
pub struct NoAnswer;

/// Whether `error` (or one of its causes) is a bound kos keeps: retrying gets the same.
pub fn exceeded(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<Exceeded>() {
            return true;
        }
        // An `io::Error` shows its inner error but names only that one's causes.
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && exceeded(inner)
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// The requests sent whose answer has not begun, by number: what a phase that runs out of
/// time names. Kept here, process-wide, because every request passes this layer while the
/// phases' deadlines are kept far from the client, in the commands.
static UNANSWERED: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(0);

/// `METHOD path` of the oldest request still waiting for the head of its answer.
pub fn oldest_unanswered() -> Option<String> {
    let unanswered = UNANSWERED.lock().unwrap_or_else(PoisonError::into_inner);
    unanswered.first().map(|(_, request)| request.clone())
}

/// A request in [`UNANSWERED`] for as long as this lives.
struct Unanswered(u64);

impl Unanswered {
    fn new<B>(request: &Request<B>) -> Unanswered {
        let number = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
        let line = format!("{} {}", request.method(), request.uri().path());
        UNANSWERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((number, line));
        Unanswered(number)
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        UNANSWERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(number, _)| *number != self.0);
    }
}

/// The layer for `kube::client::ClientBuilder::with_layer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitLayer;

impl<S> Layer<S> for LimitLayer {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Limited<S> {
        Limited { inner }
    }
}

/// The service [`LimitLayer`] wraps around the client's.
#[derive(Debug, Clone)]
pub struct Limited<S> {
    inner: S,
}

/// How a reply's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Read whole into memory by the client.
    Whole,
    /// A log read whole (not followed).
    Log,
    /// A watch: lines, for as long as the server sends them.
    Watch,
    /// A followed log: the reader bounds its lines itself.
    Follow,
}

impl Reading {
    fn of(uri: &hyper::Uri) -> Reading {
        let query = uri.query().unwrap_or_default();
        let has = |pair: &str| query.split('&').any(|p| p == pair);
        if has("watch=true") || has("watch=1") {
            Reading::Watch
        } else if uri.path().ends_with("/log") {
            if has("follow=true") {
                Reading::Follow
            } else {
                Reading::Log
            }
        } else {
            Reading::Whole
        }
    }
}

impl<S, ReqBody, B> Service<Request<ReqBody>> for Limited<S>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<LimitedBody<B>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let reading = Reading::of(request.uri());
        let unanswered = Unanswered::new(&request);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = tokio::time::timeout(HEAD_TIMEOUT, answer)
                .await
                .map_err(|_| NoAnswer)?
                .map_err(Into::into)?;
            drop(unanswered);
            let failed = response.status().is_client_error() || response.status().is_server_error();
            let bound = match (reading, failed) {
                (_, true) => Bound::Cut(MAX_ERROR_BODY as u64),
                (Reading::Whole | Reading::Log, false) => {
                    let max = if reading == Reading::Log {
                        MAX_LOG
                    } else {
                        MAX_BODY
                    };
                    if let Some(length) = declared_length(&response).filter(|l| *l > max) {
                        return Err(Exceeded::Declared { max, length }.into());
                    }
                    Bound::Whole(max)
                }
                (Reading::Watch, false) => Bound::Lines(MAX_LINE),
                (Reading::Follow, false) => Bound::None,
            };
            Ok(response.map(|body| LimitedBody::new(body, bound)))
        })
    }
}

fn declared_length<B>(response: &Response<B>) -> Option<u64> {
    response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[derive(Debug, Clone, Copy)]
enum Bound {
    /// At most this many bytes, else an error.
    Whole(u64),
    /// At most this many bytes; the rest is left unread.
    Cut(u64),
    /// Lines of at most this many bytes, else an error.
    Lines(usize),
    None,
}

/// A reply body that keeps its [`Bound`] and, when read whole, the [`BODY_DEADLINE`].
pub struct LimitedBody<B> {
    inner: B,
    bound: Bound,
    /// Bytes read so far (whole and cut bodies), or since the last line end (watches).
    count: u64,
    deadline: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl<B> LimitedBody<B> {
    fn new(inner: B, bound: Bound) -> Self {
        let deadline = matches!(bound, Bound::Whole(_) | Bound::Cut(_))
            .then(|| Box::pin(tokio::time::sleep_until(Instant::now() + BODY_DEADLINE)));
        LimitedBody {
            inner,
            bound,
            count: 0,
            deadline,
            done: false,
        }
    }

    /// Counts `data` against the bound: the frame to pass on (cut short for [`Bound::Cut`]),
    /// or the bound it passes.
    fn admit(&mut self, mut data: Bytes) -> Result<Bytes, Exceeded> {
        match self.bound {
            Bound::Whole(max) => {
                self.count += data.len() as u64;
                if self.count > max {
                    return Err(Exceeded::Body(max));
                }
            }
            Bound::Cut(max) => {
                let room = max.saturating_sub(self.count) as usize;
                if data.len() >= room {
                    data.truncate(room);
                    self.done = true;
                }
                self.count += data.len() as u64;
            }
            Bound::Lines(max) => {
                self.count = line_run(self.count, &data);
                if self.count > max as u64 {
                    return Err(Exceeded::Line);
                }
            }
            Bound::None => {}
        }
        Ok(data)
    }
}

/// How many bytes the current line holds after `data`, when `before` were in it already.
pub fn line_run(before: u64, data: &[u8]) -> u64 {
    match data.iter().rposition(|b| *b == b'\n') {
        Some(end) => (data.len() - end - 1) as u64,
        None => before + data.len() as u64,
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(deadline) = &mut this.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            this.done = true;
            return Poll::Ready(Some(Err(Exceeded::Slow.into())));
        }
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        let frame = match frame.into_data() {
            Ok(data) => match this.admit(data) {
                Ok(data) => Frame::data(data),
                Err(exceeded) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(exceeded.into())));
                }
            },
            Err(trailers) => trailers,
        };
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.done {
            return SizeHint::with_exact(0);
        }
        let inner = self.inner.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(0);
        if let (Some(upper), Bound::Cut(max)) = (inner.upper(), self.bound) {
            hint.set_upper(upper.min(max));
        } else if let Some(upper) = inner.upper() {
            hint.set_upper(upper);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    /// A body of the given chunks.
    struct Chunks(VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(self.0.pop_front().map(|c| Ok(Frame::data(c))))
        }
    }

    fn body(chunks: Vec<Vec<u8>>) -> Chunks {
        Chunks(chunks.into_iter().map(Bytes::from).collect())
    }

    /// Everything `body` yields, or its first error.
    async fn collect(mut body: LimitedBody<Chunks>) -> Result<Vec<u8>, BoxError> {
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            if let Ok(data) = frame?.into_data() {
                out.extend_from_slice(&data);
            }
        }
        Ok(out)
    }

    #[test]
    fn requests_are_read_by_what_they_ask_for() {
        let of = |uri: &str| Reading::of(&uri.parse().unwrap());
        assert_eq!(
            of("/api/v1/pods?watch=true&resourceVersion=1"),
            Reading::Watch
        );
        assert_eq!(
            of("/api/v1/namespaces/a/pods/p/log?follow=true"),
            Reading::Follow
        );
        assert_eq!(
            of("/api/v1/namespaces/a/pods/p/log?tailLines=10"),
            Reading::Log
        );
        assert_eq!(
            of("/api/v1/pods?fieldSelector=watch%3Dtrue"),
            Reading::Whole
        );
    }

    #[tokio::test]
    async fn a_watch_line_past_its_bound_ends_the_stream_with_an_error() {
        let long = vec![b'x'; 9];
        let chunks = vec![b"{}\n".to_vec(), long.clone(), long];
        let error = collect(LimitedBody::new(body(chunks), Bound::Lines(16)))
            .await
            .unwrap_err();
        assert!(exceeded(error.as_ref()), "{error}");
        let fine = vec![b"{}\n".repeat(4), vec![b'x'; 10], b"\n".to_vec()];
        assert!(
            collect(LimitedBody::new(body(fine), Bound::Lines(16)))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_error_body_is_cut_and_a_whole_one_refused_past_its_bound() {
        let chunks = vec![vec![b'e'; 40], vec![b'e'; 40]];
        let cut = LimitedBody::new(body(chunks.clone()), Bound::Cut(50));
        assert_eq!(collect(cut).await.unwrap().len(), 50);
        let whole = LimitedBody::new(body(chunks), Bound::Whole(50));
        let error = collect(whole).await.unwrap_err();
        assert!(exceeded(error.as_ref()), "{error}");
    }

    proptest! {
        #[test]
        fn line_runs_count_bytes_since_the_last_line_end(
            chunks in proptest::collection::vec(proptest::collection::vec(
                prop_oneof![Just(b'\n'), any::<u8>()], 0..50), 0..10)
        ) {
            let mut run = 0;
            for chunk in &chunks {
                run = line_run(run, chunk);
            }
            let all: Vec<u8> = chunks.concat();
            let expected = all.iter().rev().take_while(|b| **b != b'\n').count() as u64;
            prop_assert_eq!(run, expected);
        }
    }
}
