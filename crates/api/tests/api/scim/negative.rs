//! The negative corpus: every request an attacker or a broken IdP can make is answered with a SCIM error (its
//! status and `scimType`), never a 5xx and never a change. One test per case.

use axum::http::Method;
use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::directory;

async fn setup() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    let (dir, key) = directory(&app, "okta", None).await;
    (app, dir, key)
}

async fn user(app: &TestApp, dir: &str, key: &str) -> String {
    let u = app.scim(dir, key).post("/Users", json!({ "userName": "bob@acme.test" })).await.status(201).json;
    u["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn no_token() {
    let (app, dir, key) = setup().await;
    app.scim(&dir, &key).without_token().get("/Users").await.error(401, None);
    app.scim(&dir, &key).without_token().post("/Users", json!({ "userName": "x@acme.test" })).await.error(401, None);
}

#[tokio::test]
async fn wrong_token() {
    let (app, dir, _) = setup().await;
    app.scim(&dir, "dsk_wrong").get("/Users").await.error(401, None);
    app.scim(&dir, &app.secret_key).get("/Users").await.error(401, None);
}

#[tokio::test]
async fn another_directorys_token() {
    let (app, dir, _) = setup().await;
    let (_, other_key) = directory(&app, "entra", None).await;
    app.scim(&dir, &other_key).get("/Users").await.error(401, None);
}

#[tokio::test]
async fn another_instances_directory() {
    let (app, dir, key) = setup().await;
    let (instance_b, _) = app.create_instance(Environment::Development).await;
    // The same directory id and key on instance B's frontend host open nothing.
    let host = instance_b.frontend_host();
    let res =
        tessera_testkit::scim::raw_on_host(&app, &host, Method::GET, &format!("/scim/v2/{dir}/Users"), &key).await;
    assert_eq!(res.status, 401, "{}", res.json);
}

#[tokio::test]
async fn deleted_directory() {
    let (app, dir, key) = setup().await;
    app.delete(&format!("/v1/directories/{dir}")).send().await.assert_status(200);
    app.scim(&dir, &key).get("/Users").await.error(401, None);
}

#[tokio::test]
async fn disabled_directory() {
    let (app, dir, key) = setup().await;
    app.patch(&format!("/v1/directories/{dir}"), json!({ "enabled": false })).send().await.assert_status(200);
    app.scim(&dir, &key).post("/Users", json!({ "userName": "x@acme.test" })).await.error(403, None);
}

#[tokio::test]
async fn malformed_filter() {
    let (app, dir, key) = setup().await;
    for f in ["userName%20eq", "userName%20xx%20%22a%22", "(userName%20eq%20%22a%22", "%22unterminated", "a%20b%20c"] {
        app.scim(&dir, &key).get(&format!("/Users?filter={f}")).await.error(400, Some("invalidFilter"));
    }
    app.scim(&dir, &key).get("/Groups?filter=displayName%20eq").await.error(400, Some("invalidFilter"));
}

#[tokio::test]
async fn bad_paging() {
    let (app, dir, key) = setup().await;
    app.scim(&dir, &key).get("/Users?startIndex=abc").await.error(400, Some("invalidValue"));
}

#[tokio::test]
async fn bad_patch_op() {
    let (app, dir, key) = setup().await;
    let id = user(&app, &dir, &key).await;
    let scim = app.scim(&dir, &key);
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "move", "path": "userName", "value": "x" }]))
        .await
        .error(400, Some("invalidSyntax"));
    scim.patch(&format!("/Users/{id}"), json!([])).await.error(400, Some("invalidSyntax"));
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "remove" }])).await.error(400, Some("noTarget"));
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "add", "path": "emails[type eq", "value": "x" }]))
        .await
        .error(400, Some("invalidPath"));
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "add", "path": "emails[type xx \"w\"].value", "value": "x" }]))
        .await
        .error(400, Some("invalidFilter"));
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "replace", "path": "active", "value": "maybe" }]))
        .await
        .error(400, Some("invalidValue"));
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "remove", "path": "userName" }]))
        .await
        .error(400, Some("invalidValue"));
    let no_schema = json!({ "Operations": [{ "op": "replace", "path": "active", "value": false }] });
    scim.raw(Method::PATCH, &format!("/Users/{id}"), no_schema.to_string().into_bytes())
        .await
        .error(400, Some("invalidSyntax"));
    assert_eq!(scim.get(&format!("/Users/{id}")).await.json["active"], true, "nothing changed");
}

#[tokio::test]
async fn oversized_body() {
    let (app, dir, key) = setup().await;
    let big = json!({ "userName": "big@acme.test", "title": "x".repeat(2 * 1024 * 1024) });
    app.scim(&dir, &key).post("/Users", big).await.error(413, None);
    assert_eq!(app.scim(&dir, &key).get("/Users").await.json["totalResults"], 0);
}

#[tokio::test]
async fn malformed_json() {
    let (app, dir, key) = setup().await;
    app.scim(&dir, &key)
        .raw(Method::POST, "/Users", b"{\"userName\":".to_vec())
        .await
        .error(400, Some("invalidSyntax"));
    app.scim(&dir, &key).post("/Users", json!(["not", "an", "object"])).await.error(400, Some("invalidSyntax"));
}

#[tokio::test]
async fn missing_user_name() {
    let (app, dir, key) = setup().await;
    app.scim(&dir, &key)
        .post("/Users", json!({ "emails": [{ "value": "a@acme.test" }] }))
        .await
        .error(400, Some("invalidValue"));
    app.scim(&dir, &key)
        .post("/Users", json!({ "userName": "a@acme.test", "emails": [{ "value": "not an email" }] }))
        .await
        .error(400, Some("invalidValue"));
}

#[tokio::test]
async fn unknown_resources_and_paths() {
    let (app, dir, key) = setup().await;
    let scim = app.scim(&dir, &key);
    scim.get("/Users/user_nope").await.error(404, None);
    scim.put("/Users/user_nope", json!({ "userName": "x@acme.test" })).await.error(404, None);
    scim.delete("/Groups/dgrp_nope").await.error(404, None);
    scim.get("/Nope").await.error(404, None);
    // The directory's base, with and without a trailing slash, and deeper unknown paths: SCIM's 404, not Clerk's.
    for path in ["", "/", "/Nope/deeper", "/Users/user_nope/extra"] {
        scim.get(path).await.error(404, None);
    }
    scim.raw(Method::DELETE, "/Users", Vec::new()).await.error(405, None);
    // A group member must be a user of this directory.
    scim.post("/Groups", json!({ "displayName": "g", "members": [{ "value": "user_other" }] }))
        .await
        .error(400, Some("invalidValue"));
    assert_eq!(scim.get("/Groups").await.json["totalResults"], 0);
}

#[tokio::test]
async fn another_directorys_user() {
    let (app, dir, key) = setup().await;
    let id = user(&app, &dir, &key).await;
    let (dir_b, key_b) = directory(&app, "entra", None).await;
    app.scim(&dir_b, &key_b).get(&format!("/Users/{id}")).await.error(404, None);
    app.scim(&dir_b, &key_b).delete(&format!("/Users/{id}")).await.error(404, None);
    assert_eq!(super::bapi_user(&app, &id).await["deprovisioned"], false);
}
