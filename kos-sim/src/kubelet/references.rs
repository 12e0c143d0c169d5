//! What a kubelet checks before it can start a pod's containers, from the pod and the
//! objects it names: image references that do not parse (`InvalidImageName`), ConfigMaps
//! and Secrets named by `envFrom`/`env[].valueFrom` that are missing
//! (`CreateContainerConfigError`), and configMap/secret volumes whose object is missing
//! (`FailedMount`). The messages are the real kubelet's.
//!
//! Pure: the objects are looked up through the function the caller passes; nothing here
//! waits, writes or records Events (the pod task does).

use crate::store::Object;
use serde_json::Value;

/// Looks up an object of the pod's namespace by resource (`configmaps`, `secrets`) and name.
pub trait Find: Fn(&str, &str) -> Option<Object> {}
impl<F: Fn(&str, &str) -> Option<Object>> Find for F {}

/// How a kind is named in the kubelet's messages: `configmap "x" not found`, and
/// `couldn't find key k in ConfigMap ns/x`.
fn words(resource: &str) -> (&'static str, &'static str) {
    if resource == "secrets" {
        ("secret", "Secret")
    } else {
        ("configmap", "ConfigMap")
    }
}

fn not_found(resource: &str, name: &str) -> String {
    format!("{} \"{name}\" not found", words(resource).0)
}

fn optional(reference: &Value) -> bool {
    reference["optional"].as_bool() == Some(true)
}

/// Whether the ConfigMap or Secret holds `key` (in `data`, `binaryData` or `stringData`).
fn has_key(object: &Value, key: &str) -> bool {
    ["data", "binaryData", "stringData"]
        .iter()
        .any(|field| object[*field].get(key).is_some())
}

/// Why the kubelet cannot make `container`'s configuration (its environment), if it
/// cannot: the message of `CreateContainerConfigError`.
pub fn config_error(container: &Value, namespace: &str, find: &impl Find) -> Option<String> {
    let sources = container["envFrom"].as_array().into_iter().flatten();
    for source in sources {
        for (field, resource) in [("configMapRef", "configmaps"), ("secretRef", "secrets")] {
            let reference = &source[field];
            let Some(name) = reference["name"].as_str() else {
                continue;
            };
            if !optional(reference) && find(resource, name).is_none() {
                return Some(not_found(resource, name));
            }
        }
    }
    let variables = container["env"].as_array().into_iter().flatten();
    for variable in variables {
        for (field, resource) in [
            ("configMapKeyRef", "configmaps"),
            ("secretKeyRef", "secrets"),
        ] {
            let reference = &variable["valueFrom"][field];
            let Some(name) = reference["name"].as_str() else {
                continue;
            };
            if optional(reference) {
                continue;
            }
            let key = reference["key"].as_str().unwrap_or_default();
            match find(resource, name) {
                None => return Some(not_found(resource, name)),
                Some(object) if !has_key(&object, key) => {
                    let kind = words(resource).1;
                    return Some(format!(
                        "couldn't find key {key} in {kind} {namespace}/{name}"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    None
}

/// The `FailedMount` messages of the pod's configMap, secret and projected volumes whose
/// object is missing, in the order of `spec.volumes`.
pub fn mount_errors(spec: &Value, find: &impl Find) -> Vec<String> {
    let mut errors = Vec::new();
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let volume_name = volume["name"].as_str().unwrap_or_default();
        let mut references = vec![
            ("configmaps", &volume["configMap"], "name"),
            ("secrets", &volume["secret"], "secretName"),
        ];
        for source in volume["projected"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            references.push(("configmaps", &source["configMap"], "name"));
            references.push(("secrets", &source["secret"], "name"));
        }
        for (resource, reference, field) in references {
            let Some(name) = reference[field].as_str() else {
                continue;
            };
            if !optional(reference) && find(resource, name).is_none() {
                errors.push(format!(
                    "MountVolume.SetUp failed for volume \"{volume_name}\" : {}",
                    not_found(resource, name)
                ));
            }
        }
    }
    errors
}

/// Why `image` is not a valid image reference, if it is not: the message of
/// `InvalidImageName`, as the kubelet words it after applying the default tag.
pub fn invalid_image(image: &str) -> Option<String> {
    let problem = reference_problem(image)?;
    Some(format!(
        "Failed to apply default image tag \"{image}\": couldn't parse image name \
         \"{image}\": invalid reference format{problem}"
    ))
}

/// What is wrong with a reference (`""` when only the format is), after the rules of the
/// container runtime's reference grammar: `[domain/]path[:tag][@digest]`, path components
/// lowercase alphanumerics joined by `.`, `_`, `__` or dashes.
fn reference_problem(image: &str) -> Option<String> {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !valid_digest(d)) {
        return Some(String::new());
    }
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if tag.is_some_and(|t| !valid_tag(t)) || name.is_empty() {
        return Some(String::new());
    }
    let (domain, path) = match name.split_once('/') {
        Some((first, path))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), path.to_owned())
        }
        _ if name.contains('/') => (None, name.to_owned()),
        _ => (None, format!("library/{name}")),
    };
    if domain.is_some_and(|d| !valid_domain(d)) {
        return Some(String::new());
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!(": repository name ({path}) must be lowercase"));
    }
    if !path.split('/').all(valid_component) {
        return Some(String::new());
    }
    None
}

fn valid_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128
        && tag.chars().next().is_some_and(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-')
}

