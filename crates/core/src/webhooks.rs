//! Webhooks: the instance's webhook application and endpoints, Svix-compatible signing, the retry schedule,
//! delivery bookkeeping, and the endpoint portal's one-time links and sessions. Sending is the API crate's worker.

use std::net::IpAddr;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use tessera_store::webhooks::{self as store, AttemptOutcome, ClaimedDelivery, DeliveryRow, EndpointRow};

use crate::crypto::constant_time_eq;
use crate::events::EventType;
use crate::ids::{new_id, random_base62, random_bytes};
use crate::{Ctx, Error, ErrorCode, Result};

/// Sealing purpose of endpoint secrets.
const SECRET_PURPOSE: &str = "webhook-endpoint-secret";
/// How long a one-time portal link works.
pub const PORTAL_TOKEN_TTL_MS: i64 = 10 * 60 * 1000;
/// How long a portal session lasts.
pub const PORTAL_SESSION_TTL_MS: i64 = 60 * 60 * 1000;
/// Longest endpoint URL.
const MAX_URL_LEN: usize = 2048;
/// Longest endpoint description.
const MAX_DESCRIPTION_LEN: usize = 512;

/// Creates the instance's webhook application; 400 `svix_app_exists` if it has one.
pub async fn create_app(ctx: &Ctx, instance_id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if !store::create_app(&mut tx, instance_id, &new_id("app"), ctx.now_ms()).await? {
        return Err(Error::new(ErrorCode::SvixAppExists));
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the instance's webhook application with its endpoints and deliveries; 400 `svix_app_missing` if none.
pub async fn delete_app(ctx: &Ctx, instance_id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if store::delete_app(&mut tx, instance_id).await? == 0 {
        return Err(Error::new(ErrorCode::SvixAppMissing));
    }
    tx.commit().await?;
    Ok(())
}

async fn require_app(ctx: &Ctx, instance_id: &str) -> Result<()> {
    match store::app(&ctx.db, instance_id).await? {
        Some(_) => Ok(()),
        None => Err(Error::new(ErrorCode::SvixAppMissing)),
    }
}

/// A new one-time portal token for the instance (the caller builds the URL); only its digest is stored.
pub async fn new_portal_token(ctx: &Ctx, instance_id: &str) -> Result<String> {
    require_app(ctx, instance_id).await?;
    let token = format!("wpt_{}", random_base62(43));
    let mut tx = ctx.db.begin().await?;
    store::insert_portal_token(&mut tx, &ctx.secrets.digest(&token), instance_id, ctx.now_ms() + PORTAL_TOKEN_TTL_MS)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// Exchanges a one-time portal token (used at most once, before it expires) for a session token.
/// Returns `(instance_id, session_token)`, or `None` for a used, expired or unknown token.
pub async fn open_portal(ctx: &Ctx, token: &str) -> Result<Option<(String, String)>> {
    let now = ctx.now_ms();
    let Some(instance_id) = store::use_portal_token(&ctx.db, &ctx.secrets.digest(token), now).await? else {
        return Ok(None);
    };
    let session = format!("wps_{}", random_base62(43));
    store::insert_portal_session(&ctx.db, &ctx.secrets.digest(&session), &instance_id, now + PORTAL_SESSION_TTL_MS)
        .await?;
    Ok(Some((instance_id, session)))
}

/// The instance a live portal session belongs to.
pub async fn portal_session(ctx: &Ctx, session: &str) -> Result<Option<String>> {
    Ok(store::portal_session(&ctx.db, &ctx.secrets.digest(session), ctx.now_ms()).await?)
}

/// The CSRF token of a portal session (derived from it, so nothing more is stored).
pub fn csrf_token(ctx: &Ctx, session: &str) -> String {
    hex::encode(ctx.secrets.digest(&format!("portal-csrf:{session}")))
}

/// Whether `given` is the session's CSRF token (constant time).
pub fn csrf_valid(ctx: &Ctx, session: &str, given: &str) -> bool {
    constant_time_eq(csrf_token(ctx, session).as_bytes(), given.as_bytes())
}

/// An endpoint as the portal shows it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `ep_…`
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Free text.
    pub description: String,
    /// Subscribed event types (empty: all).
    pub event_types: Vec<String>,
    /// Paused.
    pub disabled: bool,
    /// Unix ms.
    pub created_at: i64,
}

impl From<EndpointRow> for Endpoint {
    fn from(r: EndpointRow) -> Self {
        Self {
            id: r.id,
            url: r.url,
            description: r.description,
            event_types: r.event_types.split_whitespace().map(str::to_owned).collect(),
            disabled: r.disabled,
            created_at: r.created_at,
        }
    }
}

/// What a person enters for an endpoint.
#[derive(Debug, Clone, Default)]
pub struct EndpointInput {
    /// Target URL (`http://` or `https://`).
    pub url: String,
    /// Free text.
    pub description: String,
    /// Event types to subscribe to (empty: all).
    pub event_types: Vec<String>,
    /// Paused.
    pub disabled: bool,
}

/// Checks an endpoint URL: absolute `http`/`https` with a host, no credentials, bounded length. Whether the
/// target may be private is decided at delivery time (DNS can change).
pub fn validate_url(raw: &str) -> Result<String> {
    let raw = raw.trim();
    let invalid = |why: &str| Error::param_value_invalid("url", why.to_owned());
    if raw.len() > MAX_URL_LEN {
        return Err(invalid("url is too long."));
    }
    let url = url::Url::parse(raw).map_err(|_| invalid("url must be an absolute http or https URL."))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url must be an absolute http or https URL."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("url must not contain credentials."));
    }
    Ok(url.to_string())
}

fn validate_input(input: &EndpointInput) -> Result<(String, String, String)> {
    let url = validate_url(&input.url)?;
    if input.description.len() > MAX_DESCRIPTION_LEN {
        return Err(Error::param_value_invalid("description", "description is too long."));
    }
    let mut types = Vec::new();
    for t in &input.event_types {
        let parsed = EventType::parse(t.trim())
            .ok_or_else(|| Error::param_value_invalid("event_types", format!("{t} is not an event type.")))?;
        if !types.contains(&parsed.as_str()) {
            types.push(parsed.as_str());
        }
    }
    Ok((url, input.description.trim().to_owned(), types.join(" ")))
}

/// A new `whsec_…` signing secret (24 random bytes, as Svix).
pub fn new_secret() -> String {
    format!("whsec_{}", B64.encode(random_bytes::<24>()))
}

/// The endpoints of the instance, oldest first.
pub async fn list_endpoints(ctx: &Ctx, instance_id: &str) -> Result<Vec<Endpoint>> {
    Ok(store::endpoints(&ctx.db, instance_id).await?.into_iter().map(Into::into).collect())
}

fn endpoint_not_found() -> Error {
    Error::not_found("endpoint")
}

/// Adds an endpoint with a fresh secret.
pub async fn create_endpoint(ctx: &Ctx, instance_id: &str, input: &EndpointInput) -> Result<Endpoint> {
    require_app(ctx, instance_id).await?;
    let (url, description, event_types) = validate_input(input)?;
    let now = ctx.now_ms();
    let row = EndpointRow {
        id: new_id("ep"),
        instance_id: instance_id.to_owned(),
        url,
        description,
        event_types,
        secret_sealed: ctx.secrets.seal(SECRET_PURPOSE, new_secret().as_bytes()),
        disabled: input.disabled,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    store::insert_endpoint(&mut tx, &row)
        .await
        .map_err(|e| if e.is_foreign_key_violation() { Error::new(ErrorCode::SvixAppMissing) } else { e.into() })?;
    tx.commit().await?;
    Ok(row.into())
}

async fn endpoint_row(ctx: &Ctx, instance_id: &str, id: &str) -> Result<EndpointRow> {
    store::endpoint(&ctx.db, instance_id, id).await?.ok_or_else(endpoint_not_found)
}

/// One endpoint.
pub async fn get_endpoint(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Endpoint> {
    Ok(endpoint_row(ctx, instance_id, id).await?.into())
}

async fn save(ctx: &Ctx, row: &EndpointRow) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if store::update_endpoint(&mut tx, row).await? == 0 {
        return Err(endpoint_not_found());
    }
    tx.commit().await?;
    Ok(())
}

/// Changes an endpoint's URL, description, filter and state (the secret stays).
pub async fn update_endpoint(ctx: &Ctx, instance_id: &str, id: &str, input: &EndpointInput) -> Result<Endpoint> {
    let (url, description, event_types) = validate_input(input)?;
    let mut row = endpoint_row(ctx, instance_id, id).await?;
    row.url = url;
    row.description = description;
    row.event_types = event_types;
    row.disabled = input.disabled;
    row.updated_at = ctx.now_ms();
    save(ctx, &row).await?;
    Ok(row.into())
}

/// Replaces an endpoint's secret; deliveries from now on are signed with the new one.
pub async fn rotate_secret(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut row = endpoint_row(ctx, instance_id, id).await?;
    row.secret_sealed = ctx.secrets.seal(SECRET_PURPOSE, new_secret().as_bytes());
    row.updated_at = ctx.now_ms();
    save(ctx, &row).await
}

/// An endpoint's signing secret (`whsec_…`).
pub async fn endpoint_secret(ctx: &Ctx, instance_id: &str, id: &str) -> Result<String> {
    let row = endpoint_row(ctx, instance_id, id).await?;
    ctx.secrets.open_string(SECRET_PURPOSE, &row.secret_sealed).map_err(Error::internal)
}

/// Removes an endpoint and its deliveries.
pub async fn delete_endpoint(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if store::delete_endpoint(&mut tx, instance_id, id).await? == 0 {
        return Err(endpoint_not_found());
    }
    tx.commit().await?;
    Ok(())
}

/// The latest deliveries of the instance, newest first.
pub async fn recent_deliveries(ctx: &Ctx, instance_id: &str, limit: i64) -> Result<Vec<DeliveryRow>> {
    Ok(store::recent_deliveries(&ctx.db, instance_id, limit).await?)
}

/// Queues a finished (succeeded or failed) delivery for another try now.
pub async fn replay(ctx: &Ctx, instance_id: &str, delivery_id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if store::replay(&mut tx, instance_id, delivery_id, ctx.now_ms()).await? == 0 {
        return Err(Error::not_found("delivery"));
    }
    tx.commit().await?;
    Ok(())
}

/// The `svix-signature` value: `v1,` + base64 HMAC-SHA256 of `{msg_id}.{timestamp}.{body}` keyed with the
/// base64-decoded part of the `whsec_` secret.
pub fn sign(secret: &str, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> Result<String> {
    let key = B64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| Error::internal(anyhow::anyhow!("endpoint secret is not base64: {e}")))?;
    let mut signed = format!("{msg_id}.{timestamp_secs}.").into_bytes();
    signed.extend_from_slice(body);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &signed);
    Ok(format!("v1,{}", B64.encode(tag.as_ref())))
}

/// When to try again: delays after each failed try, as Svix's schedule (immediately, 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h), with proportional jitter. After the last delay is used the delivery is failed.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delay before try n+2 after try n+1 failed, in ms.
    pub delays_ms: Vec<i64>,
    /// Jitter as a fraction of the delay (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        const S: i64 = 1000;
        Self { delays_ms: vec![5 * S, 300 * S, 1800 * S, 7200 * S, 18000 * S, 36000 * S, 36000 * S], jitter: 0.2 }
    }
}

