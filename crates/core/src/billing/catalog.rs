//! The catalogue, which Clerk keeps in its dashboard and the Backend API cannot change: features, plans (with
//! their fees as default prices) and discounts, plus the instance's billing switches. Managed by the `tessera
//! billing` commands, from a declarative JSON file ([`CatalogFile`]) or one switch at a time.

use serde::Deserialize;
use tessera_store::Tx;
use tessera_store::billing::ledger as store;
use tessera_store::billing::{self as catalog_store, ConfigRow, DiscountRow, FeatureRow, PlanRow, PriceRow};

use super::{Config, PayerType, catalog_tx, config_tx, subscribe_default_tx};
use crate::ids::new_id;
use crate::{Ctx, Error, Result};

/// A catalogue file. Every entry is matched by slug: present ones are updated, new ones created; entries absent
/// from the file are left as they are (plans with subscribers cannot disappear).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// Payer types to enable (`true`) or disable (`false`); absent = unchanged.
    #[serde(default)]
    pub billing: Enabled,
    /// `succeed` (default) | `fail`: how the local payment method settles what credits do not cover.
    pub payments: Option<String>,
    /// Features.
    #[serde(default)]
    pub features: Vec<FeatureSpec>,
    /// Plans.
    #[serde(default)]
    pub plans: Vec<PlanSpec>,
    /// Discounts.
    #[serde(default)]
    pub discounts: Vec<DiscountSpec>,
}

/// Which payer types have billing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    /// Users.
    pub user: Option<bool>,
    /// Organizations.
    pub org: Option<bool>,
}

/// A feature of the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// Key (the `fea` claim's name).
    pub slug: String,
    /// Display name (default: the slug).
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A plan of the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// Key (the `pla` claim's name), unique in the instance.
    pub slug: String,
    /// Display name (default: the slug).
    pub name: Option<String>,
    /// `user` | `org`.
    pub payer_type: String,
    /// Monthly fee in cents (0 = free).
    #[serde(default)]
    pub fee: i64,
    /// Monthly equivalent of the annual fee, in cents (absent = no annual billing).
    pub annual_monthly_fee: Option<i64>,
    /// Free-trial days (absent = no trial).
    pub free_trial_days: Option<i64>,
    /// Description.
    pub description: Option<String>,
    /// Shown in pricing tables (default true).
    pub publicly_visible: Option<bool>,
    /// The payer type's default plan (must be free).
    #[serde(default)]
    pub default: bool,
    /// Feature slugs, in order (undeclared ones are created).
    #[serde(default)]
    pub features: Vec<String>,
}

/// A discount of the file: `percent_off` or `amount_off`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountSpec {
    /// Key.
    pub slug: String,
    /// Display name (default: the slug).
    pub name: Option<String>,
    /// Whole percent, 1..=100.
    pub percent_off: Option<i64>,
    /// Cents.
    pub amount_off: Option<i64>,
    /// Billing cycles (absent = forever).
    pub cycles: Option<i64>,
    /// Promotion code.
    pub promo_code: Option<String>,
}

/// Parses a catalogue file (JSON).
pub fn parse_file(text: &str) -> Result<CatalogFile> {
    serde_json::from_str(text).map_err(|e| Error::param_format_invalid("file", format!("not a catalogue file: {e}")))
}

