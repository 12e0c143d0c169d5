//! The watch actor: one kube-rs watcher per (kind, namespace) in use — never one per object
//! — plus, for the view, one Events watch per namespace, merged into one loop that keeps
//! the owner graph and sends [`Diff`]s over a channel.
//!
//! Watchers relist on 410 Gone and back off on errors (kube-runtime does both); a request the
//! server forbids is fatal and reported as [`Update::Error`]. A kind of children the server
//! does not serve (404: `AnalysisRuns` without their CRD, `EndpointSlices` on an old server)
//! is reported once as [`Update::NotServed`] and no longer watched: kos goes on without it,
//! and does not ask again (a CRD installed later is not picked up in this run, since
//! nothing polls). The actor never prints and never judges the verdict: front ends own a
//! `World` and a `Tracker`.

mod backoff;
pub mod graph;
pub mod object;
mod routes;
mod settle;
pub mod summary;

use crate::apply::Applied;
use crate::cluster::ApiError;
use crate::model::{Diff, ObjectKey};
use crate::tracker::Overrides;
use backoff::WatchBackoff;
use futures::future::{BoxFuture, Fuse, FusedFuture};
use futures::{FutureExt, StreamExt, stream::BoxStream};
use graph::Graph;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Client;
use kube::api::Api;
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use settle::Settling;
use std::collections::HashSet;
use summary::Node;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// How many watch events are folded into one round of diffs at most.
const BATCH: usize = 512;

/// How many decoded watch events may wait for the owner graph.
const BUFFER: usize = 4 * BATCH;

/// How many times in a row one watch may fail with the same error (a reply it cannot
/// decode, say) before tracking ends with it: retrying a server that answers garbage only
/// hides why nothing is seen.
const SAME_FAILURES: u32 = 5;

/// How often an unreachable API server is asked whether it answers again.
const PROBE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// An object the user applied or named: a root of the tracked tree.
#[derive(Debug, Clone)]
pub struct Root {
    pub key: ObjectKey,
    pub resource: ApiResource,
    /// How it counts, from its manifest's `kos.dev/` annotations.
    pub overrides: Overrides,
    /// Its part in a Helm release (`kos watch helm/NAME`), if any.
    pub helm: Option<HelmPart>,
}

/// A root's part in a Helm release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelmPart {
    /// The release itself (`resource`: where Helm stores it), summarized from its record of
    /// this name: `sh.helm.release.v1.NAME.vN`.
    Release { record: String },
    /// An object of the release's manifest, or one of its hooks, shown under the release.
    Member {
        release: ObjectKey,
        hook: Option<graph::Hook>,
    },
}

impl Root {
    /// A root that is an object of its own, with no overrides.
    pub fn object(key: ObjectKey, resource: ApiResource) -> Self {
        Root {
            key,
            resource,
            overrides: Overrides::default(),
            helm: None,
        }
    }
}

impl From<&Applied> for Root {
    fn from(applied: &Applied) -> Self {
        Root {
            overrides: applied.overrides,
            ..Root::object(applied.key.clone(), applied.served.resource.clone())
        }
    }
}

/// The roots whose overrides are not the defaults, for the graph and the world.
pub fn overrides<C: FromIterator<(ObjectKey, Overrides)>>(roots: &[Root]) -> C {
    roots
        .iter()
        .filter(|root| root.overrides != Overrides::default())
        .map(|root| (root.key.clone(), root.overrides))
        .collect()
}

/// The roots shown under another root (the objects of a Helm release under it), with that
/// root, for the world's tree.
pub fn parents<C: FromIterator<(ObjectKey, ObjectKey)>>(roots: &[Root]) -> C {
    roots
        .iter()
        .filter_map(|root| match &root.helm {
            Some(HelmPart::Member { release, .. }) => Some((root.key.clone(), release.clone())),
            _ => None,
        })
        .collect()
}

/// The graph of `roots`: their overrides, the members of Helm releases and their hooks.
fn graph_of(roots: &[Root]) -> Graph {
    let members = roots
        .iter()
        .filter_map(|root| match &root.helm {
            Some(HelmPart::Member { release, hook }) => Some((
                root.key.clone(),
                graph::Member {
                    parent: release.clone(),
                    hook: hook.clone(),
                },
            )),
            _ => None,
        })
        .collect();
    Graph::new(roots.iter().map(|r| r.key.clone()).collect())
        .with_overrides(overrides(roots))
        .with_members(members)
}

