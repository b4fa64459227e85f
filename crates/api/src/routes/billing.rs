//! Billing: plans and prices, subscription items, user and organization subscriptions and credits, statements
//! and payment attempts — a local ledger (see `tessera_core::billing`). Every list answers `{data, total_count}`.

use crate::json::Json;
use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use serde::{Deserialize, Serialize};
use tessera_core::Error;
use tessera_core::billing::objects::{
    AttemptObject, CreditBalanceObject, ItemObject, ItemObject2, LedgerObject, PlanObject, PriceObject,
    PriceTransitionObject, RedemptionObject, StatementObject, SubscriptionObject,
};
use tessera_core::billing::{self, PayerType, catalog::NewPrice, credits::Adjustment};
use tessera_core::store::billing::ledger::ItemFilter;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_bool};
use crate::list::Paging;

/// Largest page of billing lists.
const MAX_LIMIT: u64 = 500;

/// `{data, total_count}`.
#[derive(Serialize)]
struct DataList<T> {
    data: Vec<T>,
    total_count: i64,
}

fn list<T: Serialize>(data: Vec<T>, total_count: i64) -> Response {
    Json(DataList { data, total_count }).into_response()
}

fn page_of<T: Clone>(all: &[T], paging: &Paging) -> ApiResult<Vec<T>> {
    let page = paging.page(MAX_LIMIT)?;
    Ok(all.iter().skip(page.offset as usize).take(page.limit as usize).cloned().collect())
}

/// Query of `GET /billing/plans`.
#[derive(Debug, Deserialize)]
pub struct PlanListParams {
    payer_type: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

fn payer_type_param(v: Option<&str>) -> ApiResult<Option<PayerType>> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => PayerType::parse(s)
            .map(Some)
            .ok_or_else(|| Error::query_param_invalid("payer_type", "payer_type must be user or org.").into()),
    }
}

/// `GET /v1/billing/plans`: newest first.
pub async fn get_commerce_plan_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<PlanListParams>,
) -> ApiResult<Response> {
    let t = payer_type_param(p.payer_type.as_deref())?;
    let catalog = billing::catalog(&app.ctx, &instance.id).await?;
    let plans: Vec<_> = catalog.plans.iter().filter(|x| t.is_none_or(|t| x.payer_type == t.as_str())).collect();
    let page = page_of(&plans, &p.paging)?;
    Ok(list(page.into_iter().map(|x| PlanObject::new(x, &catalog)).collect(), plans.len() as i64))
}

/// Query of `GET /billing/prices`.
#[derive(Debug, Deserialize)]
pub struct PriceListParams {
    plan_id: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /v1/billing/prices`: by amount, then newest first.
pub async fn get_billing_price_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<PriceListParams>,
) -> ApiResult<Response> {
    let page = p.paging.page(MAX_LIMIT)?;
    let plan_id = p.plan_id.filter(|s| !s.is_empty());
    let (rows, total) =
        billing::catalog::list_prices(&app.ctx, &instance.id, plan_id.as_deref(), page.limit, page.offset).await?;
    Ok(list(rows.iter().map(PriceObject::new).collect(), total))
}

/// Body of `POST /billing/prices`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePriceBody {
    plan_id: String,
    currency: Option<String>,
    amount: Option<i64>,
    annual_monthly_amount: Option<i64>,
    description: Option<String>,
    supported_billing_periods: Option<String>,
}

/// `POST /v1/billing/prices`: a custom price.
pub async fn create_billing_price(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreatePriceBody>,
) -> ApiResult<Response> {
    let input = NewPrice {
        plan_id: b.plan_id,
        currency: b.currency,
        amount: b.amount,
        annual_monthly_amount: b.annual_monthly_amount,
        description: b.description,
        supported_billing_periods: b.supported_billing_periods,
    };
    let price = billing::catalog::create_price(&app.ctx, &instance.id, input).await?;
    Ok(Json(PriceObject::new(&price)).into_response())
}

/// Query of `GET /billing/subscription_items`.
#[derive(Debug, Deserialize)]
pub struct ItemListParams {
    status: Option<String>,
    payer_type: Option<String>,
    plan_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    include_free: Option<bool>,
    query: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /v1/billing/subscription_items`: newest first.
pub async fn get_commerce_subscription_item_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<ItemListParams>,
) -> ApiResult<Response> {
    let page = p.paging.page(MAX_LIMIT)?;
    let status = p.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !["active", "ended", "past_due", "upcoming", "free_trial"].contains(&s.as_str())
    {
        let why = "status must be one of active, ended, past_due, upcoming, free_trial.";
        return Err(Error::query_param_invalid("status", why).into());
    }
    let filter = ItemFilter {
        status,
        payer_type: payer_type_param(p.payer_type.as_deref())?.map(|t| t.as_str().to_owned()),
        plan_id: p.plan_id.filter(|s| !s.is_empty()),
        include_free: p.include_free.unwrap_or(false),
        query: p.query.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
    };
    let items = billing::items::list_items(&app.ctx, &instance.id, &filter, page.limit, page.offset).await?;
    let data = items
        .entries
        .iter()
        .map(|(i, payer)| ItemObject::new(&i.item, i.price.as_ref(), &items.catalog, payer))
        .collect();
    Ok(list(data, items.total))
}

