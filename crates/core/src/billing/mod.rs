//! Billing without a payment processor (issue 14): a local ledger of plans, subscriptions, credits, statements and
//! payment attempts. The catalogue is managed by the `tessera billing` commands ([`catalog`]); payers get the
//! default free plan when billing is enabled for their type; the Backend API moves items between plans
//! ([`items`]), adjusts credits ([`credits`]) and reads statements ([`statements`]); the billing clock
//! ([`clock`]) renews, charges, ends and converts items as time passes. Amounts are cents, USD only.

use std::collections::HashMap;

use tessera_store::Tx;
use tessera_store::billing::ledger::{self as store, ItemRow, PayerDetailsRow, PayerRow, SubscriptionRow};
use tessera_store::billing::{self as catalog_store, FeatureRow, PlanRow, PriceRow};

use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::{Ctx, Error, Result};

pub mod calendar;
pub mod catalog;
pub mod charges;
pub mod claims;
pub mod clock;
pub mod credits;
pub mod event_objects;
pub mod items;
pub mod objects;
pub mod statement_objects;
pub mod statements;

/// The only currency.
pub const CURRENCY: &str = "USD";

/// Who pays: a user or an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayerType {
    /// A user.
    User,
    /// An organization.
    Org,
}

impl PayerType {
    /// `user` | `org`, as plans and filters name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Org => "org",
        }
    }

    /// Parses `user` | `org`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "org" => Some(Self::Org),
            _ => None,
        }
    }

    /// The scope letter of the `pla` and `fea` claims.
    pub fn claim_scope(self) -> &'static str {
        match self {
            Self::User => "u",
            Self::Org => "o",
        }
    }

    /// The default plan's slug Clerk gives it.
    pub fn default_plan_slug(self) -> &'static str {
        match self {
            Self::User => "free_user",
            Self::Org => "free_org",
        }
    }
}

/// The instance's billing switches (defaults: disabled, payments succeed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Billing for users.
    pub user_enabled: bool,
    /// Billing for organizations.
    pub org_enabled: bool,
    /// The local payment method pays what credits do not cover (else those charges fail).
    pub payments_succeed: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self { user_enabled: false, org_enabled: false, payments_succeed: true }
    }
}

impl Config {
    /// Whether billing is enabled for this payer type.
    pub fn enabled(&self, t: PayerType) -> bool {
        match t {
            PayerType::User => self.user_enabled,
            PayerType::Org => self.org_enabled,
        }
    }

    fn from_row(r: Option<catalog_store::ConfigRow>) -> Self {
        r.map_or_else(Self::default, |r| Self {
            user_enabled: r.user_enabled,
            org_enabled: r.org_enabled,
            payments_succeed: r.payments_succeed,
        })
    }
}

/// The instance's billing switches.
pub async fn config(ctx: &Ctx, instance_id: &str) -> Result<Config> {
    // Asked by every session token minted: from the cache of configuration (see `crate::cache`).
    let key = crate::cache::ConfigKey::new(instance_id, "billing_config", crate::instances::Environment::Development);
    crate::cache::configuration(ctx, key, async || {
        Ok(Config::from_row(catalog_store::config(&ctx.db, instance_id).await?))
    })
    .await
}

pub(crate) async fn config_tx(tx: &mut Tx, instance_id: &str) -> Result<Config> {
    Ok(Config::from_row(catalog_store::config_tx(tx, instance_id).await?))
}

/// The catalogue of an instance: plans, their default prices and features.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Newest first.
    pub plans: Vec<PlanRow>,
    /// Plan id → its default price.
    pub prices: HashMap<String, PriceRow>,
    /// Plan id → its features, in order.
    pub features: HashMap<String, Vec<FeatureRow>>,
}

impl Catalog {
    fn build(plans: Vec<PlanRow>, prices: Vec<PriceRow>, features: Vec<catalog_store::PlanFeatureRow>) -> Self {
        let mut by_plan: HashMap<String, Vec<FeatureRow>> = HashMap::new();
        for f in features {
            by_plan.entry(f.plan_id).or_default().push(f.feature);
        }
        Self { plans, prices: prices.into_iter().map(|p| (p.plan_id.clone(), p)).collect(), features: by_plan }
    }

