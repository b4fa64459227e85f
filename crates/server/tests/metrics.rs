//! `/metrics` of the real `tessera serve`: served on its own listener (`TESSERA_METRICS_ADDR`), never on the API
//! host; the request, pool, outbox and cache series appear and move with traffic.
//!
//! Runs on PostgreSQL too when `TESSERA_TEST_DATABASE_URL` is set.

mod common;

use common::{ServeOptions, Server, TestDb, http};
use serde_json::json;

const KEY: &str = "sk_test_TesseraMetricsSuiteDevelopmentKey01";

/// The scrape, as text.
fn scrape(url: &str) -> String {
    let res = http().get(url).send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(res.status().as_u16(), 200, "scrape {url}");
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("text/plain"), "content type {content_type}");
    res.text().expect("metrics text")
}

/// The value of the series whose name and labels (in any order) are given, if scraped.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, rest) = series.split_once('{').unwrap_or((series, "}"));
        let all = labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        (series_name == name && all).then(|| value.parse().ok()).flatten()
    })
}

#[test]
fn metrics_are_served_apart_and_move_with_traffic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::fresh(dir.path());
    let server = Server::start_with(
        ServeOptions { env: vec![("TESSERA_METRICS_ADDR", "127.0.0.1:0")], ..ServeOptions::new(&db) }.secret_key(KEY),
    );
    let metrics_url = server
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Metrics at "))
        .unwrap_or_else(|| panic!("no metrics line in {}", server.stdout))
        .trim()
        .to_owned();
    let frontend_host = server
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Frontend API:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|u| u.strip_prefix("https://"))
        .unwrap_or_else(|| panic!("no frontend host in {}", server.stdout))
        .to_owned();

    // Not on the API host: metrics aggregate every instance.
    let res = http().get(server.at("/metrics")).send().expect("GET /metrics on the API host");
    assert_eq!(res.status().as_u16(), 404, "/metrics must not be served on the API host");

    let get_user = [("face", "backend"), ("operation", "/v1/users/{user_id}"), ("method", "GET"), ("status", "404")];
    let before = scrape(&metrics_url);
    let count = |text: &str| value(text, "tessera_http_requests_total", &get_user).unwrap_or(0.0);
    for _ in 0..3 {
        let res = http().get(server.at("/v1/users/user_doesnotexist")).bearer_auth(KEY).send().expect("GET user");
        assert_eq!(res.status().as_u16(), 404);
    }
    let fapi = format!("/fapi/{frontend_host}/v1/environment?__clerk_api_version=2026-05-12");
    let res = http().get(server.at(&fapi)).send().expect("GET environment");
    assert_eq!(res.status().as_u16(), 200, "frontend environment");
    let res = http()
        .post(server.at("/api_keys/verify"))
        .bearer_auth(KEY)
        .json(&json!({ "secret": "ak_0123456789abcdef0123456789abcdef" }))
        .send()
        .expect("verify");
    assert_eq!(res.status().as_u16(), 404, "an unknown API key");

    let after = scrape(&metrics_url);
    assert_eq!(count(&after) - count(&before), 3.0, "three 404s on the route template, not the raw path:\n{after}");
    assert!(!after.contains("user_doesnotexist"), "a raw path leaked into a label");
    let latency = [("face", "backend"), ("operation", "/v1/users/{user_id}"), ("method", "GET")];
    assert!(
        value(&after, "tessera_http_request_duration_seconds_count", &latency).is_some_and(|n| n >= 3.0),
        "latency histogram:\n{after}"
    );
    assert!(
        value(&after, "tessera_http_request_duration_seconds_bucket", &[latency[1], ("le", "0.005")]).is_some(),
        "latency buckets:\n{after}"
    );
    let environment = [("face", "frontend"), ("operation", "/v1/environment"), ("status", "200")];
    assert!(value(&after, "tessera_http_requests_total", &environment).is_some_and(|n| n >= 1.0), "{after}");

    let pools: &[&str] =
        if db.master_key().is_some() { &["postgres", "postgres_read"] } else { &["sqlite_read", "sqlite_write"] };
    for pool in pools {
        let open = value(&after, "tessera_db_pool_connections", &[("pool", pool)]);
        assert!(open.is_some_and(|n| n >= 1.0), "pool {pool} open connections:\n{after}");
        assert!(value(&after, "tessera_db_pool_idle_connections", &[("pool", pool)]).is_some(), "{after}");
    }
    assert_eq!(value(&after, "tessera_webhook_outbox_depth", &[]), Some(0.0), "{after}");
    if db.master_key().is_none() {
        assert_eq!(value(&after, "tessera_db_write_queue_depth", &[]), Some(0.0), "SQLite's write queue:\n{after}");
    }
    // The unknown API key missed the verify cache (unknown secrets are looked up, never cached).
    let misses = |text: &str| value(text, "tessera_cache_misses_total", &[("cache", "api_keys")]).unwrap_or(0.0);
    assert!(misses(&after) - misses(&before) >= 1.0, "cache misses:\n{after}");
}
