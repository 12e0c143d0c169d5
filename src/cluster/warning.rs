//! The API server's `Warning` response headers — deprecated APIs, fields that
//! `fieldValidation=Warn` let through — and a request that keeps them: kube-rs reads a
//! response's body and drops its headers.
//!
//! The API server sends each warning as `299 - "text"` (RFC 7234's warn-code 299, agent `-`),
//! one header per warning or several comma-separated in one; kubectl prints the text.

use hyper::header::WARNING;
use kube::Client;
use kube::client::Body;
use serde::de::DeserializeOwned;

/// The warn-code the API server uses; others are not the API server's and are dropped, as
/// kubectl drops them.
const API_SERVER_CODE: &str = "299";

/// A response's decoded body, whether it created the object (201), and its warnings.
#[derive(Debug)]
pub struct Warned<T> {
    pub value: T,
    pub created: bool,
    pub warnings: Vec<String>,
}

/// Sends `request` and decodes its body; an error status becomes `kube::Error::Api` with the
/// server's `Status`, as kube-rs's own requests give it.
pub async fn send<T: DeserializeOwned>(
    client: &Client,
    request: hyper::Request<Vec<u8>>,
) -> Result<Warned<T>, kube::Error> {
    let response = client.send(request.map(Body::from)).await?;
    let status = response.status();
    let warnings = texts(
        response
            .headers()
            .get_all(WARNING)
            .iter()
            .filter_map(|value| value.to_str().ok()),
    );
    let body = response.into_body().collect_bytes().await?;
    if status.is_client_error() || status.is_server_error() {
        let status = serde_json::from_slice::<kube::core::Status>(&body).unwrap_or_else(|_| {
            let text = String::from_utf8_lossy(&body);
            kube::core::Status::failure(text.trim(), "Failed to parse error data")
                .with_code(status.as_u16())
        });
        return Err(kube::Error::Api(Box::new(status)));
    }
    let value = serde_json::from_slice(&body).map_err(kube::Error::SerdeError)?;
    Ok(Warned {
        value,
        created: status == hyper::StatusCode::CREATED,
        warnings,
    })
}

/// The texts of the API server's warnings in `values` (each a `Warning` header's value), in
/// order. A value that does not parse keeps the warnings before the fault.
pub fn texts<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut texts = Vec::new();
    for value in values {
        let mut rest = value;
        while let Some((code, text, after)) = one(rest) {
            if code == API_SERVER_CODE {
                texts.push(text);
            }
            rest = after;
        }
    }
    texts
}

/// The first warning of `value`: its code, its text unquoted, and what follows it (after
/// its date, if any, and the comma before the next warning).
fn one(value: &str) -> Option<(&str, String, &str)> {
    let value = value.trim_start_matches([' ', ',']);
    let (code, rest) = value.split_once(' ')?;
    let (_agent, rest) = rest.split_once(' ')?;
    let (text, mut rest) = quoted(rest)?;
    if rest.starts_with(" \"") {
        // A warn-date.
        rest = quoted(&rest[1..])?.1;
    }
    Some((code, text, rest))
}

/// A quoted string at the start of `text` (backslash escapes the next character), and what
/// follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[at + 2..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_read_as_the_api_server_writes_them() {
        assert_eq!(
            texts([r#"299 - "unknown field \"spec.replica\"""#]),
            [r#"unknown field "spec.replica""#]
        );
        // Several in one header, a date after one, another agent's code, a broken tail.
        let value =
            r#"299 - "a, b", 299 - "c" "Tue, 15 Nov 1994 08:12:31 GMT",199 x "not ours", 299 - "d"#;
        assert_eq!(texts([value, r#"299 - "e\\f""#]), ["a, b", "c", r"e\f"]);
        assert!(texts(["", "garbage"]).is_empty());
    }
}
