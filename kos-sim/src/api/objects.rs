//! The object verbs: get, list (selectors, paging, Tables), create, update, patch, delete,
//! deletecollection, and the `status` and `scale` subresources.
//!
//! Each handler checks, computes the new object, and only then writes it to the store, so
//! that `dryRun=All` can return the computed object and store nothing. Bookkeeping that
//! belongs to other modules is called from here: managedFields ([`managed`]), validation
//! ([`validate`]), CRDs ([`crds`]) and namespaces ([`namespaces`]).

use super::{
    Api, Call, Target, crds, defaults, json, list_response, managed, namespaces, patch, validate,
    wants_table,
};
use crate::controllers::objects::{selector_text, str_at};
use crate::errors::ApiError;
use crate::resources::FieldPath;
use crate::store::{Item, Key, Object, StoreError, now};
use crate::table;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

/// How many times a patch is retried when the object changed under it.
const PATCH_RETRIES: usize = 5;
/// How long a pod may take to terminate before the API server removes it itself (simulated).
const DEFAULT_GRACE: u64 = 30;

fn name(call: &Call) -> &str {
    call.target.name.as_deref().unwrap_or_default()
}

fn status_subresource(call: &Call) -> bool {
    call.target.subresource.as_deref() == Some("status")
}

fn not_found(target: &Target, name: &str) -> ApiError {
    ApiError::from(StoreError::NotFound {
        resource: target.resource.qualified(),
        name: name.to_owned(),
    })
}

/// The stored object a path names, or 404.
fn current(api: &Api, target: &Target, name: &str) -> Result<Object, ApiError> {
    api.store
        .get(&target.resource.key(), &target.namespace, name)
        .ok_or_else(|| not_found(target, name))
}

/// Parses a request body (JSON, or protobuf for the kinds kubectl sends that way); 400 when
/// it is not an object.
pub fn body(call: &Call) -> Result<Value, ApiError> {
    let content_type = call.headers.get(axum::http::header::CONTENT_TYPE);
    if content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains(super::PROTOBUF))
    {
        return super::protobuf::decode(&call.body);
    }
    let value: Value = serde_json::from_slice(&call.body).map_err(|e| {
        ApiError::bad_request(format!("the body of the request was malformed: {e}"))
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::bad_request(
            "the body of the request was malformed: not a JSON object",
        ))
    }
}

pub fn get(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let object = current(api, &call.target, name(call))?;
    // `kubectl get pod NAME` asks for a Table of one row, as it does for lists.
    if wants_table(&call.headers) {
        let table = table(
            api,
            &call.target,
            &[object],
            call.params.get("includeObject"),
        );
        return Ok(json(StatusCode::OK, &table));
    }
    Ok(json(StatusCode::OK, &object))
}