    /// A plan by id.
    pub fn plan(&self, id: &str) -> Option<&PlanRow> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// The default plan of a payer type.
    pub fn default_plan(&self, t: PayerType) -> Option<&PlanRow> {
        self.plans.iter().find(|p| p.is_default && p.payer_type == t.as_str())
    }

    /// A plan's default price.
    pub fn price_of(&self, plan_id: &str) -> Option<&PriceRow> {
        self.prices.get(plan_id)
    }

    /// A plan's features.
    pub fn features_of(&self, plan_id: &str) -> &[FeatureRow] {
        self.features.get(plan_id).map_or(&[], Vec::as_slice)
    }
}

/// Reads the instance's catalogue.
pub async fn catalog(ctx: &Ctx, instance_id: &str) -> Result<Catalog> {
    Ok(Catalog::build(
        catalog_store::plans(&ctx.db, instance_id).await?,
        catalog_store::default_prices(&ctx.db, instance_id).await?,
        catalog_store::plan_features(&ctx.db, instance_id).await?,
    ))
}

pub(crate) async fn catalog_tx(tx: &mut Tx, instance_id: &str) -> Result<Catalog> {
    Ok(Catalog::build(
        catalog_store::plans_tx(tx, instance_id).await?,
        catalog_store::default_prices_tx(tx, instance_id).await?,
        catalog_store::plan_features_tx(tx, instance_id).await?,
    ))
}

/// A payer with who it is.
#[derive(Debug, Clone)]
pub struct Payer {
    /// The row.
    pub row: PayerRow,
    /// The user's or organization's names.
    pub details: PayerDetailsRow,
}

impl Payer {
    /// The payer's type.
    pub fn payer_type(&self) -> PayerType {
        if self.row.organization_id.is_some() { PayerType::Org } else { PayerType::User }
    }
}

pub(crate) async fn payer_tx(tx: &mut Tx, row: PayerRow) -> Result<Payer> {
    let details = store::payer_details_tx(tx, &row).await?;
    Ok(Payer { row, details })
}

pub(crate) async fn load_payer(ctx: &Ctx, row: PayerRow) -> Result<Payer> {
    let details = store::payer_details(&ctx.db, &row).await?;
    Ok(Payer { row, details })
}

/// The payer of a user or organization, created when missing; 404 when the instance has no such user/org.
pub(crate) async fn ensure_payer_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    t: PayerType,
    owner_id: &str,
) -> Result<PayerRow> {
    if let Some(p) = store::payer_of_tx(tx, instance_id, owner_id).await? {
        return Ok(p);
    }
    if !store::owner_exists_tx(tx, instance_id, t == PayerType::Org, owner_id).await? {
        return Err(owner_not_found(t));
    }
    let now = ctx.now_ms();
    let row = PayerRow {
        id: new_id("cpayer"),
        instance_id: instance_id.to_owned(),
        user_id: (t == PayerType::User).then(|| owner_id.to_owned()),
        organization_id: (t == PayerType::Org).then(|| owner_id.to_owned()),
        credit_balance: None,
        trial_used: false,
        created_at: now,
        updated_at: now,
    };
    store::insert_payer(tx, &row).await?;
    Ok(row)
}

/// The 404 of an unknown user or organization.
pub fn owner_not_found(t: PayerType) -> Error {
    Error::not_found(match t {
        PayerType::User => "user",
        PayerType::Org => "organization",
    })
}

/// Gives a payer a subscription with the default plan's item, when billing is enabled for its type and it has no
/// subscription yet. Called when users and organizations are created and when billing is enabled.
pub(crate) async fn provision_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    t: PayerType,
    owner_id: &str,
) -> Result<()> {
    if !config_tx(tx, instance_id).await?.enabled(t) {
        return Ok(());
    }
    let catalog = catalog_tx(tx, instance_id).await?;
    let payer = ensure_payer_tx(ctx, tx, instance_id, t, owner_id).await?;
    subscribe_default_tx(ctx, tx, &catalog, payer).await
}

