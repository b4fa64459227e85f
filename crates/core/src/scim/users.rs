//! `/Users`: provisioned users. The stored resource is the IdP's last write (normalized: `active` a boolean,
//! known schema URNs in their canonical case, no `id`/`meta`/`schemas`/`password`); the user's profile is derived
//! from it through the directory's attribute mapping.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use tessera_store::Tx;
use tessera_store::directories::DirectoryRow;
use tessera_store::scim::{self as store, DirectoryUserRow};
use tessera_store::users::IdentificationRow;

use super::filter::{Filter, get_ci, matches};
use super::patch::{self, PatchRequest};
use super::{
    CLERK_USER, ENTERPRISE_USER, ListResponse, Page, ScimError, ScimResult, USER_SCHEMA, canonical_urn, roles,
};
use crate::billing::calendar::rfc3339;
use crate::events::EventType;
use crate::ids::new_id;
use crate::users::create::{NewUser, insert_tx, name_search, prepare, user_unique_error};
use crate::users::identifiers;
use crate::{Ctx, Error};

/// The resource as answered: the stored attributes with `schemas`, `id`, `active` and `meta`.
pub fn resource(row: &DirectoryUserRow, base: &str) -> Value {
    let mut attrs: Map<String, Value> = serde_json::from_str(&row.resource).unwrap_or_default();
    let mut schemas = vec![Value::from(USER_SCHEMA)];
    for ext in [ENTERPRISE_USER, CLERK_USER] {
        if attrs.contains_key(ext) {
            schemas.push(ext.into());
        }
    }
    attrs.insert("schemas".into(), Value::Array(schemas));
    attrs.insert("id".into(), row.user_id.clone().into());
    attrs.insert("active".into(), row.active.into());
    attrs.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": rfc3339(row.created_at),
            "lastModified": rfc3339(row.updated_at),
            "location": super::location(base, "Users", &row.user_id),
        }),
    );
    Value::Object(attrs)
}

/// `"True"`/`"False"` in any case (Entra) or a boolean.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A request's resource, validated and normalized: attributes, userName, externalId, active.
type Normalized = (Map<String, Value>, String, Option<String>, bool);

/// Validates and normalizes a request's resource.
fn normalize(input: Value) -> ScimResult<Normalized> {
    let Value::Object(obj) = input else {
        return Err(ScimError::bad("invalidSyntax", "A User must be a JSON object."));
    };
    let mut attrs = Map::new();
    for (k, v) in obj {
        let lower = k.to_ascii_lowercase();
        // Read-only and write-only attributes are not kept; a password is never stored anywhere.
        if matches!(lower.as_str(), "id" | "meta" | "schemas" | "password") || v.is_null() {
            continue;
        }
        if lower.starts_with("urn:") {
            // An extension object: without its own `schemas` (the resource names them), and gone once empty.
            let mut v = v;
            if let Some(ext) = v.as_object_mut() {
                ext.retain(|k, v| !k.eq_ignore_ascii_case("schemas") && !v.is_null());
                if ext.is_empty() {
                    continue;
                }
            }
            attrs.insert(canonical_urn(&k), v);
            continue;
        }
        attrs.insert(k, v);
    }
    let user_name = match get_ci(&Value::Object(attrs.clone()), "userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => return Err(ScimError::bad("invalidValue", "userName is required.")),
    };
    let external_id = match get_ci(&Value::Object(attrs.clone()), "externalId") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => return Err(ScimError::bad("invalidValue", "externalId must be a string.")),
    };
    let active = match attrs.keys().find(|k| k.eq_ignore_ascii_case("active")).cloned() {
        None => true,
        Some(k) => {
            let v = attrs.remove(&k).unwrap_or(Value::Null);
            boolean(&v).ok_or_else(|| ScimError::bad("invalidValue", "active must be a boolean."))?
        }
    };
    if let Some(e) = get_ci(&Value::Object(attrs.clone()), "emails")
        && !e.is_array()
    {
        return Err(ScimError::bad("invalidValue", "emails must be an array."));
    }
    Ok((attrs, user_name, external_id, active))
}

