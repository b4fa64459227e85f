//! Subscriptions and their items as the Backend API sees and changes them: the payer's subscription, the item
//! list, cancellation, trial extension, price transitions (Clerk's rules: free→paid at once and charged — unless
//! the payer has another live paid item, then at its period's end — paid→paid and paid→free at the period's end)
//! and discounts.

use tessera_store::Tx;
use tessera_store::billing::ledger::{self as store, ItemFilter, ItemRow, RedemptionRow, SubscriptionRow};
use tessera_store::billing::{self as catalog_store, DiscountRow, PriceRow};

use super::{
    Catalog, Payer, PayerType, calendar, catalog, catalog_tx, charges, emit_item, load_payer, payer_tx,
    refresh_subscription_tx,
};
use crate::events::EventType;
use crate::ids::new_id;
use crate::users::create::parse_rfc3339;
use crate::{Ctx, Error, ErrorCode, Result};

/// An item with the price it pays.
#[derive(Debug, Clone)]
pub struct PricedItem {
    /// The item.
    pub item: ItemRow,
    /// Its price (`None` only if the price row vanished).
    pub price: Option<PriceRow>,
}

/// A payer's subscription with its items.
#[derive(Debug, Clone)]
pub struct SubscriptionView {
    /// The catalogue the items refer to.
    pub catalog: Catalog,
    /// The payer.
    pub payer: Payer,
    /// The subscription.
    pub subscription: SubscriptionRow,
    /// Its items with their prices, oldest first.
    pub items: Vec<(ItemRow, Option<PriceRow>)>,
}

/// One item, for answers about it.
#[derive(Debug, Clone)]
pub struct ItemView {
    /// The catalogue.
    pub catalog: Catalog,
    /// The payer.
    pub payer: Payer,
    /// The item.
    pub item: ItemRow,
    /// Its price.
    pub price: PriceRow,
}

/// A page of items.
#[derive(Debug, Clone)]
pub struct ItemList {
    /// The catalogue.
    pub catalog: Catalog,
    /// Items with their prices and payers.
    pub entries: Vec<(PricedItem, Payer)>,
    /// Total without paging.
    pub total: i64,
}

/// What a price transition did.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The item the payer moves to (active now, or upcoming).
    pub item: ItemRow,
    /// Its price.
    pub price: PriceRow,
    /// The item moved from, after the change.
    pub previous: ItemRow,
    /// Its price.
    pub previous_price: PriceRow,
    /// Whether the change took effect at once.
    pub immediate: bool,
    /// When it takes effect.
    pub effective_at: i64,
    /// Cents charged at once.
    pub charged: Option<i64>,
}

/// The answer of a price transition.
#[derive(Debug, Clone)]
pub struct TransitionView {
    /// The catalogue.
    pub catalog: Catalog,
    /// The payer.
    pub payer: Payer,
    /// The transition.
    pub transition: Transition,
}

fn item_not_found() -> Error {
    Error::not_found("subscription item")
}

fn state(why: impl Into<String>) -> Error {
    Error::with(ErrorCode::BillingInvalidState, "invalid subscription item state", why, None)
}

async fn price_tx(tx: &mut Tx, instance_id: &str, id: &str) -> Result<PriceRow> {
    catalog_store::price_tx(tx, instance_id, id).await?.ok_or_else(|| Error::not_found("price"))
}

/// The subscription of a user or organization; 404 when it has none (billing not enabled for its type).
pub async fn get_subscription(ctx: &Ctx, instance_id: &str, t: PayerType, owner_id: &str) -> Result<SubscriptionView> {
    if !store::owner_exists(&ctx.db, instance_id, t == PayerType::Org, owner_id).await? {
        return Err(super::owner_not_found(t));
    }
    let payer =
        store::payer_of(&ctx.db, instance_id, owner_id).await?.ok_or_else(|| Error::not_found("subscription"))?;
    let subscription = store::subscription_of(&ctx.db, instance_id, &payer.id)
        .await?
        .ok_or_else(|| Error::not_found("subscription"))?;
    let mut items = Vec::new();
    for i in store::items_of(&ctx.db, instance_id, &payer.id).await? {
        let price = catalog_store::price(&ctx.db, instance_id, &i.price_id).await?;
        items.push((i, price));
    }
    Ok(SubscriptionView {
        catalog: catalog(ctx, instance_id).await?,
        payer: load_payer(ctx, payer).await?,
        subscription,
        items,
    })
}

