//! Machines: the identities of M2M authentication. Each has a secret key (`ak_…`, stored as a lookup digest and
//! sealed, because the API hands it back), a default token lifetime and scopes — the machines it may call.
//!
//! Rotating the secret key keeps the previous key valid for a grace period (`previous_token_ttl`, at most 8 h); its
//! expiry is stored with it and checked on every request, so it stops working at the same moment on every node.

use tessera_store::machines::{MachineOrder, MachineRow, MachineScopeRow, NewSecretKey};

use crate::ids::{new_id, random_base62};
use crate::instances::Instance;
use crate::{Ctx, Error, ErrorCode, Result};

/// Default lifetime of a machine's M2M tokens, in seconds (the spec's default).
pub const DEFAULT_TOKEN_TTL: i64 = 3600;
/// Largest `default_token_ttl` (ten years, the spec's maximum).
pub const MAX_TOKEN_TTL: i64 = 315_360_000;
/// Most scopes a machine may hold.
pub const MAX_SCOPES: usize = 150;
/// Longest grace period of a rotated-out secret key, in seconds (8 h).
pub const MAX_PREVIOUS_KEY_TTL: i64 = 28_800;
/// Longest machine name, in characters.
const MAX_NAME_CHARS: usize = 255;
/// Seal purpose of machine secret keys.
const SECRET_KEY_PURPOSE: &str = "machine_secret_key";
/// Prefix of machine secret keys, as Clerk's (`CLERK_MACHINE_SECRET_KEY=ak_…`).
pub const SECRET_KEY_PREFIX: &str = "ak_";

/// A machine without its scopes (what `scoped_machines` lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineInfo {
    /// `mch_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Name.
    pub name: String,
    /// Default token lifetime, seconds.
    pub default_token_ttl: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl From<MachineRow> for MachineInfo {
    fn from(r: MachineRow) -> Self {
        Self {
            id: r.id,
            instance_id: r.instance_id,
            name: r.name,
            default_token_ttl: r.default_token_ttl,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A machine and the machines it may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// The machine.
    pub info: MachineInfo,
    /// The machines it may call, oldest scope first.
    pub scoped_machines: Vec<MachineInfo>,
}

/// A new machine and its secret key.
#[derive(Debug)]
pub struct CreatedMachine {
    /// The machine.
    pub machine: Machine,
    /// `ak_…`
    pub secret_key: String,
}

/// A scope: `from_machine_id` may call `to_machine_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineScope {
    /// The caller.
    pub from_machine_id: String,
    /// The callee.
    pub to_machine_id: String,
    /// Unix ms.
    pub created_at: i64,
}

/// Input of [`create_machine`].
#[derive(Debug, Default)]
pub struct NewMachine {
    /// Name, 1–255 characters.
    pub name: String,
    /// Ids of machines of the instance this one may call (duplicates are ignored).
    pub scoped_machines: Vec<String>,
    /// Default token lifetime in seconds (default 3600).
    pub default_token_ttl: Option<i64>,
}

/// Input of [`update_machine`]: only the given fields change.
#[derive(Debug, Default)]
pub struct MachineUpdate {
    /// New name.
    pub name: Option<String>,
    /// New default token lifetime.
    pub default_token_ttl: Option<i64>,
}

/// Input of [`list_machines`].
#[derive(Debug)]
pub struct MachineListQuery {
    /// Exact id or part of the name (case-insensitive).
    pub query: Option<String>,
    /// Sort field.
    pub order: MachineOrder,
    /// Descending.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Items skipped.
    pub offset: i64,
}

/// Who called a machine-auth endpoint.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The instance of the key.
    pub instance: Instance,
    /// The machine whose secret key was presented; `None` for the instance secret key.
    pub machine_id: Option<String>,
}

fn validate_name(name: &str) -> Result<()> {
    let chars = name.chars().count();
    if chars == 0 || name.trim().is_empty() {
        return Err(Error::param_format_invalid("name", "name must contain at least one non-blank character."));
    }
    if chars > MAX_NAME_CHARS {
        return Err(Error::param_format_invalid("name", format!("name must be at most {MAX_NAME_CHARS} characters.")));
    }
    Ok(())
}

