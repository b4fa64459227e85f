//! Billing as the browser reads it: the publicly visible plans (of the payer types billing is enabled for), and the
//! subscription and subscription items of the signed-in user or of an organization they may read the billing of
//! (`org:sys_billing:read`). The same ledger the Backend API manages (`tessera_core::billing`).

use axum::extract::{Query, State};
use axum::response::{IntoResponse as _, Response};
use serde::{Deserialize, Serialize};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::Error;
use tessera_core::billing::objects::{ItemObject, PlanObject, SubscriptionObject};
use tessera_core::billing::{self, PayerType, items::SubscriptionView};
use tessera_core::organizations::access;

use crate::extract::{Fapi, SignedIn};
use crate::respond;
use tessera_api::extract::Path;

/// The permission to read an organization's billing (a system permission of `org:admin`).
const BILLING_READ: &str = "org:sys_billing:read";

/// `{data, total_count}`, what every billing list answers.
#[derive(Serialize)]
struct DataList<T> {
    data: Vec<T>,
    total_count: i64,
}

/// Query of `GET /v1/billing/plans`.
#[derive(Debug, Default, Deserialize)]
pub struct PlanQuery {
    payer_type: Option<String>,
}

/// Paging of the billing lists; values that are not numbers fall back to the defaults.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    limit: Option<String>,
    offset: Option<String>,
}

impl PageQuery {
    fn limit(&self) -> usize {
        self.limit.as_deref().and_then(|l| l.trim().parse::<usize>().ok()).map_or(10, |l| l.clamp(1, 500))
    }

    fn offset(&self) -> usize {
        self.offset.as_deref().and_then(|o| o.trim().parse::<usize>().ok()).unwrap_or(0)
    }
}

/// `GET /v1/billing/plans`: the publicly visible plans of the payer types with billing enabled, newest first.
pub async fn get_billing_plan_list(
    State(app): State<AppState>,
    fapi: Fapi,
    Query(q): Query<PlanQuery>,
) -> ApiResult<Response> {
    let wanted = match q.payer_type.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            PayerType::parse(s)
                .ok_or_else(|| Error::query_param_invalid("payer_type", "payer_type must be user or org."))?,
        ),
    };
    let config = billing::config(&app.ctx, &fapi.instance.id).await?;
    let catalog = billing::catalog(&app.ctx, &fapi.instance.id).await?;
    let data: Vec<PlanObject<'_>> = catalog
        .plans
        .iter()
        .filter(|p| p.publicly_visible)
        .filter(|p| PayerType::parse(&p.payer_type).is_some_and(|t| config.enabled(t) && wanted.is_none_or(|w| w == t)))
        .map(|p| PlanObject::new(p, &catalog))
        .collect();
    let total_count = data.len() as i64;
    Ok(Json(DataList { data, total_count }).into_response())
}

/// `GET /v1/billing/plans/{planIdOrSlug}`: a publicly visible plan of a payer type with billing enabled.
pub async fn get_billing_plan(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id_or_slug): Path<String>,
) -> ApiResult<Response> {
    let config = billing::config(&app.ctx, &fapi.instance.id).await?;
    let catalog = billing::catalog(&app.ctx, &fapi.instance.id).await?;
    let plan = catalog
        .plans
        .iter()
        .filter(|p| p.publicly_visible && PayerType::parse(&p.payer_type).is_some_and(|t| config.enabled(t)))
        .find(|p| p.id == id_or_slug || p.slug == id_or_slug)
        .ok_or_else(|| Error::not_found("plan"))?;
    Ok(Json(PlanObject::new(plan, &catalog)).into_response())
}

fn subscription_object(v: &SubscriptionView) -> SubscriptionObject<'_> {
    SubscriptionObject::new(&v.subscription, &v.items, &v.catalog, &v.payer)
}

/// The live items of a subscription (what the subscription lists), newest first, paged.
fn item_page<'a>(v: &'a SubscriptionView, q: &PageQuery) -> DataList<ItemObject<'a>> {
    let live: Vec<_> =
        v.items.iter().rev().filter(|(i, _)| !matches!(i.status.as_str(), "ended" | "abandoned")).collect();
    let data = live
        .iter()
        .skip(q.offset())
        .take(q.limit())
        .map(|(i, price)| ItemObject::new(i, price.as_ref(), &v.catalog, &v.payer))
        .collect();
    DataList { data, total_count: live.len() as i64 }
}

async fn user_subscription(app: &AppState, signed: &SignedIn) -> ApiResult<SubscriptionView> {
    Ok(billing::items::get_subscription(&app.ctx, signed.instance_id(), PayerType::User, signed.user_id()).await?)
}

/// `GET /v1/me/billing/subscription`: the signed-in user's subscription (404 when billing is off for users).
pub async fn get_user_main_billing_subscription(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    let v = user_subscription(&app, &signed).await?;
    respond::wrapped(&app, &signed.browser, subscription_object(&v)).await
}

/// `GET /v1/me/billing/subscription_items`: the items of the signed-in user's subscription.
pub async fn get_user_billing_subscription_items(
    State(app): State<AppState>,
    signed: SignedIn,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let v = user_subscription(&app, &signed).await?;
    respond::wrapped(&app, &signed.browser, item_page(&v, &q)).await
}

async fn organization_subscription(app: &AppState, signed: &SignedIn, org_id: &str) -> ApiResult<SubscriptionView> {
    access::require(&app.ctx, signed.instance_id(), org_id, signed.user_id(), BILLING_READ).await?;
    Ok(billing::items::get_subscription(&app.ctx, signed.instance_id(), PayerType::Org, org_id).await?)
}

/// `GET /v1/organizations/{organization_id}/billing/subscription`
pub async fn get_organization_billing_subscription(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(org_id): Path<String>,
) -> ApiResult<Response> {
    let v = organization_subscription(&app, &signed, &org_id).await?;
    respond::wrapped(&app, &signed.browser, subscription_object(&v)).await
}

/// `GET /v1/organizations/{organization_id}/billing/subscription_items`
pub async fn get_organization_billing_subscription_items(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(org_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let v = organization_subscription(&app, &signed, &org_id).await?;
    respond::wrapped(&app, &signed.browser, item_page(&v, &q)).await
}
