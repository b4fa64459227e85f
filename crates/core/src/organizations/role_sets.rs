//! Role sets: named groups of organization roles with a default role (for new members) and a creator role. An
//! organization uses the role set its `role_set_key` names (new organizations get the instance's `initial` set);
//! its members' roles must belong to that set.

use std::collections::{BTreeMap, HashMap};

use tessera_store::Tx;
use tessera_store::organization_roles::RoleRow;
use tessera_store::role_sets::{self as store, RoleSetOrder, RoleSetRow};

use super::roles::ensure_default_roles_tx;
use crate::ids::new_id;
use crate::{Ctx, Error, ErrorCode, Result};

/// Most roles one request may put in a role set.
pub const MAX_ROLES_PER_REQUEST: usize = 10;

/// The key of Clerk's primary role set, the instance's first (and initial) role set.
pub const PRIMARY_KEY: &str = "role_set:default";

/// A role set with its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet {
    /// `rs_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// `role_set:<name>`.
    pub key: String,
    /// Description.
    pub description: Option<String>,
    /// `initial` or `custom`.
    pub kind: String,
    /// The roles, in the order they were added.
    pub roles: Vec<SetRole>,
    /// Role key given to new members.
    pub default_role_key: String,
    /// Role key given to an organization's creator.
    pub creator_role_key: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A role of a role set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRole {
    /// `role_…`
    pub id: String,
    /// Name.
    pub name: String,
    /// Key.
    pub key: String,
    /// Description.
    pub description: Option<String>,
    /// Members holding the role in organizations using the set.
    pub members_count: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl RoleSet {
    /// The role of the set with this key.
    pub fn role(&self, key: &str) -> Option<&SetRole> {
        self.roles.iter().find(|r| r.key == key)
    }
}

fn from_role(r: RoleRow, members_count: i64) -> SetRole {
    SetRole {
        id: r.id,
        name: r.name,
        key: r.key,
        description: r.description,
        members_count,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn assemble(rows: Vec<RoleSetRow>, set_roles: Vec<store::SetRoleRow>) -> Vec<RoleSet> {
    let mut by_set: HashMap<String, Vec<SetRole>> = HashMap::new();
    for r in set_roles {
        by_set.entry(r.role_set_id).or_default().push(from_role(r.role, r.members_count));
    }
    rows.into_iter()
        .map(|r| RoleSet {
            roles: by_set.remove(&r.id).unwrap_or_default(),
            id: r.id,
            name: r.name,
            key: r.key,
            description: r.description,
            kind: r.kind,
            default_role_key: r.default_role_key,
            creator_role_key: r.creator_role_key,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect()
}

/// 404 for a role set.
pub fn not_found() -> Error {
    Error::not_found("role set")
}

/// A role set (by id or key) with its roles, read inside a write transaction.
pub async fn role_set_tx(tx: &mut Tx, instance_id: &str, id_or_key: &str) -> Result<Option<RoleSet>> {
    let Some(row) = store::get_tx(tx, instance_id, id_or_key).await? else { return Ok(None) };
    let roles = store::set_roles_tx(tx, instance_id).await?;
    Ok(assemble(vec![row], roles).pop())
}

/// The instance's `initial` role set, read inside a write transaction.
pub async fn initial_tx(tx: &mut Tx, instance_id: &str) -> Result<Option<RoleSet>> {
    let Some(row) = store::initial_tx(tx, instance_id).await? else { return Ok(None) };
    let roles = store::set_roles_tx(tx, instance_id).await?;
    Ok(assemble(vec![row], roles).pop())
}

/// Seeds Clerk's primary role set when the instance has no role set at all: `role_set:default`, the initial set
/// (new organizations get it), holding the instance's roles (on a new instance Clerk's `org:admin` and
/// `org:member`; an instance from before role sets keeps every role it had available), `org:member` for new
/// members and the settings' creator role for creators. Runs inside [`super::roles::ensure_default_roles_tx`]: at
/// instance creation, on organization writes, and at start-up for older databases. An instance with no creator role
/// left gets none (its organizations then have no role set, as before).
pub(crate) async fn ensure_primary_tx(tx: &mut Tx, instance_id: &str, now: i64) -> Result<()> {
    if store::count_tx(tx, instance_id).await? > 0 {
        return Ok(());
    }
    let roles = tessera_store::organization_roles::all_tx(tx, instance_id).await?;
    let has = |key: &str| roles.iter().any(|r| r.key == key);
    let settings = crate::settings::organization_settings_tx(tx, instance_id).await?;
    let creator = if has(&settings.creator_role) {
        settings.creator_role.clone()
    } else if has("org:admin") {
        "org:admin".to_owned()
    } else {
        return Ok(());
    };
    let member = if has("org:member") { "org:member".to_owned() } else { creator.clone() };
    let row = RoleSetRow {
        id: new_id("rs"),
        instance_id: instance_id.to_owned(),
        name: "Primary role set".into(),
        key: PRIMARY_KEY.into(),
        description: Some("Clerk's default role set: the roles new organizations can assign.".into()),
        kind: "initial".into(),
        default_role_key: member,
        creator_role_key: creator,
        created_at: now,
        updated_at: now,
    };
    store::insert(tx, &row).await?;
    for role in &roles {
        store::add_role(tx, instance_id, &row.id, &role.id, now).await?;
    }
    Ok(())
}

/// The organization settings' creator role applies to the organizations the initial role set is given to: it joins
/// that set and becomes its creator role (so that `creator_role_id` keeps deciding what the creator of a new
/// organization gets). Inside the settings' write transaction.
pub(crate) async fn follow_creator_role_tx(tx: &mut Tx, instance_id: &str, creator_role: &str, now: i64) -> Result<()> {
    let Some(mut row) = store::initial_tx(tx, instance_id).await? else { return Ok(()) };
    if let Some(role) = tessera_store::organization_roles::get_by_key_tx(tx, instance_id, creator_role).await? {
        store::add_role(tx, instance_id, &row.id, &role.id, now).await?;
    }
    row.creator_role_key = creator_role.to_owned();
    row.updated_at = now;
    store::update(tx, &row).await?;
    Ok(())
}

/// Validates a role set key: `role_set:` followed by lowercase letters, digits and underscores.
pub fn validate_key(key: &str) -> Result<String> {
    let key = key.trim();
    let ok = key
        .strip_prefix("role_set:")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
    if !ok || key.len() > 64 {
        return Err(Error::param_format_invalid(
            "key",
            "key must start with role_set: followed by lowercase letters, digits and underscores (at most 64 \
             characters).",
        ));
    }
    Ok(key.to_owned())
}

/// A key made from a name: `role_set:` and the name's lowercase alphanumerics, other runs turned into `_`.
pub fn key_from_name(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out: String = out.trim_end_matches('_').chars().take(48).collect();
    format!("role_set:{}", if out.is_empty() { "set" } else { out.trim_end_matches('_') })
}

fn not_in_set(param: &str, key: &str) -> Error {
    Error::param_value_invalid(param, format!("`{key}` is not a role of this role set."))
}

/// Checks a list of role keys (1 to 10) against the instance's roles; returns the roles.
async fn resolve_roles(tx: &mut Tx, instance_id: &str, param: &str, keys: &[String]) -> Result<Vec<RoleRow>> {
    if keys.is_empty() || keys.len() > MAX_ROLES_PER_REQUEST {
        return Err(Error::param_value_invalid(
            param,
            format!("{param} must name between 1 and {MAX_ROLES_PER_REQUEST} roles."),
        ));
    }
    let mut out: Vec<RoleRow> = Vec::new();
    for key in keys {
        let key = key.trim();
        let role = tessera_store::organization_roles::get_by_key_tx(tx, instance_id, key).await?.ok_or_else(|| {
            Error::param_value_invalid(param, format!("No organization role with key `{key}` exists."))
        })?;
        if !out.iter().any(|r| r.id == role.id) {
            out.push(role);
        }
    }
    Ok(out)
}

/// Input of [`create_role_set`].
#[derive(Debug, Default)]
pub struct NewRoleSet {
    /// Required.
    pub name: String,
    /// Generated from the name when absent.
    pub key: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Must be one of `roles`.
    pub default_role_key: String,
    /// Must be one of `roles`.
    pub creator_role_key: String,
    /// `initial` or `custom` (default).
    pub kind: Option<String>,
    /// Role keys, 1 to 10.
    pub roles: Vec<String>,
}

fn validate_kind(kind: Option<&str>) -> Result<Option<String>> {
    match kind.map(str::trim) {
        None => Ok(None),
        Some(k @ ("initial" | "custom")) => Ok(Some(k.to_owned())),
        Some(_) => Err(Error::param_value_invalid("type", "type must be initial or custom.")),
    }
}

/// Creates a role set.
pub async fn create_role_set(ctx: &Ctx, instance_id: &str, input: NewRoleSet) -> Result<RoleSet> {
    let name = super::validate_label(&input.name)?;
    let key = match input.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => validate_key(k)?,
        None => key_from_name(&name),
    };
    let kind = validate_kind(input.kind.as_deref())?.unwrap_or_else(|| "custom".into());
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    // The instance lock serializes role-set creations, so that on PostgreSQL two concurrent ones cannot both pass
    // the `max_role_sets_allowed` count below.
    tessera_store::settings::lock_instance(&mut tx, instance_id, now).await?;
    ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    let roles = resolve_roles(&mut tx, instance_id, "roles", &input.roles).await?;
    for (param, k) in [("default_role_key", &input.default_role_key), ("creator_role_key", &input.creator_role_key)] {
        if !roles.iter().any(|r| r.key == k.trim()) {
            return Err(not_in_set(param, k));
        }
    }
    let settings = crate::settings::organization_settings_tx(&mut tx, instance_id).await?;
    if store::count_tx(&mut tx, instance_id).await? >= settings.max_role_sets_allowed {
        return Err(Error::param_value_invalid(
            "key",
            format!("An instance may have at most {} role sets.", settings.max_role_sets_allowed),
        ));
    }
    let row = RoleSetRow {
        id: new_id("rs"),
        instance_id: instance_id.to_owned(),
        name,
        key,
        description: input.description,
        kind,
        default_role_key: input.default_role_key.trim().to_owned(),
        creator_role_key: input.creator_role_key.trim().to_owned(),
        created_at: now,
        updated_at: now,
    };
    store::insert(&mut tx, &row).await.map_err(super::key_taken("role set"))?;
    if row.kind == "initial" {
        store::demote_initial(&mut tx, instance_id, &row.id, now).await?;
    }
    for role in &roles {
        store::add_role(&mut tx, instance_id, &row.id, &role.id, now).await?;
    }
    let set = role_set_tx(&mut tx, instance_id, &row.id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(set)
}

/// One role set by id or key, or 404.
pub async fn get_role_set(ctx: &Ctx, instance_id: &str, id_or_key: &str) -> Result<RoleSet> {
    let row = store::get(&ctx.db, instance_id, id_or_key).await?.ok_or_else(not_found)?;
    let roles = store::set_roles(&ctx.db, instance_id).await?;
    assemble(vec![row], roles).pop().ok_or_else(not_found)
}

/// A page of the instance's role sets and the total count.
pub async fn list_role_sets(
    ctx: &Ctx,
    instance_id: &str,
    query: Option<&str>,
    order: RoleSetOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RoleSet>, i64)> {
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let rows = store::list(&ctx.db, instance_id, query, order, descending, limit, offset).await?;
    let total = store::count(&ctx.db, instance_id, query).await?;
    let roles = store::set_roles(&ctx.db, instance_id).await?;
    Ok((assemble(rows, roles), total))
}

/// Input of [`update_role_set`]; absent fields do not change.
#[derive(Debug, Default)]
pub struct RoleSetUpdate {
    /// Name.
    pub name: Option<String>,
    /// Key (organizations using the set follow).
    pub key: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Only `initial` (makes every other set `custom`).
    pub kind: Option<String>,
    /// Must be a role of the set.
    pub default_role_key: Option<String>,
    /// Must be a role of the set.
    pub creator_role_key: Option<String>,
}

/// Updates a role set.
pub async fn update_role_set(ctx: &Ctx, instance_id: &str, id_or_key: &str, u: RoleSetUpdate) -> Result<RoleSet> {
    let name = u.name.as_deref().map(super::validate_label).transpose()?;
    let key = u.key.as_deref().map(validate_key).transpose()?;
    let kind = match validate_kind(u.kind.as_deref())? {
        Some(k) if k != "initial" => {
            return Err(Error::param_value_invalid("type", "type can only be set to initial."));
        }
        other => other,
    };
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let set = role_set_tx(&mut tx, instance_id, id_or_key).await?.ok_or_else(not_found)?;
    let mut row = store::get_tx(&mut tx, instance_id, &set.id).await?.ok_or_else(not_found)?;
    if let Some(v) = name {
        row.name = v;
    }
    if let Some(v) = key {
        row.key = v;
    }
    if let Some(v) = u.description {
        row.description = Some(v);
    }
    if let Some(v) = kind {
        row.kind = v;
    }
    for (param, value, field) in [
        ("default_role_key", u.default_role_key, &mut row.default_role_key),
        ("creator_role_key", u.creator_role_key, &mut row.creator_role_key),
    ] {
        if let Some(k) = value {
            let k = k.trim();
            if set.role(k).is_none() {
                return Err(not_in_set(param, k));
            }
            *field = k.to_owned();
        }
    }
    row.updated_at = now;
    store::update(&mut tx, &row).await.map_err(super::key_taken("role set"))?;
    if row.kind == "initial" {
        store::demote_initial(&mut tx, instance_id, &row.id, now).await?;
    }
    if row.key != set.key {
        store::move_organizations(&mut tx, instance_id, &set.key, &row.key).await?;
    }
    let out = role_set_tx(&mut tx, instance_id, &row.id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(out)
}

/// Adds roles to a role set, optionally changing its default and creator roles.
pub async fn add_roles(
    ctx: &Ctx,
    instance_id: &str,
    id_or_key: &str,
    role_keys: &[String],
    default_role_key: Option<String>,
    creator_role_key: Option<String>,
) -> Result<RoleSet> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let set = role_set_tx(&mut tx, instance_id, id_or_key).await?.ok_or_else(not_found)?;
    let roles = resolve_roles(&mut tx, instance_id, "role_keys", role_keys).await?;
    for role in &roles {
        store::add_role(&mut tx, instance_id, &set.id, &role.id, now).await?;
    }
    let mut row = store::get_tx(&mut tx, instance_id, &set.id).await?.ok_or_else(not_found)?;
    for (param, value, field) in [
        ("default_role_key", default_role_key, &mut row.default_role_key),
        ("creator_role_key", creator_role_key, &mut row.creator_role_key),
    ] {
        if let Some(k) = value {
            let k = k.trim();
            if set.role(k).is_none() && !roles.iter().any(|r| r.key == k) {
                return Err(not_in_set(param, k));
            }
            *field = k.to_owned();
        }
    }
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let out = role_set_tx(&mut tx, instance_id, &set.id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(out)
}

/// Takes `role_key` out of a role set, giving its holders (in organizations using the set) `to_role_key`, which
/// must be another role of the set; the default and creator roles follow.
pub async fn replace_role(
    ctx: &Ctx,
    instance_id: &str,
    id_or_key: &str,
    role_key: &str,
    to_role_key: &str,
) -> Result<RoleSet> {
    let (role_key, to_role_key) = (role_key.trim(), to_role_key.trim());
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let set = role_set_tx(&mut tx, instance_id, id_or_key).await?.ok_or_else(not_found)?;
    let from = set.role(role_key).ok_or_else(|| not_in_set("role_key", role_key))?.clone();
    if role_key == to_role_key || set.role(to_role_key).is_none() {
        return Err(not_in_set("to_role_key", to_role_key));
    }
    store::reassign_members(&mut tx, instance_id, &set.key, role_key, to_role_key, now).await?;
    store::remove_role(&mut tx, instance_id, &set.id, &from.id).await?;
    let mut row = store::get_tx(&mut tx, instance_id, &set.id).await?.ok_or_else(not_found)?;
    for field in [&mut row.default_role_key, &mut row.creator_role_key] {
        if *field == role_key {
            *field = to_role_key.to_owned();
        }
    }
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let out = role_set_tx(&mut tx, instance_id, &set.id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(out)
}

/// Replaces a role set by another: organizations using it move to `dest`, members whose role `dest` lacks get
/// the role `mappings` names for it (422 when a needed mapping is missing), and the set is deleted. Returns the
/// deleted set's id.
pub async fn replace_role_set(
    ctx: &Ctx,
    instance_id: &str,
    id_or_key: &str,
    dest_key: &str,
    mappings: BTreeMap<String, String>,
) -> Result<String> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let source = role_set_tx(&mut tx, instance_id, id_or_key).await?.ok_or_else(not_found)?;
    let dest = role_set_tx(&mut tx, instance_id, dest_key.trim()).await?.ok_or_else(|| {
        Error::with(
            ErrorCode::ResourceNotFound,
            "not found",
            format!("No role set `{}` exists.", dest_key.trim()),
            Some("dest_role_set_key"),
        )
    })?;
    if dest.id == source.id {
        return Err(Error::param_value_invalid("dest_role_set_key", "A role set cannot replace itself."));
    }
    for (from, to) in &mappings {
        if dest.role(to).is_none() {
            return Err(Error::param_value_invalid(
                "reassignment_mappings",
                format!("`{to}` (for `{from}`) is not a role of the destination role set."),
            ));
        }
    }
    for role in store::roles_in_use_tx(&mut tx, instance_id, &source.key).await? {
        if dest.role(&role).is_some() {
            continue;
        }
        let to = mappings.get(&role).ok_or_else(|| {
            Error::param_value_invalid(
                "reassignment_mappings",
                format!("Members hold `{role}`, which the destination role set lacks: map it to one of its roles."),
            )
        })?;
        store::reassign_members(&mut tx, instance_id, &source.key, &role, to, now).await?;
    }
    store::move_organizations(&mut tx, instance_id, &source.key, &dest.key).await?;
    if source.kind == "initial" {
        let mut row = store::get_tx(&mut tx, instance_id, &dest.id).await?.ok_or_else(not_found)?;
        row.kind = "initial".into();
        row.updated_at = now;
        store::update(&mut tx, &row).await?;
    }
    store::delete(&mut tx, instance_id, &source.id).await?;
    tx.commit().await?;
    Ok(source.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_set_keys() {
        assert!(validate_key("role_set:sales_team").is_ok());
        for bad in ["sales", "role_set:", "role_set:Sales", "role_set:a-b", "org:x"] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
        assert_eq!(key_from_name("Sales Team #2"), "role_set:sales_team_2");
        assert_eq!(key_from_name("  "), "role_set:set");
    }
}
