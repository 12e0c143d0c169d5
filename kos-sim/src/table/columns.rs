//! The columns of each built-in resource, in the order and wording of a real API server's
//! printers: data only. Where a cell needs more than a field, it names a function of
//! `computed`.

use super::cells::Cell;
use super::cells::Cell::{
    Age, Bool, Computed, Containers, Count, Int, Keys, Labels, Ratio, Selector, Text, TextOr, Timed,
};
use super::computed::{
    apiservices, autoscalers, component_statuses, cronjobs, disruption_budgets, events, ingresses,
    jobs, nodes, pods, pvcs, pvs, quotas, services, storage_classes,
};
use super::wiring;
use serde_json::Value;

/// One column: its definition in the Table, and where its cell comes from.
#[derive(Debug)]
pub(super) struct Column {
    name: &'static str,
    type_: &'static str,
    /// 0 for the default columns, 1 for those only `-o wide` shows.
    priority: i64,
    description: &'static str,
    pub(super) cell: Cell,
}

impl Column {
    const fn string(name: &'static str, description: &'static str, cell: Cell) -> Column {
        Column::typed(name, "string", description, cell)
    }

    const fn integer(name: &'static str, description: &'static str, cell: Cell) -> Column {
        Column::typed(name, "integer", description, cell)
    }

    const fn typed(
        name: &'static str,
        type_: &'static str,
        description: &'static str,
        cell: Cell,
    ) -> Column {
        Column {
            name,
            type_,
            priority: 0,
            description,
            cell,
        }
    }

    /// The column, shown only by `-o wide`.
    const fn wide(self) -> Column {
        Column {
            priority: 1,
            ..self
        }
    }

    pub(super) fn definition(&self) -> Value {
        // kubectl writes `kind/` before the cells of the column of this format (`--show-kind`,
        // or several kinds in one `get`).
        let format = if self.name == "Name" { "name" } else { "" };
        super::definition(
            self.name,
            self.type_,
            format,
            self.description,
            self.priority,
        )
    }
}

/// The columns of the built-in `resource`; `None` for one without its own.
pub(super) fn of(resource: &str) -> Option<&'static [Column]> {
    Some(match resource {
        "pods" => POD,
        "deployments.apps" => DEPLOYMENT,
        "replicasets.apps" => REPLICASET,
        "statefulsets.apps" => STATEFULSET,
        "daemonsets.apps" => DAEMONSET,
        "jobs.batch" => JOB,
        "cronjobs.batch" => CRONJOB,
        "services" => SERVICE,
        "events" => EVENT,
        "namespaces" => NAMESPACE,
        "nodes" => NODE,
        "configmaps" => CONFIGMAP,
        "secrets" => SECRET,
        "persistentvolumeclaims" => PVC,
        "persistentvolumes" => PV,
        "resourcequotas" => RESOURCEQUOTA,
        "ingresses.networking.k8s.io" => INGRESS,
        // Served with the API server's default Table: no printer of their own.
        "customresourcedefinitions.apiextensions.k8s.io"
        | "roles.rbac.authorization.k8s.io"
        | "clusterroles.rbac.authorization.k8s.io"
        | "limitranges" => CREATED,
        "serviceaccounts" => SERVICEACCOUNT,
        "endpoints" => ENDPOINTS,
        "endpointslices.discovery.k8s.io" => ENDPOINTSLICE,
        "networkpolicies.networking.k8s.io" => NETWORKPOLICY,
        "ingressclasses.networking.k8s.io" => INGRESSCLASS,
        "rolebindings.rbac.authorization.k8s.io"
        | "clusterrolebindings.rbac.authorization.k8s.io" => BINDING,
        "validatingwebhookconfigurations.admissionregistration.k8s.io"
        | "mutatingwebhookconfigurations.admissionregistration.k8s.io" => WEBHOOKS,
        "replicationcontrollers" => REPLICATIONCONTROLLER,
        "storageclasses.storage.k8s.io" => STORAGECLASS,
        "priorityclasses.scheduling.k8s.io" => PRIORITYCLASS,
        "runtimeclasses.node.k8s.io" => RUNTIMECLASS,
        "leases.coordination.k8s.io" => LEASE,
        "horizontalpodautoscalers.autoscaling" => HPA,
        "poddisruptionbudgets.policy" => PDB,
        "apiservices.apiregistration.k8s.io" => APISERVICE,
        "componentstatuses" => COMPONENTSTATUS,
        _ => return None,
    })
}