/// What the actor sends.
#[derive(Debug)]
pub enum Update {
    /// Everything that changed since the last batch, sent as one message: a front end that
    /// judged the world halfway through a batch could see a failed pod before the roots
    /// listed in the same batch, and decide on a world that never was.
    Diffs(Vec<Diff>),
    /// A watch the server refuses (forbidden, not found); the actor has stopped.
    Error(ApiError),
    /// The API server stopped answering (connection refused, reset, timed out); the watches
    /// keep retrying with back-off. Sent once per outage.
    Lost(ApiError),
    /// The first watch event after [`Update::Lost`]: the server answers again.
    Restored,
    /// The server does not serve a kind of children kos looks for (`analysisruns in
    /// namespace shop`); tracking goes on without them. Sent once per watch.
    NotServed(String),
}

/// One watch: a resource in a namespace (`None`: cluster-wide), narrowed to one name when
/// only one object of it is wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchSpec {
    pub resource: ApiResource,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub feed: Feed,
}

impl WatchSpec {
    /// Whether it watches objects (a release's record included), which tracking needs,
    /// rather than Events, which only explain.
    fn objects(&self) -> bool {
        self.feed != Feed::Events
    }
}

/// What a watch reads its objects as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Objects, judged by the status rules.
    Objects,
    /// Events, for the objects' details.
    Events,
    /// A Helm release's record, summarized as the release.
    Release,
}

/// The running actor; dropping it stops the watches.
pub struct Watch {
    pub updates: mpsc::Receiver<Update>,
    /// Weak: the channel closes when the actor ends, whoever else may still send.
    feed: mpsc::WeakSender<Update>,
    task: JoinHandle<()>,
}

