//! `GET /organizations`: search, member and id filters, ordering and paging.

use tessera_store::organizations::{self as store, OrganizationFilter, OrganizationOrder};

use super::{Organization, ensure_enabled, hydrate};
use crate::{Ctx, Error, Result};

/// Most values one id filter accepts.
pub const MAX_FILTER_VALUES: usize = 100;

/// The list request, as the query string gives it.
#[derive(Debug, Clone)]
pub struct OrganizationListQuery {
    /// Exact id, or part of the name or slug.
    pub query: Option<String>,
    /// User ids, each optionally prefixed with `+` (include) or `-` (exclude).
    pub user_id: Vec<String>,
    /// Organization ids, each optionally prefixed with `+` or `-`.
    pub organization_id: Vec<String>,
    /// Sort field.
    pub order: OrganizationOrder,
    /// Descending.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Skipped rows.
    pub offset: i64,
}

fn signed(param: &str, values: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(Error::query_param_invalid(param, format!("{param} accepts at most {MAX_FILTER_VALUES} values.")));
    }
    let (mut inc, mut exc) = (Vec::new(), Vec::new());
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        match v.strip_prefix('-') {
            Some(rest) => exc.push(rest.to_owned()),
            None => inc.push(v.strip_prefix('+').unwrap_or(v).to_owned()),
        }
    }
    Ok((inc, exc))
}

/// A page of the instance's organizations and the total count of matches.
pub async fn list_organizations(
    ctx: &Ctx,
    instance_id: &str,
    q: &OrganizationListQuery,
) -> Result<(Vec<Organization>, i64)> {
    ensure_enabled(ctx, instance_id).await?;
    let (include_user_ids, exclude_user_ids) = signed("user_id", &q.user_id)?;
    let (include_ids, exclude_ids) = signed("organization_id", &q.organization_id)?;
    let filter = OrganizationFilter {
        query: q.query.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
        include_user_ids,
        exclude_user_ids,
        include_ids,
        exclude_ids,
    };
    let rows = store::list(&ctx.db, instance_id, &filter, q.order, q.descending, q.limit, q.offset).await?;
    let total = store::count(&ctx.db, instance_id, &filter).await?;
    Ok((hydrate(ctx, instance_id, rows).await?, total))
}
