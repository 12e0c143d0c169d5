//! End to end: `kos watch helm/NAME` against `kos sim serve`, with no Helm binary. The tests
//! store release records as Helm does — a Secret of type `helm.sh/release.v1` (or, for
//! `HELM_DRIVER=configmap`, a `ConfigMap`) named `sh.helm.release.v1.NAME.vN`, labelled
//! `owner=helm`, `name`, `status` and `version`, holding the release as base64 text of
//! gzip-compressed JSON — and the release's objects, in the order `helm upgrade` writes them.

mod common;

use base64::Engine;
use common::*;
use serde_json::{Value, json};
use std::io::Write;
use std::process::Output;
use std::time::{Duration, Instant};

/// A value of the releases' `config` (their values): it must never be shown.
const SECRET_VALUE: &str = "hunter2-values";

/// Helm's encoding of a release: its JSON, gzip-compressed, as base64 text.
fn encode(release: &Value) -> String {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(release.to_string().as_bytes())
        .expect("gzip");
    base64::engine::general_purpose::STANDARD.encode(gzip.finish().expect("gzip"))
}

/// Revision `version` of release `name` in `ns`, as Helm's JSON has it.
fn release(
    ns: &str,
    name: &str,
    version: u64,
    status: &str,
    description: &str,
    manifest: &str,
    hooks: &Value,
) -> Value {
    json!({
        "name": name,
        "namespace": ns,
        "version": version,
        "info": {
            "first_deployed": "2026-01-01T00:00:00Z",
            "last_deployed": "2026-01-01T00:00:00Z",
            "deleted": "",
            "description": description,
            "status": status,
        },
        "chart": {
            "metadata": {"name": name, "version": format!("1.{version}.0"), "appVersion": "1.25"},
            "values": {"password": SECRET_VALUE},
            "templates": [],
        },
        "config": {"password": SECRET_VALUE},
        "manifest": manifest,
        "hooks": hooks,
    })
}

/// Where Helm stores a release.
#[derive(Clone, Copy)]
enum Driver {
    Secrets,
    ConfigMaps,
}

