//! A browser on an instance's Frontend API, in process: requests carry the instance's frontend host, clerk-js's
//! query parameters and (development) the dev-browser token; a cookie jar keeps what the server sets. Every
//! response of a spec operation is validated against the FAPI spec of the browser's API version.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tessera_core::instances::{Environment, Instance};
use tower::ServiceExt as _;

use crate::{TestApp, TestResponse};

/// The clerk-js version the test browser claims to be.
pub const CLERK_JS_VERSION: &str = "6.40.0";

/// A browser bound to one instance's Frontend API.
pub struct TestBrowser<'a> {
    app: &'a TestApp,
    /// The instance.
    pub instance: Instance,
    /// The frontend host requests are sent to.
    pub host: String,
    /// The dev-browser token (development instances).
    pub dev_browser: Option<String>,
    /// API version (`__clerk_api_version`).
    pub version: &'static str,
    /// `Origin` sent with every request.
    pub origin: Option<String>,
    jar: Mutex<BTreeMap<String, String>>,
}

impl TestApp {
    /// A browser on the first instance's Frontend API, as clerk-js 6 sets one up (a dev browser first).
    pub async fn browser(&self) -> TestBrowser<'_> {
        self.browser_for(&self.instance.clone()).await
    }

    /// A browser on `instance`'s Frontend API; development instances get a dev browser.
    pub async fn browser_for(&self, instance: &Instance) -> TestBrowser<'_> {
        let mut browser = TestBrowser {
            app: self,
            host: instance.frontend_host(),
            instance: instance.clone(),
            dev_browser: None,
            version: "2026-05-12",
            origin: Some("http://localhost:3000".into()),
            jar: Mutex::new(BTreeMap::new()),
        };
        if instance.environment == Environment::Development {
            let r = browser.post("/v1/dev_browser", &[]).send().await.assert_status(200);
            browser.dev_browser = Some(r.json["id"].as_str().expect("dev browser id").to_owned());
        }
        browser
    }
}

impl<'a> TestBrowser<'a> {
    /// This browser speaking another API version (`2025-11-10`: clerk-js 5).
    pub fn with_version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    /// A request.
    pub fn request(&self, method: Method, path: &str) -> FapiRequest<'_, 'a> {
        FapiRequest {
            browser: self,
            method,
            path: path.to_owned(),
            form: Vec::new(),
            headers: Vec::new(),
            validate: true,
            raw_body: None,
        }
    }

    /// A probe that is not validated against the spec (its request is not meant to be valid).
    pub async fn raw(&self, method: Method, path: &str) -> TestResponse {
        let mut r = self.request(method, path);
        r.validate = false;
        r.send().await
    }

    /// A probe with a raw body (hostile input), not validated against the spec.
    pub async fn raw_body(&self, method: Method, path: &str, body: &[u8], content_type: &str) -> TestResponse {
        let mut r = self.request(method, path);
        r.validate = false;
        r.raw_body = Some((body.to_vec(), content_type.to_owned()));
        r.send().await
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> FapiRequest<'_, 'a> {
        self.request(Method::GET, path)
    }

    /// `POST path` with a form body.
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> FapiRequest<'_, 'a> {
        self.request(Method::POST, path).form(form)
    }

    /// `PATCH path`, sent as clerk-js sends it: `POST ?_method=PATCH`.
    pub fn patch(&self, path: &str, form: &[(&str, &str)]) -> FapiRequest<'_, 'a> {
        self.request(Method::PATCH, path).form(form)
    }

    /// `DELETE path`, sent as `POST ?_method=DELETE`.
    pub fn delete(&self, path: &str) -> FapiRequest<'_, 'a> {
        self.request(Method::DELETE, path)
    }

    /// The app this browser talks to.
    pub fn app(&self) -> &'a TestApp {
        self.app
    }

    /// A cookie the server set (and did not clear).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }
}

