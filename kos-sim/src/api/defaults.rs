//! Defaulting: the fields a real API server fills in when a client leaves them out
//! (Deployment strategy and replicas, pod spec restart policy, container pull policy,
//! port protocols, a Service's type and cluster IP, Job parallelism and back-off, ...).
//!
//! Controllers and `kubectl describe` read these, so they must be there as on a real
//! cluster. Pure: an object in, the same object with defaults out; set fields are kept.

use rand::Rng;
use serde_json::{Value, json};

/// Sets `object[key]` to `value` unless it is already set.
fn default(object: &mut Value, key: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        map.entry(key).or_insert(value);
    }
}

fn pod_spec(spec: &mut Value, restart_policy: &str) {
    if !spec.is_object() {
        return;
    }
    default(spec, "restartPolicy", json!(restart_policy));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "schedulerName", json!("default-scheduler"));
    default(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        for container in spec[list].as_array_mut().into_iter().flatten() {
            let image = container["image"].as_str().unwrap_or_default();
            let tagged = image
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':') || last.contains('@'));
            let policy = if !tagged || image.ends_with(":latest") {
                "Always"
            } else {
                "IfNotPresent"
            };
            default(container, "imagePullPolicy", json!(policy));
            default(
                container,
                "terminationMessagePath",
                json!("/dev/termination-log"),
            );
            default(container, "terminationMessagePolicy", json!("File"));
            default(container, "resources", json!({}));
            for port in container["ports"].as_array_mut().into_iter().flatten() {
                default(port, "protocol", json!("TCP"));
            }
        }
    }
}

fn template(object: &mut Value, restart_policy: &str) {
    if let Some(spec) = object.pointer_mut("/spec/template/spec") {
        pod_spec(spec, restart_policy);
    }
}

fn rolling(max_surge: &Value, max_unavailable: &Value) -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable}})
}

fn service(object: &mut Value) {
    let spec = &mut object["spec"];
    default(spec, "type", json!("ClusterIP"));
    default(spec, "sessionAffinity", json!("None"));
    if spec["type"] != "ExternalName" && spec.get("clusterIP").is_none() {
        let mut rng = rand::rng();
        let ip = format!(
            "10.96.{}.{}",
            rng.random_range(0..=255),
            rng.random_range(1..=254)
        );
        spec["clusterIP"] = json!(ip);
        spec["clusterIPs"] = json!([ip]);
    }
    default(spec, "ipFamilies", json!(["IPv4"]));
    default(spec, "ipFamilyPolicy", json!("SingleStack"));
    default(spec, "internalTrafficPolicy", json!("Cluster"));
    for port in spec["ports"].as_array_mut().into_iter().flatten() {
        default(port, "protocol", json!("TCP"));
        let number = port["port"].clone();
        default(port, "targetPort", number);
    }
}

