//! The cells of the objects that connect others, as a real API server's printers write
//! them: an Endpoints' and an EndpointSlice's addresses and ports, a binding's role and
//! subjects, an IngressClass's parameters. Each is a function a column of `columns` names.

// Kubernetes kinds (EndpointSlice, IngressClass, ServiceAccount) are words in these docs,
// not code.
#![allow(clippy::doc_markdown)]

use super::cells::{items, text};
use serde_json::{Value, json};

/// Address and port lists show this many entries, then ` + N more...`.
const SHOWN: usize = 3;

/// The first entries joined by commas and how many more there are, or `empty` for none.
fn listed(entries: impl Iterator<Item = String>, empty: &str) -> String {
    let all: Vec<String> = entries.collect();
    if all.is_empty() {
        return empty.to_owned();
    }
    let shown = all[..all.len().min(SHOWN)].join(",");
    match all.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{shown} + {more} more..."),
        _ => shown,
    }
}

/// `ip:port`, with an IPv6 address in brackets (Go's `net.JoinHostPort`).
fn host_port(ip: &str, port: &Value) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// An Endpoints' ready addresses with each port (`10.244.1.5:8080,…`); the bare addresses
/// of a subset without ports; `<none>` without subsets.
pub(super) fn endpoints(endpoints: &Value) -> Value {
    let subsets = items(endpoints, "/subsets");
    if subsets.is_empty() {
        return json!("<none>");
    }
    let addresses = subsets.iter().flat_map(|subset| {
        let ips: Vec<&str> = items(subset, "/addresses")
            .iter()
            .map(|a| text(a, "/ip"))
            .collect();
        let ports = items(subset, "/ports");
        if ports.is_empty() {
            ips.iter().map(|ip| (*ip).to_owned()).collect::<Vec<_>>()
        } else {
            ports
                .iter()
                .flat_map(|port| ips.iter().map(|ip| host_port(ip, &port["port"])))
                .collect()
        }
    });
    json!(listed(addresses, ""))
}

/// An EndpointSlice's ports: the number, else the name, else `*`; `<unset>` for none.
pub(super) fn slice_ports(slice: &Value) -> Value {
    let ports = items(slice, "/ports")
        .iter()
        .map(|port| match &port["port"] {
            Value::Number(number) => number.to_string(),
            _ => port["name"].as_str().unwrap_or("*").to_owned(),
        });
    json!(listed(ports, "<unset>"))
}

/// Every address of an EndpointSlice's endpoints, ready or not; `<unset>` for none.
pub(super) fn slice_endpoints(slice: &Value) -> Value {
    let addresses = items(slice, "/endpoints").iter().flat_map(|endpoint| {
        items(endpoint, "/addresses")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
    });
    json!(listed(addresses, "<unset>"))
}

/// A binding's role as `Kind/name` (`ClusterRole/view`).
pub(super) fn role(binding: &Value) -> Value {
    json!(format!(
        "{}/{}",
        text(binding, "/roleRef/kind"),
        text(binding, "/roleRef/name")
    ))
}

/// The names of a binding's subjects of `kind`, comma-separated (a ServiceAccount's as
/// `namespace/name`).
fn subjects(binding: &Value, kind: &str) -> Value {
    let names: Vec<String> = items(binding, "/subjects")
        .iter()
        .filter(|s| s["kind"] == kind)
        .map(|s| match kind {
            "ServiceAccount" => format!("{}/{}", text(s, "/namespace"), text(s, "/name")),
            _ => text(s, "/name").to_owned(),
        })
        .collect();
    json!(names.join(", "))
}

pub(super) fn users(binding: &Value) -> Value {
    subjects(binding, "User")
}

pub(super) fn groups(binding: &Value) -> Value {
    subjects(binding, "Group")
}

pub(super) fn service_accounts(binding: &Value) -> Value {
    subjects(binding, "ServiceAccount")
}

/// An IngressClass's parameters as `Kind[.group]/name`, or `<none>`.
pub(super) fn class_parameters(class: &Value) -> Value {
    let parameters = &class["spec"]["parameters"];
    if !parameters.is_object() {
        return json!("<none>");
    }
    let kind = match text(parameters, "/apiGroup") {
        "" => text(parameters, "/kind").to_owned(),
        group => format!("{}.{group}", text(parameters, "/kind")),
    };
    json!(format!("{kind}/{}", text(parameters, "/name")))
}
