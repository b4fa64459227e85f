//! OpenID Connect as a relying party (enterprise connections with an OIDC IdP): discovery, the authorization
//! request with PKCE (S256), the code exchange at the token endpoint, ID-token verification against the IdP's
//! JWKS, and the userinfo endpoint (for IdPs whose ID tokens carry only the subject). No database here; [`crate::enterprise_sso::oidc`] runs the sign-in on top.
//!
//! Discovery documents and JWKS are kept for [`CACHE_TTL`]. Every request to the IdP goes through
//! [`crate::outbound`]: no redirects, no environment proxy, short timeouts,
//! public addresses only unless the instance is a development one (which is how tests reach a loopback IdP).
//!
//! ID tokens: only RS256 and ES256 are accepted, each with a key of its own type from the IdP's JWKS (so `none`,
//! and HS256 "signed" with a published public key, never verify); `iss` must be the discovered issuer, `aud` must
//! name our client id (and `azp` too when several audiences are named), `exp` and `iat` are checked with a small
//! skew, and the `nonce` must be the one the request sent.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::outbound::{Outbound, body_excerpt, describe};

/// Signature algorithms accepted on ID tokens.
pub const ALGORITHMS: &[&str] = &["RS256", "ES256"];
/// Clock skew tolerated on `exp` and `iat`.
pub const SKEW_MS: i64 = 60_000;
/// Largest document read from an IdP (discovery, JWKS, token answer).
const MAX_BODY: usize = 256 * 1024;
const WELL_KNOWN: &str = "/.well-known/openid-configuration";

fn clients() -> Result<&'static Outbound, String> {
    static CLIENTS: OnceLock<Outbound> = OnceLock::new();
    if let Some(c) = CLIENTS.get() {
        return Ok(c);
    }
    let built = Outbound::new("Tessera-OIDC/1", Duration::from_secs(5), Duration::from_secs(10))
        .map_err(|e| format!("no HTTP client: {e}"))?;
    Ok(CLIENTS.get_or_init(|| built))
}

/// An IdP's endpoints, from its discovery document (and the connection's explicit URLs, which take priority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `issuer`: what the ID tokens' `iss` must be.
    pub issuer: String,
    /// Where the browser is sent.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The signing keys.
    pub jwks_uri: String,
    /// The userinfo endpoint, if any.
    pub userinfo_endpoint: Option<String>,
    /// The client authenticates with HTTP Basic (`client_secret_basic`, the default) rather than in the body.
    pub basic_auth: bool,
}

/// How long a discovery document or JWKS is reused: the sign-ins through one IdP read them once in a while, not
/// twice per sign-in. An ID token that does not verify against the kept key set is checked once more against a
/// fresh one (a key the IdP rotated in since).
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// Most documents kept (expired ones are dropped first when it is reached).
const CACHE_MAX: usize = 512;

type Cache = Mutex<HashMap<(String, bool), (Instant, Value)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// [`get_json`] through the cache, unless `fresh`. Entries are keyed by whether private targets were allowed too,
/// so a production instance never reuses a document fetched for a development one; failures are not kept.
async fn cached_json(url: &str, allow_private: bool, what: &str, fresh: bool) -> Result<Value, String> {
    let key = (url.to_owned(), allow_private);
    if !fresh {
        let kept = cache().lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        if let Some((_, doc)) = kept.filter(|(until, _)| *until > Instant::now()) {
            return Ok(doc);
        }
    }
    let doc = get_json(url, allow_private, what).await?;
    let mut kept = cache().lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() >= CACHE_MAX {
        let now = Instant::now();
        kept.retain(|_, (until, _)| *until > now);
        if kept.len() >= CACHE_MAX {
            kept.clear();
        }
    }
    kept.insert(key, (Instant::now() + CACHE_TTL, doc.clone()));
    Ok(doc)
}

fn parse_url(what: &str, value: &str) -> Result<url::Url, String> {
    url::Url::parse(value)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some_and(|h| !h.is_empty()))
        .ok_or_else(|| format!("the {what} {value:?} is not an http(s) URL"))
}