impl Watch {
    /// A sender into the same channel, for rows that do not come from the cluster (the
    /// roots `apply` still holds back); `None` once the actor has ended.
    pub fn feed(&self) -> Option<mpsc::Sender<Update>> {
        self.feed.upgrade()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a watch also follows the Events of the namespaces in use. The view shows them in
/// an object's details; the headless modes print none while they run and read the few their
/// digest needs at the end, so following every Event of a big rollout (as many as its pod
/// changes) would only double their work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    Follow,
    Skip,
}

/// How many rounds of diffs may wait for a front end that is behind: beyond that the
/// watches stop reading, and the API server holds what is not read yet.
const ROUNDS: usize = 16;

/// Starts watching `roots` and their descendants.
pub fn spawn(client: Client, server: String, roots: Vec<Root>, events: Events) -> Watch {
    let (sender, updates) = mpsc::channel(ROUNDS);
    let feed = sender.downgrade();
    let task = tokio::spawn(run(client, server, plan(&roots, events), roots, sender));
    Watch {
        updates,
        feed,
        task,
    }
}

/// Where Argo Rollouts' `AnalysisRuns` are served, once their CRD is installed.
fn analysis_runs() -> ApiResource {
    ApiResource {
        group: "argoproj.io".into(),
        version: "v1alpha1".into(),
        api_version: "argoproj.io/v1alpha1".into(),
        kind: "AnalysisRun".into(),
        plural: "analysisruns".into(),
    }
}

/// The kinds whose objects a kind owns through ownerReferences, or names (an Argo
/// Rollout's Services, `watch::routes`).
fn child_resources(kind: &str) -> Vec<ApiResource> {
    let pods = || ApiResource::erase::<Pod>(&());
    match kind {
        "Deployment" => vec![ApiResource::erase::<ReplicaSet>(&()), pods()],
        // An Argo Rollout owns its ReplicaSets as a Deployment does, and the AnalysisRuns
        // it starts; it names its Services, whose EndpointSlices show where they route.
        "Rollout" => vec![
            ApiResource::erase::<ReplicaSet>(&()),
            pods(),
            analysis_runs(),
            ApiResource::erase::<Service>(&()),
            ApiResource::erase::<EndpointSlice>(&()),
        ],
        "ReplicaSet" | "ReplicationController" | "StatefulSet" | "DaemonSet" | "Job" => {
            vec![pods()]
        }
        "CronJob" => vec![ApiResource::erase::<Job>(&()), pods()],
        // The pods a Service sends traffic to now, as its EndpointSlices list them.
        "Service" => vec![ApiResource::erase::<EndpointSlice>(&())],
        _ => Vec::new(),
    }
}

/// Where objects of `kind` are served when kos tracks them as children (a `ReplicaSet`, a
/// `Job`, a `Pod`); `None` for a kind no root owns.
pub fn child_resource(kind: &str) -> Option<ApiResource> {
    ["Deployment", "CronJob", "Rollout"]
        .into_iter()
        .flat_map(child_resources)
        .find(|resource| resource.kind == kind)
}

/// The watches `roots` need: children's kinds watched namespace-wide, a root's kind narrowed
/// to its name when it is the only object of that kind and namespace, and, when `events`
/// says so, one Events watch per namespace in use.
pub fn plan(roots: &[Root], events: Events) -> Vec<WatchSpec> {
    let mut specs: Vec<WatchSpec> = Vec::new();
    let mut want = |resource: &ApiResource, namespace: Option<&String>, name: Option<&str>| {
        let same = |s: &WatchSpec| {
            s.resource == *resource && s.namespace.as_ref() == namespace && s.feed == Feed::Objects
        };
        match specs.iter_mut().find(|s| same(s)) {
            Some(spec) if spec.name.as_deref() != name => spec.name = None,
            Some(_) => {}
            None => specs.push(WatchSpec {
                resource: resource.clone(),
                namespace: namespace.cloned(),
                name: name.map(str::to_owned),
                feed: Feed::Objects,
            }),
        }
    };
    for root in roots {
        if let Some(HelmPart::Release { .. }) = &root.helm {
            continue;
        }
        want(
            &root.resource,
            root.key.namespace.as_ref(),
            Some(&root.key.name),
        );
    }
    for root in roots {
        for child in child_resources(&root.key.kind) {
            want(&child, root.key.namespace.as_ref(), None);
        }
    }
    for root in roots {
        // Each release's record on a watch of its own: a record is summarized as its
        // release, where the chart's own Secrets are judged as objects.
        if let Some(HelmPart::Release { record }) = &root.helm {
            specs.push(WatchSpec {
                resource: root.resource.clone(),
                namespace: root.key.namespace.clone(),
                name: Some(record.clone()),
                feed: Feed::Release,
            });
        }
    }
    if events == Events::Skip {
        return specs;
    }
    let mut namespaces: Vec<&String> = roots
        .iter()
        .filter_map(|r| r.key.namespace.as_ref())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    for namespace in namespaces {
        specs.push(WatchSpec {
            resource: ApiResource::erase::<CoreEvent>(&()),
            namespace: Some(namespace.clone()),
            name: None,
            feed: Feed::Events,
        });
    }
    specs
}

/// What one watch saw, decoded and summarized.
enum Seen {
    /// The watch starts listing everything again.
    Relist,
    /// The watch has listed everything.
    Listed,
    /// With what a start-up failure it shows becomes, and when.
    Upsert(Box<Node>, Option<crate::status::Later>),
    /// The object with this uid was deleted.
    Delete(String),
    Event(Box<object::Event>),
}

type Item = (usize, Result<Option<Seen>, watcher::Error>);

fn api<K>(client: &Client, spec: &WatchSpec) -> Api<K>
where
    K: kube::Resource<DynamicType = ApiResource, Scope = kube::core::DynamicResourceScope>,
{
    match &spec.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &spec.resource),
        None => Api::all_with(client.clone(), &spec.resource),
    }
}

/// How `spec` lists and watches. Any version and no pages, as client-go's informers list:
/// a real API server answers from its watch cache in one piece, where a paged list of
/// thousands of fast-changing pods can outlive its continue token (410 Expired) and start
/// over, again and again.
fn config(spec: &WatchSpec) -> watcher::Config {
    let mut config = watcher::Config::default().any_semantic();
    config.page_size = None;
    if let Some(name) = &spec.name {
        config = config.fields(&format!("metadata.name={name}"));
    }
    config
}

fn stream(client: &Client, index: usize, spec: &WatchSpec) -> BoxStream<'static, Item> {
    let config = config(spec);
    let feed = spec.feed;
    if feed == Feed::Events {
        return watcher(api::<object::Event>(client, spec), config)
            .backoff(WatchBackoff::default())
            .map(move |item| (index, item.map(event_seen)))
            .boxed();
    }
    match object::Reads::of(&spec.resource) {
        object::Reads::Any => {
            objects::<object::Object<object::AnyKind>>(client, index, spec, config)
        }
        object::Reads::Pod => objects::<summary::SummarizedPod>(client, index, spec, config),
        object::Reads::Templated => {
            objects::<object::Object<object::TemplatedKind>>(client, index, spec, config)
        }
    }
}

