//! Organization roles from directory groups. When a directory's enterprise connection is linked to an
//! organization, every active user the directory provisions is a member of it: with the role of the mapped group
//! of lowest precedence the user belongs to (when group role mapping is enabled), else the organization's default
//! role. Re-evaluated in the transaction of every change that can move it — a user's activation, group membership,
//! a group's deletion, the mappings themselves — and each change emits its `organizationMembership.*` event there.

use tessera_store::Tx;
use tessera_store::directories::{self as dir_store, DirectoryRow};
use tessera_store::enterprise_connections::{self as connections, By};
use tessera_store::scim as store;

use crate::organizations::memberships;
use crate::organizations::roles::{all_roles_tx, ensure_default_roles_tx};
use crate::{Ctx, Result};

/// The organization a directory provisions into, locked, if its connection is linked to one.
async fn organization_tx(
    tx: &mut Tx,
    dir: &DirectoryRow,
) -> Result<Option<tessera_store::organizations::OrganizationRow>> {
    let Some(ec) = &dir.enterprise_connection_id else { return Ok(None) };
    let Some(conn) = connections::lock(tx, &dir.instance_id, By::Id, ec).await? else { return Ok(None) };
    let Some(org_id) = conn.organization_id else { return Ok(None) };
    Ok(tessera_store::organizations::lock(tx, &dir.instance_id, &org_id).await?)
}

/// The role key `user_id` should hold: the mapped group's of lowest precedence, else the default.
async fn desired_role(
    tx: &mut Tx,
    dir: &DirectoryRow,
    org: &tessera_store::organizations::OrganizationRow,
    user_id: &str,
) -> Result<String> {
    if dir.group_role_mapping_enabled {
        let groups = store::groups_of_user_tx(tx, &dir.instance_id, &dir.id, user_id).await?;
        let mappings = dir_store::mappings_tx(tx, &dir.instance_id, &dir.id).await?;
        let hit = mappings.iter().find(|m| {
            groups.iter().any(|(id, external)| *id == m.group_id || external.as_deref() == Some(m.group_id.as_str()))
        });
        if let Some(m) = hit {
            let roles = all_roles_tx(tx, &dir.instance_id).await?;
            if let Some(r) = roles.into_iter().find(|r| r.id == m.role_id) {
                return Ok(r.key);
            }
        }
    }
    if let Some(key) = &org.role_set_key
        && let Some(set) = crate::organizations::role_sets::role_set_tx(tx, &dir.instance_id, key).await?
    {
        return Ok(set.default_role_key);
    }
    Ok(crate::settings::organization_settings_tx(tx, &dir.instance_id).await?.domains_default_role)
}

async fn sync_in(
    ctx: &Ctx,
    tx: &mut Tx,
    dir: &DirectoryRow,
    org: &tessera_store::organizations::OrganizationRow,
    user_id: &str,
) -> Result<()> {
    let Some(link) = store::user_tx(tx, &dir.instance_id, &dir.id, user_id).await? else { return Ok(()) };
    if !link.active {
        // A deprovisioned user keeps their membership (they cannot sign in); reactivation finds it again.
        return Ok(());
    }
    let role = desired_role(tx, dir, org, user_id).await?;
    let current = tessera_store::user_list::membership_tx(tx, &dir.instance_id, &org.id, user_id).await?;
    match current {
        None => {
            memberships::add_member_tx(ctx, tx, &dir.instance_id, org, user_id, &role, ("{}".into(), "{}".into()))
                .await?;
        }
        Some(_) => memberships::set_role_tx(ctx, tx, &dir.instance_id, org, user_id, &role).await?,
    }
    Ok(())
}

/// Brings one provisioned user's organization membership in line with their groups.
pub async fn sync_user_tx(ctx: &Ctx, tx: &mut Tx, dir: &DirectoryRow, user_id: &str) -> Result<()> {
    ensure_default_roles_tx(tx, &dir.instance_id, ctx.now_ms()).await?;
    let Some(org) = organization_tx(tx, dir).await? else { return Ok(()) };
    sync_in(ctx, tx, dir, &org, user_id).await
}

/// Brings every provisioned user of a directory in line (after its mappings or a whole group changed).
pub async fn sync_directory_tx(ctx: &Ctx, tx: &mut Tx, dir: &DirectoryRow) -> Result<()> {
    ensure_default_roles_tx(tx, &dir.instance_id, ctx.now_ms()).await?;
    let Some(org) = organization_tx(tx, dir).await? else { return Ok(()) };
    for u in store::users_tx(tx, &dir.instance_id, &dir.id).await? {
        sync_in(ctx, tx, dir, &org, &u.user_id).await?;
    }
    Ok(())
}
