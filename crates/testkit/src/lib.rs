//! Test support: an in-process [`TestApp`] on a fresh database (SQLite by default, PostgreSQL when
//! `TESSERA_TEST_DATABASE_URL=postgres://…` is set) and a request builder whose every response is validated
//! against the operation's schema in Clerk's OpenAPI spec of the API version the request asked for.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tessera_api::AppState;
use tessera_api::version::ApiVersion;
use tessera_core::crypto::MasterKey;
use tessera_core::instances::{self, Environment, Instance};
use tessera_core::store::{Db, DbTarget};
use tessera_core::{Clock, Ctx};
use tower::ServiceExt as _;

pub mod browser;
pub mod oidc;
pub mod saml;
pub mod scim;
pub use browser::{FapiRequest, TestBrowser, jwt_claims};

/// The environment variable that selects PostgreSQL for the test suite.
pub const TEST_DATABASE_URL: &str = "TESSERA_TEST_DATABASE_URL";

/// Opens a fresh, migrated database for one test.
pub async fn fresh_db() -> Db {
    fresh_test_db().await.0
}

/// A fresh, migrated database, and on PostgreSQL the schema it lives in (to be given back with [`give_back`]).
async fn fresh_test_db() -> (Db, Option<String>) {
    match std::env::var(TEST_DATABASE_URL).ok().filter(|u| !u.is_empty()) {
        None => (Db::connect(&DbTarget::SqliteMemory).await.expect("throwaway SQLite"), None),
        Some(url) => {
            let (db, schema) = fresh_postgres_schema(&url).await;
            (db, Some(schema))
        }
    }
}

/// PostgreSQL schemas of this process that finished tests gave back. Creating a schema and running every
/// migration in it costs seconds of PostgreSQL's time per test; emptying a used one costs milliseconds.
static FREE_SCHEMAS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Gives a test's schema back for the next test (its rows are removed before reuse, not now: the giving test's
/// connections may still be closing).
fn give_back(schema: String) {
    FREE_SCHEMAS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(schema);
}

/// A schema of its own per test in the given PostgreSQL database: one a finished test gave back, emptied, or a new
/// one with the migrations applied inside it.
async fn fresh_postgres_schema(url: &str) -> (Db, String) {
    use sqlx::Connection as _;
    use std::str::FromStr as _;
    let options = sqlx::postgres::PgConnectOptions::from_str(url).expect("TESSERA_TEST_DATABASE_URL");
    let options = tessera_core::store::db::plain_on_loopback(options, url);
    let reused = FREE_SCHEMAS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
    if let Some(schema) = reused {
        let mut conn = sqlx::PgConnection::connect_with(&options).await.expect("connect to the test PostgreSQL");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables \
             WHERE schemaname = $1 AND tablename <> '_sqlx_migrations'",
        )
        .bind(&schema)
        .fetch_all(&mut conn)
        .await
        .expect("the test schema's tables");
        // Quoted by PostgreSQL itself above.
        let truncate = format!("TRUNCATE {} RESTART IDENTITY CASCADE", tables.join(", "));
        sqlx::query(sqlx::AssertSqlSafe(truncate)).execute(&mut conn).await.expect("empty the reused test schema");
        conn.close().await.ok();
        let db = Db::open_postgres(options.options([("search_path", schema.as_str())])).await.expect("test pool");
        return (db, schema);
    }
    let schema = format!("t_{}", tessera_core::ids::random_base62(16).to_ascii_lowercase());
    let mut admin = sqlx::PgConnection::connect_with(&options).await.expect("connect to the test PostgreSQL");
    // The schema name is generated here from base62 characters only.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .expect("create test schema");
    admin.close().await.ok();
    let db = Db::open_postgres(options.options([("search_path", schema.as_str())])).await.expect("test pool");
    db.migrate().await.expect("migrations");
    (db, schema)
}

/// An in-process server with one development instance.
pub struct TestApp {
    /// State shared with the router (the core context is `state.ctx`).
    pub state: AppState,
    router: tessera_frontend::App,
    /// The first instance's secret key, sent by default.
    pub secret_key: String,
    /// The first instance.
    pub instance: Instance,
    /// The clock (manual in apps built with [`TestApp::with_clock`]).
    pub clock: Clock,
    /// On PostgreSQL, the test's schema, given back for reuse when the app is dropped.
    pg_schema: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(schema) = self.pg_schema.take() {
            give_back(schema);
        }
    }
}

