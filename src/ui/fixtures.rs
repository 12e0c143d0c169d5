//! A small tracked world for the view's tests: a failing nginx rollout in namespace
//! `octopus` (Deployment → new and old `ReplicaSet` → pods), a Service, a Namespace and a Job.

use crate::model::{Diff, EventRow, ObjectKey, TrackedObject, World};
use crate::status::{Condition, ContainerRow};
use crate::status::{Counts, Status};
use crate::tracker::Tracker;
use crate::ui::app::{App, Header};
use std::time::Duration;

pub fn key(kind: &str, name: &str) -> ObjectKey {
    let namespace = (kind != "Namespace").then_some("octopus");
    ObjectKey::new(kind, namespace, name)
}

pub fn object(kind: &str, name: &str, status: Status, owner: Option<ObjectKey>) -> TrackedObject {
    TrackedObject {
        key: key(kind, name),
        api_version: "v1".into(),
        uid: format!("uid-{name}"),
        status,
        message: String::new(),
        counts: None,
        applied: owner.is_none(),
        owner,
        counted: true,
        conditions: Vec::new(),
        containers: Vec::new(),
        created: String::new(),
    }
}

pub fn pod(name: &str, owner: &ObjectKey, status: Status) -> TrackedObject {
    let mut pod = object("Pod", name, status, Some(owner.clone()));
    pod.message = match status {
        Status::Success => "Running, 1/1 ready".into(),
        _ => "Pending".into(),
    };
    pod.containers = vec![ContainerRow {
        name: "nginx".into(),
        image: "nginx:1.27".into(),
        ready: status == Status::Success,
        state: "running".into(),
        ..ContainerRow::default()
    }];
    pod
}

/// The pod that cannot pull its image, with conditions, containers and Events.
pub fn failing_pod(owner: &ObjectKey) -> TrackedObject {
    let mut pod = object(
        "Pod",
        "nginx-7c5ddbdf54-x2x9k",
        Status::Failed,
        Some(owner.clone()),
    );
    pod.message = "nginx: ImagePullBackOff (Back-off pulling image \"nginx:doesnotexist\")".into();
    pod.conditions = vec![
        Condition {
            type_: "PodScheduled".into(),
            status: "True".into(),
            ..Condition::default()
        },
        Condition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: "ContainersNotReady".into(),
            message: "containers with unready status: [nginx]".into(),
            ..Condition::default()
        },
    ];
    pod.containers = vec![
        ContainerRow {
            name: "init-config".into(),
            init: true,
            image: "busybox".into(),
            ready: false,
            state: "terminated".into(),
            reason: "Completed".into(),
            exit_code: Some(0),
            ..ContainerRow::default()
        },
        ContainerRow {
            name: "nginx".into(),
            image: "nginx:doesnotexist".into(),
            state: "waiting".into(),
            reason: "ImagePullBackOff".into(),
            message: "Back-off pulling image \"nginx:doesnotexist\"".into(),
            restarts: 2,
            last_state: Some("Error (exit 1)".into()),
            ..ContainerRow::default()
        },
    ];
    pod
}

pub fn failing_pod_events() -> Vec<EventRow> {
    let event = |type_: &str, reason: &str, message: &str, count: u32, at: &str| EventRow {
        type_: type_.into(),
        reason: reason.into(),
        message: message.into(),
        count,
        last_seen: format!("2026-11-26T09:{at}Z"),
    };
    vec![
        event(
            "Normal",
            "Scheduled",
            "Successfully assigned octopus/nginx-7c5ddbdf54-x2x9k to sim-node-1",
            1,
            "20:01",
        ),
        event(
            "Normal",
            "Pulling",
            "Pulling image \"nginx:doesnotexist\"",
            3,
            "20:40",
        ),
        event(
            "Warning",
            "Failed",
            "Failed to pull image \"nginx:doesnotexist\": not found",
            3,
            "20:41",
        ),
        event(
            "Warning",
            "BackOff",
            "Back-off pulling image \"nginx:doesnotexist\"",
            5,
            "21:02",
        ),
    ]
}