/// The value at a mapping path (`name.givenName`, `emails[0].value`), as text.
fn at_path(resource: &Value, path: &str) -> Option<String> {
    let mut cur = resource;
    let mut scoped;
    // A path may start with a schema URN (`urn:…:User:department`).
    let rest = match path.rfind(':') {
        Some(i) if path.to_ascii_lowercase().starts_with("urn:") => {
            scoped = get_ci(resource, &canonical_urn(&path[..i]))?;
            cur = scoped;
            &path[i + 1..]
        }
        _ => path,
    };
    for seg in rest.split('.') {
        let (name, index) = match seg.split_once('[') {
            Some((n, i)) => (n, Some(i.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (seg, None),
        };
        scoped = get_ci(cur, name)?;
        cur = scoped;
        if let Some(i) = index {
            cur = cur.as_array()?.get(i)?;
        }
    }
    match cur {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The user's profile the mapping derives from a resource.
#[derive(Debug, Default)]
struct Profile {
    external_id: Option<String>,
    username: Option<(String, String)>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    metadata: Option<Map<String, Value>>,
}

fn profile(dir: &DirectoryRow, attrs: &Map<String, Value>) -> ScimResult<Profile> {
    let mapping: BTreeMap<String, String> = serde_json::from_str(&dir.attribute_mapping).unwrap_or_default();
    let resource = Value::Object(attrs.clone());
    let get = |key: &str| mapping.get(key).and_then(|p| at_path(&resource, p));
    let email = get("email_address")
        .map(|e| identifiers::email("emails", &e))
        .transpose()
        .map_err(|_| ScimError::bad("invalidValue", "The email address is not valid."))?;
    Ok(Profile {
        external_id: get("external_id"),
        // A userName that is not a valid username (an email address, usually) is not used as one.
        username: get("username").and_then(|u| identifiers::username("username", &u).ok()),
        email,
        first_name: get("first_name"),
        last_name: get("last_name"),
        metadata: get_ci(&resource, CLERK_USER).and_then(Value::as_object).cloned(),
    })
}

fn scim_error_of(e: tessera_store::StoreError, what: &str) -> ScimError {
    if e.is_unique_violation() {
        ScimError::new(409, Some("uniqueness"), format!("{what} is already taken in this directory."))
    } else {
        e.into()
    }
}

/// Deprovisions (`active` false) or restores a user, revoking every session at once when deprovisioning.
async fn set_active(ctx: &Ctx, tx: &mut Tx, instance_id: &str, user_id: &str, active: bool) -> ScimResult<()> {
    let now = ctx.now_ms();
    store::set_deprovisioned(tx, instance_id, user_id, !active, now).await?;
    if !active {
        let ids = [user_id.to_owned()];
        crate::sessions::end_sessions_of_users(ctx, tx, instance_id, &ids, crate::sessions::status::REVOKED, now)
            .await?;
    }
    Ok(())
}

/// `POST /Users`.
pub async fn create(ctx: &Ctx, dir: &DirectoryRow, base: &str, input: Value) -> ScimResult<Value> {
    let (attrs, user_name, external_id, active) = normalize(input)?;
    let p = profile(dir, &attrs)?;
    let input = NewUser {
        external_id: p.external_id,
        first_name: p.first_name,
        last_name: p.last_name,
        email_address: p.email.into_iter().collect(),
        username: p.username.map(|u| u.0),
        public_metadata: p.metadata,
        ..Default::default()
    };
    let prepared = prepare(ctx, &dir.instance_id, input).await?;
    for i in &prepared.idents {
        crate::restriction_lists::enforce(ctx, &dir.instance_id, &i.kind, &i.value_normalized).await?;
    }
    let now = ctx.now_ms();
    let link = DirectoryUserRow {
        instance_id: dir.instance_id.clone(),
        directory_id: dir.id.clone(),
        user_id: prepared.row.id.clone(),
        user_name_normalized: user_name.to_lowercase(),
        external_id,
        active,
        resource: Value::Object(attrs).to_string(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    insert_tx(ctx, &mut tx, &dir.instance_id, &prepared).await?;
    // A second create of the same userName is a uniqueness conflict (the user above is rolled back with it).
    store::insert_user(&mut tx, &link).await.map_err(|e| scim_error_of(e, "userName"))?;
    if !active {
        set_active(ctx, &mut tx, &dir.instance_id, &link.user_id, false).await?;
        crate::users::emit_user(ctx, &mut tx, &dir.instance_id, &link.user_id, EventType::UserUpdated).await?;
    }
    roles::sync_user_tx(ctx, &mut tx, dir, &link.user_id).await?;
    tx.commit().await?;
    Ok(resource(&link, base))
}

/// `GET /Users/{id}`.
pub async fn get(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str) -> ScimResult<Value> {
    let row =
        store::user(&ctx.db, &dir.instance_id, &dir.id, id).await?.ok_or_else(|| ScimError::not_found("User", id))?;
    Ok(resource(&row, base))
}

/// `GET /Users`: every match of the filter, paged.
pub async fn list(
    ctx: &Ctx,
    dir: &DirectoryRow,
    base: &str,
    f: Option<&Filter>,
    page: Page,
) -> ScimResult<ListResponse<Value>> {
    let rows = store::users(&ctx.db, &dir.instance_id, &dir.id).await?;
    let all: Vec<Value> = rows.iter().map(|r| resource(r, base)).filter(|r| f.is_none_or(|f| matches(f, r))).collect();
    Ok(ListResponse::page(all, page))
}

/// Writes a resource over the user's current one (PUT, and PATCH after applying its operations).
async fn write(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str, next: Value) -> ScimResult<Value> {
    let (attrs, user_name, external_id, active) = normalize(next)?;
    let p = profile(dir, &attrs)?;
    if let Some(e) = &p.email {
        crate::restriction_lists::enforce(ctx, &dir.instance_id, identifiers::EMAIL, e).await?;
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut link = store::user_tx(&mut tx, &dir.instance_id, &dir.id, id)
        .await?
        .ok_or_else(|| ScimError::not_found("User", id))?;
    let was_active = link.active;
    link.user_name_normalized = user_name.to_lowercase();
    link.external_id = external_id;
    link.active = active;
    link.resource = Value::Object(attrs).to_string();
    link.updated_at = now;
    store::update_user(&mut tx, &link).await.map_err(|e| scim_error_of(e, "userName"))?;

    let mut user = tessera_store::users::lock(&mut tx, &dir.instance_id, id)
        .await?
        .ok_or_else(|| ScimError::not_found("User", id))?;
    user.external_id = p.external_id;
    if let Some((u, n)) = p.username {
        user.username = Some(u);
        user.username_normalized = Some(n);
    }
    user.first_name = p.first_name;
    user.last_name = p.last_name;
    user.name_search = name_search(user.first_name.as_deref(), user.last_name.as_deref());
    if let Some(meta) = p.metadata {
        let mut public: Map<String, Value> = serde_json::from_str(&user.public_metadata).unwrap_or_default();
        crate::users::update::deep_merge(&mut public, meta);
        user.public_metadata = Value::Object(public).to_string();
    }
    if let Some(email) = p.email {
        replace_primary_email(&mut tx, &mut user, email, now).await?;
    }
    user.updated_at = now;
    tessera_store::users::update_profile(&mut tx, &user).await.map_err(user_unique_error)?;
    if was_active != active {
        set_active(ctx, &mut tx, &dir.instance_id, id, active).await?;
    }
    crate::users::emit_user(ctx, &mut tx, &dir.instance_id, id, EventType::UserUpdated).await?;
    roles::sync_user_tx(ctx, &mut tx, dir, id).await?;
    tx.commit().await?;
    Ok(resource(&link, base))
}

/// Makes `email` the user's primary address (verified: the directory vouches for it), replacing the previous
/// primary address when it differs.
async fn replace_primary_email(
    tx: &mut Tx,
    user: &mut tessera_store::users::UserRow,
    email: String,
    now: i64,
) -> ScimResult<()> {
    let idents = tessera_store::users::identifications_tx(tx, &user.instance_id, &user.id).await?;
    let current = user.primary_email_address_id.as_ref().and_then(|p| idents.iter().find(|i| &i.id == p));
    if current.is_some_and(|c| c.value_normalized == email) {
        return Ok(());
    }
    if let Some(existing) = idents.iter().find(|i| i.kind == identifiers::EMAIL && i.value_normalized == email) {
        user.primary_email_address_id = Some(existing.id.clone());
    } else {
        let row = IdentificationRow {
            id: new_id("idn"),
            instance_id: user.instance_id.clone(),
            user_id: user.id.clone(),
            kind: identifiers::EMAIL.to_owned(),
            value: email.clone(),
            value_normalized: email,
            verification_status: Some("verified".into()),
            verification_strategy: Some("admin".into()),
            created_at: now,
            updated_at: now,
            ..Default::default()
        };
        identifiers::check_gmail_dots_tx(tx, &row).await?;
        tessera_store::users::insert_identification(tx, &row)
            .await
            .map_err(|e| if e.is_unique_violation() { Error::identifier_exists(&row.kind) } else { e.into() })?;
        user.primary_email_address_id = Some(row.id.clone());
    }
    if let Some(old) = current {
        tessera_store::users::delete_identification(tx, &user.instance_id, &user.id, &old.id).await?;
    }
    Ok(())
}

/// `PUT /Users/{id}`.
pub async fn replace(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str, input: Value) -> ScimResult<Value> {
    write(ctx, dir, base, id, input).await
}

/// `PATCH /Users/{id}`.
pub async fn patch(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str, req: PatchRequest) -> ScimResult<Value> {
    let row =
        store::user(&ctx.db, &dir.instance_id, &dir.id, id).await?.ok_or_else(|| ScimError::not_found("User", id))?;
    let mut attrs: Map<String, Value> = serde_json::from_str(&row.resource).unwrap_or_default();
    attrs.insert("active".into(), row.active.into());
    patch::apply(&mut attrs, req, USER_SCHEMA).map_err(|(t, d)| ScimError::bad(t, d))?;
    write(ctx, dir, base, id, Value::Object(attrs)).await
}

/// `DELETE /Users/{id}`: the user leaves the directory and is deprovisioned, with every session revoked (the
/// Clerk user is kept, as Clerk keeps it).
pub async fn delete(ctx: &Ctx, dir: &DirectoryRow, id: &str) -> ScimResult<()> {
    let mut tx = ctx.db.begin().await?;
    store::user_tx(&mut tx, &dir.instance_id, &dir.id, id).await?.ok_or_else(|| ScimError::not_found("User", id))?;
    store::delete_user(&mut tx, &dir.instance_id, &dir.id, id).await?;
    set_active(ctx, &mut tx, &dir.instance_id, id, false).await?;
    crate::users::emit_user(ctx, &mut tx, &dir.instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    Ok(())
}
