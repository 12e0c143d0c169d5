//! Validation of objects written through the API: what a real API server refuses with
//! 422 Invalid, naming the field (name, pod templates, Deployment selectors, the body's
//! apiVersion and kind against the URL).
//!
//! Pure: an object and its target in, an error out. Schemas are not checked: unknown
//! fields are accepted, as with `fieldValidation=Ignore`.

use super::Target;
use crate::errors::ApiError;
use serde_json::Value;

/// The longest name a DNS subdomain may have.
const MAX_NAME: usize = 253;

fn kind_label(target: &Target) -> String {
    if target.resource.group.is_empty() {
        target.resource.kind.clone()
    } else {
        format!("{}.{}", target.resource.kind, target.resource.group)
    }
}

fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// The body's apiVersion, kind and namespace must be those of the URL (when given).
pub fn body_matches(target: &Target, object: &Value) -> Result<(), ApiError> {
    let invalid = |field: &str, problem: String| {
        ApiError::invalid(&kind_label(target), name_of(object), field, &problem)
    };
    if let Some(api_version) = object["apiVersion"].as_str()
        && api_version != target.resource.api_version()
    {
        return Err(invalid(
            "apiVersion",
            format!(
                "Invalid value: {api_version:?}: must be {}",
                target.resource.api_version()
            ),
        ));
    }
    if let Some(kind) = object["kind"].as_str()
        && kind != target.resource.kind
    {
        return Err(invalid(
            "kind",
            format!("Invalid value: {kind:?}: must be {}", target.resource.kind),
        ));
    }
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
    if target.resource.namespaced && !namespace.is_empty() && namespace != target.namespace {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// A lowercase RFC 1123 subdomain, as object names must be.
fn valid_name(name: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    name.len() <= MAX_NAME
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && name.chars().all(|c| alnum(c) || c == '-' || c == '.')
}

/// Where a kind keeps its pod template's spec, as a JSON pointer and a field path.
fn pod_spec_path(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        "Pod" => Some(("/spec", "spec")),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
            Some(("/spec/template/spec", "spec.template.spec"))
        }
        "CronJob" => Some((
            "/spec/jobTemplate/spec/template/spec",
            "spec.jobTemplate.spec.template.spec",
        )),
        _ => None,
    }
}

/// The whole object's checks.
pub fn object(target: &Target, object: &Value) -> Result<(), ApiError> {
    let kind = kind_label(target);
    let name = name_of(object);
    let invalid = |field: &str, problem: &str| ApiError::invalid(&kind, name, field, problem);
    let generated = object["metadata"]["generateName"]
        .as_str()
        .is_some_and(|g| !g.is_empty());
    if name.is_empty() && !generated {
        return Err(invalid(
            "metadata.name",
            "Required value: name or generateName is required",
        ));
    }
    if !name.is_empty() && !valid_name(name) {
        return Err(invalid(
            "metadata.name",
            &format!(
                "Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower \
                 case alphanumeric characters, '-' or '.', and must start and end with an \
                 alphanumeric character"
            ),
        ));
    }
    if target.resource.group.is_empty()
        || target.resource.group == "apps"
        || target.resource.group == "batch"
    {
        pod_template(&target.resource.kind, object, &invalid)?;
    }
    if target.resource.kind == "Deployment" && target.resource.group == "apps" {
        selector(object, &invalid)?;
    }
    Ok(())
}

fn pod_template(
    kind: &str,
    object: &Value,
    invalid: &impl Fn(&str, &str) -> ApiError,
) -> Result<(), ApiError> {
    let Some((pointer, field)) = pod_spec_path(kind) else {
        return Ok(());
    };
    let containers = object
        .pointer(&format!("{pointer}/containers"))
        .and_then(Value::as_array);
    let Some(containers) = containers.filter(|c| !c.is_empty()) else {
        return Err(invalid(&format!("{field}.containers"), "Required value"));
    };
    for (index, container) in containers.iter().enumerate() {
        for required in ["name", "image"] {
            if container[required].as_str().is_none_or(str::is_empty) {
                return Err(invalid(
                    &format!("{field}.containers[{index}].{required}"),
                    "Required value",
                ));
            }
        }
    }
    Ok(())
}

fn selector(object: &Value, invalid: &impl Fn(&str, &str) -> ApiError) -> Result<(), ApiError> {
    let Some(match_labels) = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
    else {
        if object.pointer("/spec/selector/matchExpressions").is_some() {
            return Ok(());
        }
        return Err(invalid("spec.selector", "Required value"));
    };
    let labels = object.pointer("/spec/template/metadata/labels");
    let matches = match_labels
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
    if matches {
        Ok(())
    } else {
        Err(invalid(
            "spec.template.metadata.labels",
            &format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                labels.cloned().unwrap_or_default()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;
    use serde_json::json;

    fn target(group: &str, plural: &str) -> Target {
        Target {
            resource: Registry::default().find(group, "v1", plural).unwrap(),
            namespace: "ns".into(),
            in_namespace: true,
            name: None,
            subresource: None,
        }
    }

    fn field(error: &ApiError) -> String {
        error.details.as_ref().unwrap()["causes"][0]["field"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn names_must_be_present_and_valid() {
        let pods = target("", "configmaps");
        assert_eq!(
            field(&object(&pods, &json!({"metadata": {}})).unwrap_err()),
            "metadata.name"
        );
        assert_eq!(
            field(&object(&pods, &json!({"metadata": {"name": "Bad_Name"}})).unwrap_err()),
            "metadata.name"
        );
        assert!(object(&pods, &json!({"metadata": {"generateName": "x-"}})).is_ok());
    }

    #[test]
    fn deployments_need_containers_and_a_matching_selector() {
        let deployments = target("apps", "deployments");
        let mut web = json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}});
        assert!(object(&deployments, &web).is_ok());
        web["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
        assert_eq!(
            field(&object(&deployments, &web).unwrap_err()),
            "spec.template.spec.containers[0].image"
        );
        web["spec"]["template"]["spec"]["containers"] = json!([]);
        assert_eq!(
            field(&object(&deployments, &web).unwrap_err()),
            "spec.template.spec.containers"
        );
        web["spec"]["template"]["spec"]["containers"] = json!([{"name": "a", "image": "b"}]);
        web["spec"]["template"]["metadata"]["labels"]["app"] = json!("other");
        let error = object(&deployments, &web).unwrap_err();
        assert_eq!(field(&error), "spec.template.metadata.labels");
        assert!(
            error
                .message
                .starts_with("Deployment.apps \"web\" is invalid"),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_body_must_match_the_url() {
        let pods = target("", "pods");
        let error =
            body_matches(&pods, &json!({"apiVersion": "apps/v1", "kind": "Pod"})).unwrap_err();
        assert_eq!((error.code, field(&error).as_str()), (422, "apiVersion"));
        let error = body_matches(&pods, &json!({"kind": "Service"})).unwrap_err();
        assert_eq!(field(&error), "kind");
        let error = body_matches(&pods, &json!({"metadata": {"namespace": "other"}})).unwrap_err();
        assert_eq!(error.code, 400);
    }
}
