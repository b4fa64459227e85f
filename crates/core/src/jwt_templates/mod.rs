//! JWT templates: named claim templates with Clerk's shortcodes, a lifetime, a clock skew and optionally their own
//! signing key and algorithm; and minting a session's token from one (`POST /sessions/{id}/tokens/{name}`).
//!
//! A custom signing key is sealed at rest and never returned. Without one, tokens are RS256 signed by the
//! instance keyring (so they verify against `/v1/jwks` like session tokens).

pub mod render;
pub mod signing;

use serde_json::{Map, Value, json};
use tessera_store::jwt_templates::{self as store, JwtTemplateRow};

use crate::instances::Instance;
use crate::sessions::{self, Session};
use crate::users::{Identification, User};
use crate::{Ctx, Error, ErrorCode, OnUnique, Result, ids, keyring};

/// Default token lifetime in seconds (Clerk's).
pub const DEFAULT_LIFETIME_S: i64 = 60;
/// Default allowed clock skew in seconds (Clerk's).
pub const DEFAULT_CLOCK_SKEW_S: i64 = 5;
/// Bounds of `lifetime` (the spec's).
pub const LIFETIME_RANGE: std::ops::RangeInclusive<i64> = 30..=315_360_000;
/// Bounds of `allowed_clock_skew` (the spec's).
pub const CLOCK_SKEW_RANGE: std::ops::RangeInclusive<i64> = 0..=300;
/// Claims every template token gets from the server; a template may not set them.
pub const RESERVED_CLAIMS: &[&str] = &["azp", "exp", "iat", "iss", "jti", "nbf", "sub"];
/// Algorithm of tokens signed by the instance keyring.
const INSTANCE_ALGORITHM: &str = "RS256";
/// Seal purpose of custom signing keys.
const KEY_PURPOSE: &str = "jwt_template_signing_key";
/// Longest template name.
const MAX_NAME_LEN: usize = 256;
/// Largest claims template (bytes of JSON): tokens travel in headers.
const MAX_CLAIMS_LEN: usize = 16 * 1024;

