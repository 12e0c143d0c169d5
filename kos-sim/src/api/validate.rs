//! Validation of objects written through the API: what a real API server refuses with
//! 422 Invalid, naming the field (names by each type's rule, pod templates, Deployment
//! selectors, Services' types and ports, pull policies, the body's apiVersion and kind
//! against the URL), and with 400 (quantities that do not parse; with
//! `fieldValidation=Strict`, fields the type does not have).
//!
//! Pure: an object and its target in, an error or warnings out.

use super::Target;
use crate::errors::ApiError;
use crate::resources::NameRule;
use serde_json::Value;

/// The longest RFC 1123 label.
const LABEL_MAX: usize = 63;

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

/// Why `name` breaks `rule`, in the API server's words; `None` when it is valid.
pub fn name_problem(rule: NameRule, name: &str) -> Option<String> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let label = |text: &str| {
        text.starts_with(alnum)
            && text.ends_with(alnum)
            && text.chars().all(|c| alnum(c) || c == '-')
    };
    let too_long =
        |max: usize| (name.len() > max).then(|| format!("must be no more than {max} characters"));
    match rule {
        NameRule::Subdomain(max) => too_long(max).or_else(|| {
            (!name.split('.').all(label)).then(|| {
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
                 characters, '-' or '.', and must start and end with an alphanumeric character \
                 (e.g. 'example.com', regex used for validation is \
                 '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                    .to_owned()
            })
        }),
        NameRule::Label => too_long(LABEL_MAX).or_else(|| {
            (!label(name)).then(|| {
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters \
                 or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  \
                 or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                    .to_owned()
            })
        }),
        NameRule::Rfc1035Label => too_long(LABEL_MAX).or_else(|| {
            (!(label(name) && name.starts_with(|c: char| c.is_ascii_lowercase()))).then(|| {
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
                 start with an alphabetic character, and end with an alphanumeric character \
                 (e.g. 'my-name',  or 'abc-123', regex used for validation is \
                 '[a-z]([-a-z0-9]*[a-z0-9])?')"
                    .to_owned()
            })
        }),
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                return Some(format!("may not be '{name}'"));
            }
            ["/", "%"]
                .iter()
                .find(|bad| name.contains(*bad))
                .map(|bad| format!("may not contain '{bad}'"))
        }
    }
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
    if let Some(problem) = (!name.is_empty())
        .then(|| name_problem(target.resource.names, name))
        .flatten()
    {
        return Err(invalid(
            "metadata.name",
            &format!("Invalid value: {name:?}: {problem}"),
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
    if target.resource.key() == "services" {
        service(object, &invalid)?;
    }
    quantities(target, object)
}

/// Whether `value` is one of `supported`, worded as the API server words it when not.
fn one_of(value: &str, supported: &[&str]) -> Result<(), String> {
    if supported.contains(&value) {
        return Ok(());
    }
    let listed: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
    Err(format!(
        "Unsupported value: {value:?}: supported values: {}",
        listed.join(", ")
    ))
}

fn service(object: &Value, invalid: &impl Fn(&str, &str) -> ApiError) -> Result<(), ApiError> {
    let spec = &object["spec"];
    let kind = spec["type"].as_str();
    if let Some(kind) = kind {
        one_of(
            kind,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )
        .map_err(|problem| invalid("spec.type", &problem))?;
    }
    let headless = spec["clusterIP"].as_str() == Some("None");
    let no_ports = spec["ports"].as_array().is_none_or(Vec::is_empty);
    if no_ports && !headless && kind != Some("ExternalName") {
        return Err(invalid("spec.ports", "Required value"));
    }
    Ok(())
}

/// The lists of containers in a pod spec.
const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// The maps of quantities an object of `target` holds: (field path, map).
fn quantity_maps<'a>(target: &Target, object: &'a Value) -> Vec<(String, &'a Value)> {
    let mut maps = Vec::new();
    if let Some((pointer, field)) = pod_spec_path(&target.resource.kind) {
        for list in CONTAINER_LISTS {
            let containers = object
                .pointer(&format!("{pointer}/{list}"))
                .and_then(Value::as_array);
            for (index, container) in containers.into_iter().flatten().enumerate() {
                for part in ["limits", "requests"] {
                    maps.push((
                        format!("{field}.{list}[{index}].resources.{part}"),
                        &container["resources"][part],
                    ));
                }
            }
        }
    }
    match target.resource.key().as_str() {
        "persistentvolumeclaims" => {
            for part in ["limits", "requests"] {
                maps.push((
                    format!("spec.resources.{part}"),
                    &object["spec"]["resources"][part],
                ));
            }
        }
        "resourcequotas" => maps.push(("spec.hard".to_owned(), &object["spec"]["hard"])),
        _ => {}
    }
    maps
}

/// Every quantity must parse, or the object cannot be decoded at all (400).
fn quantities(target: &Target, object: &Value) -> Result<(), ApiError> {
    for (_, map) in quantity_maps(target, object) {
        for value in map.as_object().into_iter().flat_map(|m| m.values()) {
            if !value.is_number() && !value.as_str().is_some_and(is_quantity) {
                return Err(undecodable(
                    target,
                    "quantities must match the regular expression \
                     '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                ));
            }
        }
    }
    Ok(())
}

/// A Kubernetes quantity: a decimal number and a binary (`Ki`…`Ei`) or decimal (`n`…`E`)
/// suffix, or a decimal exponent (`1e3`).
fn is_quantity(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let split = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(split);
    let number_ok = number.chars().any(|c| c.is_ascii_digit()) && number.matches('.').count() <= 1;
    let exponent = |s: &str| {
        s.strip_prefix(['e', 'E']).is_some_and(|e| {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        })
    };
    const SUFFIXES: [&str; 16] = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    number_ok && (SUFFIXES.contains(&suffix) || exponent(suffix))
}

/// 400 for an object the server cannot decode as its type.
fn undecodable(target: &Target, problem: &str) -> ApiError {
    let kind = &target.resource.kind;
    ApiError::bad_request(format!(
        "{kind} in version {:?} cannot be handled as a {kind}: {problem}",
        target.resource.version
    ))
}

/// What `fieldValidation` asks of fields the type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse the request (400), naming each field.
    Strict,
    /// Accept it with a `Warning` header per field (the server's default).
    Warn,
    /// Accept it silently.
    Ignore,
}

impl FieldValidation {
    /// The request's `fieldValidation` parameter; 400 for a value the server does not know.
    pub fn parse(value: Option<&str>) -> Result<FieldValidation, ApiError> {
        match value {
            None | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}. Valid values are: Strict, Warn, Ignore"
            ))),
        }
    }
}

