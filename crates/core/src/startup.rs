//! Start-up checks that protect the data: the master key must be the one this database was created with.

use crate::{Ctx, Error, Result};

const MASTER_KEY_CHECK: &str = "master_key_check";

/// Records the master key's check value on first start; afterwards refuses a different key, which would make
/// every stored secret unreadable and every key lookup fail.
pub async fn check_master_key(ctx: &Ctx) -> Result<()> {
    let expected = hex::encode(ctx.secrets.digest("tessera/master-key-check"));
    if tessera_store::meta::insert_if_absent(&ctx.db, MASTER_KEY_CHECK, &expected).await? {
        return Ok(());
    }
    let stored = tessera_store::meta::get(&ctx.db, MASTER_KEY_CHECK).await?.unwrap_or_default();
    if crate::crypto::constant_time_eq(stored.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Error::internal(anyhow::anyhow!(
            "the master key does not match this database (it was created with another TESSERA_MASTER_KEY or key file)"
        )))
    }
}