fn invalid(param: &str, why: impl Into<String>) -> Error {
    Error::param_value_invalid(param, why)
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Applies a catalogue file in one transaction.
pub async fn apply(ctx: &Ctx, instance_id: &str, file: &CatalogFile) -> Result<()> {
    let succeed = match file.payments.as_deref() {
        None => None,
        Some("succeed") => Some(true),
        Some("fail") => Some(false),
        Some(_) => return Err(invalid("payments", "payments must be succeed or fail.")),
    };
    let mut tx = ctx.db.begin().await?;
    for f in &file.features {
        upsert_feature_tx(ctx, &mut tx, instance_id, &f.slug, f.name.as_deref(), f.description.as_deref()).await?;
    }
    for p in &file.plans {
        upsert_plan_tx(ctx, &mut tx, instance_id, p).await?;
    }
    for d in &file.discounts {
        upsert_discount_tx(ctx, &mut tx, instance_id, d).await?;
    }
    let mut config = config_tx(&mut tx, instance_id).await?;
    config.user_enabled = file.billing.user.unwrap_or(config.user_enabled);
    config.org_enabled = file.billing.org.unwrap_or(config.org_enabled);
    config.payments_succeed = succeed.unwrap_or(config.payments_succeed);
    put_config_tx(ctx, &mut tx, instance_id, config).await?;
    tx.commit().await?;
    Ok(())
}

/// Enables or disables billing for a payer type (see [`apply`]); returns how many payers got the default plan.
pub async fn set_enabled(ctx: &Ctx, instance_id: &str, t: PayerType, enabled: bool) -> Result<usize> {
    let mut tx = ctx.db.begin().await?;
    let mut config = config_tx(&mut tx, instance_id).await?;
    match t {
        PayerType::User => config.user_enabled = enabled,
        PayerType::Org => config.org_enabled = enabled,
    }
    let n = put_config_tx(ctx, &mut tx, instance_id, config).await?;
    tx.commit().await?;
    Ok(n)
}

/// Sets how the local payment method settles charges that credits do not cover.
pub async fn set_payments_succeed(ctx: &Ctx, instance_id: &str, succeed: bool) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    let mut config = config_tx(&mut tx, instance_id).await?;
    config.payments_succeed = succeed;
    put_config_tx(ctx, &mut tx, instance_id, config).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes the switches; each enabled payer type gets its default plan (created when missing), and every payer of
/// that type without a subscription (every existing user or organization) is subscribed to it, as Clerk does when
/// billing is enabled. Returns how many payers were subscribed.
async fn put_config_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, config: Config) -> Result<usize> {
    let now = ctx.now_ms();
    let row = ConfigRow {
        instance_id: instance_id.to_owned(),
        user_enabled: config.user_enabled,
        org_enabled: config.org_enabled,
        payments_succeed: config.payments_succeed,
        updated_at: now,
    };
    catalog_store::put_config(tx, &row).await?;
    let mut subscribed = 0;
    for t in [PayerType::User, PayerType::Org] {
        if !config.enabled(t) {
            continue;
        }
        if catalog_tx(tx, instance_id).await?.default_plan(t).is_none() {
            let spec = PlanSpec {
                slug: t.default_plan_slug().to_owned(),
                name: Some("Free".into()),
                payer_type: t.as_str().to_owned(),
                fee: 0,
                annual_monthly_fee: None,
                free_trial_days: None,
                description: None,
                publicly_visible: Some(true),
                default: true,
                features: Vec::new(),
            };
            upsert_plan_tx(ctx, tx, instance_id, &spec).await?;
        }
        let owners = match t {
            PayerType::User => store::users_without_payer_tx(tx, instance_id).await?,
            PayerType::Org => store::orgs_without_payer_tx(tx, instance_id).await?,
        };
        for owner in owners {
            super::ensure_payer_tx(ctx, tx, instance_id, t, &owner).await?;
        }
        let catalog = catalog_tx(tx, instance_id).await?;
        for payer in store::payers_without_subscription_tx(tx, instance_id).await? {
            let is_org = payer.organization_id.is_some();
            if is_org == (t == PayerType::Org) {
                subscribe_default_tx(ctx, tx, &catalog, payer).await?;
                subscribed += 1;
            }
        }
    }
    Ok(subscribed)
}

async fn upsert_feature_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    slug: &str,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<String> {
    if !valid_slug(slug) {
        return Err(invalid("slug", format!("feature slug {slug:?}: lower-case letters, digits, _ and - only.")));
    }
    let now = ctx.now_ms();
    let row = FeatureRow {
        id: new_id("feat"),
        instance_id: instance_id.to_owned(),
        slug: slug.to_owned(),
        name: name.unwrap_or(slug).to_owned(),
        description: description.map(str::to_owned),
        created_at: now,
        updated_at: now,
    };
    Ok(catalog_store::upsert_feature(tx, &row).await?)
}