/// What an object watch decodes its objects into.
trait Watched:
    kube::Resource<DynamicType = ApiResource, Scope = kube::core::DynamicResourceScope>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The object, added or changed, as the graph takes it.
    fn seen(self, resource: &ApiResource, feed: Feed) -> Option<Seen>;
}

/// Summarized here, as the watcher hands it out (a release's record by what it says of the
/// release).
impl<S> Watched for object::Object<S>
where
    S: object::Shaped + Clone + std::fmt::Debug + Send + Sync + 'static,
{
    fn seen(self, resource: &ApiResource, feed: Feed) -> Option<Seen> {
        let object = self.into_value(resource);
        if feed == Feed::Release {
            return summary::release_node(&object).map(|node| Seen::Upsert(Box::new(node), None));
        }
        summary::node(&object, chrono::Utc::now())
            .map(|(node, later)| Seen::Upsert(Box::new(node), later))
    }
}

/// Summarized as it was decoded (no pod is a release's record).
impl Watched for summary::SummarizedPod {
    fn seen(self, _: &ApiResource, _: Feed) -> Option<Seen> {
        self.summary.map(|(node, later)| Seen::Upsert(node, later))
    }
}

/// An object watch, its objects decoded as `K`.
fn objects<K: Watched>(
    client: &Client,
    index: usize,
    spec: &WatchSpec,
    config: watcher::Config,
) -> BoxStream<'static, Item> {
    let (resource, feed) = (spec.resource.clone(), spec.feed);
    watcher(api::<K>(client, spec), config)
        .backoff(WatchBackoff::default())
        .map(move |item| (index, item.map(|event| object_seen(event, &resource, feed))))
        .boxed()
}

/// An object watch's event, summarized.
fn object_seen<K: Watched>(
    event: watcher::Event<K>,
    resource: &ApiResource,
    feed: Feed,
) -> Option<Seen> {
    match event {
        watcher::Event::Init => Some(Seen::Relist),
        watcher::Event::InitDone => Some(Seen::Listed),
        watcher::Event::Apply(object) | watcher::Event::InitApply(object) => {
            object.seen(resource, feed)
        }
        watcher::Event::Delete(object) => object.meta().uid.clone().map(Seen::Delete),
    }
}

/// An Events watch's event; Events only add rows, so their deletion and relists are moot.
fn event_seen(event: watcher::Event<object::Event>) -> Option<Seen> {
    match event {
        watcher::Event::Apply(event) | watcher::Event::InitApply(event)
            if !event.about.name.is_empty() =>
        {
            Some(Seen::Event(Box::new(event)))
        }
        _ => None,
    }
}

/// Starts each watch in a task of its own, so that a big list on one (tens of thousands
/// of Events) does not leave the others' connections unread until the server cuts them off
/// as too slow; returns the tasks and what they read, merged. A watch that `skippable`
/// says kos can do without ends at its first 404.
fn start_watches(
    client: &Client,
    specs: &[WatchSpec],
    skippable: &[bool],
) -> (JoinSet<()>, mpsc::Receiver<Item>) {
    let (items, merged) = mpsc::channel::<Item>(BUFFER);
    let mut watches = JoinSet::new();
    for (index, spec) in specs.iter().enumerate() {
        let (client, spec) = (client.clone(), spec.clone());
        let items = items.clone();
        let optional = skippable[index];
        watches.spawn(async move {
            let mut watch = stream(&client, index, &spec);
            while let Some(item) = watch.next().await {
                let lost_history = matches!(&item.1, Err(error) if ahead_of_server(error));
                let unserved = matches!(&item.1, Err(error) if not_found(error));
                if items.send(item).await.is_err() || (unserved && optional) {
                    return;
                }
                // kube-runtime would resume from that version forever; start over with a
                // fresh list instead, as client-go's reflector does, so that objects the
                // server no longer has leave the view.
                if lost_history {
                    watch = stream(&client, index, &spec);
                }
            }
        });
    }
    (watches, merged)
}