impl RetryPolicy {
    /// The delay after `attempts` failed tries (1 = the first try failed), or `None` when they are exhausted.
    pub fn delay_after(&self, attempts: i64) -> Option<i64> {
        let base = *self.delays_ms.get(usize::try_from(attempts - 1).ok()?)?;
        let unit = f64::from(u32::from_be_bytes(random_bytes::<4>())) / f64::from(u32::MAX);
        let spread = (base as f64 * self.jitter * (unit * 2.0 - 1.0)) as i64;
        Some((base + spread).max(0))
    }
}

/// The result of sending one delivery.
#[derive(Debug, Clone)]
pub struct SendResult {
    /// HTTP status, if a response arrived.
    pub status_code: Option<u16>,
    /// Start of the response body.
    pub response: Option<String>,
    /// Why no (acceptable) response arrived.
    pub error: Option<String>,
}

impl SendResult {
    /// A 2xx answer.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// A claimed delivery ready to send: target, headers and body.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The claimed row.
    pub delivery: ClaimedDelivery,
    /// The `svix-timestamp` (Unix seconds).
    pub timestamp: i64,
    /// `svix-signature`.
    pub signature: String,
    /// Whether the target may be loopback/private (development instance, or allowed by the operator).
    pub allow_private: bool,
}

/// Claims due deliveries for `owner` (leased for `lease_ms`) and signs them.
pub async fn claim(ctx: &Ctx, owner: &str, lease_ms: i64, limit: i64, allow_private: bool) -> Result<Vec<Outgoing>> {
    let now = ctx.now_ms();
    let claimed = store::claim_due(&ctx.db, owner, now, now + lease_ms, limit).await?;
    let mut out = Vec::with_capacity(claimed.len());
    for mut d in claimed {
        d.payload = crate::events::open_payload(ctx, &d.payload)?;
        let secret = ctx.secrets.open_string(SECRET_PURPOSE, &d.secret_sealed).map_err(Error::internal)?;
        let timestamp = now.div_euclid(1000);
        let signature = sign(&secret, &d.event_id, timestamp, d.payload.as_bytes())?;
        let allow_private = allow_private || d.environment_type == "development";
        out.push(Outgoing { delivery: d, timestamp, signature, allow_private });
    }
    Ok(out)
}

