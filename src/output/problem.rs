//! The problems of a run that ended without a verdict, as the JSON report lists them: where
//! in the input (file, document, line), which object, which request the cluster refused and
//! what it said.
//!
//! Pure: errors in, rows out. Only what the errors already say (worded, with a Secret's
//! data withheld by `cluster`) reaches a problem.

use crate::apply::{ApplyError, ObjectError};
use crate::cluster::ApiError;
use crate::manifest::{LoadErrors, Source};
use serde::{Deserialize, Serialize};

/// One problem. Fields that do not apply are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based document of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// `Kind namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The refused request: its verb and resource (`apply deployments.apps in namespace shop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The HTTP status code the server answered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    pub message: String,
}

impl Problem {
    /// A problem that is only a message.
    pub fn message(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            ..Problem::default()
        }
    }

    /// `self`, placed at `source`.
    fn at(self, source: &Source) -> Problem {
        let known = |n: usize| (n > 0).then_some(n);
        Problem {
            file: Some(source.file.clone()),
            document: known(source.document),
            line: known(source.line),
            ..self
        }
    }
}

/// Every problem the manifests have.
pub fn of_load(errors: &LoadErrors) -> Vec<Problem> {
    errors
        .0
        .iter()
        .map(|problem| Problem::message(problem.message.clone()).at(&problem.source))
        .collect()
}

/// The problems of a batch that could not be applied.
pub fn of_apply(error: &ApplyError) -> Vec<Problem> {
    match error {
        ApplyError::Unserved(kinds) => kinds
            .iter()
            .map(|(source, what)| Problem::message(what.clone()).at(source))
            .collect(),
        ApplyError::Discovery(error) => vec![of_api(error)],
        ApplyError::Object(error) => vec![of_object(error)],
        ApplyError::Invalid(errors) => errors.iter().map(of_object).collect(),
        ApplyError::NotEstablished(..) | ApplyError::WebhookNotReady { .. } => {
            vec![Problem::message(error.to_string())]
        }
        ApplyError::Stopped { error, .. } => of_apply(error),
    }
}

/// A refused request about one object of the input.
fn of_object(error: &ObjectError) -> Problem {
    Problem {
        object: Some(error.key.to_string()),
        ..of_api(&error.error)
    }
    .at(&error.at)
}

/// A refused request: its verb and resource, the code and the server's message.
pub fn of_api(error: &ApiError) -> Problem {
    let request = |verb: &str, resource: &str| Some(format!("{verb} {resource}"));
    match error {
        ApiError::Forbidden {
            verb,
            resource,
            message,
        } => Problem {
            request: request(verb, resource),
            code: Some(403),
            message: message.clone(),
            ..Problem::default()
        },
        ApiError::Rejected {
            verb,
            resource,
            code,
            message,
            ..
        } => Problem {
            request: request(verb, resource),
            code: Some(*code),
            message: message.clone(),
            ..Problem::default()
        },
        ApiError::Other {
            verb,
            resource,
            reason,
        } => Problem {
            request: request(verb, resource),
            message: reason.clone(),
            ..Problem::default()
        },
        ApiError::Unreachable { .. } => Problem::message(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectKey;

    fn source(document: usize, line: usize) -> Source {
        Source {
            file: "app.yaml".into(),
            document,
            line,
            column: 1,
        }
    }

    #[test]
    fn an_invalid_object_is_placed_in_the_input_with_the_servers_words() {
        let error = ApplyError::Invalid(vec![ObjectError {
            at: source(3, 12),
            key: ObjectKey::new("Deployment", Some("shop"), "web"),
            error: ApiError::Rejected {
                verb: "apply".into(),
                resource: "deployments.apps in namespace shop".into(),
                code: 400,
                reason: "BadRequest".into(),
                message: ".spec.replica: field not declared in schema".into(),
            },
        }]);
        assert_eq!(
            of_apply(&error),
            [Problem {
                file: Some("app.yaml".into()),
                document: Some(3),
                line: Some(12),
                object: Some("Deployment shop/web".into()),
                request: Some("apply deployments.apps in namespace shop".into()),
                code: Some(400),
                message: ".spec.replica: field not declared in schema".into(),
            }]
        );
    }

    #[test]
    fn a_whole_input_has_no_document_or_line() {
        let errors = LoadErrors(vec![crate::manifest::Problem {
            source: Source::whole("app.yaml"),
            message: "cannot read".into(),
        }]);
        let value = serde_json::to_value(of_load(&errors)).unwrap();
        assert_eq!(
            value,
            serde_json::json!([{"file": "app.yaml", "message": "cannot read"}])
        );
    }
}