async fn get_json(url: &str, allow_private: bool, what: &str) -> Result<Value, String> {
    let u = parse_url(what, url)?;
    let client = clients()?.client_for(&u, allow_private)?;
    let mut response = client
        .get(u)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("the {what} could not be fetched: {}", describe(&e)))?;
    if !response.status().is_success() {
        return Err(format!("the {what} could not be fetched: the server answered {}", response.status().as_u16()));
    }
    read_json(&mut response, what).await
}

async fn read_json(response: &mut reqwest::Response, what: &str) -> Result<Value, String> {
    let body = body_excerpt(response, MAX_BODY + 1).await;
    if body.len() > MAX_BODY {
        return Err(format!("the {what} is too large"));
    }
    serde_json::from_slice(&body).map_err(|_| format!("the {what} is not JSON"))
}

fn str_field<'a>(doc: &'a Value, name: &str) -> Option<&'a str> {
    doc.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Fetches and checks the discovery document at `discovery_url` (the issuer URL itself is completed with
/// `/.well-known/openid-configuration`). Its `issuer` must be the URL it was found under (OIDC Discovery §4.3).
pub async fn discover(discovery_url: &str, allow_private: bool) -> Result<Provider, String> {
    let doc_url = if discovery_url.contains("/.well-known/") {
        discovery_url.to_owned()
    } else {
        format!("{}{WELL_KNOWN}", discovery_url.trim_end_matches('/'))
    };
    let doc = cached_json(&doc_url, allow_private, "discovery document", false).await?;
    let issuer = str_field(&doc, "issuer").ok_or("the discovery document names no issuer")?;
    if let Some(prefix) = doc_url.strip_suffix(WELL_KNOWN)
        && prefix.trim_end_matches('/') != issuer.trim_end_matches('/')
    {
        return Err(format!("the discovery document's issuer {issuer:?} is not the URL it was published under"));
    }
    let endpoint = |name: &str| -> Result<String, String> {
        let v = str_field(&doc, name).ok_or_else(|| format!("the discovery document has no {name}"))?;
        parse_url(name, v).map(|_| v.to_owned())
    };
    let methods = doc.get("token_endpoint_auth_methods_supported").and_then(Value::as_array);
    let supports = |m: &str| methods.is_none_or(|a| a.iter().any(|v| v.as_str() == Some(m)));
    Ok(Provider {
        issuer: issuer.to_owned(),
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?,
        jwks_uri: endpoint("jwks_uri")?,
        userinfo_endpoint: endpoint("userinfo_endpoint").ok(),
        basic_auth: supports("client_secret_basic") || !supports("client_secret_post"),
    })
}

/// A random URL-safe value with 256 bits of entropy (state, nonce, PKCE verifier).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(crate::ids::random_bytes::<32>())
}

/// The PKCE S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()))
}

/// What the authorization request carries.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// Our client id at the IdP.
    pub client_id: &'a str,
    /// Our callback.
    pub redirect_uri: &'a str,
    /// The state.
    pub state: &'a str,
    /// The nonce.
    pub nonce: &'a str,
    /// The PKCE verifier (its S256 challenge is sent).
    pub code_verifier: &'a str,
    /// `login_hint`, if any.
    pub login_hint: Option<&'a str>,
}

/// The URL of the authorization request (response type `code`, scopes `openid email profile`).
pub fn authorization_url(p: &Provider, r: &AuthorizationRequest<'_>) -> Result<String, String> {
    let mut url = parse_url("authorization_endpoint", &p.authorization_endpoint)?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", r.client_id)
            .append_pair("redirect_uri", r.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", r.state)
            .append_pair("nonce", r.nonce)
            .append_pair("code_challenge", &pkce_challenge(r.code_verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(h) = r.login_hint {
            q.append_pair("login_hint", h);
        }
    }
    Ok(url.to_string())
}

/// What the token endpoint answered.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The ID token (compact JWS), not yet verified.
    pub id_token: String,
    /// The access token, if any.
    pub access_token: Option<String>,
}

/// Exchanges `code` at the token endpoint (authorization code grant with the PKCE verifier; the client secret,
/// when there is one, as HTTP Basic or in the body as the IdP supports).
pub async fn exchange_code(
    p: &Provider,
    (client_id, client_secret): (&str, Option<&str>),
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
    allow_private: bool,
) -> Result<Tokens, String> {
    let u = parse_url("token_endpoint", &p.token_endpoint)?;
    let (body, basic) = token_request(p, (client_id, client_secret), code, redirect_uri, code_verifier);
    let client = clients()?.client_for(&u, allow_private)?;
    let mut request = client
        .post(u)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body);
    if let Some(b) = basic {
        request = request.header("authorization", b);
    }
    let mut response =
        request.send().await.map_err(|e| format!("the token endpoint could not be reached: {}", describe(&e)))?;
    let status = response.status();
    let answer = read_json(&mut response, "token answer").await;
    if !status.is_success() {
        let error = answer.ok().and_then(|v| str_field(&v, "error").map(str::to_owned));
        return Err(format!(
            "the identity provider refused the authorization code ({})",
            error.unwrap_or_else(|| format!("status {}", status.as_u16()))
        ));
    }
    let answer = answer?;
    let id_token = str_field(&answer, "id_token").ok_or("the token answer has no id_token")?.to_owned();
    Ok(Tokens { id_token, access_token: str_field(&answer, "access_token").map(str::to_owned) })
}