// ---- shared --------------------------------------------------------------------------

pub(super) const NAME: Column = Column::string(
    "Name",
    "The object's name, unique in its namespace.",
    Text("/metadata/name"),
);
const AGE: Column = Column::string("Age", "Time since the object was created.", Age);

/// Where a workload's pod template keeps its containers, and its selector.
const TEMPLATE: &str = "/spec/template/spec/containers";
const SELECTOR: &str = "/spec/selector";

const fn containers(template: &'static str) -> Column {
    Column::string(
        "Containers",
        "Names of the template's containers.",
        Containers(template, "name"),
    )
    .wide()
}

const fn images(template: &'static str) -> Column {
    Column::string(
        "Images",
        "Images of the template's containers.",
        Containers(template, "image"),
    )
    .wide()
}

const fn selector(pointer: &'static str) -> Column {
    Column::string("Selector", "The label selector.", Selector(pointer)).wide()
}

/// Name and age, for a custom resource whose definition names no columns.
pub(super) const DEFAULT: &[Column] = &[NAME, AGE];

// ---- pods ----------------------------------------------------------------------------

const POD: &[Column] = &[
    NAME,
    Column::string(
        "Ready",
        "Ready containers of all containers.",
        Computed(pods::ready),
    ),
    Column::string(
        "Status",
        "The pod's state as a person reads it.",
        Computed(pods::status),
    ),
    Column::string(
        "Restarts",
        "Container restarts, and how long ago the last was.",
        Timed(pods::restarts),
    ),
    AGE,
    Column::string("IP", "The pod's IP address.", Computed(pods::ip)).wide(),
    Column::string(
        "Node",
        "The node the pod runs on.",
        TextOr("/spec/nodeName", "<none>"),
    )
    .wide(),
    Column::string(
        "Nominated Node",
        "The node the scheduler nominated.",
        TextOr("/status/nominatedNodeName", "<none>"),
    )
    .wide(),
    Column::string(
        "Readiness Gates",
        "Readiness gates that are true, of all.",
        Computed(pods::readiness_gates),
    )
    .wide(),
];

// ---- workloads -----------------------------------------------------------------------

const DEPLOYMENT: &[Column] = &[
    NAME,
    Column::string(
        "Ready",
        "Ready replicas of the desired.",
        Ratio("/status/readyReplicas", "/spec/replicas"),
    ),
    Column::integer(
        "Up-to-date",
        "Replicas of the latest template.",
        Int("/status/updatedReplicas"),
    ),
    Column::integer(
        "Available",
        "Replicas available to users.",
        Int("/status/availableReplicas"),
    ),
    AGE,
    containers(TEMPLATE),
    images(TEMPLATE),
    selector(SELECTOR),
];

const REPLICASET: &[Column] = &[
    NAME,
    Column::integer("Desired", "Desired replicas.", Int("/spec/replicas")),
    Column::integer("Current", "Replicas that exist.", Int("/status/replicas")),
    Column::integer("Ready", "Ready replicas.", Int("/status/readyReplicas")),
    AGE,
    containers(TEMPLATE),
    images(TEMPLATE),
    selector(SELECTOR),
];

