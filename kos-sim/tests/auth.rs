//! HTTPS, authentication and authorization of the simulated API server, in process, through
//! kube-rs with the kubeconfig the sim writes (or what is left of it): the admin's client
//! certificate, the viewer's token, a wrong token, none; the Host check; the deadlines of the
//! TLS handshake and of request headers.

// Test helpers: a failed step is a failed test.
#![allow(clippy::unwrap_used)]

use k8s_openapi::api::core::v1::ConfigMap;
use kos_sim::{self as sim, Sim, SimConfig, Transport};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a test waits for the server to hang up on a silent client.
const DEADLINE: Duration = Duration::from_secs(10);

/// The client config of `context` in the sim's own kubeconfig.
async fn config_of(sim: &Sim, context: &str) -> Config {
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig()).unwrap();
    let options = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..KubeConfigOptions::default()
    };
    Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap()
}

/// A client that trusts the sim's CA and sends `token`, or no credentials at all.
async fn stranger(sim: &Sim, token: Option<&str>) -> Client {
    let mut config = config_of(sim, "kos-sim-viewer").await;
    config.auth_info = kube::config::AuthInfo {
        token: token.map(|t| t.to_owned().into()),
        ..kube::config::AuthInfo::default()
    };
    Client::try_from(config).unwrap()
}

async fn client(sim: &Sim, context: &str) -> Client {
    Client::try_from(config_of(sim, context).await).unwrap()
}

/// `GET path` (with a Host header of its own, if given): the code and the JSON body.
async fn get(client: &Client, path: &str, host: Option<&str>) -> (u16, Value) {
    let mut request = axum::http::Request::get(path);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let request = request.body(kube::client::Body::empty()).unwrap();
    let response = client.send(request).await.unwrap();
    let code = response.status().as_u16();
    let bytes = response.into_body().collect_bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (code, body)
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    let mut status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    if code == 403 {
        status["details"] = json!({});
    }
    status
}

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
    }))
    .unwrap()
}

#[tokio::test]
async fn the_kubeconfig_speaks_https_with_the_admins_client_certificate() {
    let sim = sim::start(SimConfig::default()).await.unwrap();
    assert!(sim.url().starts_with("https://127.0.0.1:"), "{}", sim.url());
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig()).unwrap();
    let cluster = kubeconfig.clusters[0].cluster.as_ref().unwrap();
    assert!(cluster.certificate_authority_data.is_some());
    let admin = kubeconfig.auth_infos[0].auth_info.as_ref().unwrap();
    assert!(admin.client_certificate_data.is_some() && admin.client_key_data.is_some());
    let admin = client(&sim, "kos-sim").await;
    let configmaps: Api<ConfigMap> = Api::namespaced(admin.clone(), "default");
    configmaps
        .create(&PostParams::default(), &configmap("made"))
        .await
        .unwrap();
    let (code, metrics) = get(&admin, "/metrics", None).await;
    assert_eq!(code, 200, "{metrics}");
    sim.shutdown().await;
}

#[tokio::test]
async fn no_credentials_or_a_wrong_token_are_401_but_health_and_version_are_public() {
    let sim = sim::start(SimConfig::default()).await.unwrap();
    let unauthorized = status(401, "Unauthorized", "Unauthorized");
    for token in [None, Some("not-a-token")] {
        let client = stranger(&sim, token).await;
        for path in ["/api/v1/namespaces/default/configmaps", "/api", "/metrics"] {
            assert_eq!(
                get(&client, path, None).await,
                (401, unauthorized.clone()),
                "{path} {token:?}"
            );
        }
    }
    let anonymous = stranger(&sim, None).await;
    for path in ["/healthz", "/livez", "/readyz", "/version"] {
        let (code, body) = get(&anonymous, path, None).await;
        assert_eq!(code, 200, "{path}: {body}");
    }
    // A wrong token is refused even where anonymous requests are not.
    let (code, _) = get(&stranger(&sim, Some("not-a-token")).await, "/healthz", None).await;
    assert_eq!(code, 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_viewer_reads_and_is_refused_writes_in_rbacs_words() {
    let sim = sim::start(SimConfig::default()).await.unwrap();
    let viewer = client(&sim, "kos-sim-viewer").await;
    let configmaps: Api<ConfigMap> = Api::namespaced(viewer.clone(), "default");
    configmaps.list(&ListParams::default()).await.unwrap();
    let refused = configmaps
        .create(&PostParams::default(), &configmap("no"))
        .await
        .unwrap_err();
    let kube::Error::Api(refused) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        refused.message,
        "configmaps is forbidden: User \"kos-sim-viewer\" cannot create resource \
         \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    assert_eq!(
        get(&viewer, "/metrics", None).await,
        (
            403,
            status(
                403,
                "Forbidden",
                "forbidden: User \"kos-sim-viewer\" cannot get path \"/metrics\""
            )
        )
    );
    let (code, _) = get(&viewer, "/apis/apps/v1", None).await;
    assert_eq!(code, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_forbid_fault_refuses_the_admin_by_name() {
    let config = SimConfig {
        faults: std::sync::Arc::new("forbid=list:configmaps".parse().unwrap()),
        ..SimConfig::default()
    };
    let sim = sim::start(config).await.unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(client(&sim, "kos-sim").await, "default");
    let refused = configmaps.list(&ListParams::default()).await.unwrap_err();
    let kube::Error::Api(refused) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        refused.message,
        "configmaps is forbidden: User \"kubernetes-admin\" cannot list resource \
         \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_host_that_is_not_the_listening_address_is_refused() {
    let sim = sim::start(SimConfig::default()).await.unwrap();
    let admin = client(&sim, "kos-sim").await;
    let port = sim.addr.port();
    for host in [format!("rebound.example:{port}"), "127.0.0.1:1".to_owned()] {
        let (code, body) = get(&admin, "/version", Some(&host)).await;
        assert_eq!(code, 403, "{host}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("DNS rebinding"),
            "{body}"
        );
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let (code, body) = get(&admin, "/version", Some(&host)).await;
        assert_eq!(code, 200, "{host}: {body}");
    }
    sim.shutdown().await;
}

/// Connects and sends `bytes`, then waits for the server to hang up; returns what it sent.
async fn hung_up_on(sim: &Sim, bytes: &[u8]) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(sim.addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut answer))
        .await
        .expect("the server kept a silent connection open")
        .unwrap();
    answer
}

#[tokio::test]
async fn a_silent_tls_handshake_and_slow_headers_are_cut_off() {
    let quick = Duration::from_millis(300);
    let sim = sim::start(SimConfig {
        header_read_timeout: quick,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    assert!(hung_up_on(&sim, b"").await.is_empty());
    sim.shutdown().await;
    let sim = sim::start(SimConfig {
        header_read_timeout: quick,
        transport: Transport::InsecureHttp,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let host = format!("Host: {}\r\n", sim.addr);
    let partial = [b"GET /version HTTP/1.1\r\n".as_slice(), host.as_bytes()].concat();
    hung_up_on(&sim, &partial).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn insecure_http_needs_no_credentials() {
    let sim = sim::start(SimConfig {
        transport: Transport::InsecureHttp,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    assert!(sim.url().starts_with("http://"), "{}", sim.url());
    let kubeconfig = sim.kubeconfig();
    assert!(!kubeconfig.contains("-data:"), "{kubeconfig}");
    let client = client(&sim, "kos-sim").await;
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    configmaps
        .create(&PostParams::default(), &configmap("open"))
        .await
        .unwrap();
    let (code, _) = get(&client, "/metrics", None).await;
    assert_eq!(code, 200);
    sim.shutdown().await;
}
