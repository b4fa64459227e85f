//! Faults against the real `tessera serve`: a SIGKILL in the middle of 64-way concurrent creates loses no
//! acknowledged write (SQLite file and PostgreSQL), and two processes on one PostgreSQL database see each other's
//! revocations within the cache bound (`tessera_core::cache`: 1 s at worst, milliseconds through `NOTIFY`), count
//! lockout attempts exactly, and a browser signed in on one continues on the other.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ServeOptions, Server, TestDb, http, postgres_requested};
use serde_json::{Value, json};

/// The development instance's secret key, pinned so that it survives restarts and is shared by both nodes.
const KEY: &str = "sk_test_TesseraFaultsSuiteDevelopmentKey0001";
/// Concurrent clients during the crash test.
const WRITERS: usize = 64;

/// `method url` with the secret key (or `bearer`) and an optional JSON body; returns status and JSON body.
fn call(method: &str, url: &str, bearer: &str, body: Option<Value>) -> reqwest::Result<(u16, Value)> {
    let client = http();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(method, url).bearer_auth(bearer);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send()?;
    let status = res.status().as_u16();
    let text = res.text()?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// Like [`call`], but a transport error fails the test.
#[track_caller]
fn must(method: &str, url: &str, bearer: &str, body: Option<Value>) -> (u16, Value) {
    call(method, url, bearer, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

#[track_caller]
fn id_of(status: u16, body: &Value, what: &str) -> String {
    assert!((200..300).contains(&status), "{what}: {status} {body}");
    body["id"].as_str().unwrap_or_else(|| panic!("{what}: no id in {body}")).to_owned()
}

/// What a writer created, acknowledged with a 2xx: the path that must answer 200 after the restart.
type Acked = Arc<Mutex<Vec<String>>>;

#[test]
fn sigkill_during_concurrent_creates_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::fresh(dir.path());
    let server = Server::start_with(
        ServeOptions { env: vec![("TESSERA_METRICS_ADDR", "127.0.0.1:0")], ..ServeOptions::new(&db) }.secret_key(KEY),
    );
    let metrics_url = server.stdout.lines().find_map(|l| l.strip_prefix("Metrics at ")).map(|u| u.trim().to_owned());
    // API keys need a real subject.
    let (s, owner) = must("POST", &server.at("/v1/users"), KEY, Some(json!({ "external_id": "owner" })));
    let owner = id_of(s, &owner, "create the API-key subject");

    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (acked, stop, attempts, base, owner) =
                (acked.clone(), stop.clone(), attempts.clone(), server.url.clone(), owner.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    attempts.fetch_add(1, Ordering::Relaxed);
                    let (path, body, read_path): (&str, Value, fn(&str) -> String) = match (w + n) % 3 {
                        0 => {
                            ("/v1/users", json!({ "external_id": format!("w{w}-{n}") }), |id| format!("/v1/users/{id}"))
                        }
                        1 => {
                            ("/v1/machines", json!({ "name": format!("m{w}-{n}") }), |id| format!("/v1/machines/{id}"))
                        }
                        _ => ("/v1/api_keys", json!({ "name": format!("k{w}-{n}"), "subject": owner }), |id| {
                            format!("/v1/api_keys/{id}")
                        }),
                    };
                    // Errors and non-2xx answers (the process died mid-request) promise nothing.
                    if let Ok((status, body)) = call("POST", &format!("{base}{path}"), KEY, Some(body))
                        && (200..300).contains(&status)
                    {
                        let id = body["id"].as_str().expect("a created object has an id");
                        acked.lock().expect("lock").push(read_path(id));
                    }
                }
            })
        })
        .collect();

    // Kill once the load is well under way, so that requests are in flight at every stage.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().expect("lock").len() < 150 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    // On SQLite the writes must really have shared commits (group commit), or this test proves nothing about it.
    if db.master_key().is_none() {
        let text = metrics_url.as_deref().map(scrape).expect("the metrics listener's address on stdout");
        let (transactions, commits) =
            (counter(&text, "tessera_db_write_transactions_total"), counter(&text, "tessera_db_write_commits_total"));
        println!("{transactions} write transactions in {commits} commits before SIGKILL");
        assert!(commits > 0.0 && commits < transactions, "no group commit: {transactions} in {commits} commits");
    }
    let status = std::process::Command::new("kill").args(["-KILL", &server.pid().to_string()]).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -KILL");
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("writer thread");
    }
    drop(server);
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    let attempts = attempts.load(Ordering::Relaxed);
    println!("{} of {attempts} creates acknowledged before SIGKILL", acked.len());
    assert!(acked.len() >= 150, "the load never got going: {} acknowledged", acked.len());
    assert!(attempts > acked.len(), "SIGKILL came after the load ended; nothing was in flight");

    let server = Server::start_with(ServeOptions::new(&db).secret_key(KEY));
    let missing: Vec<_> = acked.iter().filter(|path| must("GET", &server.at(path), KEY, None).0 != 200).collect();
    assert!(missing.is_empty(), "{} acknowledged creates are gone after the restart: {missing:?}", missing.len());
    // The database still takes writes.
    let (s, body) = must("POST", &server.at("/v1/users"), KEY, Some(json!({ "external_id": "after" })));
    id_of(s, &body, "create after the restart");
}

