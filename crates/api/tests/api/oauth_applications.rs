//! OAuth applications: create (secret once, public clients without), list (order, name or client_id query), get,
//! update, delete, logo, rotate secret; revoke_token and access-token verify for tokens that do not exist or are
//! forged (tokens the provider issued are tested end to end in the frontend suite); instance isolation.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::{TestApp, TestResponse};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn create(app: &TestApp, body: Value) -> Value {
    app.post("/v1/oauth_applications", body).send().await.assert_status(200).json
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn create_shows_the_secret_once_and_points_at_the_frontend_host() {
    let app = TestApp::new().await;
    let a = create(&app, json!({ "name": "My app", "redirect_uris": ["https://app.test/cb", "myapp://cb"] })).await;
    assert_eq!(a["object"], "oauth_application");
    assert_eq!(a["scopes"], "profile email");
    assert_eq!(a["consent_screen_enabled"], true);
    assert_eq!(a["pkce_required"], false);
    assert_eq!(a["public"], false);
    assert_eq!(a["dynamically_registered"], false);
    assert_eq!(a["callback_url"], "https://app.test/cb");
    assert_eq!(a["redirect_uris"], json!(["https://app.test/cb", "myapp://cb"]));
    let secret = a["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 32, "{secret}");
    let host = app.instance.frontend_host();
    assert_eq!(a["authorize_url"], format!("https://{host}/oauth/authorize"));
    assert_eq!(a["token_fetch_url"], format!("https://{host}/oauth/token"));
    assert_eq!(a["user_info_url"], format!("https://{host}/oauth/userinfo"));
    assert_eq!(a["discovery_url"], format!("https://{host}/.well-known/openid-configuration"));
    assert_eq!(a["token_introspection_url"], format!("https://{host}/oauth/token_info"));
    let got = app.get(&format!("/v1/oauth_applications/{}", id(&a))).send().await.assert_status(200).json;
    assert!(got.get("client_secret").is_none(), "the secret is shown only once");
    assert_eq!(got["client_id"], a["client_id"]);
    crate::machines::assert_not_in_database(&app, &[secret]).await;
}

#[tokio::test]
async fn public_clients_have_no_secret_and_deprecated_callback_url_still_works() {
    let app = TestApp::new().await;
    let a = create(
        &app,
        json!({ "name": "SPA", "public": true, "callback_url": "http://localhost:3000/cb",
                                  "scopes": "openid profile email offline_access", "pkce_required": null }),
    )
    .await;
    assert_eq!(a["public"], true);
    assert_eq!(a["client_secret"], "");
    assert_eq!(a["redirect_uris"], json!(["http://localhost:3000/cb"]));
    assert_eq!(a["scopes"], "openid profile email offline_access");
    let rotated = app
        .post(&format!("/v1/oauth_applications/{}/rotate_secret", id(&a)), json!({}))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(rotated["client_secret"], "");
}

#[tokio::test]
async fn invalid_input_is_422() {
    let app = TestApp::new().await;
    app.post("/v1/oauth_applications", json!({})).send().await.assert_error(422, "form_param_missing", Some("name"));
    app.post("/v1/oauth_applications", json!({ "name": "x".repeat(257) })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("name"),
    );
    app.post("/v1/oauth_applications", json!({ "name": "a", "redirect_uris": ["not a uri"] }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("redirect_uris"));
    app.post("/v1/oauth_applications", json!({ "name": "a", "scopes": "profile admin" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("scopes"),
    );
    let a = create(&app, json!({ "name": "a" })).await;
    app.patch(&format!("/v1/oauth_applications/{}", id(&a)), json!({ "unknown": 1 })).send().await.assert_error(
        422,
        "form_param_unknown",
        None,
    );
}

#[tokio::test]
async fn list_orders_and_matches_names_or_client_ids() {
    let app = TestApp::new().await;
    let beta = create(&app, json!({ "name": "Beta tool" })).await;
    app.clock.advance_ms(5);
    let alpha = create(&app, json!({ "name": "alpha App" })).await;
    app.clock.advance_ms(5);
    let gamma = create(&app, json!({ "name": "Gamma" })).await;
    let ids = |r: &TestResponse| r.json["data"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect::<Vec<_>>();
    let all = app.get("/v1/oauth_applications").send().await.assert_status(200);
    assert_eq!(all.json["total_count"], 3);
    assert!(all.json["data"][0].get("client_secret").is_none());
    // Newest first by default (the spec's prose and the SDK docs).
    assert_eq!(ids(&all), [gamma["id"].clone(), alpha["id"].clone(), beta["id"].clone()]);
    let by_name = app.get("/v1/oauth_applications?order_by=name").send().await.assert_status(200);
    assert_eq!(ids(&by_name), [alpha["id"].clone(), beta["id"].clone(), gamma["id"].clone()]);
    let by_name_desc = app.get("/v1/oauth_applications?order_by=-name&limit=1&offset=1").send().await;
    assert_eq!(ids(&by_name_desc), [beta["id"].clone()]);
    assert_eq!(by_name_desc.json["total_count"], 3);
    let q = app.get("/v1/oauth_applications?name_query=APP").send().await.assert_status(200);
    assert_eq!(ids(&q), [alpha["id"].clone()]);
    let q =
        app.get(&format!("/v1/oauth_applications?name_query={}", gamma["client_id"].as_str().unwrap())).send().await;
    assert_eq!(ids(&q), [gamma["id"].clone()]);
    let q = app.get("/v1/oauth_applications?name_query=%25").send().await;
    assert_eq!(q.json["total_count"], 0, "LIKE wildcards are literal");
    app.get("/v1/oauth_applications?order_by=secret").send().await.assert_error(400, "query_param_invalid", None);
}

#[tokio::test]
async fn update_delete_and_not_found() {
    let app = TestApp::new().await;
    let a = create(&app, json!({ "name": "Old", "redirect_uris": ["https://a.test/cb"] })).await;
    let path = format!("/v1/oauth_applications/{}", id(&a));
    let u = app
        .patch(
            &path,
            json!({ "name": "New", "scopes": "profile email public_metadata", "pkce_required": true,
                               "consent_screen_enabled": false, "redirect_uris": ["https://b.test/cb"] }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(u["name"], "New");
    assert_eq!(u["scopes"], "profile email public_metadata");
    assert_eq!(u["pkce_required"], true);
    assert_eq!(u["consent_screen_enabled"], false);
    assert_eq!(u["redirect_uris"], json!(["https://b.test/cb"]));
    assert_eq!(u["client_id"], a["client_id"]);
    let d = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!(d, json!({ "object": "oauth_application", "id": id(&a), "deleted": true }));
    app.get(&path).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "name": "x" })).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
    app.post(&format!("{path}/rotate_secret"), json!({})).send().await.assert_error(404, "resource_not_found", None);
    app.post(&format!("{path}/revoke_token"), json!({ "token": "oat_x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn rotate_secret_replaces_it() {
    let app = TestApp::new().await;
    let a = create(&app, json!({ "name": "a" })).await;
    let r = app
        .post(&format!("/v1/oauth_applications/{}/rotate_secret", id(&a)), json!({}))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_ne!(r["client_secret"], a["client_secret"]);
    assert_eq!(r["client_secret"].as_str().unwrap().len(), a["client_secret"].as_str().unwrap().len());
}

#[tokio::test]
async fn logo_upload_sets_the_image_url() {
    let app = TestApp::new().await;
    let a = create(&app, json!({ "name": "a" })).await;
    assert!(a["client_image_url"].is_null());
    let multipart = |data: &[u8]| {
        let mut body = b"--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.png\"\r\n\
                         Content-Type: image/png\r\n\r\n"
            .to_vec();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n--XB--\r\n");
        body
    };
    let path = format!("/v1/oauth_applications/{}/logo", id(&a));
    let put = |body: Vec<u8>| {
        app.request(axum::http::Method::PUT, &path).raw(body, "multipart/form-data; boundary=XB").send()
    };
    let r = put(multipart(PNG)).await.assert_status(200).json;
    let url = r["client_image_url"].as_str().unwrap();
    assert!(url.contains("/v1/oauth_application_images/img_"), "{url}");
    put(multipart(b"not an image")).await.assert_error(400, "bad_request", Some("file"));
    app.request(axum::http::Method::PUT, "/v1/oauth_applications/oa_missing/logo")
        .raw(multipart(PNG), "multipart/form-data; boundary=XB")
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    // Served without credentials, on the router directly (the route is outside the spec).
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let image_path = format!("/v1/{}", url.split_once("/v1/").unwrap().1);
    let request = axum::http::Request::get(&image_path).body(axum::body::Body::empty()).unwrap();
    let response = tessera_api::router(app.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes().as_ref(), PNG);
}

#[tokio::test]
async fn verify_and_revoke_refuse_unknown_and_forged_tokens() {
    let app = TestApp::new().await;
    let a = create(&app, json!({ "name": "a" })).await;
    for path in ["/oauth_applications/access_tokens/verify", "/v1/oauth_applications/access_tokens/verify"] {
        app.post(path, json!({})).send().await.assert_error(400, "bad_request", None);
        for token in ["oat_0123456789abcdef0123456789abcdef", "ort_nope", "garbage", "a.b.c"] {
            app.post(path, json!({ "access_token": token })).send().await.assert_error(404, "resource_not_found", None);
            app.post(path, json!({ "secret": token })).send().await.assert_error(404, "resource_not_found", None);
        }
    }
    // A JWT signed by the instance keyring but not an access token (a session-style `typ`) is refused.
    let jwt = tessera_core::keyring::sign_jwt(
        app.ctx(),
        &app.instance.id,
        &[],
        &json!({ "sub": "user_x", "jti": "oat_0123456789abcdef0123456789abcdef", "exp": 4_000_000_000i64 }),
    )
    .await
    .unwrap();
    app.post("/oauth_applications/access_tokens/verify", json!({ "access_token": jwt })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let revoke = format!("/v1/oauth_applications/{}/revoke_token", id(&a));
    app.post(&revoke, json!({ "token": "oat_unknown" })).send().await.assert_error(404, "resource_not_found", None);
    app.post(&revoke, json!({})).send().await.assert_error(422, "form_param_missing", Some("token"));
    app.post(&revoke, json!({ "token": "a.b.c" })).send().await.assert_error(400, "bad_request", Some("token"));
}

#[tokio::test]
async fn another_instance_sees_nothing() {
    let app = TestApp::new().await;
    let a = create(&app, json!({ "name": "a" })).await;
    let (_, other_key) = app.create_instance(Environment::Development).await;
    app.get(&format!("/v1/oauth_applications/{}", id(&a))).bearer(&other_key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let list = app.get("/v1/oauth_applications").bearer(&other_key).send().await.assert_status(200);
    assert_eq!(list.json["total_count"], 0);
    let q = app
        .get(&format!("/v1/oauth_applications?name_query={}", a["client_id"].as_str().unwrap()))
        .bearer(&other_key)
        .send()
        .await;
    assert_eq!(q.json["total_count"], 0);
}
