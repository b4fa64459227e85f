//! An OpenID Connect identity provider for tests, served by axum on an ephemeral loopback port (a development
//! instance may reach it): discovery, an authorization endpoint that sends the browser back with a code, a token
//! endpoint that checks the client, the redirect URI and the PKCE verifier before it issues an ID token and an
//! access token, the userinfo endpoint (for that access token), and the JWKS. Its keys (RSA for RS256, P-256 for ES256, and an unpublished RSA key) are generated in-process.
//!
//! Tests play the browser: [`TestOidcIdp::authorize`] is what the IdP's login page does with the authorization
//! URL Tessera sent the browser to, and returns the callback path to follow. [`Signing`] and
//! [`TestOidcIdp::override_claims`] make the next ID tokens wrong in one way each, for the negative corpus.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use tessera_core::clock::Clock;

/// The client Tessera is registered as.
pub const CLIENT_ID: &str = "tessera-client";
/// Its secret.
pub const CLIENT_SECRET: &str = "s3cret-of-the-tessera-client";

/// How the IdP makes its next ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// RS256 with the published RSA key.
    Rs256,
    /// ES256 with the published P-256 key.
    Es256,
    /// RS256 under the published key's `kid`, signed with another key.
    OtherKey,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 keyed with the published RSA key's modulus (the "public key as HMAC secret" confusion).
    Hs256WithPublicKey,
    /// RS256 with one signature byte changed.
    BadSignature,
}

/// The person who signs in at the IdP.
#[derive(Debug, Clone)]
pub struct Login {
    /// `sub`.
    pub sub: String,
    /// `email`.
    pub email: String,
    /// `email_verified`.
    pub email_verified: bool,
    /// `given_name`.
    pub given_name: String,
    /// `family_name`.
    pub family_name: String,
}

impl Login {
    /// A verified person with this address (`sub` derived from it).
    pub fn new(email: &str) -> Self {
        Self {
            sub: format!("idp-{email}"),
            email: email.to_owned(),
            email_verified: true,
            given_name: "Grace".into(),
            family_name: "Hopper".into(),
        }
    }
}

/// What the IdP's login page saw and answered.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The callback path and query to follow on the frontend host (`/v1/oauth_callback?code=…&state=…`).
    pub callback: String,
    /// The request's parameters.
    pub params: HashMap<String, String>,
}

struct Grant {
    login: Login,
    nonce: Option<String>,
    challenge: String,
    redirect_uri: String,
}

struct Inner {
    clock: Clock,
    rsa: KeyPair,
    ec: EcdsaKeyPair,
    other: KeyPair,
    codes: HashMap<String, Grant>,
    signing: Signing,
    overrides: Map<String, Value>,
    /// The person each issued access token is for.
    access_tokens: HashMap<String, Login>,
    userinfo_overrides: Map<String, Value>,
    /// Whether the JWKS publishes the EC key (an IdP rotating it in).
    ec_published: bool,
    /// Requests served: discovery documents and JWKS.
    fetches: (usize, usize),
    refuse_codes: bool,
    default_login: Login,
}

/// A running test IdP.
#[derive(Clone)]
pub struct TestOidcIdp {
    /// Its issuer (`http://127.0.0.1:{port}`).
    pub issuer: String,
    inner: Arc<Mutex<Inner>>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

impl TestOidcIdp {
    /// Starts an IdP whose tokens are dated by `clock` (the app's, so that a manual clock governs both).
    pub async fn start(clock: Clock) -> Self {
        let rsa = KeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        let other = KeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let inner = Arc::new(Mutex::new(Inner {
            clock,
            rsa,
            ec,
            other,
            codes: HashMap::new(),
            signing: Signing::Rs256,
            overrides: Map::new(),
            access_tokens: HashMap::new(),
            userinfo_overrides: Map::new(),
            ec_published: true,
            fetches: (0, 0),
            refuse_codes: false,
            default_login: Login::new("grace@acme.test"),
        }));
        let idp = Self { issuer, inner };
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize_page))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/jwks", get(jwks))
            .with_state(idp.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        idp
    }