/// Fills in the defaults of a kind (by `group/kind`).
pub fn apply(group: &str, kind: &str, object: &mut Value) {
    if !object["spec"].is_object()
        && matches!(
            kind,
            "Deployment"
                | "StatefulSet"
                | "DaemonSet"
                | "ReplicaSet"
                | "Job"
                | "CronJob"
                | "Service"
                | "Pod"
        )
    {
        return;
    }
    match (group, kind) {
        ("", "Pod") => pod_spec(&mut object["spec"], "Always"),
        ("", "Service") => service(object),
        ("", "Secret") => {
            secret_string_data(object);
            default(object, "type", json!("Opaque"));
        }
        ("apps", "Deployment") => {
            let spec = &mut object["spec"];
            default(spec, "replicas", json!(1));
            default(spec, "strategy", rolling(&json!("25%"), &json!("25%")));
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
            template(object, "Always");
        }
        ("apps", "ReplicaSet") => {
            default(&mut object["spec"], "replicas", json!(1));
            template(object, "Always");
        }
        ("apps", "StatefulSet") => {
            let spec = &mut object["spec"];
            default(spec, "replicas", json!(1));
            default(spec, "podManagementPolicy", json!("OrderedReady"));
            default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            default(spec, "revisionHistoryLimit", json!(10));
            template(object, "Always");
        }
        ("apps", "DaemonSet") => {
            let spec = &mut object["spec"];
            default(spec, "updateStrategy", rolling(&json!(0), &json!(1)));
            default(spec, "revisionHistoryLimit", json!(10));
            template(object, "Always");
        }
        ("batch", "Job") => job_spec(&mut object["spec"]),
        ("batch", "CronJob") => {
            let spec = &mut object["spec"];
            default(spec, "concurrencyPolicy", json!("Allow"));
            default(spec, "suspend", json!(false));
            default(spec, "successfulJobsHistoryLimit", json!(3));
            default(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(job) = spec.pointer_mut("/jobTemplate/spec") {
                job_spec(job);
            }
        }
        _ => {}
    }
}

/// A Secret's `stringData` is write-only: the API server merges it into `data` (base64,
/// `stringData` winning over `data` for the same key) and never stores or returns it, so a
/// reader sees the same `data` whichever way the Secret was written. (The real server does
/// this in its conversion rather than its defaulting; the effect is the same.)
fn secret_string_data(object: &mut Value) {
    use base64::Engine;
    let Some(Value::Object(strings)) = object.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    let data = &mut object["data"];
    if !data.is_object() {
        *data = json!({});
    }
    for (key, value) in strings {
        let text = value.as_str().unwrap_or_default();
        data[key] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

fn job_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    default(spec, "parallelism", json!(1));
    if spec["completionMode"] != "Indexed" || spec.get("completions").is_some() {
        default(spec, "completions", json!(1));
    }
    default(spec, "backoffLimit", json!(6));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    if let Some(pod) = spec.pointer_mut("/template/spec") {
        pod_spec(pod, "Never");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_get_strategy_replicas_and_pod_defaults() {
        let mut deployment = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "nginx:1.25"}]}}}});
        apply("apps", "Deployment", &mut deployment);
        assert_eq!(deployment["spec"]["replicas"], 1);
        assert_eq!(
            deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            "25%"
        );
        let containers = &deployment["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["imagePullPolicy"], "Always");
        assert_eq!(containers[1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(containers[0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            deployment["spec"]["template"]["spec"]["restartPolicy"],
            "Always"
        );
    }

    #[test]
    fn a_secrets_string_data_is_merged_into_its_data_and_never_kept() {
        let mut secret = json!({"data": {"a": "b2xk", "keep": "eA=="},
            "stringData": {"a": "new", "token": "hunter2"}});
        apply("", "Secret", &mut secret);
        assert_eq!(
            secret,
            json!({"data": {"a": "bmV3", "keep": "eA==", "token": "aHVudGVyMg=="},
                   "type": "Opaque"})
        );
        let mut only_strings = json!({"stringData": {"k": "v"}, "type": "kubernetes.io/tls"});
        apply("", "Secret", &mut only_strings);
        assert_eq!(
            only_strings,
            json!({"data": {"k": "dg=="}, "type": "kubernetes.io/tls"})
        );
    }

    #[test]
    fn set_fields_are_kept_and_services_get_an_ip() {
        let mut deployment = json!({"spec": {"replicas": 0}});
        apply("apps", "Deployment", &mut deployment);
        assert_eq!(deployment["spec"]["replicas"], 0);
        let mut service = json!({"spec": {"ports": [{"port": 80}]}});
        apply("", "Service", &mut service);
        assert!(
            service["spec"]["clusterIP"]
                .as_str()
                .unwrap()
                .starts_with("10.96.")
        );
        assert_eq!(service["spec"]["ports"][0]["targetPort"], 80);
        let mut job = json!({"spec": {"template": {"spec": {"containers": []}}}});
        apply("batch", "Job", &mut job);
        assert_eq!(job["spec"]["backoffLimit"], 6);
        assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    }
}