/// The record of `release` as a manifest document: what Helm's storage driver writes.
fn record(release: &Value, driver: Driver) -> String {
    let name = release["name"].as_str().expect("name");
    let ns = release["namespace"].as_str().expect("namespace");
    let version = &release["version"];
    let status = release["info"]["status"].as_str().expect("status");
    let stored = encode(release);
    let (kind, kind_lines) = match driver {
        // A Secret's value is base64 of the bytes stored, and Helm stores base64 text.
        Driver::Secrets => (
            "Secret",
            format!(
                "type: helm.sh/release.v1\ndata:\n  release: {}\n",
                base64::engine::general_purpose::STANDARD.encode(&stored)
            ),
        ),
        Driver::ConfigMaps => ("ConfigMap", format!("data:\n  release: {stored}\n")),
    };
    format!(
        "apiVersion: v1
kind: {kind}
metadata:
  name: sh.helm.release.v1.{name}.v{version}
  namespace: {ns}
  labels: {{owner: helm, name: {name}, status: {status}, version: \"{version}\"}}
{kind_lines}---
"
    )
}

/// Writes `yaml` to the shared sim without tracking it, as Helm writes without waiting.
fn write(yaml: &str) {
    let file = manifest(yaml);
    let path = file.path().to_str().expect("utf-8 path");
    let output = sim()
        .kos(&["apply", "--no-wait", "-f", path])
        .output()
        .expect("run kos apply");
    assert_eq!(code(&output), 0, "{}", said(&output));
}

/// A Deployment `name` of `replicas` pods running `image`, as a chart renders it.
fn deployment_doc(name: &str, replicas: u32, image: &str) -> String {
    format!(
        "---
# Source: {name}/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: app
        image: {image}
"
    )
}

/// A Service `name` and a `ConfigMap` `name-config`, as a chart renders them.
fn service_and_config(name: &str) -> String {
    format!(
        "---
# Source: {name}/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports:
  - port: 80
---
# Source: {name}/templates/config.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  greeting: hello
"
    )
}

/// The objects of a manifest, placed in `ns` (Helm installs into the release's namespace).
fn in_namespace(ns: &str, manifest: &str) -> String {
    manifest.replace(
        "metadata:\n  name:",
        &format!("metadata:\n  namespace: {ns}\n  name:"),
    )
}

/// `kos watch helm/NAMES... -n NS --output json` with no stabilization window.
fn watch_json(ns: &str, releases: &[&str], timeout: &str) -> Output {
    let targets: Vec<String> = releases.iter().map(|r| format!("helm/{r}")).collect();
    let mut args = vec!["watch", "-n", ns, "--stabilize", "0", "--output", "json"];
    args.extend(["--timeout", timeout]);
    args.extend(targets.iter().map(String::as_str));
    sim().kos(&args).output().expect("run kos")
}

/// The report's object `kind`/`name`.
fn object<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    objects(report, kind)
        .into_iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {report:#}"))
}

/// A hook Job `name` of `events`, deleted by `policy`, whose pod exits 0 after `exit_after`.
fn hook_job(ns: &str, name: &str, events: &str, policy: &str) -> String {
    job_document(
        ns,
        name,
        0,
        "1s",
        &format!("helm.sh/hook: \"{events}\", helm.sh/hook-delete-policy: {policy}"),
        "",
    )
}

/// The record's entry of a hook whose manifest is `manifest`.
fn hook_entry(name: &str, manifest: &str, events: &[&str], phase: &str) -> Value {
    json!({
        "name": name,
        "kind": "Job",
        "path": format!("web/templates/{name}.yaml"),
        "manifest": manifest,
        "events": events,
        "last_run": {"started_at": "", "completed_at": "", "phase": phase},
        "weight": 0,
        "delete_policies": ["hook-succeeded"],
    })
}

#[test]
fn a_release_is_the_root_of_its_objects_at_its_latest_revision_on_either_driver() {
    let ns = "helm-history";
    write(&namespace(ns));
    // Revision 1 superseded, revision 2 deployed with a hook that ran and was deleted by
    // its policy; revision 2's objects are in the cluster.
    let v1 = deployment_doc("web", 1, "nginx:1.26") + &service_and_config("web");
    let v2 = deployment_doc("web", 2, "nginx:1.27") + &service_and_config("web");
    let migrate = hook_job(ns, "migrate", "pre-upgrade", "hook-succeeded");
    let hooks = json!([hook_entry(
        "migrate",
        &migrate,
        &["pre-upgrade"],
        "Succeeded"
    )]);
    write(&in_namespace(ns, &v2));
    write(
        &(record(
            &release(
                ns,
                "web",
                1,
                "superseded",
                "Install complete",
                &v1,
                &json!([]),
            ),
            Driver::Secrets,
        ) + &record(
            &release(ns, "web", 2, "deployed", "Upgrade complete", &v2, &hooks),
            Driver::Secrets,
        )),
    );
    // A second release, stored by the ConfigMaps driver.
    let api = deployment_doc("api", 1, "nginx:1.27");
    write(&in_namespace(ns, &api));
    write(&record(
        &release(
            ns,
            "api",
            1,
            "deployed",
            "Install complete",
            &api,
            &json!([]),
        ),
        Driver::ConfigMaps,
    ));

    let output = watch_json(ns, &["web", "api"], "60s");
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "success");
    let rows = report["objects"].as_array().expect("objects");
    assert_eq!(rows[0]["kind"], "HelmRelease", "the release leads its tree");
    let web = object(&report, "HelmRelease", "web");
    assert_eq!(web["api_version"], "helm.sh/release.v1");
    assert_eq!(
        web["message"],
        "revision 2 · chart web-1.2.0 · app 1.25 · deployed · Upgrade complete"
    );
    for (kind, name) in [
        ("Deployment", "web"),
        ("Service", "web"),
        ("ConfigMap", "web-config"),
    ] {
        let row = object(&report, kind, name);
        assert_eq!(row["owner"], "HelmRelease/web", "{row}");
        assert_eq!(row["status"], "success", "{row}");
    }
    let hook = object(&report, "Job", "migrate");
    assert_eq!(hook["owner"], "HelmRelease/web");
    assert_eq!(hook["status"], "success");
    assert_eq!(
        hook["message"],
        "pre-upgrade hook: its last run succeeded; removed after it succeeded"
    );
    let api = object(&report, "HelmRelease", "api");
    assert_eq!(
        api["message"],
        "revision 1 · chart api-1.1.0 · app 1.25 · deployed · Install complete"
    );
    assert_eq!(
        object(&report, "Deployment", "api")["owner"],
        "HelmRelease/api"
    );
    let pods = objects(&report, "Pod");
    assert_eq!(
        pods.len(),
        3,
        "the Deployments' pods under them: {report:#}"
    );
    let said = said(&output);
    assert!(!said.contains(SECRET_VALUE), "values never show: {said}");
    assert!(!said.contains("greeting"), "manifests never show: {said}");
}

#[test]
fn a_failed_upgrade_fails_the_run_and_a_missing_release_is_bad_input() {
    let ns = "helm-failed";
    write(&namespace(ns));
    let v1 = deployment_doc("web", 1, "nginx:1.27");
    write(&in_namespace(ns, &v1));
    let failed = "Upgrade \"web\" failed: context deadline exceeded";
    write(
        &(record(
            &release(
                ns,
                "web",
                1,
                "deployed",
                "Install complete",
                &v1,
                &json!([]),
            ),
            Driver::Secrets,
        ) + &record(
            &release(ns, "web", 2, "failed", failed, &v1, &json!([])),
            Driver::Secrets,
        )),
    );
    let output = watch_json(ns, &["web"], "30s");
    assert_eq!(code(&output), 1, "{}", said(&output));
    let report = report(&output);
    assert_eq!(report["outcome"], "failed");
    let web = object(&report, "HelmRelease", "web");
    assert_eq!(web["status"], "failed");
    assert!(
        web["message"].as_str().is_some_and(|m| m.ends_with(failed)),
        "{web}"
    );

    let output = watch_json(ns, &["nothing"], "30s");
    assert_eq!(code(&output), 3, "{}", said(&output));
    assert!(
        stderr(&output).contains("no Helm release `nothing` in namespace helm-failed"),
        "{}",
        said(&output)
    );
}

#[test]
fn a_record_whose_manifest_cannot_be_read_is_bad_input_naming_release_and_revision() {
    let ns = "helm-broken";
    write(&namespace(ns));
    let broken = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n";
    write(&record(
        &release(
            ns,
            "web",
            4,
            "deployed",
            "Upgrade complete",
            broken,
            &json!([]),
        ),
        Driver::Secrets,
    ));
    let output = watch_json(ns, &["web"], "30s");
    assert_eq!(code(&output), 3, "{}", said(&output));
    assert!(
        stderr(&output).contains("Helm release helm-broken/web revision 4: document 1"),
        "{}",
        said(&output)
    );
}

#[test]
fn waiting_for_a_revision_that_never_comes_is_a_timeout() {
    let ns = "helm-no-upgrade";
    write(&namespace(ns));
    let v1 = service_and_config("web");
    write(&in_namespace(ns, &v1));
    write(&record(
        &release(
            ns,
            "web",
            1,
            "deployed",
            "Install complete",
            &v1,
            &json!([]),
        ),
        Driver::Secrets,
    ));
    let output = sim()
        .kos(&[
            "watch",
            "helm/web",
            "-n",
            ns,
            "--wait-revision",
            "--timeout",
            "2s",
            "--output",
            "json",
        ])
        .output()
        .expect("run kos");
    assert_eq!(code(&output), 2, "{}", said(&output));
    assert_eq!(report(&output)["outcome"], "timeout");
    assert!(
        stderr(&output).contains(
            "waiting for revision 2 of Helm release helm-no-upgrade/web: none within the step timeout (2.0s)"
        ),
        "{}",
        said(&output)
    );
}

/// The lines of `lines` that hold `text`.
fn lines_with<'a>(lines: &'a [String], text: &str) -> Vec<&'a String> {
    lines.iter().filter(|l| l.contains(text)).collect()
}

