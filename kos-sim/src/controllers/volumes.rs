//! Storage as kind sets it up: the default StorageClass `standard` (provisioner
//! `rancher.io/local-path`, `WaitForFirstConsumer`), the PersistentVolume controller's
//! binding, and the local-path provisioner, the only one the simulated cluster runs.
//!
//! A claim naming no class gets the default one (as the PV controller assigns it). A claim
//! is bound to the volume it names (`volumeName`), else to the smallest Available volume
//! that satisfies it (class, access modes, size, volume mode, selector), else provisioned:
//! a class that does not exist is `ProvisioningFailed`; a `WaitForFirstConsumer` class
//! waits until the scheduler picks a node for a pod using the claim (the
//! `volume.kubernetes.io/selected-node` annotation); a class of another provisioner waits
//! for it, as on kind, for ever. Volumes are Available until bound, and go with their claim
//! (`Delete`) or are Released (`Retain`). Events and messages are the real components'.

// Kubernetes kind and field names (StorageClass, volumeName) are words in these docs.
#![allow(clippy::doc_markdown)]

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{name, namespace, put, str_at, terminating, uid};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::scheduler::quantity_of;
use crate::store::{Object, Store};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const CLASSES: &str = "storageclasses.storage.k8s.io";
/// The annotation the scheduler sets on a claim that waits for its first consumer.
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// kind's provisioner, the one the simulated cluster plays.
const LOCAL_PATH: &str = "rancher.io/local-path";
const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
const CONTROLLER: Source = Source::controller("persistentvolume-controller");
/// The provisioner's Events name its pod and its identity, as the external provisioner
/// library does.
const PROVISIONER: Source = Source::controller(
    "rancher.io/local-path_local-path-provisioner-7577fdbbfb-x2mvk_0f9c3d4e-5b6a-4c1d-9e8f-7a6b5c4d3e2f",
);
/// How long the provisioner takes to make a volume (its helper pod runs `mkdir`).
const PROVISIONING: Duration = Duration::from_secs(2);
/// The PV controller's sync period: how often it looks again at what it cannot do yet.
const RESYNC: Duration = Duration::from_secs(15);

/// Makes kind's default StorageClass `standard` unless it exists.
pub fn create_default_class(store: &Store) {
    let class = json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "standard", "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": LOCAL_PATH,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    });
    if store.get(CLASSES, "", "standard").is_none() {
        // Made by someone else in between is as good.
        let _ = store.create(CLASSES, class);
    }
}

/// The class a claim without one gets: the default class, the newest if several are.
pub fn default_class(store: &Store) -> Option<String> {
    let (classes, _) = store.list(CLASSES, None);
    classes
        .iter()
        .filter(|c| annotation(c, DEFAULT_CLASS_ANNOTATION) == "true")
        .max_by_key(|c| str_at(c, "/metadata/creationTimestamp").to_owned())
        .map(|c| name(c).to_owned())
}

fn annotation<'a>(object: &'a Value, key: &str) -> &'a str {
    object["metadata"]["annotations"][key]
        .as_str()
        .unwrap_or_default()
}

/// Whether `class` binds its claims only once a pod uses them.
pub fn waits_for_consumer(class: &Value) -> bool {
    str_at(class, "/volumeBindingMode") == "WaitForFirstConsumer"
}

fn storage(object: &Value, pointer: &str) -> f64 {
    object.pointer(pointer).and_then(quantity_of).unwrap_or(0.0)
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn volume_mode(object: &Value) -> &str {
    match str_at(object, "/spec/volumeMode") {
        "" => "Filesystem",
        mode => mode,
    }
}

/// Why `volume` cannot hold `claim`, in the PV controller's words, if it cannot.
fn unsatisfied(claim: &Value, volume: &Value) -> Option<&'static str> {
    if str_at(volume, "/spec/storageClassName") != str_at(claim, "/spec/storageClassName") {
        return Some("storageClassName does not match");
    }
    let modes = strings(&volume["spec"]["accessModes"]);
    if !strings(&claim["spec"]["accessModes"])
        .iter()
        .all(|m| modes.contains(m))
    {
        return Some("incompatible accessMode");
    }
    if volume_mode(volume) != volume_mode(claim) {
        return Some("incompatible volumeMode");
    }
    let requested = storage(claim, "/spec/resources/requests/storage");
    if storage(volume, "/spec/capacity/storage") < requested {
        return Some("requested PV is too small");
    }
    None
}

