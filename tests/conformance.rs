//! The status engine against the peers' own tests, and against arbitrary input.
//!
//! `corpus` walks every row of the peers' conformance corpus (`expected.tsv`: objects and
//! verdicts taken from kstatus's and Argo CD's test suites) and checks `kos::status::of`
//! against the expected word, or against `tests/conformance/deviations.tsv` where kos
//! deliberately differs. The corpus is kept outside this repository: `KOS_CONFORMANCE_DIR`
//! names its folder (default: `conformance` in the `shared` folder beside the checkout).
//! Without it the corpus test is skipped with a printed reason, and fails under
//! `KOS_REQUIRE_E2E=1` (CI). `never_panics` feeds the engine arbitrary Kubernetes-shaped
//! JSON.

mod corpus {
    use kos::status;
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::{Path, PathBuf};

    /// One row of `expected.tsv`.
    struct Row {
        file: String,
        source: String,
        expected: String,
    }

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

    fn rows(corpus: &Path) -> Vec<Row> {
        let path = corpus.join("expected.tsv");
        tsv(&path, &["file", "source", "kind", "expected"])
            .into_iter()
            .map(|f| Row {
                file: f[0].clone(),
                source: f[1].clone(),
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

    fn load(corpus: &Path, file: &str) -> Value {
        let path = corpus.join(file);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_saphyr::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
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
        let rows = rows(&corpus);
        assert!(
            rows.len() >= 140,
            "the corpus has 140 rows, found {}",
            rows.len()
        );
        let deviations = deviations();
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        let mut wrong = Vec::new();
        for row in &rows {
            let tally = tallies.entry(row.source.clone()).or_default();
            tally.rows += 1;
            let got = status::of(&load(&corpus, &row.file));
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
                    &d.ours
                }
                None => &row.expected,
            };
            if got.status.as_str() == want {
                tally.matched += usize::from(deviation.is_none());
            } else {
                wrong.push(format!(
                    "{}: want {want} (expected {}), got {} ({})",
                    row.file, row.expected, got.status, got.message
                ));
            }
        }
        for file in deviations.keys() {
            assert!(
                rows.iter().any(|row| &row.file == file),
                "deviation for a file not in the corpus: {file}"
            );
        }
        for (source, t) in &tallies {
            println!(
                "{source}: {}/{} match, {} deviations, {} without a verdict (none)",
                t.matched, t.rows, t.deviations, t.unchecked
            );
            assert!(
                t.deviations * 10 <= t.rows,
                "{source}: {} deviations exceed 10 % of {} rows",
                t.deviations,
                t.rows
            );
        }
        assert!(
            wrong.is_empty(),
            "{} rows differ:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
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

    fn metadata() -> impl Strategy<Value = Value> {
        (value(), prop::option::weighted(0.1, value()), value()).prop_map(
            |(generation, deletion, hpa_conditions)| {
                let mut metadata = json!({"name": "x", "generation": generation,
                    "annotations": {"autoscaling.alpha.kubernetes.io/conditions": hpa_conditions}});
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
        fn any_json(value in tree()) {
            let assessment = status::of(&value);
            prop_assert!(!assessment.message.is_empty());
            status::conditions(&value);
            status::containers(&value);
        }
    }
}