/// Query of `DELETE /billing/subscription_items/{id}`.
#[derive(Debug, Deserialize)]
pub struct CancelParams {
    #[serde(default, deserialize_with = "lenient_bool")]
    end_now: Option<bool>,
}

/// `DELETE /v1/billing/subscription_items/{subscription_item_id}`
pub async fn cancel_commerce_subscription_item(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(item_id): Path<String>,
    Params(p): Params<CancelParams>,
) -> ApiResult<Response> {
    let v = billing::items::cancel(&app.ctx, &instance.id, &item_id, p.end_now.unwrap_or(false)).await?;
    Ok(Json(ItemObject::new(&v.item, Some(&v.price), &v.catalog, &v.payer)).into_response())
}

/// Body of `POST …/extend_free_trial`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendTrialBody {
    extend_to: String,
}

/// `POST /v1/billing/subscription_items/{subscription_item_id}/extend_free_trial`
pub async fn extend_billing_subscription_item_free_trial(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(item_id): Path<String>,
    Body(b): Body<ExtendTrialBody>,
) -> ApiResult<Response> {
    let v = billing::items::extend_trial(&app.ctx, &instance.id, &item_id, &b.extend_to).await?;
    Ok(Json(ItemObject2::new(&v.item, &v.price, &v.catalog, &v.payer)).into_response())
}

/// Body of `POST …/price_transition`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    from_price_id: String,
    to_price_id: String,
}

/// `POST /v1/billing/subscription_items/{subscription_item_id}/price_transition`
pub async fn create_billing_price_transition(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(item_id): Path<String>,
    Body(b): Body<TransitionBody>,
) -> ApiResult<Response> {
    let v =
        billing::items::price_transition(&app.ctx, &instance.id, &item_id, &b.from_price_id, &b.to_price_id).await?;
    let object =
        PriceTransitionObject::new(&v.transition, &v.catalog, &v.payer).ok_or_else(|| Error::not_found("plan"))?;
    Ok(Json(object).into_response())
}

/// Body of `POST …/discounts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountBody {
    discount_id: String,
}

/// `POST /v1/billing/subscription_items/{subscription_item_id}/discounts`
pub async fn apply_billing_subscription_item_discount(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(item_id): Path<String>,
    Body(b): Body<DiscountBody>,
) -> ApiResult<Response> {
    let (r, d) = billing::items::apply_discount(&app.ctx, &instance.id, &item_id, &b.discount_id).await?;
    Ok(Json(RedemptionObject::new(&r, &d)).into_response())
}

