//! Fault injection for the simulated API server (`--faults SPEC`, listed in README.md):
//! parses the SPEC and answers, per request, whether and how it should fail.
//!
//! It owns the decisions only (delay this request, refuse it, cut this watch after so long,
//! answer this resumed watch with 410); the API layer carries them out. Random draws come
//! from one seedable generator so tests can replay them.

use crate::errors::ApiError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The user every request of the simulated cluster runs as, named in 403 messages.
/// The verbs `forbid=` accepts, as RBAC names them.
const VERBS: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// A SPEC entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--faults: `{key}`: {problem}")]
pub struct FaultsError {
    /// The key of the bad entry (or the entry itself when it has no `=`).
    pub key: String,
    pub problem: String,
}

/// One `forbid=VERB:RESOURCE` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Forbidden {
    verb: String,
    resource: String,
}

impl Forbidden {
    /// `resource` is named as kubectl names it (`deployments.apps`); the rule may name it
    /// so, or by its plural alone (`deployments`), as an RBAC rule does.
    fn matches(&self, verb: &str, resource: &str) -> bool {
        self.verb == verb && (self.resource == resource || self.resource == plural(resource))
    }
}

/// The faults to inject. `Faults::default()` injects none.
#[derive(Debug)]
pub struct Faults {
    drop_watch: Option<Duration>,
    gone_on_rewatch: f64,
    error_rate: f64,
    latency: Option<Duration>,
    restart_every: Option<Duration>,
    forbid: Vec<Forbidden>,
    rng: Mutex<StdRng>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            drop_watch: None,
            gone_on_rewatch: 0.0,
            error_rate: 0.0,
            latency: None,
            restart_every: None,
            forbid: Vec::new(),
            rng: Mutex::new(StdRng::from_rng(&mut rand::rng())),
        }
    }
}

impl FromStr for Faults {
    type Err = FaultsError;

    /// Parses `drop-watch=2s,gone-on-rewatch=0.5,error-rate=0.05,latency=50ms,
    /// restart-every=30s,forbid=create:secrets,forbid=watch:pods`. An empty SPEC is no faults.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut faults = Faults::default();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, value) = entry.split_once('=').ok_or_else(|| FaultsError {
                key: entry.to_owned(),
                problem: "expected key=value".into(),
            })?;
            let (key, value) = (key.trim(), value.trim());
            let fail = |problem: String| FaultsError {
                key: key.to_owned(),
                problem,
            };
            match key {
                "drop-watch" => faults.drop_watch = Some(positive(value).map_err(fail)?),
                "gone-on-rewatch" => faults.gone_on_rewatch = probability(value).map_err(fail)?,
                "error-rate" => faults.error_rate = probability(value).map_err(fail)?,
                "latency" => faults.latency = Some(duration(value).map_err(fail)?),
                "restart-every" => faults.restart_every = Some(positive(value).map_err(fail)?),
                "forbid" => faults.forbid.push(forbidden(value).map_err(fail)?),
                _ => {
                    return Err(fail(
                        "unknown fault; use drop-watch, gone-on-rewatch, error-rate, latency, \
                         restart-every or forbid"
                            .into(),
                    ));
                }
            }
        }
        Ok(faults)
    }
}

fn duration(value: &str) -> Result<Duration, String> {
    crate::duration::parse(value)
}

fn positive(value: &str) -> Result<Duration, String> {
    match duration(value)? {
        Duration::ZERO => Err(format!("`{value}` must be longer than zero")),
        positive => Ok(positive),
    }
}