/// The opaque `continue` token: the list's resourceVersion and the last key returned.
fn encode_continue(revision: u64, namespace: &str, name: &str) -> String {
    let text = json!([revision, namespace, name]).to_string();
    text.bytes().fold(String::new(), |mut hex, b| {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let (revision, namespace, name): (u64, String, String) =
        serde_json::from_slice(&bytes?).ok()?;
    Some((revision, namespace, name))
}

fn key_of(object: &Value) -> (String, String) {
    let text = |field: &str| {
        object["metadata"][field]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    (text("namespace"), text("name"))
}

/// The request's selectors, and every object of its resource in its namespace (all
/// namespaces for a cluster-wide call), undecoded, with the list's resourceVersion.
fn listed(
    api: &Api,
    call: &Call,
) -> Result<(super::selector::Selectors, Vec<Item>, u64), ApiError> {
    let selectors = super::selector::Selectors::parse(
        call.params.get("labelSelector"),
        call.params.get("fieldSelector"),
    )?;
    let target = &call.target;
    let namespace = target.in_namespace.then_some(target.namespace.as_str());
    let (items, revision) = api.store.items(&target.resource.key(), namespace);
    Ok((selectors, items, revision))
}

pub fn list(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    let selectors = super::selector::Selectors::parse(
        call.params.get("labelSelector"),
        call.params.get("fieldSelector"),
    )?;
    let resource = target.resource.key();
    let namespace = target.in_namespace.then_some(target.namespace.as_str());
    let current = api.store.revision();
    if let Some(requested) = call
        .params
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        && requested > current
    {
        return Err(ApiError::too_large_resource_version(requested, current));
    }
    // `resourceVersion=0` asks for any version, which a real API server answers from its
    // watch cache in one piece, ignoring `limit` — informers list this way, and a paged
    // list of thousands of fast-changing pods would outlive its continue token.
    let from_cache = call.params.get("resourceVersion") == Some("0");
    let limit = call
        .params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0 && !from_cache);
    // A continuation reads the list as of its first page, skipping what that page had by
    // key (nothing is decoded for it).
    let (objects, revision, first_page): (Arc<[(Key, Item)]>, u64, bool) =
        if let Some(token) = call.params.get("continue") {
            let (first, ns, name) = decode_continue(token)
                .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?;
            let rest = api
                .store
                .continued(&resource, namespace, first, &(ns, name))
                .map_err(|_| {
                    ApiError::new(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a \
                         consistent list result. You can start a new list without the \
                         continue parameter.",
                    )
                })?;
            (rest.into(), first, false)
        } else {
            let (objects, revision) = api.store.keyed_items(&resource, namespace);
            (objects.into(), revision, true)
        };
    // Each object is decoded for its checks and let go at once: a list of thousands of
    // objects is written from their stored text, never held decoded all together.
    let mut selected: Vec<&(Key, Item)> = objects
        .iter()
        .filter(|(_, item)| selectors.is_empty() || selectors.matches(&item.object()))
        .collect();
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if let Some(limit) = limit.filter(|l| selected.len() > *l) {
        let remaining = selected.len() - limit;
        selected.truncate(limit);
        let (ns, name) = selected
            .last()
            .map(|(key, _)| key.clone())
            .unwrap_or_default();
        metadata["continue"] = json!(encode_continue(revision, &ns, &name));
        metadata["remainingItemCount"] = json!(remaining);
        if first_page {
            api.store
                .keep_paged(&resource, namespace, revision, objects.clone());
        }
    }
    let items: Vec<Item> = selected.into_iter().map(|(_, item)| item.clone()).collect();
    if wants_table(&call.headers) {
        let objects: Vec<Object> = items.iter().map(Item::object).collect();
        let mut table = table(api, target, &objects, call.params.get("includeObject"));
        table["metadata"] = metadata;
        return Ok(json(StatusCode::OK, &table));
    }
    let head = json!({
        "kind": format!("{}List", target.resource.kind),
        "apiVersion": target.resource.api_version(),
        "metadata": metadata,
    });
    let size = items.iter().map(Item::json_len).sum();
    Ok(list_response(&head, (&items, size), write_list_item))
}

/// Writes `item` as a real API server writes a list's items: without `apiVersion` and
/// `kind`, which only the list carries (kubernetes/kubernetes#3030). Clients must not
/// depend on them, so neither may the simulator hand them out.
fn write_list_item(item: &Item, out: &mut Vec<u8>) {
    let start = out.len();
    item.write_json(out);
    let stripped = without_type_meta(&out[start..]);
    if let Some(stripped) = stripped {
        out.truncate(start);
        out.extend_from_slice(&stripped);
    }
}

/// The JSON object `json` without its `apiVersion` and `kind` members; `None` when it has
/// neither (or is not an object). The other members are copied as they are, in order.
fn without_type_meta(json: &[u8]) -> Option<Vec<u8>> {
    let Members(members) = serde_json::from_slice(json).ok()?;
    let is_type_meta = |key: &str| key == "apiVersion" || key == "kind";
    if !members.iter().any(|(key, _)| is_type_meta(key)) {
        return None;
    }
    let mut stripped = Vec::with_capacity(json.len());
    stripped.push(b'{');
    for (key, value) in members.iter().filter(|(key, _)| !is_type_meta(key)) {
        if stripped.len() > 1 {
            stripped.push(b',');
        }
        // A string always serializes.
        let _ = serde_json::to_writer(&mut stripped, key);
        stripped.push(b':');
        stripped.extend_from_slice(value.get().as_bytes());
    }
    stripped.push(b'}');
    Some(stripped)
}

/// A JSON object's members in order, their values left as text.
struct Members<'a>(Vec<(String, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Members<'a>, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// The Table of `objects` kubectl asked for (`application/json;as=Table`), with the
/// printer columns of the resource (or of its CRD).
pub fn table(api: &Api, target: &Target, objects: &[Object], include: Option<&str>) -> Value {
    let crd = target
        .resource
        .custom
        .then(|| api.store.get(crds::KEY, "", &target.resource.key()))
        .flatten();
    let options = table::Options {
        include: include.and_then(table::Include::parse).unwrap_or_default(),
        crd: crd.as_deref(),
        resource_version: None,
    };
    table::render_with(&target.resource.key(), objects, &options)
}

/// The apiVersion and kind of the target, written into an object that has none.
fn stamp_type(target: &Target, object: &mut Value) {
    object["apiVersion"] = json!(target.resource.api_version());
    object["kind"] = json!(target.resource.kind);
    if target.resource.namespaced {
        object["metadata"]["namespace"] = json!(target.namespace);
    } else if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("namespace");
    }
}

/// The typed checks of a write (see [`validate::fields`]), by the request's
/// `fieldValidation`: the warnings to send with the response. Drops the unknown fields it
/// accepts from `object`. Unknown fields the `existing` object already holds with the same
/// value are not the request's doing and pass.
pub fn check_fields(
    call: &Call,
    object: &mut Value,
    existing: Option<&Value>,
    applied: bool,
) -> Result<Vec<String>, ApiError> {
    let validation = validate::FieldValidation::parse(call.params.get("fieldValidation"))?;
    let duplicates = validate::duplicate_fields(&call.body);
    // Decoded as the type the URL names (an applied configuration may leave out its type).
    let mut typed = object.clone();
    stamp_type(&call.target, &mut typed);
    let already = |path: &FieldPath| {
        existing.is_some_and(|e| path.get(e).is_some() && path.get(e) == path.get(&typed))
    };
    let (warnings, dropped) = validate::fields(
        &call.target,
        &typed,
        &duplicates,
        validation,
        applied,
        &already,
    )?;
    for path in dropped {
        path.remove_from(object);
    }
    Ok(warnings)
}

/// `response` with a `Warning` header (`299 - "text"`) per warning, as the API server
/// sends them and kubectl prints them.
pub fn warned(mut response: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        if let Ok(value) = axum::http::HeaderValue::from_str(&format!("299 - {warning:?}")) {
            response
                .headers_mut()
                .append(axum::http::header::WARNING, value);
        }
    }
    response
}