/// Creates the payer's subscription and its default-plan item, unless it has a subscription.
pub(crate) async fn subscribe_default_tx(ctx: &Ctx, tx: &mut Tx, catalog: &Catalog, payer: PayerRow) -> Result<()> {
    if store::subscription_of_tx(tx, &payer.instance_id, &payer.id).await?.is_some() {
        return Ok(());
    }
    let t = if payer.organization_id.is_some() { PayerType::Org } else { PayerType::User };
    let plan = catalog.default_plan(t).ok_or_else(|| Error::internal(anyhow::anyhow!("no default plan")))?;
    let price = catalog.price_of(&plan.id).ok_or_else(|| Error::internal(anyhow::anyhow!("plan without price")))?;
    let now = ctx.now_ms();
    let sub = SubscriptionRow {
        id: new_id("csub"),
        instance_id: payer.instance_id.clone(),
        payer_id: payer.id.clone(),
        status: "active".into(),
        active_at: Some(now),
        past_due_at: None,
        created_at: now,
        updated_at: now,
    };
    store::insert_subscription(tx, &sub).await?;
    let item = ItemRow {
        id: new_id("csubi"),
        instance_id: payer.instance_id.clone(),
        subscription_id: sub.id.clone(),
        payer_id: payer.id.clone(),
        plan_id: plan.id.clone(),
        price_id: price.id.clone(),
        plan_period: "month".into(),
        status: "active".into(),
        is_free_trial: false,
        trial_warned: false,
        period_start: now,
        period_end: None,
        canceled_at: None,
        past_due_at: None,
        ended_at: None,
        lifetime_paid: 0,
        created_at: now,
        updated_at: now,
    };
    store::insert_item(tx, &item).await?;
    let payer = payer_tx(tx, payer).await?;
    emit_subscription(ctx, tx, catalog, &payer, EventType::SubscriptionCreated).await?;
    emit_subscription(ctx, tx, catalog, &payer, EventType::SubscriptionActive).await?;
    emit_item(ctx, tx, catalog, &payer, &item, EventType::SubscriptionItemActive).await
}

/// Emits a `subscription.*` event with the payer's subscription as it is now in the transaction.
pub(crate) async fn emit_subscription(
    ctx: &Ctx,
    tx: &mut Tx,
    catalog: &Catalog,
    payer: &Payer,
    t: EventType,
) -> Result<()> {
    let Some(sub) = store::subscription_of_tx(tx, &payer.row.instance_id, &payer.row.id).await? else { return Ok(()) };
    let items = store::items_of_tx(tx, &payer.row.instance_id, &payer.row.id).await?;
    let data = objects::SubscriptionEvent::new(&sub, &items, catalog, payer);
    events::emit(ctx, tx, &payer.row.instance_id, t, &serde_json::to_value(&data).map_err(Error::internal)?).await
}

/// Emits a `subscriptionItem.*` event.
pub(crate) async fn emit_item(
    ctx: &Ctx,
    tx: &mut Tx,
    catalog: &Catalog,
    payer: &Payer,
    item: &ItemRow,
    t: EventType,
) -> Result<()> {
    let data = objects::ItemEvent::new(item, catalog, payer);
    events::emit(ctx, tx, &payer.row.instance_id, t, &serde_json::to_value(&data).map_err(Error::internal)?).await
}

/// Recomputes the subscription's status from its items (`past_due` while an item is), emitting
/// `subscription.pastDue` / `subscription.active` / `subscription.updated` as it changes.
pub(crate) async fn refresh_subscription_tx(ctx: &Ctx, tx: &mut Tx, catalog: &Catalog, payer: &Payer) -> Result<()> {
    let Some(mut sub) = store::subscription_of_tx(tx, &payer.row.instance_id, &payer.row.id).await? else {
        return Ok(());
    };
    let items = store::items_of_tx(tx, &payer.row.instance_id, &payer.row.id).await?;
    let now = ctx.now_ms();
    let status = if items.iter().any(|i| i.status == "past_due") { "past_due" } else { "active" };
    let event = if status == sub.status {
        EventType::SubscriptionUpdated
    } else if status == "past_due" {
        sub.past_due_at = Some(now);
        EventType::SubscriptionPastDue
    } else {
        sub.past_due_at = None;
        sub.active_at = Some(now);
        EventType::SubscriptionActive
    };
    sub.status = status.to_owned();
    sub.updated_at = now;
    store::update_subscription(tx, &sub).await?;
    emit_subscription(ctx, tx, catalog, payer, event).await
}
