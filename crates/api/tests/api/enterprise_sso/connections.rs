//! `/enterprise_connections`: SAML and OIDC connections, their rules, SDK quirks, and isolation.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{CERT, CERT_NOT_AFTER, CERT_NOT_BEFORE, create_connection, metadata, saml_connection};
use crate::events_of;
use crate::machines::assert_not_in_database;
use crate::organizations::{T0, enable, org_by, user_with_email};

#[tokio::test]
async fn saml_connection_lifecycle() {
    let app = TestApp::with_clock(T0).await;
    let c = create_connection(
        &app,
        json!({
            "name": "Acme SSO", "provider": "saml_okta", "domains": ["Acme.Test", "acme.test", "corp.acme.test"],
            "saml": { "idp_entity_id": "https://idp.acme.test/e", "idp_sso_url": "https://idp.acme.test/sso",
                      "idp_certificate": CERT, "attribute_mapping": { "email_address": "mail" } },
            "custom_attributes": [{ "name": "Department", "key": "department", "sso_path": "dept",
                                    "scim_path": "urn:x:department" }],
        }),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ec_"), "{c}");
    assert_eq!(c["object"], "enterprise_connection");
    assert_eq!(c["domains"], json!(["acme.test", "corp.acme.test"]), "lower-cased, deduplicated");
    assert_eq!((c["active"].clone(), c["authenticatable"].clone()), (json!(false), json!(true)));
    assert_eq!(c["disable_jit_provisioning"], false);
    assert_eq!(c["oauth_config"], json!(null));
    let s = &c["saml_connection"];
    let saml_id = s["id"].as_str().unwrap();
    assert!(saml_id.starts_with("samlc_"), "{s}");
    let host = app.instance.frontend_host();
    assert_eq!(s["acs_url"], format!("https://{host}/v1/saml/acs/{saml_id}"));
    assert_eq!(s["sp_metadata_url"], format!("https://{host}/v1/saml/metadata/{saml_id}.xml"));
    assert_eq!(s["login_hint"], json!({ "mode": "email_address" }), "always an object (@clerk/backend reads it)");
    assert_eq!(s["idp_entity_id"], "https://idp.acme.test/e");
    let attr = &c["custom_attributes"][0];
    assert_eq!(
        (attr["scim_path"].clone(), attr["directory_path"].clone()),
        (json!("urn:x:department"), json!("urn:x:department"))
    );

    // The deprecated view of the same record shows the certificate's validity window.
    let v = app.get(&format!("/v1/saml_connections/{saml_id}")).send().await.assert_status(200).json;
    assert_eq!(
        (v["idp_certificate_issued_at"].clone(), v["idp_certificate_expires_at"].clone()),
        (json!(CERT_NOT_BEFORE), json!(CERT_NOT_AFTER))
    );
    assert_eq!(v["enterprise_connection_id"], id.as_str());
    assert_eq!(v["attribute_mapping"]["email_address"], "mail");

    // Enable; an empty domains list changes nothing; JS's extra keys are accepted.
    let u = app
        .patch(
            &format!("/v1/enterprise_connections/{id}"),
            json!({ "active": true, "domains": [], "provider": "saml_okta", "disable_jit_provisioning": true,
                    "saml": { "name": "Acme", "allow_idp_initiated": true,
                              "login_hint": { "mode": "custom_attribute", "source": "upn" } } }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (u["active"].clone(), u["name"].clone(), u["disable_jit_provisioning"].clone()),
        (json!(true), json!("Acme"), json!(true))
    );
    assert_eq!(u["domains"], c["domains"]);
    assert_eq!(u["saml_connection"]["login_hint"], json!({ "mode": "custom_attribute", "source": "upn" }));
    assert_eq!(u["saml_connection"]["allow_idp_initiated"], true);
    assert_eq!(u["provider"], "saml_okta");

    let list = app.get("/v1/enterprise_connections?active=true").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 1);
    let list = app.get("/v1/enterprise_connections?active=false").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0);

    let d = app.delete(&format!("/v1/enterprise_connections/{id}")).send().await.assert_status(200).json;
    assert_eq!(d, json!({ "object": "enterprise_connection", "id": id, "deleted": true }));
    app.get(&format!("/v1/enterprise_connections/{id}")).send().await.assert_error(404, "resource_not_found", None);
    app.get(&format!("/v1/saml_connections/{saml_id}")).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn metadata_takes_priority_and_is_parsed_safely() {
    let app = TestApp::new().await;
    let c = create_connection(
        &app,
        json!({ "name": "Meta", "provider": "saml_custom", "domains": ["meta.test"], "active": true,
                "saml": { "idp_entity_id": "ignored", "idp_metadata": metadata("https://idp.example/meta") } }),
    )
    .await;
    let s = &c["saml_connection"];
    assert_eq!(s["idp_entity_id"], "https://idp.example/meta");
    assert_eq!(s["idp_sso_url"], "https://idp.example/sso/redirect", "the HTTP-Redirect binding is preferred");
    assert_eq!(c["active"], true);

    let bad = [
        r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>"#.to_owned(),
        "<not-metadata/>".to_owned(),
        metadata("https://idp.example/x").replace("HTTP-Redirect", "SOAP").replace("HTTP-POST", "SOAP"),
    ];
    for xml in bad {
        app.post(
            "/v1/enterprise_connections",
            json!({ "name": "Bad", "provider": "saml_custom", "domains": ["bad.test"], "saml": { "idp_metadata": xml } }),
        )
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("idp_metadata"));
    }
    app.post(
        "/v1/enterprise_connections",
        json!({ "name": "Bad", "provider": "saml_custom", "domains": ["bad.test"], "saml": { "idp_certificate": "bm9wZQ==" } }),
    )
    .send()
    .await
    .assert_error(422, "form_param_value_invalid", Some("idp_certificate"));
}

