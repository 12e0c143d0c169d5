//! The printer and the columns of each resource, against objects of every kind.

use super::cells::{human, since, time};
use super::{Include, Options, render_at};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

fn at(stamp: &str) -> DateTime<Utc> {
    time(stamp).unwrap()
}

const NOW: &str = "2026-11-26T10:00:00Z";

fn table(resource: &str, object: Value) -> Value {
    render_at(resource, &[Arc::new(object)], &Options::default(), at(NOW))
}

/// The cells of the only row, keyed by column name.
fn cells(resource: &str, object: Value) -> Map<String, Value> {
    let table = table(resource, object);
    let cells = table["rows"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .cloned();
    column_names(&table).into_iter().zip(cells).collect()
}

fn column_names(table: &Value) -> Vec<String> {
    table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Each cell `expected` names (a column name to a value) is as it says.
fn assert_cells(row: &Map<String, Value>, expected: &Value) {
    for (column, value) in expected.as_object().unwrap() {
        assert_eq!(&row[column], value, "{column}");
    }
}

fn pod(status: Value) -> Value {
    let mut object = json!({
        "metadata": {"name": "web-1", "namespace": "ns", "resourceVersion": "42",
                     "creationTimestamp": "2026-11-26T09:56:58Z"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}], "nodeName": "node-1"},
    });
    object["status"] = status;
    object
}

#[test]
fn human_durations_read_like_kubectl() {
    let cases = [
        (5, "5s"),
        (119, "119s"),
        (182, "3m2s"),
        (300, "5m"),
        (900, "15m"),
        (3 * 3600 + 60, "3h1m"),
        (10 * 3600, "10h"),
        (2 * 86_400, "2d"),
        (2 * 86_400 + 3600, "2d1h"),
        (30 * 86_400, "30d"),
        (3 * 365 * 86_400, "3y"),
        (10 * 365 * 86_400, "10y"),
    ];
    for (seconds, expected) in cases {
        assert_eq!(human(Duration::from_secs(seconds)), expected, "{seconds}s");
    }
    assert_eq!(
        since("2026-11-26T10:00:01Z", at(NOW)),
        "0s",
        "skew of a second"
    );
    assert_eq!(since("2026-11-26T10:00:05Z", at(NOW)), "<invalid>");
    assert_eq!(since("", at(NOW)), "<unknown>");
}

#[test]
fn a_table_has_kind_columns_rows_and_metadata() {
    let table = table("pods", pod(json!({"phase": "Pending"})));
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(table["metadata"]["resourceVersion"], "42");
    let name = &table["columnDefinitions"][0];
    assert_eq!(
        (name["name"].as_str(), name["format"].as_str()),
        (Some("Name"), Some("name"))
    );
    assert_eq!(
        table["columnDefinitions"][5]["priority"], 1,
        "IP is a wide column"
    );
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(table["rows"][0]["object"]["metadata"]["name"], "web-1");
    assert!(table["rows"][0]["object"].get("spec").is_none());
}

#[test]
fn include_object_controls_the_rows_object() {
    let objects = [Arc::new(pod(json!({})))];
    let render = |include| {
        let options = Options {
            include,
            resource_version: Some(7),
            ..Options::default()
        };
        render_at("pods", &objects, &options, at(NOW))
    };
    assert!(render(Include::None)["rows"][0].get("object").is_none());
    assert_eq!(
        render(Include::Object)["rows"][0]["object"]["spec"]["nodeName"],
        "node-1"
    );
    assert_eq!(render(Include::None)["metadata"]["resourceVersion"], "7");
    assert_eq!(Include::parse("Object"), Some(Include::Object));
    assert_eq!(Include::parse("bogus"), None);
}