#[test]
fn an_upgrade_started_after_kos_is_tracked_from_its_pending_revision() {
    let ns = "helm-upgrade";
    write(&namespace(ns));
    let v1 = deployment_doc("web", 1, "nginx:1.26") + &service_and_config("web");
    write(&in_namespace(ns, &v1));
    write(&record(
        &release(
            ns,
            "web",
            1,
            "deployed",
            "Install complete",
            &v1,
            &json!([]),
        ),
        Driver::Secrets,
    ));
    // kos first, as in CI: then `helm upgrade` runs.
    let run = Running::start(&[
        "watch",
        "helm/web",
        "-n",
        ns,
        "--wait-revision",
        "--output",
        "plain",
        "--stabilize",
        "2s",
        "--timeout",
        "60s",
    ]);
    run.wait_for("the wait", |l| {
        l.iter()
            .any(|l| l == "waiting for revision 2 of Helm release helm-upgrade/web")
    });
    // Helm's order: the pending revision, the pre-upgrade hook (deleted once it succeeded),
    // the objects, then revision 2 deployed and revision 1 superseded.
    let v2 = deployment_doc("web", 2, "nginx:1.27") + &service_and_config("web");
    let migrate = hook_job(ns, "migrate", "pre-upgrade", "hook-succeeded");
    let pending = |phase: &str| {
        let hooks = json!([hook_entry("migrate", &migrate, &["pre-upgrade"], phase)]);
        release(
            ns,
            "web",
            2,
            "pending-upgrade",
            "Preparing upgrade",
            &v2,
            &hooks,
        )
    };
    write(&record(&pending(""), Driver::Secrets));
    run.wait_for("the pending revision", |l| {
        has(l, "HelmRelease helm-upgrade/web  in_progress  revision 2")
    });
    write(&migrate);
    run.wait_for("the hook's success", |l| {
        has(
            l,
            "Job helm-upgrade/migrate  success  pre-upgrade hook: Job 1/1 completed",
        )
    });
    let (status, body) = sim().delete(&format!("/apis/batch/v1/namespaces/{ns}/jobs/migrate"));
    assert_eq!(status, 200, "{body}");
    write(&in_namespace(ns, &v2));
    let mut deployed = pending("Succeeded");
    deployed["info"]["status"] = json!("deployed");
    deployed["info"]["description"] = json!("Upgrade complete");
    write(
        &(record(&deployed, Driver::Secrets)
            + &record(
                &release(
                    ns,
                    "web",
                    1,
                    "superseded",
                    "Install complete",
                    &v1,
                    &json!([]),
                ),
                Driver::Secrets,
            )),
    );
    let (exit, lines) = run.finish();
    assert_upgrade_tracked(exit, &lines);
}

