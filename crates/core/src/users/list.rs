//! `GET /users` and `GET /users/count`: filters, ordering, offset and cursor paging.

use std::sync::Arc;

use tessera_store::user_list::{self, UserFilter, UserOrder, UserPage};

use super::identifiers;
use crate::{Ctx, Error, ErrorCode, Result};

/// Most values one array filter accepts.
pub const MAX_FILTER_VALUES: usize = 100;

/// The filters of the list and the count, as the query string gives them.
#[derive(Debug, Default, Clone)]
pub struct UserListQuery {
    /// Email addresses.
    pub email_address: Vec<String>,
    /// Phone numbers.
    pub phone_number: Vec<String>,
    /// External ids, each optionally prefixed with `+` (include) or `-` (exclude).
    pub external_id: Vec<String>,
    /// Usernames.
    pub username: Vec<String>,
    /// Web3 wallets.
    pub web3_wallet: Vec<String>,
    /// User ids, each optionally prefixed with `+` or `-`.
    pub user_id: Vec<String>,
    /// Organization ids, each optionally prefixed with `+` or `-`.
    pub organization_id: Vec<String>,
    /// Free-text query.
    pub query: Option<String>,
    /// Part of an email address.
    pub email_address_query: Option<String>,
    /// Part of a phone number.
    pub phone_number_query: Option<String>,
    /// Part of a username.
    pub username_query: Option<String>,
    /// Part of a name.
    pub name_query: Option<String>,
    /// Banned or not.
    pub banned: Option<bool>,
    /// Unix ms.
    pub last_active_at_before: Option<i64>,
    /// Unix ms.
    pub last_active_at_after: Option<i64>,
    /// Unix ms (deprecated alias of `last_active_at_after`).
    pub last_active_at_since: Option<i64>,
    /// Unix ms.
    pub created_at_before: Option<i64>,
    /// Unix ms.
    pub created_at_after: Option<i64>,
    /// Unix ms.
    pub last_sign_in_at_before: Option<i64>,
    /// Unix ms.
    pub last_sign_in_at_after: Option<i64>,
    /// OAuth provider (with `provider_user_id`).
    pub provider: Option<String>,
    /// Provider user ids (with `provider`).
    pub provider_user_id: Vec<String>,
}

/// The page part of a list request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserListPage {
    /// Sort field.
    pub order: UserOrder,
    /// Descending.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Skipped rows.
    pub offset: i64,
    /// Cursor: the id of the last user of the previous page.
    pub starting_after: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn bounded(param: &str, values: &[String]) -> Result<()> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(Error::with(
            ErrorCode::FormParamValueInvalid,
            "too many values",
            format!("{param} accepts at most {MAX_FILTER_VALUES} values."),
            Some(param),
        ));
    }
    Ok(())
}

/// Splits `+a`, `-b`, `c` into (included, excluded).
fn signed(values: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut inc, mut exc) = (Vec::new(), Vec::new());
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        match v.strip_prefix('-') {
            Some(rest) => exc.push(rest.to_owned()),
            None => inc.push(v.strip_prefix('+').unwrap_or(v).to_owned()),
        }
    }
    (inc, exc)
}

fn filter(q: &UserListQuery) -> Result<UserFilter> {
    for (param, values) in [
        ("email_address", &q.email_address),
        ("phone_number", &q.phone_number),
        ("external_id", &q.external_id),
        ("username", &q.username),
        ("web3_wallet", &q.web3_wallet),
        ("user_id", &q.user_id),
        ("organization_id", &q.organization_id),
        ("provider_user_id", &q.provider_user_id),
    ] {
        bounded(param, values)?;
    }
    let provider = non_empty(&q.provider);
    if provider.is_some() == q.provider_user_id.is_empty() {
        let missing = if provider.is_some() { "provider_user_id" } else { "provider" };
        return Err(Error::with(
            ErrorCode::FormParamMissing,
            "missing required parameter",
            "provider and provider_user_id must be used together.",
            Some(missing),
        ));
    }
    let (external_ids, external_ids_excluded) = signed(&q.external_id);
    let (user_ids, user_ids_excluded) = signed(&q.user_id);
    let (organization_ids, organization_ids_excluded) = signed(&q.organization_id);
    Ok(UserFilter {
        email_addresses: q.email_address.iter().map(|e| identifiers::email_key(e)).collect(),
        phone_numbers: q.phone_number.iter().map(|p| identifiers::phone_key(p)).collect(),
        web3_wallets: q.web3_wallet.iter().map(|w| identifiers::web3_key(w)).collect(),
        usernames: q.username.iter().map(|u| identifiers::username_key(u)).collect(),
        external_ids,
        external_ids_excluded,
        user_ids,
        user_ids_excluded,
        // External accounts do not exist yet: no user has an OAuth account, so a provider user id matches nobody.
        match_nothing: provider.is_some(),
        query: non_empty(&q.query),
        email_address_query: non_empty(&q.email_address_query).map(|s| s.to_lowercase()),
        phone_number_query: non_empty(&q.phone_number_query).map(|s| identifiers::phone_key(&s)),
        username_query: non_empty(&q.username_query).map(|s| s.to_lowercase()),
        name_query: non_empty(&q.name_query).map(|s| s.to_lowercase()),
        banned: q.banned,
        last_active_at_before: q.last_active_at_before,
        last_active_at_after: q.last_active_at_after.or(q.last_active_at_since),
        created_at_before: q.created_at_before,
        created_at_after: q.created_at_after,
        last_sign_in_at_before: q.last_sign_in_at_before,
        last_sign_in_at_after: q.last_sign_in_at_after,
        organization_ids,
        organization_ids_excluded,
    })
}

