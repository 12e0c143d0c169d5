//! Validation of objects written through the API: what a real API server refuses with
//! 422 Invalid, naming the field (names by each type's rule, pod templates, Deployment
//! selectors, Services' types and ports, pull policies, the body's apiVersion and kind
//! against the URL), and with 400 (quantities that do not parse; with
//! `fieldValidation=Strict`, fields the type does not have).
//!
//! Pure: an object and its target in, an error or warnings out.

use super::{Target, structural};
use crate::errors::ApiError;
use crate::resources::{FieldPath, NameRule};
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

/// The whole object's checks. Quantities come first: the real server parses them while
/// decoding the body, before any validation runs, so a bad one is the error a client sees.
pub fn object(target: &Target, object: &Value) -> Result<(), ApiError> {
    quantities(target, object)?;
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
    annotations(object, &invalid)?;
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
    if let Some((field, problem)) = target
        .resource
        .schema
        .as_ref()
        .and_then(|schema| structural::check(schema, object).invalid)
    {
        return Err(invalid(&field, &problem));
    }
    Ok(())
}

/// The most bytes an object's annotations may hold, keys and values together.
const ANNOTATIONS_MAX: usize = 256 * 1024;

/// Annotations over [`ANNOTATIONS_MAX`] are refused, as etcd's value limit makes the API
/// server refuse them; kubectl's client-side apply copies a whole object into one, so a big
/// CRD (Argo CD's `ApplicationSet`) can only be applied server-side.
fn annotations(object: &Value, invalid: &impl Fn(&str, &str) -> ApiError) -> Result<(), ApiError> {
    let size: usize = object["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| key.len() + value.as_str().map_or(0, str::len))
        .sum();
    if size > ANNOTATIONS_MAX {
        return Err(invalid(
            "metadata.annotations",
            &format!("Too long: may not be more than {ANNOTATIONS_MAX} bytes"),
        ));
    }
    Ok(())
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
    const SUFFIXES: [&str; 16] = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
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

/// The paths of the keys a JSON body holds twice in one object (`spec.replicas`), which
/// decoding into a `Value` would hide (the last one wins); none for a body that is not JSON.
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut decoder = serde_json::Deserializer::from_slice(body);
    let walk = Walk {
        path: String::new(),
        found: &mut found,
    };
    if serde::de::DeserializeSeed::deserialize(walk, &mut decoder).is_err() {
        return Vec::new();
    }
    found
}

/// Walks a JSON document, noting duplicate keys with their paths.
struct Walk<'a> {
    path: String,
    found: &'a mut Vec<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, decoder: D) -> Result<(), D::Error> {
        decoder.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let found = self.found;
        for index in 0.. {
            let path = format!("{}[{index}]", self.path);
            if items
                .next_element_seed(Walk {
                    path,
                    found: &mut *found,
                })?
                .is_none()
            {
                break;
            }
        }
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        let found = self.found;
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = members.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !seen.insert(key) {
                found.push(path.clone());
            }
            members.next_value_seed(Walk {
                path,
                found: &mut *found,
            })?;
        }
        Ok(())
    }
}

