//! `/Groups`: the directory's groups and their members (users of the same directory). Membership changes
//! re-evaluate the members' organization roles ([`super::roles`]) in the same transaction.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use tessera_store::Tx;
use tessera_store::directories::DirectoryRow;
use tessera_store::scim::{self as store, DirectoryGroupRow};

use super::filter::{Filter, get_ci, matches};
use super::patch::{self, PatchRequest};
use super::{GROUP_SCHEMA, ListResponse, Page, ScimError, ScimResult, roles};
use crate::Ctx;
use crate::billing::calendar::rfc3339;
use crate::ids::new_id;

/// Most members one request may set.
pub const MAX_MEMBERS: usize = 10_000;

/// The resource as answered.
pub fn resource(g: &DirectoryGroupRow, members: &[String], base: &str) -> Value {
    let mut out = json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.id,
        "displayName": g.display_name,
        "members": members.iter().map(|m| json!({
            "value": m,
            "$ref": super::location(base, "Users", m),
            "type": "User",
        })).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Group",
            "created": rfc3339(g.created_at),
            "lastModified": rfc3339(g.updated_at),
            "location": super::location(base, "Groups", &g.id),
        },
    });
    if let (Some(o), Some(e)) = (out.as_object_mut(), &g.external_id) {
        o.insert("externalId".into(), e.clone().into());
    }
    out
}

/// `(displayName, externalId, member ids)` of a request's resource.
fn normalize(input: &Value) -> ScimResult<(String, Option<String>, BTreeSet<String>)> {
    if !input.is_object() {
        return Err(ScimError::bad("invalidSyntax", "A Group must be a JSON object."));
    }
    let display = match get_ci(input, "displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => return Err(ScimError::bad("invalidValue", "displayName is required.")),
    };
    let external = match get_ci(input, "externalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => return Err(ScimError::bad("invalidValue", "externalId must be a string.")),
    };
    let members = match get_ci(input, "members") {
        None | Some(Value::Null) => BTreeSet::new(),
        Some(Value::Array(items)) => {
            if items.len() > MAX_MEMBERS {
                return Err(ScimError::new(413, Some("tooMany"), format!("At most {MAX_MEMBERS} members at once.")));
            }
            items
                .iter()
                .map(|m| match get_ci(m, "value") {
                    Some(Value::String(v)) if !v.is_empty() => Ok(v.clone()),
                    _ => Err(ScimError::bad("invalidValue", "Each member needs a value (a user id).")),
                })
                .collect::<ScimResult<_>>()?
        }
        Some(_) => return Err(ScimError::bad("invalidValue", "members must be an array.")),
    };
    Ok((display, external, members))
}

/// Sets a group's members to `wanted` and re-evaluates the roles of everyone who joined or left.
async fn set_members(
    ctx: &Ctx,
    tx: &mut Tx,
    dir: &DirectoryRow,
    group_id: &str,
    wanted: &BTreeSet<String>,
) -> ScimResult<()> {
    let current: BTreeSet<String> =
        store::group_members_tx(tx, &dir.instance_id, group_id).await?.into_iter().collect();
    for u in wanted.difference(&current) {
        if store::user_tx(tx, &dir.instance_id, &dir.id, u).await?.is_none() {
            return Err(ScimError::bad("invalidValue", format!("{u} is not a user of this directory.")));
        }
        store::add_member(tx, &dir.instance_id, &dir.id, group_id, u).await?;
    }
    for u in current.difference(wanted) {
        store::remove_member(tx, &dir.instance_id, group_id, u).await?;
    }
    for u in current.symmetric_difference(wanted) {
        roles::sync_user_tx(ctx, tx, dir, u).await?;
    }
    Ok(())
}

