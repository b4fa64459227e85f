//! M2M tokens: create (machine key only), verify, revoke, list; opaque and JWT formats; expiry on a moved clock;
//! reuse with `min_remaining_ttl_seconds`; both `/v1/m2m_tokens…` and `/m2m_tokens…`; instance isolation.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::{TestApp, TestResponse};

use crate::machines::{T0, add_scope, assert_not_in_database, contains, create_machine, machine};

/// Mints a token with a machine secret key at `path` (`/m2m_tokens` or `/v1/m2m_tokens`).
async fn mint_at(app: &TestApp, path: &str, machine_key: &str, body: Value) -> Value {
    app.post(path, body).bearer(machine_key).send().await.assert_status(201).json
}

async fn mint(app: &TestApp, machine_key: &str, body: Value) -> Value {
    mint_at(app, "/m2m_tokens", machine_key, body).await
}

async fn verify(app: &TestApp, bearer: &str, token: &str) -> TestResponse {
    app.post("/m2m_tokens/verify", json!({ "token": token })).bearer(bearer).send().await
}

fn secret(t: &Value) -> &str {
    t["token"].as_str().unwrap()
}

/// Two machines where `caller` may call `callee`: `(caller id, caller key, callee id, callee key)`.
async fn pair(app: &TestApp) -> (String, String, String, String) {
    let (callee, callee_key) = machine(app, "callee").await;
    let caller = create_machine(app, json!({ "name": "caller", "scoped_machines": [callee] })).await;
    let caller_id = caller["id"].as_str().unwrap().to_owned();
    (caller_id, caller["secret_key"].as_str().unwrap().to_owned(), callee, callee_key)
}

#[tokio::test]
async fn create_opaque_token_and_verify_it_on_both_paths() {
    let app = TestApp::with_clock(T0).await;
    let (caller, caller_key, callee, callee_key) = pair(&app).await;
    for path in ["/m2m_tokens", "/v1/m2m_tokens"] {
        // The body `@clerk/backend` sends: explicit nulls mean "not given".
        let t = mint_at(
            &app,
            path,
            &caller_key,
            json!({ "seconds_until_expiration": null, "claims": null, "token_format": "opaque" }),
        )
        .await;
        assert_eq!(t["object"], "machine_to_machine_token");
        assert!(tessera_core::ids::is_hex_id(t["id"].as_str().unwrap(), "mt"), "{t}");
        let token = secret(&t);
        assert!(token.starts_with("mt_") && token.len() >= 3 + 32, "{token}");
        assert_ne!(token, t["id"].as_str().unwrap());
        assert_eq!(t["subject"], caller.as_str());
        assert_eq!(t["scopes"], json!([callee]));
        assert_eq!(t["claims"], Value::Null);
        assert_eq!((t["revoked"].as_bool(), t["expired"].as_bool()), (Some(false), Some(false)));
        assert_eq!(t["revocation_reason"], Value::Null);
        assert_eq!(t["last_used_at"], Value::Null);
        assert_eq!(t["created_at"], T0);
        assert_eq!(t["expiration"], T0 + 3_600_000, "the machine's default_token_ttl");

        for verify_path in ["/m2m_tokens/verify", "/v1/m2m_tokens/verify"] {
            // The instance secret key verifies any token; the callee's key verifies tokens scoped to it.
            for (bearer, field) in [(app.secret_key.as_str(), "token"), (callee_key.as_str(), "secret")] {
                let v =
                    app.post(verify_path, json!({ field: token })).bearer(bearer).send().await.assert_status(200).json;
                assert_eq!(v["id"], t["id"]);
                assert!(v.get("token").is_none(), "only the creation answer carries the token");
                assert_eq!(v["subject"], caller.as_str());
                assert_eq!(v["scopes"], json!([callee]));
                assert_eq!(v["last_used_at"], T0);
            }
        }
    }
}