/// The diffs of the whole fixture, in the order a watch actor could send them.
pub fn rollout() -> (Vec<ObjectKey>, Vec<Diff>) {
    let namespace = key("Namespace", "octopus");
    let deployment = key("Deployment", "nginx");
    let service = key("Service", "nginx");
    let job = key("Job", "migrate");
    let new_rs = key("ReplicaSet", "nginx-7c5ddbdf54");
    let old_rs = key("ReplicaSet", "nginx-6b9f8c7d4");
    let roots = vec![
        namespace.clone(),
        deployment.clone(),
        service.clone(),
        job.clone(),
    ];

    let mut ns = object("Namespace", "octopus", Status::Success, None);
    ns.message = "Active".into();
    let mut deploy = object("Deployment", "nginx", Status::InProgress, None);
    deploy.message = "2/3 replicas available".into();
    deploy.counts = Some(Counts {
        desired: 3,
        ready: 2,
    });
    deploy.api_version = "apps/v1".into();
    let mut rs = object(
        "ReplicaSet",
        "nginx-7c5ddbdf54",
        Status::InProgress,
        Some(deployment.clone()),
    );
    rs.counts = Some(Counts {
        desired: 3,
        ready: 2,
    });
    rs.message = "2/3 ready".into();
    let mut old = object(
        "ReplicaSet",
        "nginx-6b9f8c7d4",
        Status::Success,
        Some(deployment),
    );
    old.counted = false;
    old.counts = Some(Counts {
        desired: 0,
        ready: 0,
    });
    old.message = "scaled down".into();
    let mut old_pod = pod("nginx-6b9f8c7d4-q8r2t", &old_rs, Status::Terminating);
    old_pod.counted = false;
    old_pod.message = "being deleted".into();
    let mut svc = object("Service", "nginx", Status::Success, None);
    svc.message = "ClusterIP 10.96.0.12".into();
    let mut job_object = object("Job", "migrate", Status::Success, None);
    job_object.message = "Completed 1/1".into();
    job_object.counts = Some(Counts {
        desired: 1,
        ready: 1,
    });
    let mut job_pod = pod("migrate-5kq7w", &job, Status::Success);
    job_pod.message = "Completed".into();

    let diffs = vec![
        Diff::Upsert(Box::new(ns)),
        Diff::Upsert(Box::new(deploy)),
        Diff::Upsert(Box::new(rs)),
        Diff::Upsert(Box::new(old)),
        Diff::Upsert(Box::new(pod(
            "nginx-7c5ddbdf54-a1b2c",
            &new_rs,
            Status::Success,
        ))),
        Diff::Upsert(Box::new(pod(
            "nginx-7c5ddbdf54-d3e4f",
            &new_rs,
            Status::Success,
        ))),
        Diff::Upsert(Box::new(failing_pod(&new_rs))),
        Diff::Upsert(Box::new(old_pod)),
        Diff::Upsert(Box::new(svc)),
        Diff::Upsert(Box::new(job_object)),
        Diff::Upsert(Box::new(job_pod)),
        Diff::Events(key("Pod", "nginx-7c5ddbdf54-x2x9k"), failing_pod_events()),
    ];
    (roots, diffs)
}

/// An app showing the whole fixture 42 s into tracking, timeout 5m, stabilization 10s.
pub fn app() -> App {
    let (roots, diffs) = rollout();
    let mut app = App::new(
        World::new(roots),
        Tracker::new(Some(Duration::from_mins(5)), Duration::from_secs(10)),
        Header {
            context: "kos-sim".into(),
            namespace: "octopus".into(),
            ..Header::default()
        },
    );
    app.update(
        crate::ui::app::Message::Diffs(diffs),
        Duration::from_secs(40),
    );
    app.update(crate::ui::app::Message::Tick, Duration::from_secs(42));
    app
}

/// The fixture's rollout as Helm release `nginx`, revision 2 pending: the Deployment, Service
/// and Job (a hook) under the release, the Service not created yet.
pub fn release_app() -> App {
    let (roots, diffs) = rollout();
    let release = key("HelmRelease", "nginx");
    let mut world = World::new(std::iter::once(release.clone()).chain(roots).collect());
    for root in world.roots.iter().skip(1).filter(|r| r.kind != "Namespace") {
        world.parents.insert(root.clone(), release.clone());
    }
    let mut row = object("HelmRelease", "nginx", Status::InProgress, None);
    row.api_version = "helm.sh/release.v1".into();
    row.message = "revision 2 · chart nginx-1.2.0 · app 1.27 · pending-upgrade".into();
    // As the graph sends them: the release's objects under it, the hook saying what it is.
    let diffs = std::iter::once(Diff::Upsert(Box::new(row)))
        .chain(diffs.into_iter().filter_map(|diff| match diff {
            Diff::Upsert(object) if object.key.kind == "Service" => None,
            Diff::Upsert(mut object) if world.parents.contains_key(&object.key) => {
                object.owner = Some(release.clone());
                if object.key.kind == "Job" {
                    object.message = format!("pre-upgrade hook: {}", object.message);
                }
                Some(Diff::Upsert(object))
            }
            other => Some(other),
        }))
        .collect();
    let mut app = App::new(
        world,
        Tracker::new(Some(Duration::from_mins(5)), Duration::from_secs(10)),
        Header {
            context: "kos-sim".into(),
            namespace: "octopus".into(),
            ..Header::default()
        },
    );
    app.update(
        crate::ui::app::Message::Diffs(diffs),
        Duration::from_secs(40),
    );
    app
}

