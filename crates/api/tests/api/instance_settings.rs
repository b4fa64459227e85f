//! Instance Settings: `/instance`, restrictions, Protect, communication, OAuth-application and organization
//! settings. (`/instance/change_domain` is covered with the Beta Features domain change.)

use serde_json::json;
use tessera_core::crypto::MasterKey;
use tessera_core::instances::Environment;
use tessera_core::{Clock, Ctx, settings};
use tessera_testkit::TestApp;

#[tokio::test]
async fn get_instance_answers_the_authenticated_instance() {
    let app = TestApp::new().await;
    let r = app.get("/v1/instance").send().await.assert_status(200);
    assert_eq!(r.json["object"], "instance");
    assert_eq!(r.json["id"], app.instance.id.as_str());
    assert_eq!(r.json["environment_type"], "development");
    assert!(r.json["allowed_origins"].is_null());
    assert!(r.json.as_object().unwrap().contains_key("workspace_id"));
    assert!(r.json["workspace_id"].is_null());
    let (prod, key) = app.create_instance(Environment::Production).await;
    let r = app.get("/v1/instance").bearer(&key).send().await.assert_status(200);
    assert_eq!(r.json["id"], prod.id.as_str());
    assert_eq!(r.json["environment_type"], "production");
}

#[tokio::test]
async fn update_instance_is_204_without_body_and_applies_only_present_fields() {
    let app = TestApp::new().await;
    let defaults = settings::instance_config(app.ctx(), &app.instance.id).await.unwrap();
    assert!(defaults.test_mode && defaults.hibp && defaults.url_based_session_syncing);
    let r = app
        .patch(
            "/v1/instance",
            json!({
                "allowed_origins": ["http://localhost:3000/", "chrome-extension://abcdefgh", "capacitor://localhost",
                                    "http://localhost:3000"],
                "hibp": false,
                "test_mode": false,
                "support_email": "Help@Example.com",
                "clerk_js_version": "5",
                "cookieless_dev": true,
                "url_based_session_syncing": false,
                "preferred_sign_in_strategy_when_password_required": "otp",
                "development_origin": "http://localhost:5173/"
            }),
        )
        .send()
        .await
        .assert_status(204);
    assert!(r.body.is_empty());
    assert!(r.headers.get("content-type").is_none());

    let r = app.get("/v1/instance").send().await.assert_status(200);
    assert_eq!(
        r.json["allowed_origins"],
        json!(["http://localhost:3000", "chrome-extension://abcdefgh", "capacitor://localhost"])
    );
    let c = settings::instance_config(app.ctx(), &app.instance.id).await.unwrap();
    assert!(!c.hibp && !c.test_mode);
    assert!(!c.url_based_session_syncing, "the current name wins over the deprecated alias");
    assert_eq!(c.support_email.as_deref(), Some("Help@example.com"));
    assert_eq!(c.clerk_js_version.as_deref(), Some("5"));
    assert_eq!(c.preferred_sign_in_strategy(), "otp");
    let domains = app.get("/v1/domains").send().await.assert_status(200);
    assert_eq!(domains.json["data"][0]["development_origin"], "http://localhost:5173");

    // Absent = unchanged; null/"" clear the nullable strings; an empty list clears the origins.
    app.patch(
        "/v1/instance",
        json!({ "support_email": null, "preferred_sign_in_strategy_when_password_required": "",
                "clerk_js_version": "", "development_origin": null, "allowed_origins": [], "hibp": null }),
    )
    .send()
    .await
    .assert_status(204);
    let c = settings::instance_config(app.ctx(), &app.instance.id).await.unwrap();
    assert!(!c.hibp, "null leaves a boolean unchanged");
    assert!(!c.test_mode);
    assert_eq!(c.support_email, None);
    assert_eq!(c.clerk_js_version, None);
    assert_eq!(c.preferred_sign_in_strategy(), "password");
    assert_eq!(app.get("/v1/instance").send().await.json["allowed_origins"], json!([]));
    let domains = app.get("/v1/domains").send().await;
    assert_eq!(domains.json["data"][0]["development_origin"], "");
    // An empty body is a no-op.
    app.request(axum::http::Method::PATCH, "/v1/instance").raw("", "application/json").send().await.assert_status(204);
}

