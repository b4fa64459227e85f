//! Clerk's billing objects, typed: what the Backend API answers (`Commerce…`, `Billing…` schemas). The webhook
//! payloads are in [`super::event_objects`].

use serde::Serialize;
use tessera_store::billing::ledger::{ItemRow, LedgerRow, RedemptionRow, SubscriptionRow};
use tessera_store::billing::{DiscountRow, FeatureRow, PlanRow, PriceRow};

use super::{CURRENCY, Catalog, Payer, PayerType, calendar};

pub use super::event_objects::{AttemptEvent, ItemEvent, SubscriptionEvent};
pub use super::statement_objects::{
    AttemptObject, AttemptTotals, PayeeObject, StatementGroup, StatementObject, StatementTotals,
};

/// `CommerceMoneyResponse`: cents with their formatting (`"10.00"`; the symbol is separate).
#[derive(Debug, Clone, Serialize)]
pub struct Money {
    amount: i64,
    amount_formatted: String,
    currency: &'static str,
    currency_symbol: &'static str,
}

/// Money in USD cents.
pub fn money(cents: i64) -> Money {
    Money { amount: cents, amount_formatted: format_cents(cents), currency: CURRENCY, currency_symbol: "$" }
}

/// `1234` → `"12.34"`, `-5` → `"-0.05"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `FeatureResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    slug: &'a str,
    avatar_url: Option<&'a str>,
}

impl<'a> FeatureObject<'a> {
    /// From a feature.
    pub fn new(f: &'a FeatureRow) -> Self {
        Self {
            object: "feature",
            id: &f.id,
            name: &f.name,
            description: f.description.as_deref(),
            slug: &f.slug,
            avatar_url: None,
        }
    }
}

/// `FeatureResponse-2` (no nulls).
#[derive(Debug, Clone, Serialize)]
pub struct FeatureObject2<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    description: &'a str,
    slug: &'a str,
    avatar_url: &'a str,
}

/// The fee of a billing period: the annual fee is twelve monthly equivalents.
pub fn period_fee(price: &PriceRow, period: &str) -> i64 {
    if period == "annual" { price.annual_monthly_amount * 12 } else { price.amount }
}

/// `CommercePlan`.
#[derive(Debug, Clone, Serialize)]
pub struct PlanObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    fee: Option<Money>,
    annual_monthly_fee: Option<Money>,
    annual_fee: Option<Money>,
    description: Option<&'a str>,
    product_id: &'a str,
    is_default: bool,
    is_recurring: bool,
    publicly_visible: bool,
    has_base_fee: bool,
    for_payer_type: &'a str,
    slug: &'a str,
    avatar_url: Option<&'a str>,
    features: Vec<FeatureObject<'a>>,
    free_trial_enabled: bool,
    free_trial_days: Option<i64>,
}

impl<'a> PlanObject<'a> {
    /// A plan with its default price and features.
    pub fn new(p: &'a PlanRow, catalog: &'a Catalog) -> Self {
        let price = catalog.price_of(&p.id);
        Self {
            object: "commerce_plan",
            id: &p.id,
            name: &p.name,
            fee: price.map(|x| money(x.amount)),
            annual_monthly_fee: price.map(|x| money(x.annual_monthly_amount)),
            annual_fee: price.map(|x| money(x.annual_monthly_amount * 12)),
            description: p.description.as_deref(),
            product_id: &p.product_id,
            is_default: p.is_default,
            is_recurring: true,
            publicly_visible: p.publicly_visible,
            has_base_fee: price.is_some_and(|x| x.amount > 0),
            for_payer_type: &p.payer_type,
            slug: &p.slug,
            avatar_url: p.avatar_url.as_deref(),
            features: catalog.features_of(&p.id).iter().map(FeatureObject::new).collect(),
            free_trial_enabled: p.free_trial_days.is_some(),
            free_trial_days: p.free_trial_days,
        }
    }
}

