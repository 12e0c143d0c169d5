//! The status engine against the peers' own tests, and against arbitrary input.
//!
//! `corpus` walks every row of the peers' conformance corpus (`expected.tsv`: objects and
//! verdicts taken from kstatus's and Argo CD's test suites) and of its `custom/` part (custom
//! resources with the verdicts of Argo CD's health checks for their kinds), and checks
//! `kos::status::of` against the expected word, or against `tests/conformance/deviations.tsv`
//! where kos deliberately differs (custom rows are named there with a `custom/` prefix). The
//! corpus is kept outside this repository: `KOS_CONFORMANCE_DIR` names its folder (default:
//! `conformance` in the `shared` folder beside the checkout). Without it the corpus test is
//! skipped with a printed reason, and fails under `KOS_REQUIRE_E2E=1` (CI). `never_panics`
//! feeds the engine arbitrary Kubernetes-shaped JSON.

/// Decoding an object as a watch does, by what its kind's summary reads
/// (`kos::watch::object::Reads`), against decoding the whole of it.
mod shapes {
    use kos::status::Later;
    use kos::watch::object::{AnyKind, Object, PodKind, Reads, Shaped, TemplatedKind};
    use kos::watch::summary::{Node, SummarizedPod};
    use kube::core::{ApiResource, GroupVersionKind};
    use serde_json::Value;

    fn decode<S: Shaped>(text: &str, resource: &ApiResource) -> Value {
        serde_json::from_str::<Object<S>>(text)
            .expect("decodes")
            .into_value(resource)
    }

    /// `object` decoded whole and decoded by its kind's shape, in that order.
    pub fn whole_and_shaped(object: &Value) -> (Value, Value) {
        let text = |field: &str| object.get(field).and_then(Value::as_str).unwrap_or("");
        let (group, version) = text("apiVersion").rsplit_once('/').unwrap_or(("", "v1"));
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, text("kind")));
        let json = object.to_string();
        let shaped = match Reads::of(&resource) {
            Reads::Any => decode::<AnyKind>(&json, &resource),
            Reads::Pod => decode::<PodKind>(&json, &resource),
            Reads::Templated => decode::<TemplatedKind>(&json, &resource),
        };
        (decode::<AnyKind>(&json, &resource), shaped)
    }

    /// The pod `object`'s summary as a pod watch makes it, judged as it is decoded.
    pub fn summarized_as_a_pod(object: &Value) -> Option<(Node, Option<Later>)> {
        let pod: SummarizedPod = serde_json::from_value(object.clone()).expect("decodes");
        pod.summary.map(|(node, later)| (*node, later))
    }
}

mod corpus {
    use kos::status;
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::{Path, PathBuf};

    /// One row of `expected.tsv`.
    struct Row {
        /// As `deviations.tsv` names it: the corpus's prefix and the row's file.
        file: String,
        source: String,
        /// The API group (`custom/`: from the row's `group/Kind`; otherwise none).
        group: String,
        expected: String,
    }

    /// One part of the corpus: the built-in kinds, or the custom resources.
    struct Part {
        /// Folder under the corpus.
        folder: &'static str,
        /// How `deviations.tsv` prefixes the part's files.
        prefix: &'static str,
        /// The most deviations each source may have, in percent of its rows.
        limit: usize,
        /// At least this many rows.
        rows: usize,
    }

    const PARTS: [Part; 2] = [
        Part {
            folder: "",
            prefix: "",
            limit: 10,
            rows: 140,
        },
        Part {
            folder: "custom",
            prefix: "custom/",
            limit: 15,
            rows: 1106,
        },
    ];

    /// One row of `deviations.tsv`.
    struct Deviation {
        ours: String,
        reason: String,
    }

