//! `GET|PATCH /v1/environment`: the environment, bare, built from the instance's stored settings.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_core::settings::{self, SignUpSettings};
use tessera_testkit::{TestApp, TestBrowser};

/// The attribute keys `@clerk/ui`'s fixtures require of every environment.
const UI_ATTRIBUTES: &[&str] = &[
    "email_address",
    "phone_number",
    "username",
    "web3_wallet",
    "first_name",
    "last_name",
    "password",
    "authenticator_app",
    "backup_code",
    "passkey",
];

async fn environment(b: &TestBrowser<'_>) -> Value {
    b.get("/v1/environment").send().await.assert_status(200).json
}

#[tokio::test]
async fn the_environment_is_bare_and_holds_what_the_components_read() {
    let app = TestApp::new().await;
    for version in ["2025-11-10", "2026-05-12"] {
        // Both operations, validated against the spec of each version by the test browser.
        let b = app.browser().await.with_version(version);
        let got = environment(&b).await;
        let touched = b.patch("/v1/environment", &[]).send().await.assert_status(200).json;
        assert_eq!(got["user_settings"], touched["user_settings"]);
        assert!(got.get("response").is_none() && got.get("client").is_none(), "bare: {got}");

        let attrs = &got["user_settings"]["attributes"];
        for key in UI_ATTRIBUTES {
            assert!(attrs[key]["enabled"].is_boolean(), "{key}: {attrs}");
        }
        // Clerk's defaults for a new application: email address and password required, sign-in by email code.
        let email = &attrs["email_address"];
        assert_eq!(email["enabled"], true);
        assert_eq!(email["required"], true);
        assert_eq!(email["used_for_first_factor"], true);
        assert_eq!(email["first_factors"], json!(["email_code"]));
        assert_eq!(email["verifications"], json!(["email_code"]));
        assert_eq!(email["verify_at_sign_up"], true);
        assert_eq!(attrs["password"]["enabled"], true);
        assert_eq!(attrs["password"]["required"], true);
        assert_eq!(attrs["first_name"]["enabled"], true);
        assert_eq!(attrs["first_name"]["required"], false);
        assert_eq!(attrs["web3_wallet"]["enabled"], false);
        assert_eq!(attrs["passkey"]["enabled"], false);
        assert_eq!(attrs["authenticator_app"]["second_factors"], json!(["totp"]));
        assert_eq!(attrs["backup_code"]["second_factors"], json!(["backup_code"]));

        let us = &got["user_settings"];
        assert_eq!(
            us["sign_up"],
            json!({ "captcha_enabled": false, "captcha_widget_type": "smart", "custom_action_required": false,
                    "progressive": true, "mode": "public", "legal_consent_enabled": false })
        );
        assert_eq!(us["social"], json!({}));
        assert_eq!(us["enterprise_sso"], json!({ "enabled": false }));
        assert_eq!(us["password_settings"]["min_length"], 8);
        assert_eq!(us["password_settings"]["max_length"], 72);
        assert_eq!(us["password_settings"]["disable_hibp"], false);

        let d = &got["display_config"];
        let base = format!("https://{}", app.instance.frontend_host());
        assert_eq!(d["instance_environment_type"], "development");
        assert_eq!(d["application_name"], app.instance.frontend_host());
        assert_eq!(d["branded"], false);
        assert_eq!(d["show_devmode_warning"], true);
        assert_eq!(d["captcha_public_key"], Value::Null);
        assert_eq!(d["preferred_sign_in_strategy"], "password");
        assert_eq!(d["clerk_js_version"], Value::Null);
        assert_eq!(d["sign_in_url"], format!("{base}/sign-in"));
        assert_eq!(d["sign_up_url"], format!("{base}/sign-up"));
        assert_eq!(d["user_profile_url"], format!("{base}/user"));
        assert_eq!(d["after_sign_out_all_url"], format!("{base}/sign-in"));
        assert_eq!(d["after_sign_in_url"], d["home_url"]);

        let billing = &got["commerce_settings"]["billing"];
        assert_eq!(billing["user"], json!({ "enabled": false, "has_paid_plans": false }));
        assert_eq!(billing["organization"], json!({ "enabled": false, "has_paid_plans": false }));
        assert_eq!(got["maintenance_mode"], false);
        assert_eq!(got["auth_config"]["single_session_mode"], true);
        assert_eq!(got["auth_config"]["test_mode"], true);
        assert_eq!(got["organization_settings"]["enabled"], false);
    }
}

