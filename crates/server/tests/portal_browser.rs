//! The webhook endpoint portal in a real browser: headless Chromium driven through chromedriver (W3C WebDriver)
//! against `tessera serve`. Debian's `chromium` and `chromium-driver` are installed with apt-get by the test itself
//! when missing (a machine where that is impossible fails the test, never skips it).

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ServeOptions, Server, TestDb, free_port, run_with_timeout};
use serde_json::{Value, json};

const DEV_KEY: &str = "sk_test_TesseraPortalBrowserDevelopmentKey01";
const W3C_ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where `bin` is on `PATH`.
fn on_path(bin: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(bin)).find(|p| p.is_file())
}

/// chromedriver and chromium, installed from Debian's packages if missing (one installer at a time).
fn ensure_chromium() {
    static ONCE: Mutex<bool> = Mutex::new(false);
    let mut done = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return;
    }
    let present = |bin: &str| Command::new(bin).arg("--version").output().is_ok_and(|o| o.status.success());
    if !(present("chromedriver") && present("chromium")) {
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
        let apt = |args: &[&str]| {
            let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
            if !root {
                cmd.arg("apt-get");
            }
            cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            let out = run_with_timeout(cmd, Duration::from_secs(900));
            assert!(out.status.success(), "apt-get {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        apt(&["update", "-q"]);
        apt(&["install", "-y", "-q", "chromium", "chromium-driver"]);
        assert!(present("chromedriver") && present("chromium"), "chromium and chromedriver after apt-get install");
    }
    *done = true;
}

/// A receiver answering 200 "thanks" to every request, counting them.
fn receiver() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            while let Ok(n) = s.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nthanks");
        }
    });
    (url, count)
}

struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    fn start() -> Self {
        ensure_chromium();
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": on_path("chromium").expect("chromium on PATH"),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server"]
        } } } });
        let resp: Value = http.post(format!("{base}/session")).json(&caps).send().expect("new session").json().unwrap();
        let session = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("session: {resp}")).to_owned();
        Self { driver, base, session, http }
    }

    /// A WebDriver command: its value, or the WebDriver error (`{error, message, …}`).
    fn try_cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value, Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let request = self.http.request(method.clone(), url);
        let request = if method == reqwest::Method::GET { request } else { request.json(&body) };
        let resp: Value = request.send().expect("webdriver").json().unwrap();
        match resp["value"].get("error") {
            Some(_) => Err(resp["value"].clone()),
            None => Ok(resp["value"].clone()),
        }
    }

    fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.try_cmd(method, path, body).unwrap_or_else(|e| panic!("webdriver {path}: {e}"))
    }

    fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(reqwest::Method::POST, "/element", json!({ "using": "css selector", "value": css }));
        v[W3C_ELEMENT].as_str().unwrap_or_else(|| panic!("element {css}: {v}")).to_owned()
    }

    fn count(&self, css: &str) -> usize {
        let v = self.cmd(reqwest::Method::POST, "/elements", json!({ "using": "css selector", "value": css }));
        v.as_array().map_or(0, Vec::len)
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), Value::Null).as_str().unwrap_or("").to_owned()
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/click"), json!({}));
    }

    /// Clicks a button that submits a form and waits until the page it leads to has replaced this one. A WebDriver
    /// click returns before the browser starts the form's navigation, so without this the next command may act on
    /// the old page, or on a page the navigation then replaces (a stale element, or a missing `#endpoints`).
    fn submit(&self, css: &str) {
        let old = self.find("html");
        self.click(css);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.try_cmd(reqwest::Method::GET, &format!("/element/{old}/name"), Value::Null).is_ok() {
            assert!(Instant::now() < deadline, "submitting {css} never left the page");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The new document is there once it has a body (WebDriver waits for a navigation it knows about).
        let loaded = || {
            self.try_cmd(reqwest::Method::POST, "/element", json!({ "using": "css selector", "value": "body" })).is_ok()
        };
        while !loaded() {
            assert!(Instant::now() < deadline, "the page after submitting {css} never loaded");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/clear"), json!({}));
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/value"), json!({ "text": text }));
    }

    fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", Value::Null).as_str().unwrap_or("").to_owned()
    }

    fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", Value::Null).as_str().unwrap_or("").to_owned()
    }

    /// Reloads `url` until `css` matches (the worker delivers in the background).
    fn wait_for(&self, url: &str, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            self.go(url);
            if self.count(css) > 0 {
                return;
            }
            assert!(Instant::now() < deadline, "{css} never appeared; page:\n{}", self.source());
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn bapi(server: &Server, method: reqwest::Method, path: &str, body: Value) -> Value {
    let http = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let resp = http.request(method, server.at(path)).bearer_auth(DEV_KEY).json(&body).send().expect("request");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().unwrap_or(Value::Null)
}

#[test]
fn portal_in_headless_chromium() {
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(DEV_KEY));
    let (hook, received) = receiver();
    let link = bapi(&server, reqwest::Method::POST, "/v1/webhooks/svix", json!({}))["svix_url"]
        .as_str()
        .expect("svix_url")
        .to_owned();
    let browser = Browser::start();
    let portal = server.at("/webhooks-portal");

    // The one-time link opens the portal.
    browser.go(&link);
    assert_eq!(browser.current_url(), portal);
    assert_eq!(browser.count("#endpoints tr"), 1, "only the header row");

    // Add an endpoint for user.created only.
    browser.type_into("input[name=url]", &hook);
    browser.type_into("input[name=description]", "from chromium");
    browser.click("input[value='user.created']");
    browser.submit("form[action='/webhooks-portal/endpoints'] button[type=submit]");
    assert!(browser.current_url().contains("/webhooks-portal/endpoints/ep_"), "{}", browser.current_url());
    let endpoint_page = browser.current_url();
    let secret = browser.text("#secret");
    assert!(secret.starts_with("whsec_"), "{secret}");

    // Rotate the secret.
    browser.submit("form[action$='/rotate'] button");
    let rotated = browser.text("#secret");
    assert!(rotated.starts_with("whsec_") && rotated != secret, "rotated");

    // An invalid edit is refused with a message, nothing changes.
    browser.type_into("input[name=url]", "ftp://example.com/");
    browser.submit("form[action^='/webhooks-portal/endpoints/ep_']:not([action$='/rotate']) button[type=submit]");
    assert!(browser.text("#error").contains("http"), "error shown");

    // Deliveries: a user is created and updated; only user.created is subscribed.
    let user = bapi(&server, reqwest::Method::POST, "/v1/users", json!({ "first_name": "Grace" }));
    let user_id = user["id"].as_str().expect("user id");
    bapi(&server, reqwest::Method::PATCH, &format!("/v1/users/{user_id}"), json!({ "last_name": "Hopper" }));
    browser.wait_for(&portal, "tr.delivery[data-status=succeeded]");
    assert_eq!(browser.count("tr.delivery"), 1, "only the subscribed event");
    assert!(browser.text("#deliveries").contains("HTTP 200: thanks"), "the response is shown");
    assert_eq!(received.load(Ordering::SeqCst), 1);

    // Replay it.
    browser.submit("form[action$='/replay'] button");
    let deadline = Instant::now() + Duration::from_secs(20);
    while received.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the replay was never delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    browser.wait_for(&portal, "tr.delivery[data-status=succeeded]");

    // Edit: subscribe to everything, rename.
    browser.go(&endpoint_page);
    browser.type_into("input[name=description]", "renamed");
    browser.click("input[value='user.created']");
    browser.submit("form[action^='/webhooks-portal/endpoints/ep_']:not([action$='/rotate']) button[type=submit]");
    browser.go(&portal);
    let table = browser.text("#endpoints");
    assert!(table.contains("renamed") && table.contains("all"), "{table}");

    // Delete it.
    browser.submit("form[action$='/delete'] button");
    assert_eq!(browser.count("#endpoints tr"), 1, "deleted");

    // The link was single-use.
    browser.go(&link);
    assert!(browser.source().contains("expired or was already used"));
}