/// Feeds what the watch actor saw into the graph and sends the diffs.
async fn run(
    client: Client,
    server: String,
    specs: Vec<WatchSpec>,
    roots: Vec<Root>,
    sender: mpsc::Sender<Update>,
) {
    let skippable: Vec<bool> = specs.iter().map(|spec| optional(spec, &roots)).collect();
    // Dropped with this task, the set stops the watches.
    let (_watches, mut merged) = start_watches(&client, &specs, &skippable);
    let mut batch = Vec::with_capacity(BATCH);
    let mut graph = graph_of(&roots);
    // Nothing is sent until every object watch has listed once: a Deployment seen before
    // its pods were listed would look finished with no pods to wait for.
    let mut unsynced: HashSet<usize> = (0..specs.len()).filter(|&i| specs[i].objects()).collect();
    // While the server is unreachable: a probe that ends once it answers again. A watch
    // that resumes says nothing until an object changes, so the probe tells the recovery.
    let mut probe = std::pin::pin!(Fuse::<BoxFuture<'static, ()>>::terminated());
    let mut repeats = Repeats::default();
    let mut settling = Settling::default();
    loop {
        let settles = settling.next();
        tokio::select! {
            received = merged.recv_many(&mut batch, BATCH) => if received == 0 {
                return;
            },
            () = tokio::time::sleep_until(settles.unwrap_or_else(Instant::now)),
                if settles.is_some() =>
            {
                for (index, node) in settling.due(Instant::now()) {
                    graph.upsert(index, node);
                }
            }
            () = &mut probe => {
                if sender.send(Update::Restored).await.is_err() {
                    return;
                }
                continue;
            }
        };
        for (index, item) in batch.drain(..) {
            let spec = &specs[index];
            let lost = !probe.is_terminated();
            let notice = match item {
                Ok(seen) => {
                    // A watch starts each retry with a relist event: only what follows it
                    // shows that the server answers sense again.
                    if !matches!(seen, Some(Seen::Relist)) {
                        repeats.forget(index);
                    }
                    if matches!(seen, Some(Seen::Listed)) {
                        unsynced.remove(&index);
                    }
                    if let Some(seen) = seen {
                        fold(&mut graph, &mut settling, index, seen);
                    }
                    probe.set(Fuse::terminated());
                    lost.then_some(Update::Restored)
                }
                Err(error) if skippable[index] && not_found(&error) => {
                    // Its watch has ended; waiting for it would hold the first sync forever.
                    tracing::debug!(%error, "not served; tracking goes on without it");
                    unsynced.remove(&index);
                    Some(Update::NotServed(described(spec)))
                }
                Err(error) => {
                    // Events only explain; a forbidden Events watch must not stop tracking.
                    if let Some(fatal) = fatal(&error, &server, spec).filter(|_| spec.objects()) {
                        let _ = sender.send(Update::Error(fatal)).await;
                        return;
                    }
                    tracing::debug!(%error, "watch error; backing off");
                    if spec.objects()
                        && undecodable(&error)
                        && repeats.count(index, &error) >= SAME_FAILURES
                    {
                        let _ = sender.send(Update::Error(persistent(&error, spec))).await;
                        return;
                    }
                    let unreachable = unreachable(&error, &server).filter(|_| !lost);
                    if unreachable.is_some() {
                        probe.set(answered(client.clone()).boxed().fuse());
                    }
                    unreachable.map(Update::Lost)
                }
            };
            if let Some(notice) = notice
                && sender.send(notice).await.is_err()
            {
                return;
            }
        }
        if !unsynced.is_empty() {
            continue;
        }
        let diffs = graph.diffs();
        if !diffs.is_empty() && sender.send(Update::Diffs(diffs)).await.is_err() {
            return;
        }
    }
}

/// Whether kos can track without `spec`'s objects: it watches only children (no root is of
/// its resource in its namespace).
fn optional(spec: &WatchSpec, roots: &[Root]) -> bool {
    spec.feed == Feed::Objects
        && !roots
            .iter()
            .any(|r| r.resource == spec.resource && r.key.namespace == spec.namespace)
}

/// A watch error that says the server does not serve the resource (404 on its list or
/// watch).
fn not_found(error: &watcher::Error) -> bool {
    matches!(
        error,
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status)) if status.code == 404
    )
}

/// `analysisruns in namespace shop`: what a watch reads, for a note.
fn described(spec: &WatchSpec) -> String {
    match &spec.namespace {
        Some(ns) => format!("{} in namespace {ns}", spec.resource.plural),
        None => spec.resource.plural.clone(),
    }
}

