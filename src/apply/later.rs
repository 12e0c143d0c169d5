//! The objects of a batch that a webhook of the same batch intercepts: held back until the
//! webhook's Service has a ready endpoint (the API server refuses them before: "failed
//! calling webhook …"), then applied, while the rest of the batch is tracked — the
//! webhook's own Deployment has to roll out meanwhile.
//!
//! [`Later::run`] says what it waits for and what it applied through a callback; it never
//! prints and never ends on its own while a Service stays without endpoints: the caller
//! bounds it (the step timeout).

use super::webhooks::{ServiceRef, Webhook};
use super::{Applied, ApplyError, ApplyOptions, Batch, Progress};
use crate::cluster::Cluster;
use crate::manifest::Manifest;
use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use std::time::Duration;
use tokio::time::Instant;

/// How often, at first, a Service is asked for ready endpoints; the wait doubles up to
/// [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(2);

/// One held object: what it will be once applied, and the webhook it waits for.
struct Held {
    manifest: Manifest,
    /// As it will be applied (its action is told once it is).
    applied: Applied,
    webhook: Webhook,
}

/// The objects held back, in apply order; empty when no webhook of the batch intercepts
/// anything.
pub struct Later {
    cluster: Cluster,
    options: ApplyOptions,
    held: Vec<Held>,
}

/// What happens to a held object.
#[derive(Debug)]
pub enum Step {
    /// It waits (as it will be applied), and why: the webhook and its Service, or the API
    /// server's answer while the webhook cannot be called yet.
    Waiting(Box<Applied>, String),
    /// It was applied, with the server's warnings.
    Applied(Box<Applied>, Vec<String>),
}

impl Later {
    pub(super) fn new(cluster: &Cluster, options: &ApplyOptions) -> Self {
        Later {
            cluster: cluster.clone(),
            options: options.clone(),
            held: Vec::new(),
        }
    }