/// The token request's form body, and its `Authorization` header when the secret goes as HTTP Basic (built apart
/// from the request: the form serializer must not live across an await).
fn token_request(
    p: &Provider,
    (client_id, client_secret): (&str, Option<&str>),
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
) -> (String, Option<String>) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", code_verifier);
    let mut basic = None;
    match client_secret {
        Some(secret) if p.basic_auth => {
            // RFC 6749 §2.3.1: both parts form-encoded before they are joined.
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            basic = Some(format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))));
        }
        Some(secret) => {
            form.append_pair("client_id", client_id).append_pair("client_secret", secret);
        }
        None => {
            form.append_pair("client_id", client_id);
        }
    }
    (form.finish(), basic)
}

/// The IdP's JWKS (kept for [`CACHE_TTL`]; `fresh` fetches it again).
pub async fn fetch_jwks(p: &Provider, allow_private: bool, fresh: bool) -> Result<Value, String> {
    cached_json(&p.jwks_uri, allow_private, "JWKS", fresh).await
}

/// Reads the userinfo endpoint with the access token (OIDC Core §5.3). Its `sub` must be the ID token's `sub`
/// (§5.3.2: the answer may otherwise be another person's, substituted).
pub async fn fetch_userinfo(
    p: &Provider,
    access_token: &str,
    sub: &str,
    allow_private: bool,
) -> Result<Map<String, Value>, String> {
    let endpoint = p.userinfo_endpoint.as_deref().ok_or("the identity provider has no userinfo endpoint")?;
    let u = parse_url("userinfo_endpoint", endpoint)?;
    let client = clients()?.client_for(&u, allow_private)?;
    let mut response = client
        .get(u)
        .header("accept", "application/json")
        .header("authorization", format!("Bearer {access_token}"))
        .send()
        .await
        .map_err(|e| format!("the userinfo endpoint could not be reached: {}", describe(&e)))?;
    if !response.status().is_success() {
        return Err(format!("the userinfo endpoint answered {}", response.status().as_u16()));
    }
    let Value::Object(claims) = read_json(&mut response, "userinfo answer").await? else {
        return Err("the userinfo answer is not a JSON object".into());
    };
    if claims.get("sub").and_then(Value::as_str) != Some(sub) {
        return Err("the userinfo answer is about another subject than the ID token".into());
    }
    Ok(claims)
}

/// What a verified ID token must say.
pub struct Expectations<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// Our client id (`aud`).
    pub client_id: &'a str,
    /// Now, Unix ms.
    pub now_ms: i64,
    /// Whether a `nonce` is the request's (constant-time against its stored digest).
    pub nonce_ok: &'a dyn Fn(&str) -> bool,
}

fn decode_json(part: &str) -> Option<Map<String, Value>> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

fn b64(key: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(key.get(name)?.as_str()?).ok()
}

