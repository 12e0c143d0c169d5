//! Container logs for the logs pane: one streaming request per [`LogRequest`], read from
//! the cluster's log API with `follow`, never polled.
//!
//! The event loop owns the stream and drops it (closing the request) when the user switches
//! container or instance or leaves the pane. Nothing here touches the view.

use crate::ui::app::LogRequest;
use futures::stream::{self, BoxStream};
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

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
            ..LogParams::default()
        };
        let pod = request.pod.clone();
        stream::once(async move { api.log_stream(&pod, &params).await })
            .flat_map(|opened| match opened {
                Ok(reader) => Box::pin(reader)
                    .lines()
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