/// Creates or updates a plan (by slug) with its default price and features.
pub async fn upsert_plan_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, p: &PlanSpec) -> Result<()> {
    let payer_type = PayerType::parse(&p.payer_type)
        .ok_or_else(|| invalid("payer_type", format!("plan {}: payer_type must be user or org.", p.slug)))?;
    if !valid_slug(&p.slug) {
        return Err(invalid("slug", format!("plan slug {:?}: lower-case letters, digits, _ and - only.", p.slug)));
    }
    let annual = p.annual_monthly_fee.unwrap_or(0);
    if p.fee < 0 || annual < 0 || p.free_trial_days.is_some_and(|d| !(1..=365).contains(&d)) {
        return Err(invalid("fee", format!("plan {}: fees are cents ≥ 0 and trials 1 to 365 days.", p.slug)));
    }
    if p.default && (p.fee != 0 || annual != 0 || p.free_trial_days.is_some()) {
        return Err(invalid("default", format!("plan {}: the default plan is free and has no trial.", p.slug)));
    }
    let now = ctx.now_ms();
    let catalog = catalog_tx(tx, instance_id).await?;
    let existing = catalog.plans.iter().find(|x| x.slug == p.slug).cloned();
    if p.default {
        // One default plan per payer type: the previous one stops being it.
        if let Some(mut old) = catalog.default_plan(payer_type).filter(|d| d.slug != p.slug).cloned() {
            old.is_default = false;
            old.updated_at = now;
            catalog_store::update_plan(tx, &old).await?;
        }
    }
    let periods = if annual > 0 { "both" } else { "month" };
    let plan_id = match existing {
        Some(mut row) => {
            if row.payer_type != payer_type.as_str() {
                return Err(invalid("payer_type", format!("plan {}: its payer type cannot change.", p.slug)));
            }
            row.name = p.name.clone().unwrap_or_else(|| p.slug.clone());
            row.description = p.description.clone();
            row.is_default = p.default;
            row.publicly_visible = p.publicly_visible.unwrap_or(true);
            row.free_trial_days = p.free_trial_days;
            row.updated_at = now;
            catalog_store::update_plan(tx, &row).await?;
            catalog_store::update_default_price(tx, &row.id, p.fee, annual, periods).await?;
            row.id
        }
        None => {
            let row = PlanRow {
                id: new_id("cplan"),
                instance_id: instance_id.to_owned(),
                product_id: new_id("prod"),
                payer_type: payer_type.as_str().to_owned(),
                slug: p.slug.clone(),
                name: p.name.clone().unwrap_or_else(|| p.slug.clone()),
                description: p.description.clone(),
                avatar_url: None,
                is_default: p.default,
                publicly_visible: p.publicly_visible.unwrap_or(true),
                free_trial_days: p.free_trial_days,
                created_at: now,
                updated_at: now,
            };
            catalog_store::insert_plan(tx, &row).await?;
            let price = PriceRow {
                id: new_id("cprice"),
                instance_id: instance_id.to_owned(),
                plan_id: row.id.clone(),
                amount: p.fee,
                annual_monthly_amount: annual,
                description: None,
                is_default: true,
                billing_periods: periods.to_owned(),
                created_at: now,
            };
            catalog_store::insert_price(tx, &price).await?;
            row.id
        }
    };
    let mut feature_ids = Vec::with_capacity(p.features.len());
    for slug in &p.features {
        let known = catalog_store::features_tx(tx, instance_id).await?.into_iter().find(|f| &f.slug == slug);
        feature_ids.push(match known {
            Some(f) => f.id,
            None => upsert_feature_tx(ctx, tx, instance_id, slug, None, None).await?,
        });
    }
    feature_ids.dedup();
    catalog_store::set_plan_features(tx, instance_id, &plan_id, &feature_ids).await?;
    Ok(())
}

