//! `/admin_portal_link_tokens`: single-use tokens in the machine-auth dialect (201, hex ids, 400 errors).

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use crate::machines::assert_not_in_database;
use crate::organizations::{T0, enable, org_by, user_with_email};

#[tokio::test]
async fn create_expire_revoke() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let admin = user_with_email(&app, "admin@acme.test").await;
    let org = org_by(&app, "Acme", &admin).await;
    let t = app
        .post(
            "/v1/admin_portal_link_tokens",
            json!({ "organization_id": org, "it_contact_id": "contact_1", "scopes": ["sso", "directory_sync"],
                    "seconds_until_expiration": 600 }),
        )
        .send()
        .await
        .assert_status(201)
        .json;
    let id = t["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("aplt_") && id.len() == 37, "{id}");
    assert!(t["admin_portal_link_id"].as_str().unwrap().starts_with("apl_"));
    assert_eq!((t["instance_id"].clone(), t["organization_id"].clone()), (json!(app.instance.id), json!(org)));
    assert_eq!(
        (t["expiration"].clone(), t["expired"].clone(), t["revoked"].clone()),
        (json!(T0 + 600_000), json!(false), json!(false))
    );
    let token = t["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("aplt_") && token != id, "{token}");
    assert_not_in_database(&app, &[&token]).await;

    // One origin-level link per instance; scopes absent → null; the default lifetime is an hour.
    let t2 = app.post("/v1/admin_portal_link_tokens", json!({})).send().await.assert_status(201).json;
    assert_eq!(t2["admin_portal_link_id"], t["admin_portal_link_id"]);
    assert_eq!((t2["scopes"].clone(), t2["organization_id"].clone()), (json!(null), json!(null)));
    assert_eq!(t2["expiration"], T0 + 3_600_000);

    app.ctx().clock.advance_ms(600_000);
    let r = app
        .post(&format!("/v1/admin_portal_link_tokens/{id}/revoke"), json!({ "revocation_reason": "done" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (r["revoked"].clone(), r["revocation_reason"].clone(), r["expired"].clone()),
        (json!(true), json!("done"), json!(true))
    );
    assert_eq!(r.get("token"), None, "only create shows the token");
    let again = app
        .post(&format!("/v1/admin_portal_link_tokens/{id}/revoke"), json!({ "revocation_reason": "x" }))
        .send()
        .await;
    assert_eq!(again.assert_status(200).json["revocation_reason"], "done");
}

#[tokio::test]
async fn errors_and_isolation() {
    let app = TestApp::new().await;
    let post = |body| app.post("/v1/admin_portal_link_tokens", body).send();
    for (body, param) in [
        (json!({ "seconds_until_expiration": 0 }), "seconds_until_expiration"),
        (json!({ "seconds_until_expiration": 86_401 }), "seconds_until_expiration"),
        (json!({ "it_contact_id": "" }), "it_contact_id"),
        (json!({ "scopes": [""] }), "scopes"),
        (json!({ "organization_id": "nope" }), "organization_id"),
        (json!({ "organization_id": "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk" }), "organization_id"),
    ] {
        post(body).await.assert_error(400, "bad_request", Some(param));
    }
    post(json!({ "extra": 1 })).await.assert_status(400);
    let t = post(json!({})).await.assert_status(201).json;
    let id = t["id"].as_str().unwrap();
    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.post(&format!("/v1/admin_portal_link_tokens/{id}/revoke"), json!({}))
        .bearer(&key_b)
        .send()
        .await
        .assert_status(404);
    app.post("/v1/admin_portal_link_tokens/aplt_nothex/revoke", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}
