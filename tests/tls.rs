//! kos over HTTPS against the certificate shapes real clusters have, each in a kubeconfig the
//! test writes from the one `kos sim serve` wrote: a CA apart from the serving certificate
//! (kubeadm, kind), its IP and DNS names, `tls-server-name`, `insecure-skip-tls-verify`, a
//! self-signed serving certificate used as its own CA; and the users: the admin's client
//! certificate, the read-only viewer's token, no credentials.

mod common;

use common::{Kubeconfig, Sim, code, manifest, said, stderr};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// A `ConfigMap` `settings` in a namespace of its own.
fn configmap(ns: &str) -> String {
    common::namespace(ns)
        + &format!(
            "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  k: v
"
        )
}

/// `kos apply` of [`configmap`] through `kubeconfig` (`extra` flags after it), and how long
/// it took.
fn apply(kubeconfig: &Path, ns: &str, extra: &[&str]) -> (Output, Duration) {
    let file = manifest(&configmap(ns));
    let path = file.path().to_str().expect("utf-8 path");
    let mut args = vec!["apply", "-f", path, "--output", "plain", "--timeout", "30s"];
    args.extend_from_slice(extra);
    let start = Instant::now();
    let output = common::kos_command(kubeconfig, &args)
        .output()
        .expect("run kos");
    (output, start.elapsed())
}

/// The sim's kubeconfig after `edit`, written beside it as `name`.
fn rewritten(sim: &Sim, name: &str, edit: impl FnOnce(&mut Kubeconfig)) -> PathBuf {
    let mut kubeconfig = Kubeconfig::read(&sim.kubeconfig);
    edit(&mut kubeconfig);
    let path = sim.kubeconfig.with_file_name(name);
    kubeconfig.write(&path);
    path
}

fn port(sim: &Sim) -> &str {
    sim.url.rsplit(':').next().expect("a port")
}

fn assert_applied(sim: &Sim, (output, _): &(Output, Duration), ns: &str) {
    assert_eq!(code(output), 0, "{}", said(output));
    let stored = sim.get_json(&format!("/api/v1/namespaces/{ns}/configmaps/settings"));
    assert_eq!(stored["data"]["k"], "v");
}

fn assert_refused(output: &Output, cause: &str) {
    assert_eq!(code(output), 4, "{}", said(output));
    assert!(stderr(output).contains(cause), "{}", said(output));
}

#[test]
fn the_default_shape_is_a_ca_apart_from_the_serving_certificate_and_a_client_certificate() {
    let sim = Sim::start(&[]);
    assert!(sim.url.starts_with("https://127.0.0.1:"), "{}", sim.url);
    let kubeconfig = Kubeconfig::read(&sim.kubeconfig);
    let mut copy = Kubeconfig(kubeconfig.0.clone());
    let ca = Kubeconfig::data(&copy.cluster()["certificate-authority-data"]).expect("CA data");
    assert!(String::from_utf8_lossy(&ca).starts_with("-----BEGIN CERTIFICATE-----"));
    let admin = kubeconfig.current_user();
    for field in ["client-certificate-data", "client-key-data"] {
        assert!(Kubeconfig::data(&admin[field]).is_some(), "{field}");
    }
    assert!(kubeconfig.user("kos-sim-viewer")["token"].is_string());
    assert_applied(
        &sim,
        &apply(&sim.kubeconfig, "shape-default", &[]),
        "shape-default",
    );
}

#[test]
fn the_serving_certificates_dns_names_are_verified() {
    let sim = Sim::start(&[]);
    let port = port(&sim).to_owned();
    let by_name = rewritten(&sim, "localhost", |k| {
        k.cluster()["server"] = format!("https://localhost:{port}").into();
    });
    assert_applied(
        &sim,
        &apply(&by_name, "shape-localhost", &[]),
        "shape-localhost",
    );
    let in_cluster_name = rewritten(&sim, "tls-server-name", |k| {
        k.cluster()["tls-server-name"] = "kubernetes.default.svc".into();
    });
    let applied = apply(&in_cluster_name, "shape-sni", &[]);
    assert_applied(&sim, &applied, "shape-sni");
    let other_name = rewritten(&sim, "other-name", |k| {
        k.cluster()["tls-server-name"] = "not-the-apiserver.example".into();
    });
    let (output, _) = apply(&other_name, "shape-other-name", &[]);
    assert_refused(
        &output,
        "certificate not valid for name \"not-the-apiserver.example\"",
    );
}

