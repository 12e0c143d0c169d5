//! The simulated cluster's HTTP API, driven over real HTTP with kube-rs: the sim is started
//! in process on a free port (`kos_sim::start`), and every test talks to it as any client
//! would.

// Test helpers: a failed lookup is a failed test.
#![allow(clippy::unwrap_used)]

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kos_sim::{self as sim, Sim, SimConfig};
use kube::api::{
    Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::{Client, Config};
use serde_json::{Value, json};
use std::time::Duration;

/// Real time a test waits for one condition.
const DEADLINE: Duration = Duration::from_secs(20);

async fn cluster() -> (Sim, Client) {
    let sim = sim::start(SimConfig::default()).await.unwrap();
    let client = client_of(&sim, None).await;
    (sim, client)
}

/// A client of the sim through its own kubeconfig, as the admin (the current context) or
/// as `context`'s user.
async fn client_of(sim: &Sim, context: Option<&str>) -> Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig()).unwrap();
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap();
    // As kos does: the tests see the server's 429, 503 and 504 answers, not kube's retries
    // of them (up to 15, with back-off growing towards 1000 s).
    config.default_retry = false;
    Client::try_from(config).unwrap()
}

fn configmap(name: &str, labels: &Value) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels}, "data": {"k": "v"},
    }))
    .unwrap()
}

fn deployment(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [
                                  {"name": "app", "image": image},
                                  {"name": "sidecar", "image": "proxy:1"}]}}},
    })
}

/// The Status of a failed call.
fn status<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A raw request; returns the HTTP code and the body.
async fn raw(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let (code, _, body) = send(client, method, path, content_type, body).await;
    (code, body)
}

