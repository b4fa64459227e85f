//! The `tessera` binary as a user runs it: first start, keys, restarts, instances, master keys, shutdown.
//!
//! Tests that take a `TestDb::fresh` database run on PostgreSQL too when `TESSERA_TEST_DATABASE_URL` is set.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{Printed, ServeOptions, Server, TestDb, get_json, jwks_kids, run_with_timeout, tessera};

const PINNED_KEY: &str = "sk_test_TesseraCliPinnedKey0123456789abcdef";
const OTHER_MASTER_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const QUICK: Duration = Duration::from_secs(60);

fn decode_publishable_host(pk: &str, prefix: &str) -> String {
    let encoded = pk.strip_prefix(prefix).unwrap_or_else(|| panic!("{pk} does not start with {prefix}"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64 after the prefix");
    let text = String::from_utf8(bytes).expect("utf-8");
    let host = text.strip_suffix('$').unwrap_or_else(|| panic!("{text:?} does not end with $"));
    assert!(!host.is_empty() && !host.contains('$') && !host.contains('/'), "host {host:?}");
    host.to_owned()
}

#[test]
fn first_start_creates_a_development_instance_and_prints_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(dir.path());
    let server = Server::start(&db);
    let printed = &server.printed;
    let sk = printed.secret_key.as_deref().expect("secret key printed");
    assert!(sk.starts_with("sk_test_") && sk.len() > 24, "{sk}");
    let pk = printed.publishable_key.as_deref().expect("publishable key printed");
    decode_publishable_host(pk, "pk_test_");
    assert!(printed.instance_id.as_deref().is_some_and(|id| id.starts_with("ins_")), "{}", server.stdout);
    assert!(server.stdout.contains("development"), "{}", server.stdout);

    let kids = jwks_kids(&server, sk);
    assert_eq!(kids.len(), 1);
    let (status, body) = get_json(&server.at("/v1/jwks"), Some("sk_test_NotTheKeyOfAnyInstance0000"));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["code"], "clerk_key_invalid");
    let (status, body) = get_json(&server.at("/healthz"), None);
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = get_json(&server.at("/readyz"), None);
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
}

#[test]
fn pinned_secret_key_survives_restarts_with_the_same_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(dir.path());
    let first = Server::start_with(ServeOptions::new(&db).secret_key(PINNED_KEY));
    assert_eq!(first.printed.secret_key.as_deref(), Some(PINNED_KEY));
    let instance_id = first.printed.instance_id.clone().expect("instance id");
    let kids = jwks_kids(&first, PINNED_KEY);
    assert!(first.stop(QUICK).success());

    // Same database: nothing is created again, the key still authenticates, the same kid is published.
    let second = Server::start_with(ServeOptions::new(&db).secret_key(PINNED_KEY));
    assert_eq!(second.printed.secret_key, None, "no new instance on restart:\n{}", second.stdout);
    assert_eq!(jwks_kids(&second, PINNED_KEY), kids);
    assert!(second.stop(QUICK).success());

    // Without TESSERA_SECRET_KEY too; and a different pinned key is ignored (with a warning), not applied.
    let third = Server::start_with(ServeOptions::new(&db).secret_key("sk_test_SomeOtherKeyThatWasNeverUsed0000"));
    assert_eq!(third.printed.secret_key, None);
    assert_eq!(jwks_kids(&third, PINNED_KEY), kids);
    let (status, _) = get_json(&third.at("/v1/jwks"), Some("sk_test_SomeOtherKeyThatWasNeverUsed0000"));
    assert_eq!(status, 401);
    assert!(third.stderr().contains("TESSERA_SECRET_KEY matches no instance"), "{}", third.stderr());
    assert!(third.stop(QUICK).success());

    let list = run_with_timeout(with_db(tessera(&["instance", "list"]), &db), QUICK);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let text = String::from_utf8(list.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(&instance_id), "{text}");
}

fn with_db(mut cmd: std::process::Command, db: &TestDb) -> std::process::Command {
    cmd.envs(db.env());
    cmd
}

