//! `meta.k8s.io/v1` Tables: what the simulated API server answers when kubectl asks for
//! `application/json;as=Table`, with the columns and cell wording of a real API server's
//! printers (kubernetes `pkg/printers/internalversion`), so `kubectl get` looks the same.
//!
//! Pure: objects in, one Table out. It does not read the store, parse requests or negotiate
//! content types; the API layer does that and passes the objects (and, for a custom
//! resource, its CRD) in. Secrets' values never reach a cell: only their count.

use crate::store::Object;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// What each row's `object` holds (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Include {
    /// No `object` in the rows.
    None,
    /// A `PartialObjectMetadata` with the object's metadata (the API server's default).
    #[default]
    Metadata,
    /// The whole object (kubectl asks for it with `--sort-by`).
    Object,
}

impl Include {
    /// Reads the `includeObject` query value; `None` for an unknown one.
    pub fn parse(value: &str) -> Option<Include> {
        match value {
            "None" => Some(Include::None),
            "Metadata" => Some(Include::Metadata),
            "Object" => Some(Include::Object),
            _ => None,
        }
    }
}

/// How to render beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    pub include: Include,
    /// The `CustomResourceDefinition` of a custom resource: its `additionalPrinterColumns`
    /// (of the served version) become columns.
    pub crd: Option<&'a Value>,
    /// The list's resourceVersion; without it, the highest among the objects.
    pub resource_version: Option<u64>,
}

/// The Table of `objects` of `resource` (named as kubectl names it: `pods`,
/// `deployments.apps`), with each row's metadata.
pub fn render(resource: &str, objects: &[Object]) -> Value {
    render_with(resource, objects, &Options::default())
}

/// The Table of `objects` of `resource`, rendered as `options` say.
pub fn render_with(resource: &str, objects: &[Object], options: &Options<'_>) -> Value {
    render_at(resource, objects, options, Utc::now())
}

fn render_at(
    resource: &str,
    objects: &[Object],
    options: &Options<'_>,
    now: DateTime<Utc>,
) -> Value {
    let printer = Printer::of(resource, options.crd);
    let columns: Vec<Value> = printer.columns().iter().map(Column::definition).collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| row(printer.cells(object, now), object, options.include))
        .collect();
    let resource_version = options.resource_version.unwrap_or_else(|| {
        objects
            .iter()
            .filter_map(|o| {
                o["metadata"]["resourceVersion"]
                    .as_str()?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .unwrap_or(0)
    });
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn row(cells: Vec<Value>, object: &Value, include: Include) -> Value {
    let mut row = json!({});
    row["cells"] = Value::Array(cells);
    match include {
        Include::None => {}
        Include::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object["metadata"],
            });
        }
        Include::Object => row["object"] = object.clone(),
    }
    row
}

/// One column definition.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    type_: String,
    format: String,
    description: String,
    priority: i64,
}

impl Column {
    fn new(name: &str, type_: &str, priority: i64, description: &str) -> Column {
        Column {
            name: name.to_owned(),
            type_: type_.to_owned(),
            format: if name == "Name" {
                "name".into()
            } else {
                String::new()
            },
            description: description.to_owned(),
            priority,
        }
    }

    fn definition(&self) -> Value {
        json!({
            "name": self.name, "type": self.type_, "format": self.format,
            "description": self.description, "priority": self.priority,
        })
    }
}

const NAME: (&str, &str, i64, &str) = (
    "Name",
    "string",
    0,
    "The object's name, unique in its namespace.",
);
const AGE: (&str, &str, i64, &str) = ("Age", "string", 0, "Time since the object was created.");
const CONTAINERS: (&str, &str, i64, &str) = (
    "Containers",
    "string",
    1,
    "Names of the template's containers.",
);
const IMAGES: (&str, &str, i64, &str) = (
    "Images",
    "string",
    1,
    "Images of the template's containers.",
);
const SELECTOR: (&str, &str, i64, &str) = ("Selector", "string", 1, "The label selector.");

/// The columns of a built-in resource, and how its cells are computed.
type Cells = fn(&Value, DateTime<Utc>) -> Vec<Value>;