/// Resolves once the API server answers (`GET /version`) again.
async fn answered(client: Client) {
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        if client.apiserver_version().await.is_ok() {
            return;
        }
    }
}

/// Feeds what watch `index` saw into the graph.
fn fold(graph: &mut Graph, settling: &mut Settling, index: usize, seen: Seen) {
    match seen {
        Seen::Relist => {
            settling.relisted(index);
            graph.relist_started(index);
        }
        Seen::Listed => graph.relist_done(index),
        Seen::Upsert(node, later) => {
            settling.seen(index, &node, later.as_ref(), Instant::now());
            graph.upsert(index, *node);
        }
        Seen::Delete(uid) => {
            settling.deleted(&uid);
            graph.delete(&uid);
        }
        Seen::Event(event) => {
            let uid = event.uid().to_owned();
            graph.record_event(event.about, uid, event.row);
        }
    }
}

/// A watch error that says the server cannot be reached at all (rather than refusing).
fn unreachable(error: &watcher::Error, server: &str) -> Option<ApiError> {
    let (watcher::Error::InitialListFailed(source)
    | watcher::Error::WatchStartFailed(source)
    | watcher::Error::WatchFailed(source)) = error
    else {
        return None;
    };
    match ApiError::from_kube(source, server, "watch", "", false) {
        lost @ ApiError::Unreachable { .. } => Some(lost),
        _ => None,
    }
}

/// A watch error that says the server has not reached the resourceVersion the watch resumes
/// from ("Too large resource version"): it lost its history, say by restarting with fresh
/// state, and waiting will not bring that version.
fn ahead_of_server(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status))
        | watcher::Error::WatchError(status) => {
            status.code == 504 && status.message.starts_with("Too large resource version")
        }
        _ => false,
    }
}

/// The last error of each watch and how many times in a row it came.
#[derive(Default)]
struct Repeats(std::collections::HashMap<usize, (String, u32)>);

impl Repeats {
    /// Records `error` for watch `index`; returns how many times in a row it came.
    fn count(&mut self, index: usize, error: &watcher::Error) -> u32 {
        let text = error.to_string();
        let entry = self.0.entry(index).or_insert_with(|| (text.clone(), 0));
        if entry.0 != text {
            *entry = (text, 0);
        }
        entry.1 += 1;
        entry.1
    }

    fn forget(&mut self, index: usize) {
        self.0.remove(&index);
    }
}

/// A reply kos could not read: not JSON, not the shape asked for, not UTF-8, or past the
/// bounds kos reads. Unlike an outage or a 5xx answer, trying again gets the same.
fn undecodable(error: &watcher::Error) -> bool {
    let (watcher::Error::InitialListFailed(source)
    | watcher::Error::WatchStartFailed(source)
    | watcher::Error::WatchFailed(source)) = error
    else {
        return false;
    };
    matches!(
        source,
        kube::Error::SerdeError(_)
            | kube::Error::FromUtf8(_)
            | kube::Error::LinesCodecMaxLineLengthExceeded
    ) || crate::cluster::limits::exceeded(source)
}

/// The error a watch kept failing with, worded with its request: `list pods in namespace
/// shop failed: its reply cannot be decoded (5 times in a row): expected value at line 1
/// column 1`.
fn persistent(error: &watcher::Error, spec: &WatchSpec) -> ApiError {
    let resource = described(spec);
    let (verb, why) = match error {
        watcher::Error::InitialListFailed(source) => ("list", crate::cluster::describe(source)),
        watcher::Error::WatchStartFailed(source) | watcher::Error::WatchFailed(source) => {
            ("watch", crate::cluster::describe(source))
        }
        other => ("watch", other.to_string()),
    };
    ApiError::Other {
        verb: verb.to_owned(),
        resource,
        reason: format!("its reply cannot be decoded ({SAME_FAILURES} times in a row): {why}"),
    }
}