/// A raw request; returns the HTTP code, the `Warning` headers and the body.
async fn send(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Vec<String>, Value) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .unwrap();
    let response = client.send(request).await.unwrap();
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let bytes = response.into_body().collect_bytes().await.unwrap();
    (
        code,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

mod crud {
    use super::*;

    #[tokio::test]
    async fn create_get_list_update_delete() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let created = api
            .create(&PostParams::default(), &configmap("a", &json!({})))
            .await
            .unwrap();
        assert!(created.metadata.uid.is_some());
        let mut got = api.get("a").await.unwrap();
        assert_eq!(got.data.as_ref().unwrap()["k"], "v");
        got.data = Some([("k".to_owned(), "w".to_owned())].into());
        let replaced = api
            .replace("a", &PostParams::default(), &got)
            .await
            .unwrap();
        assert_eq!(replaced.data.unwrap()["k"], "w");
        assert_eq!(
            api.list(&ListParams::default()).await.unwrap().items.len(),
            1
        );
        api.delete("a", &DeleteParams::default()).await.unwrap();
        assert!(api.get_opt("a").await.unwrap().is_none());
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn conflicts_are_409() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let first = api
            .create(&PostParams::default(), &configmap("a", &json!({})))
            .await
            .unwrap();
        let again = status(
            api.create(&PostParams::default(), &configmap("a", &json!({})))
                .await,
        );
        assert_eq!((again.code, again.reason.as_str()), (409, "AlreadyExists"));
        let mut changed = first.clone();
        changed.data = Some([("k".to_owned(), "changed".to_owned())].into());
        api.replace("a", &PostParams::default(), &changed)
            .await
            .unwrap();
        // `first` still carries the resourceVersion from before the replace.
        let stale = status(api.replace("a", &PostParams::default(), &first).await);
        assert_eq!((stale.code, stale.reason.as_str()), (409, "Conflict"));
        assert!(
            stale.message.contains("the object has been modified"),
            "{}",
            stale.message
        );
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn bad_requests_get_the_real_codes() {
        let (sim, client) = cluster().await;
        let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
        let missing = status(api.get("nope").await);
        assert_eq!(
            (missing.code, missing.message.as_str()),
            (404, "deployments.apps \"nope\" not found")
        );

        let mut invalid = deployment("web", "nginx");
        invalid["spec"]["template"]["spec"]["containers"] = json!([]);
        let invalid: Deployment = serde_json::from_value(invalid).unwrap();
        let error = status(api.create(&PostParams::default(), &invalid).await);
        assert_eq!(error.code, 422);
        let causes = error.details.unwrap().causes;
        assert_eq!(causes[0].field, "spec.template.spec.containers");

        let elsewhere: Api<ConfigMap> = Api::namespaced(client.clone(), "nowhere");
        let error = status(
            elsewhere
                .create(&PostParams::default(), &configmap("a", &json!({})))
                .await,
        );
        assert_eq!(
            (error.code, error.message.as_str()),
            (404, "namespaces \"nowhere\" not found")
        );

        let (code, body) = raw(
            &client,
            "GET",
            "/apis/example.com/v1/widgets",
            "application/json",
            "",
        )
        .await;
        assert_eq!((code, body["kind"].as_str()), (404, Some("Status")));
        let (code, body) = raw(
            &client,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            "{",
        )
        .await;
        assert_eq!((code, body["reason"].as_str()), (400, Some("BadRequest")));
        api.create(
            &PostParams::default(),
            &serde_json::from_value(deployment("web", "nginx")).unwrap(),
        )
        .await
        .unwrap();
        let (code, body) = raw(
            &client,
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/web",
            "text/plain",
            "{}",
        )
        .await;
        assert_eq!(
            (code, body["reason"].as_str()),
            (415, Some("UnsupportedMediaType"))
        );
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn dry_run_stores_nothing() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let params = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        let preview = api
            .create(&params, &configmap("a", &json!({})))
            .await
            .unwrap();
        assert_eq!(preview.metadata.name.as_deref(), Some("a"));
        assert!(api.get_opt("a").await.unwrap().is_none());
        let applied = api
            .patch(
                "b",
                &PatchParams::apply("kos").dry_run(),
                &Patch::Apply(configmap("b", &json!({}))),
            )
            .await
            .unwrap();
        assert_eq!(applied.data.unwrap()["k"], "v");
        assert!(api.get_opt("b").await.unwrap().is_none());
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn deleting_a_namespace_deletes_its_objects() {
        let (sim, client) = cluster().await;
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace =
            serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap();
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
        let api: Api<ConfigMap> = Api::namespaced(client, "doomed");
        api.create(&PostParams::default(), &configmap("a", &json!({})))
            .await
            .unwrap();
        let deleted = namespaces
            .delete("doomed", &DeleteParams::default())
            .await
            .unwrap();
        let terminating = deleted.left().unwrap();
        assert_eq!(
            terminating.status.unwrap().phase.as_deref(),
            Some("Terminating")
        );
        let deadline = tokio::time::Instant::now() + DEADLINE;
        // Wait on the namespace's DELETED event rather than polling.
        let params = WatchParams::default().fields("metadata.name=doomed");
        let mut events = namespaces.watch(&params, "0").await.unwrap().boxed();
        loop {
            match tokio::time::timeout_at(deadline, events.try_next())
                .await
                .unwrap()
                .unwrap()
            {
                Some(WatchEvent::Deleted(_)) => break,
                Some(_) => {}
                None => panic!("the watch ended"),
            }
        }
        assert!(sim.store.list("configmaps", Some("doomed")).0.is_empty());
        sim.shutdown().await;
    }
}

mod patches {
    use super::*;

    async fn web(client: &Client) -> Api<Deployment> {
        let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
        let object: Deployment = serde_json::from_value(deployment("web", "app:1")).unwrap();
        api.create(&PostParams::default(), &object).await.unwrap();
        api
    }

    fn images(deployment: &Deployment) -> Vec<(String, String)> {
        let spec = deployment.spec.template.spec.as_ref().unwrap();
        spec.containers
            .iter()
            .map(|c| (c.name.clone(), c.image.clone().unwrap()))
            .collect()
    }

    #[tokio::test]
    async fn merge_json_and_strategic_patches() {
        let (sim, client) = cluster().await;
        let api = web(&client).await;
        let params = PatchParams::default();
        let merged = api
            .patch(
                "web",
                &params,
                &Patch::Merge(json!({"spec": {"replicas": 3}})),
            )
            .await
            .unwrap();
        assert_eq!(merged.spec.replicas, Some(3));
        let operations: json_patch::Patch = serde_json::from_value(
            json!([{"op": "replace", "path": "/spec/replicas", "value": 2}]),
        )
        .unwrap();
        let patched = api
            .patch("web", &params, &Patch::Json::<()>(operations))
            .await
            .unwrap();
        assert_eq!(patched.spec.replicas, Some(2));
        // What `kubectl set image` sends: the container list merges by name.
        let strategic = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}});
        let patched = api
            .patch("web", &params, &Patch::Strategic(strategic))
            .await
            .unwrap();
        assert_eq!(
            images(&patched),
            [
                ("app".to_owned(), "app:2".to_owned()),
                ("sidecar".to_owned(), "proxy:1".to_owned())
            ]
        );
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn server_side_apply_creates_updates_conflicts_and_forces() {
        let (sim, client) = cluster().await;
        let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
        let ssa = PatchParams::apply("kos");
        let created = api
            .patch("web", &ssa, &Patch::Apply(deployment("web", "app:1")))
            .await
            .unwrap();
        let managers: Vec<_> = created
            .metadata
            .managed_fields
            .clone()
            .unwrap()
            .into_iter()
            .map(|m| (m.manager.unwrap(), m.operation.unwrap()))
            .collect();
        assert_eq!(managers, [("kos".to_owned(), "Apply".to_owned())]);
        // Applying the same configuration again changes nothing, defaults included.
        let again = api
            .patch("web", &ssa, &Patch::Apply(deployment("web", "app:1")))
            .await
            .unwrap();
        // (The controller writes the status meanwhile: compare what the apply could touch.)
        assert_eq!(again.spec, created.spec);
        assert_eq!(
            again.metadata.managed_fields,
            created.metadata.managed_fields
        );
        assert_eq!(again.metadata.generation, Some(1));
        let updated = api
            .patch("web", &ssa, &Patch::Apply(deployment("web", "app:2")))
            .await
            .unwrap();
        assert_eq!(images(&updated)[0].1, "app:2");

        // Another manager changes replicas; kos applying a different value conflicts.
        let scale = PatchParams {
            field_manager: Some("kubectl-scale".into()),
            ..PatchParams::default()
        };
        api.patch(
            "web",
            &scale,
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
        let error = status(
            api.patch("web", &ssa, &Patch::Apply(deployment("web", "app:2")))
                .await,
        );
        assert_eq!(error.code, 409);
        assert_eq!(
            error.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
        );
        let cause = &error.details.unwrap().causes[0];
        assert_eq!(
            (cause.field.as_str(), cause.reason.as_str()),
            (".spec.replicas", "FieldManagerConflict")
        );
        let forced = api
            .patch(
                "web",
                &ssa.clone().force(),
                &Patch::Apply(deployment("web", "app:2")),
            )
            .await
            .unwrap();
        assert_eq!(forced.spec.replicas, Some(1));

        // A field kos no longer applies is removed.
        let mut without_sidecar = deployment("web", "app:2");
        without_sidecar["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .pop();
        let trimmed = api
            .patch("web", &ssa, &Patch::Apply(without_sidecar))
            .await
            .unwrap();
        assert_eq!(images(&trimmed), [("app".to_owned(), "app:2".to_owned())]);
        sim.shutdown().await;
    }
}

mod subresources {
    use super::*;
    use k8s_openapi::api::core::v1::ReplicationController;

    #[tokio::test]
    async fn status_and_scale_write_only_their_part() {
        let (sim, client) = cluster().await;
        // No controller of the simulator runs ReplicationControllers, so only this test
        // writes their status.
        let controllers: Api<ReplicationController> = Api::namespaced(client.clone(), "default");
        let controller = json!({"metadata": {"name": "rc"}, "spec": {"replicas": 1,
            "selector": {"app": "rc"}, "template": {"metadata": {"labels": {"app": "rc"}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}});
        controllers
            .create(
                &PostParams::default(),
                &serde_json::from_value(controller).unwrap(),
            )
            .await
            .unwrap();
        let counted = |n: i32| json!({"status": {"replicas": n}, "spec": {"replicas": n}});
        let params = PatchParams::default();
        let patched = controllers
            .patch_status("rc", &params, &Patch::Merge(counted(3)))
            .await
            .unwrap();
        assert_eq!(patched.status.as_ref().unwrap().replicas, 3);
        let replicas = |c: &ReplicationController| c.spec.as_ref().unwrap().replicas;
        assert_eq!(replicas(&patched), Some(1), "status keeps the spec");
        let patched = controllers
            .patch("rc", &params, &Patch::Merge(counted(2)))
            .await
            .unwrap();
        assert_eq!(replicas(&patched), Some(2));
        assert_eq!(
            patched.status.unwrap().replicas,
            3,
            "the main resource keeps the status"
        );

        let api: Api<Deployment> = Api::namespaced(client, "default");
        let object: Deployment = serde_json::from_value(deployment("web", "app:1")).unwrap();
        api.create(&PostParams::default(), &object).await.unwrap();
        api.patch(
            "web",
            &params,
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .unwrap();
        let scale = api.get_scale("web").await.unwrap();
        assert_eq!(scale.spec.unwrap().replicas, Some(2));
        let scaled = api
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 4}})),
            )
            .await
            .unwrap();
        assert_eq!(scaled.spec.unwrap().replicas, Some(4));
        assert_eq!(api.get("web").await.unwrap().spec.replicas, Some(4));
        sim.shutdown().await;
    }
}