#[test]
fn instance_create_production_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(dir.path());
    let server = Server::start(&db);
    let dev_pk = server.printed.publishable_key.clone().unwrap();
    let dev_id = server.printed.instance_id.clone().unwrap();
    let dev_sk = server.printed.secret_key.clone().unwrap();

    // Created while the server runs: another process on the same database.
    let out = run_with_timeout(with_db(tessera(&["instance", "create", "--environment", "production"]), &db), QUICK);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = Printed::parse(&String::from_utf8(out.stdout).unwrap());
    let live_sk = printed.secret_key.expect("secret key printed");
    let live_pk = printed.publishable_key.expect("publishable key printed");
    let live_id = printed.instance_id.expect("instance id printed");
    assert!(live_sk.starts_with("sk_live_"), "{live_sk}");
    decode_publishable_host(&live_pk, "pk_live_");
    assert_ne!(live_id, dev_id);

    // The running server knows the new instance at once, with its own signing key.
    let live_kids = jwks_kids(&server, &live_sk);
    assert_eq!(live_kids.len(), 1);
    assert_ne!(live_kids, jwks_kids(&server, &dev_sk));

    let out = run_with_timeout(with_db(tessera(&["instance", "list"]), &db), QUICK);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').take(3).collect()).collect();
    assert!(
        text.lines().all(|l| l.split('\t').nth(3).is_some_and(|h| h.contains('.'))),
        "frontend host column: {text}"
    );
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows.contains(&vec![dev_id.as_str(), "development", dev_pk.as_str()]), "{text}");
    assert!(rows.contains(&vec![live_id.as_str(), "production", live_pk.as_str()]), "{text}");
    assert!(!text.contains("sk_"), "list never shows secret keys: {text}");

    // A development instance can be created from the CLI too (the default environment).
    let out = run_with_timeout(with_db(tessera(&["instance", "create"]), &db), QUICK);
    assert!(out.status.success());
    let printed = Printed::parse(&String::from_utf8(out.stdout).unwrap());
    assert!(printed.secret_key.is_some_and(|k| k.starts_with("sk_test_")));
}

#[test]
fn sqlite_key_file_is_created_private_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::SqliteFile { path: dir.path().join("data.db") };
    let server = Server::start(&db);
    let key_file = dir.path().join("data.db.key");
    let meta = std::fs::metadata(&key_file).expect("key file created");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "key file mode");
    }
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim().len(), 64, "64 hex characters");
    assert!(key.trim().chars().all(|c| c.is_ascii_hexdigit()));
    assert!(server.stop(QUICK).success());

    // The same key file is used on restart (the stored secrets stay readable).
    let again = Server::start(&db);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
    drop(again);
}

#[test]
fn wrong_master_key_on_an_existing_database_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(dir.path());
    let server = Server::start(&db);
    assert!(server.stop(QUICK).success());

    let mut cmd = tessera(&["serve", "--addr", "127.0.0.1:0"]);
    cmd.env("TESSERA_DATABASE_URL", db.url()).env("TESSERA_MASTER_KEY", OTHER_MASTER_KEY);
    let out = run_with_timeout(cmd, QUICK);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started with the wrong master key");
    assert!(stderr.contains("master key does not match"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));

    // A malformed key is refused before anything is opened.
    let mut cmd = tessera(&["instance", "list"]);
    cmd.env("TESSERA_DATABASE_URL", db.url()).env("TESSERA_MASTER_KEY", "not-a-key");
    let out = run_with_timeout(cmd, QUICK);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TESSERA_MASTER_KEY"));

    // A damaged key file is refused too, rather than silently replaced.
    if !matches!(db, TestDb::SqliteFile { .. }) {
        return;
    }
    std::fs::write(dir.path().join("tessera.db.key"), "garbage").unwrap();
    let out = run_with_timeout(with_db(tessera(&["instance", "list"]), &db), QUICK);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tessera.db.key"), "names the key file");
}

#[test]
fn postgres_without_master_key_refuses_to_start() {
    for args in [&["serve", "--addr", "127.0.0.1:0"][..], &["instance", "list"][..]] {
        let mut cmd = tessera(args);
        cmd.env("TESSERA_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_test_sdk");
        let out = run_with_timeout(cmd, QUICK);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started without a master key");
        assert!(stderr.contains("TESSERA_MASTER_KEY is required with PostgreSQL"), "{stderr}");
    }
}