/// The checks every write of a whole object goes through; `existing` is the stored object
/// an update replaces (`None` when creating).
pub fn admit(
    api: &Api,
    call: &Call,
    object: &mut Value,
    existing: Option<&Value>,
) -> Result<(), ApiError> {
    let target = &call.target;
    let creating = existing.is_none();
    validate::body_matches(target, object)?;
    stamp_type(target, object);
    validate::object(target, object)?;
    defaults::apply(&target.resource.group, &target.resource.kind, object);
    if target.resource.namespaced {
        namespaces::check_writable(api, &target.namespace, creating)?;
    }
    if creating {
        namespaces::defaults(target, object);
    }
    if creating && target.resource.key() == "persistentvolumeclaims" {
        crate::admission::claim(&api.store, object);
    }
    if creating && target.resource.key() == "pods" {
        crate::admission::pod(&api.store, object, call.params.dry_run())
            .map_err(|refused| ApiError::new(403, "Forbidden", refused.to_string()))?;
    }
    call_webhooks(api, call, Some(&*object), existing)
}

/// The admission webhooks a write reaches (`object` is `None` for a deletion, `old` for a
/// creation): see [`crate::admission::webhooks`].
pub fn call_webhooks(
    api: &Api,
    call: &Call,
    object: Option<&Value>,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let target = &call.target;
    let operation = match (object, old) {
        (None, _) => "DELETE",
        (Some(_), None) => "CREATE",
        (Some(_), Some(_)) => "UPDATE",
    };
    let request = crate::admission::webhooks::Request {
        operation,
        group: &target.resource.group,
        version: &target.resource.version,
        resource: &target.resource.plural,
        subresource: target.subresource.as_deref().unwrap_or_default(),
        // The object's own: a collection deleted across namespaces spans several.
        namespace: object
            .or(old)
            .map_or("", |o| str_at(o, "/metadata/namespace")),
        object,
        old,
        dry_run: call.params.dry_run(),
    };
    crate::admission::webhooks::admit(&api.store, &request)
}

