//! Sessions and clients: create, list filters and paging, get, revoke, expiry by the clock, session tokens and
//! their claims, ending on ban/lock/delete, client get/verify, instance isolation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use crate::users::{T0, user_with_email};

/// Creates a session for `user_id`; returns its JSON.
pub async fn create_session(app: &TestApp, user_id: &str) -> Value {
    app.post("/v1/sessions", json!({ "user_id": user_id })).send().await.assert_status(200).json
}

/// A user with an active session: `(user_id, session_id)`.
pub async fn user_and_session(app: &TestApp, email: &str) -> (String, String) {
    let user = user_with_email(app, email).await;
    let s = create_session(app, &user).await;
    (user, s["id"].as_str().unwrap().to_owned())
}

/// Mints a session token.
pub async fn mint(app: &TestApp, session_id: &str, body: Value) -> String {
    let r = app.post(&format!("/v1/sessions/{session_id}/tokens"), body).send().await.assert_status(200).json;
    assert_eq!(r["object"], "token");
    r["jwt"].as_str().unwrap().to_owned()
}

/// Decodes a JWT's header and claims (no verification).
pub fn decode(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let d = |p: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    (d(parts[0]), d(parts[1]))
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn create_get_and_client() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "a@example.com").await;
    let s = create_session(&app, &user).await;
    let id = s["id"].as_str().unwrap();
    assert!(tessera_core::ids::is_ksuid_id(id, "sess"), "{id}");
    assert_eq!(s["object"], "session");
    assert_eq!(s["user_id"], user.as_str());
    assert_eq!(s["status"], "active");
    assert_eq!(s["actor"], Value::Null);
    assert_eq!(s["last_active_at"], T0);
    assert_eq!(s["created_at"], T0);
    assert_eq!(s["expire_at"], T0 + 7 * 86_400_000);
    assert_eq!(s["abandon_at"], T0 + 30 * 86_400_000);
    let got = app.get(&format!("/v1/sessions/{id}")).send().await.assert_status(200).json;
    assert_eq!(got, s);

    // Creating a session is activity of the user.
    let u = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(u["last_active_at"], T0);

    let client_id = s["client_id"].as_str().unwrap();
    assert!(client_id.starts_with("client_"), "{client_id}");
    let c = app.get(&format!("/v1/clients/{client_id}")).send().await.assert_status(200).json;
    assert_eq!(c["object"], "client");
    assert_eq!(c["session_ids"], json!([id]));
    assert_eq!(c["sessions"][0]["id"], id);
    assert_eq!(c["last_active_session_id"], id);
    assert_eq!(c["sign_in_id"], Value::Null);
}

