//! `kos watch`: track existing objects — named as KIND/NAME, selected with -l, or read from
//! manifests — without applying anything.

use super::Failure;
use crate::apply::{self, Progress, discovery};
use crate::cli::WatchArgs;
use crate::cluster::{ApiError, Cluster};
use crate::exit::{BadInput, ClusterError, ExitCode};
use crate::headless::{self, Options};
use crate::manifest::{self, LoadOptions};
use crate::model::ObjectKey;
use crate::output::problem;
use crate::tracker::Overrides;
use crate::watch::Root;
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
}

/// Splits `KIND/NAME` and bare `KIND` arguments; bad ones are bad input.
fn parse_targets(targets: &[String], selector: bool) -> Result<Targets<'_>, String> {
    let mut parsed = Targets {
        named: Vec::new(),
        kinds: Vec::new(),
    };
    for target in targets {
        match target.split_once('/') {
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
    let (cluster, roots) = match find(args).await {
        Ok(found) => found,
        Err(failure) => {
            let elapsed = started.elapsed();
            return Err(super::stopped(failure, &options, elapsed, &nothing_applied));
        }
    };
    if crate::ui::wanted(&args.track) {
        return crate::ui::track(&cluster, roots, &args.track, Vec::new(), None).await;
    }
    headless::track(&cluster, roots, &options, &nothing_applied, None).await
}

/// The cluster and the objects to watch on it, each once.
async fn find(args: &WatchArgs) -> Result<(Cluster, Vec<Root>), Failure> {
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
    if targets.named.is_empty() && args.selector.is_none() && manifests.is_empty() {
        let error = BadInput("name what to watch: KIND/NAME, -l SELECTOR or -f PATH".into());
        return Err(color_eyre::Report::from(error).into());
    }
    let cluster = super::connect(&args.cluster).await?;
    let mut roots = super::within(
        args.track.timeout,
        "finding what to watch",
        find_roots(&cluster, args, &targets, &manifests),
    )
    .await?;
    let mut seen = std::collections::HashSet::new();
    roots.retain(|root| seen.insert(root.key.clone()));
    if roots.is_empty() {
        let error = BadInput("no objects match; nothing to watch".into());
        return Err(color_eyre::Report::from(error).into());
    }
    Ok((cluster, roots))
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
            key,
            resource: served.resource,
            overrides,
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
            roots.push(Root {
                key: ObjectKey::new(&served.resource.kind, namespace, name),
                resource: served.resource.clone(),
                overrides: Overrides::default(),
            });
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
            Root {
                key: ObjectKey::new(&served.resource.kind, namespace.as_deref(), &name),
                resource: served.resource.clone(),
                overrides: Overrides::default(),
            }
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
    }
}