#[tokio::test]
async fn update_instance_rejects_invalid_values() {
    let app = TestApp::new().await;
    let cases = [
        (json!({ "nope": true }), "form_param_unknown", "nope"),
        (json!({ "enhanced_email_deliverability": true }), "form_param_unknown", "enhanced_email_deliverability"),
        (json!({ "hibp": "yes" }), "form_param_format_invalid", "hibp"),
        (json!({ "allowed_origins": "http://localhost:3000" }), "form_param_format_invalid", "allowed_origins"),
        (json!({ "allowed_origins": ["not an origin"] }), "form_param_format_invalid", "allowed_origins"),
        (json!({ "allowed_origins": ["https://example.com/path"] }), "form_param_format_invalid", "allowed_origins"),
        (json!({ "support_email": "not-an-email" }), "form_param_format_invalid", "support_email"),
        (json!({ "clerk_js_version": "^5" }), "form_param_format_invalid", "clerk_js_version"),
        (json!({ "development_origin": "ftp://example.com" }), "form_param_format_invalid", "development_origin"),
        (
            json!({ "preferred_sign_in_strategy_when_password_required": "sms" }),
            "form_param_value_invalid",
            "preferred_sign_in_strategy_when_password_required",
        ),
    ];
    for (body, code, param) in cases {
        app.patch("/v1/instance", body).send().await.assert_error(422, code, Some(param));
    }
    let (_, prod_key) = app.create_instance(Environment::Production).await;
    app.patch("/v1/instance", json!({ "development_origin": "http://localhost:3000" }))
        .bearer(&prod_key)
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("development_origin"));
    // Nothing was applied by the rejected requests.
    let c = settings::instance_config(app.ctx(), &app.instance.id).await.unwrap();
    assert_eq!(c, settings::InstanceConfig::defaults(Environment::Development));
}