const STATEFULSET: &[Column] = &[
    NAME,
    Column::string(
        "Ready",
        "Ready replicas of the desired.",
        Ratio("/status/readyReplicas", "/spec/replicas"),
    ),
    AGE,
    containers(TEMPLATE),
    images(TEMPLATE),
];

const DAEMONSET: &[Column] = &[
    NAME,
    Column::integer(
        "Desired",
        "Nodes that should run the pod.",
        Int("/status/desiredNumberScheduled"),
    ),
    Column::integer(
        "Current",
        "Nodes that run the pod.",
        Int("/status/currentNumberScheduled"),
    ),
    Column::integer(
        "Ready",
        "Nodes whose pod is ready.",
        Int("/status/numberReady"),
    ),
    Column::integer(
        "Up-to-date",
        "Nodes that run the latest template.",
        Int("/status/updatedNumberScheduled"),
    ),
    Column::integer(
        "Available",
        "Nodes whose pod is available.",
        Int("/status/numberAvailable"),
    ),
    Column::string(
        "Node Selector",
        "Labels a node needs to run the pod.",
        Labels("/spec/template/spec/nodeSelector"),
    ),
    AGE,
    containers(TEMPLATE),
    images(TEMPLATE),
    selector(SELECTOR),
];

const JOB: &[Column] = &[
    NAME,
    Column::string("Status", "The job's state.", Computed(jobs::status)),
    Column::string(
        "Completions",
        "Succeeded pods of the wanted completions.",
        Computed(jobs::completions),
    ),
    Column::string("Duration", "How long the job ran.", Timed(jobs::duration)),
    AGE,
    containers(TEMPLATE),
    images(TEMPLATE),
    selector(SELECTOR),
];

/// A cron job's pod template is one level deeper, in its job template.
const JOB_TEMPLATE: &str = "/spec/jobTemplate/spec/template/spec/containers";

const CRONJOB: &[Column] = &[
    NAME,
    Column::string("Schedule", "The cron schedule.", Text("/spec/schedule")),
    Column::string(
        "Timezone",
        "The schedule's time zone.",
        TextOr("/spec/timeZone", "<none>"),
    ),
    Column::typed(
        "Suspend",
        "boolean",
        "Whether new runs are suspended.",
        Computed(cronjobs::suspend),
    ),
    Column::integer("Active", "Jobs running now.", Count("/status/active")),
    Column::string(
        "Last Schedule",
        "Time since the last run was scheduled.",
        Timed(cronjobs::last_schedule),
    ),
    AGE,
    containers(JOB_TEMPLATE),
    images(JOB_TEMPLATE),
    selector("/spec/jobTemplate/spec/selector"),
];

const HPA: &[Column] = &[
    NAME,
    Column::string(
        "Reference",
        "The object scaled.",
        Computed(autoscalers::reference),
    ),
    Column::string(
        "Targets",
        "Current and target value of each metric.",
        Computed(autoscalers::targets),
    ),
    Column::string(
        "MinPods",
        "The fewest replicas.",
        Computed(autoscalers::min_pods),
    ),
    Column::string("MaxPods", "The most replicas.", Int("/spec/maxReplicas")),
    Column::string(
        "Replicas",
        "Replicas the target has.",
        Int("/status/currentReplicas"),
    ),
    AGE,
];

const APISERVICE: &[Column] = &[
    NAME,
    Column::string(
        "Service",
        "The reference to the service that hosts this API endpoint.",
        Computed(apiservices::service),
    ),
    Column::string(
        "Available",
        "Whether this service is available.",
        Computed(apiservices::available),
    ),
    AGE,
];

const COMPONENTSTATUS: &[Column] = &[
    NAME,
    Column::string(
        "Status",
        "Status of the component conditions",
        Computed(component_statuses::status),
    ),
    Column::string(
        "Message",
        "Message of the component conditions",
        Computed(component_statuses::message),
    ),
    Column::string(
        "Error",
        "Error of the component conditions",
        Computed(component_statuses::error),
    ),
];