#[tokio::test]
async fn metadata_url_is_fetched_publicly_only_in_production() {
    let xml = metadata("https://idp.example/fetched");
    let router = axum::Router::new().route("/metadata", axum::routing::get(move || async move { xml }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metadata", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });

    let app = TestApp::new().await;
    let body = json!({ "name": "Fetched", "provider": "saml_custom", "domains": ["fetched.test"],
                       "saml": { "idp_metadata_url": url } });
    let c = create_connection(&app, body.clone()).await;
    assert_eq!(c["saml_connection"]["idp_entity_id"], "https://idp.example/fetched");
    assert_eq!(c["saml_connection"]["idp_metadata_url"], url.as_str());

    let (_, prod_key) = app.create_instance(Environment::Production).await;
    let res = app.post("/v1/enterprise_connections", body).bearer(&prod_key).send().await;
    res.assert_error(422, "form_param_value_invalid", Some("idp_metadata_url"));
}

#[tokio::test]
async fn oidc_connection_seals_its_secret() {
    let app = TestApp::new().await;
    let secret = "oidc-client-secret-4a1b7c9d2e";
    let c = create_connection(
        &app,
        json!({ "name": "Okta OIDC", "provider": "oidc_custom", "domains": ["oidc.test"], "active": true,
                "oidc": { "client_id": "cid", "client_secret": secret,
                          "discovery_url": "https://idp.oidc.test/.well-known/openid-configuration" },
                "saml": { "idp_entity_id": "ignored for OIDC" } }),
    )
    .await;
    assert_eq!(c["saml_connection"], json!(null));
    let o = &c["oauth_config"];
    assert!(o["id"].as_str().unwrap().starts_with("oac_"), "{o}");
    assert_eq!(
        (o["client_id"].clone(), o["provider_key"].clone(), o["requires_pkce"].clone()),
        (json!("cid"), json!("oidc_custom"), json!(false))
    );
    assert!(!c.to_string().contains(secret), "the secret is never shown");
    assert_not_in_database(&app, &[secret]).await;
    // Not a SAML connection: the deprecated view does not know it.
    let id = c["id"].as_str().unwrap();
    let list = app.get("/v1/saml_connections").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0);
    // Without a secret, an active connection must require PKCE.
    app.patch(&format!("/v1/enterprise_connections/{id}"), json!({ "oidc": { "client_secret": "" } }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("active"));
    let u = app
        .patch(
            &format!("/v1/enterprise_connections/{id}"),
            json!({ "oidc": { "client_secret": "", "requires_pkce": true } }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(u["oauth_config"]["requires_pkce"], true);
}

#[tokio::test]
async fn validation_and_conflicts() {
    let app = TestApp::new().await;
    let post = |body| app.post("/v1/enterprise_connections", body).send();
    post(json!({ "name": "x", "provider": "saml_custom", "domains": [] })).await.assert_error(
        422,
        "form_param_missing",
        Some("domains"),
    );
    post(json!({ "name": "x", "provider": "cas", "domains": ["a.test"] })).await.assert_error(
        422,
        "form_param_value_invalid",
        Some("provider"),
    );
    post(json!({ "name": " ", "provider": "saml_custom", "domains": ["a.test"] })).await.assert_error(
        422,
        "form_param_missing",
        Some("name"),
    );
    post(json!({ "name": "x", "provider": "saml_custom", "domains": ["not a domain"] })).await.assert_error(
        422,
        "form_param_format_invalid",
        Some("domains"),
    );
    post(json!({ "name": "x", "provider": "saml_custom", "domains": ["a.test"], "active": true })).await.assert_error(
        422,
        "form_param_value_invalid",
        Some("active"),
    );
    post(json!({ "name": "x", "provider": "saml_custom", "domains": ["a.test"], "unknown": 1 }))
        .await
        .assert_status(422);
    post(json!({ "name": "x", "provider": "saml_custom", "domains": ["a.test"],
                 "custom_attributes": [{ "name": "n", "key": "k", "scim_path": "a", "directory_path": "b" }] }))
    .await
    .assert_error(422, "form_param_value_invalid", Some("custom_attributes"));
    post(json!({ "name": "x", "provider": "saml_custom", "domains": ["a.test"], "organization_id": "org_unknown" }))
        .await
        .assert_error(404, "resource_not_found", None);
    saml_connection(&app, "taken.test").await;
    post(json!({ "name": "y", "provider": "oidc_custom", "domains": ["other.test", "taken.test"] }))
        .await
        .assert_error(409, "conflict", Some("domains"));
    // The failed create left nothing behind.
    assert_eq!(app.get("/v1/enterprise_connections").send().await.json["total_count"], 1);
    app.patch("/v1/enterprise_connections/ec_unknown", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // Another instance may use the same domain.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.post(
        "/v1/enterprise_connections",
        json!({ "name": "b", "provider": "saml_custom", "domains": ["taken.test"] }),
    )
    .bearer(&key_b)
    .send()
    .await
    .assert_status(201);
}

#[tokio::test]
async fn organization_link_and_verified_domains_on_enable() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    app.patch("/v1/instance/organization_settings", json!({ "domains_enabled": true })).send().await.assert_status(200);
    let admin = user_with_email(&app, "admin@acme.test").await;
    let acme = org_by(&app, "Acme", &admin).await;
    let globex = org_by(&app, "Globex", &admin).await;
    let d = app
        .post(
            &format!("/v1/organizations/{acme}/domains"),
            json!({ "name": "acme.test", "enrollment_mode": "manual_invitation" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let c = create_connection(
        &app,
        json!({ "name": "Acme SSO", "provider": "saml_custom", "domains": ["acme.test"], "organization_id": acme,
                "saml": { "idp_entity_id": "e", "idp_sso_url": "https://idp.acme.test/sso", "idp_certificate": CERT } }),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(c["organization_id"], acme.as_str());
    let by_org = app.get(&format!("/v1/enterprise_connections?organization_id={acme}")).send().await.json;
    assert_eq!(by_org["total_count"], 1);
    // Re-linking is allowed; unlinking is not possible (an empty value changes nothing).
    let u =
        app.patch(&format!("/v1/enterprise_connections/{id}"), json!({ "organization_id": globex })).send().await.json;
    assert_eq!(u["organization_id"], globex.as_str());
    let u = app.patch(&format!("/v1/enterprise_connections/{id}"), json!({ "organization_id": "" })).send().await.json;
    assert_eq!(u["organization_id"], globex.as_str());
    // Enabling removes the organization's verified domain of the same name, with its event.
    app.patch(&format!("/v1/enterprise_connections/{id}"), json!({ "active": true })).send().await.assert_status(200);
    let domains = app.get(&format!("/v1/organizations/{acme}/domains")).send().await.json;
    assert_eq!(domains["total_count"], 0);
    let deleted = events_of(&app, "organizationDomain.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["data"]["id"], d["id"]);
}

#[tokio::test]
async fn list_pages_and_isolation() {
    let app = TestApp::new().await;
    for i in 0..3 {
        saml_connection(&app, &format!("d{i}.test")).await;
    }
    let page = app.get("/v1/enterprise_connections?limit=2&offset=1").send().await.assert_status(200).json;
    assert_eq!((page["total_count"].clone(), page["data"].as_array().unwrap().len()), (json!(3), 2));
    app.get("/v1/enterprise_connections?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));
    let id = page["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.get(&format!("/v1/enterprise_connections/{id}")).bearer(&key_b).send().await.assert_status(404);
    assert_eq!(app.get("/v1/enterprise_connections").bearer(&key_b).send().await.json["total_count"], 0);
}