#[tokio::test]
async fn only_a_machine_secret_key_can_create() {
    let app = TestApp::new().await;
    let (_, key) = machine(&app, "m").await;
    for path in ["/m2m_tokens", "/v1/m2m_tokens"] {
        app.post(path, json!({})).send().await.assert_error(401, "machine_secret_key_invalid", None);
        app.post(path, json!({})).anonymous().send().await.assert_error(401, "clerk_key_invalid", None);
        app.post(path, json!({})).bearer("ak_unknown0123456789").send().await.assert_error(
            401,
            "machine_secret_key_invalid",
            None,
        );
        app.post(path, json!({})).bearer("sk_test_unknown0123456789").send().await.assert_error(
            401,
            "clerk_key_invalid",
            None,
        );
        app.post(path, json!({})).bearer("mt_not_a_key").send().await.assert_error(
            401,
            "machine_secret_key_invalid",
            None,
        );
    }
    // An empty body is `{}`.
    app.request(axum::http::Method::POST, "/m2m_tokens")
        .raw("", "application/json")
        .bearer(&key)
        .send()
        .await
        .assert_status(201);
}

#[tokio::test]
async fn create_rejects_invalid_bodies_with_400() {
    let app = TestApp::new().await;
    let (_, key) = machine(&app, "m").await;
    for (body, param) in [
        (json!({ "scopes": ["x"] }), "scopes"),
        (json!({ "token_format": "xml" }), "token_format"),
        (json!({ "seconds_until_expiration": 0 }), "seconds_until_expiration"),
        (json!({ "seconds_until_expiration": -5 }), "seconds_until_expiration"),
        (json!({ "seconds_until_expiration": "60" }), "seconds_until_expiration"),
        (json!({ "seconds_until_expiration": 315_360_001 }), "seconds_until_expiration"),
        (json!({ "min_remaining_ttl_seconds": -1 }), "min_remaining_ttl_seconds"),
        (json!({ "min_remaining_ttl_seconds": 1.5 }), "min_remaining_ttl_seconds"),
        (json!({ "min_remaining_ttl_seconds": 3600 }), "min_remaining_ttl_seconds"),
        (json!({ "seconds_until_expiration": 60, "min_remaining_ttl_seconds": 60 }), "min_remaining_ttl_seconds"),
        (json!({ "token_format": "jwt", "claims": ["a"] }), "claims"),
        (json!({ "token_format": "jwt", "claims": { "sub": "mch_x" } }), "claims"),
        (json!({ "token_format": "jwt", "claims": { "scopes": "x" } }), "claims"),
    ] {
        app.post("/m2m_tokens", body).bearer(&key).send().await.assert_error(400, "bad_request", Some(param));
    }
    app.request(axum::http::Method::POST, "/m2m_tokens")
        .raw("{", "application/json")
        .bearer(&key)
        .send()
        .await
        .assert_error(400, "request_body_invalid", None);
    // Opaque tokens take any JSON as claims; 59 s of minimum remaining lifetime is below 60 s.
    let t = mint(
        &app,
        &key,
        json!({ "claims": [1, "two"], "seconds_until_expiration": 60, "min_remaining_ttl_seconds": 59 }),
    )
    .await;
    assert_eq!(t["claims"], json!([1, "two"]));
}

#[tokio::test]
async fn verify_rejects_unknown_out_of_scope_and_malformed_tokens() {
    let app = TestApp::new().await;
    let (_, caller_key, _, callee_key) = pair(&app).await;
    let (_, bystander_key) = machine(&app, "bystander").await;
    let t = mint(&app, &caller_key, json!({})).await;
    let token = secret(&t);
    verify(&app, &callee_key, token).await.assert_status(200);
    verify(&app, &bystander_key, token).await.assert_error(404, "resource_not_found", None);
    verify(&app, &caller_key, token).await.assert_error(404, "resource_not_found", None);
    for bad in
        ["mt_0000000000000000000000000000000000000000000000000", t["id"].as_str().unwrap(), "garbage", "a.b.c", ""]
    {
        verify(&app, &app.secret_key, bad).await.assert_error(404, "resource_not_found", None);
    }
    app.post("/m2m_tokens/verify", json!({})).send().await.assert_error(400, "bad_request", Some("token"));
    app.post("/m2m_tokens/verify", json!({ "token": token, "extra": 1 })).send().await.assert_error(
        400,
        "bad_request",
        Some("extra"),
    );
    app.post("/m2m_tokens/verify", json!({ "token": 5 })).send().await.assert_error(400, "bad_request", Some("token"));
    app.post("/m2m_tokens/verify", json!({ "token": token })).anonymous().send().await.assert_error(
        401,
        "clerk_key_invalid",
        None,
    );
    app.post("/m2m_tokens/verify", json!({ "token": token })).bearer("ak_nope").send().await.assert_error(
        401,
        "machine_secret_key_invalid",
        None,
    );
}

