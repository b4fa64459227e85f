//! Statements (one per payer and month of charges) and their payment attempts.

use tessera_store::billing::ledger::{self as store, AttemptRow, StatementRow};

use super::{Payer, load_payer};
use crate::{Ctx, Error, Result};

/// A statement with its payer and attempts.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The statement.
    pub row: StatementRow,
    /// Its payer.
    pub payer: Payer,
    /// Its attempts, oldest first.
    pub attempts: Vec<AttemptRow>,
}

async fn hydrate(ctx: &Ctx, row: StatementRow) -> Result<Statement> {
    let payer = store::payer(&ctx.db, &row.instance_id, &row.payer_id).await?.ok_or_else(not_found)?;
    let attempts = store::attempts_of(&ctx.db, &row.instance_id, &row.id).await?;
    Ok(Statement { payer: load_payer(ctx, payer).await?, attempts, row })
}

fn not_found() -> Error {
    Error::not_found("statement")
}

/// A page of the instance's statements, newest first, and the total.
pub async fn list(ctx: &Ctx, instance_id: &str, limit: i64, offset: i64) -> Result<(Vec<Statement>, i64)> {
    let (rows, total) = store::list_statements(&ctx.db, instance_id, limit, offset).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(hydrate(ctx, r).await?);
    }
    Ok((out, total))
}

/// One statement.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Statement> {
    let row = store::statement(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    hydrate(ctx, row).await
}