const PDB: &[Column] = &[
    NAME,
    Column::string(
        "Min Available",
        "The minimum number of pods that must be available.",
        Computed(disruption_budgets::min_available),
    ),
    Column::string(
        "Max Unavailable",
        "The maximum number of pods that may be unavailable.",
        Computed(disruption_budgets::max_unavailable),
    ),
    Column::integer(
        "Allowed Disruptions",
        "Calculated number of pods that may be disrupted at this time.",
        Int("/status/disruptionsAllowed"),
    ),
    AGE,
];

// ---- networking ----------------------------------------------------------------------

const SERVICE: &[Column] = &[
    NAME,
    Column::string(
        "Type",
        "How the service is exposed.",
        TextOr("/spec/type", "ClusterIP"),
    ),
    Column::string(
        "Cluster-IP",
        "The service's cluster IP.",
        TextOr("/spec/clusterIP", "<none>"),
    ),
    Column::string(
        "External-IP",
        "Addresses reachable from outside the cluster.",
        Computed(services::external_ip),
    ),
    Column::string("Port(s)", "The service's ports.", Computed(services::ports)),
    AGE,
    Column::string("Selector", "The label selector.", Labels("/spec/selector")).wide(),
];

const INGRESS: &[Column] = &[
    NAME,
    Column::string(
        "Class",
        "The IngressClass that serves it.",
        TextOr("/spec/ingressClassName", "<none>"),
    ),
    Column::string(
        "Hosts",
        "Hosts its rules match.",
        Computed(ingresses::hosts),
    ),
    Column::string(
        "Address",
        "Load-balancer addresses.",
        Computed(ingresses::address),
    ),
    Column::string("Ports", "Ports it opens.", Computed(ingresses::ports)),
    AGE,
];

const REPLICATIONCONTROLLER: &[Column] = &[
    NAME,
    Column::integer("Desired", "Pods wanted.", Int("/spec/replicas")),
    Column::integer("Current", "Pods that exist.", Int("/status/replicas")),
    Column::integer(
        "Ready",
        "Pods that are ready.",
        Int("/status/readyReplicas"),
    ),
    AGE,
    containers(TEMPLATE),
    images(TEMPLATE),
    Column::string("Selector", "The label selector.", Labels(SELECTOR)).wide(),
];

// ---- cluster and config --------------------------------------------------------------

const STORAGECLASS: &[Column] = &[
    Column::string(
        "Name",
        "The class's name; the default class's is marked (default).",
        Computed(storage_classes::name),
    ),
    Column::string(
        "Provisioner",
        "The volume plugin that provisions.",
        Text("/provisioner"),
    ),
    Column::string(
        "ReclaimPolicy",
        "What becomes of a released volume.",
        TextOr("/reclaimPolicy", "Delete"),
    ),
    Column::string(
        "VolumeBindingMode",
        "When volumes are bound.",
        TextOr("/volumeBindingMode", "Immediate"),
    ),
    Column::typed(
        "AllowVolumeExpansion",
        "boolean",
        "Whether volumes may grow.",
        Bool("/allowVolumeExpansion"),
    ),
    AGE,
];

const PRIORITYCLASS: &[Column] = &[
    NAME,
    Column::integer("Value", "The priority of its pods.", Int("/value")),
    Column::typed(
        "Global-Default",
        "boolean",
        "Whether pods without a class get it.",
        Bool("/globalDefault"),
    ),
    AGE,
    Column::string(
        "PreemptionPolicy",
        "Whether its pods preempt others.",
        TextOr("/preemptionPolicy", "PreemptLowerPriority"),
    ),
];

const RUNTIMECLASS: &[Column] = &[
    NAME,
    Column::string(
        "Handler",
        "The container runtime handler.",
        Text("/handler"),
    ),
    AGE,
];

const LEASE: &[Column] = &[
    NAME,
    Column::string(
        "Holder",
        "Who holds the lease.",
        Text("/spec/holderIdentity"),
    ),
    AGE,
];