/// `CommercePlan-2` (inside price transitions and trial extensions).
#[derive(Debug, Clone, Serialize)]
pub struct PlanObject2<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    fee: Money,
    annual_monthly_fee: Money,
    annual_fee: Money,
    amount: i64,
    amount_formatted: String,
    annual_monthly_amount: i64,
    annual_monthly_amount_formatted: String,
    annual_amount: i64,
    annual_amount_formatted: String,
    currency_symbol: &'static str,
    currency: &'static str,
    description: &'a str,
    product_id: &'a str,
    is_default: bool,
    is_recurring: bool,
    publicly_visible: bool,
    has_base_fee: bool,
    payer_type: Vec<&'a str>,
    for_payer_type: &'a str,
    slug: &'a str,
    avatar_url: &'a str,
    period: &'static str,
    interval: i64,
    features: Vec<FeatureObject2<'a>>,
    free_trial_enabled: bool,
    free_trial_days: Option<i64>,
}

impl<'a> PlanObject2<'a> {
    /// A plan shown with the price an item pays.
    pub fn new(p: &'a PlanRow, price: &PriceRow, catalog: &'a Catalog) -> Self {
        let annual = price.annual_monthly_amount * 12;
        Self {
            object: "commerce_plan",
            id: &p.id,
            name: &p.name,
            fee: money(price.amount),
            annual_monthly_fee: money(price.annual_monthly_amount),
            annual_fee: money(annual),
            amount: price.amount,
            amount_formatted: format_cents(price.amount),
            annual_monthly_amount: price.annual_monthly_amount,
            annual_monthly_amount_formatted: format_cents(price.annual_monthly_amount),
            annual_amount: annual,
            annual_amount_formatted: format_cents(annual),
            currency_symbol: "$",
            currency: CURRENCY,
            description: p.description.as_deref().unwrap_or(""),
            product_id: &p.product_id,
            is_default: p.is_default,
            is_recurring: true,
            publicly_visible: p.publicly_visible,
            has_base_fee: price.amount > 0,
            payer_type: vec![&p.payer_type],
            for_payer_type: &p.payer_type,
            slug: &p.slug,
            avatar_url: p.avatar_url.as_deref().unwrap_or(""),
            period: "month",
            interval: 1,
            features: catalog
                .features_of(&p.id)
                .iter()
                .map(|f| FeatureObject2 {
                    object: "feature",
                    id: &f.id,
                    name: &f.name,
                    description: f.description.as_deref().unwrap_or(""),
                    slug: &f.slug,
                    avatar_url: "",
                })
                .collect(),
            free_trial_enabled: p.free_trial_days.is_some(),
            free_trial_days: p.free_trial_days,
        }
    }
}

/// `BillingPriceResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct PriceObject<'a> {
    object: &'static str,
    id: &'a str,
    plan_id: &'a str,
    instance_id: &'a str,
    currency: &'static str,
    currency_symbol: &'static str,
    amount: i64,
    annual_monthly_amount: i64,
    fee: Money,
    annual_monthly_fee: Money,
    description: Option<&'a str>,
    is_default: bool,
    created_at: i64,
    supported_billing_periods: &'a str,
}

impl<'a> PriceObject<'a> {
    /// From a price.
    pub fn new(p: &'a PriceRow) -> Self {
        Self {
            object: "commerce_price",
            id: &p.id,
            plan_id: &p.plan_id,
            instance_id: &p.instance_id,
            currency: CURRENCY,
            currency_symbol: "$",
            amount: p.amount,
            annual_monthly_amount: p.annual_monthly_amount,
            fee: money(p.amount),
            annual_monthly_fee: money(p.annual_monthly_amount),
            description: p.description.as_deref(),
            is_default: p.is_default,
            created_at: p.created_at,
            supported_billing_periods: &p.billing_periods,
        }
    }
}

/// `CommercePayerResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct PayerObject<'a> {
    object: &'static str,
    id: &'a str,
    instance_id: &'a str,
    user_id: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    email: Option<&'a str>,
    organization_id: Option<&'a str>,
    organization_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credits_balance: Option<Money>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> PayerObject<'a> {
    /// From a payer.
    pub fn new(p: &'a Payer) -> Self {
        Self {
            object: "commerce_payer",
            id: &p.row.id,
            instance_id: &p.row.instance_id,
            user_id: p.row.user_id.as_deref(),
            first_name: p.details.first_name.as_deref(),
            last_name: p.details.last_name.as_deref(),
            email: p.details.email.as_deref(),
            organization_id: p.row.organization_id.as_deref(),
            organization_name: p.details.organization_name.as_deref(),
            credits_balance: p.row.credit_balance.map(money),
            created_at: p.row.created_at,
            updated_at: p.row.updated_at,
        }
    }
}

