//! The one thing the view may ask of the cluster besides logs: promote or abort the selected
//! Argo Rollout (`P`, `A`), each confirmed with `y` first. The view stays read-only for
//! every other kind. This holds the question being asked, the request the event loop is to
//! send and the answer it brought back; the patches themselves are `crate::rollouts`'.

use crate::model::ObjectKey;
use crate::rollouts::Operation;

/// An operation on one Rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub operation: Operation,
    pub rollout: ObjectKey,
}

/// The command line of the view: a question, a request on its way, or the last answer.
#[derive(Debug, Default)]
pub struct Command {
    /// Asked, waiting for `y` or `n`.
    asking: Option<Request>,
    /// Confirmed, not yet taken by the event loop.
    ready: Option<Request>,
    /// Sent, the answer not back yet.
    sending: bool,
    /// The last answer (or refusal), for the footer.
    notice: Option<String>,
}

impl Command {
    /// The question on screen, if any: keys go to it.
    pub fn asking(&self) -> Option<&Request> {
        self.asking.as_ref()
    }

    /// The last answer (or refusal), until dismissed.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Esc: the answer has been read. Returns whether there was one.
    pub(super) fn dismiss(&mut self) -> bool {
        self.notice.take().is_some()
    }

    /// `P` or `A` on the selected row: a question when it is a Rollout, a notice otherwise.
    pub(super) fn ask(&mut self, operation: Operation, rollout: Option<ObjectKey>) -> bool {
        self.notice = if self.sending {
            Some(format!("{operation}: the last request is still on its way"))
        } else if let Some(rollout) = rollout {
            self.asking = Some(Request { operation, rollout });
            None
        } else {
            Some(format!(
                "{operation}: select an Argo Rollout first (the view is read-only otherwise)"
            ))
        };
        true
    }

    /// The answer to the question: `y` readies the request for the event loop.
    pub(super) fn answer(&mut self, yes: bool) -> bool {
        let Some(request) = self.asking.take() else {
            return false;
        };
        if yes {
            self.notice = Some(format!(
                "{} rollout {}…",
                request.operation, request.rollout.name
            ));
            self.ready = Some(request);
        } else {
            self.notice = Some(format!("{} cancelled", request.operation));
        }
        true
    }

    /// The confirmed request, once: the event loop sends it.
    pub fn take(&mut self) -> Option<Request> {
        let request = self.ready.take()?;
        self.sending = true;
        Some(request)
    }

    /// What the cluster answered.
    pub(super) fn done(&mut self, answer: Result<String, String>) -> bool {
        self.sending = false;
        self.notice = Some(answer.unwrap_or_else(|error| error));
        true
    }
}