fn probability(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{value}` is not a probability between 0 and 1")),
    }
}

fn forbidden(value: &str) -> Result<Forbidden, String> {
    let (verb, resource) = value
        .split_once(':')
        .filter(|(verb, resource)| !verb.is_empty() && !resource.is_empty())
        .ok_or_else(|| format!("`{value}`: expected VERB:RESOURCE, e.g. create:secrets"))?;
    if !VERBS.contains(&verb) {
        return Err(format!(
            "`{verb}` is not a verb; use one of {}",
            VERBS.join(", ")
        ));
    }
    Ok(Forbidden {
        verb: verb.to_owned(),
        resource: resource.to_owned(),
    })
}

/// `deployments` of `deployments.apps`.
fn plural(resource: &str) -> &str {
    resource
        .split_once('.')
        .map_or(resource, |(plural, _)| plural)
}

impl Faults {
    /// The same faults with random draws from a generator seeded with `seed`, so a test
    /// sees the same sequence every run.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Mutex::new(StdRng::seed_from_u64(seed));
        self
    }

    /// Whether no fault is configured.
    pub fn is_none(&self) -> bool {
        self.drop_watch.is_none()
            && self.gone_on_rewatch == 0.0
            && self.error_rate == 0.0
            && self.latency.is_none()
            && self.restart_every.is_none()
            && self.forbid.is_empty()
    }

    fn draw(&self, probability: f64) -> bool {
        if probability <= 0.0 {
            return false;
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        rng.random_bool(probability)
    }

    /// Whether a `forbid` rule takes `verb` on `resource` (as kubectl names it) away: the
    /// API's authorizer then refuses the request in RBAC's words.
    pub fn forbids(&self, verb: &str, resource: &str) -> bool {
        self.forbid.iter().any(|rule| rule.matches(verb, resource))
    }

    /// Called before serving every request the authorizer let through: waits out the
    /// latency, then fails the request if the error rate says so.
    pub async fn before_request(&self) -> Result<(), ApiError> {
        if let Some(latency) = self.latency {
            tokio::time::sleep(latency).await;
        }
        if self.draw(self.error_rate) {
            return Err(if self.draw(0.5) {
                ApiError::new(
                    500,
                    "InternalError",
                    "Internal error occurred: injected by --faults error-rate",
                )
                .with_details(json!({"causes": [{"message": "injected by --faults error-rate"}]}))
            } else {
                let mut error = ApiError::new(
                    429,
                    "TooManyRequests",
                    "Too many requests, please try again later.",
                )
                .with_details(json!({"retryAfterSeconds": 1}));
                error.retry_after = Some(1);
                error
            });
        }
        Ok(())
    }

    /// How long an open watch stream lives before the server cuts it (`drop-watch`).
    pub fn watch_cut_after(&self) -> Option<Duration> {
        self.drop_watch
    }

    /// Whether this watch, resuming from a resourceVersion, gets 410 Gone
    /// (`gone-on-rewatch`; a new draw on every call).
    pub fn gone_on_rewatch(&self) -> bool {
        self.draw(self.gone_on_rewatch)
    }

    /// How often the API server drops every connection and refuses new ones for a second
    /// (`restart-every`).
    pub fn restart_every(&self) -> Option<Duration> {
        self.restart_every
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let faults: Faults = "drop-watch=2s, gone-on-rewatch=0.5,error-rate=0.05,latency=50ms,\
                              restart-every=1m,forbid=create:secrets,forbid=watch:pods"
            .parse()
            .unwrap();
        assert_eq!(faults.watch_cut_after(), Some(Duration::from_secs(2)));
        assert!((faults.gone_on_rewatch - 0.5).abs() < f64::EPSILON);
        assert!((faults.error_rate - 0.05).abs() < f64::EPSILON);
        assert_eq!(faults.latency, Some(Duration::from_millis(50)));
        assert_eq!(faults.restart_every(), Some(Duration::from_mins(1)));
        assert_eq!(faults.forbid.len(), 2);
        assert!(!faults.is_none());
        assert!("".parse::<Faults>().unwrap().is_none());
        assert!(Faults::default().is_none());
    }

    #[test]
    fn a_bad_spec_names_its_key() {
        let cases = [
            ("error-rate=2", "error-rate", "probability"),
            ("gone-on-rewatch=x", "gone-on-rewatch", "probability"),
            ("latency=5x", "latency", "unknown unit"),
            ("drop-watch=0", "drop-watch", "longer than zero"),
            ("forbid=pods", "forbid", "VERB:RESOURCE"),
            ("forbid=steal:pods", "forbid", "not a verb"),
            ("explode=1", "explode", "unknown fault"),
            ("latency", "latency", "key=value"),
        ];
        for (spec, key, problem) in cases {
            let error = spec.parse::<Faults>().unwrap_err();
            assert_eq!(error.key, key, "{spec}");
            assert!(error.problem.contains(problem), "{spec}: {}", error.problem);
            assert!(error.to_string().contains(key));
        }
    }

    #[test]
    fn forbid_takes_a_verb_on_a_resource_away() {
        let faults: Faults = "forbid=watch:pods,forbid=create:deployments"
            .parse()
            .unwrap();
        assert!(faults.forbids("watch", "pods"));
        assert!(faults.forbids("create", "deployments.apps"));
        assert!(!faults.forbids("list", "pods"));
        assert!(!faults.forbids("watch", "secrets"));
    }

    #[tokio::test]
    async fn error_rate_gives_500s_and_429s_about_equally() {
        let faults = "error-rate=1".parse::<Faults>().unwrap().with_seed(7);
        let mut codes = std::collections::HashMap::new();
        for _ in 0..1000 {
            let error = faults.before_request().await.unwrap_err();
            if error.code == 429 {
                assert_eq!(error.retry_after, Some(1));
                assert_eq!(error.reason, "TooManyRequests");
            } else {
                assert_eq!((error.code, error.reason), (500, "InternalError"));
            }
            *codes.entry(error.code).or_insert(0) += 1;
        }
        assert!((400..=600).contains(&codes[&500]), "{codes:?}");
        assert!((400..=600).contains(&codes[&429]), "{codes:?}");

        let some = "error-rate=0.1".parse::<Faults>().unwrap().with_seed(7);
        let mut failed = 0;
        for _ in 0..1000 {
            failed += usize::from(some.before_request().await.is_err());
        }
        assert!(
            (50..=150).contains(&failed),
            "{failed} of 1000 failed at 10%"
        );
        let none = Faults::default();
        assert!(none.before_request().await.is_ok());
    }

    #[test]
    fn gone_on_rewatch_draws_with_its_probability_and_replays_with_a_seed() {
        let draws = |spec: &str, seed| {
            let faults = spec.parse::<Faults>().unwrap().with_seed(seed);
            (0..1000)
                .map(|_| faults.gone_on_rewatch())
                .collect::<Vec<_>>()
        };
        let half = draws("gone-on-rewatch=0.5", 1);
        let gone = half.iter().filter(|g| **g).count();
        assert!((400..=600).contains(&gone), "{gone} of 1000 at 50%");
        assert_eq!(
            half,
            draws("gone-on-rewatch=0.5", 1),
            "same seed, same draws"
        );
        assert!(draws("gone-on-rewatch=1", 2).iter().all(|g| *g));
        assert!(!draws("gone-on-rewatch=0", 2).iter().any(|g| *g));
    }

    #[tokio::test]
    async fn latency_delays_the_request() {
        let faults: Faults = "latency=60ms".parse().unwrap();
        let start = std::time::Instant::now();
        faults.before_request().await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(60));
    }
}
