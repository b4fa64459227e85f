//! The `data` of billing webhooks (`subscription.*`, `subscriptionItem.*`, `paymentAttempt.*`), as the webhook
//! spec gives them: payers with string fields (empty when not applicable), plans by amount.

use serde::Serialize;
use tessera_store::billing::ledger::{AttemptRow, ItemRow, SubscriptionRow};

use super::objects::{PayeeObject, payer_image_url, payment_method_id};
use super::{CURRENCY, Catalog, Payer};

/// `BillingPayerEventPayload`.
#[derive(Debug, Clone, Serialize)]
pub struct PayerEvent<'a> {
    object: &'static str,
    id: &'a str,
    user_id: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    organization_id: &'a str,
    organization_name: &'a str,
    image_url: String,
    created_at: i64,
    updated_at: i64,
}

impl<'a> PayerEvent<'a> {
    /// From a payer.
    pub fn new(p: &'a Payer) -> Self {
        Self {
            object: "commerce_payer",
            id: &p.row.id,
            user_id: p.row.user_id.as_deref().unwrap_or(""),
            first_name: p.details.first_name.as_deref().unwrap_or(""),
            last_name: p.details.last_name.as_deref().unwrap_or(""),
            email: p.details.email.as_deref().unwrap_or(""),
            organization_id: p.row.organization_id.as_deref().unwrap_or(""),
            organization_name: p.details.organization_name.as_deref().unwrap_or(""),
            image_url: payer_image_url(p),
            created_at: p.row.created_at,
            updated_at: p.row.updated_at,
        }
    }
}

/// `BillingSubscriptionItemEventPlan` / `BillingPlan`.
#[derive(Debug, Clone, Serialize)]
pub struct EventPlan<'a> {
    id: &'a str,
    slug: &'a str,
    name: &'a str,
    is_recurring: bool,
    amount: i64,
    currency: &'static str,
}

fn event_plan<'a>(catalog: &'a Catalog, plan_id: &str) -> Option<EventPlan<'a>> {
    let p = catalog.plan(plan_id)?;
    Some(EventPlan {
        id: &p.id,
        slug: &p.slug,
        name: &p.name,
        is_recurring: true,
        amount: catalog.price_of(&p.id).map_or(0, |x| x.amount),
        currency: CURRENCY,
    })
}

/// `BillingSubscriptionItemEventPayload`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemEvent<'a> {
    object: &'static str,
    id: &'a str,
    status: &'a str,
    is_free_trial: bool,
    created_at: i64,
    updated_at: i64,
    period_start: i64,
    period_end: Option<i64>,
    interval: &'a str,
    plan_id: Option<&'a str>,
    plan: Option<EventPlan<'a>>,
    payer: PayerEvent<'a>,
    subscription_id: Option<&'a str>,
}

impl<'a> ItemEvent<'a> {
    /// From an item.
    pub fn new(i: &'a ItemRow, catalog: &'a Catalog, payer: &'a Payer) -> Self {
        Self {
            object: "commerce_subscription_item",
            id: &i.id,
            status: &i.status,
            is_free_trial: i.is_free_trial,
            created_at: i.created_at,
            updated_at: i.updated_at,
            period_start: i.period_start,
            period_end: i.period_end,
            interval: &i.plan_period,
            plan_id: Some(&i.plan_id),
            plan: event_plan(catalog, &i.plan_id),
            payer: PayerEvent::new(payer),
            subscription_id: Some(&i.subscription_id),
        }
    }
}

/// `SubscriptionEventPayload`.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionEvent<'a> {
    object: &'static str,
    id: &'a str,
    status: &'a str,
    active_at: Option<i64>,
    canceled_at: Option<i64>,
    created_at: i64,
    ended_at: Option<i64>,
    past_due_at: Option<i64>,
    updated_at: i64,
    latest_payment_id: Option<&'a str>,
    payer_id: &'a str,
    payer: PayerEvent<'a>,
    payment_source_id: Option<String>,
    items: Vec<ItemEvent<'a>>,
}

impl<'a> SubscriptionEvent<'a> {
    /// A subscription with its current items.
    pub fn new(s: &'a SubscriptionRow, items: &'a [ItemRow], catalog: &'a Catalog, payer: &'a Payer) -> Self {
        Self {
            object: "commerce_subscription",
            id: &s.id,
            status: &s.status,
            active_at: s.active_at,
            canceled_at: None,
            created_at: s.created_at,
            ended_at: None,
            past_due_at: s.past_due_at,
            updated_at: s.updated_at,
            latest_payment_id: None,
            payer_id: &s.payer_id,
            payer: PayerEvent::new(payer),
            payment_source_id: Some(payment_method_id(&s.payer_id)),
            items: items
                .iter()
                .filter(|i| !matches!(i.status.as_str(), "ended" | "abandoned"))
                .map(|i| ItemEvent::new(i, catalog, payer))
                .collect(),
        }
    }
}

