//! The signed-in user's account: changing and removing the password (the current one is checked and failures count
//! toward the lockout; other sessions can be signed out), the profile image, the user's sessions and revoking one,
//! and deleting the account.

use serde_json::json;
use tessera_testkit::TestApp;

use crate::me::signed_in;
use crate::{T0, events_of};

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn a_user_changes_their_password_and_signs_out_elsewhere() {
    let app = TestApp::with_clock(T0).await;
    let (b, sess, user) = signed_in(&app, "ada+clerk_test@example.com").await;
    // A second browser of the same user.
    let other = app.browser().await;
    other.get("/v1/client").send().await;
    let other_sess = other.sign_in_as(&user).await;

    let path = "/v1/me/change_password";
    b.post(path, &[("new_password", "a brand new passphrase")]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("current_password"),
    );
    b.post(path, &[("current_password", PASSWORD)]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("new_password"),
    );
    b.post(path, &[("current_password", PASSWORD), ("new_password", "short")]).send().await.assert_error(
        422,
        "form_password_length_too_short",
        Some("new_password"),
    );
    b.post(path, &[("current_password", "wrong password!"), ("new_password", "a brand new passphrase")])
        .send()
        .await
        .assert_error(422, "form_password_incorrect", Some("current_password"));
    let u = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(u["verification_attempts_remaining"], 9, "the wrong password counts toward the lockout");

    let before = events_of(&app, "user.updated").await.len();
    let r = b
        .post(
            path,
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
                ("sign_out_of_other_sessions", "true"),
            ],
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(r["response"]["id"], user.as_str());
    assert_eq!(r["response"]["password_enabled"], true);
    assert_eq!(r["client"]["last_active_session_id"], sess.as_str());
    assert!(events_of(&app, "user.updated").await.len() > before);
    let revoked = events_of(&app, "session.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["data"]["id"], other_sess.as_str());
    other.get("/v1/me").send().await.assert_error(401, "signed_out", None);
    b.get("/v1/me").send().await.assert_status(200);

    // The new password is the one the Backend API checks.
    app.post(&format!("/v1/users/{user}/verify_password"), json!({ "password": "a brand new passphrase" }))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_user_without_a_password_sets_one_and_removes_it() {
    let app = TestApp::with_clock(T0).await;
    let u = app
        .post("/v1/users", json!({ "email_address": ["ada@example.com"], "skip_password_requirement": true }))
        .send()
        .await
        .assert_status(200)
        .json;
    let user = u["id"].as_str().unwrap();
    let b = app.browser().await;
    b.get("/v1/client").send().await;
    b.sign_in_as(user).await;
    b.post("/v1/me/remove_password", &[]).send().await.assert_error(400, "password_not_set", None);
    let r = b.post("/v1/me/change_password", &[("new_password", "a fine passphrase")]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["password_enabled"], true);

    // The instance requires a password (Clerk's default): it cannot be removed.
    b.post("/v1/me/remove_password", &[("current_password", "a fine passphrase")]).send().await.assert_error(
        403,
        "authorization_invalid",
        None,
    );
    let mut s = tessera_core::settings::sign_up_settings(app.ctx(), &app.instance.id).await.unwrap();
    s.required_fields.retain(|f| f != "password");
    tessera_core::settings::store_sign_up_settings(app.ctx(), &app.instance, s).await.unwrap();
    b.post("/v1/me/remove_password", &[]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("current_password"),
    );
    b.post("/v1/me/remove_password", &[("current_password", "not it at all")]).send().await.assert_error(
        422,
        "form_password_incorrect",
        Some("current_password"),
    );
    let r = b.post("/v1/me/remove_password", &[("current_password", "a fine passphrase")]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["password_enabled"], false);
}

/// The smallest PNG: a 1×1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn multipart(name: &str, data: &[u8]) -> (Vec<u8>, String) {
    let boundary = "tesseraboundary7f3a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[tokio::test]
async fn a_user_uploads_and_deletes_a_profile_image() {
    let app = TestApp::with_clock(T0).await;
    let (b, _sess, user) = signed_in(&app, "ada+clerk_test@example.com").await;
    b.delete("/v1/me/profile_image").send().await.assert_error(404, "resource_not_found", None);

    let (body, ct) = multipart("file", PNG);
    let r = b.raw_body(axum::http::Method::POST, "/v1/me/profile_image", &body, &ct).await.assert_status(200).json;
    assert_eq!(r["response"]["object"], "image");
    assert_eq!(r["response"]["name"], "me.png");
    let url = r["response"]["public_url"].as_str().unwrap();
    assert!(url.ends_with(r["response"]["id"].as_str().unwrap()), "{url}");
    assert_eq!(r["client"]["sessions"][0]["user"]["has_image"], true);
    let u = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(u["has_image"], true);

    let (body, ct) = multipart("file", b"not an image");
    let r = b.raw_body(axum::http::Method::POST, "/v1/me/profile_image", &body, &ct).await;
    r.assert_error(422, "form_param_value_invalid", Some("file"));
    let (body, ct) = multipart("avatar", PNG);
    let r = b.raw_body(axum::http::Method::POST, "/v1/me/profile_image", &body, &ct).await;
    r.assert_error(400, "bad_request", Some("file"));

    let r = b.delete("/v1/me/profile_image").send().await.assert_status(200).json;
    assert_eq!(r["response"]["deleted"], true);
    assert_eq!(r["client"]["sessions"][0]["user"]["has_image"], false);
}

#[tokio::test]
async fn a_user_lists_and_revokes_their_sessions() {
    let app = TestApp::with_clock(T0).await;
    let (b, sess, user) = signed_in(&app, "ada+clerk_test@example.com").await;
    let other = app.browser().await;
    other.get("/v1/client").send().await;
    let other_sess = other.sign_in_as(&user).await;

    let all = b.get("/v1/me/sessions").send().await.assert_status(200).json;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let active = b.get("/v1/me/sessions/active").send().await.assert_status(200).json;
    let ids: Vec<&str> = active.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&sess.as_str()) && ids.contains(&other_sess.as_str()), "{ids:?}");
    assert_eq!(active[0]["latest_activity"]["is_mobile"], false);

    let r = b.post(&format!("/v1/me/sessions/{other_sess}/revoke"), &[]).send().await.assert_status(200).json;
    assert_eq!((&r["response"]["id"], &r["response"]["status"]), (&json!(other_sess), &json!("revoked")));
    assert_eq!(events_of(&app, "session.revoked").await.len(), 1);
    other.get("/v1/me").send().await.assert_error(401, "signed_out", None);
    let active = b.get("/v1/me/sessions/active").send().await.assert_status(200).json;
    assert_eq!(active.as_array().unwrap().len(), 1);
    // Revoking again leaves it revoked.
    b.post(&format!("/v1/me/sessions/{other_sess}/revoke"), &[]).send().await.assert_status(200);

    // Another user's session is unknown.
    let (_g, grace_sess, _) = signed_in(&app, "grace+clerk_test@example.com").await;
    b.post(&format!("/v1/me/sessions/{grace_sess}/revoke"), &[]).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    b.post("/v1/me/sessions/sess_unknown/revoke", &[]).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn a_user_deletes_their_account_when_allowed() {
    let app = TestApp::with_clock(T0).await;
    let (b, _sess, user) = signed_in(&app, "ada+clerk_test@example.com").await;
    app.patch(&format!("/v1/users/{user}"), json!({ "delete_self_enabled": false })).send().await.assert_status(200);
    b.delete("/v1/me").send().await.assert_error(403, "authorization_invalid", None);
    app.patch(&format!("/v1/users/{user}"), json!({ "delete_self_enabled": true })).send().await.assert_status(200);
    let r = b.delete("/v1/me").send().await.assert_status(200).json;
    assert_eq!(r["response"], json!({ "object": "user", "id": user, "deleted": true }));
    assert_eq!(r["client"]["sessions"], json!([]));
    assert_eq!(events_of(&app, "user.deleted").await.len(), 1);
    app.get(&format!("/v1/users/{user}")).send().await.assert_error(404, "resource_not_found", None);
}