#[test]
fn memory_database_serves_with_addr_from_env_and_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::SqliteMemory;
    let server = Server::start_with(ServeOptions {
        env: vec![("TESSERA_LOG_FORMAT", "json")],
        cwd: Some(dir.path()),
        addr_from_env: true,
        ..ServeOptions::new(&db)
    });
    let sk = server.printed.secret_key.clone().expect("a throwaway database gets a fresh instance");
    assert_eq!(jwks_kids(&server, &sk).len(), 1);
    let (status, _) = get_json(&server.at("/healthz"), None);
    assert_eq!(status, 200);
    let (status, stderr) = server.stop_with_log(QUICK);
    assert!(status.success());
    assert!(stderr.lines().count() >= 2, "start-up and shutdown are logged: {stderr}");
    for line in stderr.lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(line.get("level").is_some() && line.get("fields").is_some(), "{line}");
    }
    assert!(!stderr.contains(&sk), "the secret key never reaches the log");
    // Nothing is written to the working directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_zero() {
    let db = TestDb::SqliteMemory;
    let mut server = Server::start(&db);
    let addr = format!("127.0.0.1:{}", server.port);

    // A request whose headers are still arriving when the signal comes.
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: tessera\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.sigterm();
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(b"\r\n").unwrap();
    let mut response = Vec::new();
    let _ = conn.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "in-flight request answered: {response:?}");
    assert!(response.contains("\"ok\""), "{response}");

    let started = Instant::now();
    let status = server.stop(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(TcpStream::connect(&addr).is_err(), "stopped accepting");
}

#[test]
fn keys_rotate_adds_an_active_key_and_keeps_the_old_one_published() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(dir.path());
    let server = Server::start(&db);
    let sk = server.printed.secret_key.clone().unwrap();
    let instance_id = server.printed.instance_id.clone().unwrap();
    let before = jwks_kids(&server, &sk);
    assert_eq!(before.len(), 1);

    // The only instance is taken when none is named.
    let out = run_with_timeout(with_db(tessera(&["keys", "rotate"]), &db), QUICK);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (printed_instance, kid) = text.trim().split_once('\t').expect("instance<TAB>kid");
    assert_eq!(printed_instance, instance_id);
    // A running server caches its keyset for a few seconds (keyring::KEYSET_TTL_MS): it shows the new key within
    // that time.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = jwks_kids(&server, &sk);
    while after.len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        after = jwks_kids(&server, &sk);
    }
    assert_eq!(after.len(), 2);
    assert!(after.contains(&before[0]) && after.iter().any(|k| k == kid), "{after:?}");

    let out = run_with_timeout(with_db(tessera(&["keys", "rotate", "--instance", "ins_nope"]), &db), QUICK);
    assert!(!out.status.success());
}