/// An app tracking a `RoleBinding` `reader` in each of three namespaces, a Deployment with
/// its `ReplicaSet` and pod in the first, and that Namespace itself; the context's namespace
/// is `default`.
pub fn namespaces_app() -> App {
    let in_ns = |kind: &str, ns: &str, name: &str| ObjectKey::new(kind, Some(ns), name);
    let deployment = in_ns("Deployment", "team-a", "web");
    let rs = in_ns("ReplicaSet", "team-a", "web-5d8f7c");
    let mut roots = vec![
        ObjectKey::new("Namespace", None, "team-a"),
        deployment.clone(),
    ];
    roots.extend(["team-a", "team-b", "team-c"].map(|ns| in_ns("RoleBinding", ns, "reader")));
    let object = |key: &ObjectKey, status, message: &str, owner: Option<&ObjectKey>| {
        let mut object = TrackedObject::for_test(key.clone(), status, owner);
        object.message = message.into();
        Diff::Upsert(Box::new(object))
    };
    let mut diffs = vec![
        object(&roots[0], Status::Success, "Active", None),
        object(
            &deployment,
            Status::InProgress,
            "0/1 replicas available",
            None,
        ),
        object(&rs, Status::InProgress, "0/1 ready", Some(&deployment)),
        object(
            &in_ns("Pod", "team-a", "web-5d8f7c-k2x4p"),
            Status::InProgress,
            "ContainerCreating",
            Some(&rs),
        ),
    ];
    for binding in &roots[2..4] {
        diffs.push(object(binding, Status::Success, "Exists", None));
    }
    let mut app = App::new(
        World::new(roots),
        Tracker::new(Some(Duration::from_mins(5)), Duration::from_secs(10)),
        Header {
            context: "kind-kind".into(),
            namespace: "default".into(),
            ..Header::default()
        },
    );
    app.update(
        crate::ui::app::Message::Diffs(diffs),
        Duration::from_secs(3),
    );
    app
}

/// A big update half way: Deployment `web` (100 replicas) whose new `ReplicaSet` `web-2`
/// has 60 pods (45 ready, 14 starting, one failing) and whose old one, `web-1`, still 50.
/// The new revision went from 10 to 45 ready replicas between 0:30 and 0:40; the view is
/// at 0:42, with a minute's stabilization, so no verdict yet.
pub fn big_app() -> App {
    let web = key("Deployment", "web");
    let new_rs = key("ReplicaSet", "web-2");
    let old_rs = key("ReplicaSet", "web-1");
    let workload = |kind: &str, name: &str, owner: Option<&ObjectKey>, desired, ready| {
        let mut object = object(kind, name, Status::InProgress, owner.cloned());
        object.counts = Some(Counts { desired, ready });
        object.message = format!("{ready}/{desired} replicas available");
        object
    };
    let mut old = workload("ReplicaSet", "web-1", Some(&web), 50, 50);
    old.counted = false;
    old.status = Status::Success;
    let mut diffs = vec![
        Diff::Upsert(Box::new(workload("Deployment", "web", None, 100, 60))),
        Diff::Upsert(Box::new(workload(
            "ReplicaSet",
            "web-2",
            Some(&web),
            60,
            10,
        ))),
        Diff::Upsert(Box::new(old)),
    ];
    for i in 0..60 {
        let status = match i {
            0..45 => Status::Success,
            45..59 => Status::InProgress,
            _ => Status::Failed,
        };
        diffs.push(Diff::Upsert(Box::new(pod(
            &format!("web-2-{i:03}"),
            &new_rs,
            status,
        ))));
    }
    for i in 0..50 {
        let mut old_pod = pod(&format!("web-1-{i:03}"), &old_rs, Status::Success);
        old_pod.counted = false;
        diffs.push(Diff::Upsert(Box::new(old_pod)));
    }
    let mut app = App::new(
        World::new(vec![web.clone()]),
        Tracker::new(Some(Duration::from_mins(5)), Duration::from_mins(1)),
        Header {
            context: "kos-sim".into(),
            namespace: "octopus".into(),
            ..Header::default()
        },
    );
    app.update(
        crate::ui::app::Message::Diffs(diffs),
        Duration::from_secs(30),
    );
    let ready = workload("ReplicaSet", "web-2", Some(&web), 60, 45);
    app.update(
        crate::ui::app::Message::Diffs(vec![Diff::Upsert(Box::new(ready))]),
        Duration::from_secs(40),
    );
    app.update(crate::ui::app::Message::Tick, Duration::from_secs(42));
    app
}