mod watching {
    use super::*;
    use kube::runtime::{WatchStreamExt, reflector, watcher};

    async fn next_event(
        events: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> + Unpin),
    ) -> WatchEvent<ConfigMap> {
        loop {
            let event = tokio::time::timeout(DEADLINE, events.try_next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if !matches!(event, WatchEvent::Bookmark(_)) {
                return event;
            }
        }
    }

    #[tokio::test]
    async fn watch_delivers_changes_and_resumes() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let start = api
            .list(&ListParams::default())
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap();
        let mut events = api
            .watch(&WatchParams::default(), &start)
            .await
            .unwrap()
            .boxed();
        api.create(&PostParams::default(), &configmap("a", &json!({})))
            .await
            .unwrap();
        api.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "2"}})),
        )
        .await
        .unwrap();
        api.delete("a", &DeleteParams::default()).await.unwrap();
        assert!(matches!(
            next_event(&mut events).await,
            WatchEvent::Added(_)
        ));
        let WatchEvent::Modified(modified) = next_event(&mut events).await else {
            panic!("not modified")
        };
        assert!(matches!(
            next_event(&mut events).await,
            WatchEvent::Deleted(_)
        ));
        drop(events);

        // Resuming from the MODIFIED event's version replays only what came after it.
        let version = modified.metadata.resource_version.unwrap();
        let mut resumed = api
            .watch(&WatchParams::default(), &version)
            .await
            .unwrap()
            .boxed();
        assert!(matches!(
            next_event(&mut resumed).await,
            WatchEvent::Deleted(_)
        ));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_version_past_the_history_is_410_and_bookmarks_come_when_asked() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let start = sim.store.revision();
        api.create(&PostParams::default(), &configmap("a", &json!({})))
            .await
            .unwrap();
        // More changes than the history keeps (100 × 1024).
        for i in 0..105_000 {
            sim.store
                .mutate("configmaps", "default", "a", |o| o["data"]["k"] = json!(i))
                .unwrap();
        }
        let mut events = api
            .watch(&WatchParams::default(), &start.to_string())
            .await
            .unwrap()
            .boxed();
        let WatchEvent::Error(error) = next_event(&mut events).await else {
            panic!("no error event")
        };
        assert_eq!((error.code, error.reason.as_str()), (410, "Expired"));

        let now = sim.store.revision().to_string();
        // kube-rs asks for bookmarks unless told not to.
        let mut events = api
            .watch(&WatchParams::default(), &now)
            .await
            .unwrap()
            .boxed();
        let bookmark = tokio::time::timeout(DEADLINE, async {
            loop {
                if let WatchEvent::Bookmark(b) = events.try_next().await.unwrap().unwrap() {
                    return b;
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(bookmark.metadata.resource_version, now);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_watcher_that_falls_behind_the_live_feed_carries_on_from_the_history() {
        const CHANGES: usize = 20_000;
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let start = sim.store.revision().to_string();
        let mut events = api
            .watch(&WatchParams::default(), &start)
            .await
            .unwrap()
            .boxed();
        // Nobody reads the watch while 20 000 changes of 2 KB go by: far more than the
        // connection buffers and the server's live feed (8 192 events) hold, fewer than
        // its history keeps.
        let filler = "x".repeat(2048);
        for i in 0..CHANGES {
            let object = json!({"metadata": {"name": format!("cm-{i:05}"), "namespace": "default"},
                                "data": {"filler": filler}});
            sim.store.create("configmaps", object).unwrap();
        }
        for i in 0..CHANGES {
            let WatchEvent::Added(added) = next_event(&mut events).await else {
                panic!("change {i} is not an ADDED event")
            };
            assert_eq!(added.metadata.name.unwrap(), format!("cm-{i:05}"));
        }
        api.create(&PostParams::default(), &configmap("after", &json!({})))
            .await
            .unwrap();
        let WatchEvent::Added(after) = next_event(&mut events).await else {
            panic!("the watch did not carry on")
        };
        assert_eq!(after.metadata.name.as_deref(), Some("after"));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn selectors_filter_watches() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let params = WatchParams::default().labels("app=web");
        let mut events = api.watch(&params, "0").await.unwrap().boxed();
        api.create(
            &PostParams::default(),
            &configmap("other", &json!({"app": "db"})),
        )
        .await
        .unwrap();
        api.create(
            &PostParams::default(),
            &configmap("web", &json!({"app": "web"})),
        )
        .await
        .unwrap();
        let WatchEvent::Added(added) = next_event(&mut events).await else {
            panic!("not added")
        };
        assert_eq!(added.metadata.name.as_deref(), Some("web"));
        // Leaving the selector reads as DELETED, entering it as ADDED.
        let relabel = |app: &str| Patch::Merge(json!({"metadata": {"labels": {"app": app}}}));
        api.patch("web", &PatchParams::default(), &relabel("db"))
            .await
            .unwrap();
        assert!(matches!(
            next_event(&mut events).await,
            WatchEvent::Deleted(_)
        ));
        api.patch("other", &PatchParams::default(), &relabel("web"))
            .await
            .unwrap();
        let WatchEvent::Added(entered) = next_event(&mut events).await else {
            panic!("not added")
        };
        assert_eq!(entered.metadata.name.as_deref(), Some("other"));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn the_kube_rs_watcher_and_reflector_see_objects() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        api.create(&PostParams::default(), &configmap("before", &json!({})))
            .await
            .unwrap();
        let (reader, writer) = reflector::store();
        let mut applied = reflector(writer, watcher(api.clone(), watcher::Config::default()))
            .applied_objects()
            .boxed();
        let mut seen = Vec::new();
        while !seen.contains(&"after".to_owned()) {
            let next = tokio::time::timeout(DEADLINE, applied.try_next())
                .await
                .unwrap();
            seen.push(next.unwrap().unwrap().metadata.name.unwrap());
            if seen == ["before"] {
                api.create(&PostParams::default(), &configmap("after", &json!({})))
                    .await
                    .unwrap();
            }
        }
        let mut names: Vec<_> = reader
            .state()
            .iter()
            .map(|c| c.metadata.name.clone().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["after", "before"]);
        sim.shutdown().await;
    }
}

mod listing {
    use super::*;

    #[tokio::test]
    async fn a_resource_version_from_the_future_is_504_too_large_for_lists_and_watches() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let current = api.list(&ListParams::default()).await.unwrap();
        let current: u64 = current.metadata.resource_version.unwrap().parse().unwrap();
        let ahead = (current + 1000).to_string();
        let list = api
            .list(&ListParams::default().at(&ahead))
            .await
            .unwrap_err();
        let watch = api
            .watch(&WatchParams::default(), &ahead)
            .await
            .err()
            .expect("a watch from the future is refused");
        for error in [list, watch] {
            let kube::Error::Api(status) = error else {
                panic!("not an API error: {error:?}");
            };
            assert_eq!(status.code, 504);
            assert_eq!(status.reason, "Timeout");
            assert_eq!(
                status.message,
                format!("Too large resource version: {ahead}, current: {current}")
            );
        }
        // Not ahead: answered as usual.
        api.list(&ListParams::default().at(&current.to_string()))
            .await
            .unwrap();
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn label_and_field_selectors_and_paging() {
        let (sim, client) = cluster().await;
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        for (name, app) in [
            ("a", "web"),
            ("b", "web"),
            ("c", "db"),
            ("d", "web"),
            ("e", "web"),
        ] {
            api.create(
                &PostParams::default(),
                &configmap(name, &json!({"app": app})),
            )
            .await
            .unwrap();
        }
        let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
            list.items
                .into_iter()
                .map(|c| c.metadata.name.unwrap())
                .collect()
        };
        let web = api
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap();
        assert_eq!(names(web), ["a", "b", "d", "e"]);
        let by_name = api
            .list(&ListParams::default().fields("metadata.name=c"))
            .await
            .unwrap();
        assert_eq!(names(by_name), ["c"]);

        let first = api.list(&ListParams::default().limit(2)).await.unwrap();
        let token = first.metadata.continue_.clone().unwrap();
        assert_eq!(first.metadata.remaining_item_count, Some(3));
        let version = first.metadata.resource_version.clone();
        assert_eq!(names(first), ["a", "b"]);
        let second = api
            .list(&ListParams::default().limit(2).continue_token(&token))
            .await
            .unwrap();
        assert_eq!(second.metadata.resource_version, version);
        let token = second.metadata.continue_.clone().unwrap();
        assert_eq!(names(second), ["c", "d"]);
        let last = api
            .list(&ListParams::default().limit(2).continue_token(&token))
            .await
            .unwrap();
        assert!(last.metadata.continue_.is_none());
        assert_eq!(names(last), ["e"]);

        // Any version (`resourceVersion=0`) comes from the "watch cache" in one piece, as
        // a real API server serves it, whatever the limit.
        let (code, cached) = raw(
            &client,
            "GET",
            "/api/v1/namespaces/default/configmaps?limit=2&resourceVersion=0",
            "application/json",
            "",
        )
        .await;
        assert_eq!(code, 200);
        assert_eq!(cached["items"].as_array().map(Vec::len), Some(5));
        assert!(cached["metadata"].get("continue").is_none());
        sim.shutdown().await;
    }
}

mod custom_resources {
    use super::*;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
    use kube::discovery::Discovery;

    fn crd() -> CustomResourceDefinition {
        serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                     "versions": [{"name": "v1", "served": true, "storage": true,
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                              "x-kubernetes-preserve-unknown-fields": true}}}]},
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_crd_is_established_and_its_resources_served() {
        let (sim, client) = cluster().await;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(&PostParams::default(), &crd()).await.unwrap();
        let established = crds.get("widgets.example.com").await.unwrap();
        let conditions = established.status.unwrap().conditions.unwrap();
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        );

        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("example.com", "v1", "Widget"),
            "widgets",
        );
        let widgets: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), "default", &resource);
        let widget: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w1"}, "spec": {"size": 3},
        }))
        .unwrap();
        widgets
            .create(&PostParams::default(), &widget)
            .await
            .unwrap();
        let got = widgets.get("w1").await.unwrap();
        assert_eq!(got.data["spec"]["size"], 3);
        widgets
            .patch(
                "w1",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"size": 4}})),
            )
            .await
            .unwrap();
        assert_eq!(widgets.get("w1").await.unwrap().data["spec"]["size"], 4);

        for discovery in [
            Discovery::new(client.clone()).run().await.unwrap(),
            Discovery::new(client.clone())
                .run_aggregated()
                .await
                .unwrap(),
        ] {
            let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
            assert!(discovery.resolve_gvk(&gvk).is_some());
            let (found, _) = discovery
                .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
                .unwrap();
            assert_eq!(found.plural, "widgets");
        }

        crds.delete("widgets.example.com", &DeleteParams::default())
            .await
            .unwrap();
        let gone = status(widgets.get("w1").await);
        assert_eq!(gone.code, 404);
        sim.shutdown().await;
    }
}