/// A `tessera` command on `db`, run to completion: its stdout on success, else the test fails with stderr.
fn run_ok(args: &[&str], db: &TestDb) -> String {
    let out = run_with_timeout(with_db(tessera(args), db), QUICK);
    assert!(out.status.success(), "tessera {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A `tessera` command on `db` that must fail; its stderr.
fn run_err(args: &[&str], db: &TestDb) -> String {
    let out = run_with_timeout(with_db(tessera(args), db), QUICK);
    assert!(!out.status.success(), "tessera {args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

fn send_json(method: reqwest::Method, url: &str, key: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let mut req = common::http().request(method.clone(), url).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().expect("JSON body");
    assert_eq!(status, 200, "{method} {url}: {body}");
    body
}

/// `tessera billing`: a catalogue file applied to a running server's database, shown, the payments switch, and
/// the clock run now and at a later time (`tick --at`), which ends a canceled item at its period's end.
#[test]
fn billing_catalogue_file_show_and_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(dir.path());
    let server = Server::start(&db);
    let sk = server.printed.secret_key.clone().unwrap();
    let instance_id = server.printed.instance_id.clone().unwrap();
    let user = send_json(
        reqwest::Method::POST,
        &server.at("/v1/users"),
        &sk,
        Some(serde_json::json!({ "email_address": ["payer@example.com"] })),
    );
    let user_id = user["id"].as_str().unwrap();
    let sub_url = server.at(&format!("/v1/users/{user_id}/billing/subscription"));
    // No billing yet: the user has no subscription.
    let (status, _) = get_json(&sub_url, Some(&sk));
    assert_eq!(status, 404);

    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk/billing_catalogue.json");
    let text = run_ok(&["billing", "apply", "--file", file.to_str().unwrap()], &db);
    assert!(text.contains(&instance_id), "{text}");
    // Applying the same file again changes nothing.
    run_ok(&["billing", "apply", "--file", file.to_str().unwrap()], &db);
    let show = run_ok(&["billing", "show"], &db);
    assert!(show.starts_with("users: enabled\torganizations: enabled\tpayments: succeed"), "{show}");
    let line = |slug: &str| -> Vec<String> {
        let l = show.lines().find(|l| l.split('\t').nth(2) == Some(slug)).unwrap_or_else(|| panic!("{slug}: {show}"));
        l.split('\t').map(str::to_owned).collect()
    };
    assert_eq!(
        line("pro")[1..],
        ["user", "pro", "Pro", "fee 2000", "annual/month 1600", "trial 14d", "reports,exports"]
    );
    assert_eq!(line("team")[1..4], ["org", "team", "Team"]);
    assert_eq!(line("free_user").last().unwrap(), "(default)");
    assert!(show.lines().any(|l| l.contains("\tdiscount\thalf\tHalf off")), "{show}");

    // The existing user got the default plan; move it to `plus` ($50, no trial), then cancel at the period's end.
    let sub = send_json(reqwest::Method::GET, &sub_url, &sk, None);
    let free = &sub["subscription_items"][0];
    assert_eq!((free["plan"]["slug"].as_str(), free["status"].as_str()), (Some("free_user"), Some("active")));
    let plus_id = line("plus")[0].clone();
    let prices =
        send_json(reqwest::Method::GET, &server.at(&format!("/v1/billing/prices?plan_id={plus_id}")), &sk, None);
    let to_price = prices["data"][0]["id"].as_str().unwrap();
    let moved = send_json(
        reqwest::Method::POST,
        &server.at(&format!("/v1/billing/subscription_items/{}/price_transition", free["id"].as_str().unwrap())),
        &sk,
        Some(serde_json::json!({ "from_price_id": free["price_id"], "to_price_id": to_price })),
    );
    let plus_item = moved["subscription_item"]["id"].as_str().unwrap().to_owned();
    let period_end = moved["subscription_item"]["period_end"].as_i64().unwrap();
    let canceled = send_json(
        reqwest::Method::DELETE,
        &server.at(&format!("/v1/billing/subscription_items/{plus_item}")),
        &sk,
        None,
    );
    assert_eq!(canceled["status"], "canceled");

    // Now, nothing is due; a day before the period's end, still nothing.
    assert_eq!(run_ok(&["billing", "tick"], &db).trim(), "0 subscription items moved");
    let rfc3339 = tessera_core::billing::calendar::rfc3339;
    let before = rfc3339(period_end - 86_400_000);
    assert!(run_ok(&["billing", "tick", "--at", &before], &db).starts_with("0 subscription items moved"));
    let status_of = |id: &str| {
        let sub = send_json(reqwest::Method::GET, &sub_url, &sk, None);
        let items = sub["subscription_items"].as_array().unwrap().clone();
        items.into_iter().find(|i| i["id"] == id).map(|i| i["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status_of(&plus_item).as_deref(), Some("canceled"));
    // At the period's end the canceled item ends and the default plan starts.
    let after = rfc3339(period_end + 1000);
    let text = run_ok(&["billing", "tick", "--at", &after], &db);
    assert!(text.starts_with("2 subscription items moved"), "{text}");
    // The subscription lists live items only; the item list finds the ended one.
    assert_eq!(status_of(&plus_item), None);
    assert_eq!(status_of(free["id"].as_str().unwrap()).as_deref(), Some("active"));
    let ended = send_json(
        reqwest::Method::GET,
        &server.at(&format!("/v1/billing/subscription_items?status=ended&query={plus_item}")),
        &sk,
        None,
    );
    assert_eq!(ended["data"][0]["ended_at"].as_i64(), Some(period_end), "{ended}");

    // The clock does not go back, `--at` must be a date-time, and production instances keep real time.
    assert!(run_err(&["billing", "tick", "--at", "2020-01-01T00:00:00Z"], &db).contains("past"));
    assert!(run_err(&["billing", "tick", "--at", "tomorrow"], &db).contains("RFC 3339"));
    let out = run_ok(&["instance", "create", "--environment", "production"], &db);
    let live_id = Printed::parse(&out).instance_id.expect("instance id");
    let stderr = run_err(&["billing", "tick", "--instance", &live_id, "--at", &after], &db);
    assert!(stderr.contains("development instances only"), "{stderr}");

    // The payments switch, and files the CLI refuses.
    run_ok(&["billing", "payments", "fail", "--instance", &instance_id], &db);
    let show = run_ok(&["billing", "show", "--instance", &instance_id], &db);
    assert!(show.starts_with("users: enabled\torganizations: enabled\tpayments: fail"), "{show}");
    assert!(run_err(&["billing", "payments", "maybe", "--instance", &instance_id], &db).contains("succeed or fail"));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{ "plans": [ { "slug": "x", "payer_type": "user", "price": 5 } ] }"#).unwrap();
    let stderr = run_err(&["billing", "apply", "--instance", &instance_id, "--file", bad.to_str().unwrap()], &db);
    assert!(stderr.contains("not a catalogue file"), "{stderr}");
    assert!(run_err(&["billing", "show"], &db).contains("several instances"));
}
