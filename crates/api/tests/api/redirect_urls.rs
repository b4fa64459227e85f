//! Redirect URLs: create, list (bare array or paginated), get, delete; validation, duplicates, isolation.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

#[tokio::test]
async fn create_get_list_delete() {
    let app = TestApp::new().await;
    let created = app
        .post("/v1/redirect_urls", json!({ "url": "https://my-app.com/oauth-callback" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(created["object"], "redirect_url");
    assert_eq!(created["url"], "https://my-app.com/oauth-callback");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ru_"));
    app.post("/v1/redirect_urls", json!({ "url": "my-app://oauth-callback" })).send().await.assert_status(200);

    let got = app.get(&format!("/v1/redirect_urls/{id}")).send().await.assert_status(200).json;
    assert_eq!(got, created);

    let list = app.get("/v1/redirect_urls").send().await.assert_status(200).json;
    let urls: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(urls, ["https://my-app.com/oauth-callback", "my-app://oauth-callback"], "oldest first");
    let page = app.get("/v1/redirect_urls?paginated=true&limit=1&offset=1").send().await.assert_status(200).json;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"][0]["url"], "my-app://oauth-callback");

    let deleted = app.delete(&format!("/v1/redirect_urls/{id}")).send().await.assert_status(200).json;
    assert_eq!(deleted, json!({ "object": "redirect_url", "id": id, "deleted": true }));
    app.get(&format!("/v1/redirect_urls/{id}")).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("/v1/redirect_urls/{id}")).send().await.assert_error(404, "resource_not_found", None);
    assert_eq!(app.get("/v1/redirect_urls").send().await.json.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_and_duplicate_urls_are_refused() {
    let app = TestApp::new().await;
    app.post("/v1/redirect_urls", json!({})).send().await.assert_error(422, "form_param_missing", Some("url"));
    for bad in ["javascript:alert(1)", "http://example.com/cb", "nope", ""] {
        app.post("/v1/redirect_urls", json!({ "url": bad })).send().await.assert_error(
            422,
            "form_param_format_invalid",
            Some("url"),
        );
    }
    app.post("/v1/redirect_urls", json!({ "url": 7 })).send().await.assert_status(422);
    app.post("/v1/redirect_urls", json!({ "url": "https://a.example/cb" })).send().await.assert_status(200);
    app.post("/v1/redirect_urls", json!({ "url": "https://a.example/cb" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("url"),
    );
    app.get("/v1/redirect_urls?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));
    assert_eq!(app.get("/v1/redirect_urls").send().await.json.as_array().unwrap().len(), 1, "nothing half-written");
}

#[tokio::test]
async fn redirect_urls_are_isolated_per_instance() {
    let app = TestApp::new().await;
    let (_, other) = app.create_instance(Environment::Development).await;
    let id = app.post("/v1/redirect_urls", json!({ "url": "https://a.example/cb" })).send().await.json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(&format!("/v1/redirect_urls/{id}")).bearer(&other).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.delete(&format!("/v1/redirect_urls/{id}")).bearer(&other).send().await.assert_status(404);
    assert_eq!(app.get("/v1/redirect_urls").bearer(&other).send().await.json, json!([]));
    // The same URL may exist in both instances.
    app.post("/v1/redirect_urls", json!({ "url": "https://a.example/cb" }))
        .bearer(&other)
        .send()
        .await
        .assert_status(200);
    app.get(&format!("/v1/redirect_urls/{id}")).send().await.assert_status(200);
}
