//! `POST /users`, `GET /users/{id}`, `DELETE /users/{id}`.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{T0, create_user, user_with_email};

#[tokio::test]
async fn create_with_every_field_and_read_back() {
    let app = TestApp::with_clock(T0).await;
    let u = create_user(
        &app,
        json!({
            "external_id": "ext-1",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "locale": "en-GB",
            "email_address": ["Ada@Example.com", "ada2@example.com"],
            "phone_number": ["+1 555 555 0100"],
            "web3_wallet": ["0xABCDEF0123456789abcdef0123456789ABCDEF01"],
            "username": "Ada_L",
            "password": "correct horse battery",
            "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "backup_codes": ["code-one", "code-two"],
            "public_metadata": { "role": "admin", "nested": { "a": 1 } },
            "private_metadata": { "secret": true },
            "unsafe_metadata": { "theme": "dark" },
            "delete_self_enabled": true,
            "create_organization_enabled": false,
            "create_organizations_limit": 3,
            "created_at": "2012-10-20T07:15:20.902Z",
            "legal_accepted_at": "2013-01-01T00:00:00Z",
            "bypass_client_trust": true,
            "skip_password_requirement": true,
            "skip_legal_checks": true,
        }),
    )
    .await;
    let id = u["id"].as_str().unwrap();
    assert!(tessera_core::ids::is_ksuid_id(id, "user"), "{id}");
    assert_eq!(u["object"], "user");
    assert_eq!(u["external_id"], "ext-1");
    assert_eq!(u["username"], "Ada_L");
    assert_eq!(u["first_name"], "Ada");
    assert_eq!(u["locale"], "en-GB");
    let emails = u["email_addresses"].as_array().unwrap();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[0]["email_address"], "ada@example.com");
    assert_eq!(u["primary_email_address_id"], emails[0]["id"]);
    assert_eq!(
        emails[0]["verification"],
        json!({"object":"verification_admin","status":"verified","strategy":"admin","attempts":null,"expire_at":null})
    );
    assert_eq!(emails[0]["linked_to"], json!([]));
    assert_eq!(emails[0]["reserved"], false);
    assert_eq!(u["phone_numbers"][0]["phone_number"], "+15555550100");
    assert_eq!(u["primary_phone_number_id"], u["phone_numbers"][0]["id"]);
    assert_eq!(u["web3_wallets"][0]["web3_wallet"], "0xABCDEF0123456789abcdef0123456789ABCDEF01");
    assert_eq!(u["primary_web3_wallet_id"], u["web3_wallets"][0]["id"]);
    assert_eq!(u["password_enabled"], true);
    assert_eq!(u["password_last_updated_at"], T0);
    assert_eq!(u["totp_enabled"], true);
    assert_eq!(u["two_factor_enabled"], true);
    assert_eq!(u["backup_code_enabled"], true);
    assert_eq!(u["mfa_enabled_at"], T0);
    assert_eq!(u["public_metadata"], json!({ "role": "admin", "nested": { "a": 1 } }));
    assert_eq!(u["private_metadata"], json!({ "secret": true }));
    assert_eq!(u["unsafe_metadata"], json!({ "theme": "dark" }));
    assert_eq!(u["delete_self_enabled"], true);
    assert_eq!(u["create_organization_enabled"], false);
    assert_eq!(u["create_organizations_limit"], 3);
    assert_eq!(u["created_at"], 1_350_717_320_902_i64);
    assert_eq!(u["updated_at"], T0);
    assert_eq!(u["legal_accepted_at"], 1_356_998_400_000_i64);
    assert_eq!(u["bypass_client_trust"], true);
    assert_eq!(u["banned"], false);
    assert_eq!(u["locked"], false);
    assert_eq!(u["verification_attempts_remaining"], 10);
    assert_eq!(u["lockout_expires_in_seconds"], json!(null));
    assert_eq!(u["has_image"], false);
    assert_eq!(u["passkeys"], json!([]));

    let got = app.get(&format!("/v1/users/{id}")).send().await.assert_status(200).json;
    assert_eq!(got, u);
    // The lists read the same user through their own statements: a page named by ids, the first page in creation
    // order (both count backup codes in the page's statement) and a sorted page (which asks separately).
    for query in [format!("user_id={id}"), String::new(), "order_by=-username".to_owned()] {
        let listed = app.get(&format!("/v1/users?{query}")).send().await.assert_status(200).json;
        assert_eq!(listed, json!([u]), "{query}");
    }
}