/// Whether `volume` is free for `claim`: not claimed, or pre-bound to it.
fn free_for(claim: &Value, volume: &Value) -> bool {
    let reference = &volume["spec"]["claimRef"];
    if !reference.is_object() {
        return true;
    }
    reference["namespace"] == claim["metadata"]["namespace"]
        && reference["name"] == claim["metadata"]["name"]
        && (reference["uid"].is_null() || reference["uid"] == claim["metadata"]["uid"])
}

/// Whether the volume's labels satisfy the claim's `selector.matchLabels`.
fn selected(claim: &Value, volume: &Value) -> bool {
    claim["spec"]["selector"]["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(key, value)| volume["metadata"]["labels"][key] == *value)
}

/// The smallest volume among `volumes` that is free for `claim` and satisfies it.
fn best_match<'a>(claim: &Value, volumes: &'a [Object]) -> Option<&'a Object> {
    volumes
        .iter()
        .filter(|v| !terminating(v) && free_for(claim, v) && selected(claim, v))
        .filter(|v| matches!(str_at(v, "/status/phase"), "" | "Available"))
        .filter(|v| unsatisfied(claim, v).is_none())
        .min_by(|a, b| {
            let size = |v: &Value| storage(v, "/spec/capacity/storage");
            size(a).total_cmp(&size(b))
        })
}

/// Binds `claim` and `volume` to each other, as the PV controller does.
fn bind(ctx: &Ctx, claim: &Value, volume: &Value) {
    let by_controller = !volume["spec"]["claimRef"].is_object();
    let reference = json!({"kind": "PersistentVolumeClaim", "apiVersion": "v1",
        "namespace": namespace(claim), "name": name(claim), "uid": uid(claim),
        "resourceVersion": claim["metadata"]["resourceVersion"]});
    let bound = ctx
        .store
        .mutate("persistentvolumes", "", name(volume), |v| {
            put(v, &["spec", "claimRef"], reference);
            if by_controller {
                put(
                    v,
                    &[
                        "metadata",
                        "annotations",
                        "pv.kubernetes.io/bound-by-controller",
                    ],
                    json!("yes"),
                );
            }
            put(v, &["status", "phase"], json!("Bound"));
        });
    let Ok(volume) = bound else {
        return;
    };
    let named = !str_at(claim, "/spec/volumeName").is_empty();
    let _ = ctx.store.mutate(
        "persistentvolumeclaims",
        namespace(claim),
        name(claim),
        |c| {
            put(c, &["spec", "volumeName"], json!(name(&volume)));
            let mut done = vec!["pv.kubernetes.io/bind-completed"];
            if !named {
                done.push("pv.kubernetes.io/bound-by-controller");
            }
            for annotation in done {
                put(c, &["metadata", "annotations", annotation], json!("yes"));
            }
            c["status"] = json!({"phase": "Bound",
                "accessModes": volume["spec"]["accessModes"],
                "capacity": volume["spec"]["capacity"]});
        },
    );
}

