//! Update, secret retrieval, revocation and deletion of API keys.

use serde_json::{Value, json};
use tessera_testkit::TestApp;

use super::{ORG, PREFIXES, START, USER, create, create_named, with_user};

#[tokio::test]
async fn update_changes_the_mutable_fields() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let key = create_named(&app, USER, "mutable").await;
    let id = key["id"].as_str().unwrap();
    for (n, prefix) in PREFIXES.into_iter().enumerate() {
        app.clock.advance_ms(1000);
        let now = START + 1000 * (n as i64 + 1);
        let updated = app
            .patch(
                &format!("{prefix}/api_keys/{id}"),
                json!({
                    "claims": { "plan": prefix },
                    "scopes": ["read", prefix],
                    "description": format!("described via {prefix}"),
                    "subject": ORG,
                    "seconds_until_expiration": 60,
                }),
            )
            .send()
            .await
            .assert_status(200)
            .json;
        assert_eq!(updated["claims"], json!({ "plan": prefix }));
        assert_eq!(updated["scopes"], json!(["read", prefix]));
        assert_eq!(updated["description"], format!("described via {prefix}"));
        assert_eq!(updated["subject"], ORG);
        assert_eq!(updated["expiration"].as_i64(), Some(now + 60_000));
        assert_eq!((updated["updated_at"].as_i64(), updated["created_at"].as_i64()), (Some(now), Some(START)));
        assert!(updated.get("secret").is_none());
        // Name, type and creator are not mutable.
        assert_eq!((updated["name"].clone(), updated["type"].clone()), (json!("mutable"), json!("api_key")));
    }
    let path = format!("/api_keys/{id}");
    // An empty body changes nothing but the update time.
    let same = app.patch(&path, json!({})).send().await.assert_status(200).json;
    assert_eq!((same["scopes"].clone(), same["subject"].clone()), (json!(["read", ""]), json!(ORG)));
    // `null` clears the nullable fields; scopes and subject are not nullable, so `null` leaves them.
    let cleared = app
        .patch(
            &path,
            json!({ "claims": null, "description": null, "seconds_until_expiration": null, "scopes": null, "subject": null }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    for field in ["claims", "description", "expiration"] {
        assert_eq!(cleared[field], Value::Null, "{field}");
    }
    assert_eq!((cleared["scopes"].clone(), cleared["subject"].clone()), (json!(["read", ""]), json!(ORG)));
    // What the GET shows is what the PATCH answered.
    assert_eq!(app.get(&path).send().await.assert_status(200).json, cleared);
    // The owner can move to a machine too.
    let machine = app.post("/v1/machines", json!({ "name": "worker" })).send().await.assert_status(200).json;
    let moved = app.patch(&path, json!({ "subject": machine["id"] })).send().await.assert_status(200).json;
    assert_eq!(moved["subject"], machine["id"]);
}

#[tokio::test]
async fn update_rejects_bad_bodies_with_400() {
    let app = with_user(TestApp::new().await).await;
    let key = create_named(&app, USER, "strict").await;
    let path = format!("/v1/api_keys/{}", key["id"].as_str().unwrap());
    let cases = [
        (json!({ "name": "renamed" }), "name"),
        (json!({ "type": "other" }), "type"),
        (json!({ "created_by": USER }), "created_by"),
        (json!({ "subject": "user_1" }), "subject"),
        (json!({ "subject": "scim_2xhFjEI5X2qWRvtV13BzSj8H6Dk" }), "subject"),
        (json!({ "scopes": "read" }), "scopes"),
        (json!({ "claims": 7 }), "claims"),
        (json!({ "description": "d".repeat(256) }), "description"),
        (json!({ "seconds_until_expiration": 0 }), "seconds_until_expiration"),
        (json!({ "seconds_until_expiration": true }), "seconds_until_expiration"),
    ];
    for (body, param) in cases {
        let r = app.patch(&path, body.clone()).send().await;
        assert_eq!(r.status, 400, "{body}: {}", r.json);
        r.assert_error(400, "bad_request", Some(param));
    }
    // Nothing changed.
    let mut unchanged = key.clone();
    unchanged.as_object_mut().unwrap().remove("secret");
    assert_eq!(app.get(&path).send().await.json, unchanged);
}

#[tokio::test]
async fn the_secret_can_be_read_again() {
    let app = with_user(TestApp::new().await).await;
    let key = create_named(&app, USER, "retrievable").await;
    for prefix in PREFIXES {
        let r = app.get(&format!("{prefix}/api_keys/{}/secret", key["id"].as_str().unwrap())).send().await;
        let r = r.assert_status(200);
        assert_eq!(r.json["secret"], key["secret"]);
        assert_eq!(r.json["object"], "api_key_secret");
    }
}

#[tokio::test]
async fn revoke_is_permanent_and_keeps_the_first_reason() {
    let app = with_user(TestApp::with_clock(START).await).await;
    let mut keys = Vec::new();
    for prefix in PREFIXES {
        let key = create_named(&app, USER, "to revoke").await;
        app.clock.advance_ms(500);
        let revoked = app
            .post(
                &format!("{prefix}/api_keys/{}/revoke", key["id"].as_str().unwrap()),
                json!({ "revocation_reason": "leaked" }),
            )
            .send()
            .await
            .assert_status(200)
            .json;
        assert_eq!((revoked["revoked"].clone(), revoked["revocation_reason"].clone()), (json!(true), json!("leaked")));
        assert_eq!(revoked["updated_at"].as_i64(), Some(app.clock.now_ms()));
        assert!(revoked.get("secret").is_none());
        keys.push(key);
    }
    let id = keys[0]["id"].as_str().unwrap();
    // Revoking again changes nothing.
    app.clock.advance_ms(500);
    let again = app
        .post(&format!("/api_keys/{id}/revoke"), json!({ "revocation_reason": "second thoughts" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(again["revocation_reason"], "leaked");
    assert_eq!(again["updated_at"].as_i64(), Some(START + 500));
    // The key stays readable, and its secret stops verifying at once.
    assert_eq!(app.get(&format!("/api_keys/{id}")).send().await.assert_status(200).json["revoked"], true);
    for key in &keys {
        let r = app.post("/api_keys/verify", json!({ "secret": key["secret"] })).send().await;
        r.assert_error(404, "resource_not_found", None);
    }
    // An update does not revive it.
    let updated = app.patch(&format!("/api_keys/{id}"), json!({ "seconds_until_expiration": 60 })).send().await;
    assert_eq!(updated.assert_status(200).json["revoked"], true);
    app.post("/api_keys/verify", json!({ "secret": keys[0]["secret"] })).send().await.assert_status(404);
}

#[tokio::test]
async fn revoke_accepts_what_the_sdks_send() {
    let app = with_user(TestApp::new().await).await;
    // `@clerk/backend` sends an explicit null reason; an empty body counts as `{}`.
    for body in [json!({ "revocation_reason": null }), json!({})] {
        let key = create_named(&app, USER, "revocable").await;
        let r = app.post(&format!("/api_keys/{}/revoke", key["id"].as_str().unwrap()), body).send().await;
        let r = r.assert_status(200);
        assert_eq!((r.json["revoked"].clone(), r.json["revocation_reason"].clone()), (json!(true), Value::Null));
    }
    let key = create_named(&app, USER, "revocable").await;
    let path = format!("/api_keys/{}/revoke", key["id"].as_str().unwrap());
    app.request(axum::http::Method::POST, &path).raw("", "application/json").send().await.assert_status(200);
    let key = create_named(&app, USER, "revocable").await;
    let path = format!("/api_keys/{}/revoke", key["id"].as_str().unwrap());
    app.post(&path, json!({ "reason": "typo" })).send().await.assert_error(400, "bad_request", Some("reason"));
    app.post(&path, json!({ "revocation_reason": 5 })).send().await.assert_error(
        400,
        "bad_request",
        Some("revocation_reason"),
    );
}

#[tokio::test]
async fn delete_removes_the_key_and_its_secret() {
    let app = with_user(TestApp::new().await).await;
    for prefix in PREFIXES {
        let key = create(&app, json!({ "name": "doomed", "subject": USER })).await;
        let id = key["id"].as_str().unwrap();
        let path = format!("{prefix}/api_keys/{id}");
        let r = app.delete(&path).send().await.assert_status(200);
        assert_eq!(r.json, json!({ "id": id, "object": "api_key", "deleted": true }));
        app.get(&path).send().await.assert_error(404, "resource_not_found", None);
        app.get(&format!("{path}/secret")).send().await.assert_error(404, "resource_not_found", None);
        app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
        let r = app.post(&format!("{prefix}/api_keys/verify"), json!({ "secret": key["secret"] })).send().await;
        r.assert_error(404, "resource_not_found", None);
        let list = app.get(&format!("/api_keys?subject={USER}&include_invalid=true")).send().await;
        assert_eq!(list.assert_status(200).json["total_count"], 0);
    }
}