#[tokio::test]
async fn tokens_expire_on_time() {
    let app = TestApp::with_clock(T0).await;
    let (callee, callee_key) = machine(&app, "callee").await;
    let caller =
        create_machine(&app, json!({ "name": "caller", "scoped_machines": [callee], "default_token_ttl": 120 })).await;
    let (caller_id, caller_key) = (caller["id"].as_str().unwrap(), caller["secret_key"].as_str().unwrap());
    let short = mint(&app, caller_key, json!({ "seconds_until_expiration": 60 })).await;
    let default = mint(&app, caller_key, json!({})).await;
    assert_eq!(short["expiration"], T0 + 60_000);
    assert_eq!(default["expiration"], T0 + 120_000);

    app.clock.advance_ms(59_000);
    verify(&app, &callee_key, secret(&short)).await.assert_status(200);
    app.clock.advance_ms(2_000);
    verify(&app, &callee_key, secret(&short)).await.assert_error(404, "resource_not_found", None);
    verify(&app, &app.secret_key, secret(&short)).await.assert_error(404, "resource_not_found", None);
    verify(&app, &callee_key, secret(&default)).await.assert_status(200);
    app.clock.advance_ms(58_000);
    verify(&app, &callee_key, secret(&default)).await.assert_status(200);
    app.clock.advance_ms(2_000);
    verify(&app, &callee_key, secret(&default)).await.assert_error(404, "resource_not_found", None);

    let live = app.get(&format!("/m2m_tokens?subject={caller_id}")).send().await.assert_status(200).json;
    assert_eq!(live, json!({ "m2m_tokens": [], "total_count": 0 }), "expired tokens are left out by default");
    let all = app.get(&format!("/m2m_tokens?subject={caller_id}&expired=true")).send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 2);
    assert!(all["m2m_tokens"].as_array().unwrap().iter().all(|t| t["expired"] == true));
}