/// For a new pod, the hold on quota usage its admission needs until it is stored.
pub fn charging<'a>(api: &'a Api, target: &Target) -> Option<MutexGuard<'a, ()>> {
    (target.resource.key() == "pods").then(|| api.store.quota_usage())
}

pub fn create(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    if !target.in_namespace && target.resource.namespaced {
        return Err(super::no_such_path());
    }
    let mut object = body(call)?;
    let _charging = charging(api, target);
    admit(api, call, &mut object, None)?;
    let warnings = check_fields(call, &mut object, None, false)?;
    if let Some(meta) = object["metadata"].as_object_mut() {
        for field in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
        ] {
            meta.remove(field);
        }
    }
    let manager = call.params.field_manager(&call.headers);
    managed::track_update(None, &mut object, &manager, &target.resource.api_version());
    let created = store_new(api, call, object)?;
    Ok(warned(json(StatusCode::CREATED, &created), &warnings))
}

/// Creates an object (or, for a dry run, computes what would be created).
pub fn store_new(api: &Arc<Api>, call: &Call, object: Value) -> Result<Value, ApiError> {
    let target = &call.target;
    if target.resource.key() == crds::KEY {
        crds::check(&object)?;
    }
    if call.params.dry_run() {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        if !name.is_empty()
            && api
                .store
                .get(&target.resource.key(), &target.namespace, name)
                .is_some()
        {
            return Err(StoreError::AlreadyExists {
                resource: target.resource.qualified(),
                name: name.to_owned(),
            }
            .into());
        }
        let mut preview = object;
        preview["metadata"]["uid"] = json!(crate::store::new_uid());
        preview["metadata"]["creationTimestamp"] = json!(now());
        preview["metadata"]["generation"] = json!(1);
        return Ok(preview);
    }
    let created = api
        .store
        .create(&target.resource.key(), object)
        .map_err(|e| qualify(e, target))?;
    if target.resource.key() == crds::KEY {
        crds::created(api, &created);
    }
    Ok((*created).clone())
}

/// Store errors name the store key; messages name the resource as a real server does.
fn qualify(error: StoreError, target: &Target) -> ApiError {
    let resource = target.resource.qualified();
    match error {
        StoreError::NotFound { name, .. } => StoreError::NotFound { resource, name },
        StoreError::AlreadyExists { name, .. } => StoreError::AlreadyExists { resource, name },
        StoreError::Conflict { name, .. } => StoreError::Conflict { resource, name },
        other => other,
    }
    .into()
}

pub fn update(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    let mut object = body(call)?;
    let body_name = object["metadata"]["name"].as_str().unwrap_or_default();
    if body_name != name(call) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({})",
            name(call)
        )));
    }
    let Some(existing) = api
        .store
        .get(&target.resource.key(), &target.namespace, name(call))
    else {
        return Err(not_found(target, name(call)));
    };
    admit(api, call, &mut object, Some(&*existing))?;
    let warnings = check_fields(call, &mut object, Some(&existing), false)?;
    track(call, &existing, &mut object);
    let updated = store_replace(api, call, &existing, object)?;
    Ok(warned(json(StatusCode::OK, &updated), &warnings))
}

/// Records the writer of an update in managedFields (not for the status subresource,
/// whose fields the simulation does not track).
fn track(call: &Call, existing: &Value, object: &mut Value) {
    if !status_subresource(call) {
        let manager = call.params.field_manager(&call.headers);
        managed::track_update(
            Some(existing),
            object,
            &manager,
            &call.target.resource.api_version(),
        );
    }
}

