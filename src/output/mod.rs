//! The headless front ends: plain lines, the JSON report, and the failure digest.
//!
//! Pure formatting of a [`World`] (plus the verdict and timings): no cluster access and no
//! printing here, so every format is unit-tested; the headless driver writes the strings.
//! Only statuses and messages ever leave through here — never object data. Every line
//! written to stdout or stderr goes through [`sink`], which cleans it with [`safe`].

pub mod digest;
pub mod plain;
pub mod problem;
pub mod report;
pub mod safe;
pub mod sink;

use crate::model::{ObjectKey, TrackedObject, World};
use crate::status::Status;
use std::collections::HashMap;

/// One row of the tracked tree, in display order.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub key: &'a ObjectKey,
    /// `None`: a root that is not in the cluster (status `missing`).
    pub object: Option<&'a TrackedObject>,
}

impl Row<'_> {
    pub fn status(&self) -> Status {
        self.object.map_or(Status::Missing, |o| o.status)
    }

    pub fn message(&self) -> &str {
        self.object
            .map_or("not found in the cluster", |o| o.message.as_str())
    }

    /// Whether the row decides the verdict (missing roots do: they hold success back).
    pub fn counted(&self) -> bool {
        self.object.is_none_or(|o| o.counted)
    }
}

/// The roots in input order, each followed by its descendants depth first; then anything
/// tracked but not reachable from a root.
pub fn tree(world: &World) -> Vec<Row<'_>> {
    let mut rows = Vec::with_capacity(world.objects.len() + world.roots.len());
    let mut seen = std::collections::HashSet::new();
    // Children by owner, once: asking the world per object is quadratic at 5 000 pods.
    let mut children: HashMap<&ObjectKey, Vec<&ObjectKey>> = HashMap::new();
    // Roots under another root first, in input order, whether or not they are present.
    for root in &world.roots {
        if let Some(parent) = world.parents.get(root) {
            children.entry(parent).or_default().push(root);
        }
    }
    for object in world.objects.values() {
        if let Some(owner) = &object.owner
            && !world.parents.contains_key(&object.key)
        {
            children.entry(owner).or_default().push(&object.key);
        }
    }
    for root in world
        .roots
        .iter()
        .filter(|r| !world.parents.contains_key(*r))
    {
        push_subtree(world, &children, root, &mut rows, &mut seen);
    }
    for object in world.objects.values() {
        if seen.insert(&object.key) {
            rows.push(Row {
                key: &object.key,
                object: Some(object),
            });
        }
    }
    rows
}

fn push_subtree<'a>(
    world: &'a World,
    children: &HashMap<&'a ObjectKey, Vec<&'a ObjectKey>>,
    key: &'a ObjectKey,
    rows: &mut Vec<Row<'a>>,
    seen: &mut std::collections::HashSet<&'a ObjectKey>,
) {
    if !seen.insert(key) {
        return;
    }
    rows.push(Row {
        key,
        object: world.object(key),
    });
    for child in children.get(key).into_iter().flatten() {
        push_subtree(world, children, child, rows, seen);
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::model::{ObjectKey, TrackedObject, World};
    use crate::status::Status;

    pub fn object(
        kind: &str,
        name: &str,
        status: Status,
        message: &str,
        owner: Option<&ObjectKey>,
    ) -> TrackedObject {
        TrackedObject {
            api_version: if kind == "Pod" { "v1" } else { "apps/v1" }.into(),
            uid: format!("uid-{name}"),
            message: message.into(),
            ..TrackedObject::for_test(ObjectKey::new(kind, Some("shop"), name), status, owner)
        }
    }

    /// A Deployment whose new pod fails to pull, with an old `ReplicaSet` and a missing root.
    pub fn failing_world() -> World {
        let web = ObjectKey::new("Deployment", Some("shop"), "web");
        let missing = ObjectKey::new("Service", Some("shop"), "web");
        let mut world = World::new(vec![web.clone(), missing]);
        let rs = ObjectKey::new("ReplicaSet", Some("shop"), "web-2");
        let mut old_rs = object(
            "ReplicaSet",
            "web-1",
            Status::Success,
            "1/1 ready",
            Some(&web),
        );
        old_rs.counted = false;
        for object in [
            object(
                "Deployment",
                "web",
                Status::InProgress,
                "0/1 replicas available",
                None,
            ),
            object(
                "ReplicaSet",
                "web-2",
                Status::InProgress,
                "0/1 ready",
                Some(&web),
            ),
            old_rs,
            object(
                "Pod",
                "web-2-x",
                Status::Failed,
                "nginx: ImagePullBackOff (Back-off pulling image \"nginx:doesnotexist\")",
                Some(&rs),
            ),
        ] {
            world.apply(crate::model::Diff::Upsert(Box::new(object)));
        }
        world
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_lists_roots_in_order_with_descendants_under_them() {
        let world = fixtures::failing_world();
        let names: Vec<String> = tree(&world).iter().map(|r| r.key.to_string()).collect();
        assert_eq!(
            names,
            [
                "Deployment shop/web",
                "ReplicaSet shop/web-1",
                "ReplicaSet shop/web-2",
                "Pod shop/web-2-x",
                "Service shop/web",
            ]
        );
        let rows = tree(&world);
        assert_eq!(rows[4].status(), Status::Missing);
        assert!(rows[4].counted());
        assert!(!rows[1].counted());
    }

    #[test]
    fn a_releases_objects_present_or_missing_are_listed_under_it() {
        let mut world = fixtures::failing_world();
        let release = ObjectKey::new("HelmRelease", Some("shop"), "site");
        world.roots.insert(0, release.clone());
        for root in world.roots.iter().skip(1) {
            world.parents.insert(root.clone(), release.clone());
        }
        let names: Vec<String> = tree(&world).iter().map(|r| r.key.to_string()).collect();
        assert_eq!(
            names,
            [
                "HelmRelease shop/site",
                "Deployment shop/web",
                "ReplicaSet shop/web-1",
                "ReplicaSet shop/web-2",
                "Pod shop/web-2-x",
                "Service shop/web",
            ],
            "the missing Service too, in input order"
        );
    }
}
