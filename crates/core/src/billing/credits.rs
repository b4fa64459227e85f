//! Credit balances and idempotent credit adjustments. Credits are drawn before the payment method by every
//! charge ([`super::charges`]).

use tessera_store::billing::ledger::{self as store, LedgerRow};

use super::{CURRENCY, PayerType, ensure_payer_tx};
use crate::ids::new_id;
use crate::{Ctx, Error, ErrorCode, Result};

/// A credit adjustment (`AdjustCreditBalanceRequest`).
#[derive(Debug, Clone)]
pub struct Adjustment {
    /// Cents, > 0.
    pub amount: i64,
    /// `increase` | `decrease`.
    pub action: String,
    /// USD only (default).
    pub currency: Option<String>,
    /// Required: the same key returns the original entry.
    pub idempotency_key: String,
    /// Note.
    pub note: Option<String>,
}

/// The balance of a user or organization: `None` when it never had credits.
pub async fn balance(ctx: &Ctx, instance_id: &str, t: PayerType, owner_id: &str) -> Result<Option<i64>> {
    if !store::owner_exists(&ctx.db, instance_id, t == PayerType::Org, owner_id).await? {
        return Err(super::owner_not_found(t));
    }
    Ok(store::payer_of(&ctx.db, instance_id, owner_id).await?.and_then(|p| p.credit_balance))
}

/// Adjusts the balance and writes a ledger entry. The same idempotency key with the same request answers the
/// original entry; with another request it is 409. A decrease below zero is refused (422).
pub async fn adjust(ctx: &Ctx, instance_id: &str, t: PayerType, owner_id: &str, a: Adjustment) -> Result<LedgerRow> {
    if !store::owner_exists(&ctx.db, instance_id, t == PayerType::Org, owner_id).await? {
        return Err(super::owner_not_found(t));
    }
    if a.amount <= 0 {
        return Err(Error::param_value_invalid("amount", "amount must be a positive number of cents."));
    }
    let sign = match a.action.as_str() {
        "increase" => 1,
        "decrease" => -1,
        _ => return Err(Error::param_value_invalid("action", "action must be increase or decrease.")),
    };
    if a.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(CURRENCY)) {
        return Err(Error::param_value_invalid("currency", "Only USD is supported."));
    }
    if a.idempotency_key.trim().is_empty() {
        return Err(Error::param_missing("idempotency_key"));
    }
    // What identifies the request under its key (the currency defaults to USD, so absent and "USD" are equal).
    let digest = format!("{}|{}|{}", a.action, a.amount, a.note.as_deref().unwrap_or(""));
    let mut tx = ctx.db.begin().await?;
    let mut payer = ensure_payer_tx(ctx, &mut tx, instance_id, t, owner_id).await?;
    store::lock_subscription(&mut tx, &payer.id).await?;
    if let Some(existing) = store::ledger_by_key_tx(&mut tx, &payer.id, &a.idempotency_key).await? {
        if existing.request_digest.as_deref() == Some(digest.as_str()) {
            return Ok(existing);
        }
        return Err(Error::with(
            ErrorCode::Conflict,
            "idempotency key reused",
            "This idempotency key was already used for a different credit adjustment.",
            Some("idempotency_key"),
        ));
    }
    let balance = payer.credit_balance.unwrap_or(0) + sign * a.amount;
    if balance < 0 {
        return Err(Error::new(ErrorCode::InsufficientCreditBalance));
    }
    let now = ctx.now_ms();
    payer.credit_balance = Some(balance);
    payer.updated_at = now;
    store::update_payer(&mut tx, &payer).await?;
    let id = new_id("ccl");
    let row = LedgerRow {
        source_id: id.clone(),
        id,
        instance_id: instance_id.to_owned(),
        payer_id: payer.id.clone(),
        amount: sign * a.amount,
        source_type: "adjustment".into(),
        note: a.note,
        idempotency_key: Some(a.idempotency_key),
        request_digest: Some(digest),
        created_at: now,
    };
    let inserted = store::insert_ledger(&mut tx, &row).await;
    match inserted {
        Ok(()) => {}
        // Two requests racing with one key: the loser answers like a repeat.
        Err(e) if e.is_unique_violation() => {
            return Err(Error::with(
                ErrorCode::Conflict,
                "idempotency key in use",
                "Retry the request.",
                Some("idempotency_key"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(row)
}