#[tokio::test]
async fn the_environment_needs_no_client() {
    let app = TestApp::new().await;
    // No dev browser yet (clerk-js asks for the environment and the dev browser in parallel on first load).
    let mut b = app.browser().await;
    b.dev_browser = None;
    environment(&b).await;
    b.patch("/v1/environment", &[]).send().await.assert_status(200);
    // A stale dev browser: the environment still loads; the client answers 401 so clerk-js makes a new one.
    b.dev_browser = Some("dvb_forged000000000000000000000000000000000000".into());
    environment(&b).await;
    b.get("/v1/client").send().await.assert_error(401, "dev_browser_unauthenticated", None);
}

#[tokio::test]
async fn the_environment_reflects_the_instance_settings() {
    let app = TestApp::new().await;
    let b = app.browser().await.with_version("2025-11-10");

    app.patch(
        "/v1/instance",
        json!({ "test_mode": false, "hibp": false, "support_email": "help@example.com", "clerk_js_version": "5",
                "url_based_session_syncing": false, "preferred_sign_in_strategy_when_password_required": "otp" }),
    )
    .send()
    .await
    .assert_status(204);
    app.patch(
        "/v1/instance/organization_settings",
        json!({ "enabled": true, "max_allowed_memberships": 3, "admin_delete_enabled": false, "domains_enabled": true,
                "domains_enrollment_modes": ["automatic_suggestion"], "slug_disabled": true }),
    )
    .send()
    .await
    .assert_status(200);
    app.patch("/v1/instance/restrictions", json!({ "allowlist": true, "block_email_subaddresses": true }))
        .send()
        .await
        .assert_status(200);
    app.patch("/v1/beta_features/instance_settings", json!({ "progressive_sign_up": false }))
        .send()
        .await
        .assert_status(200);
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    settings::store_sign_up_settings(
        app.ctx(),
        &app.instance,
        SignUpSettings {
            required_fields: strings(&["phone_number", "username", "password"]),
            optional_fields: strings(&["first_name"]),
            custom_action_required: true,
            legal_consent_required: true,
        },
    )
    .await
    .unwrap();

    let got = environment(&b).await;
    let a = &got["auth_config"];
    assert_eq!(got["user_settings"]["sign_up"]["legal_consent_enabled"], true);
    assert_eq!(a["test_mode"], false);
    assert_eq!(a["url_based_session_syncing"], false);
    assert_eq!(a["email_address"], "off");
    assert_eq!(a["phone_number"], "required");
    assert_eq!(a["username"], "required");
    assert_eq!(a["first_name"], "on");
    assert_eq!(a["last_name"], "off");
    assert_eq!(a["identification_strategies"], json!(["phone_number", "username"]));
    assert_eq!(a["email_address_verification_strategies"], json!([]));

    let d = &got["display_config"];
    assert_eq!(d["support_email"], "help@example.com");
    assert_eq!(d["clerk_js_version"], "5");
    assert_eq!(d["preferred_sign_in_strategy"], "otp");

    let us = &got["user_settings"];
    let attrs = &us["attributes"];
    assert_eq!(attrs["email_address"]["enabled"], false);
    assert_eq!(attrs["email_address"]["used_for_first_factor"], false);
    assert_eq!(attrs["email_address"]["first_factors"], json!([]));
    assert_eq!(attrs["phone_number"]["required"], true);
    assert_eq!(attrs["phone_number"]["first_factors"], json!(["phone_code"]));
    assert_eq!(attrs["phone_number"]["verifications"], json!(["phone_code"]));
    assert_eq!(attrs["username"]["required"], true);
    assert_eq!(attrs["username"]["used_for_first_factor"], true);
    assert_eq!(attrs["first_name"]["enabled"], true);
    assert_eq!(attrs["last_name"]["enabled"], false);
    assert_eq!(us["sign_up"]["custom_action_required"], true);
    assert_eq!(us["sign_up"]["legal_consent_enabled"], true);
    assert_eq!(us["sign_up"]["progressive"], false);
    assert_eq!(us["password_settings"]["disable_hibp"], true);
    assert_eq!(us["restrictions"]["allowlist"], json!({ "enabled": true }));
    assert_eq!(us["restrictions"]["blocklist"], json!({ "enabled": false }));
    assert_eq!(us["restrictions"]["block_email_subaddresses"], json!({ "enabled": true }));
    assert_eq!(us["actions"]["create_organization"], true);

    assert_eq!(
        got["organization_settings"],
        json!({ "enabled": true, "max_allowed_memberships": 3, "actions": { "admin_delete": false },
                "domains": { "enabled": true, "enrollment_modes": ["manual_invitation", "automatic_suggestion"],
                             "default_role": "org:member" },
                "slug": { "disabled": true }, "creator_role": "org:admin" })
    );
}

