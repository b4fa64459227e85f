//! Tessera's session settings (`GET`/`PATCH /v1/instance/session_settings`): Clerk's defaults, validation, and
//! their effect on sessions — the maximum lifetime (`expired`), the inactivity timeout (`abandoned`, moved on by
//! minting tokens) and the token lifetime (`exp`).

use serde_json::{Value, json};
use tessera_testkit::TestApp;

use crate::sessions::{create_session, decode, mint, user_and_session};
use crate::users::T0;

const PATH: &str = "/v1/instance/session_settings";

async fn patch(app: &TestApp, body: Value) -> Value {
    app.patch(PATH, body).send().await.assert_status(200).json
}

async fn session(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/sessions/{id}")).send().await.assert_status(200).json
}

#[tokio::test]
async fn defaults_are_clerks_and_bad_values_are_refused() {
    let app = TestApp::new().await;
    let got = app.get(PATH).send().await.assert_status(200).json;
    assert_eq!(
        got,
        json!({"object": "session_settings", "max_lifetime_seconds": 604_800, "inactivity_timeout_seconds": null,
               "token_lifetime_seconds": 60, "single_session_mode": true})
    );
    for (body, param) in [
        (json!({"token_lifetime_seconds": 4}), "token_lifetime_seconds"),
        (json!({"token_lifetime_seconds": 315_360_001}), "token_lifetime_seconds"),
        (json!({"max_lifetime_seconds": 59}), "max_lifetime_seconds"),
        (json!({"inactivity_timeout_seconds": 0}), "inactivity_timeout_seconds"),
        // Both off: Clerk requires one of them.
        (json!({"max_lifetime_seconds": null}), "max_lifetime_seconds"),
    ] {
        app.patch(PATH, body).send().await.assert_error(422, "form_param_value_invalid", Some(param));
    }
    app.patch(PATH, json!({"token_lifetime_seconds": "60"})).send().await.assert_status(422);
    app.patch(PATH, json!({"bogus": 1})).send().await.assert_status(422);
    // Nothing was written.
    assert_eq!(app.get(PATH).send().await.assert_status(200).json, got);

    let changed = patch(
        &app,
        json!({"inactivity_timeout_seconds": 3600, "max_lifetime_seconds": null, "single_session_mode": false}),
    )
    .await;
    assert_eq!(changed["max_lifetime_seconds"], Value::Null);
    assert_eq!(changed["inactivity_timeout_seconds"], 3600);
    assert_eq!(changed["single_session_mode"], false);
    assert_eq!(changed["token_lifetime_seconds"], 60, "absent fields are unchanged");
    assert_eq!(app.get(PATH).send().await.assert_status(200).json, changed);
    // Another instance keeps its own settings.
    let (_, other_key) = app.create_instance(tessera_core::instances::Environment::Development).await;
    let other = app.get(PATH).bearer(&other_key).send().await.assert_status(200).json;
    assert_eq!(other["max_lifetime_seconds"], 604_800);
    app.get(PATH).anonymous().send().await.assert_status(401);
}

#[tokio::test]
async fn the_maximum_lifetime_expires_sessions_and_their_tokens() {
    let app = TestApp::with_clock(T0).await;
    patch(&app, json!({"max_lifetime_seconds": 3600, "token_lifetime_seconds": 120})).await;
    let (_, sid) = user_and_session(&app, "life@example.com").await;
    let s = session(&app, &sid).await;
    assert_eq!(s["expire_at"], T0 + 3_600_000);
    assert_eq!(s["abandon_at"], T0 + 30 * 86_400_000, "no inactivity timeout: Clerk's 30 days");

    // Tokens last the instance's token lifetime unless the call asks otherwise.
    let (_, claims) = decode(&mint(&app, &sid, json!({})).await);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);
    let (_, claims) = decode(&mint(&app, &sid, json!({"expires_in_seconds": 30})).await);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 30);

    app.clock.advance_ms(3_600_000 - 1);
    assert_eq!(session(&app, &sid).await["status"], "active");
    app.clock.advance_ms(1);
    assert_eq!(session(&app, &sid).await["status"], "expired");
    app.post(&format!("/v1/sessions/{sid}/tokens"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let expired = app.get("/v1/sessions?status=expired").send().await.assert_status(200).json;
    assert_eq!(expired[0]["id"], sid.as_str());
    // A session opened now gets the lifetime in force now.
    patch(&app, json!({"max_lifetime_seconds": 7200})).await;
    let user = session(&app, &sid).await["user_id"].as_str().unwrap().to_owned();
    let later = create_session(&app, &user).await;
    assert_eq!(later["expire_at"], T0 + 3_600_000 + 7_200_000);
}

#[tokio::test]
async fn inactivity_abandons_sessions_and_activity_keeps_them() {
    let app = TestApp::with_clock(T0).await;
    patch(&app, json!({"inactivity_timeout_seconds": 600})).await;
    let (_, sid) = user_and_session(&app, "idle@example.com").await;
    let s = session(&app, &sid).await;
    assert_eq!(s["abandon_at"], T0 + 600_000);
    assert_eq!(s["expire_at"], T0 + 7 * 86_400_000);

    // Minting a token is activity: the deadline moves on.
    app.clock.advance_ms(500_000);
    mint(&app, &sid, json!({})).await;
    let s = session(&app, &sid).await;
    assert_eq!(s["last_active_at"], T0 + 500_000);
    assert_eq!(s["abandon_at"], T0 + 1_100_000);
    app.clock.advance_ms(599_999);
    assert_eq!(session(&app, &sid).await["status"], "active");
    app.clock.advance_ms(1);
    assert_eq!(session(&app, &sid).await["status"], "abandoned");
    app.post(&format!("/v1/sessions/{sid}/tokens"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let abandoned = app.get("/v1/sessions?status=abandoned").send().await.assert_status(200).json;
    assert_eq!(abandoned[0]["id"], sid.as_str());
    let active = app.get("/v1/sessions?status=active").send().await.assert_status(200).json;
    assert_eq!(active, json!([]));
}

/// Settings are cached (`tessera_core::cache`): a change through the server applies to the very next token, with the
/// clock standing still (so no cached entry expires); a change behind the server's back (the CLI, SQL by hand)
/// applies once the cached settings expire.
#[tokio::test]
async fn a_changed_token_lifetime_applies_to_the_next_token() {
    let app = TestApp::with_clock(T0).await;
    let (_, sid) = user_and_session(&app, "cached.settings@example.com").await;
    let lifetime = async || {
        let (_, claims) = decode(&mint(&app, &sid, json!({})).await);
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
    };
    assert_eq!(lifetime().await, 60, "Clerk's default");
    assert_eq!(lifetime().await, 60, "again (the settings from the cache)");
    patch(&app, json!({"token_lifetime_seconds": 120})).await;
    assert_eq!(lifetime().await, 120, "changed through the server: the next token");
    app.write_behind_the_servers_back("DELETE FROM instance_settings WHERE grp = 'session_settings'").await;
    assert_eq!(lifetime().await, 120, "changed behind its back: not yet");
    app.clock.advance_ms(tessera_core::cache::TTL_MS);
    assert_eq!(lifetime().await, 60, "once the cached settings expired");
}