/// A Frontend API request being built.
pub struct FapiRequest<'b, 'a> {
    browser: &'b TestBrowser<'a>,
    method: Method,
    path: String,
    form: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    validate: bool,
    raw_body: Option<(Vec<u8>, String)>,
}

impl FapiRequest<'_, '_> {
    /// Adds form fields.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.form.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self
    }

    /// A raw body with its content type instead of the form (a multipart upload); the answer is still validated.
    pub fn body(mut self, bytes: Vec<u8>, content_type: &str) -> Self {
        self.raw_body = Some((bytes, content_type.to_owned()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends the request in process and validates the answer against the FAPI spec of the browser's version.
    pub async fn send(self) -> TestResponse {
        let b = self.browser;
        let (path, existing_query) = self.path.split_once('?').map_or((self.path.as_str(), ""), |(p, q)| (p, q));
        let mut query = url::form_urlencoded::Serializer::new(existing_query.to_owned());
        query.append_pair("__clerk_api_version", b.version).append_pair("_clerk_js_version", CLERK_JS_VERSION);
        let wire_method = match self.method {
            Method::GET => Method::GET,
            Method::POST => Method::POST,
            ref other => {
                query.append_pair("_method", other.as_str());
                Method::POST
            }
        };
        if let Some(db) = &b.dev_browser {
            query.append_pair("__clerk_db_jwt", db);
        }
        let uri = format!("{path}?{}", query.finish());
        let mut builder = Request::builder().method(wire_method.clone()).uri(&uri).header("host", &b.host);
        if let Some(origin) = &b.origin {
            builder = builder.header("origin", origin);
        }
        let cookies: Vec<String> =
            b.jar.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !cookies.is_empty() {
            builder = builder.header("cookie", cookies.join("; "));
        }
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let body = if let Some((bytes, content_type)) = self.raw_body {
            builder = builder.header("content-type", content_type);
            bytes
        } else if wire_method == Method::POST {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &self.form {
                form.append_pair(k, v);
            }
            form.finish().into_bytes()
        } else {
            Vec::new()
        };
        let request = builder.body(Body::from(body)).expect("request");
        let response = b.app.router.clone().oneshot(request).await.expect("infallible router");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        {
            let mut jar = b.jar.lock().unwrap_or_else(|e| e.into_inner());
            for set in headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
                let first = set.split(';').next().unwrap_or_default();
                let Some((name, value)) = first.split_once('=') else { continue };
                if set.contains("Max-Age=0") || value.is_empty() {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
        let spec = tessera_spec_check::frontend_spec(b.version);
        if self.validate
            && spec.find_operation(self.method.as_str(), path).is_some()
            && let Err(why) = spec.validate_response(self.method.as_str(), path, status, content_type, &body)
        {
            panic!("Frontend API response breaks the contract ({}):\n{why}", b.version);
        }
        let json = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
        TestResponse { status, headers, body, json }
    }
}

impl TestBrowser<'_> {
    /// Test shortcut: opens a session for `user_id` on this browser's client, as a completed sign-in would
    /// (through core, not through the sign-in routes). Returns the session id.
    pub async fn sign_in_as(&self, user_id: &str) -> String {
        let ctx = self.app.ctx();
        let token = self.dev_browser.clone().or_else(|| self.cookie("__client")).expect("a client token");
        let client = tessera_core::browser_clients::by_token(ctx, &self.instance.id, &token)
            .await
            .expect("client lookup")
            .expect("the browser's client");
        let now = ctx.now_ms();
        let mut tx = ctx.db.begin().await.expect("tx");
        let mut row =
            tessera_core::browser_clients::lock(&mut tx, &self.instance.id, &client.id).await.expect("client");
        let session =
            tessera_core::browser_clients::open_session_tx(ctx, &mut tx, &mut row, user_id, "password", None, now)
                .await
                .expect("open session");
        tx.commit().await.expect("commit");
        session.id
    }
}

/// The claims of a JWT (not verified: for assertions on tokens the server minted).
pub fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