#[tokio::test]
async fn production_and_development_differ() {
    let app = TestApp::new().await;
    let (instance, key) = app.create_instance(Environment::Production).await;
    let mut b = app.browser_for(&instance).await;
    // Same-origin requests (the app proxies the Frontend API) carry no foreign Origin.
    b.origin = None;
    let got = environment(&b).await;
    let touched = b.patch("/v1/environment", &[]).send().await.assert_status(200).json;
    assert_eq!(got, touched);
    let d = &got["display_config"];
    assert_eq!(d["instance_environment_type"], "production");
    assert_eq!(d["show_devmode_warning"], false);
    assert_eq!(got["auth_config"]["test_mode"], false);
    assert_eq!(got["auth_config"]["url_based_session_syncing"], false);
    let base = format!("https://{}", instance.frontend_host());
    assert_eq!(d["sign_in_url"], format!("{base}/sign-in"));
    // The primary domain is still the Frontend API host: no application home is known yet.
    assert_eq!(d["home_url"], format!("{base}/default-redirect"));
    // Production settings are the production instance's own.
    app.patch("/v1/instance", json!({ "support_email": "ops@example.com" }))
        .bearer(&key)
        .send()
        .await
        .assert_status(204);
    assert_eq!(environment(&b).await["display_config"]["support_email"], "ops@example.com");
    assert_eq!(
        environment(&app.browser().await).await["display_config"]["support_email"],
        Value::Null,
        "the other instance is untouched"
    );
}

#[tokio::test]
async fn the_development_touch_records_the_app_origin() {
    let app = TestApp::new().await;
    let mut b = app.browser().await;
    let base = format!("https://{}", app.instance.frontend_host());
    let got = environment(&b).await;
    assert_eq!(got["display_config"]["home_url"], format!("{base}/default-redirect"), "unknown before a touch");
    // GET records nothing; the touch records the browser's origin as the development origin.
    let touched = b.patch("/v1/environment", &[]).send().await.assert_status(200).json;
    assert_eq!(touched["display_config"]["home_url"], "http://localhost:3000");
    assert_eq!(touched["display_config"]["after_sign_in_url"], "http://localhost:3000");
    let domains = app.get("/v1/domains").send().await.assert_status(200);
    assert_eq!(domains.json["data"][0]["development_origin"], "http://localhost:3000");
    // An extension's origin (allowed) is not a web origin: not recorded, and the touch still answers.
    app.patch("/v1/instance", json!({ "allowed_origins": ["chrome-extension://abcdefgh"] }))
        .send()
        .await
        .assert_status(204);
    b.origin = Some("chrome-extension://abcdefgh".into());
    let r = b.patch("/v1/environment", &[]).send().await.assert_status(200);
    assert_eq!(r.json["display_config"]["home_url"], "http://localhost:3000");
    b.origin = Some("http://127.0.0.1:5173".into());
    let r = b.patch("/v1/environment", &[]).send().await.assert_status(200);
    assert_eq!(r.json["display_config"]["home_url"], "http://127.0.0.1:5173");
}

#[tokio::test]
async fn through_the_proxy_path_the_urls_follow_the_proxy() {
    let app = TestApp::new().await;
    let host = app.instance.frontend_host();
    for version in ["2025-11-10", "2026-05-12"] {
        let mut b = app.browser().await.with_version(version);
        b.host = "127.0.0.1:4000".into();
        for r in [
            b.get(&format!("/fapi/{host}/v1/environment")).send().await,
            b.patch(&format!("/fapi/{host}/v1/environment"), &[]).send().await,
        ] {
            let r = r.assert_status(200);
            // The test browser validates spec paths only; this one is prefixed.
            let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok());
            tessera_spec_check::frontend_spec(version)
                .validate_response("GET", "/v1/environment", r.status, ct, &r.body)
                .unwrap_or_else(|why| panic!("{version}: {why}"));
            // The schema is closed: Clerk's `object`/`id` on the environment would break it.
            let mut extra = r.json.clone();
            extra["object"] = json!("environment");
            let extra = serde_json::to_vec(&extra).unwrap();
            assert!(
                tessera_spec_check::frontend_spec(version)
                    .validate_response("GET", "/v1/environment", 200, ct, &extra)
                    .is_err()
            );
            let base = format!("http://127.0.0.1:4000/fapi/{host}");
            assert_eq!(r.json["display_config"]["sign_in_url"], format!("{base}/sign-in"));
            assert_eq!(r.json["display_config"]["user_profile_url"], format!("{base}/user"));
        }
    }
}