impl TestApp {
    /// A fresh app on the system clock.
    pub async fn new() -> Self {
        Self::build(Clock::System).await
    }

    /// A fresh app on a manual clock starting at `start_ms` (advance with `app.clock.advance_ms`).
    pub async fn with_clock(start_ms: i64) -> Self {
        Self::build(Clock::manual(start_ms)).await
    }

    async fn build(clock: Clock) -> Self {
        let (db, pg_schema) = fresh_test_db().await;
        let ctx = Ctx::new(db, clock.clone(), &MasterKey::generate());
        let created = instances::create_instance(&ctx, Environment::Development, None).await.expect("first instance");
        let state = AppState::new(ctx);
        let router = tessera_frontend::app(state.clone());
        Self { state, router, secret_key: created.secret_key, instance: created.instance, clock, pg_schema }
    }

    /// Serves requests that name no API version as `version` (the server's `--default-api-version`).
    #[must_use]
    pub fn with_default_api_version(mut self, version: ApiVersion) -> Self {
        self.state = self.state.clone().with_default_api_version(version);
        self.router = tessera_frontend::app(self.state.clone());
        self
    }

    /// Enforces these rate limits (`tessera_api::rate_limits::RateLimits::new` with small numbers, on a manual clock,
    /// makes a limit reachable and its window passable without waiting).
    #[must_use]
    pub fn with_rate_limits(mut self, limits: tessera_api::rate_limits::RateLimits) -> Self {
        self.state = self.state.clone().with_rate_limits(limits);
        self.router = tessera_frontend::app(self.state.clone());
        self
    }

    /// Creates another instance in the same database and returns it with its secret key.
    pub async fn create_instance(&self, environment: Environment) -> (Instance, String) {
        let created = instances::create_instance(&self.state.ctx, environment, None).await.expect("instance");
        (created.instance, created.secret_key)
    }

    /// The core context.
    pub fn ctx(&self) -> &Ctx {
        &self.state.ctx
    }

    /// Runs `sql` on a connection of its own, outside the server's transactions — as the CLI or a hand-written
    /// statement would: the server learns of it only as it learns of another process's changes.
    pub async fn write_behind_the_servers_back(&self, sql: &str) {
        use sqlx::Connection as _;
        match &self.state.ctx.db {
            Db::Postgres(pools) => {
                let sql = sqlx::AssertSqlSafe(sql.to_owned());
                sqlx::query(sql).execute(&pools.pool).await.expect("statement behind the server's back");
            }
            Db::Sqlite(pools) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(pools.path());
                let mut conn = sqlx::SqliteConnection::connect_with(&options).await.expect("second connection");
                let sql = sqlx::AssertSqlSafe(sql.to_owned());
                sqlx::query(sql).execute(&mut conn).await.expect("statement behind the server's back");
                conn.close().await.ok();
            }
        }
    }

    /// A request to a page outside both APIs (the portals' HTML): sent as given — with `cookie` and, for a POST,
    /// a form-encoded `form` — and nothing validated, since no spec describes it.
    pub async fn page(&self, method: Method, path: &str, cookie: Option<&str>, form: Option<&str>) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            builder = builder.header("cookie", c);
        }
        if form.is_some() {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
        }
        let request = builder.body(Body::from(form.unwrap_or_default().to_owned())).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("infallible router");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        TestResponse { status, headers, body, json: Value::Null }
    }

    /// Starts a request with the default secret key.
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest {
            app: self,
            method,
            path: path.to_owned(),
            bearer: Some(self.secret_key.clone()),
            body: None,
            content_type: None,
            api_version: None,
            headers: Vec::new(),
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: Value) -> TestRequest<'_> {
        self.request(Method::POST, path).json(body)
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(&self, path: &str, body: Value) -> TestRequest<'_> {
        self.request(Method::PATCH, path).json(body)
    }

    /// `PUT path` with a JSON body.
    pub fn put(&self, path: &str, body: Value) -> TestRequest<'_> {
        self.request(Method::PUT, path).json(body)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }
}

/// A request being built. [`TestRequest::send`] validates the response against the spec.
pub struct TestRequest<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    bearer: Option<String>,
    body: Option<Vec<u8>>,
    content_type: Option<String>,
    api_version: Option<String>,
    headers: Vec<(String, String)>,
}

/// What the server must answer, by the API version a request names (`Clerk-API-Version` header and/or the
/// `__clerk_api_version` query parameter).
enum Expected {
    /// A valid request of this version: validate against its spec.
    Version(ApiVersion),
    /// Both ways at once, or no version of Clerk's: 400 in the Clerk envelope.
    InvalidVersion,
}