    pub(super) fn hold(&mut self, manifest: &Manifest, applied: Applied, webhook: Webhook) {
        self.held.push(Held {
            manifest: manifest.clone(),
            applied,
            webhook,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The held objects as they will be applied, to track them from the start.
    pub fn objects(&self) -> impl Iterator<Item = &Applied> {
        self.held.iter().map(|held| &held.applied)
    }

    /// Waits for each webhook's Service to have a ready endpoint, then applies the objects
    /// that wait for it (retrying while the API server still cannot call the webhook),
    /// telling `tell` each step. Ends when everything is applied, at the first refusal, or
    /// when `deadline` finds objects still waiting (`None`: the caller ends it).
    pub async fn run(
        self,
        deadline: Option<Instant>,
        mut tell: impl FnMut(Step) + Send,
    ) -> Result<(), ApplyError> {
        let mut waiting: Vec<Held> = self.held;
        let mut said = false;
        let mut delay = FIRST_POLL;
        let batch = Batch {
            cluster: &self.cluster,
            manifests: &[],
            options: &self.options,
            say: None,
        };
        loop {
            let mut ready = Vec::new();
            for service in services(&waiting) {
                if has_ready_endpoint(&self.cluster, service).await {
                    ready.push(service.clone());
                }
            }
            let (now, still): (Vec<Held>, Vec<Held>) = waiting
                .into_iter()
                .partition(|held| ready.contains(&held.webhook.service));
            waiting = still;
            if !said {
                for held in &waiting {
                    let what = Box::new(held.applied.clone());
                    tell(Step::Waiting(what, awaited(&held.webhook)));
                }
                said = true;
            }
            for held in now {
                let what = &held.applied;
                let mut last = String::new();
                // Once per answer of the server, not at every try.
                let mut waiting_on = |message: &str| {
                    if message != last {
                        message.clone_into(&mut last);
                        tell(Step::Waiting(
                            Box::new(what.clone()),
                            format!("retrying: {message}"),
                        ));
                    }
                };
                let sent = batch
                    .send_held(&held.manifest, what, deadline, &mut waiting_on)
                    .await?;
                let mut applied = held.applied;
                applied.action = sent.action;
                tell(Step::Applied(Box::new(applied), sent.warnings));
            }
            let Some(first) = waiting.first() else {
                break;
            };
            let wait = crate::cluster::jittered(delay, 0.2);
            // As retries do: no wait that would end past the deadline.
            if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                return Err(ApplyError::WebhookNotReady {
                    objects: waiting.iter().map(|h| h.applied.key.to_string()).collect(),
                    why: awaited(&first.webhook),
                });
            }
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(MAX_POLL);
        }
        Ok(())
    }

    /// Runs the held objects to the end without tracking (`--no-wait`), within the step
    /// timeout, recording what was applied in `progress`.
    pub async fn finish(self, progress: &mut Progress) -> Result<(), ApplyError> {
        let deadline = self.options.deadline;
        let say = progress.say;
        self.run(deadline, |step| match step {
            Step::Waiting(held, why) => {
                if let Some(say) = say {
                    say(&format!("{}  {why}", held.key));
                }
            }
            Step::Applied(applied, warnings) => {
                progress.warn(&applied.key, warnings);
                progress.applied.push(*applied);
            }
        })
        .await
    }
}

/// What a held object waits for, as the front ends show it.
fn awaited(webhook: &Webhook) -> String {
    let ServiceRef { namespace, name } = &webhook.service;
    format!(
        "waiting for webhook {}: Service {namespace}/{name} has no ready endpoints",
        webhook.name
    )
}

/// The Services `held` waits for, each once.
fn services(held: &[Held]) -> Vec<&ServiceRef> {
    let mut services: Vec<&ServiceRef> = Vec::new();
    for service in held.iter().map(|h| &h.webhook.service) {
        if !services.contains(&service) {
            services.push(service);
        }
    }
    services
}

/// Whether Service `service` has an endpoint ready to take the API server's call: in one
/// of its `EndpointSlices` (an endpoint whose `ready` is not false: unset means ready, as
/// the API says), or, on a cluster without `EndpointSlices`, in its Endpoints' addresses.
/// A failed read is "not yet": the next poll asks again.
async fn has_ready_endpoint(cluster: &Cluster, service: &ServiceRef) -> bool {
    let slices: Api<EndpointSlice> = Api::namespaced(cluster.client.clone(), &service.namespace);
    let selector = format!("kubernetes.io/service-name={}", service.name);
    match slices.list(&ListParams::default().labels(&selector)).await {
        Ok(list) if !list.items.is_empty() => list.items.iter().any(slice_ready),
        _ => {
            let endpoints: Api<Endpoints> =
                Api::namespaced(cluster.client.clone(), &service.namespace);
            matches!(endpoints.get_opt(&service.name).await, Ok(Some(e)) if endpoints_ready(&e))
        }
    }
}

fn slice_ready(slice: &EndpointSlice) -> bool {
    slice.endpoints.iter().flatten().any(|endpoint| {
        endpoint
            .conditions
            .as_ref()
            .and_then(|c| c.ready)
            .unwrap_or(true)
    })
}

fn endpoints_ready(endpoints: &Endpoints) -> bool {
    endpoints
        .subsets
        .iter()
        .flatten()
        .any(|subset| subset.addresses.as_ref().is_some_and(|a| !a.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_slice_is_ready_with_one_endpoint_not_unready() {
        let slice = |endpoints| -> EndpointSlice {
            serde_json::from_value(json!({"addressType": "IPv4", "metadata": {"name": "s"},
                                          "endpoints": endpoints}))
            .unwrap()
        };
        let ready = json!({"addresses": ["10.0.0.1"], "conditions": {"ready": true}});
        let unready = json!({"addresses": ["10.0.0.2"], "conditions": {"ready": false}});
        let unknown = json!({"addresses": ["10.0.0.3"]});
        assert!(slice_ready(&slice(json!([unready.clone(), ready]))));
        assert!(!slice_ready(&slice(json!([unready]))));
        assert!(slice_ready(&slice(json!([unknown]))));
        assert!(!slice_ready(&slice(json!([]))));
    }

    #[test]
    fn endpoints_are_ready_with_an_address_not_a_not_ready_one() {
        let endpoints = |subsets| -> Endpoints {
            serde_json::from_value(json!({"metadata": {"name": "e"}, "subsets": subsets})).unwrap()
        };
        assert!(endpoints_ready(&endpoints(
            json!([{"addresses": [{"ip": "10.0.0.1"}]}])
        )));
        assert!(!endpoints_ready(&endpoints(
            json!([{"notReadyAddresses": [{"ip": "10.0.0.1"}]}])
        )));
    }
}
