//! Clerk's billing statements and payment attempts, typed as the Backend API answers them (`BillingStatement`,
//! `BillingPaymentAttempt`); apart from [`super::objects`] to keep each file readable.

use serde::Serialize;
use tessera_store::billing::ledger::{AttemptRow, StatementRow};

use super::objects::{Money, PayerObject, PaymentMethodObject, money, payment_method_id};
use super::{Payer, calendar};

/// The statement's totals.
#[derive(Debug, Clone, Serialize)]
pub struct StatementTotals {
    grand_total: Money,
    subtotal: Money,
    base_fee: Money,
    tax_total: Money,
}

/// A group of a statement: the attempts of one day.
#[derive(Debug, Clone, Serialize)]
pub struct StatementGroup<'a> {
    object: &'static str,
    timestamp: i64,
    items: Vec<AttemptObject<'a>>,
}

/// `BillingStatement`.
#[derive(Debug, Clone, Serialize)]
pub struct StatementObject<'a> {
    object: &'static str,
    id: &'a str,
    instance_id: &'a str,
    timestamp: i64,
    payer: PayerObject<'a>,
    status: &'a str,
    totals: StatementTotals,
    groups: Vec<StatementGroup<'a>>,
}

impl<'a> StatementObject<'a> {
    /// A statement with its attempts (oldest first), grouped by day, newest group first. Totals count what was
    /// charged or drawn from credits for paid attempts.
    pub fn new(s: &'a StatementRow, attempts: &'a [AttemptRow], payer: &'a Payer) -> Self {
        let paid = attempts.iter().filter(|a| a.status == "paid");
        let subtotal: i64 = paid.clone().map(|a| a.subtotal - a.discount).sum();
        let grand: i64 = paid.map(|a| a.amount).sum();
        let mut groups: Vec<StatementGroup<'a>> = Vec::new();
        for a in attempts {
            let day = calendar::day_start(a.created_at);
            match groups.iter_mut().find(|g| g.timestamp == day) {
                Some(g) => g.items.push(AttemptObject::new(a, payer)),
                None => groups.push(StatementGroup {
                    object: "commerce_statement_group",
                    timestamp: day,
                    items: vec![AttemptObject::new(a, payer)],
                }),
            }
        }
        groups.reverse();
        Self {
            object: "commerce_statement",
            id: &s.id,
            instance_id: &s.instance_id,
            timestamp: s.timestamp,
            payer: PayerObject::new(payer),
            status: &s.status,
            totals: StatementTotals {
                grand_total: money(grand),
                subtotal: money(subtotal),
                base_fee: money(subtotal),
                tax_total: money(0),
            },
            groups,
        }
    }
}

/// `CommerceTotalsResponse-2` of an attempt.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptTotals {
    subtotal: Money,
    base_fee: Money,
    tax_total: Money,
    grand_total: Money,
}

/// The payee of every attempt: the instance, settling through Tessera.
#[derive(Debug, Clone, Serialize)]
pub struct PayeeObject<'a> {
    id: &'a str,
    gateway_type: &'static str,
    gateway_external_id: &'a str,
    gateway_status: &'static str,
}

impl<'a> PayeeObject<'a> {
    /// The instance as payee.
    pub fn new(instance_id: &'a str) -> Self {
        Self { id: instance_id, gateway_type: "tessera", gateway_external_id: instance_id, gateway_status: "active" }
    }
}

/// `BillingPaymentAttempt`.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptObject<'a> {
    object: &'static str,
    id: &'a str,
    payment_id: &'a str,
    instance_id: &'a str,
    charge_type: &'a str,
    payee_id: &'a str,
    payee: PayeeObject<'a>,
    payer_id: &'a str,
    payer: PayerObject<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscription_item_id: Option<&'a str>,
    amount: Money,
    totals: AttemptTotals,
    payment_method_id: String,
    payment_method: PaymentMethodObject<'a>,
    statement_id: &'a str,
    gateway_external_id: Option<&'a str>,
    gateway_external_url: Option<&'a str>,
    status: &'a str,
    paid_at: Option<i64>,
    failed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> AttemptObject<'a> {
    /// From an attempt.
    pub fn new(a: &'a AttemptRow, payer: &'a Payer) -> Self {
        let net = a.subtotal - a.discount;
        Self {
            object: "commerce_payment",
            id: &a.id,
            payment_id: &a.id,
            instance_id: &a.instance_id,
            charge_type: &a.charge_type,
            payee_id: &a.instance_id,
            payee: PayeeObject::new(&a.instance_id),
            payer_id: &a.payer_id,
            payer: PayerObject::new(payer),
            subscription_item_id: a.item_id.as_deref(),
            amount: money(a.amount),
            totals: AttemptTotals {
                subtotal: money(net),
                base_fee: money(a.subtotal),
                tax_total: money(0),
                grand_total: money(a.amount),
            },
            payment_method_id: payment_method_id(&a.payer_id),
            payment_method: PaymentMethodObject::new(payer, &a.payment_type),
            statement_id: &a.statement_id,
            gateway_external_id: Some(&a.id),
            gateway_external_url: None,
            status: &a.status,
            paid_at: a.paid_at,
            failed_at: a.failed_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}