#[test]
fn running_pod_shows_ready_restarts_and_wide_columns() {
    let cells = cells(
        "pods",
        pod(json!({
            "phase": "Running", "podIPs": [{"ip": "10.0.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{
                "name": "app", "ready": true, "restartCount": 3,
                "state": {"running": {"startedAt": "2026-11-26T09:59:00Z"}},
                "lastState": {"terminated": {"exitCode": 1,
                               "finishedAt": "2026-11-26T09:59:50Z"}},
            }],
        })),
    );
    assert_eq!(cells["Name"], "web-1");
    assert_eq!(cells["Ready"], "1/1");
    assert_eq!(cells["Status"], "Running");
    assert_eq!(cells["Restarts"], "3 (10s ago)");
    assert_eq!(cells["Age"], "3m2s");
    assert_eq!(cells["IP"], "10.0.0.5");
    assert_eq!(cells["Node"], "node-1");
    assert_eq!(cells["Nominated Node"], "<none>");
    assert_eq!(cells["Readiness Gates"], "<none>");
}

#[test]
fn pod_status_shows_the_reason_a_person_needs() {
    let waiting = |reason: &str| {
        json!({"phase": "Pending", "containerStatuses": [{"name": "app", "ready": false,
               "restartCount": 0, "state": {"waiting": {"reason": reason}}}]})
    };
    let status = |status: Value| cells("pods", pod(status))["Status"].clone();
    assert_eq!(status(waiting("ImagePullBackOff")), "ImagePullBackOff");
    assert_eq!(status(waiting("CrashLoopBackOff")), "CrashLoopBackOff");
    assert_eq!(status(waiting("ContainerCreating")), "ContainerCreating");
    assert_eq!(status(json!({"phase": "Pending"})), "Pending");
    let terminated = |code: i64, reason: &str| {
        json!({"phase": "Failed", "containerStatuses": [{"name": "app", "ready": false,
               "state": {"terminated": {"exitCode": code, "reason": reason}}}]})
    };
    assert_eq!(status(terminated(0, "Completed")), "Completed");
    assert_eq!(status(terminated(1, "Error")), "Error");
    assert_eq!(status(terminated(137, "")), "ExitCode:137");
    let mut deleting = pod(json!({"phase": "Running"}));
    deleting["metadata"]["deletionTimestamp"] = json!(NOW);
    assert_eq!(cells("pods", deleting)["Status"], "Terminating");
}

#[test]
fn init_containers_show_progress_until_initialized() {
    let mut object = pod(json!({
        "phase": "Pending",
        "initContainerStatuses": [{"name": "setup", "restartCount": 0,
                                    "state": {"running": {}}}],
        "containerStatuses": [{"name": "app", "ready": false,
                                "state": {"waiting": {"reason": "PodInitializing"}}}],
    }));
    object["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox"}]);
    assert_eq!(cells("pods", object.clone())["Status"], "Init:0/1");
    object["status"]["initContainerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff"}});
    assert_eq!(
        cells("pods", object.clone())["Status"],
        "Init:CrashLoopBackOff"
    );
    object["status"]["initContainerStatuses"][0]["state"] =
        json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
    assert_eq!(cells("pods", object)["Status"], "PodInitializing");
}