#[tokio::test]
async fn minimal_user_has_nulls_and_defaults() {
    let app = TestApp::new().await;
    let u = create_user(&app, json!({})).await;
    for field in ["external_id", "username", "first_name", "last_name", "primary_email_address_id", "last_sign_in_at"] {
        assert_eq!(u[field], json!(null), "{field}");
    }
    assert_eq!(u["password_enabled"], false);
    assert_eq!(u["two_factor_enabled"], false);
    assert_eq!(u["create_organization_enabled"], true);
    assert_eq!(u["delete_self_enabled"], false);
    assert_eq!(u["public_metadata"], json!({}));
    assert_eq!(u["private_metadata"], json!({}));
}

#[tokio::test]
async fn reserved_identifications_and_banned_locked_at_creation() {
    let app = TestApp::with_clock(T0).await;
    let u = create_user(
        &app,
        json!({
            "email_address": ["a@example.com", "b@example.com"],
            "email_address_identification_status": ["verified", "reserved"],
            "banned": true,
            "locked": true,
        }),
    )
    .await;
    assert_eq!(u["email_addresses"][1]["reserved"], true);
    assert_eq!(u["email_addresses"][1]["verification"], json!(null));
    assert_eq!(u["banned"], true);
    assert_eq!(u["locked"], true);
    assert_eq!(u["lockout_expires_in_seconds"], 3600);
    app.post("/v1/users", json!({ "email_address": ["c@example.com"], "email_address_identification_status": [] }))
        .send()
        .await
        .assert_status(200);
    app.post(
        "/v1/users",
        json!({ "email_address": ["d@example.com"], "email_address_identification_status": ["verified", "reserved"] }),
    )
    .send()
    .await
    .assert_error(422, "form_param_value_invalid", Some("email_address_identification_status"));
    app.post(
        "/v1/users",
        json!({ "email_address": ["d@example.com"], "email_address_identification_status": ["maybe"] }),
    )
    .send()
    .await
    .assert_error(422, "form_param_value_invalid", Some("email_address_identification_status"));
}

#[tokio::test]
async fn duplicates_are_form_identifier_exists() {
    let app = TestApp::new().await;
    create_user(
        &app,
        json!({
            "email_address": ["taken@example.com"],
            "phone_number": ["+15555550100"],
            "web3_wallet": ["0xabcdef0123456789abcdef0123456789abcdef01"],
            "username": "taken",
            "external_id": "ext",
        }),
    )
    .await;
    for (body, param) in [
        (json!({ "email_address": ["TAKEN@example.com"] }), "email_address"),
        (json!({ "phone_number": ["+1 (555) 555-0100"] }), "phone_number"),
        (json!({ "web3_wallet": ["0xABCDEF0123456789ABCDEF0123456789ABCDEF01"] }), "web3_wallet"),
        (json!({ "username": "TAKEN" }), "username"),
        (json!({ "external_id": "ext" }), "external_id"),
        (json!({ "email_address": ["x@example.com", "X@example.com"] }), "email_address"),
    ] {
        app.post("/v1/users", body).send().await.assert_error(422, "form_identifier_exists", Some(param));
    }
    // Nothing of a refused user is left behind.
    let count = app.get("/v1/users/count").send().await.assert_status(200).json;
    assert_eq!(count, json!({ "object": "total_count", "total_count": 1 }));
    app.post("/v1/users", json!({ "email_address": ["x@example.com"] })).send().await.assert_status(200);
}

