//! Helm's release records, decoded: what Helm 3 and Helm 4 store in the cluster for each
//! revision of a release — a Secret of type `helm.sh/release.v1` (the default driver) or a
//! `ConfigMap` (`HELM_DRIVER=configmap`), named `sh.helm.release.v1.NAME.vN` and labelled
//! `owner=helm`, `name`, `status` and `version`. Its `data.release` is the base64 text of the
//! release as JSON, gzip-compressed (older records are not compressed); a Secret's data
//! carries that text base64-encoded once more, as every Secret value is.
//!
//! Pure: a storage object in, a [`Release`] out. The record also holds the release's values
//! (`config`) and the chart's files: they are skipped while decoding, never kept. What a
//! release shows is its names, revision, chart, app version, status and description; its
//! manifest and hooks only say which objects to track.

use crate::status::Status;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::io::Read;

/// The type of the Secrets Helm stores its records in.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";

/// The labels that select every record of release `name`.
pub fn selector(name: &str) -> String {
    format!("owner=helm,name={name}")
}

/// The name of the record of revision `version` of release `name`.
pub fn record_name(name: &str, version: u64) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

/// A decompressed record larger than this is refused: a release is bounded by the 1 MiB of
/// a Secret or `ConfigMap`, and its JSON compresses about tenfold.
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// The first bytes of gzip data: records written before Helm compressed them lack them.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// One revision of a release, as its record says.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Release {
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    pub version: u64,
    #[serde(default)]
    pub info: Info,
    #[serde(default)]
    pub chart: Chart,
    /// The rendered objects, as multi-document YAML. It holds the chart's Secrets with
    /// their data: never shown.
    #[serde(default)]
    pub manifest: String,
    #[serde(default)]
    pub hooks: Vec<Hook>,
}

/// `info` of a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Info {
    /// Helm's word: `deployed`, `pending-upgrade`, `failed`, ...
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub description: String,
}

/// The part of `chart` a release shows: its metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Chart {
    #[serde(default)]
    pub metadata: ChartMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChartMetadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default, rename = "appVersion")]
    pub app_version: String,
}

/// A hook: an object Helm creates around an operation (`helm.sh/hook`), kept out of the
/// manifest.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Hook {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    /// Its rendered object (one YAML document); may hold Secret data: never shown.
    #[serde(default)]
    pub manifest: String,
    /// `pre-install`, `post-upgrade`, `test`, ...
    #[serde(default)]
    pub events: Vec<String>,
    /// `hook-succeeded`, `hook-failed`, `before-hook-creation`.
    #[serde(default)]
    pub delete_policies: Vec<String>,
    #[serde(default)]
    pub last_run: LastRun,
}

/// How a hook's last run went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LastRun {
    /// `Running`, `Succeeded`, `Failed`, `Unknown`; empty when it never ran.
    #[serde(default)]
    pub phase: String,
}

/// The manifests are left out: they may hold Secret data.
impl fmt::Debug for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Release")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("version", &self.version)
            .field("info", &self.info)
            .field("chart", &self.chart)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("events", &self.events)
            .field("delete_policies", &self.delete_policies)
            .field("last_run", &self.last_run)
            .finish_non_exhaustive()
    }
}

/// Why a storage object is not a readable release record. Never quotes the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("it holds no `data.release`")]
    NoData,
    #[error("its data is not base64 text")]
    NotBase64,
    #[error("its data is not gzip-compressed JSON: {0}")]
    Compression(String),
    #[error("it is larger than {} MiB once decompressed", MAX_RECORD_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("it is not a Helm release: {0}")]
    NotARelease(String),
}

/// The release in `object`, a record as the API server serves it (a Secret or a `ConfigMap`).
pub fn from_storage(object: &Value) -> Result<Release, RecordError> {
    let data = object
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or(RecordError::NoData)?;
    let text = if object.get("kind").and_then(Value::as_str) == Some("Secret") {
        // The API server's base64 of the bytes Helm stored, which are base64 text again.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| RecordError::NotBase64)?;
        String::from_utf8(bytes).map_err(|_| RecordError::NotBase64)?
    } else {
        data.to_owned()
    };
    decode(&text)
}

