//! `PATCH /users/{id}`, metadata merge/replace, ban (one and bulk), profile image, identifications and lists.

use serde_json::json;
use tessera_testkit::TestApp;

use super::{T0, create_user, ids, user_with_email};

#[tokio::test]
async fn update_changes_given_fields_only() {
    let app = TestApp::with_clock(T0).await;
    let u = create_user(
        &app,
        json!({ "email_address": ["a@example.com", "b@example.com"], "first_name": "Ada", "username": "ada_l", "external_id": "x1" }),
    )
    .await;
    let id = u["id"].as_str().unwrap();
    let second = u["email_addresses"][1]["id"].as_str().unwrap();
    app.clock.advance_ms(10);
    let path = format!("/v1/users/{id}");
    let v = app
        .patch(
            &path,
            json!({ "last_name": "Lovelace", "primary_email_address_id": second, "username": null, "external_id": "x2",
                    "public_metadata": { "k": 1 }, "delete_self_enabled": true, "create_organizations_limit": 2,
                    "legal_accepted_at": "2020-01-01T00:00:00Z", "password": "correct horse battery",
                    "notify_primary_email_address_changed": true }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(v["first_name"], "Ada");
    assert_eq!(v["last_name"], "Lovelace");
    assert_eq!(v["primary_email_address_id"], second);
    assert_eq!(v["username"], json!(null));
    assert_eq!(v["external_id"], "x2");
    assert_eq!(v["public_metadata"], json!({ "k": 1 }));
    assert_eq!(v["delete_self_enabled"], true);
    assert_eq!(v["create_organizations_limit"], 2);
    assert_eq!(v["legal_accepted_at"], 1_577_836_800_000_i64);
    assert_eq!(v["password_enabled"], true);
    assert_eq!(v["updated_at"], T0 + 10);
    app.post(&format!("{path}/verify_password"), json!({ "password": "correct horse battery" }))
        .send()
        .await
        .assert_status(200);
    // The freed username can be taken by someone else; taken identifiers are refused.
    create_user(&app, json!({ "username": "ada_l", "external_id": "taken" })).await;
    app.patch(&path, json!({ "username": "ADA_L" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("username"),
    );
    app.patch(&path, json!({ "external_id": "taken" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("external_id"),
    );
    app.patch(&path, json!({ "primary_email_address_id": "idn_nope" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("primary_email_address_id"),
    );
    app.patch(&path, json!({ "password": "short" })).send().await.assert_error(
        422,
        "form_password_length_too_short",
        Some("password"),
    );
    app.patch(&path, json!({ "bogus": 1 })).send().await.assert_error(422, "form_param_unknown", Some("bogus"));
    app.patch("/v1/users/user_nope", json!({ "first_name": "x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // Up to API version 2025-11-10 (the default) metadata is accepted here; `versions.rs` has 2026-05-12's refusal.
    app.request(axum::http::Method::PATCH, &path)
        .json(json!({ "public_metadata": { "k": 2 } }))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn metadata_merge_and_replace() {
    let app = TestApp::new().await;
    let u = create_user(
        &app,
        json!({ "public_metadata": { "a": 1, "n": { "x": 1, "y": 2 } }, "private_metadata": { "p": 1 } }),
    )
    .await;
    let path = format!("/v1/users/{}/metadata", u["id"].as_str().unwrap());
    let m = app
        .patch(&path, json!({ "public_metadata": { "a": null, "n": { "y": null, "z": 3 }, "b": [1] }, "unsafe_metadata": { "u": 1 } }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(m["public_metadata"], json!({ "n": { "x": 1, "z": 3 }, "b": [1] }));
    assert_eq!(m["private_metadata"], json!({ "p": 1 }), "omitted fields are unchanged");
    assert_eq!(m["unsafe_metadata"], json!({ "u": 1 }));
    let r = app.put(&path, json!({ "public_metadata": { "only": true } })).send().await.assert_status(200).json;
    assert_eq!(r["public_metadata"], json!({ "only": true }));
    assert_eq!(r["private_metadata"], json!({ "p": 1 }));
    app.patch(&path, json!({ "public_metadata": "x" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("public_metadata"),
    );
    app.put("/v1/users/user_nope/metadata", json!({})).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn ban_unban_single_and_bulk() {
    let app = TestApp::new().await;
    let a = user_with_email(&app, "a@example.com").await;
    let b = user_with_email(&app, "b@example.com").await;
    let u = app.post(&format!("/v1/users/{a}/ban"), json!({})).send().await.assert_status(200).json;
    assert_eq!(u["banned"], true);
    let u = app.post(&format!("/v1/users/{a}/unban"), json!({})).send().await.assert_status(200).json;
    assert_eq!(u["banned"], false);
    app.post("/v1/users/user_nope/ban", json!({})).send().await.assert_error(404, "resource_not_found", None);
    let list =
        app.post("/v1/users/ban", json!({ "user_ids": [a, b, "user_nope"] })).send().await.assert_status(200).json;
    let mut got = ids(&list);
    got.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(got, want);
    assert!(list.as_array().unwrap().iter().all(|u| u["banned"] == true));
    let list = app.post("/v1/users/unban", json!({ "user_ids": [b] })).send().await.assert_status(200).json;
    assert_eq!(list[0]["banned"], false);
    app.post("/v1/users/ban", json!({ "user_ids": [] })).send().await.assert_error(
        400,
        "bad_request",
        Some("user_ids"),
    );
    app.post("/v1/users/ban", json!({})).send().await.assert_error(400, "bad_request", Some("user_ids"));
    let many: Vec<String> = (0..51).map(|i| format!("user_{i}")).collect();
    app.post("/v1/users/unban", json!({ "user_ids": many })).send().await.assert_error(
        400,
        "bad_request",
        Some("user_ids"),
    );
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn multipart(data: &[u8]) -> Vec<u8> {
    let mut body = b"--XBOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\r\n--XBOUNDARY--\r\n");
    body
}

/// Fetches an image without credentials. The image route is outside the spec and answers raw bytes, so it is
/// called on the router directly rather than through the JSON-checking test client.
async fn fetch_image(app: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let request = axum::http::Request::get(url).body(axum::body::Body::empty()).unwrap();
    let response = tessera_api::router(app.state.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let ct = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn profile_image_is_stored_and_served() {
    let app = TestApp::new().await;
    let id = user_with_email(&app, "pic@example.com").await;
    let path = format!("/v1/users/{id}/profile_image");
    let u = app
        .request(axum::http::Method::POST, &path)
        .raw(multipart(PNG), "multipart/form-data; boundary=XBOUNDARY")
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(u["has_image"], true);
    let url = u["image_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/v1/user_images/img_"), "{url}");
    let (status, content_type, body) = fetch_image(&app, &url).await;
    assert_eq!((status, content_type.as_str(), body.as_slice()), (200, "image/png", PNG));
    // The current image may be named in PATCH; any other id is refused.
    let image_id = url.rsplit('/').next().unwrap();
    app.patch(&format!("/v1/users/{id}"), json!({ "profile_image_id": image_id })).send().await.assert_status(200);
    app.patch(&format!("/v1/users/{id}"), json!({ "profile_image_id": "img_other" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("profile_image_id"),
    );
    app.request(axum::http::Method::POST, &path)
        .raw(multipart(b"not an image"), "multipart/form-data; boundary=XBOUNDARY")
        .send()
        .await
        .assert_error(400, "bad_request", Some("file"));
    app.post(&path, json!({})).send().await.assert_error(400, "bad_request", Some("file"));
    let u = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!((u["has_image"].clone(), u["image_url"].clone()), (json!(false), json!("")));
    assert_eq!(fetch_image(&app, &url).await.0, 404);
    app.delete("/v1/users/user_nope/profile_image").send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn identifications_and_related_lists() {
    let app = TestApp::new().await;
    let u = create_user(
        &app,
        json!({ "web3_wallet": ["0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222"] }),
    )
    .await;
    let id = u["id"].as_str().unwrap();
    let first = u["web3_wallets"][0]["id"].as_str().unwrap();
    let second = u["web3_wallets"][1]["id"].as_str().unwrap();
    let d = app.delete(&format!("/v1/users/{id}/web3_wallets/{first}")).send().await.assert_status(200).json;
    assert_eq!(d, json!({ "object": "web3_wallet", "id": first, "deleted": true }));
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!(u["primary_web3_wallet_id"], second);
    assert_eq!(u["web3_wallets"].as_array().unwrap().len(), 1);
    app.delete(&format!("/v1/users/{id}/web3_wallets/{first}")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.delete(&format!("/v1/users/{id}/passkeys/idn_x")).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("/v1/users/{id}/external_accounts/eac_x")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.delete(&format!("/v1/users/{id}/trusted_devices/td_x")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let t = app.get(&format!("/v1/users/{id}/trusted_devices")).send().await.assert_status(200).json;
    assert_eq!(t, json!({ "data": [], "total_count": 0 }));
    let o = app.get(&format!("/v1/users/{id}/oauth_access_tokens/oauth_google")).send().await.assert_status(200).json;
    assert_eq!(o, json!([]));
    let m = app.get(&format!("/v1/users/{id}/organization_memberships?limit=5")).send().await.assert_status(200).json;
    assert_eq!(m, json!({ "data": [], "total_count": 0 }));
    let i = app
        .get(&format!("/v1/users/{id}/organization_invitations?status=pending"))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(i, json!({ "data": [], "total_count": 0 }));
    app.get(&format!("/v1/users/{id}/organization_invitations?status=bogus")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("status"),
    );
    for path in
        ["trusted_devices", "oauth_access_tokens/oauth_google", "organization_memberships", "organization_invitations"]
    {
        app.get(&format!("/v1/users/user_nope/{path}")).send().await.assert_error(404, "resource_not_found", None);
    }
}