async fn upsert_discount_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, d: &DiscountSpec) -> Result<()> {
    if !valid_slug(&d.slug) {
        return Err(invalid("slug", format!("discount slug {:?}: lower-case letters, digits, _ and - only.", d.slug)));
    }
    let effect = match (d.percent_off, d.amount_off) {
        (Some(p), None) if (1..=100).contains(&p) => "percentage",
        (None, Some(a)) if a > 0 => "fixed_amount",
        _ => {
            return Err(invalid(
                "percent_off",
                format!("discount {}: give percent_off (1 to 100) or amount_off (cents > 0), not both.", d.slug),
            ));
        }
    };
    if d.cycles.is_some_and(|c| c < 1) {
        return Err(invalid("cycles", format!("discount {}: cycles must be at least 1.", d.slug)));
    }
    let now = ctx.now_ms();
    let row = DiscountRow {
        id: new_id("cdisc"),
        instance_id: instance_id.to_owned(),
        slug: d.slug.clone(),
        name: d.name.clone().unwrap_or_else(|| d.slug.clone()),
        effect: effect.to_owned(),
        percent_off: d.percent_off,
        amount_off: d.amount_off,
        cycles: d.cycles,
        promo_code: d.promo_code.clone(),
        created_at: now,
        updated_at: now,
    };
    catalog_store::upsert_discount(tx, &row).await?;
    Ok(())
}

/// A custom price (`POST /billing/prices`).
#[derive(Debug, Clone)]
pub struct NewPrice {
    /// The plan.
    pub plan_id: String,
    /// USD only.
    pub currency: Option<String>,
    /// Monthly cents: 0 (complimentary) or at least 100; `None` = the plan's own fee.
    pub amount: Option<i64>,
    /// Monthly equivalent of the annual fee: 0 or at least 100.
    pub annual_monthly_amount: Option<i64>,
    /// Description.
    pub description: Option<String>,
    /// `month` | `annual` | `both`; inferred from the amounts when absent.
    pub supported_billing_periods: Option<String>,
}

/// Creates a custom price for a paid plan.
pub async fn create_price(ctx: &Ctx, instance_id: &str, p: NewPrice) -> Result<PriceRow> {
    let catalog = super::catalog(ctx, instance_id).await?;
    let plan = catalog.plan(&p.plan_id).ok_or_else(|| Error::not_found("plan"))?;
    if p.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(super::CURRENCY)) {
        return Err(invalid("currency", "Only USD is supported."));
    }
    if plan.is_default {
        return Err(invalid("plan_id", "The default plan is free; it takes no custom prices."));
    }
    let own = catalog.price_of(&plan.id);
    let amount = p.amount.or(own.map(|x| x.amount)).unwrap_or(0);
    let annual = p.annual_monthly_amount.unwrap_or(0);
    for (param, v) in [("amount", amount), ("annual_monthly_amount", annual)] {
        if v != 0 && v < 100 {
            return Err(invalid(param, format!("{param} must be 0 (complimentary) or at least 100 cents.")));
        }
    }
    let periods = match p.supported_billing_periods.as_deref() {
        None if annual > 0 => "both",
        None => "month",
        Some("month") => "month",
        Some(x @ ("annual" | "both")) if annual > 0 => x,
        Some("annual" | "both") => {
            return Err(invalid("annual_monthly_amount", "Annual billing needs an annual_monthly_amount."));
        }
        Some(_) => return Err(invalid("supported_billing_periods", "must be month, annual or both.")),
    };
    let row = PriceRow {
        id: new_id("cprice"),
        instance_id: instance_id.to_owned(),
        plan_id: plan.id.clone(),
        amount,
        annual_monthly_amount: annual,
        description: p.description,
        is_default: false,
        billing_periods: periods.to_owned(),
        created_at: ctx.now_ms(),
    };
    let mut tx = ctx.db.begin().await?;
    catalog_store::insert_price(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(row)
}

/// A page of prices (of one plan when given; 404 for an unknown plan): by amount, then newest first.
pub async fn list_prices(
    ctx: &Ctx,
    instance_id: &str,
    plan_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PriceRow>, i64)> {
    if let Some(plan) = plan_id
        && catalog_store::plan(&ctx.db, instance_id, plan).await?.is_none()
    {
        return Err(Error::not_found("plan"));
    }
    Ok(catalog_store::list_prices(&ctx.db, instance_id, plan_id, limit, offset).await?)
}
