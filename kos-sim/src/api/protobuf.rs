//! Protobuf request bodies, for the few objects kubectl sends only that way: its typed
//! `create` commands (`kubectl create namespace`, `configmap`, `secret`) encode the body
//! as `application/vnd.kubernetes.protobuf` and do not fall back to JSON.
//!
//! Decodes the Kubernetes envelope (`k8s\0` + `runtime.Unknown`) and the fields of those
//! kinds that matter (metadata name/generateName/namespace/labels/annotations, data) into
//! the JSON the rest of the server works on. Pure; other kinds are refused with 415.

use crate::errors::ApiError;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

/// One field of a protobuf message.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0_u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of a message, in order; None when it is malformed.
fn fields(mut buf: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let tag = varint(&mut buf)?;
        let wire = match tag & 7 {
            0 => Wire::Varint(varint(&mut buf)?),
            1 => {
                buf = buf.get(8..)?;
                Wire::Fixed
            }
            2 => {
                let length = usize::try_from(varint(&mut buf)?).ok()?;
                let (bytes, rest) = (buf.get(..length)?, buf.get(length..)?);
                buf = rest;
                Wire::Bytes(bytes)
            }
            5 => {
                buf = buf.get(4..)?;
                Wire::Fixed
            }
            _ => return None,
        };
        out.push((tag >> 3, wire));
    }
    Some(out)
}

fn text(bytes: &[u8]) -> Option<String> {
    String::from_utf8(bytes.to_vec()).ok()
}

/// A `map<string, string>` entry (or `map<string, bytes>` with `binary`, as base64).
fn map_entry(bytes: &[u8], binary: bool) -> Option<(String, Value)> {
    let (mut key, mut value) = (String::new(), Value::String(String::new()));
    for (number, wire) in fields(bytes)? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => key = text(b)?,
            (2, Wire::Bytes(b)) if binary => value = json!(base64(b)),
            (2, Wire::Bytes(b)) => value = json!(text(b)?),
            _ => {}
        }
    }
    Some((key, value))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn insert_entry(object: &mut Value, field: &str, bytes: &[u8], binary: bool) -> Option<()> {
    let (key, value) = map_entry(bytes, binary)?;
    if !object[field].is_object() {
        object[field] = Value::Object(Map::new());
    }
    object[field][key] = value;
    Some(())
}

fn object_meta(bytes: &[u8]) -> Option<Value> {
    let mut meta = json!({});
    for (number, wire) in fields(bytes)? {
        let Wire::Bytes(b) = wire else { continue };
        if b.is_empty() {
            continue;
        }
        match number {
            1 => meta["name"] = json!(text(b)?),
            2 => meta["generateName"] = json!(text(b)?),
            3 => meta["namespace"] = json!(text(b)?),
            11 => insert_entry(&mut meta, "labels", b, false)?,
            12 => insert_entry(&mut meta, "annotations", b, false)?,
            _ => {}
        }
    }
    Some(meta)
}

/// The kind-specific fields of the supported kinds.
fn kind_fields(kind: &str, bytes: &[u8]) -> Option<Value> {
    let mut object = json!({});
    for (number, wire) in fields(bytes)? {
        match (kind, number, wire) {
            (_, 1, Wire::Bytes(b)) => object["metadata"] = object_meta(b)?,
            ("ConfigMap", 4, Wire::Varint(v)) | ("Secret", 5, Wire::Varint(v)) => {
                object["immutable"] = json!(v != 0);
            }
            ("ConfigMap", 2, Wire::Bytes(b)) => insert_entry(&mut object, "data", b, false)?,
            ("ConfigMap", 3, Wire::Bytes(b)) => insert_entry(&mut object, "binaryData", b, true)?,
            ("Secret", 2, Wire::Bytes(b)) => insert_entry(&mut object, "data", b, true)?,
            ("Secret", 3, Wire::Bytes(b)) if !b.is_empty() => object["type"] = json!(text(b)?),
            ("Secret", 4, Wire::Bytes(b)) => insert_entry(&mut object, "stringData", b, false)?,
            _ => {}
        }
    }
    Some(object)
}

fn unsupported(what: &str) -> ApiError {
    ApiError::new(
        415,
        "UnsupportedMediaType",
        format!(
            "protobuf bodies are only accepted for Namespaces, ConfigMaps and Secrets ({what}); send application/json"
        ),
    )
}

/// Decodes a protobuf request body into the JSON object it carries.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let malformed = || ApiError::bad_request("the body of the request was malformed: bad protobuf");
    let envelope = body.strip_prefix(MAGIC).ok_or_else(malformed)?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), None);
    for (number, wire) in fields(envelope).ok_or_else(malformed)? {
        match (number, wire) {
            (1, Wire::Bytes(type_meta)) => {
                for (n, w) in fields(type_meta).ok_or_else(malformed)? {
                    match (n, w) {
                        (1, Wire::Bytes(b)) => api_version = text(b).ok_or_else(malformed)?,
                        (2, Wire::Bytes(b)) => kind = text(b).ok_or_else(malformed)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = Some(b),
            _ => {}
        }
    }
    if api_version != "v1" || !matches!(kind.as_str(), "Namespace" | "ConfigMap" | "Secret") {
        return Err(unsupported(&format!("{api_version} {kind}")));
    }
    let mut object = kind_fields(&kind, raw.unwrap_or_default()).ok_or_else(malformed)?;
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(kind);
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3 | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_namespace_as_kubectl_sends_it() {
        let labels = [field(1, b"team"), field(2, b"a")].concat();
        let meta = [field(1, b"demo"), field(11, &labels)].concat();
        let type_meta = [field(1, b"v1"), field(2, b"Namespace")].concat();
        let envelope = [
            MAGIC.to_vec(),
            field(1, &type_meta),
            field(2, &field(1, &meta)),
        ]
        .concat();
        let object = decode(&envelope).unwrap();
        assert_eq!(object["kind"], "Namespace");
        assert_eq!(object["metadata"]["name"], "demo");
        assert_eq!(object["metadata"]["labels"]["team"], "a");
    }

    #[test]
    fn secrets_data_stays_base64_and_other_kinds_are_refused() {
        let entry = [field(1, b"k"), field(2, b"hello")].concat();
        let raw = [field(1, &field(1, b"s")), field(2, &entry)].concat();
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let envelope = [MAGIC.to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        assert_eq!(decode(&envelope).unwrap()["data"]["k"], "aGVsbG8=");
        let type_meta = [field(1, b"apps/v1"), field(2, b"Deployment")].concat();
        let envelope = [MAGIC.to_vec(), field(1, &type_meta)].concat();
        assert_eq!(decode(&envelope).unwrap_err().code, 415);
        assert_eq!(decode(b"garbage").unwrap_err().code, 400);
    }
}