/// The volume the local-path provisioner makes for `claim` on `node`.
fn provisioned(claim: &Value, class: &Value, node: &str) -> Value {
    let volume = format!("pvc-{}", uid(claim));
    let size = claim
        .pointer("/spec/resources/requests/storage")
        .cloned()
        .unwrap_or_else(|| json!("1Gi"));
    let reclaim = match str_at(class, "/reclaimPolicy") {
        "" => "Delete",
        policy => policy,
    };
    json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": volume, "annotations": {
            "local.path.provisioner/selected-node": node,
            "pv.kubernetes.io/provisioned-by": LOCAL_PATH}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": claim["spec"]["accessModes"],
            "persistentVolumeReclaimPolicy": reclaim,
            "storageClassName": name(class),
            "volumeMode": "Filesystem",
            "hostPath": {"path": format!("/var/local-path-provisioner/{volume}_{}_{}",
                                         namespace(claim), name(claim)),
                         "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}},
            "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1",
                         "namespace": namespace(claim), "name": name(claim), "uid": uid(claim),
                         "resourceVersion": claim["metadata"]["resourceVersion"]},
        },
    })
}

/// PersistentVolumeClaims: binding and provisioning. Keeps when each claim's provisioning
/// started.
#[derive(Default)]
pub struct Claims {
    provisioning: HashMap<String, Instant>,
}

impl Controller for Claims {
    const PRIMARY: &'static str = "persistentvolumeclaims";
    const CHILD: Option<&'static str> = None;

    fn reconcile(&mut self, ctx: &Ctx, claim: &Object, _: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(claim) || str_at(claim, "/status/phase") == "Bound" {
            return outcome;
        }
        let (ns, claim_name) = (namespace(claim), name(claim));
        let class_set = claim["spec"]["storageClassName"].is_string();
        let default = (!class_set).then(|| default_class(&ctx.store)).flatten();
        if str_at(claim, "/status/phase").is_empty() || default.is_some() {
            // Pending until bound; the default class is given to a claim that names none
            // (the write brings the claim back here).
            let _ = ctx.store.mutate(Self::PRIMARY, ns, claim_name, |c| {
                if let Some(class) = &default {
                    put(c, &["spec", "storageClassName"], json!(class));
                }
                put(c, &["status", "phase"], json!("Pending"));
            });
            return outcome;
        }
        let (volumes, _) = ctx.store.list("persistentvolumes", None);
        let wanted = str_at(claim, "/spec/volumeName");
        if !wanted.is_empty() {
            Self::bind_named(ctx, claim, wanted, &volumes, &mut outcome);
            return outcome;
        }
        let class_name = str_at(claim, "/spec/storageClassName");
        let class = ctx.store.get(CLASSES, "", class_name);
        let node = annotation(claim, SELECTED_NODE);
        let delayed = class.as_deref().is_some_and(waits_for_consumer) && node.is_empty();
        if !delayed && let Some(volume) = best_match(claim, &volumes) {
            bind(ctx, claim, volume);
            return outcome;
        }
        let note = match (class_name, class) {
            ("", _) => Note::normal(
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            ),
            (_, None) => Note::warning(
                "ProvisioningFailed",
                format!("storageclass.storage.k8s.io \"{class_name}\" not found"),
            ),
            (_, Some(_)) if delayed => Note::normal(
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
            ),
            (_, Some(class)) => {
                self.provision(ctx, claim, &class, node, &mut outcome);
                return outcome;
            }
        };
        ctx.events.record(&CONTROLLER, claim, &note);
        if !delayed {
            outcome.requeue(RESYNC);
        }
        outcome
    }

    fn forget(&mut self, object: &Object) {
        self.provisioning.remove(uid(object));
    }
}

impl Claims {
    /// Binds a claim to the volume it names, once that volume exists and may hold it.
    fn bind_named(
        ctx: &Ctx,
        claim: &Value,
        wanted: &str,
        volumes: &[Object],
        outcome: &mut Outcome,
    ) {
        let Some(volume) = volumes.iter().find(|v| name(v) == wanted) else {
            // The user asked for a volume that does not exist (yet): the claim waits.
            outcome.requeue(RESYNC);
            return;
        };
        let problem = if free_for(claim, volume) {
            unsatisfied(claim, volume)
                .map(|why| format!("Cannot bind to requested volume \"{wanted}\": {why}"))
        } else {
            Some(format!(
                "volume \"{wanted}\" already bound to a different claim."
            ))
        };
        match problem {
            None => bind(ctx, claim, volume),
            Some(message) => {
                let note = Note::warning("FailedBinding", message);
                ctx.events.record(&CONTROLLER, claim, &note);
                outcome.requeue(RESYNC);
            }
        }
    }

