//! Create, get, update, delete and replace of email addresses and phone numbers.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{email, id, user};

#[tokio::test]
async fn email_address_lifecycle() {
    let app = TestApp::new().await;
    let u = user(&app, json!({})).await;
    let uid = id(&u);
    // The first address becomes primary even unasked; unverified by default, without a verification.
    let first = email(&app, &uid, "Ada@Example.com", json!({})).await;
    assert_eq!(first["object"], "email_address");
    assert_eq!(first["email_address"], "ada@example.com");
    assert_eq!(first["verification"], json!(null));
    let u = app.get(&format!("/v1/users/{uid}")).send().await.assert_status(200).json;
    assert_eq!(u["primary_email_address_id"], first["id"]);
    // A verified second one, made primary.
    let second = email(&app, &uid, "ada2@example.com", json!({ "verified": true, "primary": true })).await;
    assert_eq!(second["verification"]["status"], "verified");
    assert_eq!(second["verification"]["strategy"], "admin");
    assert_eq!(second["verification"]["object"], "verification_admin");
    let u = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(u["primary_email_address_id"], second["id"]);
    assert_eq!(u["email_addresses"].as_array().unwrap().len(), 2);

    let path = format!("/v1/email_addresses/{}", id(&first));
    let got = app.get(&path).send().await.assert_status(200).json;
    assert_eq!(got, first);
    // Verify and make primary.
    let upd = app.patch(&path, json!({ "verified": true, "primary": true })).send().await.assert_status(200).json;
    assert_eq!(upd["verification"]["status"], "verified");
    assert_eq!(app.get(&format!("/v1/users/{uid}")).send().await.json["primary_email_address_id"], first["id"]);
    // `primary: false` is ignored; `verified: false` removes the verification.
    let upd = app.patch(&path, json!({ "verified": false, "primary": false })).send().await.assert_status(200).json;
    assert_eq!(upd["verification"], json!(null));
    assert_eq!(app.get(&format!("/v1/users/{uid}")).send().await.json["primary_email_address_id"], first["id"]);
    app.patch(&path, json!({ "verified": "yes" })).send().await.assert_error(400, "bad_request", Some("verified"));

    // Deleting the primary moves it to the oldest remaining address.
    let del = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!(del, json!({ "object": "email_address", "id": first["id"], "deleted": true }));
    app.get(&path).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "verified": true })).send().await.assert_error(404, "resource_not_found", None);
    assert_eq!(app.get(&format!("/v1/users/{uid}")).send().await.json["primary_email_address_id"], second["id"]);
    app.delete(&format!("/v1/email_addresses/{}", id(&second))).send().await.assert_status(200);
    let u = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(u["primary_email_address_id"], json!(null));
    assert_eq!(u["email_addresses"], json!([]));
}

