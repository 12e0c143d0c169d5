//! `kos watch`: track existing objects — named as KIND/NAME, selected with -l, or read from
//! manifests — without applying anything.

use super::Failure;
use crate::apply::{self, Progress, discovery};
use crate::cli::WatchArgs;
use crate::cluster::{ApiError, Cluster};
use crate::exit::{BadInput, ClusterError, ExitCode, TimedOut};
use crate::headless::{self, Format, Options};
use crate::helm;
use crate::manifest::{self, LoadOptions};
use crate::model::ObjectKey;
use crate::output::problem;
use crate::watch::{HelmPart, Root};
use color_eyre::Result;
use kube::api::{Api, DynamicObject, ListParams};

/// The kinds `-l` selects from when no KIND is given: the workloads.
const SELECTED_BY_DEFAULT: &[&str] = &[
    "deployments",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
];

/// What the command line names.
#[derive(Debug, PartialEq, Eq)]
struct Targets<'a> {
    /// (kind word, name)
    named: Vec<(&'a str, &'a str)>,
    /// Bare kind words, for -l.
    kinds: Vec<&'a str>,
    /// The names of `helm/NAME`: Helm releases.
    releases: Vec<&'a str>,
}

/// Splits `KIND/NAME` and bare `KIND` arguments; bad ones are bad input.
fn parse_targets(targets: &[String], selector: bool) -> Result<Targets<'_>, String> {
    let mut parsed = Targets {
        named: Vec::new(),
        kinds: Vec::new(),
        releases: Vec::new(),
    };
    for target in targets {
        match target.split_once('/') {
            Some((helm::TARGET, name)) if !name.is_empty() && !name.contains('/') => {
                parsed.releases.push(name);
            }
            Some((kind, name)) if !kind.is_empty() && !name.is_empty() && !name.contains('/') => {
                parsed.named.push((kind, name));
            }
            None if selector && !target.is_empty() => parsed.kinds.push(target),
            None => {
                return Err(format!(
                    "`{target}`: expected KIND/NAME (or a KIND with -l)"
                ));
            }
            Some(_) => return Err(format!("`{target}`: expected KIND/NAME")),
        }
    }
    Ok(parsed)
}

pub async fn run(args: &WatchArgs) -> Result<ExitCode> {
    let options = Options::from_args(&args.track, args.follow);
    let started = tokio::time::Instant::now();
    let nothing_applied = Progress::default();
    let (cluster, roots) = match find(args, &options).await {
        Ok(found) => found,
        Err(failure) => {
            let elapsed = started.elapsed();
            return Err(super::stopped(failure, &options, elapsed, &nothing_applied));
        }
    };
    if crate::ui::wanted(&args.track) {
        return crate::ui::track(
            &cluster,
            roots,
            &args.track,
            crate::ui::AppliedBatch::default(),
        )
        .await;
    }
    headless::track(&cluster, roots, &options, &nothing_applied, None).await
}

/// The cluster and the objects to watch on it, each once.
async fn find(args: &WatchArgs, options: &Options) -> Result<(Cluster, Vec<Root>), Failure> {
    let targets = parse_targets(&args.targets, args.selector.is_some())
        .map_err(|e| color_eyre::Report::from(BadInput(e)))?;
    let manifests = if args.files.is_empty() {
        Vec::new()
    } else {
        let load = LoadOptions {
            recursive: args.recursive,
            namespace: args.cluster.namespace.clone(),
            ..LoadOptions::default()
        };
        manifest::load(&args.files, &load).map_err(|errors| Failure {
            error: BadInput(errors.to_string()).into(),
            problems: problem::of_load(&errors),
        })?
    };
    let nothing_named = targets.named.is_empty() && targets.releases.is_empty();
    if nothing_named && args.selector.is_none() && manifests.is_empty() {
        let error =
            BadInput("name what to watch: KIND/NAME, helm/RELEASE, -l SELECTOR or -f PATH".into());
        return Err(color_eyre::Report::from(error).into());
    }
    let cluster = super::connect(&args.cluster).await?;
    let mut roots = release_roots(&cluster, args, &targets.releases, options).await?;
    roots.extend(
        super::within(
            args.track.timeout,
            "finding what to watch",
            find_roots(&cluster, args, &targets, &manifests),
        )
        .await?,
    );
    let mut seen = std::collections::HashSet::new();
    roots.retain(|root| seen.insert(root.key.clone()));
    if roots.is_empty() {
        let error = BadInput("no objects match; nothing to watch".into());
        return Err(color_eyre::Report::from(error).into());
    }
    Ok((cluster, roots))
}