/// Records the outcome of a try: succeeded, retry later (per `policy`) or failed for good. Returns false if the
/// lease was lost meanwhile (nothing recorded; the new owner's try counts).
pub async fn record(ctx: &Ctx, owner: &str, d: &ClaimedDelivery, r: &SendResult, policy: &RetryPolicy) -> Result<bool> {
    let now = ctx.now_ms();
    let (status, next) = if r.succeeded() {
        ("succeeded", now)
    } else {
        match policy.delay_after(d.attempts + 1) {
            Some(delay) => ("pending", now + delay),
            None => ("failed", now),
        }
    };
    let outcome = AttemptOutcome {
        attempt_id: &new_id("atmpt"),
        status_code: r.status_code.map(i64::from),
        response: r.response.as_deref(),
        error: r.error.as_deref(),
        status,
        next_attempt_at: next,
        now,
    };
    let recorded = store::record_attempt(&ctx.db, &d.id, owner, &outcome).await?;
    // `pending` after a try means another try is scheduled.
    let outcome = match (recorded, status) {
        (false, _) => "lease_lost",
        (true, "pending") => "retrying",
        (true, s) => s,
    };
    metrics::counter!("tessera_webhook_deliveries_total", "outcome" => outcome).increment(1);
    Ok(recorded)
}