    /// The discovery URL a connection is configured with.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    /// The IdP's login page: checks the authorization request Tessera sent the browser with (response type, our
    /// client, S256 challenge), signs `login` in and returns where it sends the browser back.
    pub fn authorize(&self, authorization_url: &str, login: &Login) -> Authorized {
        let url = url::Url::parse(authorization_url).expect("authorization URL");
        let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let redirect = self.grant(&params, login).expect("a valid authorization request");
        let target = url::Url::parse(&redirect).expect("redirect URI");
        let callback = format!("{}?{}", target.path(), target.query().unwrap_or_default());
        Authorized { callback, params }
    }

    fn grant(&self, params: &HashMap<String, String>, login: &Login) -> Result<String, String> {
        let p = |k: &str| params.get(k).cloned().ok_or_else(|| format!("{k} missing"));
        if p("response_type")? != "code" || p("client_id")? != CLIENT_ID || p("code_challenge_method")? != "S256" {
            return Err("bad authorization request".into());
        }
        let scopes = p("scope")?;
        if !scopes.split(' ').any(|s| s == "openid") {
            return Err("openid scope missing".into());
        }
        let code = b64(&aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, p("state")?.as_bytes()).as_ref()[..16]);
        let redirect_uri = p("redirect_uri")?;
        let grant = Grant {
            login: login.clone(),
            nonce: params.get("nonce").cloned(),
            challenge: p("code_challenge")?,
            redirect_uri: redirect_uri.clone(),
        };
        lock(&self.inner).codes.insert(code.clone(), grant);
        let mut target = url::Url::parse(&redirect_uri).map_err(|e| e.to_string())?;
        target.query_pairs_mut().append_pair("code", &code).append_pair("state", &p("state")?);
        Ok(target.to_string())
    }

    /// Signs the next ID tokens this way.
    pub fn set_signing(&self, signing: Signing) {
        lock(&self.inner).signing = signing;
    }

    /// Sets claims of the next ID tokens (`null` removes one).
    pub fn override_claims(&self, claims: Value) {
        if let Value::Object(m) = claims {
            lock(&self.inner).overrides.extend(m);
        }
    }

    /// Sets claims of the next userinfo answers (`null` removes one).
    pub fn override_userinfo(&self, claims: Value) {
        if let Value::Object(m) = claims {
            lock(&self.inner).userinfo_overrides.extend(m);
        }
    }

    /// Publishes the EC key in the JWKS, or not (its ES256 tokens then name a key the set lacks).
    pub fn set_ec_published(&self, published: bool) {
        lock(&self.inner).ec_published = published;
    }

    /// How many times the discovery document and the JWKS were fetched.
    pub fn fetches(&self) -> (usize, usize) {
        lock(&self.inner).fetches
    }

    /// Refuses every code at the token endpoint (`invalid_grant`).
    pub fn refuse_codes(&self) {
        lock(&self.inner).refuse_codes = true;
    }

    /// The person `GET /authorize` signs in (a browser driving the IdP over HTTP).
    pub fn set_default_login(&self, login: Login) {
        lock(&self.inner).default_login = login;
    }
}

