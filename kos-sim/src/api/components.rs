//! `componentstatuses` (`kubectl get cs`): the deprecated health of the control plane's
//! parts. Nothing is stored: the simulated scheduler, controller manager and etcd are part
//! of the server, so they are healthy whenever it answers. Every answer carries the
//! deprecation warning a real server sends.

use super::objects::{table, warned};
use super::{Call, json, wants_table};
use crate::errors::ApiError;
use crate::store::Object;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// The components, in the order a real server lists them.
const COMPONENTS: [&str; 3] = ["scheduler", "controller-manager", "etcd-0"];

const DEPRECATED: &str = "v1 ComponentStatus is deprecated in v1.19+";

/// One component's status, as the API server's probe of it reports a healthy one.
fn status(name: &str) -> Value {
    json!({
        "kind": "ComponentStatus",
        "apiVersion": "v1",
        "metadata": {"name": name},
        "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}],
    })
}

/// `GET` of one component or of them all (a Table when kubectl asks for one).
pub fn serve(api: &super::Api, call: &Call) -> Result<Response, ApiError> {
    let named = call.target.name.as_deref();
    if let Some(name) = named.filter(|name| !COMPONENTS.contains(name)) {
        return Err(
            ApiError::not_found(format!("componentstatuses \"{name}\" not found"))
                .with_details(json!({"name": name, "kind": "componentstatuses"})),
        );
    }
    let objects: Vec<Object> = COMPONENTS
        .iter()
        .filter(|c| named.is_none_or(|name| name == **c))
        .map(|c| Arc::new(status(c)))
        .collect();
    let body = if wants_table(&call.headers) {
        table(
            api,
            &call.target,
            &objects,
            call.params.get("includeObject"),
        )
    } else if named.is_some() {
        (*objects[0]).clone()
    } else {
        json!({
            "kind": "ComponentStatusList",
            "apiVersion": "v1",
            "metadata": {},
            "items": objects.iter().map(|o| (**o).clone()).collect::<Vec<_>>(),
        })
    };
    Ok(warned(
        json(StatusCode::OK, &body),
        &[DEPRECATED.to_owned()],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_component_is_healthy() {
        for name in COMPONENTS {
            let component = status(name);
            assert_eq!(component["metadata"]["name"], name);
            assert_eq!(
                component["conditions"][0],
                json!({"type": "Healthy", "status": "True", "message": "ok"})
            );
        }
    }
}
