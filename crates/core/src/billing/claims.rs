//! What a session token says about billing: `pla` (the payer's plans, `u:<slug>` or `o:<slug>`) and the plan
//! features in `fea` (`u:<feature>` / `o:<feature>`), as `has({ plan })` and `has({ feature })` in Clerk's SDKs read
//! them. The payer is the active organization when one is active and billing is enabled for organizations, else
//! the user. Items give their plan while `active` or `canceled` (a canceled item keeps its features until its
//! period ends).

use serde_json::{Map, Value};
use tessera_store::billing::ledger as store;

use super::{PayerType, catalog, config};
use crate::{Ctx, Result};

/// The plans and features a payer is entitled to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlements {
    /// Whose: the user's or the organization's.
    pub scope: PayerType,
    /// Plan slugs.
    pub plans: Vec<String>,
    /// Feature slugs of those plans, in plan order, without repeats.
    pub features: Vec<String>,
}

/// The entitlements a token of `user_id` with `organization_id` active carries; `None` when billing is off for
/// that payer or it has no subscription.
pub async fn entitlements(
    ctx: &Ctx,
    instance_id: &str,
    user_id: &str,
    organization_id: Option<&str>,
) -> Result<Option<Entitlements>> {
    let config = config(ctx, instance_id).await?;
    let (scope, owner) = match organization_id {
        Some(org) if config.org_enabled => (PayerType::Org, org),
        _ if config.user_enabled => (PayerType::User, user_id),
        _ => return Ok(None),
    };
    let Some(payer) = store::payer_of(&ctx.db, instance_id, owner).await? else { return Ok(None) };
    let items = store::items_of(&ctx.db, instance_id, &payer.id).await?;
    let live: Vec<_> = items.iter().filter(|i| matches!(i.status.as_str(), "active" | "canceled")).collect();
    if live.is_empty() {
        return Ok(None);
    }
    let catalog = catalog(ctx, instance_id).await?;
    let mut plans = Vec::new();
    let mut features: Vec<String> = Vec::new();
    for item in live {
        let Some(plan) = catalog.plan(&item.plan_id) else { continue };
        plans.push(plan.slug.clone());
        for f in catalog.features_of(&plan.id) {
            if !features.contains(&f.slug) {
                features.push(f.slug.clone());
            }
        }
    }
    Ok(Some(Entitlements { scope, plans, features }))
}

/// Adds `pla` and the plan features to `fea` (after the organization features already there, which for an
/// organization payer are already the plan's).
pub fn insert(e: &Entitlements, claims: &mut Map<String, Value>) {
    let s = e.scope.claim_scope();
    let pla = e.plans.iter().map(|p| format!("{s}:{p}")).collect::<Vec<_>>().join(",");
    claims.insert("pla".into(), Value::String(pla));
    if e.scope == PayerType::User && !e.features.is_empty() {
        let mut fea: Vec<String> = claims
            .get("fea")
            .and_then(Value::as_str)
            .map(|f| f.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        fea.extend(e.features.iter().map(|f| format!("u:{f}")));
        claims.insert("fea".into(), Value::String(fea.join(",")));
    }
}