/// A page of the instance's items, newest first.
pub async fn list_items(
    ctx: &Ctx,
    instance_id: &str,
    filter: &ItemFilter,
    limit: i64,
    offset: i64,
) -> Result<ItemList> {
    let (rows, total) = store::list_items(&ctx.db, instance_id, filter, limit, offset).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for item in rows {
        let price = catalog_store::price(&ctx.db, instance_id, &item.price_id).await?;
        let payer_row = store::payer(&ctx.db, instance_id, &item.payer_id).await?.ok_or_else(item_not_found)?;
        entries.push((PricedItem { item, price }, load_payer(ctx, payer_row).await?));
    }
    Ok(ItemList { catalog: catalog(ctx, instance_id).await?, entries, total })
}

/// The item, its payer (subscription locked) and the catalogue, read in the transaction.
async fn open_item(tx: &mut Tx, instance_id: &str, item_id: &str) -> Result<(ItemRow, Payer, Catalog)> {
    let item = store::item_tx(tx, instance_id, item_id).await?.ok_or_else(item_not_found)?;
    store::lock_subscription(tx, &item.payer_id).await?;
    let item = store::item_tx(tx, instance_id, item_id).await?.ok_or_else(item_not_found)?;
    let payer = store::payer_tx(tx, instance_id, &item.payer_id).await?.ok_or_else(item_not_found)?;
    Ok((item, payer_tx(tx, payer).await?, catalog_tx(tx, instance_id).await?))
}

fn is_default(catalog: &Catalog, item: &ItemRow) -> bool {
    catalog.plan(&item.plan_id).is_some_and(|p| p.is_default)
}