/// `POST /Groups`.
pub async fn create(ctx: &Ctx, dir: &DirectoryRow, base: &str, input: Value) -> ScimResult<Value> {
    let (display, external, members) = normalize(&input)?;
    let now = ctx.now_ms();
    let g = DirectoryGroupRow {
        id: new_id("dgrp"),
        instance_id: dir.instance_id.clone(),
        directory_id: dir.id.clone(),
        display_name_normalized: display.to_lowercase(),
        display_name: display,
        external_id: external,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    store::insert_group(&mut tx, &g).await?;
    set_members(ctx, &mut tx, dir, &g.id, &members).await?;
    let members = store::group_members_tx(&mut tx, &dir.instance_id, &g.id).await?;
    tx.commit().await?;
    Ok(resource(&g, &members, base))
}

async fn load_tx(tx: &mut Tx, dir: &DirectoryRow, id: &str) -> ScimResult<(DirectoryGroupRow, Vec<String>)> {
    let g =
        store::group_tx(tx, &dir.instance_id, &dir.id, id).await?.ok_or_else(|| ScimError::not_found("Group", id))?;
    let members = store::group_members_tx(tx, &dir.instance_id, &g.id).await?;
    Ok((g, members))
}

/// `GET /Groups/{id}`.
pub async fn get(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str) -> ScimResult<Value> {
    let mut tx = ctx.db.begin().await?;
    let (g, members) = load_tx(&mut tx, dir, id).await?;
    tx.commit().await?;
    Ok(resource(&g, &members, base))
}

/// `GET /Groups`.
pub async fn list(
    ctx: &Ctx,
    dir: &DirectoryRow,
    base: &str,
    f: Option<&Filter>,
    page: Page,
) -> ScimResult<ListResponse<Value>> {
    let groups = store::groups(&ctx.db, &dir.instance_id, &dir.id).await?;
    let members = store::members(&ctx.db, &dir.instance_id, &dir.id).await?;
    let all: Vec<Value> = groups
        .iter()
        .map(|g| {
            let m: Vec<String> = members.iter().filter(|(gid, _)| *gid == g.id).map(|(_, u)| u.clone()).collect();
            resource(g, &m, base)
        })
        .filter(|r| f.is_none_or(|f| matches(f, r)))
        .collect();
    Ok(ListResponse::page(all, page))
}

async fn write(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str, next: &Value) -> ScimResult<Value> {
    let (display, external, members) = normalize(next)?;
    let mut tx = ctx.db.begin().await?;
    let (mut g, _) = load_tx(&mut tx, dir, id).await?;
    g.display_name_normalized = display.to_lowercase();
    g.display_name = display;
    g.external_id = external;
    g.updated_at = ctx.now_ms();
    store::update_group(&mut tx, &g).await?;
    set_members(ctx, &mut tx, dir, &g.id, &members).await?;
    let members = store::group_members_tx(&mut tx, &dir.instance_id, &g.id).await?;
    tx.commit().await?;
    Ok(resource(&g, &members, base))
}

/// `PUT /Groups/{id}`.
pub async fn replace(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str, input: Value) -> ScimResult<Value> {
    write(ctx, dir, base, id, &input).await
}

/// `PATCH /Groups/{id}`.
pub async fn patch(ctx: &Ctx, dir: &DirectoryRow, base: &str, id: &str, req: PatchRequest) -> ScimResult<Value> {
    let current = get(ctx, dir, base, id).await?;
    let mut attrs: Map<String, Value> = current.as_object().cloned().unwrap_or_default();
    patch::apply(&mut attrs, req, GROUP_SCHEMA).map_err(|(t, d)| ScimError::bad(t, d))?;
    write(ctx, dir, base, id, &Value::Object(attrs)).await
}

/// `DELETE /Groups/{id}`: its members' roles are re-evaluated without it.
pub async fn delete(ctx: &Ctx, dir: &DirectoryRow, id: &str) -> ScimResult<()> {
    let mut tx = ctx.db.begin().await?;
    let (g, members) = load_tx(&mut tx, dir, id).await?;
    store::delete_group(&mut tx, &dir.instance_id, &dir.id, &g.id).await?;
    for u in members {
        roles::sync_user_tx(ctx, &mut tx, dir, &u).await?;
    }
    tx.commit().await?;
    Ok(())
}