#[tokio::test]
async fn restrictions_patch_merges_and_persists() {
    let app = TestApp::new().await;
    let r = app.patch("/v1/instance/restrictions", json!({ "allowlist": true })).send().await.assert_status(200);
    assert_eq!(
        r.json,
        json!({ "object": "instance_restrictions", "allowlist": true, "blocklist": false,
                "allowlist_blocklist_disabled_on_sign_in": false, "block_email_subaddresses": false,
                "block_disposable_email_domains": false, "ignore_dots_for_gmail_addresses": false })
    );
    let r = app
        .patch(
            "/v1/instance/restrictions",
            json!({ "allowlist": null, "blocklist": true, "block_email_subaddresses": true,
                    "allowlist_blocklist_disabled_on_sign_in": true, "block_disposable_email_domains": true }),
        )
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["allowlist"], true, "null leaves it unchanged");
    assert_eq!(r.json["blocklist"], true);
    // Persisted in the database: a fresh context (as after a restart) reads the same.
    let fresh = Ctx::new(app.ctx().db.clone(), Clock::System, &MasterKey::generate());
    let stored = settings::restrictions(&fresh, &app.instance.id).await.unwrap();
    assert!(stored.allowlist && stored.blocklist && stored.block_email_subaddresses);
    assert!(stored.allowlist_blocklist_disabled_on_sign_in && stored.block_disposable_email_domains);

    app.patch("/v1/instance/restrictions", json!({ "allowlist": "on" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("allowlist"),
    );
    app.patch("/v1/instance/restrictions", json!({ "block_all_the_things": true })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("block_all_the_things"),
    );
}

#[tokio::test]
async fn protect_reads_and_updates() {
    let app = TestApp::new().await;
    let r = app.get("/v1/instance/protect").send().await.assert_status(200);
    assert_eq!(
        r.json,
        json!({ "object": "instance_protect", "rules_enabled": false, "specter_enabled": false, "checks_bypassed": false })
    );
    let r = app.patch("/v1/instance/protect", json!({ "rules_enabled": true })).send().await.assert_status(200);
    assert_eq!(r.json["rules_enabled"], true);
    assert_eq!(r.json["specter_enabled"], false);
    app.patch("/v1/instance/protect", json!({ "specter_enabled": true })).send().await.assert_status(200);
    let r = app.get("/v1/instance/protect").send().await.assert_status(200);
    assert_eq!((r.json["rules_enabled"].as_bool(), r.json["specter_enabled"].as_bool()), (Some(true), Some(true)));
    app.patch("/v1/instance/protect", json!({ "checks_bypassed": true })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("checks_bypassed"),
    );
    app.patch("/v1/instance/protect", json!({ "rules_enabled": 1 })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("rules_enabled"),
    );
}

#[tokio::test]
async fn communication_replaces_the_country_blocklist() {
    let app = TestApp::new().await;
    let r = app.get("/v1/instance/communication").send().await.assert_status(200);
    assert_eq!(r.json, json!({ "object": "instance_communication", "blocked_country_codes": [] }));
    let r = app
        .patch("/v1/instance/communication", json!({ "blocked_country_codes": ["US", "FR", "CN"] }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["blocked_country_codes"], json!(["US", "FR", "CN"]));
    // Omitted or null: no-op.
    app.patch("/v1/instance/communication", json!({})).send().await.assert_status(200);
    app.patch("/v1/instance/communication", json!({ "blocked_country_codes": null })).send().await.assert_status(200);
    let r = app.get("/v1/instance/communication").send().await.assert_status(200);
    assert_eq!(r.json["blocked_country_codes"], json!(["US", "FR", "CN"]));
    let c = settings::communication(app.ctx(), &app.instance.id).await.unwrap();
    assert!(!c.sms_allowed("fr") && c.sms_allowed("DE"));

    let p = Some("blocked_country_codes");
    for (codes, code) in [
        (json!(["us"]), "form_param_format_invalid"),
        (json!(["USA"]), "form_param_format_invalid"),
        (json!("US"), "form_param_format_invalid"),
        (json!(["DE", "DE"]), "form_param_value_invalid"),
        (json!(vec!["US"; 251]), "form_param_value_invalid"),
    ] {
        app.patch("/v1/instance/communication", json!({ "blocked_country_codes": codes }))
            .send()
            .await
            .assert_error(422, code, p);
    }
    // Well-formed codes of no country are dropped silently (the spec); XK (Kosovo, +383) is a phone region, kept.
    let r = app
        .patch("/v1/instance/communication", json!({ "blocked_country_codes": ["ZZ", "XK", "DE", "AA"] }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["blocked_country_codes"], json!(["XK", "DE"]));
    // A wrongly typed item is named by its index.
    app.patch("/v1/instance/communication", json!({ "blocked_country_codes": ["US", 1] })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("blocked_country_codes[1]"),
    );
    // Every assigned code is accepted; the empty list clears.
    let all: Vec<&str> = settings::validate::ISO_3166_ALPHA2.to_vec();
    let r = app
        .patch("/v1/instance/communication", json!({ "blocked_country_codes": all }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["blocked_country_codes"].as_array().unwrap().len(), 249);
    let r =
        app.patch("/v1/instance/communication", json!({ "blocked_country_codes": [] })).send().await.assert_status(200);
    assert_eq!(r.json["blocked_country_codes"], json!([]));
}

#[tokio::test]
async fn oauth_application_settings_default_and_reset() {
    let app = TestApp::new().await;
    let r = app.get("/v1/instance/oauth_application_settings").send().await.assert_status(200);
    assert_eq!(r.json["object"], "oauth_application_settings");
    assert_eq!(r.json["default_scopes"], json!(["email", "profile"]));
    assert_eq!(r.json["dynamic_oauth_client_registration"], false);
    assert_eq!(r.json["oauth_jwt_access_tokens"], false);
    let r = app
        .patch(
            "/v1/instance/oauth_application_settings",
            json!({ "dynamic_oauth_client_registration": true, "default_scopes": ["openid", "email"],
                    "oauth_jwt_access_tokens": true, "client_id_metadata_documents_advertised": true,
                    "client_id_metadata_documents_only_allow_pre_registered_clients": true,
                    "client_id_metadata_documents_block_implicitly_allowed_clients": true }),
        )
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["default_scopes"], json!(["openid", "email"]));
    let r = app.get("/v1/instance/oauth_application_settings").send().await.assert_status(200);
    for field in [
        "dynamic_oauth_client_registration",
        "oauth_jwt_access_tokens",
        "client_id_metadata_documents_advertised",
        "client_id_metadata_documents_only_allow_pre_registered_clients",
        "client_id_metadata_documents_block_implicitly_allowed_clients",
    ] {
        assert_eq!(r.json[field], true, "{field}");
    }
    assert_eq!(r.json["default_scopes"], json!(["openid", "email"]));
    // null resets to Clerk's defaults; absent leaves them.
    app.patch("/v1/instance/oauth_application_settings", json!({ "oauth_jwt_access_tokens": false }))
        .send()
        .await
        .assert_status(200);
    let r = app
        .patch("/v1/instance/oauth_application_settings", json!({ "default_scopes": null }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["default_scopes"], json!(["email", "profile"]));
    assert_eq!(r.json["oauth_jwt_access_tokens"], false);
    assert_eq!(r.json["dynamic_oauth_client_registration"], true);

    let p = Some("default_scopes");
    for (scopes, code) in [
        (json!(["two words"]), "form_param_format_invalid"),
        (json!([""]), "form_param_format_invalid"),
        (json!("email"), "form_param_format_invalid"),
        (json!(["email", "email"]), "form_param_value_invalid"),
    ] {
        app.patch("/v1/instance/oauth_application_settings", json!({ "default_scopes": scopes }))
            .send()
            .await
            .assert_error(422, code, p);
    }
    app.patch("/v1/instance/oauth_application_settings", json!({ "scopes": [] })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("scopes"),
    );
}

#[tokio::test]
async fn organization_settings_defaults_update_and_errors() {
    let app = TestApp::new().await;
    let r = app.get("/v1/instance/organization_settings").send().await.assert_status(200);
    assert_eq!(r.json["object"], "organization_settings");
    assert_eq!(r.json["enabled"], false);
    assert_eq!(r.json["max_allowed_memberships"], 5);
    assert_eq!(r.json["creator_role"], "org:admin");
    assert_eq!(r.json["domains_default_role"], "org:member");
    assert_eq!(r.json["admin_delete_enabled"], true);
    assert_eq!(r.json["domains_enrollment_modes"], json!([]));
    assert_eq!(r.json["initial_role_set_key"], "role_set:default", "Clerk's primary role set");

    let r = app
        .patch(
            "/v1/instance/organization_settings",
            json!({ "enabled": true, "max_allowed_memberships": 0, "admin_delete_enabled": false,
                    "domains_enabled": true, "slug_disabled": true,
                    "domains_enrollment_modes": ["automatic_suggestion", "automatic_invitation", "automatic_suggestion"],
                    "creator_role_id": "org:member", "domains_default_role_id": "org:admin" }),
        )
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["domains_enrollment_modes"], json!(["automatic_suggestion", "automatic_invitation"]));
    let r = app.get("/v1/instance/organization_settings").send().await.assert_status(200);
    assert_eq!(r.json["enabled"], true);
    assert_eq!(r.json["max_allowed_memberships"], 0);
    assert_eq!(r.json["admin_delete_enabled"], false);
    assert_eq!(r.json["domains_enabled"], true);
    assert_eq!(r.json["slug_disabled"], true);
    assert_eq!(r.json["creator_role"], "org:member");
    assert_eq!(r.json["domains_default_role"], "org:admin");
    let s = settings::organization_settings(app.ctx(), &app.instance.id).await.unwrap();
    assert_eq!(s.membership_limit(), None, "0 is unlimited");

    // Partial update leaves the rest.
    let r = app
        .patch("/v1/instance/organization_settings", json!({ "max_allowed_memberships": 25, "enabled": null }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["max_allowed_memberships"], 25);
    assert_eq!(r.json["enabled"], true);
    assert_eq!(r.json["creator_role"], "org:member");

    let cases = [
        (json!({ "max_allowed_memberships": -1 }), 422, "form_param_value_invalid", "max_allowed_memberships"),
        (json!({ "max_allowed_memberships": 1.5 }), 422, "form_param_format_invalid", "max_allowed_memberships"),
        (json!({ "max_allowed_memberships": "5" }), 422, "form_param_format_invalid", "max_allowed_memberships"),
        (
            json!({ "domains_enrollment_modes": ["everyone"] }),
            422,
            "form_param_value_invalid",
            "domains_enrollment_modes",
        ),
        (json!({ "creator_role_id": "" }), 422, "form_param_value_invalid", "creator_role_id"),
        (
            json!({ "creator_role_id": "role_2xhFjEI5X2qWRvtV13BzSj8H6Dk" }),
            404,
            "resource_not_found",
            "creator_role_id",
        ),
        (json!({ "domains_default_role_id": "org:owner" }), 404, "resource_not_found", "domains_default_role_id"),
        (json!({ "max_allowed_roles": 20 }), 422, "form_param_unknown", "max_allowed_roles"),
    ];
    for (body, status, code, param) in cases {
        app.patch("/v1/instance/organization_settings", body).send().await.assert_error(status, code, Some(param));
    }
    let after = settings::organization_settings(app.ctx(), &app.instance.id).await.unwrap();
    assert_eq!(after.max_allowed_memberships, 25, "rejected requests change nothing");
}

#[tokio::test]
async fn settings_are_isolated_per_instance() {
    let app = TestApp::new().await;
    let (other, key) = app.create_instance(Environment::Development).await;
    app.patch("/v1/instance/restrictions", json!({ "blocklist": true })).bearer(&key).send().await.assert_status(200);
    app.patch("/v1/instance/communication", json!({ "blocked_country_codes": ["RU"] }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    app.patch("/v1/instance/protect", json!({ "rules_enabled": true })).bearer(&key).send().await.assert_status(200);
    app.patch("/v1/instance/oauth_application_settings", json!({ "default_scopes": ["openid"] }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    app.patch("/v1/instance", json!({ "allowed_origins": ["https://b.example"] }))
        .bearer(&key)
        .send()
        .await
        .assert_status(204);

    // Instance A still has its defaults.
    let a = app.patch("/v1/instance/restrictions", json!({})).send().await.assert_status(200);
    assert_eq!(a.json["blocklist"], false);
    assert_eq!(app.get("/v1/instance/communication").send().await.json["blocked_country_codes"], json!([]));
    assert_eq!(app.get("/v1/instance/organization_settings").send().await.json["enabled"], false);
    assert_eq!(app.get("/v1/instance/protect").send().await.json["rules_enabled"], false);
    assert_eq!(
        app.get("/v1/instance/oauth_application_settings").send().await.json["default_scopes"],
        json!(["email", "profile"])
    );
    assert!(app.get("/v1/instance").send().await.json["allowed_origins"].is_null());
    // Instance B reads its own.
    let b = app.get("/v1/instance").bearer(&key).send().await.assert_status(200);
    assert_eq!(b.json["id"], other.id.as_str());
    assert_eq!(b.json["allowed_origins"], json!(["https://b.example"]));
    assert_eq!(
        app.get("/v1/instance/communication").bearer(&key).send().await.json["blocked_country_codes"],
        json!(["RU"])
    );
    assert!(settings::restrictions(app.ctx(), &other.id).await.unwrap().blocklist);
    assert!(!settings::restrictions(app.ctx(), &app.instance.id).await.unwrap().blocklist);
}

#[tokio::test]
async fn settings_endpoints_require_a_secret_key() {
    let app = TestApp::new().await;
    for path in ["/v1/instance", "/v1/instance/protect", "/v1/instance/organization_settings"] {
        let r = app.get(path).anonymous().send().await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.error_code(), "clerk_key_invalid");
    }
}