async fn save(
    ctx: &Ctx,
    tx: &mut Tx,
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

/// Abandons the payer's upcoming paid items (a newer change supersedes them) and, unless `keep_default`, an
/// upcoming default item too.
async fn abandon_upcoming(ctx: &Ctx, tx: &mut Tx, catalog: &Catalog, payer: &Payer, except: &str) -> Result<()> {
    for mut other in store::items_of_tx(tx, &payer.row.instance_id, &payer.row.id).await? {
        if other.status == "upcoming" && other.id != except {
            save(ctx, tx, catalog, payer, &mut other, "abandoned", EventType::SubscriptionItemAbandoned).await?;
        }
    }
    Ok(())
}

/// The payer's default-plan item (one per payer; it keeps its id across downgrades).
async fn default_item(tx: &mut Tx, catalog: &Catalog, payer: &Payer) -> Result<Option<ItemRow>> {
    Ok(store::items_of_tx(tx, &payer.row.instance_id, &payer.row.id)
        .await?
        .into_iter()
        .find(|i| is_default(catalog, i)))
}

/// Schedules the default plan to start at `at` (or starts it now when `at` is `None`).
async fn default_from(
    ctx: &Ctx,
    tx: &mut Tx,
    catalog: &Catalog,
    payer: &Payer,
    at: Option<i64>,
) -> Result<Option<ItemRow>> {
    let Some(mut d) = default_item(tx, catalog, payer).await? else { return Ok(None) };
    let now = ctx.now_ms();
    d.period_start = at.unwrap_or(now);
    d.period_end = None;
    d.ended_at = None;
    d.canceled_at = None;
    let (status, event) = if at.is_some() {
        ("upcoming", EventType::SubscriptionItemUpcoming)
    } else {
        ("active", EventType::SubscriptionItemActive)
    };
    save(ctx, tx, catalog, payer, &mut d, status, event).await?;
    Ok(Some(d))
}

/// Removes the active discount of an item that changes plan or price.
async fn drop_discount(ctx: &Ctx, tx: &mut Tx, item_id: &str) -> Result<()> {
    if let Some(mut r) = store::active_redemption_tx(tx, item_id).await? {
        r.status = "removed".into();
        r.updated_at = ctx.now_ms();
        store::update_redemption(tx, &r).await?;
    }
    Ok(())
}

/// `DELETE /billing/subscription_items/{id}`: cancels at the period's end (the default plan becomes upcoming), or
/// now (`end_now`: the item ends and the default plan is active at once).
pub async fn cancel(ctx: &Ctx, instance_id: &str, item_id: &str, end_now: bool) -> Result<ItemView> {
    let mut tx = ctx.db.begin().await?;
    let (mut item, payer, catalog) = open_item(&mut tx, instance_id, item_id).await?;
    if is_default(&catalog, &item) {
        return Err(state("The default plan's item cannot be canceled; move the payer to another plan instead."));
    }
    let now = ctx.now_ms();
    match (item.status.as_str(), end_now) {
        ("active" | "past_due" | "canceled", true) => {
            item.canceled_at = item.canceled_at.or(Some(now));
            item.ended_at = Some(now);
            item.period_end = Some(item.period_end.map_or(now, |e| e.min(now)));
            save(ctx, &mut tx, &catalog, &payer, &mut item, "ended", EventType::SubscriptionItemEnded).await?;
            abandon_upcoming(ctx, &mut tx, &catalog, &payer, "").await?;
            default_from(ctx, &mut tx, &catalog, &payer, None).await?;
        }
        ("active" | "past_due", false) => {
            item.canceled_at = Some(now);
            save(ctx, &mut tx, &catalog, &payer, &mut item, "canceled", EventType::SubscriptionItemCanceled).await?;
            abandon_upcoming(ctx, &mut tx, &catalog, &payer, "").await?;
            default_from(ctx, &mut tx, &catalog, &payer, Some(item.period_end.unwrap_or(now))).await?;
        }
        ("canceled", false) => {}
        ("upcoming", _) => {
            save(ctx, &mut tx, &catalog, &payer, &mut item, "abandoned", EventType::SubscriptionItemAbandoned).await?;
            let current = store::items_of_tx(&mut tx, instance_id, &payer.row.id)
                .await?
                .into_iter()
                .find(|i| i.status == "canceled" && !is_default(&catalog, i));
            if let Some(c) = current {
                default_from(ctx, &mut tx, &catalog, &payer, Some(c.period_end.unwrap_or(now))).await?;
            }
        }
        (status, _) => return Err(state(format!("A subscription item that is {status} cannot be canceled."))),
    }
    refresh_subscription_tx(ctx, &mut tx, &catalog, &payer).await?;
    let price = price_tx(&mut tx, instance_id, &item.price_id).await?;
    tx.commit().await?;
    Ok(ItemView { catalog, payer, item, price })
}

/// `POST …/extend_free_trial`: moves an active trial's end to `extend_to` (later than now and the current end, at
/// most 365 days ahead); the same end again changes nothing.
pub async fn extend_trial(ctx: &Ctx, instance_id: &str, item_id: &str, extend_to: &str) -> Result<ItemView> {
    let mut tx = ctx.db.begin().await?;
    let (mut item, payer, catalog) = open_item(&mut tx, instance_id, item_id).await?;
    let to = parse_rfc3339(extend_to).ok_or_else(|| {
        Error::param_format_invalid("extend_to", "extend_to must be an RFC 3339 date-time, e.g. 2026-01-02T03:04:05Z.")
    })?;
    let has_trials = catalog.plan(&item.plan_id).is_some_and(|p| p.free_trial_days.is_some());
    if item.status != "active" || !item.is_free_trial || !has_trials {
        return Err(state("Only an active free trial of a plan with free trials can be extended."));
    }
    let now = ctx.now_ms();
    if to <= now || to > now + calendar::days(365) {
        return Err(Error::param_value_invalid(
            "extend_to",
            "extend_to must be in the future and at most 365 days from now.",
        ));
    }
    let end = item.period_end.unwrap_or(now);
    if to < end {
        return Err(Error::param_value_invalid("extend_to", "extend_to must not be before the trial's current end."));
    }
    if to > end {
        item.period_end = Some(to);
        item.trial_warned = false;
        save(ctx, &mut tx, &catalog, &payer, &mut item, "active", EventType::SubscriptionItemUpdated).await?;
    }
    let price = price_tx(&mut tx, instance_id, &item.price_id).await?;
    tx.commit().await?;
    Ok(ItemView { catalog, payer, item, price })
}

fn period_for(price: &PriceRow) -> &'static str {
    if price.billing_periods == "annual" { "annual" } else { "month" }
}

fn months(period: &str) -> i64 {
    if period == "annual" { 12 } else { 1 }
}

