//! The TTL-after-finished controller: a Job with `ttlSecondsAfterFinished` is deleted that
//! many simulated seconds after it finished (`Complete` or `Failed`). It deletes as the real
//! controller does, in the foreground: the Job stays, terminating, until garbage
//! collection has removed its pods. It writes no Events (neither does the real one).

use crate::controllers::gc;
use crate::controllers::job::finished;
use crate::controllers::objects::{terminating, uid};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::store::Object;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// When each Job (by uid) was first seen finished: the start of its time to live. The
/// Job's own `completionTime` is whole seconds, too coarse at a high `--speed`.
#[derive(Default)]
pub struct TtlAfterFinished {
    finished: HashMap<String, Instant>,
}

impl Controller for TtlAfterFinished {
    const PRIMARY: &'static str = "jobs.batch";
    const CHILD: Option<&'static str> = None;

    fn reconcile(&mut self, ctx: &Ctx, job: &Object, _: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        let ttl = job
            .pointer("/spec/ttlSecondsAfterFinished")
            .and_then(Value::as_u64);
        let Some(ttl) = ttl else {
            return outcome;
        };
        if terminating(job) || !finished(job) {
            return outcome;
        }
        let since = *self
            .finished
            .entry(uid(job).to_owned())
            .or_insert_with(Instant::now);
        let ttl = ctx.clock.real(Duration::from_secs(ttl));
        let elapsed = since.elapsed();
        if elapsed < ttl {
            outcome.requeue(ttl.saturating_sub(elapsed).mul_f64(ctx.clock.speed()));
        } else {
            gc::delete_in_foreground(ctx, Self::PRIMARY, job);
        }
        outcome
    }

    fn forget(&mut self, job: &Object) {
        self.finished.remove(uid(job));
    }
}