#[tokio::test]
async fn bad_bodies_name_the_field() {
    let app = TestApp::new().await;
    for (body, code, param) in [
        (json!({ "email_address": ["not-an-email"] }), "form_param_format_invalid", "email_address"),
        (json!({ "email_address": "a@example.com" }), "form_param_format_invalid", "email_address"),
        (json!({ "phone_number": ["12"] }), "form_param_format_invalid", "phone_number"),
        (json!({ "web3_wallet": ["0x12"] }), "form_param_format_invalid", "web3_wallet"),
        (json!({ "username": "ab" }), "form_param_format_invalid", "username"),
        (json!({ "username": "+15555550100" }), "form_username_cannot_be_phone_number", "username"),
        (json!({ "created_at": "yesterday" }), "form_param_format_invalid", "created_at"),
        (json!({ "legal_accepted_at": "2020-01-01" }), "form_param_format_invalid", "legal_accepted_at"),
        (json!({ "public_metadata": [1] }), "form_param_format_invalid", "public_metadata"),
        (json!({ "unknown": 1 }), "form_param_unknown", "unknown"),
        (json!({ "totp_secret": "!!" }), "form_param_format_invalid", "totp_secret"),
        (json!({ "create_organizations_limit": -1 }), "form_param_value_invalid", "create_organizations_limit"),
        (json!({ "password": "short" }), "form_password_length_too_short", "password"),
        (json!({ "password": "password123" }), "form_password_pwned", "password"),
        (json!({ "password": "x".repeat(73) }), "form_password_size_in_bytes_exceeded", "password"),
        (
            json!({ "password": "x".repeat(257), "skip_password_checks": true }),
            "form_password_size_in_bytes_exceeded",
            "password",
        ),
        (
            json!({ "password_digest": "$2a$10$abc" , "password_hasher": "bcrypt" }),
            "form_password_digest_invalid_code",
            "password_digest",
        ),
        (json!({ "password_digest": "5f4dcc3b5aa765d61d8327deb882cf99" }), "form_param_missing", "password_hasher"),
        (json!({ "password_hasher": "md5" }), "form_param_missing", "password_digest"),
        (
            json!({ "password_digest": "abc", "password_hasher": "rot13" }),
            "form_param_value_invalid",
            "password_hasher",
        ),
        (
            json!({ "password": "correct horse battery", "password_digest": "5f4dcc3b5aa765d61d8327deb882cf99", "password_hasher": "md5" }),
            "form_param_value_invalid",
            "password_digest",
        ),
    ] {
        app.post("/v1/users", body.clone()).send().await.assert_error(422, code, Some(param));
    }
    // The policy can be skipped.
    create_user(&app, json!({ "password": "short", "skip_password_checks": true })).await;
}

#[tokio::test]
async fn get_and_delete() {
    let app = TestApp::new().await;
    let id = user_with_email(&app, "gone@example.com").await;
    app.get("/v1/users/user_doesnotexist").send().await.assert_error(404, "resource_not_found", None);
    let deleted = app.delete(&format!("/v1/users/{id}")).send().await.assert_status(200).json;
    assert_eq!(deleted, json!({ "object": "user", "id": id, "deleted": true }));
    app.get(&format!("/v1/users/{id}")).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("/v1/users/{id}")).send().await.assert_error(404, "resource_not_found", None);
    // The address is free again.
    user_with_email(&app, "gone@example.com").await;
}

#[tokio::test]
async fn instances_are_isolated() {
    let app = TestApp::new().await;
    let id = user_with_email(&app, "shared@example.com").await;
    let (_, other_key) = app.create_instance(Environment::Development).await;
    app.get(&format!("/v1/users/{id}")).bearer(&other_key).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("/v1/users/{id}")).bearer(&other_key).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // The same address may exist once per instance.
    app.post("/v1/users", json!({ "email_address": ["shared@example.com"] }))
        .bearer(&other_key)
        .send()
        .await
        .assert_status(200);
    let list = app.get("/v1/users").bearer(&other_key).send().await.assert_status(200).json;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_ne!(list[0]["id"], id.as_str());
}