/// `POST …/price_transition`: moves the item's payer from `from_price_id` (the item's price) to `to_price_id`.
pub async fn price_transition(
    ctx: &Ctx,
    instance_id: &str,
    item_id: &str,
    from_price_id: &str,
    to_price_id: &str,
) -> Result<TransitionView> {
    let mut tx = ctx.db.begin().await?;
    let (mut item, mut payer, catalog) = open_item(&mut tx, instance_id, item_id).await?;
    let to_price = price_tx(&mut tx, instance_id, to_price_id).await?;
    if item.price_id != from_price_id {
        return Err(Error::param_value_invalid(
            "from_price_id",
            "from_price_id must be the subscription item's current price.",
        ));
    }
    if to_price.id == item.price_id {
        return Err(Error::with(
            ErrorCode::Conflict,
            "already on this price",
            "The subscription item already has this price.",
            Some("to_price_id"),
        ));
    }
    let from_price = price_tx(&mut tx, instance_id, from_price_id).await?;
    let to_plan = catalog.plan(&to_price.plan_id).cloned().ok_or_else(|| Error::not_found("price"))?;
    if to_plan.payer_type != payer.payer_type().as_str() {
        return Err(Error::param_value_invalid("to_price_id", "The price's plan is for another payer type."));
    }
    let now = ctx.now_ms();
    let from_default = is_default(&catalog, &item);
    let transition = if from_default {
        if to_plan.is_default {
            return Err(Error::param_value_invalid("to_price_id", "The payer is already on the default plan."));
        }
        if item.status != "active" {
            // Clerk: free→paid while the payer has another live paid item schedules the new plan as upcoming at
            // that item's period end ("to avoid billing conflicts") — what moving from that item does.
            let paid = store::items_of_tx(&mut tx, instance_id, &payer.row.id)
                .await?
                .into_iter()
                .find(|i| !is_default(&catalog, i) && matches!(i.status.as_str(), "active" | "past_due" | "canceled"));
            let Some(paid) = paid else {
                return Err(state("The default plan's item is not active: the payer has no plan to move from."));
            };
            drop(tx);
            return Box::pin(price_transition(ctx, instance_id, &paid.id, &paid.price_id, to_price_id)).await;
        }
        // Free → paid: at once, charged (or a trial when the plan has one and the payer never had a trial).
        let trial_days = to_plan.free_trial_days.filter(|_| !payer.row.trial_used);
        let period = period_for(&to_price);
        let mut new = ItemRow {
            id: new_id("csubi"),
            instance_id: instance_id.to_owned(),
            subscription_id: item.subscription_id.clone(),
            payer_id: payer.row.id.clone(),
            plan_id: to_plan.id.clone(),
            price_id: to_price.id.clone(),
            plan_period: period.to_owned(),
            status: "active".into(),
            is_free_trial: trial_days.is_some(),
            trial_warned: false,
            period_start: now,
            period_end: Some(match trial_days {
                Some(d) => now + calendar::days(d),
                None => calendar::add_months(now, months(period)),
            }),
            canceled_at: None,
            past_due_at: None,
            ended_at: None,
            lifetime_paid: 0,
            created_at: now,
            updated_at: now,
        };
        store::insert_item(&mut tx, &new).await?;
        let mut charged = None;
        if trial_days.is_some() {
            payer.row.trial_used = true;
            payer.row.updated_at = now;
            store::update_payer(&mut tx, &payer.row).await?;
        } else {
            let attempt =
                charges::charge_tx(ctx, &mut tx, &catalog, &mut payer, &mut new, &to_price, "checkout").await?;
            if attempt.status != "paid" {
                return Err(Error::new(ErrorCode::BillingPaymentFailed));
            }
            charged = Some(attempt.amount);
            store::update_item(&mut tx, &new).await?;
        }
        emit_item(ctx, &mut tx, &catalog, &payer, &new, EventType::SubscriptionItemActive).await?;
        item.ended_at = Some(now);
        item.period_end = Some(now);
        save(ctx, &mut tx, &catalog, &payer, &mut item, "ended", EventType::SubscriptionItemEnded).await?;
        Transition {
            item: new,
            price: to_price,
            previous: item,
            previous_price: from_price,
            immediate: true,
            effective_at: now,
            charged,
        }
    } else {
        if !matches!(item.status.as_str(), "active" | "past_due" | "canceled") {
            return Err(state(format!("A subscription item that is {} cannot change price.", item.status)));
        }
        // Paid → anything: at the end of the period already paid for.
        let at = item.period_end.unwrap_or(now);
        drop_discount(ctx, &mut tx, &item.id).await?;
        if item.status != "canceled" {
            item.canceled_at = Some(now);
            save(ctx, &mut tx, &catalog, &payer, &mut item, "canceled", EventType::SubscriptionItemCanceled).await?;
        }
        let next = if to_plan.is_default {
            abandon_upcoming(ctx, &mut tx, &catalog, &payer, "").await?;
            default_from(ctx, &mut tx, &catalog, &payer, Some(at))
                .await?
                .ok_or_else(|| state("The payer has no default plan."))?
        } else {
            abandon_upcoming(ctx, &mut tx, &catalog, &payer, "").await?;
            let new = ItemRow {
                id: new_id("csubi"),
                instance_id: instance_id.to_owned(),
                subscription_id: item.subscription_id.clone(),
                payer_id: payer.row.id.clone(),
                plan_id: to_plan.id.clone(),
                price_id: to_price.id.clone(),
                plan_period: period_for(&to_price).to_owned(),
                status: "upcoming".into(),
                is_free_trial: false,
                trial_warned: false,
                period_start: at,
                period_end: None,
                canceled_at: None,
                past_due_at: None,
                ended_at: None,
                lifetime_paid: 0,
                created_at: now,
                updated_at: now,
            };
            store::insert_item(&mut tx, &new).await?;
            emit_item(ctx, &mut tx, &catalog, &payer, &new, EventType::SubscriptionItemUpcoming).await?;
            new
        };
        Transition {
            item: next,
            price: to_price,
            previous: item,
            previous_price: from_price,
            immediate: false,
            effective_at: at,
            charged: None,
        }
    };
    refresh_subscription_tx(ctx, &mut tx, &catalog, &payer).await?;
    tx.commit().await?;
    Ok(TransitionView { catalog, payer, transition })
}

