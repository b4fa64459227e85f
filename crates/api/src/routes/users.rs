//! Users: create, get, list, count, delete. Authenticated with the instance secret key.

use crate::json::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse as _, Response};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use tessera_core::store::user_list::UserOrder;
use tessera_core::users::list::UserListPage;
use tessera_core::users::{NewUser, UserListQuery};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_bool, lenient_u64};
use crate::list::{OrderBy, Paging};
use crate::objects::user::{DeletedUserObject, TotalCountObject, render_user, rendered_users, user};

/// Largest page of the user list.
const MAX_LIMIT: u64 = 500;

/// `order_by` fields of the user list, as the spec spells them.
const ORDER_FIELDS: &[&str] = &[
    "created_at",
    "updated_at",
    "email_address",
    "web3wallet",
    "first_name",
    "last_name",
    "phone_number",
    "username",
    "last_active_at",
    "last_sign_in_at",
];

/// The origin the client reached this server at (`scheme://host`), for absolute image URLs; empty when the
/// request carries no `Host` (in-process tests), which yields root-relative URLs.
#[derive(Debug, Clone)]
pub struct RequestOrigin(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let host =
            header("x-forwarded-host").or_else(|| header("host")).or_else(|| parts.uri.authority().map(|a| a.as_str()));
        let valid = |h: &&str| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
        Ok(Self(match host.filter(valid) {
            Some(host) => {
                let scheme = match header("x-forwarded-proto") {
                    Some("https") => "https",
                    _ => parts.uri.scheme_str().filter(|s| *s == "https").unwrap_or("http"),
                };
                format!("{scheme}://{host}")
            }
            None => String::new(),
        }))
    }
}

/// Deserializes an optional integer from a query value (`1700690400000`, also `1.7e12`).
pub fn lenient_i64<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    let raw: Option<String> = Option::deserialize(de)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not an integer"))),
    }
}

/// Filters shared by `GET /users` and `GET /users/count`.
#[derive(Debug, Default, Deserialize)]
pub struct UserFilterParams {
    #[serde(default)]
    email_address: Vec<String>,
    #[serde(default)]
    phone_number: Vec<String>,
    #[serde(default)]
    external_id: Vec<String>,
    #[serde(default)]
    username: Vec<String>,
    #[serde(default)]
    web3_wallet: Vec<String>,
    #[serde(default)]
    user_id: Vec<String>,
    #[serde(default)]
    organization_id: Vec<String>,
    query: Option<String>,
    email_address_query: Option<String>,
    phone_number_query: Option<String>,
    username_query: Option<String>,
    name_query: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    banned: Option<bool>,
    #[serde(default, deserialize_with = "lenient_i64")]
    last_active_at_before: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    last_active_at_after: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    last_active_at_since: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    created_at_before: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    created_at_after: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    last_sign_in_at_before: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    last_sign_in_at_after: Option<i64>,
    provider: Option<String>,
    #[serde(default)]
    provider_user_id: Vec<String>,
}

impl From<UserFilterParams> for UserListQuery {
    fn from(p: UserFilterParams) -> Self {
        Self {
            email_address: p.email_address,
            phone_number: p.phone_number,
            external_id: p.external_id,
            username: p.username,
            web3_wallet: p.web3_wallet,
            user_id: p.user_id,
            organization_id: p.organization_id,
            query: p.query,
            email_address_query: p.email_address_query,
            phone_number_query: p.phone_number_query,
            username_query: p.username_query,
            name_query: p.name_query,
            banned: p.banned,
            last_active_at_before: p.last_active_at_before,
            last_active_at_after: p.last_active_at_after,
            last_active_at_since: p.last_active_at_since,
            created_at_before: p.created_at_before,
            created_at_after: p.created_at_after,
            last_sign_in_at_before: p.last_sign_in_at_before,
            last_sign_in_at_after: p.last_sign_in_at_after,
            provider: p.provider,
            provider_user_id: p.provider_user_id,
        }
    }
}

/// Paging of `GET /users` (its filters are [`UserFilterParams`], read from the same query string: serde's
/// `flatten` would lose repeated keys).
#[derive(Debug, Deserialize)]
pub struct ListUsersParams {
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
    #[serde(default)]
    order_by: Vec<String>,
    starting_after: Option<String>,
}

fn order(field: &str) -> UserOrder {
    match field {
        "updated_at" => UserOrder::UpdatedAt,
        "email_address" => UserOrder::EmailAddress,
        "web3wallet" => UserOrder::Web3Wallet,
        "first_name" => UserOrder::FirstName,
        "last_name" => UserOrder::LastName,
        "phone_number" => UserOrder::PhoneNumber,
        "username" => UserOrder::Username,
        "last_active_at" => UserOrder::LastActiveAt,
        "last_sign_in_at" => UserOrder::LastSignInAt,
        _ => UserOrder::CreatedAt,
    }
}