    /// Hands the claim to its class's provisioner; the local-path one makes the volume on
    /// the node the scheduler selected.
    fn provision(
        &mut self,
        ctx: &Ctx,
        claim: &Value,
        class: &Value,
        node: &str,
        outcome: &mut Outcome,
    ) {
        let provisioner = str_at(class, "/provisioner");
        let (ns, claim_name) = (namespace(claim), name(claim));
        if annotation(claim, "volume.kubernetes.io/storage-provisioner") != provisioner {
            let _ = ctx.store.mutate(Self::PRIMARY, ns, claim_name, |c| {
                for annotation in [
                    "volume.kubernetes.io/storage-provisioner",
                    "volume.beta.kubernetes.io/storage-provisioner",
                ] {
                    put(
                        c,
                        &["metadata", "annotations", annotation],
                        json!(provisioner),
                    );
                }
            });
        }
        let message = format!(
            "Waiting for a volume to be created either by the external provisioner \
             '{provisioner}' or manually by the system administrator. If volume creation is \
             delayed, please verify that the provisioner is running and correctly registered."
        );
        ctx.events.record(
            &CONTROLLER,
            claim,
            &Note::normal("ExternalProvisioning", message),
        );
        if provisioner != LOCAL_PATH {
            // Nobody here provisions for it: it waits, looked at again every sync.
            outcome.requeue(RESYNC);
            return;
        }
        let started = *self
            .provisioning
            .entry(uid(claim).to_owned())
            .or_insert_with(|| {
                let message = format!(
                    "External provisioner is provisioning volume for claim \"{ns}/{claim_name}\""
                );
                ctx.events
                    .record(&PROVISIONER, claim, &Note::normal("Provisioning", message));
                Instant::now()
            });
        let left = ctx
            .clock
            .real(PROVISIONING)
            .saturating_sub(started.elapsed());
        if !left.is_zero() {
            outcome.requeue(left.mul_f64(ctx.clock.speed()));
            return;
        }
        if node.is_empty() {
            let message = format!(
                "failed to provision volume with StorageClass \"{}\": configuration error, no \
                 node was specified",
                name(class)
            );
            let note = Note::warning("ProvisioningFailed", message);
            ctx.events.record(&PROVISIONER, claim, &note);
            outcome.requeue(RESYNC);
            return;
        }
        let volume = provisioned(claim, class, node);
        let volume_name = name(&volume).to_owned();
        // Already provisioned (a retry) is as good.
        let _ = ctx.store.create("persistentvolumes", volume);
        if let Some(volume) = ctx.store.get("persistentvolumes", "", &volume_name) {
            bind(ctx, claim, &volume);
        }
        let message = format!("Successfully provisioned volume {volume_name}");
        ctx.events.record(
            &PROVISIONER,
            claim,
            &Note::normal("ProvisioningSucceeded", message),
        );
    }
}

/// PersistentVolumes: Available until bound; once their claim is gone, deleted (`Delete`)
/// or Released (`Retain`).
pub struct Volumes;

impl Controller for Volumes {
    const PRIMARY: &'static str = "persistentvolumes";
    const CHILD: Option<&'static str> = None;