#[tokio::test]
async fn revoke_takes_effect_immediately() {
    let app = TestApp::new().await;
    let (caller, caller_key, _, callee_key) = pair(&app).await;
    let (_, bystander_key) = machine(&app, "bystander").await;
    let t1 = mint(&app, &caller_key, json!({})).await;
    let t2 = mint(&app, &caller_key, json!({})).await;
    let (id1, id2) = (t1["id"].as_str().unwrap(), t2["id"].as_str().unwrap());

    // With a machine key, only the minting machine's tokens can be revoked.
    for key in [&callee_key, &bystander_key] {
        app.post(&format!("/m2m_tokens/{id1}/revoke"), json!({})).bearer(key).send().await.assert_error(
            404,
            "resource_not_found",
            None,
        );
    }
    let r = app
        .post(&format!("/m2m_tokens/{id1}/revoke"), json!({ "revocation_reason": "rotated" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((r["revoked"].as_bool(), r["revocation_reason"].as_str()), (Some(true), Some("rotated")));
    assert!(r.get("token").is_none());
    verify(&app, &callee_key, secret(&t1)).await.assert_error(404, "resource_not_found", None);
    verify(&app, &app.secret_key, secret(&t1)).await.assert_error(404, "resource_not_found", None);
    // Revoking again changes nothing.
    let again = app
        .post(&format!("/v1/m2m_tokens/{id1}/revoke"), json!({ "revocation_reason": "other" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(again, r);

    // The minting machine's own key, `@clerk/backend`'s body shape.
    let r2 = app
        .post(&format!("/v1/m2m_tokens/{id2}/revoke"), json!({ "revocation_reason": null }))
        .bearer(&caller_key)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((r2["revoked"].as_bool(), &r2["revocation_reason"]), (Some(true), &Value::Null));
    verify(&app, &callee_key, secret(&t2)).await.assert_error(404, "resource_not_found", None);

    let listed = app.get(&format!("/m2m_tokens?subject={caller}")).send().await.assert_status(200).json;
    assert_eq!(listed["total_count"], 0, "revoked tokens are left out by default");
    let listed = app.get(&format!("/m2m_tokens?subject={caller}&revoked=true")).send().await.assert_status(200).json;
    assert_eq!(listed["total_count"], 2);

    let unknown = "mt_0123456789abcdef0123456789abcdef";
    app.post(&format!("/m2m_tokens/{unknown}/revoke"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post("/m2m_tokens/not_a_token_id/revoke", json!({})).send().await.assert_error(
        400,
        "bad_request",
        Some("m2m_token_id"),
    );
    app.post(&format!("/m2m_tokens/{id1}/revoke"), json!({ "reason": "x" })).send().await.assert_error(
        400,
        "bad_request",
        Some("reason"),
    );
    app.request(axum::http::Method::POST, &format!("/m2m_tokens/{unknown}/revoke"))
        .raw("", "application/json")
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn list_pages_and_scopes_by_key() {
    let app = TestApp::with_clock(T0).await;
    let (caller, caller_key, callee, callee_key) = pair(&app).await;
    let mut minted = Vec::new();
    for i in 0..3 {
        minted.push(mint(&app, &caller_key, json!({ "claims": { "n": i } })).await["id"].as_str().unwrap().to_owned());
        app.clock.advance_ms(1000);
    }
    mint(&app, &caller_key, json!({ "token_format": "jwt" })).await;
    let ids = |v: &Value| -> Vec<String> {
        v["m2m_tokens"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
    };
    for path in ["/m2m_tokens", "/v1/m2m_tokens"] {
        let all = app.get(&format!("{path}?subject={caller}")).send().await.assert_status(200).json;
        assert_eq!(all["total_count"], 3, "JWT-format tokens are not stored, hence not listed");
        assert_eq!(ids(&all), [minted[2].clone(), minted[1].clone(), minted[0].clone()], "newest first");
        assert_eq!(all["m2m_tokens"][0]["claims"], json!({ "n": 2 }));
        assert!(all["m2m_tokens"][0].get("token").is_none());
    }
    // Python sends floats and false flags.
    let page = app
        .get(&format!("/m2m_tokens?subject={caller}&limit=2.0&offset=1.0&revoked=false&expired=false"))
        .bearer(&caller_key)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((ids(&page), page["total_count"].as_i64()), (vec![minted[1].clone(), minted[0].clone()], Some(3)));

    app.get(&format!("/m2m_tokens?subject={caller}")).bearer(&callee_key).send().await.assert_error(
        403,
        "authorization_invalid",
        Some("subject"),
    );
    let own =
        app.get(&format!("/m2m_tokens?subject={callee}")).bearer(&callee_key).send().await.assert_status(200).json;
    assert_eq!(own["total_count"], 0);
    app.get("/m2m_tokens").send().await.assert_error(400, "query_param_missing", Some("subject"));
    app.get("/m2m_tokens?subject=user_123").send().await.assert_error(400, "query_param_invalid", Some("subject"));
    app.get("/m2m_tokens?subject=mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk").send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.get(&format!("/m2m_tokens?subject={caller}&limit=101")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("limit"),
    );
    app.get(&format!("/m2m_tokens?subject={caller}&limit=0")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("limit"),
    );
    app.get(&format!("/m2m_tokens?subject={caller}&revoked=maybe")).send().await.assert_error(
        400,
        "query_param_invalid",
        None,
    );
}

#[tokio::test]
async fn min_remaining_ttl_reuses_a_live_identical_token() {
    let app = TestApp::with_clock(T0).await;
    let (caller, caller_key, _, _) = pair(&app).await;
    let body =
        |claims: Value| json!({ "claims": claims, "seconds_until_expiration": 600, "min_remaining_ttl_seconds": 300 });
    let first = mint(&app, &caller_key, body(json!({ "role": "sync", "n": [1, 2] }))).await;
    app.clock.advance_ms(200_000);
    // Same claims (key order does not matter) and scopes, 400 s left ≥ 300 s: the same token comes back.
    let again = mint(&app, &caller_key, body(json!({ "n": [1, 2], "role": "sync" }))).await;
    assert_eq!((&again["id"], &again["token"]), (&first["id"], &first["token"]));
    assert_eq!(again["expiration"], T0 + 600_000);
    // Different claims: a new token.
    let other = mint(&app, &caller_key, body(json!({ "role": "other" }))).await;
    assert_ne!(other["id"], first["id"]);
    // Without min_remaining_ttl_seconds there is never reuse.
    let fresh = mint(&app, &caller_key, json!({ "claims": { "n": [1, 2], "role": "sync" } })).await;
    assert_ne!(fresh["id"], first["id"]);
    // Less than 300 s left: a new token.
    app.clock.advance_ms(101_000);
    let later = mint(&app, &caller_key, body(json!({ "role": "sync", "n": [1, 2] }))).await;
    assert_ne!(later["id"], first["id"]);
    // A revoked token is never reused.
    app.post(&format!("/m2m_tokens/{}/revoke", later["id"].as_str().unwrap()), json!({}))
        .send()
        .await
        .assert_status(200);
    let after_revoke = mint(&app, &caller_key, body(json!({ "role": "sync", "n": [1, 2] }))).await;
    assert_ne!(after_revoke["id"], later["id"]);
    // New scopes: a new token, since existing tokens keep the scopes they were minted with.
    let (third, _) = machine(&app, "third").await;
    add_scope(&app, &caller, &third).await;
    let rescoped = mint(&app, &caller_key, body(json!({ "role": "sync", "n": [1, 2] }))).await;
    assert_ne!(rescoped["id"], after_revoke["id"]);
    assert_eq!(rescoped["scopes"].as_array().unwrap().len(), 2);
    assert_eq!(after_revoke["scopes"].as_array().unwrap().len(), 1);
    // JWT-format tokens are never deduplicated.
    let j1 = mint(&app, &caller_key, json!({ "token_format": "jwt", "min_remaining_ttl_seconds": 10 })).await;
    let j2 = mint(&app, &caller_key, json!({ "token_format": "jwt", "min_remaining_ttl_seconds": 10 })).await;
    assert_ne!(j1["id"], j2["id"]);
}

#[tokio::test]
async fn concurrent_reuse_requests_mint_one_token() {
    let app = TestApp::new().await;
    let (_, key) = machine(&app, "m").await;
    let body = json!({ "claims": { "k": 1 }, "min_remaining_ttl_seconds": 60 });
    let send = || app.post("/m2m_tokens", body.clone()).bearer(&key).send();
    let (a, b, c, d) = tokio::join!(send(), send(), send(), send());
    let ids: Vec<Value> = [a, b, c, d].into_iter().map(|r| r.assert_status(201).json["id"].clone()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

#[tokio::test]
async fn jwt_tokens_are_signed_by_the_instance_keyring() {
    let app = TestApp::with_clock(T0).await;
    let (caller, caller_key, callee, callee_key) = pair(&app).await;
    let (_, bystander_key) = machine(&app, "bystander").await;
    let t = mint(
        &app,
        &caller_key,
        json!({ "token_format": "jwt", "seconds_until_expiration": 90, "claims": { "role": "sync", "aud": "api" } }),
    )
    .await;
    let id = t["id"].as_str().unwrap();
    assert!(tessera_core::ids::is_hex_id(id, "mt"));
    assert_eq!((t["expiration"].as_i64(), t["scopes"].clone()), (Some(T0 + 90_000), json!([callee])));
    assert_eq!(t["claims"], json!({ "role": "sync", "aud": "api" }));

    // What `@clerk/backend` checks locally: an RS256 JWT with the M2M category, a kid from /v1/jwks, and the claims.
    let jwt = secret(&t);
    let verified = tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, jwt).await.expect("RS256 signature");
    assert_eq!(verified.header["alg"], "RS256");
    assert_eq!(verified.header["cat"], "cl_B7d4PD333AAA");
    let jwks = app.get("/v1/jwks").send().await.assert_status(200).json;
    assert_eq!(jwks["keys"][0]["kid"], verified.header["kid"]);
    let c = &verified.claims;
    assert_eq!((c["sub"].as_str(), c["jti"].as_str()), (Some(caller.as_str()), Some(id)));
    assert_eq!((c["iat"].as_i64(), c["exp"].as_i64()), (Some(T0 / 1000), Some(T0 / 1000 + 90)));
    assert!(c["nbf"].as_i64().unwrap() <= c["iat"].as_i64().unwrap());
    assert_eq!(c["scopes"], callee.as_str(), "scopes, space-separated");
    assert_eq!((c["role"].as_str(), c["aud"].as_str()), (Some("sync"), Some("api")));
    assert!(c["iss"].as_str().unwrap().starts_with("https://"));

    // Server-side verification, with the instance key and the callee's key; not with others.
    for key in [app.secret_key.as_str(), callee_key.as_str()] {
        let v = verify(&app, key, jwt).await.assert_status(200).json;
        assert_eq!((v["id"].as_str(), v["subject"].as_str()), (Some(id), Some(caller.as_str())));
        assert_eq!(v["scopes"], json!([callee]));
        assert_eq!(v["claims"], json!({ "role": "sync", "aud": "api" }));
        assert_eq!((v["expiration"].as_i64(), v["created_at"].as_i64()), (Some(T0 + 90_000), Some(T0)));
    }
    verify(&app, &bystander_key, jwt).await.assert_error(404, "resource_not_found", None);
    // Stateless: it cannot be revoked.
    app.post(&format!("/m2m_tokens/{id}/revoke"), json!({})).send().await.assert_error(404, "resource_not_found", None);
    // Tampering, another instance's keyring, and expiry all make it invalid.
    let mut tampered = jwt.to_owned();
    tampered.replace_range(jwt.len() - 6.., "AAAAAA");
    verify(&app, &app.secret_key, &tampered).await.assert_error(404, "resource_not_found", None);
    let (_, other_key) = app.create_instance(Environment::Development).await;
    verify(&app, &other_key, jwt).await.assert_error(404, "resource_not_found", None);
    app.clock.advance_ms(89_000);
    verify(&app, &app.secret_key, jwt).await.assert_status(200);
    app.clock.advance_ms(2_000);
    verify(&app, &app.secret_key, jwt).await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn a_session_like_jwt_of_the_instance_is_not_an_m2m_token() {
    let app = TestApp::new().await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims = json!({ "sub": "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "jti": "mt_0123456789abcdef0123456789abcdef", "iat": now, "exp": now + 60 });
    let session = tessera_core::keyring::sign_jwt(app.ctx(), &app.instance.id, &[("cat", "cl_B7d4PD111AAA")], &claims)
        .await
        .unwrap();
    verify(&app, &app.secret_key, &session).await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn deleting_a_machine_invalidates_its_tokens_and_key() {
    let app = TestApp::new().await;
    let (caller, caller_key, _, callee_key) = pair(&app).await;
    let opaque = mint(&app, &caller_key, json!({})).await;
    let jwt = mint(&app, &caller_key, json!({ "token_format": "jwt" })).await;
    verify(&app, &callee_key, secret(&opaque)).await.assert_status(200);
    verify(&app, &callee_key, secret(&jwt)).await.assert_status(200);
    app.delete(&format!("/v1/machines/{caller}")).send().await.assert_status(200);
    verify(&app, &callee_key, secret(&opaque)).await.assert_error(404, "resource_not_found", None);
    verify(&app, &app.secret_key, secret(&jwt)).await.assert_error(404, "resource_not_found", None);
    app.post("/m2m_tokens", json!({})).bearer(&caller_key).send().await.assert_error(
        401,
        "machine_secret_key_invalid",
        None,
    );
}

#[tokio::test]
async fn rotated_out_key_can_mint_only_during_its_grace_period() {
    let app = TestApp::with_clock(T0).await;
    let (m, old_key) = machine(&app, "m").await;
    let new_key = app
        .post(&format!("/v1/machines/{m}/secret_key/rotate"), json!({ "previous_token_ttl": 300 }))
        .send()
        .await
        .assert_status(200)
        .json["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance_ms(299_000);
    mint(&app, &old_key, json!({})).await;
    app.clock.advance_ms(2_000);
    app.post("/m2m_tokens", json!({})).bearer(&old_key).send().await.assert_error(
        401,
        "machine_secret_key_invalid",
        None,
    );
    mint(&app, &new_key, json!({})).await;
}

#[tokio::test]
async fn scope_changes_do_not_alter_existing_tokens() {
    let app = TestApp::new().await;
    let (caller, caller_key, callee, callee_key) = pair(&app).await;
    let before = mint(&app, &caller_key, json!({})).await;
    app.delete(&format!("/v1/machines/{caller}/scopes/{callee}")).send().await.assert_status(200);
    let after = mint(&app, &caller_key, json!({})).await;
    assert_eq!(after["scopes"], json!([]));
    verify(&app, &callee_key, secret(&before)).await.assert_status(200);
    verify(&app, &callee_key, secret(&after)).await.assert_error(404, "resource_not_found", None);
    verify(&app, &app.secret_key, secret(&after)).await.assert_status(200);
}

#[tokio::test]
async fn tokens_are_isolated_per_instance() {
    let app = TestApp::new().await;
    let (caller, caller_key, _, _) = pair(&app).await;
    let t = mint(&app, &caller_key, json!({})).await;
    let (_, other_key) = app.create_instance(Environment::Production).await;
    let (other_machine, other_machine_key) = {
        let m = app
            .post("/v1/machines", json!({ "name": "other" }))
            .bearer(&other_key)
            .send()
            .await
            .assert_status(200)
            .json;
        (m["id"].as_str().unwrap().to_owned(), m["secret_key"].as_str().unwrap().to_owned())
    };
    verify(&app, &other_key, secret(&t)).await.assert_error(404, "resource_not_found", None);
    verify(&app, &other_machine_key, secret(&t)).await.assert_error(404, "resource_not_found", None);
    app.post(&format!("/m2m_tokens/{}/revoke", t["id"].as_str().unwrap()), json!({}))
        .bearer(&other_key)
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    app.get(&format!("/m2m_tokens?subject={caller}")).bearer(&other_key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.get(&format!("/m2m_tokens?subject={caller}")).bearer(&other_machine_key).send().await.assert_error(
        403,
        "authorization_invalid",
        None,
    );
    app.get(&format!("/m2m_tokens?subject={other_machine}")).send().await.assert_error(404, "resource_not_found", None);
    verify(&app, &app.secret_key, secret(&t)).await.assert_status(200);
}

#[tokio::test]
async fn opaque_tokens_are_not_stored_in_plaintext() {
    let app = TestApp::new().await;
    let (_, key) = machine(&app, "m").await;
    let t = mint(&app, &key, json!({})).await;
    let token = secret(&t);
    let digest = app.ctx().secrets.digest(token);
    let row =
        tessera_core::store::m2m_tokens::find_by_hash(&app.ctx().db, &digest).await.unwrap().expect("found by digest");
    assert_eq!(row.id, t["id"].as_str().unwrap());
    assert!(!contains(&row.token_sealed, token.as_bytes()) && !contains(&row.token_sealed, &token.as_bytes()[3..]));
    assert_not_in_database(&app, &[token, &key]).await;
}
