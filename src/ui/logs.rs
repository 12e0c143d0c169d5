//! Container logs for the logs pane: one streaming request per [`LogRequest`], read from
//! the cluster's log API with `follow`, never polled.
//!
//! The event loop owns the stream and drops it (closing the request) when the user switches
//! container or instance or leaves the pane. Nothing here touches the view.

use crate::ui::app::{LogRequest, SaveRequest};
use futures::stream::{self, BoxStream};
use futures::{AsyncBufRead, AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

/// How much of one log line the pane keeps: an application may log megabytes without a
/// line end, and the pane holds thousands of lines.
pub const LINE_BYTES: usize = 4096;

/// How much of a previous (terminated) instance's log is read: what the client reads of a
/// log at most.
const PREVIOUS_BYTES: i64 = crate::cluster::limits::MAX_LOG as i64;

/// What a log stream yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    Line(String),
    /// The stream could not start or broke; the reason is for the user.
    Failed(String),
}

/// Where log lines come from: the cluster in production, a script in tests.
pub trait LogSource {
    /// Opens the stream for `request`; dropping it closes the request.
    fn open(&self, request: &LogRequest) -> BoxStream<'static, LogEvent>;
}

/// The stream of `request`: one container's, or with [`LogRequest::merged`] every named
/// pod's container's at once, lines taken as they come and prefixed with `[container]`, or
/// `[pod/container]` for another pod than the request's. One
/// container's log ending or failing is a line; the merged stream ends when all have.
pub fn open_merged(source: &dyn LogSource, request: &LogRequest) -> BoxStream<'static, LogEvent> {
    if request.merged.is_empty() {
        return source.open(request);
    }
    let streams = request.merged.iter().map(|(pod, container)| {
        let one = LogRequest {
            pod: pod.clone(),
            container: Some(container.clone()),
            merged: Vec::new(),
            ..request.clone()
        };
        let prefix = if *pod == request.pod {
            format!("[{container}] ")
        } else {
            format!("[{pod}/{container}] ")
        };
        source
            .open(&one)
            .map(move |event| match event {
                LogEvent::Line(line) => LogEvent::Line(format!("{prefix}{line}")),
                LogEvent::Failed(reason) => LogEvent::Line(format!("{prefix}— {reason}")),
            })
            .boxed()
    });
    stream::select_all(streams).boxed()
}

/// The cluster's pod log API.
#[derive(Clone)]
pub struct ClusterLogs {
    client: kube::Client,
}

impl ClusterLogs {
    pub fn new(client: kube::Client) -> Self {
        ClusterLogs { client }
    }
}

impl LogSource for ClusterLogs {
    fn open(&self, request: &LogRequest) -> BoxStream<'static, LogEvent> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &request.namespace);
        let params = LogParams {
            container: request.container.clone(),
            // A previous instance has terminated: there is nothing to follow.
            follow: !request.previous,
            previous: request.previous,
            timestamps: request.options.timestamps,
            since_seconds: request.options.since_seconds.map(i64::from),
            // A previous instance's log is read whole: the server stops there.
            limit_bytes: request.previous.then_some(PREVIOUS_BYTES),
            ..LogParams::default()
        };
        let pod = request.pod.clone();
        stream::once(async move { api.log_stream(&pod, &params).await })
            .flat_map(|opened| match opened {
                Ok(reader) => bounded_lines(Box::pin(reader), LINE_BYTES)
                    .map(|line| match line {
                        Ok(line) => LogEvent::Line(line),
                        Err(error) => LogEvent::Failed(format!("log stream broke: {error}")),
                    })
                    .boxed(),
                Err(error) => {
                    let reason = crate::cluster::describe(&error);
                    stream::once(async move { LogEvent::Failed(reason) }).boxed()
                }
            })
            .boxed()
    }
}

/// Writes `lines` to a new file in the request's directory, named after the pod, the
/// container and `now` (Unix seconds): the file's path, or why it could not be written.
/// An existing file is never overwritten.
pub fn save<'a>(
    request: &SaveRequest,
    lines: impl IntoIterator<Item = &'a String>,
    now: u64,
) -> Result<String, String> {
    let container = request.container.as_deref().unwrap_or("default");
    let path = request
        .dir
        .join(format!("kos-logs-{}-{container}-{now}.log", request.pod));
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
    let shown = path.display().to_string();
    written
        .map(|()| shown.clone())
        .map_err(|error| format!("cannot write {shown}: {error}"))
}