/// `POST …/discounts`: applies a discount to a paid item, replacing its active one; the same one again is 409.
pub async fn apply_discount(
    ctx: &Ctx,
    instance_id: &str,
    item_id: &str,
    discount_id: &str,
) -> Result<(RedemptionRow, DiscountRow)> {
    let mut tx = ctx.db.begin().await?;
    let (item, payer, catalog) = open_item(&mut tx, instance_id, item_id).await?;
    let discount = catalog_store::discount_tx(&mut tx, instance_id, discount_id)
        .await?
        .ok_or_else(|| Error::not_found("discount"))?;
    if is_default(&catalog, &item) || !matches!(item.status.as_str(), "active" | "past_due" | "upcoming") {
        return Err(state("Discounts apply to active or upcoming items of paid plans."));
    }
    let now = ctx.now_ms();
    if let Some(mut current) = store::active_redemption_tx(&mut tx, &item.id).await? {
        if current.discount_id == discount.id {
            return Err(Error::with(
                ErrorCode::Conflict,
                "discount already applied",
                "This discount is already the item's active discount.",
                Some("discount_id"),
            ));
        }
        current.status = "removed".into();
        current.updated_at = now;
        store::update_redemption(&mut tx, &current).await?;
    }
    let r = RedemptionRow {
        id: new_id("cdr"),
        instance_id: instance_id.to_owned(),
        item_id: item.id.clone(),
        discount_id: discount.id.clone(),
        status: "active".into(),
        cycles_applied: 0,
        redeemed_at: now,
        updated_at: now,
    };
    store::insert_redemption(&mut tx, &r).await?;
    emit_item(ctx, &mut tx, &catalog, &payer, &item, EventType::SubscriptionItemUpdated).await?;
    tx.commit().await?;
    Ok((r, discount))
}

/// `DELETE …/discounts/{discount_id}`: removes the item's active discount, which must be this one.
pub async fn remove_discount(
    ctx: &Ctx,
    instance_id: &str,
    item_id: &str,
    discount_id: &str,
) -> Result<(RedemptionRow, DiscountRow)> {
    let mut tx = ctx.db.begin().await?;
    let (item, payer, catalog) = open_item(&mut tx, instance_id, item_id).await?;
    let mut r = store::active_redemption_tx(&mut tx, &item.id)
        .await?
        .filter(|r| r.discount_id == discount_id)
        .ok_or_else(|| Error::not_found("discount"))?;
    let discount = catalog_store::discount_tx(&mut tx, instance_id, discount_id)
        .await?
        .ok_or_else(|| Error::not_found("discount"))?;
    r.status = "removed".into();
    r.updated_at = ctx.now_ms();
    store::update_redemption(&mut tx, &r).await?;
    emit_item(ctx, &mut tx, &catalog, &payer, &item, EventType::SubscriptionItemUpdated).await?;
    tx.commit().await?;
    Ok((r, discount))
}