/// `DELETE /v1/billing/subscription_items/{subscription_item_id}/discounts/{discount_id}`
pub async fn remove_billing_subscription_item_discount(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((item_id, discount_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (r, d) = billing::items::remove_discount(&app.ctx, &instance.id, &item_id, &discount_id).await?;
    Ok(Json(RedemptionObject::new(&r, &d)).into_response())
}

/// `GET /v1/billing/statements`: newest first.
pub async fn get_billing_statement_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    let page = paging.page(MAX_LIMIT)?;
    let (statements, total) = billing::statements::list(&app.ctx, &instance.id, page.limit, page.offset).await?;
    Ok(list(statements.iter().map(|s| StatementObject::new(&s.row, &s.attempts, &s.payer)).collect(), total))
}

/// `GET /v1/billing/statements/{statementID}`
pub async fn get_billing_statement(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let s = billing::statements::get(&app.ctx, &instance.id, &id).await?;
    Ok(Json(StatementObject::new(&s.row, &s.attempts, &s.payer)).into_response())
}

/// `GET /v1/billing/statements/{statementID}/payment_attempts`: oldest first.
pub async fn get_billing_statement_payment_attempts(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    let s = billing::statements::get(&app.ctx, &instance.id, &id).await?;
    let page = page_of(&s.attempts, &paging)?;
    Ok(list(page.iter().map(|a| AttemptObject::new(a, &s.payer)).collect::<Vec<_>>(), s.attempts.len() as i64))
}

async fn subscription(app: &AppState, instance_id: &str, t: PayerType, owner: &str) -> ApiResult<Response> {
    let v = billing::items::get_subscription(&app.ctx, instance_id, t, owner).await?;
    Ok(Json(SubscriptionObject::new(&v.subscription, &v.items, &v.catalog, &v.payer)).into_response())
}

async fn balance(app: &AppState, instance_id: &str, t: PayerType, owner: &str) -> ApiResult<Response> {
    let b = billing::credits::balance(&app.ctx, instance_id, t, owner).await?;
    Ok(Json(CreditBalanceObject::new(b)).into_response())
}

/// Body of `POST …/billing/credits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustBody {
    amount: i64,
    action: String,
    currency: Option<String>,
    idempotency_key: String,
    note: Option<String>,
}

async fn adjust(app: &AppState, instance_id: &str, t: PayerType, owner: &str, b: AdjustBody) -> ApiResult<Response> {
    let a = Adjustment {
        amount: b.amount,
        action: b.action,
        currency: b.currency,
        idempotency_key: b.idempotency_key,
        note: b.note,
    };
    let entry = billing::credits::adjust(&app.ctx, instance_id, t, owner, a).await?;
    Ok(Json(LedgerObject::new(&entry)).into_response())
}

/// `GET /v1/users/{user_id}/billing/subscription`
pub async fn get_user_billing_subscription(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    subscription(&app, &instance.id, PayerType::User, &user_id).await
}

/// `GET /v1/users/{user_id}/billing/credits`
pub async fn get_user_billing_credit_balance(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    balance(&app, &instance.id, PayerType::User, &user_id).await
}

/// `POST /v1/users/{user_id}/billing/credits`
pub async fn adjust_user_billing_credit_balance(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
    Body(b): Body<AdjustBody>,
) -> ApiResult<Response> {
    adjust(&app, &instance.id, PayerType::User, &user_id, b).await
}

/// `GET /v1/organizations/{organization_id}/billing/subscription`
pub async fn get_organization_billing_subscription(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(org_id): Path<String>,
) -> ApiResult<Response> {
    subscription(&app, &instance.id, PayerType::Org, &org_id).await
}

/// `GET /v1/organizations/{organization_id}/billing/credits`
pub async fn get_organization_billing_credit_balance(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(org_id): Path<String>,
) -> ApiResult<Response> {
    balance(&app, &instance.id, PayerType::Org, &org_id).await
}

/// `POST /v1/organizations/{organization_id}/billing/credits`
pub async fn adjust_organization_billing_credit_balance(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(org_id): Path<String>,
    Body(b): Body<AdjustBody>,
) -> ApiResult<Response> {
    adjust(&app, &instance.id, PayerType::Org, &org_id, b).await
}