/// The lines of `reader`, each cut to `max` bytes with a note of what was left out: reading
/// never holds more than one cut line, however long the line the server sends.
pub fn bounded_lines<R>(
    reader: R,
    max: usize,
) -> impl futures::Stream<Item = std::io::Result<String>>
where
    R: AsyncBufRead + Unpin,
{
    stream::unfold(reader, move |mut reader| async move {
        match bounded_line(&mut reader, max).await {
            Ok(Some(line)) => Some((Ok(line), reader)),
            Ok(None) => None,
            Err(error) => Some((Err(error), reader)),
        }
    })
}

/// One line of at most `max` bytes (without its line end), or `None` at the end.
async fn bounded_line<R>(reader: &mut R, max: usize) -> std::io::Result<Option<String>>
where
    R: AsyncBufRead + Unpin,
{
    let mut line = Vec::new();
    let mut left_out = 0usize;
    let mut started = false;
    // Whether the last byte read, with no LF after it yet, was a CR: a line end's CR is not
    // part of the line, nor of what a cut leaves out, when the LF (or the end) comes next.
    let mut pending_cr = false;
    loop {
        let buf = reader.fill_buf().await?;
        let (take, ended) = match buf.iter().position(|b| *b == b'\n') {
            Some(end) => (end, true),
            None => (buf.len(), false),
        };
        if buf.is_empty() || (ended && take == 0) {
            if pending_cr {
                // A cut leaves out a suffix: the CR is in it, or it is the line's last byte.
                if left_out > 0 {
                    left_out -= 1;
                } else {
                    line.pop();
                }
            }
            reader.consume_unpin(usize::from(ended));
            return Ok((started || ended).then(|| finish(&line, left_out)));
        }
        started = true;
        let content = if ended && buf[..take].ends_with(b"\r") {
            take - 1
        } else {
            take
        };
        pending_cr = !ended && buf[take - 1] == b'\r';
        let kept = content.min(max - line.len());
        line.extend_from_slice(&buf[..kept]);
        left_out += content - kept;
        reader.consume_unpin(take + usize::from(ended));
        if ended {
            return Ok(Some(finish(&line, left_out)));
        }
    }
}

fn finish(line: &[u8], left_out: usize) -> String {
    let text = String::from_utf8_lossy(line);
    if left_out == 0 {
        text.into_owned()
    } else {
        format!("{text}… ({left_out} more bytes)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(bytes: &[u8], max: usize) -> Vec<String> {
        let reader = futures::io::Cursor::new(bytes.to_vec());
        futures::executor::block_on(bounded_lines(reader, max).map(Result::unwrap).collect())
    }

    #[test]
    fn a_cut_cr_before_the_end_is_a_line_end_not_a_left_out_byte() {
        assert_eq!(lines(b"abc\r", 3), ["abc"]);
        assert_eq!(lines(b"abcd\r\nx", 3), ["abc… (1 more bytes)", "x"]);
    }

    #[test]
    fn save_writes_a_new_file_and_never_overwrites_one() {
        let dir = tempfile::tempdir().unwrap();
        let request = SaveRequest {
            dir: dir.path().to_owned(),
            pod: "web-0".into(),
            container: Some("app".into()),
            attempt: 1,
        };
        let lines = ["one".to_owned(), "two".to_owned()];
        let path = save(&request, &lines, 1_700_000_000).unwrap();
        assert!(
            path.ends_with("kos-logs-web-0-app-1700000000.log"),
            "{path}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        let again = save(&request, &lines[..1], 1_700_000_000).unwrap_err();
        assert!(
            again.starts_with(&format!("cannot write {path}: ")),
            "{again}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }

    #[test]
    fn a_line_without_end_is_cut_and_the_next_one_kept() {
        let mut text = vec![b'x'; 100_000];
        text.extend_from_slice(b"\r\nnext\nlast");
        assert_eq!(
            lines(&text, 8),
            ["xxxxxxxx… (99992 more bytes)", "next", "last"]
        );
    }

    proptest! {
        #[test]
        fn lines_are_bounded_and_short_ones_come_out_as_written(
            text in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..400),
            max in 1usize..64
        ) {
            let out = lines(&text, max);
            let expected: Vec<&[u8]> = text
                .strip_suffix(b"\n").unwrap_or(&text)
                .split(|b| *b == b'\n')
                .collect();
            prop_assert_eq!(out.len(), if text.is_empty() { 0 } else { expected.len() });
            for (line, raw) in out.iter().zip(expected) {
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                if raw.len() <= max {
                    prop_assert_eq!(line, &String::from_utf8_lossy(raw));
                } else {
                    prop_assert!(line.len() <= max * 3 + 40);
                }
            }
        }
    }
}