/// A release from Helm's encoding: base64 text of gzip-compressed JSON, or of plain JSON.
pub fn decode(text: &str) -> Result<Release, RecordError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| RecordError::NotBase64)?;
    let json = if bytes.starts_with(&GZIP_MAGIC) {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|e| RecordError::Compression(e.to_string()))?;
        if json.len() as u64 > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge);
        }
        json
    } else {
        bytes
    };
    // serde_json's messages name a line and column, never the text.
    serde_json::from_slice(&json).map_err(|e| RecordError::NotARelease(e.to_string()))
}

/// The operation a revision stands for, which decides the hooks that run for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Install,
    Upgrade,
    Rollback,
}

impl Release {
    /// The status of the release row: a pending operation is in progress, `failed` failed,
    /// `deployed` succeeded (the release then stands as its objects do). `superseded` and
    /// `uninstalled` are never the latest revision's, but the tracked one can become so:
    /// superseded once a newer revision deployed, uninstalled (`--keep-history`) when its
    /// objects are gone.
    pub fn status(&self) -> Status {
        match self.info.status.as_str() {
            "pending-install" | "pending-upgrade" | "pending-rollback" => Status::InProgress,
            "deployed" | "superseded" => Status::Success,
            "failed" | "uninstalled" => Status::Failed,
            "uninstalling" => Status::Terminating,
            _ => Status::Unknown,
        }
    }

