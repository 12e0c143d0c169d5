//! What some widely published applications do to the cluster when their container runs,
//! which the simulator plays because their install manifests depend on it: without it they
//! wait forever on the simulator where they roll out on a real cluster.
//!
//! - `kube-webhook-certgen create` (ingress-nginx and many charts' admission Jobs) writes
//!   the webhook's serving certificate as a Secret (`ca`, `cert`, `key`) that the
//!   controller's pod mounts; `kube-webhook-certgen patch` puts its CA into the webhook
//!   configuration's `caBundle`.
//! - `argocd admin redis-initial-password` (Argo CD's redis init container) writes the
//!   `argocd-redis` Secret (`auth`) that every Argo CD component reads.
//!
//! Which container plays what is decided here, from its image, command, args and env
//! (pure); the kubelet does it when the container starts. The certificates are
//! placeholders: nothing in the simulator serves TLS with them.

use crate::store::{Store, StoreError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

/// What one container does to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Play {
    /// Create this Secret (namespace, name, data as plain text) unless it exists.
    CreateSecret {
        namespace: String,
        name: String,
        data: Vec<(&'static str, &'static str)>,
    },
    /// Copy the `ca` of this Secret into the `caBundle` of every webhook of the
    /// configurations named (the validating one, the mutating one, or both).
    PatchCaBundle {
        namespace: String,
        secret: String,
        webhook: String,
        validating: bool,
        mutating: bool,
    },
}

/// What certgen writes: a CA and a serving certificate and key, PEM. Placeholders.
const CERTGEN_SECRET: [(&str, &str); 3] = [
    (
        "ca",
        "-----BEGIN CERTIFICATE-----\nc2ltdWxhdGVkIGNh\n-----END CERTIFICATE-----\n",
    ),
    (
        "cert",
        "-----BEGIN CERTIFICATE-----\nc2ltdWxhdGVkIGNlcnQ=\n-----END CERTIFICATE-----\n",
    ),
    (
        "key",
        "-----BEGIN EC PRIVATE KEY-----\nc2ltdWxhdGVkIGtleQ==\n-----END EC PRIVATE KEY-----\n",
    ),
];

/// What `container` of a pod in `namespace` plays, if it is one of the applications above.
pub fn play(namespace: &str, container: &Value) -> Option<Play> {
    let words: Vec<String> = ["command", "args"]
        .iter()
        .flat_map(|field| container[*field].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .map(|word| expand(word, namespace, container))
        .collect();
    let image = container["image"].as_str().unwrap_or_default();
    if repository(image).rsplit('/').next() == Some("kube-webhook-certgen") {
        return certgen(namespace, &words);
    }
    let argocd = words.windows(3).any(|w| {
        w[0].rsplit('/').next() == Some("argocd")
            && w[1] == "admin"
            && w[2] == "redis-initial-password"
    });
    argocd.then(|| Play::CreateSecret {
        namespace: namespace.to_owned(),
        name: "argocd-redis".to_owned(),
        // A fixed password: the simulator runs no redis that would check it.
        data: vec![("auth", "simulated-redis-password")],
    })
}

/// Does what `play` says to `store`. What the real application would fail on (a Secret to
/// patch from that does not exist) leaves the cluster as it is.
pub fn perform(store: &Store, play: &Play) {
    match play {
        Play::CreateSecret {
            namespace,
            name,
            data,
        } => {
            let data: Map<String, Value> = data
                .iter()
                .map(|(key, text)| ((*key).to_owned(), json!(STANDARD.encode(text))))
                .collect();
            let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace}, "data": data});
            match store.create("secrets", secret) {
                Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
                Err(error) => {
                    tracing::warn!(%error, "playing an application: secret {namespace}/{name}");
                }
            }
        }
        Play::PatchCaBundle {
            namespace,
            secret,
            webhook,
            validating,
            mutating,
        } => {
            let Some(ca) = store
                .get("secrets", namespace, secret)
                .map(|s| s["data"]["ca"].clone())
            else {
                return;
            };
            let resources = [
                (*validating, "validatingwebhookconfigurations"),
                (*mutating, "mutatingwebhookconfigurations"),
            ];
            for (_, resource) in resources.iter().filter(|(wanted, _)| *wanted) {
                let Some(stored) = store.get(resource, "", webhook) else {
                    continue;
                };
                let mut configuration = (*stored).clone();
                for hook in configuration["webhooks"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    hook["clientConfig"]["caBundle"] = ca.clone();
                }
                if let Err(error) = store.update(resource, &configuration) {
                    tracing::warn!(%error, "playing an application: {resource} {webhook}");
                }
            }
        }
    }
}

