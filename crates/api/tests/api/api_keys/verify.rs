//! `POST /api_keys/verify`: the secret in the body, the key back, 404 for anything invalid.

use serde_json::{Value, json};
use tessera_testkit::TestApp;

use super::{PREFIXES, START, USER, create, with_user};

/// `last_used_at` as recorded (GET reads the row; verify answers the time of the current use).
async fn stored_last_use(app: &TestApp, id: &str) -> Option<i64> {
    app.get(&format!("/api_keys/{id}")).send().await.assert_status(200).json["last_used_at"].as_i64()
}

#[tokio::test]
async fn verify_returns_the_key_and_records_the_use() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let key =
        create(&app, json!({ "name": "verified", "subject": USER, "claims": { "role": "bot" }, "scopes": ["x"] }))
            .await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    for (n, prefix) in PREFIXES.into_iter().enumerate() {
        // Far enough apart that each verify is recorded.
        app.clock.advance_ms(5_000);
        let now = START + 5_000 * (n as i64 + 1);
        let r = app.post(&format!("{prefix}/api_keys/verify"), json!({ "secret": secret })).send().await;
        let verified = r.assert_status(200).json;
        assert_eq!(verified["id"], id);
        assert_eq!(verified["last_used_at"].as_i64(), Some(now));
        assert_eq!((verified["claims"].clone(), verified["scopes"].clone()), (json!({ "role": "bot" }), json!(["x"])));
        assert!(verified.get("secret").is_none());
        // A use is not an update.
        assert_eq!(verified["updated_at"].as_i64(), Some(START));
        assert_eq!(stored_last_use(&app, id).await, Some(now));
    }
    // A second verify within a second is answered with the new time but not written.
    let recorded = START + 10_000;
    app.clock.advance_ms(600);
    let r = app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200);
    assert_eq!(r.json["last_used_at"].as_i64(), Some(recorded + 600));
    assert_eq!(stored_last_use(&app, id).await, Some(recorded));
    // Once the recorded use is a second old, the next verify is written again.
    app.clock.advance_ms(400);
    app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200);
    assert_eq!(stored_last_use(&app, id).await, Some(recorded + 1_000));
}

/// Verifies of a busy key arriving together record its use once: the first claims it in the cache before writing,
/// the others find it recorded (each writing it again waited for a commit; on the SQLite file, an fsync each).
#[tokio::test]
async fn concurrent_verifies_record_a_use_once() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let key = create(&app, json!({ "name": "busy", "subject": USER })).await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200);
    app.clock.advance_ms(5_000);
    let writes = || match &app.ctx().db {
        tessera_core::store::Db::Sqlite(pools) => Some(pools.writer.stats().0),
        tessera_core::store::Db::Postgres(_) => None,
    };
    let before = writes();
    let verifies = (0..16).map(|_| app.post("/api_keys/verify", json!({ "secret": secret })).send());
    for r in futures_util::future::join_all(verifies).await {
        assert_eq!(r.assert_status(200).json["last_used_at"].as_i64(), Some(START + 5_000));
    }
    if let (Some(before), Some(after)) = (before, writes()) {
        assert_eq!(after - before, 1, "one write for sixteen verifies of the same instant");
    }
    assert_eq!(stored_last_use(&app, id).await, Some(START + 5_000));
}

#[tokio::test]
async fn unknown_secrets_are_404() {
    let app = with_user(TestApp::new().await).await;
    let key = create(&app, json!({ "name": "real", "subject": USER })).await;
    let secret = key["secret"].as_str().unwrap();
    let tampered = format!("{}{}", &secret[..secret.len() - 1], if secret.ends_with('A') { 'B' } else { 'A' });
    let id = key["id"].as_str().unwrap().to_owned();
    for prefix in PREFIXES {
        for candidate in [tampered.as_str(), "ak_unknown", "", "mt_0123456789abcdef0123456789abcdef", id.as_str()] {
            let r = app.post(&format!("{prefix}/api_keys/verify"), json!({ "secret": candidate })).send().await;
            let r = r.assert_error(404, "resource_not_found", None);
            assert!(r.json["errors"][0]["long_message"].is_string());
        }
    }
    // The real one still works: failures do not lock anything.
    app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200);
}

#[tokio::test]
async fn verify_rejects_bad_bodies_with_400() {
    let app = with_user(TestApp::new().await).await;
    for prefix in PREFIXES {
        let path = format!("{prefix}/api_keys/verify");
        app.post(&path, json!({})).send().await.assert_error(400, "bad_request", Some("secret"));
        app.post(&path, json!({ "secret": null })).send().await.assert_error(400, "bad_request", Some("secret"));
        app.post(&path, json!({ "secret": 42 })).send().await.assert_error(400, "bad_request", Some("secret"));
        // The spec forbids other fields; `token` is the M2M verify field, not this one.
        app.post(&path, json!({ "secret": "ak_x", "token": "ak_x" })).send().await.assert_error(
            400,
            "bad_request",
            Some("token"),
        );
        app.request(axum::http::Method::POST, &path).raw("", "application/json").send().await.assert_error(
            400,
            "bad_request",
            Some("secret"),
        );
    }
}

#[tokio::test]
async fn expiry_takes_effect_at_the_exact_millisecond() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let key = create(&app, json!({ "name": "short lived", "subject": USER, "seconds_until_expiration": 60 })).await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["secret"].clone());
    assert_eq!(key["expiration"].as_i64(), Some(START + 60_000));
    app.clock.advance_ms(59_999);
    let r = app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200);
    assert_eq!(r.json["expired"], false);
    app.clock.advance_ms(1);
    for prefix in PREFIXES {
        let r = app.post(&format!("{prefix}/api_keys/verify"), json!({ "secret": secret })).send().await;
        r.assert_error(404, "resource_not_found", None);
    }
    let shown = app.get(&format!("/api_keys/{id}")).send().await.assert_status(200).json;
    assert_eq!((shown["expired"].clone(), shown["revoked"].clone()), (json!(true), json!(false)));
    // A new lifetime counts from now and makes the key valid again.
    let renewed = app.patch(&format!("/api_keys/{id}"), json!({ "seconds_until_expiration": 30 })).send().await;
    let renewed = renewed.assert_status(200).json;
    assert_eq!((renewed["expired"].clone(), renewed["expiration"].as_i64()), (json!(false), Some(START + 90_000)));
    app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200);
    // Clearing the expiration makes it permanent.
    let permanent = app.patch(&format!("/api_keys/{id}"), json!({ "seconds_until_expiration": null })).send().await;
    assert_eq!(permanent.assert_status(200).json["expiration"], Value::Null);
    app.clock.advance_ms(10 * 365 * 24 * 3_600_000);
    app.post("/api_keys/verify", json!({ "secret": secret })).send().await.assert_status(200);
}

#[tokio::test]
async fn other_methods_on_the_verify_path_treat_it_as_an_id() {
    let app = with_user(TestApp::new().await).await;
    for prefix in PREFIXES {
        app.get(&format!("{prefix}/api_keys/verify")).send().await.assert_error(404, "resource_not_found", None);
    }
}