/// A template as the API shows it (never with its key).
#[derive(Debug, Clone, PartialEq)]
pub struct JwtTemplate {
    /// `jtmp_…`
    pub id: String,
    /// Unique per instance.
    pub name: String,
    /// The claims template.
    pub claims: Value,
    /// Seconds.
    pub lifetime: i64,
    /// Seconds.
    pub allowed_clock_skew: i64,
    /// Signed with its own key.
    pub custom_signing_key: bool,
    /// `RS256` without a custom key.
    pub signing_algorithm: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl From<JwtTemplateRow> for JwtTemplate {
    fn from(r: JwtTemplateRow) -> Self {
        Self {
            claims: serde_json::from_str(&r.claims).unwrap_or_else(|_| json!({})),
            id: r.id,
            name: r.name,
            lifetime: r.lifetime,
            allowed_clock_skew: r.allowed_clock_skew,
            custom_signing_key: r.custom_signing_key,
            signing_algorithm: r.signing_algorithm,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Body of create and update. In an update an absent `lifetime` / `allowed_clock_skew` keeps the current
/// value and `null` resets it to the default; an absent `custom_signing_key` keeps the current key.
#[derive(Debug, Default)]
pub struct TemplateInput {
    /// Required.
    pub name: Option<String>,
    /// Required, a JSON object.
    pub claims: Option<Value>,
    /// Seconds; `Some(None)` = default.
    pub lifetime: Option<Option<i64>>,
    /// Seconds; `Some(None)` = default.
    pub allowed_clock_skew: Option<Option<i64>>,
    /// Whether `signing_algorithm` / `signing_key` are used.
    pub custom_signing_key: Option<bool>,
    /// One of [`signing::ALGORITHMS`].
    pub signing_algorithm: Option<String>,
    /// PEM private key, or the HMAC secret.
    pub signing_key: Option<String>,
}

/// 404 for a template.
pub fn not_found() -> Error {
    Error::not_found("jwt_template")
}

fn validate_name(name: Option<&str>) -> Result<String> {
    let name = name.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(Error::param_missing("name"));
    }
    if name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(Error::param_value_invalid("name", "name must be at most 256 printable characters."));
    }
    Ok(name.to_owned())
}

fn validate_claims(claims: Option<&Value>) -> Result<String> {
    let claims = claims.ok_or_else(|| Error::param_missing("claims"))?;
    let obj =
        claims.as_object().ok_or_else(|| Error::param_format_invalid("claims", "claims must be a JSON object."))?;
    if let Some(reserved) = RESERVED_CLAIMS.iter().find(|c| obj.contains_key(**c)) {
        return Err(Error::with(
            ErrorCode::JwtTemplateReservedClaim,
            format!("You can't use the reserved claim: '{reserved}'"),
            format!(
                "The claim '{reserved}' is set by the server on every token; reserved claims are {}.",
                RESERVED_CLAIMS.join(", ")
            ),
            Some("claims"),
        ));
    }
    let text = serde_json::to_string(claims).map_err(Error::internal)?;
    if text.len() > MAX_CLAIMS_LEN {
        return Err(Error::param_value_invalid("claims", "claims must be at most 16 KiB of JSON."));
    }
    Ok(text)
}

fn bounded(
    param: &str,
    v: Option<Option<i64>>,
    current: i64,
    default: i64,
    range: &std::ops::RangeInclusive<i64>,
) -> Result<i64> {
    match v {
        None => Ok(current),
        Some(None) => Ok(default),
        Some(Some(n)) if range.contains(&n) => Ok(n),
        Some(Some(_)) => Err(Error::param_value_invalid(
            param,
            format!("{param} must be between {} and {}.", range.start(), range.end()),
        )),
    }
}

/// The signing columns after applying `input` over `current` (`None` on create): custom flag, algorithm, sealed key.
fn signing_columns(
    ctx: &Ctx,
    input: &TemplateInput,
    current: Option<&JwtTemplateRow>,
) -> Result<(bool, String, Option<Vec<u8>>)> {
    let custom = input.custom_signing_key.unwrap_or(current.is_some_and(|c| c.custom_signing_key));
    if !custom {
        return Ok((false, INSTANCE_ALGORITHM.into(), None));
    }
    let current_custom = current.filter(|c| c.custom_signing_key);
    let algorithm = match (input.signing_algorithm.as_deref(), current_custom) {
        (Some(a), _) if !a.is_empty() => a.to_owned(),
        (_, Some(c)) => c.signing_algorithm.clone(),
        _ => return Err(Error::param_missing("signing_algorithm")),
    };
    if !signing::ALGORITHMS.contains(&algorithm.as_str()) {
        return Err(Error::param_value_invalid(
            "signing_algorithm",
            format!("signing_algorithm must be one of {}.", signing::ALGORITHMS.join(", ")),
        ));
    }
    match (input.signing_key.as_deref(), current_custom) {
        (Some(k), _) if !k.is_empty() => {
            signing::parse(&algorithm, k)?;
            Ok((true, algorithm, Some(ctx.secrets.seal(KEY_PURPOSE, k.as_bytes()))))
        }
        // Keep the stored key when the algorithm it was checked for does not change.
        (_, Some(c)) if c.signing_algorithm == algorithm => Ok((true, algorithm, c.signing_key_sealed.clone())),
        _ => Err(Error::param_missing("signing_key")),
    }
}

/// `POST /jwt_templates`: a name already taken answers 422 `form_identifier_exists`.
pub async fn create(ctx: &Ctx, instance_id: &str, input: TemplateInput) -> Result<JwtTemplate> {
    let name = validate_name(input.name.as_deref())?;
    let claims = validate_claims(input.claims.as_ref())?;
    let lifetime = bounded("lifetime", input.lifetime, DEFAULT_LIFETIME_S, DEFAULT_LIFETIME_S, &LIFETIME_RANGE)?;
    let skew = bounded(
        "allowed_clock_skew",
        input.allowed_clock_skew,
        DEFAULT_CLOCK_SKEW_S,
        DEFAULT_CLOCK_SKEW_S,
        &CLOCK_SKEW_RANGE,
    )?;
    let (custom, algorithm, sealed) = signing_columns(ctx, &input, None)?;
    let now = ctx.now_ms();
    let row = JwtTemplateRow {
        id: ids::new_id("jtmp"),
        instance_id: instance_id.to_owned(),
        name,
        claims,
        lifetime,
        allowed_clock_skew: skew,
        custom_signing_key: custom,
        signing_algorithm: algorithm,
        signing_key_sealed: sealed,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    store::insert(&mut tx, &row).await.on_unique(|| Error::identifier_exists("name"))?;
    tx.commit().await?;
    Ok(row.into())
}

/// `PATCH /jwt_templates/{id}`.
pub async fn update(ctx: &Ctx, instance_id: &str, id: &str, input: TemplateInput) -> Result<JwtTemplate> {
    let current = store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    let name = validate_name(input.name.as_deref())?;
    let claims = validate_claims(input.claims.as_ref())?;
    let lifetime = bounded("lifetime", input.lifetime, current.lifetime, DEFAULT_LIFETIME_S, &LIFETIME_RANGE)?;
    let skew = bounded(
        "allowed_clock_skew",
        input.allowed_clock_skew,
        current.allowed_clock_skew,
        DEFAULT_CLOCK_SKEW_S,
        &CLOCK_SKEW_RANGE,
    )?;
    let (custom, algorithm, sealed) = signing_columns(ctx, &input, Some(&current))?;
    let row = JwtTemplateRow {
        name,
        claims,
        lifetime,
        allowed_clock_skew: skew,
        custom_signing_key: custom,
        signing_algorithm: algorithm,
        signing_key_sealed: sealed,
        updated_at: ctx.now_ms(),
        ..current
    };
    let mut tx = ctx.db.begin().await?;
    if store::update(&mut tx, &row).await.on_unique(|| Error::identifier_exists("name"))? == 0 {
        return Err(not_found());
    }
    let row = store::get_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(row.into())
}

/// `GET /jwt_templates/{id}`.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<JwtTemplate> {
    Ok(store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?.into())
}

/// `GET /jwt_templates`: a page, oldest first, and the total.
pub async fn list(ctx: &Ctx, instance_id: &str, limit: i64, offset: i64) -> Result<(Vec<JwtTemplate>, i64)> {
    let (rows, total) = store::list(&ctx.db, instance_id, limit, offset).await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// `DELETE /jwt_templates/{id}`.
pub async fn delete(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if store::delete(&mut tx, instance_id, id).await? == 0 {
        return Err(not_found());
    }
    tx.commit().await?;
    Ok(())
}

fn primary<'a>(list: &'a [Identification], id: Option<&str>) -> Option<&'a Identification> {
    id.and_then(|id| list.iter().find(|i| i.id == id))
}

fn verified(i: Option<&Identification>) -> bool {
    i.and_then(|i| i.verification.as_ref()).is_some_and(|v| v.status == "verified")
}

/// The `user` context of the shortcodes. `base` is the server's origin, for the image URL.
fn user_context(u: &User, base: &str) -> Value {
    let email = primary(&u.email_addresses, u.primary_email_address_id.as_deref());
    let phone = primary(&u.phone_numbers, u.primary_phone_number_id.as_deref());
    let wallet = primary(&u.web3_wallets, u.primary_web3_wallet_id.as_deref());
    let full_name = match (u.first_name.as_deref(), u.last_name.as_deref()) {
        (None, None) => Value::Null,
        (f, l) => json!([f, l].into_iter().flatten().collect::<Vec<_>>().join(" ")),
    };
    json!({
        "id": u.id,
        "external_id": u.external_id,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "full_name": full_name,
        "username": u.username,
        "image_url": crate::users::objects::image_url(base, u.image_id.as_deref()),
        "has_image": u.image_id.is_some(),
        "primary_email_address": email.map(|e| e.value.as_str()),
        "primary_phone_number": phone.map(|p| p.value.as_str()),
        "primary_web3_wallet": wallet.map(|w| w.value.as_str()),
        "email_verified": verified(email),
        "phone_number_verified": verified(phone),
        "two_factor_enabled": u.two_factor_enabled,
        "public_metadata": u.public_metadata,
        "unsafe_metadata": u.unsafe_metadata,
        "created_at": u.created_at.div_euclid(1000),
        "updated_at": u.updated_at.div_euclid(1000),
        "last_sign_in_at": u.last_sign_in_at.map(|t| t.div_euclid(1000)),
    })
}

/// The `org` context: the session's active organization and the user's role in it, or `null`.
async fn org_context(
    ctx: &Ctx,
    instance_id: &str,
    session: &Session,
    claims: &Map<String, Value>,
    base: &str,
) -> Result<Value> {
    let Some(org_id) = session.last_active_organization_id.as_deref() else { return Ok(Value::Null) };
    if !render::mentions(claims, "org.") {
        return Ok(Value::Null);
    }
    let Some(org) = tessera_store::organizations::get(&ctx.db, instance_id, org_id).await? else {
        return Ok(Value::Null);
    };
    let Some(role) = store::membership_role(&ctx.db, instance_id, &org.id, &session.user_id).await? else {
        // No longer a member: the organization is not the user's to claim.
        return Ok(Value::Null);
    };
    Ok(json!({
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "role": role,
        // The logo URL the API's organization objects give (`{base}/v1/organization_images/{id}`).
        "image_url": org.image_id.map(|id| format!("{base}/v1/organization_images/{id}")).unwrap_or_default(),
        "public_metadata": serde_json::from_str::<Value>(&org.public_metadata).unwrap_or_else(|_| json!({})),
    }))
}

/// The `cat` header of tokens rendered from a JWT template (Clerk's category for them).
pub const JWT_TEMPLATE_CATEGORY: &str = "cl_B7d4PD222AAA";

/// `POST /sessions/{id}/tokens/{template_name}`: renders the template for the session's user and signs it.
pub async fn mint(
    ctx: &Ctx,
    instance: &Instance,
    session_id: &str,
    template_name: &str,
    expires_in_seconds: Option<i64>,
    base: &str,
) -> Result<String> {
    let session_row = tessera_store::sessions::get_session(&ctx.db, &instance.id, session_id).await?;
    if session_row.is_none() {
        return Err(sessions::not_found());
    }
    let template = store::get_by_name(&ctx.db, &instance.id, template_name).await?.ok_or_else(not_found)?;
    let lifetime = sessions::token_lifetime(expires_in_seconds, template.lifetime)?;
    let signer = match (&template.signing_key_sealed, template.custom_signing_key) {
        (Some(sealed), true) => {
            let key = ctx.secrets.open_string(KEY_PURPOSE, sealed).map_err(Error::internal)?;
            Some(signing::parse(&template.signing_algorithm, &key)?)
        }
        _ => None,
    };
    let settings = crate::settings::session_settings(ctx, &instance.id).await?;
    let session = sessions::use_active_session(ctx, &settings, &instance.id, session_id).await?;
    let user = crate::users::get_user(ctx, &instance.id, &session.user_id).await?;
    let template_claims: Map<String, Value> = serde_json::from_str(&template.claims).map_err(Error::internal)?;
    let context = json!({
        "user": user_context(&user, base),
        "session": {"id": session.id, "actor": session.actor},
        "org": org_context(ctx, &instance.id, &session, &template_claims, base).await?,
    });
    let Value::Object(mut claims) = render::render(&Value::Object(template_claims), &context) else {
        return Err(Error::internal(anyhow::anyhow!("a rendered object is an object")));
    };
    let iat = ctx.now_ms().div_euclid(1000);
    claims.insert("exp".into(), json!(iat + lifetime));
    claims.insert("iat".into(), json!(iat));
    claims.insert("iss".into(), json!(format!("https://{}", instance.frontend_host())));
    claims.insert("jti".into(), json!(hex::encode(ids::random_bytes::<10>())));
    claims.insert("nbf".into(), json!(iat - template.allowed_clock_skew));
    claims.insert("sub".into(), json!(session.user_id));
    let claims = Value::Object(claims);
    match signer {
        // The category tells `@clerk/backend` this is not a session token (it would accept one without `cat`).
        None => keyring::sign_jwt(ctx, &instance.id, &[("cat", JWT_TEMPLATE_CATEGORY)], &claims).await,
        Some(signer) => {
            let mut header = Map::new();
            header.insert("alg".into(), json!(template.signing_algorithm));
            header.insert("typ".into(), json!("JWT"));
            signing::sign(&signer, &header, &claims)
        }
    }
}