/// How many deliveries of every instance wait to be sent (the webhook outbox depth, for `/metrics`).
pub async fn outbox_depth(ctx: &Ctx) -> Result<i64> {
    Ok(store::pending_count(&ctx.db).await?)
}

/// Whether an address is public: not loopback, private, link-local, CGNAT, unspecified, multicast or
/// documentation space (IPv4-mapped IPv6 addresses are judged by their IPv4 address).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
                || (seg[0] == 0x0064 && seg[1] == 0xff9b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svix_reference_signature() {
        // The example of Svix's documentation ("Verifying webhooks manually").
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn retry_schedule_ends() {
        let p = RetryPolicy { delays_ms: vec![1000, 2000], jitter: 0.0 };
        assert_eq!(p.delay_after(1), Some(1000));
        assert_eq!(p.delay_after(2), Some(2000));
        assert_eq!(p.delay_after(3), None);
        let j = RetryPolicy { delays_ms: vec![1000], jitter: 0.2 };
        for _ in 0..100 {
            let d = j.delay_after(1).unwrap();
            assert!((800..=1200).contains(&d), "{d}");
        }
    }

    #[test]
    fn private_addresses() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls() {
        assert!(validate_url("https://example.com/hook").is_ok());
        assert!(validate_url("ftp://example.com").is_err());
        assert!(validate_url("https://u:p@example.com").is_err());
        assert!(validate_url("not a url").is_err());
    }
}