/// An image reference without its tag or digest.
fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        // A colon after the last slash starts the tag; before it, it is a registry port.
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

/// `create` or `patch`, with its `--flag=value` options.
fn certgen(namespace: &str, words: &[String]) -> Option<Play> {
    let flag = |name: &str| {
        let prefix = format!("--{name}=");
        words
            .iter()
            .find_map(|w| w.strip_prefix(&prefix))
            .map(str::to_owned)
    };
    let target = flag("namespace").unwrap_or_else(|| namespace.to_owned());
    let secret = flag("secret-name")?;
    match words.iter().find(|w| !w.starts_with('-'))?.as_str() {
        "create" => Some(Play::CreateSecret {
            namespace: target,
            name: secret,
            data: CERTGEN_SECRET.to_vec(),
        }),
        "patch" => Some(Play::PatchCaBundle {
            namespace: target,
            secret,
            webhook: flag("webhook-name")?,
            validating: flag("patch-validating").is_none_or(|v| v != "false"),
            mutating: flag("patch-mutating").is_none_or(|v| v != "false"),
        }),
        _ => None,
    }
}

/// `word` with `$(NAME)` replaced by the container's env var NAME, as the kubelet expands
/// command and args: a literal value, or the pod's namespace by the downward API. Other
/// references stay as written.
fn expand(word: &str, namespace: &str, container: &Value) -> String {
    let value_of = |name: &str| -> Option<String> {
        let var = container["env"]
            .as_array()?
            .iter()
            .find(|v| v["name"] == name)?;
        if let Some(value) = var["value"].as_str() {
            return Some(value.to_owned());
        }
        (var["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace")
            .then(|| namespace.to_owned())
    };
    let mut out = String::new();
    let mut rest = word;
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        match value_of(&after[..end]) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[start..start + 3 + end]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn namespace_env() -> Value {
        json!([{"name": "POD_NAMESPACE",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}])
    }

    #[test]
    fn certgen_create_writes_the_named_secret_in_the_expanded_namespace() {
        let container = json!({
            "image": "registry.example:5000/ingress-nginx/kube-webhook-certgen:v1.5.0@sha256:ab",
            "args": ["create", "--host=admission.$(POD_NAMESPACE).svc",
                     "--namespace=$(POD_NAMESPACE)", "--secret-name=admission"],
            "env": namespace_env()});
        let Some(Play::CreateSecret {
            namespace,
            name,
            data,
        }) = play("edge", &container)
        else {
            panic!("not played: {container}");
        };
        assert_eq!((namespace.as_str(), name.as_str()), ("edge", "admission"));
        let keys: Vec<&str> = data.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["ca", "cert", "key"]);
    }

    #[test]
    fn certgen_patch_names_the_webhook_and_which_configurations() {
        let container = json!({
            "image": "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1",
            "args": ["patch", "--webhook-name=admission", "--namespace=$(POD_NAMESPACE)",
                     "--patch-mutating=false", "--secret-name=admission"],
            "env": namespace_env()});
        assert_eq!(
            play("edge", &container),
            Some(Play::PatchCaBundle {
                namespace: "edge".into(),
                secret: "admission".into(),
                webhook: "admission".into(),
                validating: true,
                mutating: false,
            })
        );
    }

    #[test]
    fn argocd_redis_initial_password_writes_argocd_redis() {
        let container = json!({"image": "quay.io/argoproj/argocd:v3.1.0",
                               "command": ["argocd", "admin", "redis-initial-password"]});
        assert!(matches!(
            play("argocd", &container),
            Some(Play::CreateSecret { name, .. }) if name == "argocd-redis"
        ));
        let other = json!({"image": "quay.io/argoproj/argocd:v3.1.0",
                           "command": ["argocd-server"]});
        assert_eq!(play("argocd", &other), None);
    }

    #[test]
    fn unknown_references_are_left_as_written() {
        let container = json!({"env": [{"name": "A", "value": "x"}]});
        assert_eq!(expand("$(A)-$(B)-$(A", "ns", &container), "x-$(B)-$(A");
    }
}