/// `CommercePayerResponse-2` (names as strings, empty when unknown).
#[derive(Debug, Clone, Serialize)]
pub struct PayerObject2<'a> {
    object: &'static str,
    id: &'a str,
    instance_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_name: Option<&'a str>,
    image_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    credits_balance: Option<Money>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> PayerObject2<'a> {
    /// From a payer.
    pub fn new(p: &'a Payer) -> Self {
        Self {
            object: "commerce_payer",
            id: &p.row.id,
            instance_id: &p.row.instance_id,
            user_id: p.row.user_id.as_deref(),
            first_name: p.details.first_name.as_deref().unwrap_or(""),
            last_name: p.details.last_name.as_deref().unwrap_or(""),
            email: p.details.email.as_deref().unwrap_or(""),
            organization_id: p.row.organization_id.as_deref(),
            organization_name: p.details.organization_name.as_deref(),
            image_url: payer_image_url(p),
            credits_balance: p.row.credit_balance.map(money),
            created_at: p.row.created_at,
            updated_at: p.row.updated_at,
        }
    }
}

/// The payer's image (relative, like the images of webhook payloads; empty without one).
pub(crate) fn payer_image_url(p: &Payer) -> String {
    match p.payer_type() {
        PayerType::User => crate::users::objects::image_url("", p.details.user_image_id.as_deref()),
        PayerType::Org => crate::objects::organization::image_url("", p.details.organization_image_id.as_deref()),
    }
}

/// The id of a payer's local payment method (one per payer, derived from the payer's id).
pub fn payment_method_id(payer_id: &str) -> String {
    format!("cpm_{}", payer_id.strip_prefix("cpayer_").unwrap_or(payer_id))
}

/// `CommercePaymentMethodResponse`: the payer's local payment method ("tessera" gateway, no card).
#[derive(Debug, Clone, Serialize)]
pub struct PaymentMethodObject<'a> {
    object: &'static str,
    id: String,
    payer_id: &'a str,
    payment_type: &'a str,
    is_default: bool,
    gateway: &'static str,
    gateway_external_id: String,
    gateway_external_account_id: Option<&'a str>,
    last4: Option<&'a str>,
    status: &'static str,
    card_type: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
    is_removable: bool,
}

impl<'a> PaymentMethodObject<'a> {
    /// The payer's payment method, as used for a charge of this type (`card` | `payer-credits`).
    pub fn new(payer: &'a Payer, payment_type: &'a str) -> Self {
        let id = payment_method_id(&payer.row.id);
        Self {
            object: "commerce_payment_method",
            gateway_external_id: id.clone(),
            id,
            payer_id: &payer.row.id,
            payment_type,
            is_default: true,
            gateway: "tessera",
            gateway_external_account_id: None,
            last4: None,
            status: "active",
            card_type: None,
            created_at: payer.row.created_at,
            updated_at: payer.row.updated_at,
            is_removable: false,
        }
    }
}

/// `CommerceSubscriptionItemNextPaymentResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct NextPayment {
    amount: Money,
    date: Option<i64>,
}

/// What an item will charge next: renewing paid items (and trials) at their period's end.
fn next_payment(item: &ItemRow, plan: Option<&PlanRow>, price: Option<&PriceRow>) -> Option<NextPayment> {
    let (plan, price) = (plan?, price?);
    if plan.is_default || !matches!(item.status.as_str(), "active" | "past_due" | "upcoming") {
        return None;
    }
    let date = if item.status == "upcoming" { Some(item.period_start) } else { item.period_end };
    Some(NextPayment { amount: money(period_fee(price, &item.plan_period)), date })
}