/// The metrics scrape, as text.
fn scrape(url: &str) -> String {
    http().get(url).send().and_then(|r| r.text()).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The value of an unlabelled counter in a scrape (0 if absent).
fn counter(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The staleness bound of the caches (`tessera_core::cache::TTL_MS`): a revocation on one node shows on every
/// other within it, even if a notification is lost.
const CACHE_BOUND: Duration = Duration::from_millis(1000);

/// Polls `refused` until it holds; panics unless it does within the bound (plus a request's latency). Returns the
/// time it took from the call.
#[track_caller]
fn refused_within_bound(what: &str, mut refused: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    let deadline = start + CACHE_BOUND + Duration::from_millis(500);
    loop {
        if refused() {
            return start.elapsed();
        }
        assert!(Instant::now() < deadline, "{what}: still accepted {:?} after the change", start.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Makes a change on A, `cached_at` being when B last answered from its cache, and waits for B to see it
/// (`seen`), within the bound. Expiry alone would keep B's entry until `cached_at + bound`; seeing it earlier is the
/// notification's work. (Only checked when the change itself was quick, so that a loaded machine does not blur the
/// two.)
#[track_caller]
fn seen_through_notification(what: &str, cached_at: Instant, change: impl FnOnce(), seen: impl FnMut() -> bool) {
    change();
    let changed_after = cached_at.elapsed();
    let took = refused_within_bound(what, seen);
    println!("{what}: seen on B {took:?} after A acknowledged it");
    if changed_after < CACHE_BOUND / 4 {
        assert!(
            changed_after + took < CACHE_BOUND,
            "{what}: B saw it only {:?} after caching it: the notification did not arrive",
            changed_after + took
        );
    }
}

/// Revocations through A reach B's caches through `NOTIFY`, not only by expiry: B verifies (and caches) a credential,
/// A revokes it, and B refuses it before its cached entry could have expired. Sessions alike: B mints a token for a
/// session (and caches its row), A revokes it, and B stops minting.
#[test]
fn two_nodes_drop_revoked_credentials_from_their_caches() {
    let Some(url) = postgres_requested() else {
        println!(
            "skipped: two nodes need PostgreSQL (set TESSERA_TEST_DATABASE_URL=postgres://…); SQLite is one process per file and invalidates locally"
        );
        return;
    };
    let db = TestDb::fresh_postgres(&url);
    let a = Server::start_with(ServeOptions::new(&db).secret_key(KEY));
    let b = Server::start_with(ServeOptions::new(&db).secret_key(KEY));
    let (s, user) = must("POST", &a.at("/v1/users"), KEY, Some(json!({ "external_id": "cached subject" })));
    let user = id_of(s, &user, "create user");
    let (s, machine) = must("POST", &a.at("/v1/machines"), KEY, Some(json!({ "name": "cached machine" })));
    let machine_key = machine["secret_key"].as_str().map(str::to_owned);
    let machine_key = machine_key.unwrap_or_else(|| panic!("machine: {s} {machine}"));

    // Each case: (what, make a credential on A and return (secret, verify path, body key, revoke it on A)).
    for round in 0..4 {
        let (what, path, field, secret, revoke): (&str, &str, &str, String, Box<dyn Fn()>) = match round {
            0 | 1 => {
                let (s, key) =
                    must("POST", &a.at("/v1/api_keys"), KEY, Some(json!({ "name": "cached key", "subject": user })));
                let id = id_of(s, &key, "create API key");
                let secret = key["secret"].as_str().expect("secret").to_owned();
                let a_url = a.url.clone();
                let revoke: Box<dyn Fn()> = if round == 0 {
                    Box::new(move || {
                        let (s, _) = must("POST", &format!("{a_url}/api_keys/{id}/revoke"), KEY, Some(json!({})));
                        assert_eq!(s, 200, "revoke on A");
                    })
                } else {
                    Box::new(move || assert_eq!(must("DELETE", &format!("{a_url}/api_keys/{id}"), KEY, None).0, 200))
                };
                (
                    if round == 0 { "revoked API key" } else { "deleted API key" },
                    "/api_keys/verify",
                    "secret",
                    secret,
                    revoke,
                )
            }
            3 => {
                // A session: "verified" by minting a token for it on B (B caches the session's row).
                let (s, session) = must("POST", &a.at("/v1/sessions"), KEY, Some(json!({ "user_id": user })));
                let id = id_of(s, &session, "create session");
                let a_url = a.url.clone();
                let sid = id.clone();
                let revoke: Box<dyn Fn()> = Box::new(move || {
                    let (s, _) = must("POST", &format!("{a_url}/v1/sessions/{sid}/revoke"), KEY, Some(json!({})));
                    assert_eq!(s, 200, "revoke on A");
                });
                ("revoked session", "", "", id, revoke)
            }
            _ => {
                let (s, token) = must("POST", &a.at("/m2m_tokens"), &machine_key, Some(json!({})));
                let id = id_of(s, &token, "create M2M token");
                let secret = token["token"].as_str().expect("token").to_owned();
                let a_url = a.url.clone();
                let revoke: Box<dyn Fn()> = Box::new(move || {
                    let (s, _) = must("POST", &format!("{a_url}/m2m_tokens/{id}/revoke"), KEY, Some(json!({})));
                    assert_eq!(s, 200, "revoke on A");
                });
                ("revoked M2M token", "/m2m_tokens/verify", "token", secret, revoke)
            }
        };
        let verify_on_b = || match round {
            3 => must("POST", &b.at(&format!("/v1/sessions/{secret}/tokens")), KEY, Some(json!({}))).0,
            _ => must("POST", &b.at(path), KEY, Some(json!({ field: secret }))).0,
        };
        // Twice: the second answer comes from B's cache.
        assert_eq!(verify_on_b(), 200, "{what}: B verifies it before");
        let cached_at = Instant::now();
        assert_eq!(verify_on_b(), 200, "{what}: B verifies it again");
        seen_through_notification(what, cached_at, revoke, || verify_on_b() == 404);
    }
}

/// A user changed or deleted through A: B, which answers that user from its cache of rendered users, answers the
/// change within the bound — before its cached object could have expired, so through the notification A sends
/// after the commit. The same for settings changed through A.
#[test]
fn two_nodes_drop_changed_users_and_settings_from_their_caches() {
    let Some(url) = postgres_requested() else {
        println!("skipped: two nodes need PostgreSQL (set TESSERA_TEST_DATABASE_URL=postgres://…)");
        return;
    };
    let db = TestDb::fresh_postgres(&url);
    let a = Server::start_with(ServeOptions::new(&db).secret_key(KEY));
    let b = Server::start_with(ServeOptions::new(&db).secret_key(KEY));
    let (s, user) = must("POST", &a.at("/v1/users"), KEY, Some(json!({ "first_name": "Ann" })));
    let user = id_of(s, &user, "create user");
    let read_on_b = || must("GET", &b.at(&format!("/v1/users/{user}")), KEY, None);
    let first_name_on_b = || read_on_b().1["first_name"].clone();
    let listed_on_b = || must("GET", &b.at(&format!("/v1/users?user_id={user}")), KEY, None).1;

    // (what, change it on A, B's answer once it has seen the change)
    type Change<'a> = (&'a str, Box<dyn Fn() + 'a>, Box<dyn Fn() -> bool + 'a>);
    let changes: [Change<'_>; 3] = [
        (
            "user updated on A",
            Box::new(|| {
                let body = json!({ "first_name": "Bea" });
                assert_eq!(must("PATCH", &a.at(&format!("/v1/users/{user}")), KEY, Some(body)).0, 200);
            }),
            Box::new(|| first_name_on_b() == json!("Bea") && listed_on_b()[0]["first_name"] == json!("Bea")),
        ),
        (
            "address added on A",
            Box::new(|| {
                let body = json!({ "user_id": user, "email_address": "node@example.com", "verified": true });
                assert_eq!(must("POST", &a.at("/v1/email_addresses"), KEY, Some(body)).0, 200);
            }),
            Box::new(|| read_on_b().1["email_addresses"].as_array().is_some_and(|e| e.len() == 1)),
        ),
        (
            "user deleted on A",
            Box::new(|| assert_eq!(must("DELETE", &a.at(&format!("/v1/users/{user}")), KEY, None).0, 200)),
            Box::new(|| read_on_b().0 == 404 && listed_on_b() == json!([])),
        ),
    ];
    // Settings: B reads them (twice: then from its cache), A changes them.
    let settings = "/v1/instance/session_settings";
    let lifetime_on_b = || must("GET", &b.at(settings), KEY, None).1["token_lifetime_seconds"].clone();
    assert_eq!(lifetime_on_b(), json!(60));
    let cached_at = Instant::now();
    assert_eq!(lifetime_on_b(), json!(60));
    let change = || {
        let body = json!({ "token_lifetime_seconds": 120 });
        assert_eq!(must("PATCH", &a.at(settings), KEY, Some(body)).0, 200);
    };
    seen_through_notification("settings changed on A", cached_at, change, || lifetime_on_b() == json!(120));

    for (what, change, seen) in changes {
        // Twice: the second answer comes from B's cache.
        assert_eq!(read_on_b().0, 200, "{what}: B reads the user before");
        let cached_at = Instant::now();
        assert_eq!(read_on_b().0, 200, "{what}: B reads it again");
        assert_eq!(listed_on_b().as_array().map(Vec::len), Some(1), "{what}: B lists it");
        seen_through_notification(what, cached_at, change, seen);
    }
}

/// Two processes on one PostgreSQL database.
#[test]
fn two_nodes_see_each_others_writes_at_once() {
    let Some(url) = postgres_requested() else {
        println!("skipped: two nodes need PostgreSQL (set TESSERA_TEST_DATABASE_URL=postgres://…)");
        return;
    };
    let db = TestDb::fresh_postgres(&url);
    let a = Server::start_with(ServeOptions::new(&db).secret_key(KEY));
    let b = Server::start_with(ServeOptions::new(&db).secret_key(KEY));

    // API key revoked on A: B refuses it on the next request.
    let (s, user) = must("POST", &a.at("/v1/users"), KEY, Some(json!({ "external_id": "subject" })));
    let user = id_of(s, &user, "create user");
    let (s, key) = must("POST", &a.at("/v1/api_keys"), KEY, Some(json!({ "name": "node key", "subject": user })));
    let key_id = id_of(s, &key, "create API key");
    let secret = key["secret"].as_str().expect("secret").to_owned();
    let verify = |node: &Server| must("POST", &node.at("/api_keys/verify"), KEY, Some(json!({ "secret": secret }))).0;
    assert_eq!(verify(&b), 200, "B verifies A's key");
    let (s, _) = must("POST", &a.at(&format!("/api_keys/{key_id}/revoke")), KEY, Some(json!({})));
    assert_eq!(s, 200, "revoke on A");
    refused_within_bound("B must refuse a key revoked on A", || verify(&b) == 404);

    // M2M token revoked on A; machine deleted on A.
    let (s, machine) = must("POST", &a.at("/v1/machines"), KEY, Some(json!({ "name": "node machine" })));
    let machine_id = id_of(s, &machine, "create machine");
    let machine_key = machine["secret_key"].as_str().expect("machine secret key").to_owned();
    let mint = |node: &Server| must("POST", &node.at("/m2m_tokens"), &machine_key, Some(json!({})));
    let (s, token) = mint(&a);
    let token_id = id_of(s, &token, "create M2M token");
    let token_secret = token["token"].as_str().expect("token").to_owned();
    let verify_token =
        |node: &Server, t: &str| must("POST", &node.at("/m2m_tokens/verify"), KEY, Some(json!({ "token": t }))).0;
    assert_eq!(verify_token(&b, &token_secret), 200, "B verifies A's token");
    let (s, body) = must("POST", &a.at(&format!("/m2m_tokens/{token_id}/revoke")), KEY, Some(json!({})));
    assert_eq!(s, 200, "revoke the M2M token on A: {body}");
    refused_within_bound("B must refuse a token revoked on A", || verify_token(&b, &token_secret) != 200);
    let (s, second) = mint(&b);
    let second = second["token"].as_str().map(str::to_owned).unwrap_or_else(|| panic!("mint on B: {s} {second}"));
    let (s, _) = must("DELETE", &a.at(&format!("/v1/machines/{machine_id}")), KEY, None);
    assert_eq!(s, 200, "delete the machine on A");
    assert_eq!(must("GET", &b.at(&format!("/v1/machines/{machine_id}")), KEY, None).0, 404);
    refused_within_bound("B must refuse a token of a machine deleted on A", || verify_token(&b, &second) != 200);
    assert_ne!(mint(&b).0 / 100, 2, "B must refuse the secret key of a machine deleted on A");

    // A ban on A shows on B.
    let (s, _) = must("POST", &a.at(&format!("/v1/users/{user}/ban")), KEY, None);
    assert_eq!(s, 200, "ban on A");
    let (s, seen) = must("GET", &b.at(&format!("/v1/users/{user}")), KEY, None);
    assert_eq!((s, &seen["banned"]), (200, &json!(true)), "B sees the ban");

    lockout_counts_exactly_across_nodes(&a, &b);
    membership_limit_holds_across_nodes(&a, &b);
    browser_client_continues_across_nodes(&a, &b);
}

/// A form POST (or GET without a form) on a node's Frontend API proxy path; returns status and JSON body.
fn fapi(node: &Server, host: &str, path: &str, dev_browser: &str, form: Option<&[(&str, &str)]>) -> (u16, Value) {
    let url = node.at(&format!("/fapi/{host}{path}?__clerk_api_version=2026-05-12&__clerk_db_jwt={dev_browser}"));
    let req = match form {
        Some(form) => http().post(url).form(form),
        None => http().get(url),
    };
    let res = req.send().unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = res.status().as_u16();
    (status, serde_json::from_str(&res.text().unwrap_or_default()).unwrap_or(Value::Null))
}

/// A browser signs in through node A's Frontend API and carries on through node B with the same dev browser; a
/// revocation on A ends it on B at once.
fn browser_client_continues_across_nodes(a: &Server, b: &Server) {
    use base64::Engine as _;
    let pk = a.printed.publishable_key.clone().expect("A created the instance and printed its publishable key");
    let encoded = pk.splitn(3, '_').nth(2).expect("pk_test_<host>");
    let host = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64")).unwrap();
    let host = host.trim_end_matches('$').to_owned();
    let password = "correct horse battery staple";
    let body = json!({ "email_address": ["browser@example.com"], "password": password });
    let (s, user) = must("POST", &a.at("/v1/users"), KEY, Some(body));
    let user = id_of(s, &user, "create the browser's user");
    let res = http().post(a.at(&format!("/fapi/{host}/v1/dev_browser"))).send().expect("dev browser");
    let dev_browser: Value = res.json().expect("dev browser JSON");
    let db = dev_browser["id"].as_str().expect("dev browser id").to_owned();
    let form = [("identifier", "browser@example.com"), ("password", password), ("strategy", "password")];
    let (s, signed) = fapi(a, &host, "/v1/client/sign_ins", &db, Some(&form));
    assert_eq!((s, &signed["response"]["status"]), (200, &json!("complete")), "sign in on A: {signed}");
    let sid = signed["response"]["created_session_id"].as_str().expect("session").to_owned();
    let (s, client) = fapi(b, &host, "/v1/client", &db, None);
    assert_eq!(s, 200, "{client}");
    assert_eq!(client["response"]["sessions"][0]["id"], sid.as_str(), "B sees the session A opened: {client}");
    assert_eq!(client["response"]["sessions"][0]["user"]["id"], user.as_str());
    let (s, token) = fapi(b, &host, &format!("/v1/client/sessions/{sid}/tokens"), &db, Some(&[]));
    assert!(s == 200 && token["jwt"].is_string(), "B mints for A's session: {s} {token}");
    let (s, _) = must("POST", &a.at(&format!("/v1/sessions/{sid}/revoke")), KEY, Some(json!({})));
    assert_eq!(s, 200, "revoke on A");
    let (s, _) = fapi(b, &host, &format!("/v1/client/sessions/{sid}/tokens"), &db, Some(&[]));
    assert_eq!(s, 401, "B refuses a session revoked on A");
}

/// Members added concurrently through both nodes: exactly `max_allowed_memberships` memberships exist afterwards.
fn membership_limit_holds_across_nodes(a: &Server, b: &Server) {
    let (s, _) = must("PATCH", &a.at("/v1/instance/organization_settings"), KEY, Some(json!({ "enabled": true })));
    assert_eq!(s, 200, "enable organizations");
    let (s, org) = must(
        "POST",
        &a.at("/v1/organizations"),
        KEY,
        Some(json!({ "name": "Two nodes", "max_allowed_memberships": 6 })),
    );
    let org = id_of(s, &org, "create organization");
    let users: Vec<String> = (0..16)
        .map(|i| {
            let (s, u) = must("POST", &a.at("/v1/users"), KEY, Some(json!({ "external_id": format!("member-{i}") })));
            id_of(s, &u, "create member")
        })
        .collect();
    let results: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(i, user)| {
                let node = if i % 2 == 0 { a } else { b };
                let url = node.at(&format!("/v1/organizations/{org}/memberships"));
                scope.spawn(move || must("POST", &url, KEY, Some(json!({ "user_id": user, "role": "org:member" }))))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("add member")).collect()
    });
    let added = results.iter().filter(|(s, _)| *s == 200).count();
    for (s, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*s, body["errors"][0]["code"].as_str()), (403, Some("organization_membership_quota_exceeded")));
    }
    assert_eq!(added, 6, "exactly the limit is admitted across both nodes");
    let (s, list) = must("GET", &b.at(&format!("/v1/organizations/{org}/memberships?limit=100")), KEY, None);
    assert_eq!((s, &list["total_count"]), (200, &json!(6)), "{list}");
}

