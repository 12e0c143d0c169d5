//! `Binding`: assigning a pod to a node, as a scheduler does, by `POST` of a Binding to
//! `/api/v1/namespaces/NS/bindings` or to the pod's `binding` subresource. Nothing is
//! stored but the pod's `spec.nodeName` (and the Binding's annotations, and the
//! `PodScheduled` condition), set only while the pod has no node, as the API server does.
//! The simulator's own scheduler binds pods itself, in the kubelet's part.

use super::objects::body;
use super::{Api, Call, json};
use crate::controllers::objects::{conditions_of, set_condition, str_at, terminating};
use crate::errors::ApiError;
use crate::store::{self, StoreError};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// A Binding's kind as the API server's validation names it.
const KIND: &str = "Binding";

/// Binds the pod the call's Binding names; `201` with a `Success` Status.
pub fn create(api: &Api, call: &Call) -> Result<Response, ApiError> {
    let binding = body(call)?;
    let pod = str_at(&binding, "/metadata/name");
    if call
        .target
        .name
        .as_deref()
        .is_some_and(|named| named != pod)
    {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Binding object",
        ));
    }
    let node = target_node(&binding)?;
    let mut refusal = None;
    let namespace = &call.target.namespace;
    let written = api.store.modify("pods", namespace, pod, |current| {
        match why_not_bindable(current) {
            Some(reason) => {
                refusal = Some(reason);
                // Only the refusal above is answered.
                Err(StoreError::Invalid(String::new()))
            }
            None => Ok(bound(current, node, &binding["metadata"]["annotations"])),
        }
    });
    match (written, refusal) {
        (Ok(_), _) => Ok(json(
            StatusCode::CREATED,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Success", "code": 201}),
        )),
        (Err(_), Some(reason)) => Err(ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on pods/binding \"{pod}\": {reason}"),
        )
        .with_details(json!({"name": pod, "kind": "pods/binding"}))),
        (Err(error), None) => Err(error.into()),
    }
}

/// The node a Binding targets; 422 as the API server's validation words it when it names
/// none, or names something other than a Node, or the Binding has no name.
fn target_node(binding: &Value) -> Result<&str, ApiError> {
    let name = str_at(binding, "/metadata/name");
    if name.is_empty() {
        return Err(ApiError::invalid(
            KIND,
            name,
            "metadata.name",
            "Required value: name or generateName is required",
        ));
    }
    let kind = str_at(binding, "/target/kind");
    if !kind.is_empty() && kind != "Node" {
        let problem =
            format!("Unsupported value: \"{kind}\": supported values: \"Node\", \"<empty>\"");
        return Err(ApiError::invalid(KIND, name, "target.kind", &problem));
    }
    match str_at(binding, "/target/name") {
        "" => Err(ApiError::invalid(
            KIND,
            name,
            "target.name",
            "Required value",
        )),
        node => Ok(node),
    }
}

/// Why the API server would not bind `pod`, in its words: it is going away, or it has a
/// node already.
fn why_not_bindable(pod: &Value) -> Option<String> {
    let name = str_at(pod, "/metadata/name");
    let node = str_at(pod, "/spec/nodeName");
    if terminating(pod) {
        Some(format!(
            "pod {name} is being deleted, cannot be assigned to a host"
        ))
    } else if !node.is_empty() {
        Some(format!("pod {name} is already assigned to node \"{node}\""))
    } else {
        None
    }
}

/// `pod` bound to `node`: its node name, the Binding's annotations and `PodScheduled`.
fn bound(pod: &Value, node: &str, annotations: &Value) -> Value {
    let mut next = pod.clone();
    next["spec"]["nodeName"] = json!(node);
    if let Some(annotations) = annotations.as_object() {
        for (key, value) in annotations {
            next["metadata"]["annotations"][key] = value.clone();
        }
    }
    let mut conditions = conditions_of(pod);
    set_condition(
        &mut conditions,
        json!({"type": "PodScheduled", "status": "True"}),
        &store::now(),
    );
    next["status"]["conditions"] = json!(conditions);
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(name: &str, target: Value) -> Value {
        let mut binding =
            json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}});
        binding["target"] = target;
        binding
    }

    #[test]
    fn a_binding_must_name_a_node() {
        let node = binding("web", json!({"kind": "Node", "name": "node-1"}));
        assert_eq!(target_node(&node).unwrap(), "node-1");
        let bare = binding("web", json!({"name": "node-1"}));
        assert_eq!(target_node(&bare).unwrap(), "node-1");
        let unnamed = target_node(&binding("web", json!({"kind": "Node"}))).unwrap_err();
        assert_eq!(
            (unnamed.code, unnamed.message.as_str()),
            (
                422,
                "Binding \"web\" is invalid: target.name: Required value"
            )
        );
        let pod = target_node(&binding("web", json!({"kind": "Pod", "name": "x"}))).unwrap_err();
        assert_eq!(
            pod.message,
            "Binding \"web\" is invalid: target.kind: Unsupported value: \"Pod\": supported \
             values: \"Node\", \"<empty>\""
        );
        let nameless = target_node(&binding("", json!({"name": "node-1"}))).unwrap_err();
        assert_eq!(nameless.code, 422);
    }

    #[test]
    fn only_a_pod_without_a_node_is_bound() {
        let pending = json!({"metadata": {"name": "web", "annotations": {"a": "1"}},
                             "spec": {"containers": []},
                             "status": {"conditions": [{"type": "PodScheduled", "status": "False",
                                                         "reason": "Unschedulable"}]}});
        assert_eq!(why_not_bindable(&pending), None);
        let next = bound(&pending, "node-2", &json!({"b": "2"}));
        assert_eq!(next["spec"]["nodeName"], "node-2");
        assert_eq!(next["metadata"]["annotations"], json!({"a": "1", "b": "2"}));
        let scheduled = &next["status"]["conditions"][0];
        assert_eq!(
            (&scheduled["type"], &scheduled["status"]),
            (&json!("PodScheduled"), &json!("True"))
        );
        assert_eq!(
            why_not_bindable(&next).unwrap(),
            "pod web is already assigned to node \"node-2\""
        );
        let mut leaving = pending.clone();
        leaving["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert_eq!(
            why_not_bindable(&leaving).unwrap(),
            "pod web is being deleted, cannot be assigned to a host"
        );
    }
}