fn validate_ttl(ttl: i64) -> Result<()> {
    if (1..=MAX_TOKEN_TTL).contains(&ttl) {
        Ok(())
    } else {
        Err(Error::param_format_invalid(
            "default_token_ttl",
            format!("default_token_ttl must be between 1 and {MAX_TOKEN_TTL} seconds."),
        ))
    }
}

/// A fresh machine secret key: `ak_` + 48 base62 characters (≈285 random bits).
fn generate_secret_key() -> String {
    format!("{SECRET_KEY_PREFIX}{}", random_base62(48))
}

fn not_found() -> Error {
    Error::not_found("machine")
}

/// Attaches each machine's scoped machines.
async fn with_scopes(ctx: &Ctx, instance_id: &str, rows: Vec<MachineRow>) -> Result<Vec<Machine>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let scoped = tessera_store::machines::scoped_machines(&ctx.db, instance_id, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let scoped_machines = scoped
                .iter()
                .filter(|s| s.from_machine_id == row.id)
                .map(|s| MachineInfo::from(s.machine.clone()))
                .collect();
            Machine { info: row.into(), scoped_machines }
        })
        .collect())
}

/// Creates a machine with its secret key and scopes.
pub async fn create_machine(ctx: &Ctx, instance_id: &str, input: NewMachine) -> Result<CreatedMachine> {
    validate_name(&input.name)?;
    let ttl = input.default_token_ttl.unwrap_or(DEFAULT_TOKEN_TTL);
    validate_ttl(ttl)?;
    if input.scoped_machines.len() > MAX_SCOPES {
        return Err(Error::param_format_invalid(
            "scoped_machines",
            format!("A machine can have at most {MAX_SCOPES} scopes."),
        ));
    }
    let mut scopes: Vec<String> = Vec::with_capacity(input.scoped_machines.len());
    for id in input.scoped_machines {
        if !scopes.contains(&id) {
            scopes.push(id);
        }
    }
    let now = ctx.now_ms();
    let row = MachineRow {
        id: new_id("mch"),
        instance_id: instance_id.to_owned(),
        name: input.name,
        default_token_ttl: ttl,
        created_at: now,
        updated_at: now,
    };
    let secret_key = generate_secret_key();
    let secret_hash = ctx.secrets.digest(&secret_key);
    let secret_sealed = ctx.secrets.seal(SECRET_KEY_PURPOSE, secret_key.as_bytes());

    let mut tx = ctx.db.begin().await?;
    let existing = tessera_store::machines::existing_ids_tx(&mut tx, instance_id, &scopes).await?;
    if let Some(unknown) = scopes.iter().find(|id| !existing.contains(id)) {
        return Err(Error::param_value_invalid(
            "scoped_machines",
            format!("No machine with id {unknown} exists in this instance."),
        ));
    }
    tessera_store::machines::insert(&mut tx, &row, &row.name.to_lowercase()).await?;
    tessera_store::machines::insert_secret_key(
        &mut tx,
        &NewSecretKey {
            id: &new_id("msk"),
            instance_id,
            machine_id: &row.id,
            secret_hash: &secret_hash,
            secret_sealed: &secret_sealed,
            created_at: now,
        },
    )
    .await?;
    for to in &scopes {
        let scope = MachineScopeRow { from_machine_id: row.id.clone(), to_machine_id: to.clone(), created_at: now };
        // A scoped machine deleted since the check above (PostgreSQL, READ COMMITTED) fails the foreign key.
        tessera_store::machines::insert_scope(&mut tx, instance_id, &scope).await.map_err(|e| {
            if e.is_foreign_key_violation() {
                Error::param_value_invalid(
                    "scoped_machines",
                    format!("No machine with id {to} exists in this instance."),
                )
            } else {
                e.into()
            }
        })?;
    }
    tx.commit().await?;
    let machine = get_machine(ctx, instance_id, &row.id).await?;
    Ok(CreatedMachine { machine, secret_key })
}