/// Wrong passwords sent concurrently to both nodes: every failure counts once, no more, no less.
fn lockout_counts_exactly_across_nodes(a: &Server, b: &Server) {
    let (s, user) = must(
        "POST",
        &a.at("/v1/users"),
        KEY,
        Some(
            json!({ "external_id": "locked", "password": "correct horse battery staple", "skip_password_checks": true }),
        ),
    );
    let user = id_of(s, &user, "create user with password");
    let attempt = |node: &str, password: &str| {
        must("POST", &format!("{node}/v1/users/{user}/verify_password"), KEY, Some(json!({ "password": password })))
    };
    // 8 concurrent failures (lockout is at 10), split across the nodes.
    let failures: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let node = if i % 2 == 0 { &a.url } else { &b.url };
                s.spawn(move || attempt(node, "wrong password"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("attempt")).collect()
    });
    for (s, body) in &failures {
        assert_eq!((*s, body["errors"][0]["code"].as_str()), (422, Some("form_password_incorrect")), "{body}");
    }
    let remaining = |node: &Server| must("GET", &node.at(&format!("/v1/users/{user}")), KEY, None).1;
    let seen = remaining(b);
    assert_eq!(seen["verification_attempts_remaining"], 2, "8 failures of 10 counted exactly: {seen}");
    assert_eq!(seen["locked"], false);
    // 4 more concurrent failures: exactly the 10th locks; everyone afterwards is refused.
    let more: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let node = if i % 2 == 0 { &a.url } else { &b.url };
                s.spawn(move || attempt(node, "still wrong").0)
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("attempt")).collect()
    });
    assert!(more.iter().all(|s| *s == 422 || *s == 403), "{more:?}");
    let seen = remaining(a);
    assert_eq!((&seen["locked"], &seen["verification_attempts_remaining"]), (&json!(true), &json!(0)), "{seen}");
    let (s, body) = attempt(&b.url, "correct horse battery staple");
    assert_eq!((s, body["errors"][0]["code"].as_str()), (403, Some("user_locked")), "a locked user is refused: {body}");
}