#[test]
fn deployment_and_replicaset_columns() {
    let template = json!({"spec": {"containers": [
        {"name": "app", "image": "nginx:1"}, {"name": "side", "image": "envoy"}]}});
    let deployment = json!({
        "metadata": {"name": "web", "creationTimestamp": "2026-11-24T09:00:00Z"},
        "spec": {"replicas": 3, "template": template,
                 "selector": {"matchLabels": {"app": "web"},
                              "matchExpressions": [{"key": "tier", "operator": "In",
                                                    "values": ["a", "b"]}]}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    });
    let row = cells("deployments.apps", deployment.clone());
    assert_eq!(row["Ready"], "2/3");
    assert_eq!(row["Up-to-date"], 3);
    assert_eq!(row["Available"], 2);
    assert_eq!(row["Age"], "2d1h");
    assert_eq!(row["Containers"], "app,side");
    assert_eq!(row["Images"], "nginx:1,envoy");
    assert_eq!(row["Selector"], "app=web,tier in (a,b)");
    let row = cells("replicasets.apps", deployment);
    assert_eq!(
        (&row["Desired"], &row["Current"], &row["Ready"]),
        (&json!(3), &json!(0), &json!(2))
    );
}

#[test]
fn statefulset_daemonset_job_and_cronjob_columns() {
    let set = json!({"metadata": {"name": "db"}, "spec": {"replicas": 2},
                     "status": {"readyReplicas": 1}});
    assert_eq!(cells("statefulsets.apps", set)["Ready"], "1/2");
    let daemons = json!({"metadata": {"name": "agent"},
        "spec": {"template": {"spec": {"nodeSelector": {"disk": "ssd"}}}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                   "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}});
    let row = cells("daemonsets.apps", daemons);
    assert_eq!(row["Node Selector"], "disk=ssd");
    assert_eq!(row["Ready"], 2);
    let job = json!({"metadata": {"name": "once"}, "spec": {"completions": 2},
        "status": {"succeeded": 2, "startTime": "2026-11-26T09:59:00Z",
                   "completionTime": "2026-11-26T09:59:30Z",
                   "conditions": [{"type": "Complete", "status": "True"}]}});
    let row = cells("jobs.batch", job);
    assert_eq!(
        (&row["Status"], &row["Completions"], &row["Duration"]),
        (&json!("Complete"), &json!("2/2"), &json!("30s"))
    );
    let running = json!({"metadata": {"name": "p"}, "spec": {"parallelism": 3},
                         "status": {"startTime": "2026-11-26T09:59:00Z"}});
    let row = cells("jobs.batch", running);
    assert_eq!(
        (&row["Status"], &row["Completions"], &row["Duration"]),
        (&json!("Running"), &json!("0/1 of 3"), &json!("60s"))
    );
    let cron = json!({"metadata": {"name": "nightly"},
        "spec": {"schedule": "*/5 * * * *", "suspend": false},
        "status": {"active": [{"name": "j"}], "lastScheduleTime": "2026-11-26T09:55:00Z"}});
    let row = cells("cronjobs.batch", cron);
    let expected = json!({"Schedule": "*/5 * * * *", "Timezone": "<none>", "Suspend": "False",
                          "Active": 1, "Last Schedule": "5m"});
    assert_cells(&row, &expected);
}

#[test]
fn service_columns_cover_each_type() {
    let service = |spec: Value, status: Value| {
        cells(
            "services",
            json!({"metadata": {"name": "s"}, "spec": spec, "status": status}),
        )
    };
    let row = service(
        json!({"type": "ClusterIP", "clusterIP": "10.96.0.10",
               "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
               "selector": {"app": "web"}}),
        json!({}),
    );
    assert_eq!(row["Cluster-IP"], "10.96.0.10");
    assert_eq!(row["External-IP"], "<none>");
    assert_eq!(row["Port(s)"], "80/TCP,53/UDP");
    assert_eq!(row["Selector"], "app=web");
    let pending = service(
        json!({"type": "LoadBalancer",
                                 "ports": [{"port": 80, "nodePort": 30080}]}),
        json!({}),
    );
    assert_eq!(pending["External-IP"], "<pending>");
    assert_eq!(pending["Port(s)"], "80:30080/TCP");
    let ready = service(
        json!({"type": "LoadBalancer"}),
        json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}),
    );
    assert_eq!(ready["External-IP"], "203.0.113.7");
    assert_eq!(
        service(
            json!({"type": "ExternalName", "externalName": "db.example"}),
            json!({})
        )["External-IP"],
        "db.example"
    );
}

#[test]
fn event_columns() {
    let event = json!({"metadata": {"name": "web-1.abc"}, "type": "Warning",
        "reason": "BackOff", "message": " Back-off restarting failed container ",
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2026-11-26T09:50:00Z", "lastTimestamp": "2026-11-26T09:59:30Z",
        "count": 7});
    let row = cells("events", event);
    let expected = json!({"Last Seen": "30s", "First Seen": "10m", "Object": "pod/web-1",
        "Message": "Back-off restarting failed container", "Source": "kubelet, node-1",
        "Count": 7, "Name": "web-1.abc"});
    assert_cells(&row, &expected);
}

#[test]
fn cluster_and_config_columns_never_show_secret_values() {
    let node = json!({"metadata": {"name": "n1",
            "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
                   "nodeInfo": {"kubeletVersion": "v1.32.0"}}});
    let row = cells("nodes", node);
    assert_eq!(row["Status"], "Ready,SchedulingDisabled");
    assert_eq!(row["Roles"], "control-plane");
    assert_eq!(row["Version"], "v1.32.0");
    let ns = json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}});
    assert_eq!(cells("namespaces", ns)["Status"], "Active");
    let map = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
    assert_eq!(cells("configmaps", map)["Data"], 2);
    let secret = json!({"metadata": {"name": "s"}, "type": "Opaque",
                        "data": {"password": "aHVudGVyMg=="}});
    let table = table("secrets", secret);
    assert_eq!(table["rows"][0]["cells"][2], 1);
    assert!(
        !table.to_string().contains("aHVudGVyMg=="),
        "a secret value leaked"
    );
}