/// A page of the instance's machines and the total number matching.
pub async fn list_machines(ctx: &Ctx, instance_id: &str, q: &MachineListQuery) -> Result<(Vec<Machine>, i64)> {
    let query = q.query.as_deref().filter(|s| !s.is_empty());
    let rows =
        tessera_store::machines::list(&ctx.db, instance_id, query, q.order, q.descending, q.limit, q.offset).await?;
    let total = tessera_store::machines::count(&ctx.db, instance_id, query).await?;
    Ok((with_scopes(ctx, instance_id, rows).await?, total))
}

/// One machine, or 404.
pub async fn get_machine(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Machine> {
    let row = tessera_store::machines::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    with_scopes(ctx, instance_id, vec![row]).await?.pop().ok_or_else(not_found)
}

/// Changes a machine's name and/or default token lifetime.
pub async fn update_machine(ctx: &Ctx, instance_id: &str, id: &str, update: MachineUpdate) -> Result<Machine> {
    if let Some(name) = &update.name {
        validate_name(name)?;
    }
    if let Some(ttl) = update.default_token_ttl {
        validate_ttl(ttl)?;
    }
    let mut tx = ctx.db.begin().await?;
    let mut row = tessera_store::machines::get_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if update.name.is_some() || update.default_token_ttl.is_some() {
        if let Some(name) = update.name {
            row.name = name;
        }
        if let Some(ttl) = update.default_token_ttl {
            row.default_token_ttl = ttl;
        }
        row.updated_at = ctx.now_ms();
        tessera_store::machines::update(&mut tx, &row, &row.name.to_lowercase()).await?;
    }
    tx.commit().await?;
    get_machine(ctx, instance_id, id).await
}

/// Deletes a machine with its secret keys, its scopes in both directions and its tokens.
pub async fn delete_machine(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if tessera_store::machines::delete(&mut tx, instance_id, id).await? == 0 {
        return Err(not_found());
    }
    // Its tokens go with it: cached ones must stop verifying.
    crate::cache::changed(&mut tx, crate::cache::Topic::M2mTokens, instance_id).await?;
    tx.commit().await?;
    ctx.caches.invalidate(crate::cache::Topic::M2mTokens, instance_id);
    Ok(())
}

/// The machine's current secret key.
pub async fn get_secret_key(ctx: &Ctx, instance_id: &str, id: &str) -> Result<String> {
    let sealed =
        tessera_store::machines::current_secret_sealed(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    ctx.secrets.open_string(SECRET_KEY_PURPOSE, &sealed).map_err(Error::internal)
}

/// Replaces the machine's secret key; the previous one keeps working for `previous_token_ttl` seconds.
pub async fn rotate_secret_key(ctx: &Ctx, instance_id: &str, id: &str, previous_token_ttl: i64) -> Result<String> {
    if !(0..=MAX_PREVIOUS_KEY_TTL).contains(&previous_token_ttl) {
        return Err(Error::param_format_invalid(
            "previous_token_ttl",
            format!("previous_token_ttl must be between 0 and {MAX_PREVIOUS_KEY_TTL} seconds."),
        ));
    }
    let secret_key = generate_secret_key();
    let secret_hash = ctx.secrets.digest(&secret_key);
    let secret_sealed = ctx.secrets.seal(SECRET_KEY_PURPOSE, secret_key.as_bytes());
    let mut tx = ctx.db.begin().await?;
    // The row lock serializes concurrent rotations of one machine on PostgreSQL.
    tessera_store::machines::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let now = ctx.now_ms();
    tessera_store::machines::retire_current_key(&mut tx, instance_id, id, now + previous_token_ttl * 1000, now).await?;
    tessera_store::machines::insert_secret_key(
        &mut tx,
        &NewSecretKey {
            id: &new_id("msk"),
            instance_id,
            machine_id: id,
            secret_hash: &secret_hash,
            secret_sealed: &secret_sealed,
            created_at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(secret_key)
}

/// Lets `from_id` call `to_id`.
pub async fn create_scope(ctx: &Ctx, instance_id: &str, from_id: &str, to_id: &str) -> Result<MachineScope> {
    if to_id.is_empty() {
        return Err(Error::param_missing("to_machine_id"));
    }
    let mut tx = ctx.db.begin().await?;
    // Locking the caller serializes the scope-limit check with concurrent additions on PostgreSQL.
    tessera_store::machines::lock(&mut tx, instance_id, from_id).await?.ok_or_else(not_found)?;
    if from_id == to_id {
        return Err(Error::param_value_invalid("to_machine_id", "A machine cannot be scoped to itself."));
    }
    if tessera_store::machines::get_tx(&mut tx, instance_id, to_id).await?.is_none() {
        return Err(unknown_target(to_id));
    }
    if tessera_store::machines::count_scopes_tx(&mut tx, instance_id, from_id).await? >= MAX_SCOPES as i64 {
        return Err(Error::param_value_invalid(
            "to_machine_id",
            format!("A machine can have at most {MAX_SCOPES} scopes."),
        ));
    }
    let scope = MachineScopeRow {
        from_machine_id: from_id.to_owned(),
        to_machine_id: to_id.to_owned(),
        created_at: ctx.now_ms(),
    };
    tessera_store::machines::insert_scope(&mut tx, instance_id, &scope).await.map_err(|e| {
        if e.is_unique_violation() {
            Error::with(
                ErrorCode::Conflict,
                "already exists",
                format!("Machine {from_id} is already scoped to machine {to_id}."),
                Some("to_machine_id"),
            )
        } else if e.is_foreign_key_violation() {
            // The target was deleted since it was read (PostgreSQL, READ COMMITTED).
            unknown_target(to_id)
        } else {
            e.into()
        }
    })?;
    tx.commit().await?;
    Ok(MachineScope {
        from_machine_id: scope.from_machine_id,
        to_machine_id: scope.to_machine_id,
        created_at: scope.created_at,
    })
}

fn unknown_target(to_id: &str) -> Error {
    Error::with(
        ErrorCode::ResourceNotFound,
        "not found",
        format!("No machine with id {to_id} exists in this instance."),
        Some("to_machine_id"),
    )
}

/// Removes `from_id`'s access to `to_id`. Tokens minted before keep the scopes they were minted with.
pub async fn delete_scope(ctx: &Ctx, instance_id: &str, from_id: &str, to_id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    tessera_store::machines::get_tx(&mut tx, instance_id, from_id).await?.ok_or_else(not_found)?;
    if tessera_store::machines::delete_scope(&mut tx, instance_id, from_id, to_id).await? == 0 {
        return Err(Error::not_found("machine scope"));
    }
    tx.commit().await?;
    Ok(())
}

/// Resolves the bearer token of a machine-auth endpoint: an instance secret key (`sk_test_…`/`sk_live_…`, 401
/// `clerk_key_invalid` if unknown) or a machine secret key (401 `machine_secret_key_invalid` if unknown, or
/// rotated out and past its grace period). Nothing is cached: a rotated-out key stops working at once everywhere.
pub async fn authenticate_caller(ctx: &Ctx, bearer: &str) -> Result<Caller> {
    if bearer.starts_with("sk_") {
        let instance = crate::instances::authenticate(ctx, bearer).await?;
        return Ok(Caller { instance, machine_id: None });
    }
    if !bearer.starts_with(SECRET_KEY_PREFIX) {
        return Err(Error::new(ErrorCode::MachineSecretKeyInvalid));
    }
    let owner = tessera_store::machines::find_by_secret_hash(&ctx.db, &ctx.secrets.digest(bearer), ctx.now_ms())
        .await?
        .ok_or_else(|| Error::new(ErrorCode::MachineSecretKeyInvalid))?;
    Ok(Caller { instance: owner.instance.into(), machine_id: Some(owner.machine_id) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_have_the_clerk_prefix_and_enough_entropy() {
        let k = generate_secret_key();
        assert!(k.starts_with("ak_") && k.len() == 3 + 48, "{k}");
        assert_ne!(k, generate_secret_key());
    }

    #[test]
    fn names_and_ttls_are_bounded() {
        assert!(validate_name("a").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"é".repeat(255)).is_ok());
        assert!(validate_name(&"x".repeat(256)).is_err());
        assert!(validate_ttl(1).is_ok() && validate_ttl(MAX_TOKEN_TTL).is_ok());
        assert!(validate_ttl(0).is_err() && validate_ttl(MAX_TOKEN_TTL + 1).is_err());
    }
}