const EVENT: &[Column] = &[
    Column::string(
        "Last Seen",
        "Time since the event was last seen.",
        Timed(events::last_seen),
    ),
    Column::string("Type", "Normal or Warning.", Text("/type")),
    Column::string(
        "Reason",
        "Why the event happened, in one word.",
        Text("/reason"),
    ),
    Column::string(
        "Object",
        "The object the event is about.",
        Computed(events::object),
    ),
    Column::string(
        "Subobject",
        "The part of the object (e.g. a container).",
        Text("/involvedObject/fieldPath"),
    )
    .wide(),
    Column::string(
        "Source",
        "The component that reported it.",
        Computed(events::source),
    )
    .wide(),
    Column::string("Message", "What happened.", Computed(events::message)),
    Column::string(
        "First Seen",
        "Time since the event was first seen.",
        Timed(events::first_seen),
    )
    .wide(),
    Column::string("Count", "How often it happened.", Computed(events::count)).wide(),
    Column::string("Name", "The event's name.", Text("/metadata/name")).wide(),
];

const NAMESPACE: &[Column] = &[
    NAME,
    Column::string("Status", "Active or Terminating.", Text("/status/phase")),
    AGE,
];

const NODE: &[Column] = &[
    NAME,
    Column::string(
        "Status",
        "Whether the node is ready.",
        Computed(nodes::status),
    ),
    Column::string("Roles", "The node's roles.", Computed(nodes::roles)),
    AGE,
    Column::string(
        "Version",
        "The kubelet's version.",
        Text("/status/nodeInfo/kubeletVersion"),
    ),
    Column::string(
        "Internal-IP",
        "The node's internal address.",
        Computed(nodes::internal_ip),
    )
    .wide(),
    Column::string(
        "External-IP",
        "The node's external address.",
        Computed(nodes::external_ip),
    )
    .wide(),
    Column::string(
        "OS-Image",
        "The node's operating system.",
        Text("/status/nodeInfo/osImage"),
    )
    .wide(),
    Column::string(
        "Kernel-Version",
        "The node's kernel.",
        Text("/status/nodeInfo/kernelVersion"),
    )
    .wide(),
    Column::string(
        "Container-Runtime",
        "The node's container runtime.",
        Text("/status/nodeInfo/containerRuntimeVersion"),
    )
    .wide(),
];

const CONFIGMAP: &[Column] = &[
    NAME,
    Column::integer("Data", "Number of keys.", Keys(&["/data", "/binaryData"])),
    AGE,
];

const SECRET: &[Column] = &[
    NAME,
    Column::string("Type", "The kind of secret.", TextOr("/type", "Opaque")),
    Column::string(
        "Data",
        "Number of keys (never their values).",
        Keys(&["/data"]),
    ),
    AGE,
];

const PVC: &[Column] = &[
    NAME,
    Column::string("Status", "Pending, Bound or Lost.", Computed(pvcs::status)),
    Column::string("Volume", "The bound volume.", Text("/spec/volumeName")),
    Column::string(
        "Capacity",
        "The bound volume's size.",
        Computed(pvcs::capacity),
    ),
    Column::string(
        "Access Modes",
        "How the volume may be mounted.",
        Computed(pvcs::access_modes),
    ),
    Column::string(
        "StorageClass",
        "The claim's storage class.",
        Computed(pvcs::storage_class),
    ),
    Column::string(
        "VolumeAttributesClass",
        "The claim's volume attributes class.",
        TextOr("/spec/volumeAttributesClassName", "<unset>"),
    ),
    AGE,
    Column::string(
        "VolumeMode",
        "Filesystem or Block.",
        TextOr("/spec/volumeMode", "<unset>"),
    )
    .wide(),
];

