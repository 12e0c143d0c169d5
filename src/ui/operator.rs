//! Where a confirmed promote or abort goes: the cluster in production, a recorder in tests.
//! The event loop sends at most one at a time and hands the answer back to the view.

use crate::ui::app::Request;
use futures::FutureExt;
use futures::future::BoxFuture;

/// Sends a confirmed [`Request`]; the answer (or the failure) is one line for the footer.
pub trait Operator {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<String, String>>;
}

/// The cluster, patched as `kubectl argo rollouts` does (`crate::rollouts`).
#[derive(Clone)]
pub struct ClusterOperator {
    client: kube::Client,
}

impl ClusterOperator {
    pub fn new(client: kube::Client) -> Self {
        ClusterOperator { client }
    }
}

impl Operator for ClusterOperator {
    fn send(&self, request: Request) -> BoxFuture<'static, Result<String, String>> {
        crate::rollouts::send(self.client.clone(), request.rollout, request.operation).boxed()
    }
}
