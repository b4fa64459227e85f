//! The billing clock: what happens as time passes. Paid items renew at their period's end (charged: credits
//! first, then the local payment method; a failed charge makes the item `past_due`, and an item still past due at
//! the end of that period ends, the payer falling back to the default plan); trials convert to paid periods;
//! canceled items end and upcoming ones start; `subscriptionItem.freeTrialEnding` goes out three days ahead;
//! statements close when their month is over. Time is the context's clock, so tests move it.
//!
//! [`run_due`] does everything due now. Servers call it from one node at a time: the holder of a lease
//! ([`take_lease`]), so that several nodes on one PostgreSQL database never charge twice; and only when
//! [`anything_due`] says so, so that an idle server does not write (and fsync) every tick.

use tessera_store::billing::ledger::{self as store, ItemRow};

use super::{Catalog, Payer, calendar, catalog_tx, charges, emit_item, payer_tx, refresh_subscription_tx};
use crate::events::EventType;
use crate::{Ctx, Result};

/// How long before a trial's end `subscriptionItem.freeTrialEnding` is sent.
pub const TRIAL_ENDING_NOTICE_MS: i64 = calendar::days(3);

/// Items handled per read.
const BATCH: i64 = 100;

/// Takes or renews the clock's lease for `owner` for `lease_ms`; whether this node may run the clock now.
pub async fn take_lease(ctx: &Ctx, owner: &str, lease_ms: i64) -> Result<bool> {
    let now = ctx.now_ms();
    Ok(store::take_lease(&ctx.db, "billing_clock", owner, now, now + lease_ms).await?)
}

/// Whether anything is due at the clock's now (a read: an idle server's clock writes nothing).
pub async fn anything_due(ctx: &Ctx) -> Result<bool> {
    let now = ctx.now_ms();
    Ok(store::anything_due(&ctx.db, now, now + TRIAL_ENDING_NOTICE_MS).await?)
}

/// Does everything due at the clock's now, across instances; returns how many items changed.
pub async fn run_due(ctx: &Ctx) -> Result<usize> {
    run_due_in(ctx, None).await
}

/// [`run_due`] for one instance (`Some`), or across instances (`None`). One instance is what an operator moves
/// when running the clock at a later time than now (`tessera billing tick --at`), so that no other instance's
/// payers are charged ahead of time.
pub async fn run_due_in(ctx: &Ctx, instance_id: Option<&str>) -> Result<usize> {
    let now = ctx.now_ms();
    let mut changed = 0;
    // Announce trials first: a trial that ends now is announced before it converts.
    loop {
        let mut tx = ctx.db.begin().await?;
        let ending = store::trials_ending_tx(&mut tx, instance_id, now + TRIAL_ENDING_NOTICE_MS, BATCH).await?;
        tx.commit().await?;
        if ending.is_empty() {
            break;
        }
        for item in ending {
            announce_trial_end(ctx, &item).await?;
            changed += 1;
        }
    }
    // Each pass moves every due item by one step (one period, one end, one start); repeat until nothing is due,
    // so that a clock moved by several periods catches up period by period.
    for _ in 0..10_000 {
        let mut tx = ctx.db.begin().await?;
        let due = store::due_items_tx(&mut tx, instance_id, now, now, BATCH).await?;
        tx.commit().await?;
        if due.is_empty() {
            break;
        }
        // Endings before starts: an upcoming item starts when the item before it has ended.
        let (starts, ends): (Vec<ItemRow>, Vec<ItemRow>) = due.into_iter().partition(|i| i.status == "upcoming");
        for item in ends.iter().chain(starts.iter()) {
            if step(ctx, item, now).await? {
                changed += 1;
            }
        }
    }
    let mut tx = ctx.db.begin().await?;
    store::close_statements_tx(&mut tx, instance_id, now).await?;
    tx.commit().await?;
    Ok(changed)
}

async fn announce_trial_end(ctx: &Ctx, item: &ItemRow) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    store::lock_subscription(&mut tx, &item.payer_id).await?;
    let Some(mut item) = store::item_tx(&mut tx, &item.instance_id, &item.id).await? else { return Ok(()) };
    if item.trial_warned || !item.is_free_trial {
        return Ok(());
    }
    let Some(payer) = store::payer_tx(&mut tx, &item.instance_id, &item.payer_id).await? else { return Ok(()) };
    let payer = payer_tx(&mut tx, payer).await?;
    let catalog = catalog_tx(&mut tx, &item.instance_id).await?;
    item.trial_warned = true;
    store::update_item(&mut tx, &item).await?;
    emit_item(ctx, &mut tx, &catalog, &payer, &item, EventType::SubscriptionItemFreeTrialEnding).await?;
    tx.commit().await?;
    Ok(())
}