/// The roots of the Helm releases `names`: each release with its objects and hooks under
/// it, at its latest revision — or, with `--wait-revision` or `--follow`, at the next one,
/// unless Helm is writing one now (a pending revision is the rollout to follow).
async fn release_roots(
    cluster: &Cluster,
    args: &WatchArgs,
    names: &[&str],
    options: &Options,
) -> Result<Vec<Root>, Failure> {
    let timeout = args.track.timeout;
    let wait = args.wait_revision || args.follow;
    // Every release's latest revision before waiting for any: a revision stored while kos
    // waits for another release's is new.
    let mut latest = Vec::with_capacity(names.len());
    for name in names {
        let found = helm::latest(cluster, name);
        latest.push(super::within(timeout, "finding Helm releases", found).await?);
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut roots = Vec::new();
    for (name, found) in names.iter().zip(latest) {
        let revision = match found {
            Some(revision) if !wait || revision.release.pending() => revision,
            None if !wait => {
                let error = BadInput(format!(
                    "no Helm release `{name}` in namespace {}: no Secret of type {} nor \
                     ConfigMap labelled {}",
                    cluster.namespace,
                    helm::record::SECRET_TYPE,
                    helm::record::selector(name)
                ));
                return Err(color_eyre::Report::from(error).into());
            }
            found => {
                let after = found.map_or(0, |revision| revision.release.version);
                let waiting = format!(
                    "waiting for revision {} of Helm release {}/{name}",
                    after + 1,
                    cluster.namespace
                );
                say(options, &waiting);
                let next = helm::next(cluster, name, after);
                if timeout.is_zero() {
                    next.await?
                } else {
                    tokio::time::timeout_at(deadline, next)
                        .await
                        .map_err(|_| {
                            let waited = crate::duration::short(timeout);
                            let message =
                                format!("{waiting}: none within the step timeout ({waited})");
                            color_eyre::Report::from(TimedOut(message))
                        })??
                }
            }
        };
        roots.extend(revision_roots(cluster, &revision, timeout).await?);
    }
    Ok(roots)
}

/// A line about finding what to watch: on stdout with the plain lines, on stderr when
/// stdout holds only the JSON report.
fn say(options: &Options, line: &str) {
    match options.format {
        Format::Plain => crate::output::sink::out(line),
        Format::Json => crate::output::sink::err(line),
    }
}

/// The release of `revision` as a root, with its objects and hooks under it.
async fn revision_roots(
    cluster: &Cluster,
    revision: &helm::Revision,
    timeout: std::time::Duration,
) -> Result<Vec<Root>> {
    let release = revision.key();
    let (manifests, hooks): (Vec<_>, Vec<_>) = revision.objects()?.into_iter().unzip();
    let found = super::within(timeout, "finding the objects of Helm releases", async {
        apply::identify(cluster, &manifests)
            .await
            .map_err(|e| super::apply_error(&e))
    })
    .await?;
    let record = helm::record::record_name(&revision.release.name, revision.release.version);
    let mut roots = vec![Root {
        helm: Some(HelmPart::Release { record }),
        ..Root::object(release.clone(), revision.storage.clone())
    }];
    for ((key, served, overrides), hook) in found.into_iter().zip(hooks) {
        roots.push(Root {
            key,
            resource: served.resource,
            overrides,
            helm: Some(HelmPart::Member {
                release: release.clone(),
                hook,
            }),
        });
    }
    Ok(roots)
}

/// The roots of the watch: the objects of the manifests, the named ones and the selected
/// ones, as the cluster serves them.
async fn find_roots(
    cluster: &Cluster,
    args: &WatchArgs,
    targets: &Targets<'_>,
    manifests: &[manifest::Manifest],
) -> Result<Vec<Root>> {
    let mut roots: Vec<Root> = apply::identify(cluster, manifests)
        .await
        .map_err(|e| super::apply_error(&e))?
        .into_iter()
        .map(|(key, served, overrides)| Root {
            overrides,
            ..Root::object(key, served.resource)
        })
        .collect();
    if !targets.named.is_empty() || args.selector.is_some() {
        let selected = if targets.kinds.is_empty() && args.selector.is_some() {
            SELECTED_BY_DEFAULT
        } else {
            targets.kinds.as_slice()
        };
        let words: Vec<&str> = targets
            .named
            .iter()
            .map(|(word, _)| *word)
            .chain(selected.iter().copied())
            .collect();
        let kinds = discovery::find_kinds(&cluster.client, &words)
            .await
            .map_err(|e| cluster_error(cluster, &e, "discover", "API groups"))?;
        if let Some(warning) = kinds.warning() {
            eprintln!("warning: {warning}");
        }
        for (word, name) in &targets.named {
            let served = resolve(&kinds, word)?;
            let namespace = served.namespaced.then_some(cluster.namespace.as_str());
            roots.push(Root::object(
                ObjectKey::new(&served.resource.kind, namespace, name),
                served.resource.clone(),
            ));
        }
        if let Some(selector) = &args.selector {
            for word in selected {
                let served = resolve(&kinds, word)?;
                roots.extend(selected_roots(cluster, served, selector).await?);
            }
        }
    }
    Ok(roots)
}

/// The resource `word` names; when it was not found, bad input — or a cluster error when a
/// group that did not answer may be the one serving it.
fn resolve<'a>(kinds: &'a discovery::Kinds, word: &str) -> Result<&'a discovery::Served> {
    if let Some(served) = kinds.served.get(word) {
        return Ok(served);
    }
    let not_served = format!("the cluster serves no kind named `{word}`");
    Err(match kinds.warning() {
        Some(warning) => ClusterError(format!(
            "{not_served} among the groups that answered; {warning}"
        ))
        .into(),
        None => BadInput(not_served).into(),
    })
}