/// `BillingAmount`.
#[derive(Debug, Clone, Serialize)]
pub struct EventAmount {
    amount: i64,
    amount_formatted: String,
    currency: &'static str,
    currency_symbol: &'static str,
}

fn amount(cents: i64) -> EventAmount {
    EventAmount {
        amount: cents,
        amount_formatted: super::objects::format_cents(cents),
        currency: CURRENCY,
        currency_symbol: "$",
    }
}

/// `BillingTotals`.
#[derive(Debug, Clone, Serialize)]
pub struct EventTotals {
    subtotal: EventAmount,
    tax_total: EventAmount,
    grand_total: EventAmount,
}

/// `BillingPaymentFailedReason`.
#[derive(Debug, Clone, Serialize)]
pub struct FailedReason {
    code: &'static str,
    decline_code: &'static str,
}

/// `BillingPaymentSource`.
#[derive(Debug, Clone, Serialize)]
pub struct EventPaymentSource {
    id: String,
    gateway: &'static str,
    gateway_external_id: String,
    gateway_external_account_id: Option<String>,
    payment_method: &'static str,
    status: &'static str,
    card_type: Option<String>,
    last4: Option<String>,
}

/// `BillingSubscriptionItem` (inside payment attempts).
#[derive(Debug, Clone, Serialize)]
pub struct AttemptItem<'a> {
    id: &'a str,
    object: &'static str,
    status: &'a str,
    created_at: i64,
    updated_at: i64,
    period_start: i64,
    period_end: i64,
    interval: &'a str,
    plan_id: Option<&'a str>,
    plan: Option<EventPlan<'a>>,
    subscription_id: &'a str,
}

/// `PaymentAttemptEventPayload`.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptEvent<'a> {
    id: &'a str,
    instance_id: &'a str,
    payment_id: &'a str,
    invoice_id: &'a str,
    statement_id: &'a str,
    gateway_external_id: &'a str,
    status: &'a str,
    created_at: i64,
    updated_at: i64,
    paid_at: Option<i64>,
    failed_at: Option<i64>,
    failed_reason: Option<FailedReason>,
    billing_date: i64,
    charge_type: &'a str,
    payee: PayeeObject<'a>,
    payer: PayerEvent<'a>,
    totals: EventTotals,
    payment_source: EventPaymentSource,
    subscription_items: Vec<AttemptItem<'a>>,
}

impl<'a> AttemptEvent<'a> {
    /// An attempt for an item.
    pub fn new(a: &'a AttemptRow, item: &'a ItemRow, catalog: &'a Catalog, payer: &'a Payer) -> Self {
        let pm = payment_method_id(&a.payer_id);
        Self {
            id: &a.id,
            instance_id: &a.instance_id,
            payment_id: &a.id,
            invoice_id: &a.statement_id,
            statement_id: &a.statement_id,
            gateway_external_id: &a.id,
            status: &a.status,
            created_at: a.created_at,
            updated_at: a.updated_at,
            paid_at: a.paid_at,
            failed_at: a.failed_at,
            failed_reason: a.failed_at.map(|_| FailedReason { code: "card_declined", decline_code: "generic_decline" }),
            billing_date: a.created_at,
            charge_type: &a.charge_type,
            payee: PayeeObject::new(&a.instance_id),
            payer: PayerEvent::new(payer),
            totals: EventTotals {
                subtotal: amount(a.subtotal - a.discount),
                tax_total: amount(0),
                grand_total: amount(a.amount),
            },
            payment_source: EventPaymentSource {
                gateway_external_id: pm.clone(),
                id: pm,
                gateway: "tessera",
                gateway_external_account_id: None,
                payment_method: "card",
                status: "active",
                card_type: None,
                last4: None,
            },
            subscription_items: vec![AttemptItem {
                id: &item.id,
                object: "commerce_subscription_item",
                status: &item.status,
                created_at: item.created_at,
                updated_at: item.updated_at,
                period_start: item.period_start,
                period_end: item.period_end.unwrap_or(item.period_start),
                interval: &item.plan_period,
                plan_id: Some(&item.plan_id),
                plan: event_plan(catalog, &item.plan_id),
                subscription_id: &item.subscription_id,
            }],
        }
    }
}
