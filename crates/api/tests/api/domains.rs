//! Domains: list, add satellite, update, delete; development and production rules; isolation.

use serde_json::{Value, json};
use tessera_core::instances::{self, Environment};
use tessera_testkit::TestApp;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn list_has_the_primary_domain() {
    let app = TestApp::new().await;
    let r = app.get("/v1/domains").send().await.assert_status(200);
    assert_eq!(r.json["total_count"], 1);
    let d = &r.json["data"][0];
    assert_eq!(d["object"], "domain");
    assert!(d["id"].as_str().unwrap().starts_with("dmn_"));
    assert_eq!(d["name"].as_str().unwrap(), app.instance.frontend_host());
    assert_eq!(d["is_satellite"], false);
    assert_eq!(d["frontend_api_url"].as_str().unwrap(), format!("https://{}", app.instance.frontend_host()));
    assert!(d["accounts_portal_url"].is_string());
    assert!(d["proxy_url"].is_null());
    assert!(d["cname_targets"].is_null(), "development domains need no DNS records");
}

#[tokio::test]
async fn development_satellites_share_the_frontend_api() {
    let app = TestApp::new().await;
    let primary = app.get("/v1/domains").send().await.json["data"][0].clone();
    let r = app
        .post("/v1/domains", json!({ "name": "localhost:3001", "is_satellite": true }))
        .send()
        .await
        .assert_status(200);
    let sat = r.json.clone();
    assert_eq!(sat["object"], "domain");
    assert_eq!(sat["name"], "localhost:3001");
    assert_eq!(sat["is_satellite"], true);
    assert_eq!(sat["frontend_api_url"], primary["frontend_api_url"]);
    assert!(sat["accounts_portal_url"].is_null());
    assert_eq!(sat["development_origin"], "http://localhost:3001");
    assert!(sat["cname_targets"].is_null());
    app.post("/v1/domains", json!({ "name": "Dev.Example.com", "is_satellite": true, "ignored_extra": 1 }))
        .send()
        .await
        .assert_status(200);

    let list = app.get("/v1/domains").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 3);
    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names[1..], ["localhost:3001", "dev.example.com"]);
    assert_eq!(list["data"][0]["id"], primary["id"], "primary first");
    assert_eq!(list["data"][2]["development_origin"], "https://dev.example.com");
}

#[tokio::test]
async fn add_domain_validation() {
    let app = TestApp::new().await;
    let primary_name = app.instance.frontend_host();
    let cases = [
        (json!({ "name": "localhost:3001", "is_satellite": false }), "form_param_value_invalid", "is_satellite"),
        (json!({ "name": "localhost:3001", "is_satellite": "yes" }), "form_param_format_invalid", "is_satellite"),
        (json!({ "name": "localhost:3001" }), "form_param_missing", "is_satellite"),
        (json!({ "is_satellite": true }), "form_param_missing", "name"),
        (json!({ "name": "https://example.com", "is_satellite": true }), "form_param_format_invalid", "name"),
        (json!({ "name": "example.com/app", "is_satellite": true }), "form_param_format_invalid", "name"),
        (json!({ "name": "bad_host.com", "is_satellite": true }), "form_param_format_invalid", "name"),
        (json!({ "name": "localhost:99999", "is_satellite": true }), "form_param_format_invalid", "name"),
        (json!({ "name": "", "is_satellite": true }), "form_param_format_invalid", "name"),
        (
            json!({ "name": "localhost:3001", "is_satellite": true, "proxy_url": "https://proxy.example.com" }),
            "form_param_value_invalid",
            "proxy_url",
        ),
        (json!({ "name": primary_name, "is_satellite": true }), "form_identifier_exists", "name"),
    ];
    for (body, code, param) in cases {
        app.post("/v1/domains", body).send().await.assert_error(422, code, Some(param));
    }
    app.post("/v1/domains", json!({ "name": "localhost:3001", "is_satellite": true })).send().await.assert_status(200);
    app.post("/v1/domains", json!({ "name": "LOCALHOST:3001", "is_satellite": true })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("name"),
    );
    assert_eq!(app.get("/v1/domains").send().await.json["total_count"], 2);
}