#[test]
fn pvc_and_ingress_columns() {
    let claim = json!({"metadata": {"name": "data"},
        "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"},
                   "accessModes": ["ReadWriteOnce"]}});
    let row = cells("persistentvolumeclaims", claim);
    assert_eq!(
        (&row["Status"], &row["Capacity"], &row["Access Modes"]),
        (&json!("Bound"), &json!("1Gi"), &json!("RWO"))
    );
    assert_eq!(row["StorageClass"], "standard");
    let ingress = json!({"metadata": {"name": "i"},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example"}, {}],
                 "tls": [{}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example"}]}}});
    let row = cells("ingresses.networking.k8s.io", ingress);
    assert_eq!(
        (&row["Hosts"], &row["Address"], &row["Ports"]),
        (
            &json!("a.example,*"),
            &json!("lb.example"),
            &json!("80, 443")
        )
    );
}

#[test]
fn other_resources_get_name_and_age_and_crds_their_printer_columns() {
    let widget = json!({"metadata": {"name": "w", "creationTimestamp": "2026-11-26T09:59:55Z"},
                        "spec": {"size": 3},
                        "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let table = table("widgets.example.com", widget.clone());
    assert_eq!(column_names(&table), ["Name", "Age"]);
    assert_eq!(table["rows"][0]["cells"], json!(["w", "5s"]));

    let crd = json!({"spec": {"versions": [{"name": "v1", "storage": true,
        "additionalPrinterColumns": [
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
            {"name": "Ready", "type": "string",
             "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
            {"name": "Missing", "type": "string", "jsonPath": ".status.nothing"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}]}});
    let options = Options {
        crd: Some(&crd),
        ..Options::default()
    };
    let table = render_at(
        "widgets.example.com",
        &[Arc::new(widget)],
        &options,
        at(NOW),
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!(["w", 3, "True", null, "5s"])
    );
    assert_eq!(table["columnDefinitions"][1]["type"], "integer");

    let definition = json!({"metadata": {"name": "widgets.example.com",
                                         "creationTimestamp": "2026-11-26T09:00:00Z"}});
    let row = cells("customresourcedefinitions.apiextensions.k8s.io", definition);
    assert_eq!(row["Created At"], "2026-11-26T09:00:00Z");
}

/// One typical object of a few kinds, as the simulator's controllers leave them.
fn typical() -> Vec<(&'static str, Value)> {
    let meta = |name: &str| {
        json!({"name": name, "namespace": "ns", "resourceVersion": "42",
               "creationTimestamp": "2026-11-26T09:00:00Z"})
    };
    let template = json!({"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}});
    vec![
        (
            "deployments.apps",
            json!({"metadata": meta("web"),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": template},
            "status": {"replicas": 2, "readyReplicas": 1, "updatedReplicas": 2,
                       "availableReplicas": 1}}),
        ),
        (
            "pods",
            json!({"metadata": meta("web-7d4b9-x2k"),
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}],
                     "nodeName": "node-1"},
            "status": {"phase": "Running", "podIP": "10.244.0.7",
                       "conditions": [{"type": "Ready", "status": "True"}],
                       "containerStatuses": [{"name": "app", "ready": true, "restartCount": 1,
                           "state": {"running": {"startedAt": "2026-11-26T09:58:00Z"}},
                           "lastState": {"terminated": {"exitCode": 1,
                               "finishedAt": "2026-11-26T09:57:59Z"}}}]}}),
        ),
        (
            "services",
            json!({"metadata": meta("web"),
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.20", "selector": {"app": "web"},
                     "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}}),
        ),
        (
            "jobs.batch",
            json!({"metadata": meta("migrate"),
            "spec": {"completions": 1, "selector": {"matchLabels": {"job": "migrate"}},
                     "template": template},
            "status": {"succeeded": 1, "startTime": "2026-11-26T09:00:05Z",
                       "completionTime": "2026-11-26T09:00:47Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}}),
        ),
        (
            "cronjobs.batch",
            json!({"metadata": meta("nightly"),
            "spec": {"schedule": "0 3 * * *", "suspend": false,
                     "jobTemplate": {"spec": {"template": template}}},
            "status": {"lastScheduleTime": "2026-11-26T03:00:00Z"}}),
        ),
        (
            "events",
            json!({"metadata": meta("web-7d4b9-x2k.1"), "type": "Normal",
            "reason": "Pulled", "message": "Container image \"nginx:1.27\" already present",
            "involvedObject": {"kind": "Pod", "name": "web-7d4b9-x2k",
                               "fieldPath": "spec.containers{app}"},
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2026-11-26T09:58:00Z", "lastTimestamp": "2026-11-26T09:58:00Z",
            "count": 1}),
        ),
    ]
}

/// The whole Table of each typical object, pinned in `testdata/pinned.json`: a change to a
/// column's name, type, priority, description, order or cell wording shows here.
#[test]
fn tables_of_typical_objects_are_pinned() {
    let pinned: Value = serde_json::from_str(include_str!("testdata/pinned.json")).unwrap();
    let options = Options {
        include: Include::None,
        ..Options::default()
    };
    let typical = typical();
    for (resource, object) in &typical {
        let table = render_at(resource, &[Arc::new(object.clone())], &options, at(NOW));
        assert_eq!(
            table,
            pinned[resource],
            "{resource} now renders as\n{}",
            serde_json::to_string_pretty(&table).unwrap()
        );
    }
    assert_eq!(
        pinned.as_object().unwrap().len(),
        typical.len(),
        "a pinned kind without a test"
    );
}

#[test]
fn cluster_classes_leases_and_replication_controllers_have_their_columns() {
    let meta = json!({"name": "x", "creationTimestamp": "2026-11-26T09:56:58Z"});
    let class = json!({"metadata": meta, "provisioner": "example.com/fast"});
    assert_eq!(
        column_names(&table("storageclasses.storage.k8s.io", class.clone())),
        [
            "Name",
            "Provisioner",
            "ReclaimPolicy",
            "VolumeBindingMode",
            "AllowVolumeExpansion",
            "Age"
        ]
    );
    let class = cells("storageclasses.storage.k8s.io", class);
    assert_cells(
        &class,
        &json!({"Provisioner": "example.com/fast", "ReclaimPolicy": "Delete",
                "VolumeBindingMode": "Immediate", "AllowVolumeExpansion": false}),
    );
    let priority = cells(
        "priorityclasses.scheduling.k8s.io",
        json!({"metadata": meta, "value": 1000, "globalDefault": true}),
    );
    assert_cells(
        &priority,
        &json!({"Value": 1000, "Global-Default": true, "PreemptionPolicy": "PreemptLowerPriority"}),
    );
    let lease = cells(
        "leases.coordination.k8s.io",
        json!({"metadata": meta, "spec": {"holderIdentity": "one"}}),
    );
    assert_cells(&lease, &json!({"Holder": "one", "Age": "3m2s"}));
    let rc = cells(
        "replicationcontrollers",
        json!({"metadata": meta, "spec": {"replicas": 3, "selector": {"app": "web"},
               "template": {"spec": {"containers": [{"name": "app", "image": "nginx"}]}}},
               "status": {"replicas": 3, "readyReplicas": 2}}),
    );
    assert_cells(
        &rc,
        &json!({"Desired": 3, "Current": 3, "Ready": 2, "Images": "nginx", "Selector": "app=web"}),
    );
}

#[test]
fn volume_quota_and_default_class_columns() {
    let volume = json!({"metadata": {"name": "pvc-1"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "standard",
                 "volumeMode": "Filesystem",
                 "claimRef": {"namespace": "shop", "name": "data"}},
        "status": {"phase": "Bound"}});
    assert_eq!(
        column_names(&table("persistentvolumes", volume.clone())),
        [
            "Name",
            "Capacity",
            "Access Modes",
            "Reclaim Policy",
            "Status",
            "Claim",
            "StorageClass",
            "VolumeAttributesClass",
            "Reason",
            "Age",
            "VolumeMode"
        ]
    );
    assert_cells(
        &cells("persistentvolumes", volume),
        &json!({"Capacity": "1Gi", "Access Modes": "RWO", "Reclaim Policy": "Delete",
                "Status": "Bound", "Claim": "shop/data", "StorageClass": "standard",
                "VolumeAttributesClass": "<unset>", "Reason": "", "VolumeMode": "Filesystem"}),
    );
    let quota = json!({"metadata": {"name": "compute"},
        "status": {"hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "2Gi"},
                   "used": {"pods": "3", "requests.cpu": "750m", "limits.memory": "1Gi"}}});
    assert_eq!(
        column_names(&table("resourcequotas", quota.clone())),
        ["Name", "Request", "Limit", "Age"]
    );
    assert_cells(
        &cells("resourcequotas", quota),
        &json!({"Request": "pods: 3/10, requests.cpu: 750m/2", "Limit": "limits.memory: 1Gi/2Gi"}),
    );
    let class = json!({"metadata": {"name": "standard", "annotations": {
        "storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_cells(
        &cells("storageclasses.storage.k8s.io", class),
        &json!({"Name": "standard (default)", "VolumeBindingMode": "WaitForFirstConsumer"}),
    );
}

#[test]
fn autoscaler_and_disruption_budget_columns() {
    let hpa = json!({"apiVersion": "autoscaling/v2", "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 5,
                 "metrics": [
                     {"type": "Resource", "resource": {"name": "cpu",
                      "target": {"type": "Utilization", "averageUtilization": 80}}},
                     {"type": "Resource", "resource": {"name": "memory",
                      "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                     {"type": "Pods", "pods": {"metric": {"name": "qps"},
                      "target": {"type": "AverageValue", "averageValue": "1k"}}}]},
        "status": {"currentReplicas": 2, "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu",
             "current": {"averageUtilization": 5, "averageValue": "5m"}}}]}});
    assert_cells(
        &cells("horizontalpodautoscalers.autoscaling", hpa),
        &json!({"Reference": "Deployment/web",
                "Targets": "cpu: 5%/80%, memory: <unknown>/100Mi + 1 more...",
                "MinPods": "2", "MaxPods": 5, "Replicas": 2}),
    );
    let v1 = json!({"apiVersion": "autoscaling/v1", "metadata": {"name": "old"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                 "targetCPUUtilizationPercentage": 50}});
    assert_cells(
        &cells("horizontalpodautoscalers.autoscaling", v1),
        &json!({"Targets": "cpu: <unknown>/50%", "MinPods": "<unset>", "Replicas": 0}),
    );
    let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": "50%"},
                     "status": {"disruptionsAllowed": 1}});
    assert_cells(
        &cells("poddisruptionbudgets.policy", pdb),
        &json!({"Min Available": "50%", "Max Unavailable": "N/A", "Allowed Disruptions": 1}),
    );
    let metrics = json!({"metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
        "status": {"conditions": [{"type": "Available", "status": "False",
                                   "reason": "MissingEndpoints"}]}});
    assert_cells(
        &cells("apiservices.apiregistration.k8s.io", metrics),
        &json!({"Service": "kube-system/metrics-server", "Available": "False (MissingEndpoints)"}),
    );
    let local = json!({"metadata": {"name": "v1.apps"}, "spec": {},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}});
    assert_cells(
        &cells("apiservices.apiregistration.k8s.io", local),
        &json!({"Service": "Local", "Available": "True"}),
    );
}

/// An object named `x` in namespace `ns`, three minutes old, with `fields`.
fn named_x(fields: &Value) -> Value {
    let mut object = json!({"metadata": {"name": "x", "namespace": "ns",
                                         "creationTimestamp": "2026-11-26T09:56:58Z"}});
    object
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    object
}

#[test]
fn access_and_wiring_kinds_have_the_real_printers_columns() {
    let with = |fields: Value| named_x(&fields);
    let names = |resource: &str, object: Value| column_names(&table(resource, object));

    // Kinds without a printer of their own get the API server's default Table.
    for resource in [
        "roles.rbac.authorization.k8s.io",
        "clusterroles.rbac.authorization.k8s.io",
        "limitranges",
        "customresourcedefinitions.apiextensions.k8s.io",
    ] {
        let row = cells(resource, with(json!({})));
        assert_eq!(
            row.keys().collect::<Vec<_>>(),
            ["Created At", "Name"],
            "{resource}"
        );
        assert_eq!(row["Created At"], "2026-11-26T09:56:58Z");
    }

    let account = cells("serviceaccounts", with(json!({})));
    assert_cells(&account, &json!({"Name": "x", "Secrets": 0, "Age": "3m2s"}));

    let ready = json!({"addresses": [{"ip": "10.244.1.2"}, {"ip": "10.244.2.2"}],
                       "notReadyAddresses": [{"ip": "10.244.1.3"}],
                       "ports": [{"name": "http", "port": 80}, {"name": "grpc", "port": 9090}]});
    let endpoints = cells("endpoints", with(json!({"subsets": [ready]})));
    assert_eq!(
        endpoints["Endpoints"],
        "10.244.1.2:80,10.244.2.2:80,10.244.1.2:9090 + 1 more..."
    );
    let waiting = json!({"notReadyAddresses": [{"ip": "10.244.1.3"}], "ports": [{"port": 80}]});
    assert_eq!(
        cells("endpoints", with(json!({"subsets": [waiting]})))["Endpoints"],
        ""
    );
    assert_eq!(cells("endpoints", with(json!({})))["Endpoints"], "<none>");
    let v6 = json!({"addresses": [{"ip": "fd00::5"}], "ports": [{"port": 443}]});
    assert_eq!(
        cells("endpoints", with(json!({"subsets": [v6]})))["Endpoints"],
        "[fd00::5]:443"
    );

    let slices = "endpointslices.discovery.k8s.io";
    let slice = with(json!({"addressType": "IPv4",
        "ports": [{"name": "https", "port": 8443}, {"name": "metrics"}],
        "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": true}},
                      {"addresses": ["10.244.2.2"], "conditions": {"ready": false}}]}));
    assert_eq!(
        names(slices, slice.clone()),
        ["Name", "AddressType", "Ports", "Endpoints", "Age"]
    );
    assert_cells(
        &cells(slices, slice),
        &json!({"AddressType": "IPv4", "Ports": "8443,metrics",
                                                "Endpoints": "10.244.1.2,10.244.2.2"}),
    );
    let empty = cells(
        slices,
        with(json!({"addressType": "IPv4", "ports": null, "endpoints": []})),
    );
    assert_cells(&empty, &json!({"Ports": "<unset>", "Endpoints": "<unset>"}));

    let policies = "networkpolicies.networking.k8s.io";
    let policy = with(json!({"spec": {"podSelector": {"matchLabels": {"app": "web"}}}}));
    assert_eq!(cells(policies, policy)["Pod-Selector"], "app=web");
    let everyone = with(json!({"spec": {"podSelector": {}}}));
    assert_eq!(cells(policies, everyone)["Pod-Selector"], "<none>");
}

#[test]
fn bindings_classes_and_webhooks_have_the_real_printers_columns() {
    let with = |fields: Value| named_x(&fields);
    let binding = with(json!({"roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": "ns"},
                     {"kind": "User", "name": "jane"}, {"kind": "Group", "name": "devs"},
                     {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}]}));
    for resource in [
        "rolebindings.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
    ] {
        let table = table(resource, binding.clone());
        assert_eq!(
            column_names(&table),
            ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"]
        );
        assert_eq!(table["columnDefinitions"][3]["priority"], 1);
        assert_eq!(
            table["rows"][0]["cells"],
            json!([
                "x",
                "ClusterRole/view",
                "3m2s",
                "jane",
                "devs",
                "ns/app, build/ci"
            ])
        );
    }

    let classes = "ingressclasses.networking.k8s.io";
    let class = with(json!({"spec": {"controller": "k8s.io/ingress-nginx"}}));
    assert_cells(
        &cells(classes, class),
        &json!({"Controller": "k8s.io/ingress-nginx", "Parameters": "<none>"}),
    );
    let configured = with(
        json!({"spec": {"controller": "example.com/lb", "parameters":
        {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}}),
    );
    assert_eq!(
        cells(classes, configured)["Parameters"],
        "IngressParameters.k8s.example.com/external-lb"
    );

    for resource in [
        "validatingwebhookconfigurations.admissionregistration.k8s.io",
        "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    ] {
        let hooks =
            with(json!({"webhooks": [{"name": "a.example.com"}, {"name": "b.example.com"}]}));
        assert_cells(
            &cells(resource, hooks),
            &json!({"Webhooks": 2, "Age": "3m2s"}),
        );
    }
}

#[test]
fn component_statuses_show_their_healthy_condition() {
    let component =
        |conditions: Value| json!({"metadata": {"name": "etcd-0"}, "conditions": conditions});
    let healthy = component(json!([{"type": "Healthy", "status": "True", "message": "ok"}]));
    assert_eq!(
        column_names(&table("componentstatuses", healthy.clone())),
        ["Name", "Status", "Message", "Error"]
    );
    assert_cells(
        &cells("componentstatuses", healthy),
        &json!({"Name": "etcd-0", "Status": "Healthy", "Message": "ok", "Error": ""}),
    );
    let failing = component(json!([{"type": "Healthy", "status": "False", "error": "down"}]));
    assert_cells(
        &cells("componentstatuses", failing),
        &json!({"Status": "Unhealthy", "Message": "", "Error": "down"}),
    );
    assert_cells(
        &cells("componentstatuses", component(json!([]))),
        &json!({"Status": "Unknown"}),
    );
}