mod faults {
    use super::*;
    use kos_sim::faults::Faults;
    use std::sync::Arc;

    async fn faulty(spec: &str) -> (Sim, Client) {
        let faults: Faults = spec.parse().unwrap();
        let config = SimConfig {
            faults: Arc::new(faults),
            ..SimConfig::default()
        };
        let sim = sim::start(config).await.unwrap();
        let client = client_of(&sim, None).await;
        (sim, client)
    }

    /// Reads a watch until it ends; panics past the deadline.
    async fn until_the_end(
        events: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> + Unpin),
    ) -> Vec<WatchEvent<ConfigMap>> {
        let mut seen = Vec::new();
        while let Some(event) = tokio::time::timeout(DEADLINE, events.next()).await.unwrap() {
            if let Ok(event) = event {
                seen.push(event);
            }
        }
        seen
    }

    #[tokio::test]
    async fn forbidden_verbs_are_403() {
        let (sim, client) = faulty("forbid=create:configmaps").await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let error = status(
            api.create(&PostParams::default(), &configmap("a", &json!({})))
                .await,
        );
        assert_eq!((error.code, error.reason.as_str()), (403, "Forbidden"));
        api.list(&ListParams::default()).await.unwrap();
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn watches_are_cut_and_resumes_get_410() {
        let (sim, client) = faulty("drop-watch=200ms,gone-on-rewatch=1").await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let mut fresh = api
            .watch(&WatchParams::default(), "0")
            .await
            .unwrap()
            .boxed();
        // Ends by itself, long before its 290 s timeout.
        until_the_end(&mut fresh).await;
        let version = sim.store.revision().to_string();
        let mut resumed = api
            .watch(&WatchParams::default(), &version)
            .await
            .unwrap()
            .boxed();
        let events = until_the_end(&mut resumed).await;
        assert!(
            matches!(events.as_slice(), [WatchEvent::Error(e)] if e.code == 410),
            "{events:?}"
        );
        sim.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restart_cuts_a_request_that_would_outlive_it() {
        // A followed log ends only with its container. A real API server's restart drops it
        // with every other connection; were it waited for, the port would stay closed for
        // as long as someone follows a log.
        let config = SimConfig {
            faults: Arc::new("restart-every=2s".parse::<Faults>().unwrap()),
            speed: 20.0,
            ..SimConfig::default()
        };
        let sim = sim::start(config).await.unwrap();
        let pods: Api<Pod> = Api::namespaced(client_of(&sim, None).await, "default");
        let pod = serde_json::from_value(json!({
            "metadata": {"name": "tail"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
        }))
        .unwrap();
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let follow = LogParams {
            follow: true,
            ..LogParams::default()
        };
        // Tries again through the restarts until it is answered.
        let mut created = false;
        let mut log = loop {
            assert!(tokio::time::Instant::now() < deadline, "no followed log");
            if !created {
                created = pods.create(&PostParams::default(), &pod).await.is_ok();
            } else if let Ok(log) = pods.log_stream("tail", &follow).await {
                break log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mut line = Vec::new();
        // Read until the next restart cuts it (an error or the end, as the client sees it).
        while let Ok(Ok(read)) = tokio::time::timeout_at(
            deadline,
            futures::AsyncBufReadExt::read_until(&mut log, b'\n', &mut line),
        )
        .await
        {
            if read == 0 {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a restart left the followed log open"
        );
        // And the server answers again.
        while pods.get("tail").await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server never came back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn restarts_drop_connections_and_come_back_with_the_objects() {
        let (sim, client) = faulty("restart-every=500ms").await;
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        api.create(&PostParams::default(), &configmap("kept", &json!({})))
            .await
            .unwrap();
        let mut events = api
            .watch(&WatchParams::default(), "0")
            .await
            .unwrap()
            .boxed();
        until_the_end(&mut events).await;
        // The port is closed for a while...
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while tokio::net::TcpStream::connect(sim.addr).await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the port never closed"
            );
            tokio::task::yield_now().await;
        }
        // ... then serves again, with what was stored before.
        loop {
            if let Ok(kept) = api.get("kept").await {
                assert_eq!(kept.metadata.name.as_deref(), Some("kept"));
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server never came back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sim.shutdown().await;
    }
}

mod kinds {
    use super::*;
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use k8s_openapi::api::rbac::v1::ClusterRole;
    use k8s_openapi::api::storage::v1::StorageClass;

    #[tokio::test]
    async fn kinds_beyond_the_workloads_are_served_with_their_scope() {
        let (_sim, client) = cluster().await;
        let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), "default");
        let policy = serde_json::from_value(json!({
            "metadata": {"name": "deny"}, "spec": {"podSelector": {}}}))
        .unwrap();
        policies
            .create(&PostParams::default(), &policy)
            .await
            .unwrap();
        assert_eq!(
            policies
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len(),
            1
        );
        let classes: Api<StorageClass> = Api::all(client.clone());
        let class = serde_json::from_value(json!({
            "metadata": {"name": "fast"}, "provisioner": "example.com/fast"}))
        .unwrap();
        classes
            .create(&PostParams::default(), &class)
            .await
            .unwrap();
        assert_eq!(
            classes.get("fast").await.unwrap().provisioner,
            "example.com/fast"
        );
        // RBAC names are path segments: ':' is fine, '/' is not.
        let roles: Api<ClusterRole> = Api::all(client);
        for (name, code) in [
            ("system:aggregated-metrics-reader", None),
            ("a%b", Some(422)),
        ] {
            let role = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
            let result = roles.create(&PostParams::default(), &role).await;
            assert_eq!(
                result.err().map(|e| status(Err::<(), _>(e)).code),
                code,
                "{name}"
            );
        }
    }

    #[tokio::test]
    async fn field_validation_refuses_warns_or_ignores_unknown_fields() {
        let (_sim, client) = cluster().await;
        let path = "/api/v1/namespaces/default/configmaps";
        let body = |name: &str| json!({"metadata": {"name": name}, "dta": {"k": "v"}}).to_string();
        let (code, _, error) = send(
            &client,
            "POST",
            &format!("{path}?fieldValidation=Strict"),
            "application/json",
            &body("a"),
        )
        .await;
        assert_eq!(code, 400);
        assert_eq!(
            error["message"],
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"dta\""
        );
        let (code, warnings, _) = send(&client, "POST", path, "application/json", &body("b")).await;
        assert_eq!(
            (code, warnings),
            (201, vec![r#"299 - "unknown field \"dta\"""#.to_owned()])
        );
        let (code, warnings, _) = send(
            &client,
            "POST",
            &format!("{path}?fieldValidation=Ignore"),
            "application/json",
            &body("c"),
        )
        .await;
        assert_eq!((code, warnings.len()), (201, 0));
        let applied = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndta: {k: v}\n";
        let (code, _, error) = send(
            &client,
            "PATCH",
            &format!("{path}/d?fieldManager=t&fieldValidation=Strict"),
            "application/apply-patch+yaml",
            applied,
        )
        .await;
        assert_eq!(code, 400);
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .ends_with(".dta: field not declared in schema"),
            "{error}"
        );
        let (code, _, error) = send(
            &client,
            "PATCH",
            &format!("{path}/b?fieldValidation=Strict"),
            "application/merge-patch+json",
            r#"{"dat": {"x": "y"}}"#,
        )
        .await;
        assert_eq!(code, 400, "{error}");
    }
}

/// Objects whose readiness the controllers bring about: webhooks and aggregated APIs answer
/// once the pods behind their Service are ready.
mod served_by_pods {
    use super::*;

    /// Creates `kind` objects at `path` through the raw API.
    async fn post(client: &Client, path: &str, object: &Value) -> (u16, Value) {
        raw(
            client,
            "POST",
            path,
            "application/json",
            &object.to_string(),
        )
        .await
    }

    /// A Service `name` in `ns` on port 443 (`https`), and a Deployment of one pod it selects.
    async fn backend(client: &Client, ns: &str, name: &str) {
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": {"app": name},
                     "ports": [{"name": "https", "port": 443, "targetPort": 10250}]}});
        let path = format!("/api/v1/namespaces/{ns}/services");
        assert_eq!(post(client, &path, &service).await.0, 201);
        let mut workload = deployment(name, "registry.k8s.io/server:1");
        workload["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "server", "image": "registry.k8s.io/server:1"}]);
        let path = format!("/apis/apps/v1/namespaces/{ns}/deployments");
        assert_eq!(post(client, &path, &workload).await.0, 201);
    }

    /// Repeats `attempt` until it gives something, or fails the test at the deadline.
    async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
        what: &str,
        mut attempt: impl FnMut() -> F,
    ) -> T {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Some(found) = attempt().await {
                return found;
            }
            assert!(tokio::time::Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn webhook_configuration(name: &str, policy: &str, resources: &str, service: &str) -> Value {
        json!({"apiVersion": "admissionregistration.k8s.io/v1",
               "kind": "ValidatingWebhookConfiguration", "metadata": {"name": name},
               "webhooks": [{"name": format!("{name}.example.com"), "failurePolicy": policy,
                   "sideEffects": "None", "admissionReviewVersions": ["v1"],
                   "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""],
                              "apiVersions": ["v1"], "resources": [resources]}],
                   "clientConfig": {"service": {"namespace": "default", "name": service,
                                                "path": "/validate"}}}]})
    }

    const CONFIGURATIONS: &str =
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

    #[tokio::test]
    async fn a_webhook_without_endpoints_fails_requests_until_its_pods_are_ready() {
        let (sim, client) = cluster().await;
        let strict = webhook_configuration("guard", "Fail", "configmaps", "guard");
        assert_eq!(post(&client, CONFIGURATIONS, &strict).await.0, 201);
        let lenient = webhook_configuration("lenient", "Ignore", "secrets", "absent");
        assert_eq!(post(&client, CONFIGURATIONS, &lenient).await.0, 201);
        let configmaps = "/api/v1/namespaces/default/configmaps";
        let map = serde_json::to_value(configmap("settings", &json!({}))).unwrap();
        let failed = |service: &str, reason: &str| {
            format!(
                "Internal error occurred: failed calling webhook \"guard.example.com\": failed \
                 to call webhook: Post \"https://{service}.default.svc:443/validate?timeout=10s\": \
                 {reason}"
            )
        };
        // No Service at all, then a Service without ready pods.
        let (code, error) = post(&client, configmaps, &map).await;
        assert_eq!(
            (code, &error["reason"]),
            (500, &json!("InternalError")),
            "{error}"
        );
        assert_eq!(
            error["message"],
            failed("guard", "service \"guard\" not found")
        );
        backend(&client, "default", "guard").await;
        let (code, error) = post(&client, configmaps, &map).await;
        assert_eq!(code, 500);
        assert_eq!(
            error["message"],
            failed("guard", "no endpoints available for service \"guard\"")
        );
        // A dry run calls the webhook too.
        let (code, _) = post(&client, &format!("{configmaps}?dryRun=All"), &map).await;
        assert_eq!(code, 500);
        // `Ignore` lets requests through; configurations themselves are never intercepted.
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
        assert_eq!(
            post(&client, "/api/v1/namespaces/default/secrets", &secret)
                .await
                .0,
            201
        );
        let lenient = webhook_configuration("lenient", "Fail", "*", "absent");
        let (code, _) = raw(
            &client,
            "PUT",
            &format!("{CONFIGURATIONS}/lenient"),
            "application/json",
            &lenient.to_string(),
        )
        .await;
        assert_eq!(code, 200);
        let (code, _) = raw(
            &client,
            "DELETE",
            &format!("{CONFIGURATIONS}/lenient"),
            "application/json",
            "",
        )
        .await;
        assert_eq!(code, 200);
        // Once the webhook's pod is ready, it answers (allowed).
        eventually("the webhook answers", || async {
            let (code, _) = post(&client, configmaps, &map).await;
            (code == 201).then_some(())
        })
        .await;
        // A webhook whose configuration says so denies what it matches.
        let patch = json!({"metadata": {"annotations": {"sim.kos.dev/deny": "no settings today"}}});
        let (code, _) = raw(
            &client,
            "PATCH",
            &format!("{CONFIGURATIONS}/guard"),
            "application/merge-patch+json",
            &patch.to_string(),
        )
        .await;
        assert_eq!(code, 200);
        let other = serde_json::to_value(configmap("other", &json!({}))).unwrap();
        let (code, error) = post(&client, configmaps, &other).await;
        assert_eq!(
            (code, error["message"].as_str().unwrap()),
            (
                403,
                "admission webhook \"guard.example.com\" denied the request: no settings today"
            )
        );
        sim.shutdown().await;
    }

    const METRICS: &str = "/apis/metrics.k8s.io/v1beta1";

    #[tokio::test]
    async fn an_aggregated_api_without_endpoints_is_unavailable_until_its_pods_are_ready() {
        let (sim, client) = cluster().await;
        let apiservice = json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1",
                     "groupPriorityMinimum": 100, "versionPriority": 100,
                     "insecureSkipTLSVerify": true,
                     "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}}});
        let path = "/apis/apiregistration.k8s.io/v1/apiservices";
        assert_eq!(post(&client, path, &apiservice).await.0, 201);
        let condition = || async {
            let (_, object) = raw(
                &client,
                "GET",
                &format!("{path}/v1beta1.metrics.k8s.io"),
                "",
                "",
            )
            .await;
            object["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Available").cloned())
        };
        let missing = eventually("the ServiceNotFound condition", || async {
            condition()
                .await
                .filter(|c| c["reason"] == "ServiceNotFound")
        })
        .await;
        assert_eq!(
            (missing["status"].as_str(), missing["message"].as_str()),
            (
                Some("False"),
                Some("service/metrics-server in \"kube-system\" is not present")
            )
        );
        let (code, _) = raw(&client, "GET", METRICS, "", "").await;
        assert_eq!(code, 503);
        let (code, _) = raw(&client, "GET", &format!("{METRICS}/pods"), "", "").await;
        assert_eq!(code, 503);
        let stale = aggregated_version(&client, "metrics.k8s.io").await;
        assert_eq!(stale["freshness"], "Stale");
        backend(&client, "kube-system", "metrics-server").await;
        let passed = eventually("the Passed condition", || async {
            condition().await.filter(|c| c["status"] == "True")
        })
        .await;
        assert_eq!(passed["reason"], "Passed");
        let (code, list) = raw(&client, "GET", METRICS, "", "").await;
        assert_eq!(code, 200);
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["nodes", "pods"]);
        assert_eq!(
            aggregated_version(&client, "metrics.k8s.io").await["freshness"],
            "Current"
        );
        let pods =
            format!("{METRICS}/namespaces/kube-system/pods?labelSelector=app%3Dmetrics-server");
        let (code, metrics) = raw(&client, "GET", &pods, "", "").await;
        assert_eq!((code, &metrics["kind"]), (200, &json!("PodMetricsList")));
        let sample = &metrics["items"][0];
        assert_eq!(sample["containers"][0]["name"], "server");
        assert_eq!(sample["containers"][0]["usage"]["cpu"], "5m");
        let (code, nodes) = raw(&client, "GET", &format!("{METRICS}/nodes"), "", "").await;
        assert_eq!((code, &nodes["kind"]), (200, &json!("NodeMetricsList")));
        sim.shutdown().await;
    }

    /// The version entry of `group` in the aggregated discovery of `/apis`.
    async fn aggregated_version(client: &Client, group: &str) -> Value {
        let request = axum::http::Request::builder()
            .uri("/apis")
            .header(
                "accept",
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            )
            .body(kube::client::Body::empty())
            .unwrap();
        let response = client.send(request).await.unwrap();
        let bytes = response.into_body().collect_bytes().await.unwrap();
        let list: Value = serde_json::from_slice(&bytes).unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == group)
            .map(|g| g["versions"][0].clone())
            .unwrap()
    }
}