/// The objects of `served` matching `selector` now.
async fn selected_roots(
    cluster: &Cluster,
    served: &discovery::Served,
    selector: &str,
) -> Result<Vec<Root>> {
    let api: Api<DynamicObject> = if served.namespaced {
        Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &served.resource)
    } else {
        Api::all_with(cluster.client.clone(), &served.resource)
    };
    let params = ListParams::default().labels(selector);
    let list = crate::cluster::retry(|| api.list(&params))
        .await
        .map_err(|e| cluster_error(cluster, &e, "list", &served.resource.plural))?;
    Ok(list
        .items
        .into_iter()
        .map(|object| {
            let name = object.metadata.name.unwrap_or_default();
            let namespace = object.metadata.namespace.filter(|ns| !ns.is_empty());
            Root::object(
                ObjectKey::new(&served.resource.kind, namespace.as_deref(), &name),
                served.resource.clone(),
            )
        })
        .collect())
}

fn cluster_error(
    cluster: &Cluster,
    error: &kube::Error,
    verb: &str,
    what: &str,
) -> color_eyre::Report {
    ClusterError(ApiError::from_kube(error, &cluster.server, verb, what, false).to_string()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_kind_slash_name_or_bare_kinds_with_a_selector() {
        let args = vec!["deploy/web".to_owned(), "pods".to_owned()];
        let parsed = parse_targets(&args, true).unwrap();
        assert_eq!(parsed.named, [("deploy", "web")]);
        assert_eq!(parsed.kinds, ["pods"]);
        assert!(parse_targets(&args, false).is_err(), "a bare kind needs -l");
        assert!(parse_targets(&["deploy/".to_owned()], false).is_err());
        assert!(parse_targets(&["a/b/c".to_owned()], false).is_err());
        let args = vec![
            "helm/web".to_owned(),
            "helm/api".to_owned(),
            "deploy/db".to_owned(),
        ];
        let parsed = parse_targets(&args, false).unwrap();
        assert_eq!(parsed.releases, ["web", "api"]);
        assert_eq!(parsed.named, [("deploy", "db")]);
        assert!(parse_targets(&["helm/".to_owned()], false).is_err());
    }
}