/// A watch error no back-off will cure: the server forbids it, or does not serve it.
pub(crate) fn fatal(error: &watcher::Error, server: &str, spec: &WatchSpec) -> Option<ApiError> {
    let (verb, source) = match error {
        watcher::Error::InitialListFailed(source) => ("list", source),
        watcher::Error::WatchStartFailed(source) | watcher::Error::WatchFailed(source) => {
            ("watch", source)
        }
        _ => return None,
    };
    let kube::Error::Api(status) = source else {
        return None;
    };
    if !matches!(status.code, 401 | 403 | 404) {
        return None;
    }
    let resource = described(spec);
    Some(ApiError::from_kube(source, server, verb, &resource, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_the_server_never_reached_restarts_the_watch_and_nothing_else_does() {
        let status = |code: u16, message: &str| {
            kube::core::Status::failure(message, "Timeout")
                .with_code(code)
                .boxed()
        };
        let too_large = || status(504, "Too large resource version: 40, current: 8");
        assert!(ahead_of_server(&watcher::Error::WatchStartFailed(
            kube::Error::Api(too_large())
        )));
        assert!(ahead_of_server(&watcher::Error::InitialListFailed(
            kube::Error::Api(too_large())
        )));
        assert!(ahead_of_server(&watcher::Error::WatchError(too_large())));
        assert!(!ahead_of_server(&watcher::Error::WatchStartFailed(
            kube::Error::Api(status(504, "the server was too slow"))
        )));
        assert!(!ahead_of_server(&watcher::Error::WatchError(status(
            410,
            "too old resource version: 1 (8)"
        ))));
    }
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Namespace;

    fn root<K: kube::Resource<DynamicType = ()>>(kind: &str, ns: Option<&str>, name: &str) -> Root {
        Root::object(ObjectKey::new(kind, ns, name), ApiResource::erase::<K>(&()))
    }

    #[test]
    fn watches_list_any_version_in_one_piece_narrowed_to_a_lone_name() {
        let roots = [root::<Deployment>("Deployment", Some("shop"), "web")];
        let specs = plan(&roots, Events::Follow);
        for spec in &specs {
            let config = config(spec);
            assert_eq!(config.list_semantic, watcher::ListSemantic::Any);
            assert_eq!(config.page_size, None);
        }
        assert_eq!(
            config(&specs[0]).field_selector.as_deref(),
            Some("metadata.name=web")
        );
        assert_eq!(config(&specs[1]).field_selector, None);
    }

    #[test]
    fn one_watch_per_kind_and_namespace_never_per_object() {
        let roots = [
            root::<Namespace>("Namespace", None, "shop"),
            root::<Deployment>("Deployment", Some("shop"), "web"),
            root::<Deployment>("Deployment", Some("shop"), "api"),
            root::<Pod>("Pod", Some("shop"), "debug"),
            root::<Deployment>("Deployment", Some("other"), "solo"),
        ];
        let specs = plan(&roots, Events::Follow);
        let find = |plural: &str, ns: Option<&str>, events: bool| {
            specs
                .iter()
                .filter(|s| {
                    s.resource.plural == plural
                        && s.namespace.as_deref() == ns
                        && (s.feed == Feed::Events) == events
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            find("namespaces", None, false)[0].name.as_deref(),
            Some("shop")
        );
        let shop_deployments = find("deployments", Some("shop"), false);
        assert_eq!(shop_deployments.len(), 1);
        assert_eq!(shop_deployments[0].name, None, "two names: no narrowing");
        assert_eq!(
            find("deployments", Some("other"), false)[0].name.as_deref(),
            Some("solo")
        );
        let shop_pods = find("pods", Some("shop"), false);
        assert_eq!(shop_pods.len(), 1);
        assert_eq!(
            shop_pods[0].name, None,
            "pods are children too: all of them"
        );
        assert_eq!(find("replicasets", Some("shop"), false).len(), 1);
        assert_eq!(find("events", Some("shop"), true).len(), 1);
        assert_eq!(find("events", Some("other"), true).len(), 1);
        assert_eq!(specs.len(), 9);
        let without_events = plan(&roots, Events::Skip);
        assert!(without_events.iter().all(|s| s.feed == Feed::Objects));
        assert_eq!(without_events.len(), 7);
    }

    #[test]
    fn a_replication_controllers_pods_are_watched_as_a_replica_sets_are() {
        use k8s_openapi::api::core::v1::ReplicationController;
        let roots = [root::<ReplicationController>(
            "ReplicationController",
            Some("shop"),
            "legacy",
        )];
        let plurals: Vec<String> = plan(&roots, Events::Skip)
            .into_iter()
            .map(|s| s.resource.plural)
            .collect();
        assert_eq!(plurals, ["replicationcontrollers", "pods"]);
    }
}