/// `CommerceSubscriptionItem`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemObject<'a> {
    object: &'static str,
    id: &'a str,
    instance_id: &'a str,
    status: &'a str,
    plan_id: Option<&'a str>,
    price_id: &'a str,
    plan: Option<PlanObject<'a>>,
    plan_period: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_method: Option<PaymentMethodObject<'a>>,
    lifetime_paid: Money,
    next_payment: Option<NextPayment>,
    payer_id: &'a str,
    payer: PayerObject<'a>,
    is_free_trial: bool,
    period_start: i64,
    period_end: Option<i64>,
    canceled_at: Option<i64>,
    past_due_at: Option<i64>,
    ended_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> ItemObject<'a> {
    /// An item with its plan (priced as the item pays) and payer.
    pub fn new(i: &'a ItemRow, price: Option<&PriceRow>, catalog: &'a Catalog, payer: &'a Payer) -> Self {
        let plan = catalog.plan(&i.plan_id);
        Self {
            object: "commerce_subscription_item",
            id: &i.id,
            instance_id: &i.instance_id,
            status: &i.status,
            plan_id: Some(&i.plan_id),
            price_id: &i.price_id,
            plan: plan.map(|p| PlanObject::new(p, catalog)),
            plan_period: &i.plan_period,
            payment_method: plan.filter(|p| !p.is_default).map(|_| PaymentMethodObject::new(payer, "card")),
            lifetime_paid: money(i.lifetime_paid),
            next_payment: next_payment(i, plan, price),
            payer_id: &i.payer_id,
            payer: PayerObject::new(payer),
            is_free_trial: i.is_free_trial,
            period_start: i.period_start,
            period_end: i.period_end,
            canceled_at: i.canceled_at,
            past_due_at: i.past_due_at,
            ended_at: i.ended_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// `CommerceSubscriptionItem-2` (trial extensions and price transitions; never `canceled`).
#[derive(Debug, Clone, Serialize)]
pub struct ItemObject2<'a> {
    object: &'static str,
    id: &'a str,
    instance_id: &'a str,
    status: &'a str,
    plan_id: &'a str,
    price_id: &'a str,
    plan: Option<PlanObject2<'a>>,
    plan_period: &'a str,
    payment_source_id: String,
    lifetime_paid: Money,
    amount: Money,
    next_payment: Option<NextPayment>,
    payer_id: &'a str,
    payer: PayerObject2<'a>,
    is_free_trial: bool,
    period_start: Option<i64>,
    period_end: Option<i64>,
    proration_date: String,
    canceled_at: Option<i64>,
    past_due_at: Option<i64>,
    ended_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> ItemObject2<'a> {
    /// An item with the price it pays.
    pub fn new(i: &'a ItemRow, price: &PriceRow, catalog: &'a Catalog, payer: &'a Payer) -> Self {
        let plan = catalog.plan(&i.plan_id);
        Self {
            object: "commerce_subscription_item",
            id: &i.id,
            instance_id: &i.instance_id,
            status: &i.status,
            plan_id: &i.plan_id,
            price_id: &i.price_id,
            plan: plan.map(|p| PlanObject2::new(p, price, catalog)),
            plan_period: &i.plan_period,
            payment_source_id: payment_method_id(&i.payer_id),
            lifetime_paid: money(i.lifetime_paid),
            amount: money(period_fee(price, &i.plan_period)),
            next_payment: next_payment(i, plan, Some(price)),
            payer_id: &i.payer_id,
            payer: PayerObject2::new(payer),
            is_free_trial: i.is_free_trial,
            period_start: Some(i.period_start),
            period_end: i.period_end,
            proration_date: calendar::date(i.period_start),
            canceled_at: i.canceled_at,
            past_due_at: i.past_due_at,
            ended_at: i.ended_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// `CommerceSubscription`: the payer's current items (not the ended or abandoned ones).
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionObject<'a> {
    object: &'static str,
    id: &'a str,
    instance_id: &'a str,
    status: &'a str,
    payer_id: &'a str,
    created_at: i64,
    updated_at: i64,
    active_at: Option<i64>,
    past_due_at: Option<i64>,
    subscription_items: Vec<ItemObject<'a>>,
    eligible_for_free_trial: bool,
}

impl<'a> SubscriptionObject<'a> {
    /// A subscription with its items and their prices.
    pub fn new(
        s: &'a SubscriptionRow,
        items: &'a [(ItemRow, Option<PriceRow>)],
        catalog: &'a Catalog,
        payer: &'a Payer,
    ) -> Self {
        Self {
            object: "commerce_subscription",
            id: &s.id,
            instance_id: &s.instance_id,
            status: &s.status,
            payer_id: &s.payer_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            active_at: s.active_at,
            past_due_at: s.past_due_at,
            subscription_items: items
                .iter()
                .filter(|(i, _)| !matches!(i.status.as_str(), "ended" | "abandoned"))
                .map(|(i, p)| ItemObject::new(i, p.as_ref(), catalog, payer))
                .collect(),
            eligible_for_free_trial: !payer.row.trial_used,
        }
    }
}

/// `CommerceCreditBalanceResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct CreditBalanceObject {
    object: &'static str,
    balance: Option<Money>,
}

impl CreditBalanceObject {
    /// A balance; `None` = never had credits.
    pub fn new(balance: Option<i64>) -> Self {
        Self { object: "commerce_credit_balance", balance: balance.map(money) }
    }
}

/// `CommerceCreditLedgerResponse` (its `created_at` is RFC 3339, unlike every other timestamp here).
#[derive(Debug, Clone, Serialize)]
pub struct LedgerObject<'a> {
    object: &'static str,
    id: &'a str,
    payer_id: &'a str,
    amount: Money,
    source_type: &'a str,
    source_id: &'a str,
    note: Option<&'a str>,
    created_at: String,
}

impl<'a> LedgerObject<'a> {
    /// From an entry.
    pub fn new(l: &'a LedgerRow) -> Self {
        Self {
            object: "commerce_credit_ledger",
            id: &l.id,
            payer_id: &l.payer_id,
            amount: money(l.amount),
            source_type: &l.source_type,
            source_id: &l.source_id,
            note: l.note.as_deref(),
            created_at: calendar::rfc3339(l.created_at),
        }
    }
}

/// `CommerceDiscountRedemptionResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct RedemptionObject<'a> {
    object: &'static str,
    id: &'a str,
    subscription_item_id: &'a str,
    discount_id: &'a str,
    name: &'a str,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    promo_code: Option<&'a str>,
    effect: &'a str,
    percent_off: Option<f64>,
    amount_off: Option<Money>,
    cycles_remaining: Option<i64>,
    cycles_applied: i64,
    status: &'a str,
    redeemed_at: i64,
    redeemed_by: Option<&'a str>,
}