const PV: &[Column] = &[
    NAME,
    Column::string(
        "Capacity",
        "The volume's size.",
        Text("/spec/capacity/storage"),
    ),
    Column::string(
        "Access Modes",
        "How the volume may be mounted.",
        Computed(pvs::access_modes),
    ),
    Column::string(
        "Reclaim Policy",
        "What becomes of it once its claim is gone.",
        Text("/spec/persistentVolumeReclaimPolicy"),
    ),
    Column::string(
        "Status",
        "Available, Bound, Released or Failed.",
        Computed(pvs::status),
    ),
    Column::string("Claim", "The claim it is bound to.", Computed(pvs::claim)),
    Column::string(
        "StorageClass",
        "StorageClass of the pv",
        Text("/spec/storageClassName"),
    ),
    Column::string(
        "VolumeAttributesClass",
        "VolumeAttributesClass of the pv",
        TextOr("/spec/volumeAttributesClassName", "<unset>"),
    ),
    Column::string("Reason", "Why it is in its phase.", Text("/status/reason")),
    AGE,
    Column::string(
        "VolumeMode",
        "Filesystem or Block.",
        TextOr("/spec/volumeMode", "<unset>"),
    )
    .wide(),
];

// The newest API servers put Age last here, as for every other kind.
const RESOURCEQUOTA: &[Column] = &[
    NAME,
    Column::string(
        "Request",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
        Computed(quotas::request),
    ),
    Column::string(
        "Limit",
        "Limits control the maximum amount of cpu/memory that a container may use independent \
         of contention on the node.",
        Computed(quotas::limit),
    ),
    AGE,
];

/// The API server's default Table, for the built-in kinds without a printer of their own.
const CREATED: &[Column] = &[
    NAME,
    Column::typed(
        "Created At",
        "date",
        "When the object was created.",
        Text("/metadata/creationTimestamp"),
    ),
];

// ---- access and wiring ---------------------------------------------------------------

const SERVICEACCOUNT: &[Column] = &[
    NAME,
    Column::string("Secrets", "Secrets the account lists.", Count("/secrets")),
    AGE,
];

const ENDPOINTS: &[Column] = &[
    NAME,
    Column::string(
        "Endpoints",
        "Ready addresses with their ports.",
        Computed(wiring::endpoints),
    ),
    AGE,
];

const ENDPOINTSLICE: &[Column] = &[
    NAME,
    Column::string("AddressType", "IPv4, IPv6 or FQDN.", Text("/addressType")),
    Column::string("Ports", "The slice's ports.", Computed(wiring::slice_ports)),
    Column::string(
        "Endpoints",
        "The endpoints' addresses.",
        Computed(wiring::slice_endpoints),
    ),
    AGE,
];

const NETWORKPOLICY: &[Column] = &[
    NAME,
    Column::string(
        "Pod-Selector",
        "The pods the policy applies to.",
        Selector("/spec/podSelector"),
    ),
    AGE,
];

const INGRESSCLASS: &[Column] = &[
    NAME,
    Column::string(
        "Controller",
        "The controller that serves the class.",
        Text("/spec/controller"),
    ),
    Column::string(
        "Parameters",
        "The resource with the class's settings.",
        Computed(wiring::class_parameters),
    ),
    AGE,
];

const BINDING: &[Column] = &[
    NAME,
    Column::string("Role", "The role granted.", Computed(wiring::role)),
    AGE,
    Column::string("Users", "Users bound.", Computed(wiring::users)).wide(),
    Column::string("Groups", "Groups bound.", Computed(wiring::groups)).wide(),
    Column::string(
        "ServiceAccounts",
        "ServiceAccounts bound, as namespace/name.",
        Computed(wiring::service_accounts),
    )
    .wide(),
];

const WEBHOOKS: &[Column] = &[
    NAME,
    Column::integer(
        "Webhooks",
        "How many webhooks the configuration registers.",
        Count("/webhooks"),
    ),
    AGE,
];