/// What kos printed of revision 2's upgrade: its release from pending to deployed, its
/// hook's success kept once deleted, the new pods, and success.
fn assert_upgrade_tracked(exit: Option<i32>, lines: &[String]) {
    let said = lines.join("\n");
    eprintln!("{said}");
    assert_eq!(exit, Some(0), "{said}");
    let release_lines = lines_with(lines, "HelmRelease helm-upgrade/web");
    assert!(
        release_lines[0].contains("in_progress  revision 2 · chart web-1.2.0 · app 1.25 · pending-upgrade · Preparing upgrade"),
        "tracked from the pending revision: {said}"
    );
    assert!(
        release_lines.last().is_some_and(|l| l.contains(
            "success  revision 2 · chart web-1.2.0 · app 1.25 · deployed · Upgrade complete"
        )),
        "{said}"
    );
    assert!(
        has(
            lines,
            "Job helm-upgrade/migrate  success  pre-upgrade hook: Job 1/1 completed; removed after it succeeded"
        ),
        "the hook keeps its success once its policy deleted it: {said}"
    );
    assert!(
        !lines_with(lines, "Pod helm-upgrade/web-").is_empty(),
        "the new pods are tracked: {said}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("outcome: success")),
        "{said}"
    );
}

/// Whether some line holds `text`.
fn has(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}

#[test]
fn a_release_of_200_objects_reaches_its_verdict() {
    let ns = "helm-big";
    write(&namespace(ns));
    // 20 Deployments of one pod, 90 Services and 90 ConfigMaps.
    let mut manifest = String::new();
    for i in 0..20 {
        manifest += &deployment_doc(&format!("app-{i}"), 1, "nginx:1.27");
    }
    for i in 0..90 {
        manifest += &service_and_config(&format!("svc-{i}"));
    }
    write(&in_namespace(ns, &manifest));
    write(&record(
        &release(
            ns,
            "big",
            1,
            "deployed",
            "Install complete",
            &manifest,
            &json!([]),
        ),
        Driver::Secrets,
    ));
    let start = Instant::now();
    let output = watch_json(ns, &["big"], "120s");
    let took = start.elapsed();
    assert_eq!(code(&output), 0, "{}", said(&output));
    let report = report(&output);
    let under = report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["owner"] == "HelmRelease/big")
        .count();
    assert_eq!(under, 200, "every object under the release");
    eprintln!("a release of 200 objects: verdict after {took:?}");
    assert!(took < Duration::from_mins(1), "took {took:?}");
}
