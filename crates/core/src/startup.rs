//! Start-up checks that protect the data (the master key must be the one this database was created with), and
//! one-time upgrades of data written by older versions.

use crate::{Ctx, Error, Result};

const MASTER_KEY_CHECK: &str = "master_key_check";

/// Records the master key's check value on first start; afterwards refuses a different key, which would make
/// every stored secret unreadable and every key lookup fail.
pub async fn check_master_key(ctx: &Ctx) -> Result<()> {
    let expected = hex::encode(ctx.secrets.digest("tessera/master-key-check"));
    // A read first: on an existing database (every start but the first) the start-up then writes nothing.
    let stored = match tessera_store::meta::get(&ctx.db, MASTER_KEY_CHECK).await? {
        Some(stored) => stored,
        None if tessera_store::meta::insert_if_absent(&ctx.db, MASTER_KEY_CHECK, &expected).await? => return Ok(()),
        // Another node wrote it meanwhile.
        None => tessera_store::meta::get(&ctx.db, MASTER_KEY_CHECK).await?.unwrap_or_default(),
    };
    if crate::crypto::constant_time_eq(stored.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Error::internal(anyhow::anyhow!(
            "the master key does not match this database (it was created with another TESSERA_MASTER_KEY or key file)"
        )))
    }
}

/// Seeds Clerk's default organization permissions and roles into instances created before instance creation
/// seeded them, so that reads (which never write) find them. Each instance that lacks them gets one short write
/// transaction; the others cost one read.
pub async fn seed_organization_defaults(ctx: &Ctx) -> Result<()> {
    use tessera_store::{organization_permissions, organization_roles, role_sets};
    let system = crate::organizations::permissions::SYSTEM_PERMISSIONS.len() as i64;
    for instance in crate::instances::list_instances(ctx).await? {
        if organization_roles::count_all(&ctx.db, &instance.id).await? > 0
            && organization_permissions::count_system(&ctx.db, &instance.id).await? >= system
            && role_sets::count(&ctx.db, &instance.id, None).await? > 0
        {
            continue;
        }
        let mut tx = ctx.db.begin().await?;
        crate::organizations::roles::ensure_default_roles_tx(&mut tx, &instance.id, ctx.now_ms()).await?;
        tx.commit().await?;
    }
    Ok(())
}