#[tokio::test]
async fn email_address_errors_and_claims() {
    let app = TestApp::new().await;
    let a = id(&user(&app, json!({ "email_address": ["taken@example.com"] })).await);
    let b = id(&user(&app, json!({})).await);
    let create = |body| app.post("/v1/email_addresses", body);
    create(json!({ "user_id": b })).send().await.assert_error(422, "form_param_missing", Some("email_address"));
    create(json!({ "email_address": "x@example.com" })).send().await.assert_error(
        422,
        "form_param_missing",
        Some("user_id"),
    );
    create(json!({ "user_id": b, "email_address": "nope" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("email_address"),
    );
    create(json!({ "user_id": "user_nope", "email_address": "x@example.com" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // A verified address of another user is claimed…
    create(json!({ "user_id": b, "email_address": "TAKEN@example.com", "verified": true })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("email_address"),
    );
    // …but an unverified one is not claimed: both may hold it until one verifies it.
    let dup = email(&app, &b, "taken@example.com", json!({})).await;
    let path = format!("/v1/email_addresses/{}", id(&dup));
    app.patch(&path, json!({ "verified": true })).send().await.assert_error(409, "conflict", Some("verified"));
    // Once `a` gives it up, `b` can verify it.
    app.put(&format!("/v1/users/{a}/email_address"), json!({ "email_address": "other@example.com" }))
        .send()
        .await
        .assert_status(200);
    app.patch(&path, json!({ "verified": true })).send().await.assert_status(200);
}

#[tokio::test]
async fn identifiers_are_isolated_per_instance() {
    let app = TestApp::new().await;
    let (_, other) = app.create_instance(Environment::Development).await;
    let uid = id(&user(&app, json!({})).await);
    let e = email(&app, &uid, "iso@example.com", json!({ "verified": true })).await;
    let p = app
        .post("/v1/phone_numbers", json!({ "user_id": uid, "phone_number": "+15555550100", "verified": true }))
        .send()
        .await
        .assert_status(200)
        .json;
    for path in [format!("/v1/email_addresses/{}", id(&e)), format!("/v1/phone_numbers/{}", id(&p))] {
        app.get(&path).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
        app.patch(&path, json!({ "verified": false })).bearer(&other).send().await.assert_error(
            404,
            "resource_not_found",
            None,
        );
        app.delete(&path).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
        app.post(&format!("{path}/prepare_verification"), json!({})).bearer(&other).send().await.assert_error(
            404,
            "resource_not_found",
            None,
        );
        app.post(&format!("{path}/attempt_verification"), json!({ "verification_id": "ver_x", "code": "1" }))
            .bearer(&other)
            .send()
            .await
            .assert_error(404, "resource_not_found", None);
        app.get(&path).send().await.assert_status(200);
    }
    app.post("/v1/email_addresses", json!({ "user_id": uid, "email_address": "x@example.com" }))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    app.post("/v1/phone_numbers", json!({ "user_id": uid, "phone_number": "+15555550101" }))
        .bearer(&other)
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    for (path, body) in [
        (format!("/v1/users/{uid}/email_address"), json!({ "email_address": "x@example.com" })),
        (format!("/v1/users/{uid}/phone_number"), json!({ "phone_number": "+15555550101" })),
    ] {
        app.put(&path, body).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    }
    // The same values are free in the other instance.
    let ou = app.post("/v1/users", json!({ "email_address": ["iso@example.com"], "phone_number": ["+15555550100"] }));
    ou.bearer(&other).send().await.assert_status(200);
}

#[tokio::test]
async fn phone_number_lifecycle_and_second_factor() {
    let app = TestApp::new().await;
    let uid = id(&user(&app, json!({})).await);
    let create = |body| app.post("/v1/phone_numbers", body);
    create(json!({ "user_id": uid, "phone_number": "+15555550100", "reserved_for_second_factor": true }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("reserved_for_second_factor"));
    create(json!({ "user_id": uid, "phone_number": "555" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("phone_number"),
    );
    create(json!({ "user_id": "user_nope", "phone_number": "+15555550100" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let p1 = create(json!({
        "user_id": uid, "phone_number": "+1 555 555 0100", "verified": true, "reserved_for_second_factor": true
    }))
    .send()
    .await
    .assert_status(200)
    .json;
    assert_eq!(p1["phone_number"], "+15555550100");
    assert_eq!(
        (p1["reserved_for_second_factor"].clone(), p1["default_second_factor"].clone()),
        (json!(true), json!(true))
    );
    let u = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(u["primary_phone_number_id"], p1["id"]);
    assert_eq!(u["two_factor_enabled"], true);
    create(json!({ "user_id": uid, "phone_number": "+15555550100" })).send().await.assert_status(200);
    let p2 = create(json!({ "user_id": uid, "phone_number": "+15555550102" })).send().await.assert_status(200).json;
    let path2 = format!("/v1/phone_numbers/{}", id(&p2));
    // Unverified numbers cannot become second factors (400: the spec declares no 422 here).
    app.patch(&path2, json!({ "reserved_for_second_factor": true })).send().await.assert_error(
        400,
        "bad_request",
        Some("reserved_for_second_factor"),
    );
    let upd = app
        .patch(&path2, json!({ "verified": true, "reserved_for_second_factor": true, "primary": true }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (upd["reserved_for_second_factor"].clone(), upd["default_second_factor"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(app.get(&format!("/v1/users/{uid}")).send().await.json["primary_phone_number_id"], p2["id"]);
    assert_eq!(app.get(&path2).send().await.assert_status(200).json, upd);
    // Deleting the default second factor promotes the other one.
    app.delete(&format!("/v1/phone_numbers/{}", id(&p1))).send().await.assert_status(200);
    assert_eq!(app.get(&path2).send().await.json["default_second_factor"], true);
    let del = app.delete(&path2).send().await.assert_status(200).json;
    assert_eq!(del, json!({ "object": "phone_number", "id": p2["id"], "deleted": true }));
    let u = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(u["two_factor_enabled"], false);
    app.get(&path2).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path2, json!({})).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path2).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn replace_email_address_and_phone_number() {
    let app = TestApp::new().await;
    let u =
        user(&app, json!({ "email_address": ["a@example.com", "b@example.com"], "phone_number": ["+15555550100"] }))
            .await;
    let uid = id(&u);
    let put = |what: &str, body| app.put(&format!("/v1/users/{uid}/{what}"), body);
    // Replacing with an address the user already holds is fine.
    let e = put("email_address", json!({ "email_address": "B@example.com" })).send().await.assert_status(200).json;
    assert_eq!(
        (e["email_address"].clone(), e["verification"]["strategy"].clone()),
        (json!("b@example.com"), json!("admin"))
    );
    let got = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(got["email_addresses"].as_array().unwrap().len(), 1);
    assert_eq!(got["primary_email_address_id"], e["id"]);
    let r = put("email_address", json!({ "email_address": "r@example.com", "identification_status": "reserved" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((r["reserved"].clone(), r["verification"].clone()), (json!(true), json!(null)));
    let other = id(&user(&app, json!({})).await);
    app.put(&format!("/v1/users/{other}/email_address"), json!({ "email_address": "r@example.com" }))
        .send()
        .await
        .assert_error(422, "form_identifier_exists", Some("email_address"));
    let un = put("email_address", json!({ "email_address": "u@example.com", "identification_status": "unverified" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((un["reserved"].clone(), un["verification"].clone()), (json!(false), json!(null)));
    put("email_address", json!({ "email_address": "u@example.com", "identification_status": "maybe" }))
        .send()
        .await
        .assert_error(422, "form_param_format_invalid", Some("identification_status"));
    put("email_address", json!({})).send().await.assert_error(422, "form_param_missing", Some("email_address"));
    put("email_address", json!({ "email_address": "x@example.com", "extra": 1 })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("extra"),
    );
    put("email_address", json!({ "email_address": "bad" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("email_address"),
    );
    app.put("/v1/users/user_nope/email_address", json!({ "email_address": "x@example.com" }))
        .send()
        .await
        .assert_error(404, "resource_not_found", None);

    let p = put("phone_number", json!({ "phone_number": "+15555550199" })).send().await.assert_status(200).json;
    assert_eq!(p["reserved_for_second_factor"], false);
    let got = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(got["phone_numbers"].as_array().unwrap().len(), 1);
    assert_eq!(got["primary_phone_number_id"], p["id"]);
    put("phone_number", json!({ "phone_number": "12" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("phone_number"),
    );
    app.put("/v1/users/user_nope/phone_number", json!({ "phone_number": "+15555550199" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}