fn valid_digest(digest: &str) -> bool {
    digest.split_once(':').is_some_and(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-_".contains(c))
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && host.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with('-')
                && !part.ends_with('-')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A path component: lowercase alphanumerics, separated by one `.` or `_`, two `_`, or
/// any number of `-`.
fn valid_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes: Vec<char> = component.chars().collect();
    if bytes.first().is_none_or(|c| !alnum(*c)) || bytes.last().is_none_or(|c| !alnum(*c)) {
        return false;
    }
    let mut separator = String::new();
    for c in bytes {
        if alnum(c) {
            let ok = separator.is_empty()
                || separator == "."
                || separator == "_"
                || separator == "__"
                || separator.chars().all(|s| s == '-');
            if !ok {
                return false;
            }
            separator.clear();
        } else if matches!(c, '.' | '_' | '-') {
            separator.push(c);
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(resource: &str, name: &str) -> Option<Object> {
        match (resource, name) {
            ("configmaps", "settings") => Some(json!({"data": {"mode": "fast"}})),
            ("secrets", "token") => Some(json!({"data": {"value": "c2VjcmV0"}})),
            _ => None,
        }
        .map(std::sync::Arc::new)
    }

    #[test]
    fn missing_env_sources_are_config_errors_unless_optional() {
        let from = |source: Value| json!({"name": "app", "envFrom": [source]});
        let missing = from(json!({"configMapRef": {"name": "nope"}}));
        assert_eq!(
            config_error(&missing, "ns", &cluster).as_deref(),
            Some("configmap \"nope\" not found")
        );
        let secret = from(json!({"secretRef": {"name": "gone"}}));
        assert_eq!(
            config_error(&secret, "ns", &cluster).as_deref(),
            Some("secret \"gone\" not found")
        );
        let optional = from(json!({"secretRef": {"name": "gone", "optional": true}}));
        assert_eq!(config_error(&optional, "ns", &cluster), None);
        let present = from(json!({"configMapRef": {"name": "settings"}}));
        assert_eq!(config_error(&present, "ns", &cluster), None);
    }

    #[test]
    fn value_from_names_the_missing_object_or_key() {
        let env = |reference: Value| json!({"name": "app", "env": [{"name": "X", "valueFrom": reference}]});
        let key = env(json!({"configMapKeyRef": {"name": "settings", "key": "speed"}}));
        assert_eq!(
            config_error(&key, "ns", &cluster).as_deref(),
            Some("couldn't find key speed in ConfigMap ns/settings")
        );
        let secret = env(json!({"secretKeyRef": {"name": "creds", "key": "password"}}));
        assert_eq!(
            config_error(&secret, "ns", &cluster).as_deref(),
            Some("secret \"creds\" not found")
        );
        let found = env(json!({"secretKeyRef": {"name": "token", "key": "value"}}));
        assert_eq!(config_error(&found, "ns", &cluster), None);
        let field = env(json!({"fieldRef": {"fieldPath": "metadata.name"}}));
        assert_eq!(config_error(&field, "ns", &cluster), None);
    }

    #[test]
    fn volumes_of_missing_objects_fail_to_mount() {
        let spec = json!({"volumes": [
            {"name": "config", "configMap": {"name": "app-config"}},
            {"name": "ok", "configMap": {"name": "settings"}},
            {"name": "certs", "secret": {"secretName": "tls"}},
            {"name": "maybe", "secret": {"secretName": "tls", "optional": true}},
            {"name": "all", "projected": {"sources": [{"configMap": {"name": "x"}}]}},
            {"name": "scratch", "emptyDir": {}},
        ]});
        assert_eq!(
            mount_errors(&spec, &cluster),
            [
                "MountVolume.SetUp failed for volume \"config\" : configmap \"app-config\" not found",
                "MountVolume.SetUp failed for volume \"certs\" : secret \"tls\" not found",
                "MountVolume.SetUp failed for volume \"all\" : configmap \"x\" not found",
            ]
        );
    }

    #[test]
    fn image_references_follow_the_reference_grammar() {
        assert_eq!(
            invalid_image("Nginx:Latest").as_deref(),
            Some(
                "Failed to apply default image tag \"Nginx:Latest\": couldn't parse image name \
                 \"Nginx:Latest\": invalid reference format: repository name (library/Nginx) \
                 must be lowercase"
            )
        );
        assert!(
            invalid_image("ghcr.io/Org/app:v1")
                .unwrap()
                .ends_with("repository name (Org/app) must be lowercase")
        );
        for bad in [
            "nginx:",
            "nginx::1",
            "-nginx",
            "nginx:1 2",
            "a//b",
            "nginx@sha256:xyz",
        ] {
            assert!(
                invalid_image(bad).is_some_and(|m| m.ends_with("invalid reference format")),
                "{bad}"
            );
        }
        for good in [
            "nginx",
            "nginx:1.27-alpine",
            "bitnami/redis:7.2",
            "localhost:5000/app",
            "registry.k8s.io/ingress-nginx/controller:v1.11.2@sha256:d5f8217feeac4887cb1ed21f27c2674e58be06bd8f5184cacea2a69abaf78dce",
            "quay.io/jetstack/cert-manager-controller:v1.15.0",
            "my_org/some__app",
            "nginx:Latest",
        ] {
            assert_eq!(invalid_image(good), None, "{good}");
        }
    }
}