#[tokio::test]
async fn create_errors() {
    let app = TestApp::new().await;
    app.post("/v1/sessions", json!({})).send().await.assert_error(422, "form_param_missing", Some("user_id"));
    app.post("/v1/sessions", json!({ "user_id": 5 })).send().await.assert_status(422);
    app.post("/v1/sessions", json!({ "user_id": "user_nope" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let user = user_with_email(&app, "b@example.com").await;
    app.post("/v1/sessions", json!({ "user_id": user, "active_organization_id": "org_x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(&format!("/v1/users/{user}/ban"), json!({})).send().await.assert_status(200);
    app.post("/v1/sessions", json!({ "user_id": user })).send().await.assert_error(400, "user_banned", None);

    // Production instances cannot create sessions through the Backend API.
    let (_, live_key) = app.create_instance(Environment::Production).await;
    let live_user = app
        .post("/v1/users", json!({ "email_address": ["p@example.com"] }))
        .bearer(&live_key)
        .send()
        .await
        .assert_status(200)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post("/v1/sessions", json!({ "user_id": live_user })).bearer(&live_key).send().await.assert_error(
        400,
        "development_instance_required",
        None,
    );
}

#[tokio::test]
async fn list_filters_and_paging() {
    let app = TestApp::with_clock(T0).await;
    let a = user_with_email(&app, "a@example.com").await;
    let b = user_with_email(&app, "b@example.com").await;
    let mut a_sessions = Vec::new();
    for _ in 0..3 {
        app.clock.advance_ms(1000);
        a_sessions.push(create_session(&app, &a).await["id"].as_str().unwrap().to_owned());
    }
    app.clock.advance_ms(1000);
    let b1 = create_session(&app, &b).await;

    let all = app.get("/v1/sessions").send().await.assert_status(200).json;
    assert_eq!(ids(&all), vec![b1["id"].as_str().unwrap(), &a_sessions[2], &a_sessions[1], &a_sessions[0]]);
    let of_a = app.get(&format!("/v1/sessions?user_id={a}")).send().await.assert_status(200).json;
    assert_eq!(ids(&of_a), vec![&a_sessions[2], &a_sessions[1], &a_sessions[0]]);
    let of_client = app
        .get(&format!("/v1/sessions?client_id={}", b1["client_id"].as_str().unwrap()))
        .send()
        .await
        .assert_status(200);
    assert_eq!(ids(&of_client.json), vec![b1["id"].as_str().unwrap()]);

    // `paginated=true` ({data, total_count}, which the spec's schema does not describe) is covered by the SDK suite.
    let page = app.get(&format!("/v1/sessions?user_id={a}&limit=2&offset=1")).send().await.assert_status(200).json;
    assert_eq!(ids(&page), vec![&a_sessions[1], &a_sessions[0]]);

    app.post(&format!("/v1/sessions/{}/revoke", a_sessions[0]), json!({})).send().await.assert_status(200);
    let revoked = app.get(&format!("/v1/sessions?user_id={a}&status=revoked")).send().await.assert_status(200).json;
    assert_eq!(ids(&revoked), vec![&a_sessions[0]]);
    let active = app.get(&format!("/v1/sessions?user_id={a}&status=active")).send().await.assert_status(200).json;
    assert_eq!(ids(&active), vec![&a_sessions[2], &a_sessions[1]]);

    // Expiry and abandonment follow the clock.
    app.clock.advance_ms(7 * 86_400_000);
    let expired = app.get(&format!("/v1/sessions?user_id={a}&status=expired")).send().await.assert_status(200).json;
    assert_eq!(ids(&expired), vec![&a_sessions[2], &a_sessions[1]]);
    let none = app.get(&format!("/v1/sessions?user_id={a}&status=active")).send().await.assert_status(200).json;
    assert_eq!(none, json!([]));
    app.clock.advance_ms(23 * 86_400_000);
    let abandoned = app.get("/v1/sessions?status=abandoned").send().await.assert_status(200).json;
    assert_eq!(abandoned.as_array().unwrap().len(), 3);

    app.get("/v1/sessions?status=bogus").send().await.assert_error(400, "query_param_invalid", Some("status"));
    app.get("/v1/sessions?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));
    app.get("/v1/sessions?limit=501").send().await.assert_status(400);
}

#[tokio::test]
async fn revoke_and_unknown_ids() {
    let app = TestApp::with_clock(T0).await;
    let (_, sid) = user_and_session(&app, "r@example.com").await;
    // `verify` is a static path segment for POST only; a GET of it is a client that does not exist.
    app.get("/v1/clients/verify").send().await.assert_error(404, "resource_not_found", None);
    app.clock.advance_ms(5000);
    let r = app.post(&format!("/v1/sessions/{sid}/revoke"), json!({})).send().await.assert_status(200).json;
    assert_eq!(r["status"], "revoked");
    assert_eq!(r["updated_at"], T0 + 5000);
    // Revoking again leaves it revoked.
    let again = app.post(&format!("/v1/sessions/{sid}/revoke"), json!({})).send().await.assert_status(200).json;
    assert_eq!(again["status"], "revoked");
    // A revoked session gets no tokens.
    app.post(&format!("/v1/sessions/{sid}/tokens"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );

    app.get("/v1/sessions/sess_nope").send().await.assert_error(404, "resource_not_found", None);
    app.post("/v1/sessions/sess_nope/revoke", json!({})).send().await.assert_error(404, "resource_not_found", None);
    app.post("/v1/sessions/sess_nope/tokens", json!({})).send().await.assert_error(404, "resource_not_found", None);
    app.get("/v1/clients/client_nope").send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn session_token_claims_and_signature() {
    let app = TestApp::with_clock(T0).await;
    let (user, sid) = user_and_session(&app, "t@example.com").await;
    app.clock.advance_ms(125_000);
    let jwt = mint(&app, &sid, json!({})).await;
    let (header, claims) = decode(&jwt);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["cat"], "cl_B7d4PD111AAA");
    let jwks = app.get("/v1/jwks").send().await.assert_status(200).json;
    assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
    let now = (T0 + 125_000) / 1000;
    let host = app.instance.frontend_host();
    assert_eq!(
        claims,
        json!({
            "exp": now + 60, "fva": [2, -1], "iat": now, "iss": format!("https://{host}"), "nbf": now - 10,
            "sid": sid, "sub": user, "v": 2
        })
    );
    assert!(claims.get("aud").is_none() && claims.get("azp").is_none());
    let verified = tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, &jwt).await.expect("verifies");
    assert_eq!(verified.claims["sid"], sid.as_str());

    // expires_in_seconds is honoured (null = default) and bounded.
    let (_, c) = decode(&mint(&app, &sid, json!({ "expires_in_seconds": 3600 })).await);
    assert_eq!(c["exp"], now + 3600);
    let (_, c) = decode(&mint(&app, &sid, json!({ "expires_in_seconds": null })).await);
    assert_eq!(c["exp"], now + 60);
    // Out-of-range values are refused (422, a status this operation's spec does not declare: see the core test).

    // Minting is activity: the session and user last_active_at move.
    let s = app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json;
    assert_eq!(s["last_active_at"], T0 + 125_000);
    let u = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(u["last_active_at"], T0 + 125_000);

    // An expired session gets no tokens.
    app.clock.advance_ms(7 * 86_400_000);
    app.post(&format!("/v1/sessions/{sid}/tokens"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn ban_lock_and_delete_end_sessions() {
    let app = TestApp::new().await;
    let (banned, s1) = user_and_session(&app, "ban@example.com").await;
    let (locked, s2) = user_and_session(&app, "lock@example.com").await;
    let (deleted, s3) = user_and_session(&app, "del@example.com").await;
    let (other, s4) = user_and_session(&app, "other@example.com").await;

    app.post(&format!("/v1/users/{banned}/ban"), json!({})).send().await.assert_status(200);
    let s = app.get(&format!("/v1/sessions/{s1}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "revoked");
    app.post(&format!("/v1/users/{locked}/lock"), json!({})).send().await.assert_status(200);
    let s = app.get(&format!("/v1/sessions/{s2}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "ended");
    app.delete(&format!("/v1/users/{deleted}")).send().await.assert_status(200);
    app.get(&format!("/v1/sessions/{s3}")).send().await.assert_error(404, "resource_not_found", None);
    // Unrelated sessions stay active; bulk ban revokes too.
    let s = app.get(&format!("/v1/sessions/{s4}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "active");
    app.post("/v1/users/ban", json!({ "user_ids": [other] })).send().await.assert_status(200);
    let s = app.get(&format!("/v1/sessions/{s4}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "revoked");
    // Unbanning does not bring a session back.
    app.post(&format!("/v1/users/{banned}/unban"), json!({})).send().await.assert_status(200);
    let s = app.get(&format!("/v1/sessions/{s1}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "revoked");
}

#[tokio::test]
async fn verify_client_with_tokens() {
    let app = TestApp::with_clock(T0).await;
    let (_, sid) = user_and_session(&app, "v@example.com").await;
    let client_id = app.get(&format!("/v1/sessions/{sid}")).send().await.json["client_id"].as_str().unwrap().to_owned();

    // A session token names its client through `sid`.
    let jwt = mint(&app, &sid, json!({})).await;
    let c = app.post("/v1/clients/verify", json!({ "token": jwt })).send().await.assert_status(200).json;
    assert_eq!(c["id"], client_id.as_str());
    assert_eq!(c["session_ids"], json!([sid]));

    // Clerk's client token (`{"id": "client_…"}`, signed by the instance) names it directly.
    let client_token =
        tessera_core::keyring::sign_jwt(app.ctx(), &app.instance.id, &[], &json!({ "id": client_id })).await.unwrap();
    let c = app.post("/v1/clients/verify", json!({ "token": client_token })).send().await.assert_status(200).json;
    assert_eq!(c["id"], client_id.as_str());

    // Expired, tampered, foreign and malformed tokens are refused.
    app.clock.advance_ms(61_000);
    app.post("/v1/clients/verify", json!({ "token": jwt })).send().await.assert_error(400, "token_expired", None);
    let mut tampered = client_token.clone();
    tampered.replace_range(client_token.len() - 4.., "AAAA");
    app.post("/v1/clients/verify", json!({ "token": tampered })).send().await.assert_error(400, "token_invalid", None);
    app.post("/v1/clients/verify", json!({ "token": "x.y.z" })).send().await.assert_error(400, "token_invalid", None);
    app.post("/v1/clients/verify", json!({})).send().await.assert_error(400, "bad_request", Some("token"));
    app.post("/v1/clients/verify", json!({ "token": "a", "extra": 1 })).send().await.assert_status(400);
    let (other, other_key) = app.create_instance(Environment::Development).await;
    let foreign =
        tessera_core::keyring::sign_jwt(app.ctx(), &other.id, &[], &json!({ "id": client_id })).await.unwrap();
    app.post("/v1/clients/verify", json!({ "token": foreign })).send().await.assert_error(400, "token_invalid", None);
    // A valid token of the other instance naming this instance's client finds nothing there.
    app.post("/v1/clients/verify", json!({ "token": foreign })).bearer(&other_key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn instance_isolation() {
    let app = TestApp::new().await;
    let (user, sid) = user_and_session(&app, "iso@example.com").await;
    let client_id = app.get(&format!("/v1/sessions/{sid}")).send().await.json["client_id"].as_str().unwrap().to_owned();
    let (_, key) = app.create_instance(Environment::Development).await;
    app.get(&format!("/v1/sessions/{sid}")).bearer(&key).send().await.assert_error(404, "resource_not_found", None);
    app.post(&format!("/v1/sessions/{sid}/revoke"), json!({})).bearer(&key).send().await.assert_status(404);
    app.post(&format!("/v1/sessions/{sid}/tokens"), json!({})).bearer(&key).send().await.assert_status(404);
    app.get(&format!("/v1/clients/{client_id}")).bearer(&key).send().await.assert_status(404);
    app.post("/v1/sessions", json!({ "user_id": user })).bearer(&key).send().await.assert_status(404);
    let listed = app.get("/v1/sessions").bearer(&key).send().await.assert_status(200).json;
    assert_eq!(listed, json!([]));
    let s = app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "active");
}

/// `session.created`, `session.revoked` (revoke, ban) and `session.ended` (lock) are written with their change, each
/// with the session and its user as the webhook spec shapes them.
#[tokio::test]
async fn session_events() {
    let app = TestApp::new().await;
    let (user, s1) = user_and_session(&app, "events@example.com").await;
    let (locked, s2) = user_and_session(&app, "events-lock@example.com").await;
    let s3 = app.post("/v1/sessions", json!({ "user_id": user })).send().await.assert_status(200).json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/v1/sessions/{s1}/revoke"), json!({})).send().await.assert_status(200);
    // Revoking again changes nothing and emits nothing.
    app.post(&format!("/v1/sessions/{s1}/revoke"), json!({})).send().await.assert_status(200);
    app.post(&format!("/v1/users/{locked}/lock"), json!({})).send().await.assert_status(200);
    app.post(&format!("/v1/users/{user}/ban"), json!({})).send().await.assert_status(200);

    let events: Vec<(String, String, String)> = tessera_core::events::recent(app.ctx(), &app.instance.id, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type.starts_with("session."))
        .map(|e| {
            tessera_spec_check::validate_webhook_event(&e.payload).unwrap_or_else(|why| panic!("{why}"));
            let data = &e.payload["data"];
            assert_eq!(data["user"]["id"], data["user_id"], "the event carries the session's user");
            (e.event_type, data["id"].as_str().unwrap().to_owned(), data["status"].as_str().unwrap().to_owned())
        })
        .collect();
    let expected = [
        ("session.created", &s1, "active"),
        ("session.created", &s2, "active"),
        ("session.created", &s3, "active"),
        ("session.revoked", &s1, "revoked"),
        ("session.ended", &s2, "ended"),
        ("session.revoked", &s3, "revoked"),
    ];
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(t, id, s)| (t.to_string(), id.to_string(), s.to_string())).collect();
    assert_eq!(events, expected);
}

/// Minting reads its session from the node's cache (`tessera_core::cache`, sessions): with the clock stopped, so
/// that nothing cached can expire, every way a session stops being active through the server stops the very next
/// mint; a change behind the server's back (another process on the database) stops it within the cache's bound.
#[tokio::test]
async fn a_session_that_stops_being_active_stops_minting_at_once() {
    let app = TestApp::with_clock(T0).await;
    let (_, revoked) = user_and_session(&app, "revoked@example.com").await;
    let (banned, of_banned) = user_and_session(&app, "banned@example.com").await;
    let (deleted, of_deleted) = user_and_session(&app, "deleted@example.com").await;
    let (_, behind) = user_and_session(&app, "behind@example.com").await;
    for sid in [&revoked, &of_banned, &of_deleted, &behind] {
        mint(&app, sid, json!({})).await;
        mint(&app, sid, json!({})).await;
    }
    let refused = |sid: String| {
        let app = &app;
        async move {
            let r = app.post(&format!("/v1/sessions/{sid}/tokens"), json!({})).send().await;
            r.assert_error(404, "resource_not_found", None);
        }
    };
    app.post(&format!("/v1/sessions/{revoked}/revoke"), json!({})).send().await.assert_status(200);
    refused(revoked).await;
    app.post(&format!("/v1/users/{banned}/ban"), json!({})).send().await.assert_status(200);
    refused(of_banned).await;
    // Deleting the user deletes its sessions by cascade: no statement names the sessions table.
    app.delete(&format!("/v1/users/{deleted}")).send().await.assert_status(200);
    refused(of_deleted).await;

    // Cached again after the changes above (each of which dropped every cached session of the node).
    mint(&app, &behind, json!({})).await;
    let sql = format!("UPDATE sessions SET status = 'revoked' WHERE id = '{behind}'");
    app.write_behind_the_servers_back(&sql).await;
    mint(&app, &behind, json!({})).await; // stale, within the bound: the server has not heard of it
    app.clock.advance_ms(tessera_core::cache::TTL_MS);
    refused(behind).await;
}
