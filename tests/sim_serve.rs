//! `kos sim serve`: the simulated cluster served by the kos binary, with kos's exit codes.

// Test helpers: a failed step is a failed test.
#![allow(clippy::unwrap_used)]

use kube::api::{Api, ListParams};
use kube::{Client, Config};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn kos_sim_serve_prints_its_address_writes_a_kubeconfig_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kos"))
        .args(["sim", "serve", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("kos sim: serving on https://127.0.0.1:"),
        "{line}"
    );
    assert!(
        line.trim_end()
            .ends_with(&format!("(kubeconfig: {})", kubeconfig.display())),
        "{line}"
    );

    let file = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap();
    assert_eq!(file.current_context.as_deref(), Some("kos-sim"));
    let config = Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, "v1.33.0");
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::default_namespaced(client);
    pods.list(&ListParams::default()).await.unwrap();

    let killed = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn bad_flags_exit_3() {
    for args in [
        &["--speed", "-1"][..],
        &["--faults", "nonsense=1"],
        &["--serving-cert", "homemade"],
        &["--insecure-http", "--serving-cert", "self-signed"],
        &["--insecure-http", "--pki-dir", "/nonexistent"],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_kos"))
            .args(["sim", "serve"])
            .args(args)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(3), "{args:?}");
    }
}

#[test]
fn a_kubeconfig_out_that_kos_did_not_write_is_kept_and_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "apiVersion: v1\nkind: Config\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kos"))
        .args(["sim", "serve", "--kubeconfig-out"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--overwrite-kubeconfig"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "apiVersion: v1\nkind: Config\n"
    );
}