/// Writes a new version of an existing object (or, for a dry run, returns it), checking the
/// resourceVersion the new version carries.
pub fn store_replace(
    api: &Arc<Api>,
    call: &Call,
    existing: &Value,
    object: Value,
) -> Result<Value, ApiError> {
    let target = &call.target;
    if !status_subresource(call) && target.resource.key() == crds::KEY {
        crds::check(&object)?;
    }
    if call.params.dry_run() {
        let expected = object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default();
        if !expected.is_empty() && expected != existing["metadata"]["resourceVersion"] {
            return Err(qualify(
                StoreError::Conflict {
                    resource: String::new(),
                    name: name(call).to_owned(),
                },
                target,
            ));
        }
        return Ok(object);
    }
    let key = target.resource.key();
    let stored = if status_subresource(call) {
        api.store.update_status(&key, &object)
    } else {
        api.store.update(&key, &object)
    }
    .map_err(|e| qualify(e, target))?;
    if key == crds::KEY {
        crds::created(api, &stored);
    }
    Ok((*stored).clone())
}

/// A merge, JSON or strategic merge patch (server-side apply is [`apply`](super::apply)'s).
pub fn patch(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let kind = patch::Kind::from_content_type(patch::media_type(&call.headers))?;
    let document = patch::parse(kind, &call.body)?;
    for _ in 0..PATCH_RETRIES {
        let existing = current(api, &call.target, name(call))?;
        let mut candidate = patch::apply(kind, &existing, &document)?;
        admit(api, call, &mut candidate, Some(&*existing))?;
        let warnings = check_fields(call, &mut candidate, Some(&existing), false)?;
        track(call, &existing, &mut candidate);
        let pinned =
            candidate["metadata"]["resourceVersion"] != existing["metadata"]["resourceVersion"];
        match store_replace(api, call, &existing, candidate) {
            Err(error) if error.reason == "Conflict" && !pinned => {}
            result => return result.map(|object| warned(json(StatusCode::OK, &object), &warnings)),
        }
    }
    Err(qualify(
        StoreError::Conflict {
            resource: String::new(),
            name: name(call).to_owned(),
        },
        &call.target,
    ))
}

/// The grace period of a deletion: the request's, else the pod's own, else 30 s.
fn grace_period(call: &Call, object: &Value) -> u64 {
    let from_body = body(call)
        .ok()
        .and_then(|b| b["gracePeriodSeconds"].as_u64());
    call.params
        .get("gracePeriodSeconds")
        .and_then(|g| g.parse().ok())
        .or(from_body)
        .or_else(|| {
            object
                .pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_u64)
        })
        .unwrap_or(DEFAULT_GRACE)
}

pub fn delete(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    let existing = current(api, target, name(call))?;
    let key = target.resource.key();
    call_webhooks(api, call, None, Some(&*existing))?;
    if call.params.dry_run() {
        return Ok(json(StatusCode::OK, &existing));
    }
    if key == "namespaces" {
        let object = namespaces::delete(api, name(call))?;
        return Ok(json(StatusCode::OK, &object));
    }
    let deleted = delete_one(api, call, &existing)?;
    if key == crds::KEY {
        crds::deleted(api, &existing);
    }
    Ok(json(StatusCode::OK, &deleted))
}

/// Deletes one object: pods gracefully (the kubelet, or after the grace period the server,
/// removes them), everything else at once unless finalizers hold it.
fn delete_one(api: &Arc<Api>, call: &Call, existing: &Value) -> Result<Object, ApiError> {
    let target = &call.target;
    let (namespace, name) = key_of(existing);
    let key = target.resource.key();
    let grace = if key == "pods" {
        grace_period(call, existing)
    } else {
        0
    };
    let deleted = api
        .store
        .delete(&key, &namespace, &name, grace > 0)
        .map_err(|e| qualify(e, target))?;
    if grace > 0 {
        let (api, uid) = (api.clone(), existing["metadata"]["uid"].clone());
        tokio::spawn(async move {
            api.clock.sleep(Duration::from_secs(grace)).await;
            // Only the pod this deletion was for: a new one may have taken its name.
            if api
                .store
                .get(&key, &namespace, &name)
                .is_some_and(|p| p["metadata"]["uid"] == uid)
            {
                let _ = api.store.remove(&key, &namespace, &name);
            }
        });
    }
    Ok(deleted)
}