    /// `revision 3 · chart web-1.2.0 · app 1.25 · deployed · Upgrade complete`; empty parts
    /// are left out.
    pub fn message(&self) -> String {
        let meta = &self.chart.metadata;
        let chart = match (meta.name.as_str(), meta.version.as_str()) {
            ("", _) => String::new(),
            (name, "") => format!("chart {name}"),
            (name, version) => format!("chart {name}-{version}"),
        };
        let app = (!meta.app_version.is_empty()).then(|| format!("app {}", meta.app_version));
        [
            Some(format!("revision {}", self.version)),
            (!chart.is_empty()).then_some(chart),
            app,
            (!self.info.status.is_empty()).then(|| self.info.status.clone()),
            (!self.info.description.is_empty()).then(|| self.info.description.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
    }

    /// Whether Helm is still writing this revision: it is the latest one to track even when
    /// it was stored before kos started.
    pub fn pending(&self) -> bool {
        self.info.status.starts_with("pending-")
    }

    fn operation(&self) -> Option<Operation> {
        match self.info.status.as_str() {
            "pending-install" => Some(Operation::Install),
            "pending-upgrade" => Some(Operation::Upgrade),
            "pending-rollback" => Some(Operation::Rollback),
            _ => None,
        }
    }

    /// The hooks that belong to this revision's rollout: while it is pending, those its
    /// operation runs (`pre-upgrade` and `post-upgrade` for an upgrade); once it is not,
    /// those that ran. Test and delete hooks never run during a rollout.
    pub fn rollout_hooks(&self) -> impl Iterator<Item = &Hook> {
        let operation = self.operation();
        self.hooks.iter().filter(move |hook| match operation {
            Some(operation) => hook.runs_on(operation),
            None => !hook.last_run.phase.is_empty(),
        })
    }
}

impl Hook {
    fn runs_on(&self, operation: Operation) -> bool {
        let word = match operation {
            Operation::Install => "install",
            Operation::Upgrade => "upgrade",
            Operation::Rollback => "rollback",
        };
        self.events
            .iter()
            .any(|event| event.strip_prefix("pre-").or(event.strip_prefix("post-")) == Some(word))
    }

    /// What the hook is, for its row: `pre-upgrade,post-upgrade hook`.
    pub fn label(&self) -> String {
        format!("{} hook", self.events.join(","))
    }

    /// Whether its last run succeeded: then its object may be gone by its delete policy
    /// and it still succeeded.
    pub fn succeeded(&self) -> bool {
        self.last_run.phase == "Succeeded"
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// Helm's encoding, written here for the tests: JSON, gzip, base64.
    pub fn encode(release: &Value) -> String {
        use std::io::Write;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(release.to_string().as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap())
    }

    fn release(status: &str) -> Value {
        json!({
            "name": "web", "namespace": "shop", "version": 3,
            "info": {"status": status, "description": "Upgrade complete",
                "first_deployed": "2026-01-01T00:00:00Z"},
            "chart": {"metadata": {"name": "web", "version": "1.2.0", "appVersion": "1.25"},
                "values": {"password": "hunter2"}},
            "config": {"password": "hunter2"},
            "manifest": "---\n# Source: web/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n",
            "hooks": [
                {"name": "migrate", "kind": "Job", "path": "web/templates/migrate.yaml",
                 "manifest": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n",
                 "events": ["pre-install", "pre-upgrade"],
                 "last_run": {"started_at": "", "completed_at": "", "phase": "Succeeded"},
                 "delete_policies": ["hook-succeeded"]},
                {"name": "smoke", "kind": "Pod", "events": ["test"],
                 "last_run": {"phase": ""}}
            ]
        })
    }

    #[test]
    fn a_secret_record_decodes_through_both_base64_layers() {
        let stored = encode(&release("deployed"));
        let secret = json!({
            "kind": "Secret", "type": SECRET_TYPE,
            "data": {"release": base64::engine::general_purpose::STANDARD.encode(&stored)}
        });
        let decoded = from_storage(&secret).unwrap();
        assert_eq!((decoded.name.as_str(), decoded.version), ("web", 3));
        assert_eq!(decoded.namespace, "shop");
        assert_eq!(decoded.status(), Status::Success);
        assert_eq!(
            decoded.message(),
            "revision 3 · chart web-1.2.0 · app 1.25 · deployed · Upgrade complete"
        );
        assert_eq!(decoded.hooks[0].label(), "pre-install,pre-upgrade hook");
        assert!(decoded.hooks[0].succeeded());
        let config_map = json!({"kind": "ConfigMap", "data": {"release": stored}});
        assert_eq!(from_storage(&config_map).unwrap(), decoded);
    }

    #[test]
    fn an_uncompressed_record_of_older_helm_decodes_too() {
        let plain = base64::engine::general_purpose::STANDARD
            .encode(release("failed").to_string().as_bytes());
        let decoded = decode(&plain).unwrap();
        assert_eq!(decoded.status(), Status::Failed);
    }

    #[test]
    fn values_and_manifests_never_show() {
        let decoded = decode(&encode(&release("deployed"))).unwrap();
        let shown = format!("{decoded:?} {}", decoded.message());
        for secret in ["hunter2", "aHVudGVyMg", "password"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn helm_statuses_map_to_kos_statuses() {
        for (helm, kos) in [
            ("pending-install", Status::InProgress),
            ("pending-upgrade", Status::InProgress),
            ("pending-rollback", Status::InProgress),
            ("deployed", Status::Success),
            ("failed", Status::Failed),
            ("superseded", Status::Success),
            ("uninstalled", Status::Failed),
            ("uninstalling", Status::Terminating),
            ("unknown", Status::Unknown),
        ] {
            let decoded = decode(&encode(&release(helm))).unwrap();
            assert_eq!(decoded.status(), kos, "{helm}");
            assert_eq!(decoded.pending(), helm.starts_with("pending-"), "{helm}");
        }
    }

    #[test]
    fn a_rollout_has_the_hooks_of_its_operation_or_those_that_ran() {
        let names = |status: &str| -> Vec<String> {
            let decoded = decode(&encode(&release(status))).unwrap();
            decoded.rollout_hooks().map(|h| h.name.clone()).collect()
        };
        assert_eq!(names("pending-upgrade"), ["migrate"]);
        assert_eq!(names("pending-install"), ["migrate"]);
        assert!(names("pending-rollback").is_empty(), "no rollback hook");
        assert_eq!(names("deployed"), ["migrate"], "the one that ran");
    }

    #[test]
    fn broken_records_say_why_without_quoting_them() {
        let no_data = json!({"kind": "Secret", "data": {}});
        assert_eq!(from_storage(&no_data), Err(RecordError::NoData));
        assert_eq!(decode("not base64!"), Err(RecordError::NotBase64));
        let truncated = {
            let full = base64::engine::general_purpose::STANDARD
                .decode(encode(&release("deployed")))
                .unwrap();
            base64::engine::general_purpose::STANDARD.encode(&full[..full.len() / 2])
        };
        assert!(matches!(
            decode(&truncated),
            Err(RecordError::Compression(_))
        ));
        let not_release = base64::engine::general_purpose::STANDARD.encode(b"{\"x\": 1}");
        let error = decode(&not_release).unwrap_err();
        assert!(matches!(error, RecordError::NotARelease(_)), "{error}");
        assert!(!error.to_string().contains("\"x\""));
    }
}