    fn reconcile(&mut self, ctx: &Ctx, volume: &Object, _: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(volume) {
            return outcome;
        }
        let reference = &volume["spec"]["claimRef"];
        let phase = str_at(volume, "/status/phase");
        if phase.is_empty() {
            // Bound by the claims' controller in the meantime stays bound.
            let _ = ctx.store.mutate(Self::PRIMARY, "", name(volume), |v| {
                if str_at(v, "/status/phase").is_empty() {
                    put(v, &["status", "phase"], json!("Available"));
                }
            });
            return outcome;
        }
        if phase != "Bound" || !reference.is_object() {
            return outcome;
        }
        let claim = ctx.store.get(
            "persistentvolumeclaims",
            str_at(reference, "/namespace"),
            str_at(reference, "/name"),
        );
        if claim.is_some_and(|c| c["metadata"]["uid"] == reference["uid"]) {
            // Its claim's deletion is not an event of this controller: look again later.
            outcome.requeue(RESYNC);
            return outcome;
        }
        if str_at(volume, "/spec/persistentVolumeReclaimPolicy") == "Delete" {
            let _ = ctx.store.delete(Self::PRIMARY, "", name(volume), false);
        } else {
            let _ = ctx.store.mutate(Self::PRIMARY, "", name(volume), |v| {
                put(v, &["status", "phase"], json!("Released"));
            });
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn claim(class: &str, size: &str, modes: &[&str]) -> Value {
        json!({"metadata": {"name": "data", "namespace": "ns", "uid": "u1"},
               "spec": {"storageClassName": class, "accessModes": modes,
                        "resources": {"requests": {"storage": size}}}})
    }

    fn volume(name: &str, class: &str, size: &str, modes: &[&str]) -> Object {
        Arc::new(json!({"metadata": {"name": name},
            "spec": {"storageClassName": class, "accessModes": modes,
                     "capacity": {"storage": size}},
            "status": {"phase": "Available"}}))
    }

    #[test]
    fn a_claim_takes_the_smallest_volume_that_satisfies_it() {
        let volumes = [
            volume("big", "manual", "10Gi", &["ReadWriteOnce"]),
            volume("small", "manual", "1Gi", &["ReadWriteOnce"]),
            volume("fits", "manual", "2Gi", &["ReadWriteOnce", "ReadOnlyMany"]),
            volume("other", "fast", "2Gi", &["ReadWriteOnce"]),
        ];
        let wanted = claim("manual", "1500Mi", &["ReadWriteOnce"]);
        assert_eq!(name(best_match(&wanted, &volumes).unwrap()), "fits");
        let shared = claim("manual", "1Gi", &["ReadOnlyMany"]);
        assert_eq!(name(best_match(&shared, &volumes).unwrap()), "fits");
        assert!(best_match(&claim("manual", "20Gi", &["ReadWriteOnce"]), &volumes).is_none());
        assert_eq!(
            unsatisfied(&wanted, &volumes[1]),
            Some("requested PV is too small")
        );
        assert_eq!(
            unsatisfied(&wanted, &volumes[3]),
            Some("storageClassName does not match")
        );
    }

    #[test]
    fn a_volume_claimed_by_another_is_not_free() {
        let mut taken = (*volume("v", "manual", "1Gi", &["ReadWriteOnce"])).clone();
        taken["spec"]["claimRef"] = json!({"namespace": "ns", "name": "other", "uid": "u2"});
        let wanted = claim("manual", "1Gi", &["ReadWriteOnce"]);
        assert!(!free_for(&wanted, &taken));
        taken["spec"]["claimRef"] = json!({"namespace": "ns", "name": "data"});
        assert!(free_for(&wanted, &taken), "pre-bound to this claim");
    }

    #[test]
    fn kinds_default_class_is_there_once() {
        let store = Store::default();
        create_default_class(&store);
        create_default_class(&store);
        assert_eq!(default_class(&store).as_deref(), Some("standard"));
        let class = store.get(CLASSES, "", "standard").unwrap();
        assert!(waits_for_consumer(&class));
        assert_eq!(class["provisioner"], LOCAL_PATH);
    }
}