enum Printer {
    Builtin(
        &'static [(&'static str, &'static str, i64, &'static str)],
        Cells,
    ),
    Custom(Vec<(Column, String)>),
}

impl Printer {
    fn of(resource: &str, crd: Option<&Value>) -> Printer {
        let (columns, cells): (&'static [_], Cells) = match resource {
            "pods" => (POD, pod_cells),
            "deployments.apps" => (DEPLOYMENT, deployment_cells),
            "replicasets.apps" => (REPLICASET, replicaset_cells),
            "statefulsets.apps" => (STATEFULSET, statefulset_cells),
            "daemonsets.apps" => (DAEMONSET, daemonset_cells),
            "jobs.batch" => (JOB, job_cells),
            "cronjobs.batch" => (CRONJOB, cronjob_cells),
            "services" => (SERVICE, service_cells),
            "events" => (EVENT, event_cells),
            "namespaces" => (NAMESPACE, namespace_cells),
            "nodes" => (NODE, node_cells),
            "configmaps" => (CONFIGMAP, configmap_cells),
            "secrets" => (SECRET, secret_cells),
            "persistentvolumeclaims" => (PVC, pvc_cells),
            "ingresses.networking.k8s.io" => (INGRESS, ingress_cells),
            "customresourcedefinitions.apiextensions.k8s.io" => (CRD, crd_cells),
            _ => match crd.map(printer_columns) {
                Some(columns) if !columns.is_empty() => return Printer::Custom(columns),
                _ => (DEFAULT, default_cells),
            },
        };
        Printer::Builtin(columns, cells)
    }

    fn columns(&self) -> Vec<Column> {
        match self {
            Printer::Builtin(columns, _) => columns
                .iter()
                .map(|(name, type_, priority, description)| {
                    Column::new(name, type_, *priority, description)
                })
                .collect(),
            Printer::Custom(columns) => {
                std::iter::once(Column::new(NAME.0, NAME.1, NAME.2, NAME.3))
                    .chain(columns.iter().map(|(column, _)| column.clone()))
                    .collect()
            }
        }
    }

    fn cells(&self, object: &Value, now: DateTime<Utc>) -> Vec<Value> {
        match self {
            Printer::Builtin(_, cells) => cells(object, now),
            Printer::Custom(columns) => std::iter::once(json!(name(object)))
                .chain(
                    columns
                        .iter()
                        .map(|(column, path)| custom_cell(object, column, path, now)),
                )
                .collect(),
        }
    }
}

// ---- small readers -------------------------------------------------------------------

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn items<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn name(object: &Value) -> &str {
    text(object, "/metadata/name")
}

fn or_none(value: &str) -> String {
    if value.is_empty() {
        "<none>".into()
    } else {
        value.to_owned()
    }
}

fn time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Time since `stamp` as kubectl writes it; `<unknown>` without a stamp.
fn since(stamp: &str, now: DateTime<Utc>) -> String {
    match time(stamp) {
        Some(then) => human_signed(now.signed_duration_since(then)),
        None => "<unknown>".into(),
    }
}

fn age(object: &Value, now: DateTime<Utc>) -> Value {
    json!(since(text(object, "/metadata/creationTimestamp"), now))
}

fn human_signed(delta: chrono::TimeDelta) -> String {
    match delta.num_seconds() {
        // A clock skew of a second or so still reads as "now", as kubectl allows.
        ..-1 => "<invalid>".into(),
        -1 => "0s".into(),
        _ => human(delta.to_std().unwrap_or_default()),
    }
}

/// kubectl's short human duration: `5s`, `3m2s`, `15m`, `5h3m`, `2d`, `2y`.
pub fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let with_rest = |big: u64, unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        with_rest(minutes, "m", seconds % 60, "s")
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        with_rest(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        with_rest(days, "d", hours % 24, "h")
    } else if hours < 24 * 365 * 2 {
        format!("{days}d")
    } else if hours < 24 * 365 * 8 {
        with_rest(days / 365, "y", days % 365, "d")
    } else {
        format!("{}y", days / 365)
    }
}

/// `a=b,c=d` of a string map, `<none>` when empty.
fn labels(object: &Value, pointer: &str) -> String {
    let pairs: Vec<String> = object
        .pointer(pointer)
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    or_none(&pairs.join(","))
}