async fn discovery(State(idp): State<TestOidcIdp>) -> Json<Value> {
    lock(&idp.inner).fetches.0 += 1;
    let i = &idp.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn authorize_page(State(idp): State<TestOidcIdp>, Query(params): Query<HashMap<String, String>>) -> Response {
    let login = lock(&idp.inner).default_login.clone();
    match idp.grant(&params, &login) {
        Ok(target) => Redirect::to(&target).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

fn invalid(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

/// The client's credentials: HTTP Basic (form-encoded parts) or the body.
fn client_of(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, Option<String>)> {
    if let Some(basic) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let decoded = STANDARD.decode(basic.strip_prefix("Basic ")?).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let dec =
            |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        return Some((dec(id)?, Some(dec(secret)?)));
    }
    Some((form.get("client_id")?.clone(), form.get("client_secret").cloned()))
}

async fn token(
    State(idp): State<TestOidcIdp>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = lock(&idp.inner);
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return invalid("unsupported_grant_type");
    }
    match client_of(&headers, &form) {
        Some((id, Some(secret))) if id == CLIENT_ID && secret == CLIENT_SECRET => {}
        _ => return invalid("invalid_client"),
    }
    let Some(grant) = form.get("code").and_then(|c| inner.codes.remove(c)) else { return invalid("invalid_grant") };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref());
    if inner.refuse_codes
        || challenge != grant.challenge
        || form.get("redirect_uri").map(String::as_str) != Some(grant.redirect_uri.as_str())
    {
        return invalid("invalid_grant");
    }
    let now = inner.clock.now_secs();
    let mut claims = json!({
        "iss": idp.issuer,
        "aud": CLIENT_ID,
        "sub": grant.login.sub,
        "email": grant.login.email,
        "email_verified": grant.login.email_verified,
        "given_name": grant.login.given_name,
        "family_name": grant.login.family_name,
        "iat": now,
        "exp": now + 300,
    });
    let map = claims.as_object_mut().expect("object");
    if let Some(n) = grant.nonce {
        map.insert("nonce".into(), Value::String(n));
    }
    for (k, v) in &inner.overrides {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    let id_token = inner.sign(&claims);
    let access_token = format!(
        "at-{}",
        b64(&aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id_token.as_bytes()).as_ref()[..16])
    );
    inner.access_tokens.insert(access_token.clone(), grant.login);
    Json(json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token }))
        .into_response()
}

/// `GET /userinfo` with an access token the token endpoint issued: the person's claims.
async fn userinfo(State(idp): State<TestOidcIdp>, headers: HeaderMap) -> Response {
    let inner = lock(&idp.inner);
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let Some(login) = token.and_then(|t| inner.access_tokens.get(t)) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_token" }))).into_response();
    };
    let mut claims = json!({
        "sub": login.sub,
        "email": login.email,
        "email_verified": login.email_verified,
        "given_name": login.given_name,
        "family_name": login.family_name,
    });
    let map = claims.as_object_mut().expect("object");
    for (k, v) in &inner.userinfo_overrides {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    Json(claims).into_response()
}

impl Inner {
    fn rsa_n(&self) -> Vec<u8> {
        self.rsa.public_key().modulus().big_endian_without_leading_zero().to_vec()
    }

    fn sign(&self, claims: &Value) -> String {
        let (alg, kid) = match self.signing {
            Signing::Es256 => ("ES256", "ec-1"),
            Signing::AlgNone => ("none", "rsa-1"),
            Signing::Hs256WithPublicKey => ("HS256", "rsa-1"),
            _ => ("RS256", "rsa-1"),
        };
        let header = json!({ "alg": alg, "kid": kid, "typ": "JWT" });
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let rng = SystemRandom::new();
        let rsa = |key: &KeyPair| {
            let mut sig = vec![0u8; key.public_modulus_len()];
            key.sign(&signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).expect("sign");
            sig
        };
        let sig = match self.signing {
            Signing::Rs256 => rsa(&self.rsa),
            Signing::OtherKey => rsa(&self.other),
            Signing::BadSignature => {
                let mut s = rsa(&self.rsa);
                s[10] ^= 0x01;
                s
            }
            Signing::Es256 => self.ec.sign(&rng, input.as_bytes()).expect("sign").as_ref().to_vec(),
            Signing::AlgNone => Vec::new(),
            Signing::Hs256WithPublicKey => {
                let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.rsa_n());
                aws_lc_rs::hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
            }
        };
        format!("{input}.{}", b64(&sig))
    }
}

async fn jwks(State(idp): State<TestOidcIdp>) -> Json<Value> {
    let mut inner = lock(&idp.inner);
    inner.fetches.1 += 1;
    let e = inner.rsa.public_key().exponent().big_endian_without_leading_zero().to_vec();
    let point = inner.ec.public_key().as_ref().to_vec();
    let mut keys = vec![json!(
        { "kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": b64(&inner.rsa_n()), "e": b64(&e) }
    )];
    if inner.ec_published {
        keys.push(json!({ "kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
          "x": b64(&point[1..33]), "y": b64(&point[33..65]) }));
    }
    Json(json!({ "keys": keys }))
}
