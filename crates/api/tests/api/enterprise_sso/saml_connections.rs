//! `/saml_connections` (deprecated): the SAML-type enterprise connections under their `samlc_…` ids.

use serde_json::json;
use tessera_testkit::TestApp;

use super::{CERT, CERT_NOT_AFTER, metadata};
use crate::organizations::{T0, enable, org_by, user_with_email};

#[tokio::test]
async fn create_update_list_delete() {
    let app = TestApp::with_clock(T0).await;
    // @clerk/backend sends a single `domain`; create answers 200.
    let s = app
        .post(
            "/v1/saml_connections",
            json!({ "name": "Acme", "provider": "saml_custom", "domain": "acme.test",
                    "idp_metadata": metadata("https://idp.example/acme"),
                    "login_hint": { "mode": "off" }, "force_authn": true }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let id = s["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("samlc_"), "{s}");
    assert_eq!(s["object"], "saml_connection");
    assert_eq!(s["domains"], json!(["acme.test"]));
    assert_eq!(
        (s["idp_entity_id"].clone(), s["idp_certificate_expires_at"].clone()),
        (json!("https://idp.example/acme"), json!(CERT_NOT_AFTER))
    );
    assert_eq!(
        (s["login_hint"].clone(), s["force_authn"].clone(), s["user_count"].clone()),
        (json!({ "mode": "off" }), json!(true), json!(0))
    );
    assert_eq!(
        s["attribute_mapping"],
        json!({ "user_id": "", "email_address": "", "first_name": "", "last_name": "" })
    );
    let ec_id = s["enterprise_connection_id"].as_str().unwrap();
    let ec = app.get(&format!("/v1/enterprise_connections/{ec_id}")).send().await.assert_status(200).json;
    assert_eq!(ec["saml_connection"]["id"], id.as_str());

    app.post("/v1/saml_connections", json!({ "name": "x", "provider": "oidc_custom", "domain": "x.test" }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("provider"));
    app.post("/v1/saml_connections", json!({ "name": "x", "provider": "saml_custom" })).send().await.assert_error(
        422,
        "form_param_missing",
        Some("domains"),
    );
    app.post("/v1/saml_connections", json!({ "name": "x", "provider": "saml_custom", "domain": "acme.test" }))
        .send()
        .await
        .assert_error(409, "conflict", Some("domains"));

    let u = app
        .patch(
            &format!("/v1/saml_connections/{id}"),
            json!({ "name": "Acme Corp", "domains": ["acme.test", "acme.example"], "active": true,
                    "allow_subdomains": true, "sync_user_attributes": true, "idp_certificate": CERT,
                    "attribute_mapping": { "first_name": "givenName" } }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (u["name"].clone(), u["active"].clone(), u["allow_subdomains"].clone()),
        (json!("Acme Corp"), json!(true), json!(true))
    );
    assert_eq!(u["domains"], json!(["acme.test", "acme.example"]));
    assert_eq!(u["attribute_mapping"]["first_name"], "givenName");

    app.post("/v1/saml_connections", json!({ "name": "Beta", "provider": "saml_google", "domains": ["beta.test"] }))
        .send()
        .await
        .assert_status(200);
    let l = app.get("/v1/saml_connections?order_by=name").send().await.assert_status(200).json;
    let names: Vec<_> = l["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["Acme Corp", "Beta"]);
    let l = app.get("/v1/saml_connections?query=BET").send().await.json;
    assert_eq!(l["total_count"], 1);
    // The description's other fields are accepted and ignored.
    app.get("/v1/saml_connections?order_by=-phone_number").send().await.assert_status(200);

    let d = app.delete(&format!("/v1/saml_connections/{id}")).send().await.assert_status(200).json;
    assert_eq!(d, json!({ "object": "saml_connection", "id": id, "deleted": true }));
    app.get(&format!("/v1/enterprise_connections/{ec_id}")).send().await.assert_status(404);
    app.patch("/v1/saml_connections/samlc_unknown", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn enabling_asks_consent_to_remove_verified_domains_and_filters_by_organization() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    app.patch("/v1/instance/organization_settings", json!({ "domains_enabled": true })).send().await.assert_status(200);
    let admin = user_with_email(&app, "admin@acme.test").await;
    let acme = org_by(&app, "Acme", &admin).await;
    app.post(
        &format!("/v1/organizations/{acme}/domains"),
        json!({ "name": "acme.test", "enrollment_mode": "manual_invitation" }),
    )
    .send()
    .await
    .assert_status(200);
    let s = app
        .post(
            "/v1/saml_connections",
            json!({ "name": "Acme", "provider": "saml_custom", "domain": "acme.test", "organization_id": acme,
                    "idp_metadata": metadata("https://idp.example/acme") }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let id = s["id"].as_str().unwrap();
    app.patch(&format!("/v1/saml_connections/{id}"), json!({ "active": true })).send().await.assert_error(
        409,
        "conflict",
        Some("consent_verified_domains_deletion"),
    );
    assert_eq!(app.get(&format!("/v1/saml_connections/{id}")).send().await.json["active"], false, "nothing changed");
    app.patch(
        &format!("/v1/saml_connections/{id}"),
        json!({ "active": true, "consent_verified_domains_deletion": true }),
    )
    .send()
    .await
    .assert_status(200);
    assert_eq!(app.get(&format!("/v1/organizations/{acme}/domains")).send().await.json["total_count"], 0);

    let l = app.get(&format!("/v1/saml_connections?organization_id={acme}")).send().await.json;
    assert_eq!(l["total_count"], 1);
    let l = app.get(&format!("/v1/saml_connections?organization_id=-{acme}")).send().await.json;
    assert_eq!(l["total_count"], 0);
}