pub fn delete_collection(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    let (selectors, items, revision) = listed(api, call)?;
    let mut deleted = Vec::new();
    for object in items.iter().map(Item::object) {
        if !selectors.matches(&object) {
            continue;
        }
        call_webhooks(api, call, None, Some(&*object))?;
        if call.params.dry_run() {
            deleted.push(object);
            continue;
        }
        match delete_one(api, call, &object) {
            Ok(gone) => deleted.push(gone),
            // Deleted by someone else meanwhile: that is what was asked.
            Err(error) if error.code == 404 => {}
            Err(error) => return Err(error),
        }
    }
    let head = json!({
        "kind": format!("{}List", target.resource.kind),
        "apiVersion": target.resource.api_version(),
        "metadata": {"resourceVersion": revision.to_string()},
    });
    Ok(list_response(&head, (&deleted, 0), |object, out| {
        // A Value always serializes.
        let _ = serde_json::to_writer(out, &**object);
    }))
}

/// The `scale` subresource of `Deployments`, `ReplicaSets` and `StatefulSets`, as an
/// `autoscaling/v1` Scale (what `kubectl scale` reads and patches).
pub fn scale(api: &Arc<Api>, method: &Method, call: &Call) -> Result<Response, ApiError> {
    let target = &call.target;
    if !matches!(
        target.resource.key().as_str(),
        "deployments.apps" | "replicasets.apps" | "statefulsets.apps"
    ) {
        return Err(super::no_such_path());
    }
    let existing = current(api, target, name(call))?;
    let as_scale = |object: &Value| {
        json!({
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
                         "uid": object["metadata"]["uid"],
                         "resourceVersion": object["metadata"]["resourceVersion"],
                         "creationTimestamp": object["metadata"]["creationTimestamp"]},
            "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(1)},
            "status": {"replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
                       "selector": selector_text(&object["spec"]["selector"])},
        })
    };
    let scale = match *method {
        Method::GET => return Ok(json(StatusCode::OK, &as_scale(&existing))),
        Method::PUT => body(call)?,
        Method::PATCH => {
            let content_type = call
                .headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let kind =
                patch::Kind::from_content_type(content_type.split(';').next().unwrap_or_default())?;
            patch::apply(kind, &as_scale(&existing), &patch::parse(kind, &call.body)?)?
        }
        _ => return Err(super::not_allowed(method)),
    };
    let replicas = scale["spec"]["replicas"]
        .as_i64()
        .filter(|r| *r >= 0)
        .ok_or_else(|| {
            ApiError::invalid(
                "Scale",
                name(call),
                "spec.replicas",
                "must be greater than or equal to 0",
            )
        })?;
    let mut next = (*existing).clone();
    next["spec"]["replicas"] = json!(replicas);
    next["metadata"]["resourceVersion"] = scale["metadata"]["resourceVersion"].clone();
    let main = Call {
        target: Target {
            subresource: None,
            ..target.clone()
        },
        uri: call.uri.clone(),
        params: super::Params(call.params.0.clone()),
        headers: call.headers.clone(),
        body: call.body.clone(),
    };
    track(&main, &existing, &mut next);
    call_webhooks(api, call, Some(&next), Some(&*existing))?;
    let stored = store_replace(api, &main, &existing, next)?;
    Ok(json(StatusCode::OK, &as_scale(&stored)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_leave_out_api_version_and_kind_and_keep_the_rest_in_order() {
        let object = br#"{"apiVersion":"v1","data":{"a\"b":"1"},"kind":"ConfigMap","metadata":{"name":"x","kind":"inner"}}"#;
        let stripped = without_type_meta(object).unwrap();
        assert_eq!(
            String::from_utf8(stripped).unwrap(),
            r#"{"data":{"a\"b":"1"},"metadata":{"name":"x","kind":"inner"}}"#
        );
        assert_eq!(without_type_meta(br#"{"metadata":{}}"#), None);
        assert_eq!(without_type_meta(b"[1]"), None);
        assert_eq!(
            without_type_meta(br#"{"kind":"Pod"}"#).as_deref(),
            Some(&b"{}"[..])
        );
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let token = encode_continue(42, "ns", "web-1");
        assert_eq!(
            decode_continue(&token),
            Some((42, "ns".into(), "web-1".into()))
        );
        assert_eq!(decode_continue("zz"), None);
        assert_eq!(decode_continue("abc"), None);
    }

    #[test]
    fn selectors_print_as_text() {
        let selector = json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]});
        assert_eq!(selector_text(&selector), "app=web,tier in (a,b)");
    }
}