/// `GET /v1/users`: a bare array of users.
pub async fn get_user_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Params(filter): Params<UserFilterParams>,
    Params(p): Params<ListUsersParams>,
) -> ApiResult<Response> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(MAX_LIMIT)?;
    // "We only support one order_by parameter … we will only keep the first one."
    let sort = OrderBy::parse(p.order_by.first().map(String::as_str), ORDER_FIELDS, "-created_at")?;
    let list_page = UserListPage {
        order: order(sort.field),
        descending: sort.descending,
        limit: page.limit,
        offset: page.offset,
        starting_after: p.starting_after,
    };
    let list = tessera_core::users::list::list_users_rendered(
        &app.ctx,
        &instance.id,
        &filter.into(),
        &list_page,
        &origin,
        render_user,
    )
    .await?;
    Ok(rendered_users(&list))
}

/// `GET /v1/users/count` (its spec declares only 422 for client errors, so bad query values are 422 too).
pub async fn get_users_count(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    params: Result<Params<UserFilterParams>, ApiError>,
) -> ApiResult<Response> {
    let Params(p) = params.map_err(|ApiError(e)| {
        let item = &e.items()[0];
        let param = item.meta.as_ref().and_then(|m| m.param_name.clone()).unwrap_or_else(|| "query".into());
        ApiError(tessera_core::Error::param_format_invalid(&param, item.long_message.clone()))
    })?;
    let n = tessera_core::users::count_users(&app.ctx, &instance.id, &p.into()).await?;
    Ok(Json(TotalCountObject::new(n)).into_response())
}

/// Body of `POST /users` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    external_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    locale: Option<String>,
    email_address: Option<Vec<String>>,
    email_address_identification_status: Option<Vec<String>>,
    phone_number: Option<Vec<String>>,
    phone_number_identification_status: Option<Vec<String>>,
    web3_wallet: Option<Vec<String>>,
    username: Option<String>,
    password: Option<String>,
    password_digest: Option<String>,
    password_hasher: Option<String>,
    skip_password_checks: Option<bool>,
    // Tessera instances have no "password required" or "identifier required" settings yet, and no legal
    // requirements: these flags are accepted and have nothing to skip.
    #[expect(dead_code, reason = "accepted for compatibility; nothing to skip")]
    skip_password_requirement: Option<bool>,
    #[expect(dead_code, reason = "accepted for compatibility; nothing to skip")]
    skip_legal_checks: Option<bool>,
    #[expect(dead_code, reason = "accepted for compatibility; nothing to skip")]
    skip_user_requirement: Option<bool>,
    totp_secret: Option<String>,
    backup_codes: Option<Vec<String>>,
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
    unsafe_metadata: Option<Map<String, Value>>,
    delete_self_enabled: Option<bool>,
    legal_accepted_at: Option<String>,
    create_organization_enabled: Option<bool>,
    create_organizations_limit: Option<i64>,
    created_at: Option<String>,
    bypass_client_trust: Option<bool>,
    banned: Option<bool>,
    locked: Option<bool>,
}

/// `POST /v1/users`
pub async fn create_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Body(b): Body<CreateUserBody>,
) -> ApiResult<Response> {
    let input = NewUser {
        external_id: b.external_id,
        first_name: b.first_name,
        last_name: b.last_name,
        locale: b.locale,
        email_address: b.email_address.unwrap_or_default(),
        email_address_identification_status: b.email_address_identification_status.unwrap_or_default(),
        phone_number: b.phone_number.unwrap_or_default(),
        phone_number_identification_status: b.phone_number_identification_status.unwrap_or_default(),
        web3_wallet: b.web3_wallet.unwrap_or_default(),
        username: b.username,
        password: b.password,
        password_digest: b.password_digest,
        password_hasher: b.password_hasher,
        skip_password_checks: b.skip_password_checks.unwrap_or(false),
        totp_secret: b.totp_secret,
        backup_codes: b.backup_codes.unwrap_or_default(),
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
        unsafe_metadata: b.unsafe_metadata,
        delete_self_enabled: b.delete_self_enabled,
        create_organization_enabled: b.create_organization_enabled,
        create_organizations_limit: b.create_organizations_limit,
        created_at: b.created_at,
        legal_accepted_at: b.legal_accepted_at,
        bypass_client_trust: b.bypass_client_trust,
        banned: b.banned,
        locked: b.locked,
    };
    let created = tessera_core::users::create_user(&app.ctx, &instance.id, input).await?;
    Ok(user(&created, &origin))
}

/// `GET /v1/users/{user_id}`
pub async fn get_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    let body = tessera_core::users::get_user_rendered(&app.ctx, &instance.id, &user_id, &origin, render_user).await?;
    Ok(crate::json::serialized(body))
}

/// `DELETE /v1/users/{user_id}`
pub async fn delete_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    tessera_core::users::delete_user(&app.ctx, &instance.id, &user_id).await?;
    Ok(Json(DeletedUserObject::new(&user_id)).into_response())
}