/// Whether `sig` over `input` verifies with the JWK `key` under `alg` (RS256: an RSA key; ES256: a P-256 key).
fn verifies(key: &Map<String, Value>, alg: &str, input: &[u8], sig: &[u8]) -> bool {
    match alg {
        "RS256" => {
            let (Some(n), Some(e)) = (b64(key, "n"), b64(key, "e")) else { return false };
            PublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, sig)
                .is_ok()
        }
        "ES256" => {
            let (Some(x), Some(y)) = (b64(key, "x"), b64(key, "y")) else { return false };
            if key.get("crv").and_then(Value::as_str) != Some("P-256") || x.len() != 32 || y.len() != 32 {
                return false;
            }
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(input, sig).is_ok()
        }
        _ => false,
    }
}

fn seconds(claims: &Map<String, Value>, name: &str) -> Result<i64, String> {
    claims
        .get(name)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        .map(|s| s.saturating_mul(1000))
        .ok_or_else(|| format!("it has no {name}"))
}

/// Verifies an ID token against `jwks` and `e`; returns its claims, or why it was refused.
pub fn verify_id_token(token: &str, jwks: &Value, e: &Expectations<'_>) -> Result<Map<String, Value>, String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("it is not a signed JWT".into());
    };
    let header = decode_json(h).ok_or("its header is unreadable")?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    if !ALGORITHMS.contains(&alg) {
        return Err(format!("its algorithm {alg:?} is not accepted (RS256 or ES256 only)"));
    }
    if header.contains_key("crit") {
        return Err("it has critical header parameters".into());
    }
    let kty = if alg == "RS256" { "RSA" } else { "EC" };
    let kid = header.get("kid").and_then(Value::as_str);
    let keys: Vec<&Map<String, Value>> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let field = |k: &Map<String, Value>, n: &str| k.get(n).and_then(Value::as_str).map(str::to_owned);
    let candidates: Vec<&Map<String, Value>> = keys
        .into_iter()
        .filter(|k| field(k, "kty").as_deref() == Some(kty))
        .filter(|k| field(k, "use").is_none_or(|u| u == "sig"))
        .filter(|k| field(k, "alg").is_none_or(|a| a == alg))
        .filter(|k| kid.is_none_or(|kid| field(k, "kid").as_deref() == Some(kid)))
        .collect();
    if candidates.is_empty() {
        return Err("no key of the identity provider's JWKS matches it".into());
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| "its signature is unreadable")?;
    let input = &token.as_bytes()[..h.len() + 1 + p.len()];
    if !candidates.iter().any(|k| verifies(k, alg, input, &sig)) {
        return Err("its signature does not verify with the identity provider's keys".into());
    }
    let claims = decode_json(p).ok_or("its claims are unreadable")?;
    if claims.get("iss").and_then(Value::as_str) != Some(e.issuer) {
        return Err("its issuer (iss) is not the identity provider's".into());
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == e.client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(e.client_id)),
        _ => false,
    };
    let azp = claims.get("azp").and_then(Value::as_str);
    let several = claims.get("aud").and_then(Value::as_array).is_some_and(|a| a.len() > 1);
    if !aud_ok || azp.is_some_and(|a| a != e.client_id) || (several && azp.is_none()) {
        return Err("its audience (aud) is not this connection's client".into());
    }
    if e.now_ms >= seconds(&claims, "exp")?.saturating_add(SKEW_MS) {
        return Err("it has expired".into());
    }
    if seconds(&claims, "iat")? > e.now_ms.saturating_add(SKEW_MS) {
        return Err("it was issued in the future".into());
    }
    if !claims.get("nonce").and_then(Value::as_str).is_some_and(|n| (e.nonce_ok)(n)) {
        return Err("its nonce is not the sign-in's".into());
    }
    if claims.get("sub").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err("it names no subject".into());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn refuses_unsigned_and_malformed_tokens() {
        let jwks = serde_json::json!({ "keys": [] });
        let ok = |_: &str| true;
        let e = Expectations { issuer: "https://idp", client_id: "c", now_ms: 0, nonce_ok: &ok };
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode("{}"));
        assert!(verify_id_token(&none, &jwks, &e).unwrap_err().contains("not accepted"));
        assert!(verify_id_token("a.b", &jwks, &e).is_err());
        let hs = format!("{}.{}.x", URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#), URL_SAFE_NO_PAD.encode("{}"));
        assert!(verify_id_token(&hs, &jwks, &e).unwrap_err().contains("not accepted"));
    }
}