fn expected_version(app: &TestApp, path: &str, header: Option<&str>) -> Expected {
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let queried: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == tessera_api::version::QUERY_PARAM)
        .map(|(_, v)| v.into_owned())
        .collect();
    let named = match (header, queried.as_slice()) {
        (None, []) => return Expected::Version(app.state.default_api_version),
        (Some(h), []) => h,
        (None, [q]) => q.as_str(),
        _ => return Expected::InvalidVersion,
    };
    ApiVersion::parse(named).map_or(Expected::InvalidVersion, Expected::Version)
}

impl TestRequest<'_> {
    /// Sends another header (`Idempotency-Key`…).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Names the API version with the `Clerk-API-Version` header (as `@clerk/backend` and the Python SDK do). The
    /// response is validated against that version's spec.
    pub fn api_version(mut self, version: &str) -> Self {
        self.api_version = Some(version.to_owned());
        self
    }

    /// A JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(serde_json::to_vec(&body).expect("json"));
        self.content_type = Some("application/json".into());
        self
    }

    /// A raw body with a content type (for malformed input).
    pub fn raw(mut self, body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = Some(body.into());
        self.content_type = Some(content_type.into());
        self
    }

    /// Authenticate with another bearer token (another instance's key, a machine secret key…).
    pub fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    /// Send no `Authorization` header.
    pub fn anonymous(mut self) -> Self {
        self.bearer = None;
        self
    }

    /// Sends the request in-process and validates the response against the spec (when the path is a spec
    /// operation). Panics with the validator's explanation if the response breaks the contract.
    pub async fn send(self) -> TestResponse {
        let mut builder = Request::builder().method(self.method.clone()).uri(&self.path);
        if let Some(token) = &self.bearer {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(ct) = &self.content_type {
            builder = builder.header("content-type", ct);
        }
        if let Some(v) = &self.api_version {
            builder = builder.header(tessera_api::version::HEADER, v);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let request = builder.body(Body::from(self.body.unwrap_or_default())).expect("request");
        let response = self.app.router.clone().oneshot(request).await.expect("infallible router");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
        let version = match expected_version(self.app, &self.path, self.api_version.as_deref()) {
            Expected::Version(v) => v,
            Expected::InvalidVersion => {
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                assert!(
                    status == 400 && json["errors"][0]["code"].is_string(),
                    "{} {}: a request naming an invalid or two API versions must answer 400 in the Clerk envelope; \
                     got {status} {json}",
                    self.method,
                    self.path
                );
                return TestResponse { status, headers, body, json };
            }
        };
        // An operation a later version added is served under every version; its contract is that version's spec.
        let spec = std::iter::once(version.as_str())
            .chain(tessera_spec_check::BACKEND_VERSIONS.iter().copied())
            .map(tessera_spec_check::backend_spec)
            .find(|spec| spec.find_operation(self.method.as_str(), &self.path).is_some());
        if let Some(spec) = spec {
            if let Err(why) = spec.validate_response(self.method.as_str(), &self.path, status, content_type, &body) {
                panic!("response breaks the contract:\n{why}");
            }
        } else if !body.is_empty() {
            assert_eq!(content_type, Some("application/json"), "{} {}: every body is JSON", self.method, self.path);
        }
        let json = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
        TestResponse { status, headers, body, json }
    }
}

/// A response, already validated against the spec.
#[derive(Debug)]
pub struct TestResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Vec<u8>,
    /// The body as JSON (`Null` when empty).
    pub json: Value,
}

impl TestResponse {
    /// Asserts the status and returns the response, printing the body on mismatch.
    #[track_caller]
    pub fn assert_status(self, expected: u16) -> Self {
        assert_eq!(self.status, expected, "unexpected status; body: {}", String::from_utf8_lossy(&self.body));
        self
    }

    /// Asserts a Clerk error: status, first error code, and (when given) `meta.param_name`.
    #[track_caller]
    pub fn assert_error(self, status: u16, code: &str, param: Option<&str>) -> Self {
        let this = self.assert_status(status);
        assert_eq!(this.error_code(), code, "error code; body: {}", this.json);
        if let Some(param) = param {
            assert_eq!(this.json["errors"][0]["meta"]["param_name"], param, "param_name; body: {}", this.json);
        }
        this
    }

    /// The first error's code (empty if none).
    pub fn error_code(&self) -> &str {
        self.json["errors"][0]["code"].as_str().unwrap_or_default()
    }
}
