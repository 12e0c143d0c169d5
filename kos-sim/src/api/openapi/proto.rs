//! The Swagger 2.0 document as protobuf: kubectl (client-go's `OpenAPISchema`) asks for
//! `/openapi/v2` as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` only and
//! decodes the answer as gnostic's `openapi.v2.Document` message, with no JSON fallback.
//!
//! Encodes the parts of the JSON document this server writes (info, paths with their
//! operations, parameters and responses, definitions with their schemas, and every
//! `x-` extension, which gnostic keeps as YAML text) with the field numbers of gnostic's
//! `OpenAPIv2.proto`. Pure: a JSON document in, the message's bytes out.

use serde_json::{Map, Value};

/// The wire types used.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LENGTH: u32 = 2;

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from(field << 3 | wire));
}

fn bytes(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    tag(out, field, LENGTH);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// A nested message, written by `write`.
fn message(out: &mut Vec<u8>, field: u32, write: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    write(&mut inner);
    bytes(out, field, &inner);
}

/// How a scalar member of a JSON object is encoded.
#[derive(Clone, Copy)]
enum Scalar {
    Str,
    Bool,
    Double,
    Int,
    /// A repeated string, from a JSON array.
    Strings,
}

/// Writes the members of `object` that `fields` names (JSON name, field number, type).
fn scalars(out: &mut Vec<u8>, object: &Map<String, Value>, fields: &[(&str, u32, Scalar)]) {
    for &(name, field, scalar) in fields {
        let Some(value) = object.get(name) else {
            continue;
        };
        match (scalar, value) {
            (Scalar::Str, Value::String(s)) => bytes(out, field, s.as_bytes()),
            (Scalar::Bool, Value::Bool(b)) => {
                tag(out, field, VARINT);
                varint(out, u64::from(*b));
            }
            (Scalar::Double, Value::Number(n)) => {
                tag(out, field, FIXED64);
                out.extend_from_slice(&n.as_f64().unwrap_or_default().to_le_bytes());
            }
            (Scalar::Int, Value::Number(n)) => {
                tag(out, field, VARINT);
                varint(out, n.as_i64().unwrap_or_default() as u64);
            }
            (Scalar::Strings, Value::Array(items)) => {
                for s in items.iter().filter_map(Value::as_str) {
                    bytes(out, field, s.as_bytes());
                }
            }
            _ => {}
        }
    }
}

/// gnostic's `Any`: the value as YAML text (JSON is YAML).
fn any(out: &mut Vec<u8>, field: u32, value: &Value) {
    message(out, field, |out| {
        bytes(out, 2, value.to_string().as_bytes());
    });
}

/// Each `x-` member as a `NamedAny`.
fn extensions(out: &mut Vec<u8>, field: u32, object: &Map<String, Value>) {
    for (name, value) in object.iter().filter(|(k, _)| k.starts_with("x-")) {
        message(out, field, |out| {
            bytes(out, 1, name.as_bytes());
            any(out, 2, value);
        });
    }
}

/// A JSON object of named values as repeated `Named*` messages (name 1, value 2).
fn named(
    out: &mut Vec<u8>,
    field: u32,
    members: &Map<String, Value>,
    value: fn(&mut Vec<u8>, &Map<String, Value>),
) {
    for (name, member) in members {
        let Some(member) = member.as_object() else {
            continue;
        };
        message(out, field, |out| {
            bytes(out, 1, name.as_bytes());
            message(out, 2, |out| value(out, member));
        });
    }
}

fn object(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value.and_then(Value::as_object)
}

/// `openapi.v2.Document`.
pub fn document(doc: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(doc) = doc.as_object() else {
        return out;
    };
    scalars(&mut out, doc, &[("swagger", 1, Scalar::Str)]);
    if let Some(info) = object(doc.get("info")) {
        message(&mut out, 2, |out| {
            scalars(
                out,
                info,
                &[
                    ("title", 1, Scalar::Str),
                    ("version", 2, Scalar::Str),
                    ("description", 3, Scalar::Str),
                ],
            );
        });
    }
    if let Some(paths) = object(doc.get("paths")) {
        message(&mut out, 8, |out| named(out, 2, paths, path_item));
    }
    if let Some(definitions) = object(doc.get("definitions")) {
        message(&mut out, 9, |out| named(out, 1, definitions, schema));
    }
    extensions(&mut out, 16, doc);
    out
}

/// `PathItem`.
fn path_item(out: &mut Vec<u8>, item: &Map<String, Value>) {
    for (method, field) in [
        ("get", 2),
        ("put", 3),
        ("post", 4),
        ("delete", 5),
        ("patch", 8),
    ] {
        if let Some(op) = object(item.get(method)) {
            message(out, field, |out| operation(out, op));
        }
    }
    parameters(out, 9, item);
    extensions(out, 10, item);
}

/// `Operation`.
fn operation(out: &mut Vec<u8>, op: &Map<String, Value>) {
    scalars(
        out,
        op,
        &[
            ("tags", 1, Scalar::Strings),
            ("description", 3, Scalar::Str),
            ("operationId", 5, Scalar::Str),
            ("produces", 6, Scalar::Strings),
            ("consumes", 7, Scalar::Strings),
            ("schemes", 10, Scalar::Strings),
        ],
    );
    parameters(out, 8, op);
    if let Some(responses) = object(op.get("responses")) {
        message(out, 9, |out| {
            // `NamedResponseValue` → `ResponseValue.response` → `Response`.
            for (code, response) in responses {
                let Some(response) = response.as_object() else {
                    continue;
                };
                message(out, 1, |out| {
                    bytes(out, 1, code.as_bytes());
                    message(out, 2, |out| {
                        message(out, 1, |out| {
                            scalars(out, response, &[("description", 1, Scalar::Str)]);
                            if let Some(body) = object(response.get("schema")) {
                                // `SchemaItem.schema`.
                                message(out, 2, |out| message(out, 1, |out| schema(out, body)));
                            }
                        });
                    });
                });
            }
        });
    }
    extensions(out, 13, op);
}

/// The `parameters` of a path item or operation, each a `ParametersItem.parameter`.
fn parameters(out: &mut Vec<u8>, field: u32, owner: &Map<String, Value>) {
    let Some(list) = owner.get("parameters").and_then(Value::as_array) else {
        return;
    };
    for parameter in list.iter().filter_map(Value::as_object) {
        message(out, field, |out| {
            message(out, 1, |out| {
                match parameter.get("in").and_then(Value::as_str) {
                    Some("body") => message(out, 1, |out| {
                        scalars(
                            out,
                            parameter,
                            &[
                                ("description", 1, Scalar::Str),
                                ("name", 2, Scalar::Str),
                                ("in", 3, Scalar::Str),
                                ("required", 4, Scalar::Bool),
                            ],
                        );
                        if let Some(body) = object(parameter.get("schema")) {
                            message(out, 5, |out| schema(out, body));
                        }
                    }),
                    // `NonBodyParameter`: the query and path sub-schemas number their
                    // fields alike up to `type` (query has `allowEmptyValue` before it).
                    Some(place @ ("query" | "path")) => message(out, 2, |out| {
                        let (field, type_, unique) = if place == "query" {
                            (3, 6, 20)
                        } else {
                            (4, 5, 19)
                        };
                        message(out, field, |out| {
                            scalars(
                                out,
                                parameter,
                                &[
                                    ("required", 1, Scalar::Bool),
                                    ("in", 2, Scalar::Str),
                                    ("description", 3, Scalar::Str),
                                    ("name", 4, Scalar::Str),
                                    ("type", type_, Scalar::Str),
                                    ("uniqueItems", unique, Scalar::Bool),
                                ],
                            );
                        });
                    }),
                    _ => {}
                }
            });
        });
    }
}

/// `Schema`.
fn schema(out: &mut Vec<u8>, schema_: &Map<String, Value>) {
    scalars(
        out,
        schema_,
        &[
            ("$ref", 1, Scalar::Str),
            ("format", 2, Scalar::Str),
            ("title", 3, Scalar::Str),
            ("description", 4, Scalar::Str),
            ("multipleOf", 6, Scalar::Double),
            ("maximum", 7, Scalar::Double),
            ("exclusiveMaximum", 8, Scalar::Bool),
            ("minimum", 9, Scalar::Double),
            ("exclusiveMinimum", 10, Scalar::Bool),
            ("maxLength", 11, Scalar::Int),
            ("minLength", 12, Scalar::Int),
            ("pattern", 13, Scalar::Str),
            ("maxItems", 14, Scalar::Int),
            ("minItems", 15, Scalar::Int),
            ("uniqueItems", 16, Scalar::Bool),
            ("maxProperties", 17, Scalar::Int),
            ("minProperties", 18, Scalar::Int),
            ("required", 19, Scalar::Strings),
            ("readOnly", 27, Scalar::Bool),
        ],
    );
    if let Some(default) = schema_.get("default") {
        any(out, 5, default);
    }
    if let Some(values) = schema_.get("enum").and_then(Value::as_array) {
        for value in values {
            any(out, 20, value);
        }
    }
    match schema_.get("additionalProperties") {
        Some(Value::Object(inner)) => {
            message(out, 21, |out| message(out, 1, |out| schema(out, inner)));
        }
        Some(Value::Bool(allowed)) => message(out, 21, |out| {
            tag(out, 2, VARINT);
            varint(out, u64::from(*allowed));
        }),
        _ => {}
    }
    match schema_.get("type") {
        Some(Value::String(t)) => message(out, 22, |out| bytes(out, 1, t.as_bytes())),
        Some(Value::Array(types)) => message(out, 22, |out| {
            for t in types.iter().filter_map(Value::as_str) {
                bytes(out, 1, t.as_bytes());
            }
        }),
        _ => {}
    }
    match schema_.get("items") {
        Some(Value::Object(inner)) => {
            message(out, 23, |out| message(out, 1, |out| schema(out, inner)));
        }
        Some(Value::Array(all)) => message(out, 23, |out| {
            for inner in all.iter().filter_map(Value::as_object) {
                message(out, 1, |out| schema(out, inner));
            }
        }),
        _ => {}
    }
    if let Some(all) = schema_.get("allOf").and_then(Value::as_array) {
        for inner in all.iter().filter_map(Value::as_object) {
            message(out, 24, |out| schema(out, inner));
        }
    }
    if let Some(properties) = object(schema_.get("properties")) {
        message(out, 25, |out| named(out, 1, properties, schema));
    }
    if let Some(example) = schema_.get("example") {
        any(out, 30, example);
    }
    extensions(out, 31, schema_);
}
