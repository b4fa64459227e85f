//! Charging an item for one billing period: discount, then the payer's credits, then the local payment method
//! (paid, or failed when the instance's payments are set to fail). Each charge is a payment attempt on the
//! payer's statement of the month.

use tessera_store::Tx;
use tessera_store::billing::ledger::{self as store, AttemptRow, ItemRow, LedgerRow, StatementRow};
use tessera_store::billing::{self as catalog_store, PriceRow};

use super::objects::{AttemptEvent, period_fee};
use super::{Catalog, Payer, calendar, config_tx};
use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::{Ctx, Error, Result};

/// Charges `item` (at `price`, for its `plan_period`) and records the attempt; updates the payer's balance, the
/// item's `lifetime_paid` and the discount's cycles in `payer`/`item` (the caller writes the item). Emits
/// `paymentAttempt.created` (pending) and `paymentAttempt.updated` (settled).
pub(crate) async fn charge_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    catalog: &Catalog,
    payer: &mut Payer,
    item: &mut ItemRow,
    price: &PriceRow,
    charge_type: &str,
) -> Result<AttemptRow> {
    let now = ctx.now_ms();
    let succeed = config_tx(tx, &item.instance_id).await?.payments_succeed;
    let subtotal = period_fee(price, &item.plan_period);
    let mut redemption = store::active_redemption_tx(tx, &item.id).await?;
    let mut discount = 0;
    if let Some(r) = &redemption
        && let Some(d) = catalog_store::discount_tx(tx, &item.instance_id, &r.discount_id).await?
    {
        discount = match (d.percent_off, d.amount_off) {
            (Some(p), _) => subtotal * p / 100,
            (None, Some(a)) => a.min(subtotal),
            _ => 0,
        };
        if let Some(r) = redemption.as_mut() {
            r.cycles_applied += 1;
            r.updated_at = now;
            if d.cycles.is_some_and(|c| r.cycles_applied >= c) {
                r.status = "exhausted".into();
            }
        }
    }
    let net = subtotal - discount;
    let balance = payer.row.credit_balance.unwrap_or(0).max(0);
    let credits = balance.min(net);
    let rest = net - credits;
    let paid = rest == 0 || succeed;
    let (credits, amount) = if paid { (credits, rest) } else { (0, net) };
    let statement = statement_tx(ctx, tx, &payer.row.instance_id, &payer.row.id, now).await?;
    let mut attempt = AttemptRow {
        id: new_id("cpay"),
        instance_id: item.instance_id.clone(),
        payer_id: payer.row.id.clone(),
        statement_id: statement.id,
        item_id: Some(item.id.clone()),
        charge_type: charge_type.to_owned(),
        payment_type: if amount == 0 && credits > 0 { "payer-credits" } else { "card" }.to_owned(),
        subtotal,
        discount,
        credits,
        amount,
        status: if paid { "paid" } else { "failed" }.to_owned(),
        paid_at: paid.then_some(now),
        failed_at: (!paid).then_some(now),
        created_at: now,
        updated_at: now,
    };
    store::insert_attempt(tx, &attempt).await?;
    if paid {
        if credits > 0 {
            payer.row.credit_balance = Some(balance - credits);
            payer.row.updated_at = now;
            store::update_payer(tx, &payer.row).await?;
            let entry = LedgerRow {
                id: new_id("ccl"),
                instance_id: item.instance_id.clone(),
                payer_id: payer.row.id.clone(),
                amount: -credits,
                source_type: "payment_attempt".into(),
                source_id: attempt.id.clone(),
                note: None,
                idempotency_key: None,
                request_digest: None,
                created_at: now,
            };
            store::insert_ledger(tx, &entry).await?;
        }
        item.lifetime_paid += net;
        if let Some(r) = &redemption {
            store::update_redemption(tx, r).await?;
        }
    }
    let settled = attempt.clone();
    attempt.status = "pending".into();
    attempt.paid_at = None;
    attempt.failed_at = None;
    emit_attempt(ctx, tx, catalog, payer, item, &attempt, EventType::PaymentAttemptCreated).await?;
    emit_attempt(ctx, tx, catalog, payer, item, &settled, EventType::PaymentAttemptUpdated).await?;
    Ok(settled)
}

async fn emit_attempt(
    ctx: &Ctx,
    tx: &mut Tx,
    catalog: &Catalog,
    payer: &Payer,
    item: &ItemRow,
    attempt: &AttemptRow,
    t: EventType,
) -> Result<()> {
    let data = serde_json::to_value(AttemptEvent::new(attempt, item, catalog, payer)).map_err(Error::internal)?;
    events::emit(ctx, tx, &item.instance_id, t, &data).await
}

/// The payer's statement for the month holding `now`, opened when missing.
async fn statement_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, payer_id: &str, now: i64) -> Result<StatementRow> {
    let start = calendar::month_start(now);
    if let Some(s) = store::statement_for_month_tx(tx, payer_id, start).await? {
        return Ok(s);
    }
    let row = StatementRow {
        id: new_id("cstmt"),
        instance_id: instance_id.to_owned(),
        payer_id: payer_id.to_owned(),
        timestamp: start,
        period_end: calendar::add_months(start, 1),
        status: "open".into(),
        created_at: ctx.now_ms(),
        updated_at: ctx.now_ms(),
    };
    store::insert_statement(tx, &row).await?;
    Ok(row)
}
