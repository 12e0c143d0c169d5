//! The roots `apply` holds back (objects a webhook of the same batch intercepts), applied
//! while tracking runs: what they wait for goes into the front end's stream as rows in
//! their place (`Diff::Held`), so the view, the plain lines and the JSON report show it and
//! the tracker decides nothing while one is held; a refusal ends tracking like a watch the
//! server refuses (exit 4).
//!
//! It glues [`Later`] to the watch's channel; the waiting and applying are `apply`'s.

use crate::apply::later::{Later, Step};
use crate::apply::{Applied, ApplyError, Progress};
use crate::cluster::ApiError;
use crate::model::{Diff, TrackedObject};
use crate::status::Status;
use crate::watch::Update;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The held objects being waited for and applied; dropping it stops them.
pub struct Running {
    task: JoinHandle<()>,
    /// What it has applied so far.
    done: Arc<Mutex<Progress>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// Stops (whatever is still held stays unapplied) and returns `before` with what was
    /// applied since, for the report.
    pub fn stop(self, before: &Progress) -> Progress {
        self.task.abort();
        let done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all = before.clone();
        all.applied.extend(done.applied.iter().cloned());
        all.warnings.extend(done.warnings.iter().cloned());
        all
    }
}

/// Starts applying `later`'s objects, their rows sent on `feed` (the watch's channel).
pub fn start(later: Later, feed: Option<mpsc::Sender<Update>>) -> Running {
    let done = Arc::new(Mutex::new(Progress::default()));
    let record = Arc::clone(&done);
    let task = tokio::spawn(async move {
        let Some(feed) = feed else {
            return;
        };
        // Rows go out in order through an unbounded queue: `Later` tells them from a
        // synchronous callback.
        let (rows, mut queued) = mpsc::unbounded_channel::<Diff>();
        let forward = {
            let feed = feed.clone();
            async move {
                while let Some(diff) = queued.recv().await {
                    if feed.send(Update::Diffs(vec![diff])).await.is_err() {
                        return;
                    }
                }
            }
        };
        // The tracker's step timeout ends tracking, and with it this task.
        let apply = later.run(None, move |step| {
            let diff = match step {
                Step::Waiting(held, why) => Diff::Held(Box::new(waiting_row(&held, why))),
                Step::Applied(applied, warnings) => {
                    let diff = Diff::Released(applied.key.clone(), applied.action.to_string());
                    let mut done = record.lock().unwrap_or_else(PoisonError::into_inner);
                    done.warnings
                        .extend(warnings.into_iter().map(|text| crate::apply::Warning {
                            key: applied.key.clone(),
                            text,
                        }));
                    done.applied.push(*applied);
                    diff
                }
            };
            // The receiver lives as long as this task.
            let _ = rows.send(diff);
        });
        let (applied, ()) = tokio::join!(apply, forward);
        if let Err(error) = applied {
            let _ = feed.send(Update::Error(refusal(error))).await;
        }
    });
    Running { task, done }
}

/// The row of an object still held back, and why.
fn waiting_row(held: &Applied, why: String) -> TrackedObject {
    TrackedObject::root(
        held.key.clone(),
        held.api_version.clone(),
        String::new(),
        Status::InProgress,
        why,
    )
}

/// The refusal that stopped a held object, as tracking ends on it.
fn refusal(error: ApplyError) -> ApiError {
    match error {
        ApplyError::Object(object) => object.error,
        other => ApiError::Other {
            verb: "apply".to_owned(),
            resource: "a held object".to_owned(),
            reason: other.to_string(),
        },
    }
}
