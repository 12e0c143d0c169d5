//! The ingress controller the simulated cluster plays: ingress-nginx, whose IngressClasses
//! name the controller `k8s.io/ingress-nginx`. It claims an Ingress whose class
//! (`spec.ingressClassName`, or the older `kubernetes.io/ingress.class` annotation) is an
//! IngressClass of that controller, or that names no class while such a class is annotated
//! `ingressclass.kubernetes.io/is-default-class: "true"`; a moment later the Ingress gets
//! its address (`localhost`, as ingress-nginx publishes it on kind). An Ingress no
//! IngressClass of that controller claims waits without one, as on a real cluster; it is
//! claimed as soon as its class appears.

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{name, namespace, put, str_at, terminating, uid};
use crate::controllers::runner::{Controller, Ctx, Key, Outcome};
use crate::store::Object;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The `spec.controller` of the IngressClasses it serves.
pub const CONTROLLER: &str = "k8s.io/ingress-nginx";
const CLASSES: &str = "ingressclasses.networking.k8s.io";
const DEFAULT_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";
/// From claiming an Ingress to publishing its address: the controller's next sync.
const PUBLISH: Duration = Duration::from_secs(2);
const SOURCE: Source = Source::controller("nginx-ingress-controller");

#[derive(Default)]
pub struct Ingresses {
    /// IngressClass name → whether it is ours, and whether it is the default.
    classes: HashMap<String, (bool, bool)>,
    /// Every Ingress seen, to look at again when a class changes.
    known: HashSet<Key>,
    /// Ingress uid → when it was claimed.
    claimed: HashMap<String, Instant>,
}

impl Controller for Ingresses {
    const PRIMARY: &'static str = "ingresses.networking.k8s.io";
    const CHILD: Option<&'static str> = None;
    const WATCHES: &'static [&'static str] = &[CLASSES];

    fn reconcile(&mut self, ctx: &Ctx, ingress: &Object, _: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        let key = (namespace(ingress).to_owned(), name(ingress).to_owned());
        self.known.insert(key);
        let published = ingress.pointer("/status/loadBalancer/ingress/0").is_some();
        if terminating(ingress) || published || !self.ours(ingress) {
            return outcome;
        }
        let since = *self
            .claimed
            .entry(uid(ingress).to_owned())
            .or_insert_with(|| {
                ctx.events.record(
                    &SOURCE,
                    ingress,
                    &Note::normal("Sync", "Scheduled for sync"),
                );
                Instant::now()
            });
        let wait = ctx.clock.real(PUBLISH);
        if since.elapsed() < wait {
            outcome.requeue(
                wait.saturating_sub(since.elapsed())
                    .mul_f64(ctx.clock.speed()),
            );
            return outcome;
        }
        let _ = ctx
            .store
            .mutate(Self::PRIMARY, namespace(ingress), name(ingress), |i| {
                let address = json!({"ingress": [{"hostname": "localhost"}]});
                put(i, &["status", "loadBalancer"], address);
            });
        ctx.events.record(
            &SOURCE,
            ingress,
            &Note::normal("Sync", "Scheduled for sync"),
        );
        outcome
    }

    fn forget(&mut self, ingress: &Object) {
        self.known
            .remove(&(namespace(ingress).to_owned(), name(ingress).to_owned()));
        self.claimed.remove(uid(ingress));
    }

    fn observe(&mut self, _: &str, class: &Object, gone: bool) -> Vec<Key> {
        if gone {
            self.classes.remove(name(class));
        } else {
            let ours = str_at(class, "/spec/controller") == CONTROLLER;
            let default = class["metadata"]["annotations"][DEFAULT_CLASS] == "true";
            self.classes.insert(name(class).to_owned(), (ours, default));
        }
        self.known.iter().cloned().collect()
    }

    fn reset(&mut self) {
        self.classes.clear();
    }
}

impl Ingresses {
    /// Whether the Ingress's class is one of ours, or it names none and ours is the default.
    fn ours(&self, ingress: &Value) -> bool {
        let named = match str_at(ingress, "/spec/ingressClassName") {
            "" => ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"].as_str(),
            class => Some(class),
        };
        match named {
            Some(class) => self.classes.get(class).is_some_and(|(ours, _)| *ours),
            None => self
                .classes
                .values()
                .any(|(ours, default)| *ours && *default),
        }
    }
}