/// Checks a built-in type's object against its typed schema: a value of the wrong type is
/// 400; fields the type does not have (and the `duplicates` of its body) are refused,
/// warned of (one warning text each) or ignored as `validation` asks, except those that
/// `passes`. Returns the warnings and the fields to drop: those accepted, as decoding drops
/// them on a real server. `applied` words them as server-side apply does.
pub fn fields(
    target: &Target,
    object: &Value,
    duplicates: &[String],
    validation: FieldValidation,
    applied: bool,
    passes: &dyn Fn(&FieldPath) -> bool,
) -> Result<(Vec<String>, Vec<FieldPath>), ApiError> {
    let mut unknown = match (&target.resource.typed, &target.resource.schema) {
        (Some(typed), _) => typed
            .unknown_fields(object)
            .map_err(|problem| undecodable(target, &problem))?,
        (None, Some(schema)) => structural::check(schema, object).unknown,
        (None, None) => return Ok((Vec::new(), Vec::new())),
    };
    unknown.retain(|path| !passes(path));
    let duplicated = duplicates
        .iter()
        .map(|path| format!("duplicate field {path:?}"));
    let problems: Vec<String> = duplicated
        .chain(unknown.iter().map(|path| {
            let path = path.to_string();
            if applied {
                format!(".{path}: field not declared in schema")
            } else {
                format!("unknown field {path:?}")
            }
        }))
        .collect();
    match validation {
        FieldValidation::Ignore => Ok((Vec::new(), unknown)),
        FieldValidation::Warn => Ok((problems, unknown)),
        FieldValidation::Strict if problems.is_empty() => Ok((Vec::new(), Vec::new())),
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
            resource: Registry::default()
                .all()
                .into_iter()
                .find(|r| r.group == group && r.plural == plural)
                .unwrap(),
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

    fn message(result: Result<(), ApiError>) -> String {
        result.unwrap_err().message
    }

    #[test]
    fn each_kind_names_its_objects_by_its_own_rule() {
        let named = |group: &str, plural: &str, name: &str| {
            object(
                &target(group, plural),
                &json!({"metadata": {"name": name}, "spec": {"ports": [{"port": 80}]}}),
            )
        };
        let rbac = "rbac.authorization.k8s.io";
        assert!(named(rbac, "clusterroles", "system:aggregated-metrics-reader").is_ok());
        assert!(named(rbac, "roles", "cert-manager:leaderelection").is_ok());
        assert!(message(named(rbac, "clusterroles", "a/b")).ends_with("may not contain '/'"));
        assert!(message(named("", "configmaps", "system:x")).contains("RFC 1123 subdomain"));
        assert!(named("", "configmaps", "a.b-c").is_ok());
        assert!(message(named("", "namespaces", "a.b")).contains("RFC 1123 label"));
        assert_eq!(
            message(named("", "services", "1web")),
            "Service \"1web\" is invalid: metadata.name: Invalid value: \"1web\": a DNS-1035 \
             label must consist of lower case alphanumeric characters or '-', start with an \
             alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or \
             'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        );
        let long = "a".repeat(53);
        assert!(
            message(named("batch", "cronjobs", &long))
                .ends_with("must be no more than 52 characters")
        );
    }

    #[test]
    fn annotations_over_256_kib_are_refused() {
        let configmaps = target("", "configmaps");
        let with = |bytes: usize| json!({"metadata": {"name": "big", "annotations": {"a": "x".repeat(bytes - 1)}}});
        assert!(object(&configmaps, &with(256 * 1024)).is_ok());
        let error = object(&configmaps, &with(256 * 1024 + 1)).unwrap_err();
        assert_eq!(field(&error), "metadata.annotations");
        assert!(
            message(Err(error)).ends_with("Too long: may not be more than 262144 bytes"),
            "the API server's words"
        );
    }

    #[test]
    fn services_need_a_known_type_and_ports() {
        let services = target("", "services");
        let service = |spec: Value| {
            object(
                &services,
                &json!({"metadata": {"name": "web"}, "spec": spec}),
            )
        };
        assert!(service(json!({"ports": [{"port": 80}]})).is_ok());
        assert!(service(json!({"type": "ExternalName", "externalName": "x.example.com"})).is_ok());
        assert!(service(json!({"clusterIP": "None"})).is_ok());
        assert_eq!(
            message(service(
                json!({"type": "LoadBalancr", "ports": [{"port": 80}]})
            )),
            "Service \"web\" is invalid: spec.type: Unsupported value: \"LoadBalancr\": \
             supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
        );
        assert_eq!(
            message(service(json!({"selector": {"app": "web"}}))),
            "Service \"web\" is invalid: spec.ports: Required value"
        );
    }

    #[test]
    fn quantities_and_pull_policies_must_be_known() {
        let pods = target("", "pods");
        let pod = |container: Value| {
            let mut full = json!({"name": "app", "image": "nginx"});
            full.as_object_mut()
                .unwrap()
                .extend(container.as_object().unwrap().clone());
            object(
                &pods,
                &json!({"metadata": {"name": "p"}, "spec": {"containers": [full]}}),
            )
        };
        for good in ["1Gi", "500m", "1e3", "0.5", "+2", "1.5E"] {
            assert!(
                pod(json!({"resources": {"limits": {"memory": good}}})).is_ok(),
                "{good}"
            );
        }
        assert!(pod(json!({"resources": {"requests": {"cpu": 2}}})).is_ok());
        let error = pod(json!({"resources": {"limits": {"memory": "1Gib"}}})).unwrap_err();
        assert_eq!(error.code, 400);
        assert!(
            error.message.starts_with(
                "Pod in version \"v1\" cannot be handled as a Pod: quantities must match"
            ),
            "{}",
            error.message
        );
        for bad in ["Gi", "1..2", "1e", "1Kb"] {
            assert!(
                pod(json!({"resources": {"limits": {"memory": bad}}})).is_err(),
                "{bad}"
            );
        }
        assert!(message(pod(json!({"imagePullPolicy": "Allways"}))).contains(
            "spec.containers[0].imagePullPolicy: Unsupported value: \"Allways\": supported values: \"Always\", \"IfNotPresent\", \"Never\""
        ));
        assert!(pod(json!({"imagePullPolicy": "Never"})).is_ok());
        let both =
            json!({"imagePullPolicy": "Allways", "resources": {"limits": {"memory": "1Gib"}}});
        assert_eq!(
            pod(both).unwrap_err().code,
            400,
            "decoding fails before validation"
        );
    }

    #[test]
    fn unknown_fields_are_refused_warned_of_or_ignored() {
        let deployments = target("apps", "deployments");
        let check = |object: &Value, duplicates: &[String], validation, applied| {
            fields(
                &deployments,
                object,
                duplicates,
                validation,
                applied,
                &|_| false,
            )
        };
        let typo = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"replica": 2, "selector": {}, "template": {"spec": {"containers": [{"name": "a", "image": "b", "colour": "red"}]}}}});
        let unknown = [
            "unknown field \"spec.replica\"",
            "unknown field \"spec.template.spec.containers[0].colour\"",
        ];
        let (mut warnings, dropped) = check(&typo, &[], FieldValidation::Warn, false).unwrap();
        warnings.sort();
        assert_eq!(warnings, unknown);
        assert_eq!(dropped.len(), 2);
        let (warnings, dropped) = check(&typo, &[], FieldValidation::Ignore, false).unwrap();
        assert!(warnings.is_empty());
        let mut ignored = typo.clone();
        for path in dropped {
            path.remove_from(&mut ignored);
        }
        assert_eq!(
            ignored["spec"].get("replica"),
            None,
            "an ignored field is dropped"
        );
        let container = &ignored["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            (container.get("colour"), &container["name"]),
            (None, &json!("a"))
        );
        let error = check(&typo, &[], FieldValidation::Strict, false).unwrap_err();
        assert_eq!(error.code, 400);
        assert!(error.message.starts_with("Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field"), "{}", error.message);
        assert!(
            unknown.iter().all(|u| error.message.contains(u)),
            "{}",
            error.message
        );
        let error = check(&typo, &[], FieldValidation::Strict, true).unwrap_err();
        assert!(
            error
                .message
                .contains(".spec.replica: field not declared in schema"),
            "{}",
            error.message
        );
        // What the existing object already holds is not the request's doing.
        let passing = fields(
            &deployments,
            &typo,
            &[],
            FieldValidation::Strict,
            false,
            &|p| p.to_string() == "spec.replica",
        );
        assert!(
            passing
                .unwrap_err()
                .message
                .ends_with("unknown field \"spec.template.spec.containers[0].colour\"")
        );
        assert_eq!(
            check(&ignored, &[], FieldValidation::Strict, false)
                .unwrap()
                .0
                .len(),
            0
        );
        // A value of the wrong type does not decode at all.
        ignored["spec"]["replicas"] = json!("two");
        assert_eq!(
            check(&ignored, &[], FieldValidation::Ignore, false)
                .unwrap_err()
                .code,
            400
        );
        let duplicates = duplicate_fields(
            br#"{"spec": {"replicas": 1, "replicas": 2, "x": [{"a": 1, "a": 2}]}}"#,
        );
        assert_eq!(duplicates, ["spec.replicas", "spec.x[0].a"]);
        let minimal =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
        let error = check(&minimal, &duplicates, FieldValidation::Strict, false).unwrap_err();
        assert!(error.message.ends_with("strict decoding error: duplicate field \"spec.replicas\", duplicate field \"spec.x[0].a\""), "{}", error.message);
        assert!(duplicate_fields(b"not json").is_empty());
        assert_eq!(FieldValidation::parse(Some("Bogus")).unwrap_err().code, 400);
        assert_eq!(FieldValidation::parse(None).unwrap(), FieldValidation::Warn);
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