/// A label selector as kubectl writes it: `app=web,tier in (a,b),!x`.
fn selector(object: &Value, pointer: &str) -> String {
    let Some(selector) = object.pointer(pointer) else {
        return "<none>".into();
    };
    let mut parts: Vec<String> = selector["matchLabels"]
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for expression in items(selector, "/matchExpressions") {
        let key = text(expression, "/key");
        let values: Vec<&str> = items(expression, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match text(expression, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other}"),
        });
    }
    or_none(&parts.join(","))
}

/// Container names and images of a pod template.
fn template_containers(object: &Value, pointer: &str) -> [Value; 2] {
    let containers = items(object, pointer);
    let join = |field: &str| {
        containers
            .iter()
            .map(|c| c[field].as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",")
    };
    [json!(join("name")), json!(join("image"))]
}

fn has_condition(object: &Value, type_: &str) -> bool {
    items(object, "/status/conditions")
        .iter()
        .any(|c| c["type"] == type_ && c["status"] == "True")
}

// ---- pods ----------------------------------------------------------------------------

const POD: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Ready", "string", 0, "Ready containers of all containers."),
    (
        "Status",
        "string",
        0,
        "The pod's state as a person reads it.",
    ),
    (
        "Restarts",
        "string",
        0,
        "Container restarts, and how long ago the last was.",
    ),
    AGE,
    ("IP", "string", 1, "The pod's IP address."),
    ("Node", "string", 1, "The node the pod runs on."),
    (
        "Nominated Node",
        "string",
        1,
        "The node the scheduler nominated.",
    ),
    (
        "Readiness Gates",
        "string",
        1,
        "Readiness gates that are true, of all.",
    ),
];

/// Restart count and the latest restart time, over some container statuses.
#[derive(Default)]
struct Restarts {
    count: i64,
    last: Option<DateTime<Utc>>,
}

impl Restarts {
    fn add(&mut self, status: &Value) {
        self.count += int(status, "/restartCount");
        let finished = time(text(status, "/lastState/terminated/finishedAt"));
        self.last = self.last.max(finished);
    }

    fn cell(&self, now: DateTime<Utc>) -> String {
        match self.last {
            Some(last) if self.count != 0 => {
                format!(
                    "{} ({} ago)",
                    self.count,
                    human_signed(now.signed_duration_since(last))
                )
            }
            _ => self.count.to_string(),
        }
    }
}

/// A terminated state's reason, or `Signal:N` / `ExitCode:N` when it gives none.
fn terminated_reason(terminated: &Value) -> String {
    let reason = text(terminated, "/reason");
    if !reason.is_empty() {
        return reason.to_owned();
    }
    match int(terminated, "/signal") {
        0 => format!("ExitCode:{}", int(terminated, "/exitCode")),
        signal => format!("Signal:{signal}"),
    }
}

/// The init containers' contribution: the reason while one is not done, and the restarts.
fn init_status(pod: &Value, restarts: &mut Restarts) -> Option<String> {
    let total = items(pod, "/spec/initContainers").len();
    for (index, status) in items(pod, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        restarts.add(status);
        let state = &status["state"];
        let waiting = text(state, "/waiting/reason");
        if let Some(terminated) = state.get("terminated") {
            if int(terminated, "/exitCode") == 0 {
                continue;
            }
            return Some(format!("Init:{}", terminated_reason(terminated)));
        }
        if !waiting.is_empty() && waiting != "PodInitializing" {
            return Some(format!("Init:{waiting}"));
        }
        return Some(format!("Init:{index}/{total}"));
    }
    None
}