/// Checks a built-in type's object against its typed schema: a value of the wrong type is
/// 400; fields the type does not have are refused, warned of (returned: one warning text
/// each) or ignored as `validation` asks. `applied` words them as server-side apply does.
pub fn fields(
    target: &Target,
    object: &Value,
    validation: FieldValidation,
    applied: bool,
) -> Result<Vec<String>, ApiError> {
    let Some(typed) = target.resource.typed else {
        return Ok(Vec::new());
    };
    let unknown = typed
        .unknown_fields(object)
        .map_err(|problem| undecodable(target, &problem))?;
    let problems: Vec<String> = unknown
        .iter()
        .map(|path| {
            if applied {
                format!(".{path}: field not declared in schema")
            } else {
                format!("unknown field {path:?}")
            }
        })
        .collect();
    match validation {
        FieldValidation::Ignore => Ok(Vec::new()),
        FieldValidation::Warn => Ok(problems),
        FieldValidation::Strict if problems.is_empty() => Ok(Vec::new()),
        FieldValidation::Strict if applied => Err(ApiError::bad_request(format!(
            "failed to create typed patch object ({}/{}; {}, Kind={}): {}",
            target.namespace,
            name_of(object),
            target.resource.api_version(),
            target.resource.kind,
            problems.join("\n")
        ))),
        FieldValidation::Strict => Err(undecodable(
            target,
            &format!("strict decoding error: {}", problems.join(", ")),
        )),
    }
}

/// Whether a pod spec's containers ask for a pull policy the server knows.
fn pull_policies(
    pointer: &str,
    field: &str,
    object: &Value,
    invalid: &impl Fn(&str, &str) -> ApiError,
) -> Result<(), ApiError> {
    for list in CONTAINER_LISTS {
        let containers = object
            .pointer(&format!("{pointer}/{list}"))
            .and_then(Value::as_array);
        for (index, container) in containers.into_iter().flatten().enumerate() {
            if let Some(policy) = container["imagePullPolicy"].as_str() {
                one_of(policy, &["Always", "IfNotPresent", "Never"]).map_err(|problem| {
                    invalid(
                        &format!("{field}.{list}[{index}].imagePullPolicy"),
                        &problem,
                    )
                })?;
            }
        }
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
    pull_policies(pointer, field, object, invalid)
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