#[test]
fn a_ca_that_did_not_sign_the_serving_certificate_is_refused() {
    let sim = Sim::start(&[]);
    let other = Sim::start(&[]);
    let mut others = Kubeconfig::read(&other.kubeconfig);
    let foreign_ca = others.cluster()["certificate-authority-data"].clone();
    other.stop();
    let kubeconfig = rewritten(&sim, "foreign-ca", |k| {
        k.cluster()["certificate-authority-data"] = foreign_ca;
    });
    // Both CAs are named `kubernetes`, as two kubeadm clusters' are: the other one is taken
    // for the issuer and its signature does not verify.
    let (output, _) = apply(&kubeconfig, "shape-foreign", &[]);
    assert_refused(&output, "invalid peer certificate: BadSignature");
}

#[test]
fn insecure_skip_tls_verify_needs_no_ca() {
    let sim = Sim::start(&[]);
    let kubeconfig = rewritten(&sim, "skip-verify", |k| {
        let cluster = k.cluster().as_object_mut().expect("a cluster");
        cluster.remove("certificate-authority-data");
        cluster.insert("insecure-skip-tls-verify".into(), true.into());
    });
    assert_applied(&sim, &apply(&kubeconfig, "shape-skip", &[]), "shape-skip");
}

/// rustls (which kos uses, through kube-rs) refuses a CA certificate as the server's own
/// certificate even when it is the trusted CA itself; Go's TLS, and so kubectl, accepts it.
/// kos says so and how to get on: exit 4, without retrying, naming the cause and both ways
/// out.
#[test]
fn a_self_signed_serving_certificate_used_as_its_own_ca_is_refused_naming_the_fix() {
    let sim = Sim::start(&["--serving-cert", "self-signed"]);
    let (output, took) = apply(&sim.kubeconfig, "shape-self-signed", &[]);
    assert_refused(&output, "CaUsedAsEndEntity");
    let refusal = stderr(&output);
    assert!(refusal.contains("insecure-skip-tls-verify"), "{refusal}");
    assert!(refusal.contains("signed by a CA"), "{refusal}");
    assert!(took < Duration::from_secs(8), "retried for {took:?}");
    eprintln!("self-signed serving certificate: kos exit 4 after {took:?}:\n{refusal}");
    let skipped = rewritten(&sim, "skip-verify", |k| {
        let cluster = k.cluster().as_object_mut().expect("a cluster");
        cluster.remove("certificate-authority-data");
        cluster.insert("insecure-skip-tls-verify".into(), true.into());
    });
    // The tests' own client is rustls too: kos's success is the proof.
    let (output, _) = apply(&skipped, "shape-self-skip", &[]);
    assert_eq!(code(&output), 0, "{}", said(&output));
    assert!(
        common::stdout(&output).contains("ConfigMap shape-self-skip/settings"),
        "{}",
        said(&output)
    );
}

#[test]
fn the_viewer_watches_but_may_not_apply_and_no_credentials_are_unauthorized() {
    let sim = Sim::start(&[]);
    assert_applied(&sim, &apply(&sim.kubeconfig, "viewer", &[]), "viewer");
    let watched = common::kos_command(
        &sim.kubeconfig,
        &[
            "watch",
            "configmap/settings",
            "-n",
            "viewer",
            "--context",
            "kos-sim-viewer",
            "--stabilize",
            "0",
            "--timeout",
            "30s",
            "--output",
            "plain",
        ],
    )
    .output()
    .expect("run kos");
    assert_eq!(code(&watched), 0, "{}", said(&watched));
    let (output, _) = apply(&sim.kubeconfig, "viewer", &["--context", "kos-sim-viewer"]);
    assert_refused(
        &output,
        "User \"kos-sim-viewer\" cannot patch resource \"namespaces\" in API group \"\"",
    );
    let anonymous = rewritten(&sim, "anonymous", |k| {
        for user in k.0["users"].as_array_mut().expect("users") {
            user["user"] = serde_json::json!({});
        }
    });
    let (output, _) = apply(&anonymous, "viewer", &[]);
    assert_refused(&output, "Unauthorized");
}

#[test]
fn a_wrong_host_header_is_refused() {
    let sim = Sim::start(&[]);
    let direct = common::Direct::new(&sim.url, &Kubeconfig::read(&sim.kubeconfig));
    let rebound = format!("rebound.example:{}", port(&sim));
    let (code, body) = direct
        .get("/api/v1/namespaces", Some(&rebound))
        .expect("an answer");
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("DNS rebinding"), "{body}");
    let (code, body) = direct.get("/api/v1/namespaces", None).expect("an answer");
    assert_eq!(code, 200, "{body}");
}