/// The STATUS cell: the reason a person reads first, as kubectl derives it.
fn pod_status(pod: &Value, now: DateTime<Utc>) -> (String, usize, String) {
    let phase = text(pod, "/status/phase");
    let mut reason = match text(pod, "/status/reason") {
        "" => phase.to_owned(),
        given => given.to_owned(),
    };
    let mut init_restarts = Restarts::default();
    let initializing = init_status(pod, &mut init_restarts);
    let mut ready = 0;
    let restarts = if let Some(init) = initializing.filter(|_| !has_condition(pod, "Initialized")) {
        reason = init;
        init_restarts
    } else {
        let mut restarts = Restarts::default();
        let mut running = false;
        for status in items(pod, "/status/containerStatuses").iter().rev() {
            restarts.add(status);
            let state = &status["state"];
            let waiting = text(state, "/waiting/reason");
            if !waiting.is_empty() {
                waiting.clone_into(&mut reason);
            } else if let Some(terminated) = state.get("terminated") {
                reason = terminated_reason(terminated);
            } else if status["ready"] == true && state.get("running").is_some() {
                running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && running {
            reason = if has_condition(pod, "Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .into();
        }
        restarts
    };
    let deleting = pod["metadata"].get("deletionTimestamp").is_some();
    if deleting && text(pod, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    (reason, ready, restarts.cell(now))
}

fn pod_cells(pod: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (status, ready, restarts) = pod_status(pod, now);
    let total = items(pod, "/spec/containers").len();
    let ip = items(pod, "/status/podIPs")
        .first()
        .map_or_else(|| text(pod, "/status/podIP"), |ip| text(ip, "/ip"));
    let gates = items(pod, "/spec/readinessGates");
    let gates = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let passing = gates
            .iter()
            .filter(|gate| has_condition(pod, text(gate, "/conditionType")))
            .count();
        format!("{passing}/{}", gates.len())
    };
    vec![
        json!(name(pod)),
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts),
        age(pod, now),
        json!(or_none(ip)),
        json!(or_none(text(pod, "/spec/nodeName"))),
        json!(or_none(text(pod, "/status/nominatedNodeName"))),
        json!(gates),
    ]
}

// ---- workloads -----------------------------------------------------------------------

const DEPLOYMENT: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Ready", "string", 0, "Ready replicas of the desired."),
    (
        "Up-to-date",
        "integer",
        0,
        "Replicas of the latest template.",
    ),
    ("Available", "integer", 0, "Replicas available to users."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn deployment_cells(object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let [containers, images] = template_containers(object, "/spec/template/spec/containers");
    vec![
        json!(name(object)),
        json!(format!(
            "{}/{}",
            int(object, "/status/readyReplicas"),
            int(object, "/spec/replicas")
        )),
        json!(int(object, "/status/updatedReplicas")),
        json!(int(object, "/status/availableReplicas")),
        age(object, now),
        containers,
        images,
        json!(selector(object, "/spec/selector")),
    ]
}

const REPLICASET: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Desired", "integer", 0, "Desired replicas."),
    ("Current", "integer", 0, "Replicas that exist."),
    ("Ready", "integer", 0, "Ready replicas."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn replicaset_cells(object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let [containers, images] = template_containers(object, "/spec/template/spec/containers");
    vec![
        json!(name(object)),
        json!(int(object, "/spec/replicas")),
        json!(int(object, "/status/replicas")),
        json!(int(object, "/status/readyReplicas")),
        age(object, now),
        containers,
        images,
        json!(selector(object, "/spec/selector")),
    ]
}

const STATEFULSET: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Ready", "string", 0, "Ready replicas of the desired."),
    AGE,
    CONTAINERS,
    IMAGES,
];

fn statefulset_cells(object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let [containers, images] = template_containers(object, "/spec/template/spec/containers");
    vec![
        json!(name(object)),
        json!(format!(
            "{}/{}",
            int(object, "/status/readyReplicas"),
            int(object, "/spec/replicas")
        )),
        age(object, now),
        containers,
        images,
    ]
}

const DAEMONSET: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Desired", "integer", 0, "Nodes that should run the pod."),
    ("Current", "integer", 0, "Nodes that run the pod."),
    ("Ready", "integer", 0, "Nodes whose pod is ready."),
    (
        "Up-to-date",
        "integer",
        0,
        "Nodes that run the latest template.",
    ),
    ("Available", "integer", 0, "Nodes whose pod is available."),
    (
        "Node Selector",
        "string",
        0,
        "Labels a node needs to run the pod.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn daemonset_cells(object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let [containers, images] = template_containers(object, "/spec/template/spec/containers");
    vec![
        json!(name(object)),
        json!(int(object, "/status/desiredNumberScheduled")),
        json!(int(object, "/status/currentNumberScheduled")),
        json!(int(object, "/status/numberReady")),
        json!(int(object, "/status/updatedNumberScheduled")),
        json!(int(object, "/status/numberAvailable")),
        json!(labels(object, "/spec/template/spec/nodeSelector")),
        age(object, now),
        containers,
        images,
        json!(selector(object, "/spec/selector")),
    ]
}

const JOB: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Status", "string", 0, "The job's state."),
    (
        "Completions",
        "string",
        0,
        "Succeeded pods of the wanted completions.",
    ),
    ("Duration", "string", 0, "How long the job ran."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn job_status(job: &Value) -> &'static str {
    if has_condition(job, "Complete") {
        "Complete"
    } else if has_condition(job, "Failed") {
        "Failed"
    } else if job["metadata"].get("deletionTimestamp").is_some() {
        "Terminating"
    } else if has_condition(job, "Suspended") {
        "Suspended"
    } else if has_condition(job, "FailureTarget") {
        "FailureTarget"
    } else if has_condition(job, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

fn job_cells(job: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let succeeded = int(job, "/status/succeeded");
    let completions = match job.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(wanted) => format!("{succeeded}/{wanted}"),
        None => match int(job, "/spec/parallelism") {
            parallel if parallel > 1 => format!("{succeeded}/1 of {parallel}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = time(text(job, "/status/startTime"));
    let end = time(text(job, "/status/completionTime")).unwrap_or(now);
    let duration = start.map_or_else(String::new, |start| human_signed(end - start));
    let [containers, images] = template_containers(job, "/spec/template/spec/containers");
    vec![
        json!(name(job)),
        json!(job_status(job)),
        json!(completions),
        json!(duration),
        age(job, now),
        containers,
        images,
        json!(selector(job, "/spec/selector")),
    ]
}

const CRONJOB: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Schedule", "string", 0, "The cron schedule."),
    ("Timezone", "string", 0, "The schedule's time zone."),
    ("Suspend", "boolean", 0, "Whether new runs are suspended."),
    ("Active", "integer", 0, "Jobs running now."),
    (
        "Last Schedule",
        "string",
        0,
        "Time since the last run was scheduled.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn cronjob_cells(cron: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let suspend = match cron.pointer("/spec/suspend").and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let last = match text(cron, "/status/lastScheduleTime") {
        "" => "<none>".to_owned(),
        stamp => since(stamp, now),
    };
    let [containers, images] =
        template_containers(cron, "/spec/jobTemplate/spec/template/spec/containers");
    vec![
        json!(name(cron)),
        json!(text(cron, "/spec/schedule")),
        json!(or_none(text(cron, "/spec/timeZone"))),
        json!(suspend),
        json!(items(cron, "/status/active").len()),
        json!(last),
        age(cron, now),
        containers,
        images,
        json!(selector(cron, "/spec/jobTemplate/spec/selector")),
    ]
}

// ---- networking ----------------------------------------------------------------------

const SERVICE: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Type", "string", 0, "How the service is exposed."),
    ("Cluster-IP", "string", 0, "The service's cluster IP."),
    (
        "External-IP",
        "string",
        0,
        "Addresses reachable from outside the cluster.",
    ),
    ("Port(s)", "string", 0, "The service's ports."),
    AGE,
    SELECTOR,
];

/// Load-balancer ingress addresses, comma-joined.
fn ingress_addresses(object: &Value) -> String {
    items(object, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match text(i, "/ip") {
            "" => text(i, "/hostname"),
            ip => ip,
        })
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

fn external_ip(service: &Value) -> String {
    let external: Vec<&str> = items(service, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match text(service, "/spec/type") {
        "" | "ClusterIP" | "NodePort" => or_none(&external.join(",")),
        "LoadBalancer" => {
            let balancer = ingress_addresses(service);
            let all: Vec<&str> = std::iter::once(balancer.as_str())
                .chain(external)
                .filter(|a| !a.is_empty())
                .collect();
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => text(service, "/spec/externalName").to_owned(),
        _ => "<unknown>".into(),
    }
}

fn service_ports(service: &Value) -> String {
    let ports: Vec<String> = items(service, "/spec/ports")
        .iter()
        .map(|port| {
            let protocol = match text(port, "/protocol") {
                "" => "TCP",
                protocol => protocol,
            };
            match int(port, "/nodePort") {
                0 => format!("{}/{protocol}", int(port, "/port")),
                node => format!("{}:{node}/{protocol}", int(port, "/port")),
            }
        })
        .collect();
    or_none(&ports.join(","))
}

fn service_cells(service: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let type_ = match text(service, "/spec/type") {
        "" => "ClusterIP",
        type_ => type_,
    };
    vec![
        json!(name(service)),
        json!(type_),
        json!(or_none(text(service, "/spec/clusterIP"))),
        json!(external_ip(service)),
        json!(service_ports(service)),
        age(service, now),
        json!(labels(service, "/spec/selector")),
    ]
}

const INGRESS: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Class", "string", 0, "The IngressClass that serves it."),
    ("Hosts", "string", 0, "Hosts its rules match."),
    ("Address", "string", 0, "Load-balancer addresses."),
    ("Ports", "string", 0, "Ports it opens."),
    AGE,
];

fn ingress_cells(ingress: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let hosts: Vec<&str> = items(ingress, "/spec/rules")
        .iter()
        .map(|rule| match text(rule, "/host") {
            "" => "*",
            host => host,
        })
        .collect();
    // kubectl names three hosts, then counts the rest.
    let hosts = match hosts.len() {
        0 => "*".to_owned(),
        1..=3 => hosts.join(","),
        n => format!("{} + {} more...", hosts[..3].join(","), n - 3),
    };
    let ports = if items(ingress, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name(ingress)),
        json!(or_none(text(ingress, "/spec/ingressClassName"))),
        json!(hosts),
        json!(ingress_addresses(ingress)),
        json!(ports),
        age(ingress, now),
    ]
}

// ---- cluster and config --------------------------------------------------------------

const EVENT: &[(&str, &str, i64, &str)] = &[
    (
        "Last Seen",
        "string",
        0,
        "Time since the event was last seen.",
    ),
    ("Type", "string", 0, "Normal or Warning."),
    (
        "Reason",
        "string",
        0,
        "Why the event happened, in one word.",
    ),
    ("Object", "string", 0, "The object the event is about."),
    (
        "Subobject",
        "string",
        1,
        "The part of the object (e.g. a container).",
    ),
    ("Source", "string", 1, "The component that reported it."),
    ("Message", "string", 0, "What happened."),
    (
        "First Seen",
        "string",
        1,
        "Time since the event was first seen.",
    ),
    ("Count", "string", 1, "How often it happened."),
    ("Name", "string", 1, "The event's name."),
];

fn event_cells(event: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let first = match text(event, "/firstTimestamp") {
        "" => since(text(event, "/eventTime"), now),
        stamp => since(stamp, now),
    };
    let (last, count) = match event.get("series") {
        Some(series) if series.is_object() => (
            since(text(series, "/lastObservedTime"), now),
            int(series, "/count"),
        ),
        _ => (
            match text(event, "/lastTimestamp") {
                "" => first.clone(),
                stamp => since(stamp, now),
            },
            int(event, "/count").max(1),
        ),
    };
    let kind = text(event, "/involvedObject/kind").to_lowercase();
    let target = match text(event, "/involvedObject/name") {
        "" => kind,
        object => format!("{kind}/{object}"),
    };
    let component = match text(event, "/source/component") {
        "" => text(event, "/reportingComponent"),
        component => component,
    };
    let source = match text(event, "/source/host") {
        "" => component.to_owned(),
        host => format!("{component}, {host}"),
    };
    vec![
        json!(last),
        json!(text(event, "/type")),
        json!(text(event, "/reason")),
        json!(target),
        json!(text(event, "/involvedObject/fieldPath")),
        json!(source),
        json!(text(event, "/message").trim()),
        json!(first),
        json!(count),
        json!(name(event)),
    ]
}

const NAMESPACE: &[(&str, &str, i64, &str)] =
    &[NAME, ("Status", "string", 0, "Active or Terminating."), AGE];

fn namespace_cells(namespace: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(namespace)),
        json!(text(namespace, "/status/phase")),
        age(namespace, now),
    ]
}

const NODE: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Status", "string", 0, "Whether the node is ready."),
    ("Roles", "string", 0, "The node's roles."),
    AGE,
    ("Version", "string", 0, "The kubelet's version."),
    ("Internal-IP", "string", 1, "The node's internal address."),
    ("External-IP", "string", 1, "The node's external address."),
    ("OS-Image", "string", 1, "The node's operating system."),
    ("Kernel-Version", "string", 1, "The node's kernel."),
    (
        "Container-Runtime",
        "string",
        1,
        "The node's container runtime.",
    ),
];

fn node_cells(node: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let ready = items(node, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "Ready");
    let mut status = vec![match ready {
        Some(c) if c["status"] == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node.pointer("/spec/unschedulable") == Some(&Value::Bool(true)) {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<&str> = node["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| {
                    key.strip_prefix("node-role.kubernetes.io/")
                        .filter(|role| !role.is_empty())
                        .or_else(|| {
                            (key == "kubernetes.io/role")
                                .then(|| value.as_str().unwrap_or_default())
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort_unstable();
    let address = |type_: &str| {
        items(node, "/status/addresses")
            .iter()
            .find(|a| a["type"] == type_)
            .map_or_else(|| "<none>".to_owned(), |a| text(a, "/address").to_owned())
    };
    vec![
        json!(name(node)),
        json!(status.join(",")),
        json!(or_none(&roles.join(","))),
        age(node, now),
        json!(text(node, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(text(node, "/status/nodeInfo/osImage")),
        json!(text(node, "/status/nodeInfo/kernelVersion")),
        json!(text(node, "/status/nodeInfo/containerRuntimeVersion")),
    ]
}

fn map_len(object: &Value, key: &str) -> usize {
    object
        .get(key)
        .and_then(Value::as_object)
        .map_or(0, Map::len)
}

const CONFIGMAP: &[(&str, &str, i64, &str)] =
    &[NAME, ("Data", "integer", 0, "Number of keys."), AGE];

fn configmap_cells(map: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let keys = map_len(map, "data") + map_len(map, "binaryData");
    vec![json!(name(map)), json!(keys), age(map, now)]
}

const SECRET: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Type", "string", 0, "The kind of secret."),
    ("Data", "string", 0, "Number of keys (never their values)."),
    AGE,
];

fn secret_cells(secret: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let type_ = match text(secret, "/type") {
        "" => "Opaque",
        type_ => type_,
    };
    vec![
        json!(name(secret)),
        json!(type_),
        json!(map_len(secret, "data")),
        age(secret, now),
    ]
}

const PVC: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Status", "string", 0, "Pending, Bound or Lost."),
    ("Volume", "string", 0, "The bound volume."),
    ("Capacity", "string", 0, "The bound volume's size."),
    (
        "Access Modes",
        "string",
        0,
        "How the volume may be mounted.",
    ),
    ("StorageClass", "string", 0, "The claim's storage class."),
    (
        "VolumeAttributesClass",
        "string",
        0,
        "The claim's volume attributes class.",
    ),
    AGE,
    ("VolumeMode", "string", 1, "Filesystem or Block."),
];

fn pvc_cells(claim: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let phase = if claim["metadata"].get("deletionTimestamp").is_some() {
        "Terminating"
    } else {
        text(claim, "/status/phase")
    };
    let bound = !text(claim, "/spec/volumeName").is_empty();
    let (capacity, modes) = if bound {
        let modes: Vec<&str> = items(claim, "/status/accessModes")
            .iter()
            .filter_map(|m| match m.as_str()? {
                "ReadWriteOnce" => Some("RWO"),
                "ReadOnlyMany" => Some("ROX"),
                "ReadWriteMany" => Some("RWX"),
                "ReadWriteOncePod" => Some("RWOP"),
                _ => None,
            })
            .collect();
        (text(claim, "/status/capacity/storage"), modes.join(","))
    } else {
        ("", String::new())
    };
    let class = match text(claim, "/spec/storageClassName") {
        "" => text(
            claim,
            "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
        ),
        class => class,
    };
    let mode = match text(claim, "/spec/volumeMode") {
        "" => "<unset>",
        mode => mode,
    };
    vec![
        json!(name(claim)),
        json!(phase),
        json!(text(claim, "/spec/volumeName")),
        json!(capacity),
        json!(modes),
        json!(class),
        json!(match text(claim, "/spec/volumeAttributesClassName") {
            "" => "<unset>",
            class => class,
        }),
        age(claim, now),
        json!(mode),
    ]
}

const CRD: &[(&str, &str, i64, &str)] = &[
    NAME,
    ("Created At", "date", 0, "When the definition was created."),
];

fn crd_cells(crd: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(crd)),
        json!(text(crd, "/metadata/creationTimestamp")),
    ]
}

const DEFAULT: &[(&str, &str, i64, &str)] = &[NAME, AGE];

fn default_cells(object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![json!(name(object)), age(object, now)]
}

// ---- custom resources ----------------------------------------------------------------

/// The `additionalPrinterColumns` of the CRD's served storage version (or first served
/// version), with their `JSONPaths`.
fn printer_columns(crd: &Value) -> Vec<(Column, String)> {
    let versions = items(crd, "/spec/versions");
    let version = versions
        .iter()
        .find(|v| v["storage"] == true)
        .or_else(|| versions.first());
    version
        .map(|v| items(v, "/additionalPrinterColumns"))
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let mut column = Column::new(
                text(c, "/name"),
                text(c, "/type"),
                int(c, "/priority"),
                text(c, "/description"),
            );
            text(c, "/format").clone_into(&mut column.format);
            (column, text(c, "/jsonPath").to_owned())
        })
        .collect()
}

fn custom_cell(object: &Value, column: &Column, path: &str, now: DateTime<Utc>) -> Value {
    let Some(value) = json_path(object, path) else {
        return Value::Null;
    };
    match (column.type_.as_str(), value) {
        ("date", Value::String(stamp)) => json!(since(stamp, now)),
        ("string", Value::String(_)) | (_, Value::Null) => value.clone(),
        ("string", other) => json!(other.to_string()),
        ("integer", other) => json!(other.as_i64()),
        ("number", other) => json!(other.as_f64()),
        ("boolean", other) => json!(other.as_bool()),
        (_, other) => other.clone(),
    }
}

/// Follows the simple `JSONPaths` printer columns use: `.a.b`, `.a[0]`, and
/// `.a[?(@.k=="v")].b`. Anything fancier reads as absent.
fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = object;
    let mut rest = path.trim().trim_start_matches('{').trim_end_matches('}');
    rest = rest.strip_prefix('.').unwrap_or(rest);
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let selector = &after[..end];
            current = if let Some(filter) = selector
                .strip_prefix("?(@.")
                .and_then(|f| f.strip_suffix(')'))
            {
                let (field, wanted) = filter.split_once("==")?;
                let wanted = wanted.trim().trim_matches(|c| c == '"' || c == '\'');
                current
                    .as_array()?
                    .iter()
                    .find(|item| item[field.trim()].as_str() == Some(wanted))?
            } else {
                current.get(selector.parse::<usize>().ok()?)?
            };
            rest = &after[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            current = current.get(&rest[..end])?;
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
        let names = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned());
        names
            .zip(
                table["rows"][0]["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .cloned(),
            )
            .collect()
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
        assert_eq!(row["Schedule"], "*/5 * * * *");
        assert_eq!(row["Timezone"], "<none>");
        assert_eq!(row["Suspend"], "False");
        assert_eq!(row["Active"], 1);
        assert_eq!(row["Last Schedule"], "5m");
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
        assert_eq!(row["Last Seen"], "30s");
        assert_eq!(row["First Seen"], "10m");
        assert_eq!(row["Object"], "pod/web-1");
        assert_eq!(row["Message"], "Back-off restarting failed container");
        assert_eq!(row["Source"], "kubelet, node-1");
        assert_eq!(row["Count"], 7);
        assert_eq!(row["Name"], "web-1.abc");
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
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Name", "Age"]);
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
}