#[tokio::test]
async fn production_domains_have_dns_records_and_proxies() {
    let app = TestApp::new().await;
    let (_, key) = app.create_instance(Environment::Production).await;
    let r = app
        .post(
            "/v1/domains",
            json!({ "name": "satellite.com", "is_satellite": true, "proxy_url": "https://satellite.com/__clerk/" }),
        )
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    let sat = r.json.clone();
    assert_eq!(sat["frontend_api_url"], "https://clerk.satellite.com");
    assert_eq!(sat["proxy_url"], "https://satellite.com/__clerk");
    assert_eq!(sat["development_origin"], "");
    assert!(sat["accounts_portal_url"].is_null());
    assert_eq!(
        sat["cname_targets"],
        json!([{ "host": "clerk.satellite.com", "value": "frontend-api.clerk.services", "required": false }])
    );
    for (body, code, param) in [
        (json!({ "name": "localhost:3000", "is_satellite": true }), "form_param_format_invalid", "name"),
        (json!({ "name": "example.com:443", "is_satellite": true }), "form_param_format_invalid", "name"),
        (json!({ "name": "intranet", "is_satellite": true }), "form_param_format_invalid", "name"),
        (
            json!({ "name": "other.com", "is_satellite": true, "proxy_url": "http://other.com/__clerk" }),
            "form_param_format_invalid",
            "proxy_url",
        ),
        (
            json!({ "name": "other.com", "is_satellite": true, "proxy_url": "nope" }),
            "form_param_format_invalid",
            "proxy_url",
        ),
    ] {
        app.post("/v1/domains", body).bearer(&key).send().await.assert_error(422, code, Some(param));
    }

    // Back to DNS: null removes the proxy and the clerk CNAME becomes required.
    let r = app
        .patch(&format!("/v1/domains/{}", id(&sat)), json!({ "proxy_url": null }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    assert!(r.json["proxy_url"].is_null());
    assert_eq!(r.json["cname_targets"][0]["required"], true);
    // Renaming a satellite moves its Frontend API.
    let r = app
        .patch(&format!("/v1/domains/{}", id(&sat)), json!({ "name": "sat2.com", "is_secondary": true }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["frontend_api_url"], "https://clerk.sat2.com");
}

#[tokio::test]
async fn renaming_the_production_primary_changes_the_publishable_key() {
    let app = TestApp::new().await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    let primary = app.get("/v1/domains").bearer(&key).send().await.json["data"][0].clone();
    let r = app
        .patch(&format!("/v1/domains/{}", id(&primary)), json!({ "name": "myapp.io" }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["name"], "myapp.io");
    assert_eq!(r.json["frontend_api_url"], "https://clerk.myapp.io");
    assert_eq!(r.json["accounts_portal_url"], "https://accounts.myapp.io");
    assert_eq!(r.json["cname_targets"].as_array().unwrap().len(), 5);
    let now = instances::authenticate(app.ctx(), &key).await.unwrap();
    assert_ne!(now.publishable_key, prod.publishable_key);
    assert_eq!(now.frontend_host(), "clerk.myapp.io");
}

#[tokio::test]
async fn update_domain_in_development() {
    let app = TestApp::new().await;
    let sat = app.post("/v1/domains", json!({ "name": "localhost:3001", "is_satellite": true })).send().await.json;
    let path = format!("/v1/domains/{}", id(&sat));
    let r = app.patch(&path, json!({ "name": "localhost:4000" })).send().await.assert_status(200);
    assert_eq!(r.json["name"], "localhost:4000");
    assert_eq!(r.json["development_origin"], "http://localhost:4000");
    // null and absent fields leave the domain unchanged.
    let r = app.patch(&path, json!({ "name": null, "is_secondary": null })).send().await.assert_status(200);
    assert_eq!(r.json["name"], "localhost:4000");
    let listed = app.get("/v1/domains").send().await.json;
    assert_eq!(listed["data"][1]["name"], "localhost:4000");

    // The development primary keeps its Frontend API (and the publishable key) when renamed.
    let primary = listed["data"][0].clone();
    let r = app.patch(&format!("/v1/domains/{}", id(&primary)), json!({ "name": "localhost:3000" })).send().await;
    let r = r.assert_status(200);
    assert_eq!(r.json["frontend_api_url"], primary["frontend_api_url"]);
    let me = instances::authenticate(app.ctx(), &app.secret_key).await.unwrap();
    assert_eq!(me.publishable_key, app.instance.publishable_key);

    for (body, code, param) in [
        (json!({ "proxy_url": "https://proxy.example.com" }), "form_param_value_invalid", "proxy_url"),
        (json!({ "name": "http://x.com" }), "form_param_format_invalid", "name"),
        (json!({ "name": 3 }), "form_param_format_invalid", "name"),
        (json!({ "is_satellite": false }), "form_param_unknown", "is_satellite"),
        (json!({ "name": "localhost:3000" }), "form_identifier_exists", "name"),
    ] {
        app.patch(&path, body).send().await.assert_error(422, code, Some(param));
    }
    app.patch("/v1/domains/dmn_doesnotexist", json!({ "name": "localhost:5000" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn delete_satellite_but_never_the_primary() {
    let app = TestApp::new().await;
    let sat = app.post("/v1/domains", json!({ "name": "localhost:3001", "is_satellite": true })).send().await.json;
    let r = app.delete(&format!("/v1/domains/{}", id(&sat))).send().await.assert_status(200);
    assert_eq!(r.json, json!({ "object": "domain", "id": id(&sat), "deleted": true }));
    assert_eq!(app.get("/v1/domains").send().await.json["total_count"], 1);
    app.delete(&format!("/v1/domains/{}", id(&sat))).send().await.assert_error(404, "resource_not_found", None);

    let primary = app.get("/v1/domains").send().await.json["data"][0].clone();
    app.delete(&format!("/v1/domains/{}", id(&primary))).send().await.assert_error(
        403,
        "primary_domain_cannot_be_deleted",
        None,
    );
    assert_eq!(app.get("/v1/domains").send().await.json["total_count"], 1);
    // The name is free again once its satellite is gone.
    app.post("/v1/domains", json!({ "name": "localhost:3001", "is_satellite": true })).send().await.assert_status(200);
}

#[tokio::test]
async fn domains_are_isolated_per_instance() {
    let app = TestApp::new().await;
    let (_, key) = app.create_instance(Environment::Development).await;
    let sat = app.post("/v1/domains", json!({ "name": "localhost:3001", "is_satellite": true })).send().await.json;
    let path = format!("/v1/domains/{}", id(&sat));
    // B cannot see, change or delete A's satellite, and may use the same name for its own.
    let theirs = app.get("/v1/domains").bearer(&key).send().await.json;
    assert_eq!(theirs["total_count"], 1);
    assert_ne!(theirs["data"][0]["id"], app.get("/v1/domains").send().await.json["data"][0]["id"]);
    app.patch(&path, json!({ "name": "localhost:9999" })).bearer(&key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.delete(&path).bearer(&key).send().await.assert_error(404, "resource_not_found", None);
    let a_primary = app.get("/v1/domains").send().await.json["data"][0].clone();
    app.delete(&format!("/v1/domains/{}", id(&a_primary))).bearer(&key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post("/v1/domains", json!({ "name": "localhost:3001", "is_satellite": true }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    let mine = app.get("/v1/domains").send().await.json;
    assert_eq!(mine["total_count"], 2);
    assert_eq!(mine["data"][1]["name"], "localhost:3001");
}
