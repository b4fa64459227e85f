//! Runs the billing clock (`tessera_core::billing::clock`) in a server: every tick, the node that holds the
//! clock's lease does what is due (renewals, charges, trial ends, statements). With several nodes on one
//! PostgreSQL database only the lease holder works; another node takes over when the holder stops renewing.

use std::sync::Arc;
use std::time::Duration;

use tessera_core::Ctx;
use tessera_core::billing::clock;

/// How long a lease lasts without renewal (several ticks, so that a slow tick does not lose it).
const LEASE_MS: i64 = 60_000;

/// Ticks every `interval` until `shutdown` resolves.
pub async fn run(ctx: Arc<Ctx>, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
    let owner = tessera_core::ids::new_id("bclk");
    tokio::pin!(shutdown);
    loop {
        // Nothing due (the usual case): no lease taken, nothing written.
        let due = clock::anything_due(&ctx).await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "billing clock: cannot tell whether anything is due; looking anyway");
            true
        });
        match if due { clock::take_lease(&ctx, &owner, LEASE_MS).await } else { Ok(false) } {
            Ok(true) => match clock::run_due(&ctx).await {
                Ok(n) if n > 0 => tracing::debug!(items = n, "billing clock: items moved"),
                Ok(_) => {}
                Err(e) if e.is_transient() => tracing::debug!(error = %e, "billing clock deferred: database busy"),
                Err(e) => tracing::warn!(error = %e, "billing clock tick failed"),
            },
            Ok(false) => {}
            Err(e) => tracing::debug!(error = %e, "billing clock: lease not taken"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