/// The store filter of a user query (validated as the user list validates it), for lists over users such as an
/// organization's memberships.
pub fn user_filter(q: &UserListQuery) -> Result<UserFilter> {
    filter(q)
}

/// A page of the instance's users, each rendered by `render` under `base`: the page's ids, then the users' objects
/// from the cache of rendered users where it has them (see [`super::get_users_rendered`]). The page's ids are
/// cached too, under the same rule as the objects (nothing committed since may have changed them), except for
/// pages filtered by organization membership, a table the cache does not follow.
pub async fn list_users_rendered(
    ctx: &Ctx,
    instance_id: &str,
    q: &UserListQuery,
    page: &UserListPage,
    base: &str,
    render: impl super::RenderUser,
) -> Result<Vec<bytes::Bytes>> {
    let filter = filter(q)?;
    let ids = page_ids(ctx, instance_id, filter, page).await?;
    super::get_users_rendered(ctx, instance_id, &ids, base, render).await
}

/// The ids of a page, from the cache of pages or the database.
async fn page_ids(ctx: &Ctx, instance_id: &str, filter: UserFilter, page: &UserListPage) -> Result<Arc<[String]>> {
    let now = ctx.now_ms();
    let changes = ctx.db.changes().users();
    let cacheable = filter.organization_ids.is_empty() && filter.organization_ids_excluded.is_empty();
    let key = (filter, page.clone());
    if cacheable
        && let Some(hit) =
            ctx.caches.user_pages.get_where(&key, now, |instance, p| instance == instance_id && p.changes == changes)
    {
        return Ok(hit.ids);
    }
    let epoch = ctx.caches.user_pages.epoch();
    let store_page = store_page(ctx, instance_id, page).await?;
    let ids: Arc<[String]> = user_list::list_ids(&ctx.db, instance_id, &key.0, &store_page).await?.into();
    if cacheable {
        let entry = crate::cache::PageIds { changes, ids: ids.clone() };
        ctx.caches.user_pages.insert(key, instance_id, entry, now, epoch);
    }
    Ok(ids)
}

/// The store's page of a user query, its cursor resolved.
async fn store_page(ctx: &Ctx, instance_id: &str, page: &UserListPage) -> Result<UserPage> {
    let after = match page.starting_after.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => {
            if page.order != UserOrder::CreatedAt {
                return Err(Error::param_value_invalid(
                    "starting_after",
                    "starting_after requires ordering by created_at.",
                ));
            }
            if page.offset != 0 {
                return Err(Error::param_value_invalid(
                    "starting_after",
                    "starting_after cannot be combined with offset.",
                ));
            }
            let cursor = tessera_store::users::get(&ctx.db, instance_id, id).await?.ok_or_else(|| {
                Error::param_value_invalid("starting_after", format!("No user with id {id} exists in this instance."))
            })?;
            Some((cursor.created_at, cursor.id))
        }
    };
    Ok(UserPage { order: page.order, descending: page.descending, limit: page.limit, offset: page.offset, after })
}

/// How many users of the instance match.
pub async fn count_users(ctx: &Ctx, instance_id: &str, q: &UserListQuery) -> Result<i64> {
    Ok(user_list::count(&ctx.db, instance_id, &filter(q)?).await?)
}