fn months(period: &str) -> i64 {
    if period == "annual" { 12 } else { 1 }
}

/// Moves one due item by one step in its own transaction; whether it changed.
async fn step(ctx: &Ctx, due: &ItemRow, now: i64) -> Result<bool> {
    let mut tx = ctx.db.begin().await?;
    store::lock_subscription(&mut tx, &due.payer_id).await?;
    let Some(mut item) = store::item_tx(&mut tx, &due.instance_id, &due.id).await? else { return Ok(false) };
    let Some(payer) = store::payer_tx(&mut tx, &item.instance_id, &item.payer_id).await? else { return Ok(false) };
    let mut payer = payer_tx(&mut tx, payer).await?;
    let catalog = catalog_tx(&mut tx, &item.instance_id).await?;
    let is_default = catalog.plan(&item.plan_id).is_some_and(|p| p.is_default);
    let ended = item.period_end.is_some_and(|e| e <= now);
    match item.status.as_str() {
        "active" if ended && !is_default => renew(ctx, &mut tx, &catalog, &mut payer, &mut item).await?,
        "canceled" if ended => {
            item.ended_at = item.period_end;
            set(ctx, &mut tx, &catalog, &payer, &mut item, "ended", EventType::SubscriptionItemEnded).await?;
        }
        "past_due" if ended => {
            // Unpaid for a whole period: the item ends and the payer is back on the default plan.
            item.ended_at = item.period_end;
            let at = item.period_end;
            set(ctx, &mut tx, &catalog, &payer, &mut item, "ended", EventType::SubscriptionItemEnded).await?;
            start_default(ctx, &mut tx, &catalog, &payer, at).await?;
        }
        "upcoming" if item.period_start <= now => {
            if is_default {
                set(ctx, &mut tx, &catalog, &payer, &mut item, "active", EventType::SubscriptionItemActive).await?;
            } else {
                item.period_end = Some(calendar::add_months(item.period_start, months(&item.plan_period)));
                charge(ctx, &mut tx, &catalog, &mut payer, &mut item, EventType::SubscriptionItemActive).await?;
            }
        }
        _ => return Ok(false),
    }
    refresh_subscription_tx(ctx, &mut tx, &catalog, &payer).await?;
    tx.commit().await?;
    Ok(true)
}

/// Starts the payer's default item at `at` (after a paid item ended unpaid).
async fn start_default(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    catalog: &Catalog,
    payer: &Payer,
    at: Option<i64>,
) -> Result<()> {
    for mut d in store::items_of_tx(tx, &payer.row.instance_id, &payer.row.id).await? {
        if catalog.plan(&d.plan_id).is_some_and(|p| p.is_default) && d.status != "active" {
            d.period_start = at.unwrap_or(d.period_start);
            d.period_end = None;
            d.ended_at = None;
            d.canceled_at = None;
            set(ctx, tx, catalog, payer, &mut d, "active", EventType::SubscriptionItemActive).await?;
        }
    }
    Ok(())
}

/// A paid period (or trial) is over: the next period starts and is charged.
async fn renew(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    catalog: &Catalog,
    payer: &mut Payer,
    item: &mut ItemRow,
) -> Result<()> {
    let start = item.period_end.unwrap_or(item.period_start);
    item.period_start = start;
    item.period_end = Some(calendar::add_months(start, months(&item.plan_period)));
    item.is_free_trial = false;
    charge(ctx, tx, catalog, payer, item, EventType::SubscriptionItemUpdated).await
}

/// Charges the item's current period: `ok_event` when paid, `past_due` (and `subscriptionItem.pastDue`) when not.
async fn charge(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    catalog: &Catalog,
    payer: &mut Payer,
    item: &mut ItemRow,
    ok_event: EventType,
) -> Result<()> {
    let price = tessera_store::billing::price_tx(tx, &item.instance_id, &item.price_id).await?;
    let Some(price) = price else { return Ok(()) };
    let attempt = charges::charge_tx(ctx, tx, catalog, payer, item, &price, "recurring").await?;
    if attempt.status == "paid" {
        item.past_due_at = None;
        set(ctx, tx, catalog, payer, item, "active", ok_event).await
    } else {
        item.past_due_at = Some(ctx.now_ms());
        set(ctx, tx, catalog, payer, item, "past_due", EventType::SubscriptionItemPastDue).await
    }
}

async fn set(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    catalog: &Catalog,
    payer: &Payer,
    item: &mut ItemRow,
    status: &str,
    event: EventType,
) -> Result<()> {
    item.status = status.to_owned();
    item.updated_at = ctx.now_ms();
    store::update_item(tx, item).await?;
    emit_item(ctx, tx, catalog, payer, item, event).await
}