    /// The corpus's folder, or None (after saying why) when it is not there to be read.
    fn corpus_dir() -> Option<PathBuf> {
        let dir = std::env::var_os("KOS_CONFORMANCE_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"),
            PathBuf::from,
        );
        if dir.join("expected.tsv").is_file() {
            return Some(dir);
        }
        let reason = format!(
            "no conformance corpus at {} (set KOS_CONFORMANCE_DIR to its folder)",
            dir.display()
        );
        assert!(
            std::env::var("KOS_REQUIRE_E2E").as_deref() != Ok("1"),
            "the corpus is required (KOS_REQUIRE_E2E=1): {reason}"
        );
        eprintln!("skipped: {reason}");
        None
    }

    /// The data lines of a TSV file with `header` as its first line, split into fields.
    fn tsv(path: &Path, header: &[&str]) -> Vec<Vec<String>> {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines();
        let first: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        assert_eq!(&first[..header.len()], header, "{}: header", path.display());
        lines
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
                assert!(
                    fields.len() >= header.len(),
                    "{}: short line {line:?}",
                    path.display()
                );
                fields
            })
            .collect()
    }

    fn rows(dir: &Path, part: &Part) -> Vec<Row> {
        let path = dir.join("expected.tsv");
        tsv(&path, &["file", "source", "kind", "expected"])
            .into_iter()
            .map(|f| Row {
                file: format!("{}{}", part.prefix, f[0]),
                source: f[1].clone(),
                group: f[2]
                    .rsplit_once('/')
                    .map(|(group, _)| group.to_owned())
                    .filter(|_| !part.prefix.is_empty())
                    .unwrap_or_default(),
                expected: f[3].clone(),
            })
            .collect()
    }

    fn deviations() -> BTreeMap<String, Deviation> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/deviations.tsv");
        let mut out = BTreeMap::new();
        for f in tsv(&path, &["file", "ours", "reason"]) {
            let previous = out.insert(
                f[0].clone(),
                Deviation {
                    ours: f[1].clone(),
                    reason: f[2].clone(),
                },
            );
            assert!(previous.is_none(), "deviation listed twice: {}", f[0]);
        }
        out
    }

    /// The first document of a corpus file, as Go's YAML reads it (a repeated key keeps its
    /// last value; the custom part has one such file and one with an empty second document).
    fn load(corpus: &Path, file: &str) -> Value {
        let path = corpus.join(file);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let options = serde_saphyr::options! {
            duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
            strict_booleans: true,
        };
        serde_saphyr::from_multiple_with_options::<Value>(&text, options)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{}: no document", path.display()))
    }

    #[derive(Default)]
    struct Tally {
        rows: usize,
        matched: usize,
        deviations: usize,
        unchecked: usize,
    }

    #[test]
    fn every_row_matches_expected_or_its_deviation() {
        let Some(corpus) = corpus_dir() else { return };
        let deviations = deviations();
        let mut wrong = Vec::new();
        let mut files = Vec::new();
        for part in &PARTS {
            let dir = corpus.join(part.folder);
            let rows = rows(&dir, part);
            assert!(
                rows.len() >= part.rows,
                "{}: the corpus has {} rows, found {}",
                dir.display(),
                part.rows,
                rows.len()
            );
            check(&dir, part, &rows, &deviations, &mut wrong);
            files.extend(rows.into_iter().map(|row| row.file));
        }
        for file in deviations.keys() {
            assert!(
                files.contains(file),
                "deviation for a file not in the corpus: {file}"
            );
        }
        assert!(
            wrong.is_empty(),
            "{} rows differ:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    /// A watch decodes only what each kind's summary reads: every object of the corpus
    /// is judged and summarized the same as when decoded whole; and judged in one pass
    /// (`status::judge_at`, what the watch calls) as by each reader alone.
    #[test]
    fn every_object_decoded_by_its_shape_summarizes_as_decoded_whole() {
        let Some(corpus) = corpus_dir() else { return };
        let now = chrono::Utc::now();
        let (mut shaped_kinds, mut summarized_pods) = (0, 0);
        for part in &PARTS {
            let dir = corpus.join(part.folder);
            for row in rows(&dir, part) {
                let mut object = load(&dir, &row.file[part.prefix.len()..]);
                if !object.is_object() {
                    continue;
                }
                if object.pointer("/metadata/uid").is_none() {
                    object["metadata"]["uid"] = "u1".into();
                }
                let (whole, shaped) = super::shapes::whole_and_shaped(&object);
                shaped_kinds += usize::from(whole != shaped);
                assert_eq!(
                    status::judge_at(&whole, now),
                    status::Judged {
                        assessment: status::of_at(&whole, now),
                        conditions: status::conditions(&whole),
                        containers: status::containers(&whole),
                    },
                    "{}: judged in one pass as each part alone",
                    row.file
                );
                assert_eq!(
                    kos::watch::summary::node(&shaped, now),
                    kos::watch::summary::node(&whole, now),
                    "{}",
                    row.file
                );
                // A pod watch judges as it decodes, at its own instant.
                if object["kind"] == "Pod" {
                    summarized_pods += 1;
                    assert_eq!(
                        super::shapes::summarized_as_a_pod(&object),
                        kos::watch::summary::node(&whole, chrono::Utc::now()),
                        "{}: summarized as decoded",
                        row.file
                    );
                }
            }
        }
        assert!(
            summarized_pods > 10,
            "only {summarized_pods} pods summarized as decoded"
        );
        assert!(
            shaped_kinds > 20,
            "only {shaped_kinds} objects lost a field"
        );
    }

    /// Checks the rows of one part, printing the agreement per source and per API group.
    fn check(
        dir: &Path,
        part: &Part,
        rows: &[Row],
        deviations: &BTreeMap<String, Deviation>,
        wrong: &mut Vec<String>,
    ) {
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
        for row in rows {
            let tally = tallies.entry(row.source.clone()).or_default();
            tally.rows += 1;
            let group = groups.entry(row.group.clone()).or_default();
            group.rows += 1;
            let file = &row.file[part.prefix.len()..];
            let got = status::of(&load(dir, file));
            let deviation = deviations.get(&row.file);
            if row.expected == "none" {
                // No upstream verdict: only the absence of a panic is checked.
                assert!(
                    deviation.is_none(),
                    "{}: a `none` row has no deviation",
                    row.file
                );
                tally.unchecked += 1;
                continue;
            }
            let want = match deviation {
                Some(d) => {
                    assert_ne!(
                        d.ours, row.expected,
                        "{}: deviation equals expected",
                        row.file
                    );
                    assert!(
                        !d.reason.trim().is_empty(),
                        "{}: deviation without reason",
                        row.file
                    );
                    tally.deviations += 1;
                    group.deviations += 1;
                    &d.ours
                }
                None => &row.expected,
            };
            if got.status.as_str() == want {
                tally.matched += usize::from(deviation.is_none());
                group.matched += usize::from(deviation.is_none());
            } else {
                wrong.push(format!(
                    "{}: want {want} (expected {}), got {} ({})",
                    row.file, row.expected, got.status, got.message
                ));
            }
        }
        for (group, t) in groups.iter().filter(|(group, _)| !group.is_empty()) {
            println!(
                "{}{group}: {}/{} match, {} deviations",
                part.prefix, t.matched, t.rows, t.deviations
            );
        }
        for (source, t) in &tallies {
            println!(
                "{source}: {}/{} match, {} deviations, {} without a verdict (none)",
                t.matched, t.rows, t.deviations, t.unchecked
            );
            assert!(
                t.deviations * 100 <= t.rows * part.limit,
                "{source}: {} deviations exceed {} % of {} rows",
                t.deviations,
                part.limit,
                t.rows
            );
        }
    }
}

mod never_panics {
    use kos::status;
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    /// Every kind with a rule of its own, in the groups that select it and some that do not.
    const KINDS: &[(&str, &str)] = &[
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("extensions/v1beta1", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("v1", "Service"),
        ("networking.k8s.io/v1", "Ingress"),
        ("v1", "PersistentVolumeClaim"),
        ("policy/v1", "PodDisruptionBudget"),
        ("autoscaling/v1", "HorizontalPodAutoscaler"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("v1", "Namespace"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("argoproj.io/v1alpha1", "Workflow"),
        ("serving.knative.dev/v1", "Service"),
        ("example.com/v1", "Widget"),
        ("", ""),
    ];

    /// Field names the rules read, so that random trees reach them.
    const KEYS: &[&str] = &[
        "conditions",
        "type",
        "status",
        "reason",
        "message",
        "phase",
        "replicas",
        "readyReplicas",
        "availableReplicas",
        "updatedReplicas",
        "fullyLabeledReplicas",
        "currentReplicas",
        "observedGeneration",
        "generation",
        "deletionTimestamp",
        "finalizers",
        "annotations",
        "autoscaling.alpha.kubernetes.io/conditions",
        "containers",
        "initContainers",
        "containerStatuses",
        "initContainerStatuses",
        "name",
        "image",
        "state",
        "lastState",
        "waiting",
        "running",
        "terminated",
        "exitCode",
        "restartCount",
        "ready",
        "restartPolicy",
        "loadBalancer",
        "ingress",
        "ip",
        "hostname",
        "clusterIP",
        "externalName",
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberReady",
        "updateStrategy",
        "rollingUpdate",
        "partition",
        "currentRevision",
        "updateRevision",
        "paused",
        "progressDeadlineSeconds",
        "suspend",
        "active",
        "startTime",
        "succeeded",
        "failed",
        "completions",
        "lastScheduleTime",
        "lastSuccessfulTime",
        "disruptionsAllowed",
        "volumeName",
        "data",
    ];

    /// Values the rules compare against, so that random trees take their branches.
    const WORDS: &[&str] = &[
        "",
        "True",
        "False",
        "Unknown",
        "Pending",
        "Running",
        "Succeeded",
        "Failed",
        "Error",
        "Ready",
        "Available",
        "Progressing",
        "ProgressDeadlineExceeded",
        "NewReplicaSetAvailable",
        "ReplicaFailure",
        "Complete",
        "FailureTarget",
        "Suspended",
        "Reconciling",
        "Stalled",
        "PodScheduled",
        "Unschedulable",
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "OOMKilled",
        "LoadBalancer",
        "ExternalName",
        "OnDelete",
        "Always",
        "Never",
        "Bound",
        "Lost",
        "Terminating",
        "Established",
        "NamesAccepted",
        "NonStructuralSchema",
        "Installing",
        "AbleToScale",
        "ScalingActive",
        "FailedGetScale",
        "InsufficientPods",
        "2025-07-30T13:46:00Z",
        "not a time",
        r#"[{"type":"AbleToScale","status":"True","reason":"FailedGetScale"}]"#,
        "[{",
        "line\nbreak",
    ];

    /// Container waiting and terminated reasons, failures and not.
    const REASONS: &[&str] = &[
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "CreateContainerConfigError",
        "InvalidImageName",
        "OOMKilled",
        "Error",
        "Completed",
        "ContainerCreating",
        "PodInitializing",
        "",
    ];

    const SECRET: &str = "hunter2-sentinel";

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-3_i64..6).prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop::sample::select(WORDS).prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
        ]
    }

    /// Any JSON, with object keys the rules read.
    fn tree() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..6)
                    .prop_map(|pairs| object_of(pairs.into_iter())),
            ]
        })
    }

    fn object_of<'a>(pairs: impl Iterator<Item = (&'a str, Value)>) -> Value {
        Value::Object(
            pairs
                .map(|(key, value)| (key.to_owned(), value))
                .collect::<Map<_, _>>(),
        )
    }

    /// A field's value: mostly what the rules expect (a word, a small count, a flag),
    /// sometimes anything at all.
    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            3 => prop::sample::select(WORDS).prop_map(Value::from),
            3 => (-1_i64..5).prop_map(Value::from),
            1 => any::<bool>().prop_map(Value::from),
            1 => tree(),
        ]
    }

    /// A map holding some of `keys`, each with a [`value`].
    fn shaped(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
        prop::collection::vec((prop::sample::select(keys), value()), 0..=keys.len())
            .prop_map(|pairs| object_of(pairs.into_iter()))
    }

    fn container_state() -> impl Strategy<Value = Value> {
        let reason = prop_oneof![
            3 => prop::sample::select(REASONS).prop_map(Value::from),
            1 => value(),
        ];
        prop_oneof![
            (reason.clone(), value()).prop_map(|(reason, message)| json!({"waiting":
                {"reason": reason, "message": message}})),
            (reason, value()).prop_map(|(reason, exit_code)| json!({"terminated":
                {"reason": reason, "exitCode": exit_code}})),
            Just(json!({"running": {}})),
            tree(),
        ]
    }

    fn container_status() -> impl Strategy<Value = Value> {
        (
            value(),
            value(),
            value(),
            container_state(),
            container_state(),
        )
            .prop_map(|(name, ready, restarts, state, last)| {
                json!({"name": name, "ready": ready, "restartCount": restarts,
                       "state": state, "lastState": last})
            })
    }

    /// A `.status`: mostly fields the rules read, with condition-like and
    /// container-status-like lists; sometimes of the wrong type altogether.
    fn status() -> impl Strategy<Value = Value> {
        let shaped_status = (
            shaped(KEYS),
            prop::collection::vec(shaped(&["type", "status", "reason", "message"]), 0..4),
            prop::collection::vec(container_status(), 0..3),
            prop::collection::vec(container_status(), 0..2),
        )
            .prop_map(|(mut status, conditions, containers, init)| {
                if let Some(fields) = status.as_object_mut() {
                    fields.insert("conditions".into(), Value::Array(conditions));
                    fields.insert("containerStatuses".into(), Value::Array(containers));
                    fields.insert("initContainerStatuses".into(), Value::Array(init));
                }
                status
            });
        prop_oneof![6 => shaped_status, 1 => tree()]
    }

    /// `.metadata`: a generation, sometimes a deletion, labels and owner references as the
    /// summary reads them (or of the wrong type), finalizers and an age.
    fn metadata() -> impl Strategy<Value = Value> {
        let labels = prop_oneof![
            3 => shaped(&["controller-revision-hash", "rollouts-pod-template-hash", "app"]),
            1 => value(),
        ];
        let owners = prop_oneof![
            3 => prop::collection::vec(shaped(&["uid", "controller", "kind", "name"]), 0..3)
                .prop_map(Value::Array),
            1 => tree(),
        ];
        let created = prop_oneof![
            Just(Value::from("2026-01-01T00:00:00Z")),
            Just(Value::from(chrono::Utc::now().to_rfc3339())),
            value(),
        ];
        (
            (value(), prop::option::weighted(0.1, value()), value()),
            (labels, owners, created, value()),
        )
            .prop_map(
                |((generation, deletion, hpa_conditions), (labels, owners, created, finalizers))| {
                    let mut metadata = json!({"name": "x", "uid": "u1", "generation": generation,
                        "annotations": {"autoscaling.alpha.kubernetes.io/conditions": hpa_conditions},
                        "labels": labels, "ownerReferences": owners,
                        "creationTimestamp": created, "finalizers": finalizers});
                    if let Some(stamp) = deletion {
                        metadata["deletionTimestamp"] = stamp;
                    }
                    metadata
                },
            )
    }

    /// Count fields of the workloads' `.status`.
    const COUNTS: &[&str] = &[
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "currentReplicas",
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberReady",
        "succeeded",
        "active",
    ];

    /// Objects of `kinds` shaped the way their rules read them: generation usually
    /// observed, a pod phase and restart policy, small counts; the rest stays random.
    fn object_of_kinds(
        kinds: &'static [(&'static str, &'static str)],
    ) -> impl Strategy<Value = Value> {
        (
            object_from(kinds),
            (1_i64..3, prop::bool::weighted(0.8)),
            prop::sample::select(&["Pending", "Running", "Succeeded", "Failed", ""][..]),
            prop::sample::select(&["Always", "Never", "OnFailure"][..]),
            prop::collection::vec((prop::sample::select(COUNTS), 0_i64..4), 0..10),
            0_i64..4,
        )
            .prop_map(
                |(mut object, (generation, observed), phase, policy, counts, replicas)| {
                    object["metadata"]["generation"] = generation.into();
                    object["spec"] = json!({"replicas": replicas, "restartPolicy": policy});
                    if let Some(status) = object["status"].as_object_mut() {
                        status.insert("phase".into(), phase.into());
                        if observed {
                            status.insert("observedGeneration".into(), generation.into());
                        }
                        for (key, n) in counts {
                            status.insert(key.into(), n.into());
                        }
                    }
                    object
                },
            )
    }

    fn object() -> impl Strategy<Value = Value> {
        object_from(KINDS)
    }

    /// A container of a pod spec: a name and image that the statuses may name, and more.
    fn container() -> impl Strategy<Value = Value> {
        (value(), value(), tree()).prop_map(|(name, image, env)| {
            json!({"name": name, "image": image, "env": env, "imagePullPolicy": "Always"})
        })
    }

    /// `objects` with a uid and a pod spec's fields in their spec, and in a pod template.
    fn with_pod_specs(objects: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
        (
            objects,
            prop::collection::vec(container(), 0..3),
            prop::collection::vec(container(), 0..2),
            tree(),
            shaped(KEYS),
        )
            .prop_map(|(mut object, containers, init, volumes, labels)| {
                object["metadata"]["uid"] = "u1".into();
                let pod_spec = json!({"containers": containers, "initContainers": init,
                    "volumes": volumes, "nodeName": "node-1"});
                if let Some(spec) = object["spec"].as_object_mut() {
                    for (key, value) in pod_spec.as_object().into_iter().flatten() {
                        spec.insert(key.clone(), value.clone());
                    }
                    spec.insert(
                        "template".into(),
                        json!({"metadata": {"labels": labels}, "spec": pod_spec}),
                    );
                }
                object
            })
    }

    fn object_from(kinds: &'static [(&'static str, &'static str)]) -> impl Strategy<Value = Value> {
        (
            prop::sample::select(kinds),
            metadata(),
            prop_oneof![3 => shaped(KEYS), 1 => tree()],
            status(),
        )
            .prop_map(|((api_version, kind), metadata, spec, status)| {
                json!({"apiVersion": api_version, "kind": kind, "metadata": metadata,
                       "spec": spec, "status": status,
                       "data": {"password": SECRET}, "stringData": {"token": SECRET}})
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn kubernetes_shaped_objects(object in object()) {
            let assessment = status::of(&object);
            prop_assert!(!assessment.message.is_empty());
            prop_assert!(!assessment.message.contains('\n'), "{}", assessment.message);
            prop_assert!(!assessment.message.contains(SECRET));
            let rows = format!("{:?}{:?}", status::conditions(&object), status::containers(&object));
            prop_assert!(!rows.contains(SECRET));
        }

        #[test]
        fn pods_and_workloads(object in object_of_kinds(&[
            ("v1", "Pod"),
            ("apps/v1", "Deployment"),
            ("apps/v1", "ReplicaSet"),
            ("apps/v1", "StatefulSet"),
            ("apps/v1", "DaemonSet"),
            ("batch/v1", "Job"),
        ])) {
            let assessment = status::of(&object);
            prop_assert!(!assessment.message.is_empty());
            prop_assert!(!assessment.message.contains('\n'), "{}", assessment.message);
            status::containers(&object);
        }

        #[test]
        fn pods_and_workloads_decoded_by_their_shape_summarize_as_decoded_whole(
            object in with_pod_specs(object_of_kinds(&[
                ("v1", "Pod"),
                ("apps/v1", "Deployment"),
                ("apps/v1", "ReplicaSet"),
                ("apps/v1", "StatefulSet"),
                ("apps/v1", "DaemonSet"),
                ("v1", "ReplicationController"),
                ("batch/v1", "Job"),
            ]))
        ) {
            let now = chrono::Utc::now();
            let (whole, shaped) = super::shapes::whole_and_shaped(&object);
            prop_assert_eq!(
                kos::watch::summary::node(&shaped, now),
                kos::watch::summary::node(&whole, now)
            );
        }

        #[test]
        fn any_json(value in tree()) {
            let assessment = status::of(&value);
            prop_assert!(!assessment.message.is_empty());
            status::conditions(&value);
            status::containers(&value);
        }

        #[test]
        fn judged_in_one_pass_as_each_part_alone(object in object()) {
            let now = chrono::Utc::now();
            prop_assert_eq!(
                status::judge_at(&object, now),
                status::Judged {
                    assessment: status::of_at(&object, now),
                    conditions: status::conditions(&object),
                    containers: status::containers(&object),
                }
            );
        }
    }
}

/// `--status-rules FILE` on the real binary: a user's rules decide before the built-in ones,
/// and a file that is not a rules table is bad input.
mod status_rules {
    use serde_json::Value;
    use std::fs;
    use std::process::{Command, Output};

    const KOS: &str = env!("CARGO_BIN_EXE_kos");

    const OBJECTS: &str = "\
apiVersion: widgets.example.com/v1
kind: Widget
metadata: {name: gear}
status: {phase: Jammed, reason: teeth worn}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: site}
status:
  conditions: [{type: Ready, status: 'False', reason: Pending}]
";

    const RULES: &str = "\
- group: widgets.example.com
  kinds: [Widget]
  checks:
    - if: [{field: status.phase, in: [Jammed]}]
      then: failed
      message: 'jammed: {status.reason}'
- group: cert-manager.io
  checks:
    - if: [{condition: Ready, status: 'False', reason: Pending}]
      then: in_progress
      message: still pending
";

    fn status(dir: &tempfile::TempDir, rules: Option<&str>) -> Output {
        let objects = dir.path().join("objects.yaml");
        fs::write(&objects, OBJECTS).expect("write objects");
        let mut command = Command::new(KOS);
        command
            .args(["status", "--output", "json", "-f"])
            .arg(&objects);
        if let Some(text) = rules {
            let path = dir.path().join("rules.yaml");
            fs::write(&path, text).expect("write rules");
            command.arg("--status-rules").arg(path);
        }
        command.output().expect("run kos status")
    }

    fn words(output: &Output) -> Vec<(String, String)> {
        let rows: Value = serde_json::from_slice(&output.stdout).expect("a JSON array");
        rows.as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                (
                    row["status"].as_str().unwrap_or_default().to_owned(),
                    row["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn a_users_rules_decide_before_the_built_in_ones() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let built_in = status(&dir, None);
        assert_eq!(built_in.status.code(), Some(0));
        assert_eq!(
            words(&built_in),
            [
                (
                    "success".to_owned(),
                    "Exists (no readiness condition)".to_owned()
                ),
                ("failed".to_owned(), "Ready: Pending".to_owned()),
            ]
        );
        let mine = status(&dir, Some(RULES));
        assert_eq!(
            mine.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&mine.stderr)
        );
        assert_eq!(
            words(&mine),
            [
                ("failed".to_owned(), "jammed: teeth worn".to_owned()),
                ("in_progress".to_owned(), "still pending".to_owned()),
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_a_rules_table_is_bad_input() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let broken = "- group: widgets.example.com\n  checks:\n    - if: [{field: status.phase, status: 'True'}]\n      then: failed\n";
        let output = status(&dir, Some(broken));
        assert_eq!(output.status.code(), Some(3));
        assert!(output.stdout.is_empty());
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(
            said.contains("rules.yaml: rule 1 check 1: a field is tested with in and not_in"),
            "{said}"
        );
        let missing = Command::new(KOS)
            .args([
                "status",
                "-f",
                "x.yaml",
                "--status-rules",
                "/nonexistent/rules.yaml",
            ])
            .output()
            .expect("run kos status");
        assert_eq!(missing.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/rules.yaml"));
    }
}