impl<'a> RedemptionObject<'a> {
    /// A redemption of a discount.
    pub fn new(r: &'a RedemptionRow, d: &'a DiscountRow) -> Self {
        Self {
            object: "commerce_discount_redemption",
            id: &r.id,
            subscription_item_id: &r.item_id,
            discount_id: &r.discount_id,
            name: &d.name,
            source: if d.promo_code.is_some() { "promo_code" } else { "manual" },
            promo_code: d.promo_code.as_deref(),
            effect: &d.effect,
            percent_off: d.percent_off.map(|p| p as f64),
            amount_off: d.amount_off.map(money),
            cycles_remaining: d.cycles.map(|c| (c - r.cycles_applied).max(0)),
            cycles_applied: r.cycles_applied,
            status: &r.status,
            redeemed_at: r.redeemed_at,
            redeemed_by: None,
        }
    }
}

/// `CommercePriceTransitionDetails`.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionDetails<'a> {
    previous_plan: PlanObject2<'a>,
    previous_price: PriceObject<'a>,
    effective_at: i64,
    effective_mode: &'static str,
    next_billing_date: Option<i64>,
    charged_immediately: bool,
    immediate_charge: Option<Money>,
    previous_subscription_item_status: &'a str,
    previous_subscription_item_id: &'a str,
}

/// `CommercePriceTransitionResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct PriceTransitionObject<'a> {
    object: &'static str,
    subscription_item: ItemObject2<'a>,
    transition: TransitionDetails<'a>,
}

impl<'a> PriceTransitionObject<'a> {
    /// A transition from `t.previous` (at `t.previous_price`) to `t.item` (at `t.price`).
    pub fn new(t: &'a super::items::Transition, catalog: &'a Catalog, payer: &'a Payer) -> Option<Self> {
        let previous_plan = catalog.plan(&t.previous.plan_id)?;
        Some(Self {
            object: "commerce_price_transition",
            subscription_item: ItemObject2::new(&t.item, &t.price, catalog, payer),
            transition: TransitionDetails {
                previous_plan: PlanObject2::new(previous_plan, &t.previous_price, catalog),
                previous_price: PriceObject::new(&t.previous_price),
                effective_at: t.effective_at,
                effective_mode: if t.immediate { "immediate" } else { "end_of_period" },
                next_billing_date: t.item.period_end.filter(|_| t.item.status != "upcoming").or(Some(t.effective_at)),
                charged_immediately: t.charged.is_some(),
                immediate_charge: t.charged.map(money),
                previous_subscription_item_status: &t.previous.status,
                previous_subscription_item_id: &t.previous.id,
            },
        })
    }
}
