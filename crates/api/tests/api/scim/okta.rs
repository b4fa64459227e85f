//! Okta's provisioning sequence: filter by userName before creating, create, read back, PUT for profile updates,
//! PATCH `active` to deactivate and reactivate.

use serde_json::json;
use tessera_testkit::TestApp;

use super::{bapi_user, directory, session_of, session_status};
use crate::events_of;

#[tokio::test]
async fn okta_provisions_updates_deactivates_and_reactivates() {
    let app = TestApp::new().await;
    let (dir, key) = directory(&app, "okta", None).await;
    let scim = app.scim(&dir, &key);

    let found =
        scim.get("/Users?filter=userName%20eq%20%22alice%40acme.test%22&startIndex=1&count=100").await.status(200);
    assert_eq!(found.json["totalResults"], 0);
    assert_eq!(found.json["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));

    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "alice@acme.test",
        "name": { "givenName": "Alice", "familyName": "Liddell" },
        "emails": [{ "primary": true, "value": "alice@acme.test", "type": "work" }],
        "displayName": "Alice Liddell",
        "locale": "en-US",
        "externalId": "00u1okta",
        "groups": [],
        "password": "Sup3r-secret!",
        "active": true
    });
    let created = scim.post("/Users", body.clone()).await.status(201).json;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("user_"));
    assert_eq!(created["userName"], "alice@acme.test");
    assert_eq!(created["active"], true);
    assert_eq!(created["password"], json!(null), "a password is never returned");
    assert_eq!(created["meta"]["resourceType"], "User");
    let location = created["meta"]["location"].as_str().unwrap();
    assert!(location.ends_with(&format!("/scim/v2/{dir}/Users/{id}")), "{location}");
    assert_eq!(location.matches("/scim/v2/").count(), 1, "{location}");
    crate::machines::assert_not_in_database(&app, &["Sup3r-secret!"]).await;

    // The same person again is a uniqueness conflict, found by Okta's filter.
    scim.post("/Users", body).await.error(409, Some("uniqueness"));
    let found = scim.get("/Users?filter=userName%20eq%20%22ALICE%40acme.test%22").await.status(200).json;
    assert_eq!((found["totalResults"].clone(), found["Resources"][0]["id"].clone()), (json!(1), json!(id)));

    let u = bapi_user(&app, &id).await;
    assert_eq!(u["external_id"], "00u1okta");
    assert_eq!((u["first_name"].clone(), u["last_name"].clone()), (json!("Alice"), json!("Liddell")));
    assert_eq!(u["email_addresses"][0]["email_address"], "alice@acme.test");
    assert_eq!(u["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!(u["deprovisioned"], false);

    // Okta sends profile updates as PUT of the whole resource.
    let put = scim
        .put(
            &format!("/Users/{id}"),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": id,
                "userName": "alice@acme.test",
                "name": { "givenName": "Alicia", "familyName": "Liddell" },
                "emails": [{ "primary": true, "value": "alicia@acme.test", "type": "work" }],
                "externalId": "00u1okta",
                "active": true
            }),
        )
        .await
        .status(200)
        .json;
    assert_eq!(put["name"]["givenName"], "Alicia");
    let u = bapi_user(&app, &id).await;
    assert_eq!(u["first_name"], "Alicia");
    assert_eq!(u["email_addresses"].as_array().unwrap().len(), 1);
    assert_eq!(u["email_addresses"][0]["email_address"], "alicia@acme.test");

    // Deactivation: deprovisioned, every session revoked at once; sign-in sessions can no longer be made.
    let session = session_of(&app, &id).await;
    let off = scim
        .patch(&format!("/Users/{id}"), json!([{ "op": "replace", "value": { "active": false } }]))
        .await
        .status(200);
    assert_eq!(off.json["active"], false);
    assert_eq!(bapi_user(&app, &id).await["deprovisioned"], true);
    assert_eq!(session_status(&app, &session).await, "revoked");
    app.post("/v1/sessions", json!({ "user_id": id })).send().await.assert_error(400, "user_deprovisioned", None);
    let inactive = scim.get("/Users?filter=active%20eq%20false").await.status(200).json;
    assert_eq!(inactive["totalResults"], 1);

    // Reactivation restores the user.
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "replace", "path": "active", "value": true }]))
        .await
        .status(200);
    assert_eq!(bapi_user(&app, &id).await["deprovisioned"], false);
    session_of(&app, &id).await;
    assert_eq!(scim.get(&format!("/Users/{id}")).await.status(200).json["active"], true);

    // Every change was reported by webhook, in order.
    assert_eq!(events_of(&app, "user.created").await.len(), 1);
    let updated = events_of(&app, "user.updated").await;
    assert_eq!(updated.len(), 3, "PUT, deactivate, reactivate");
    assert_eq!(updated[1]["data"]["deprovisioned"], true);

    // DELETE: gone from the directory, the user deprovisioned and signed out, kept in the instance.
    let session = session_of(&app, &id).await;
    scim.delete(&format!("/Users/{id}")).await.status(204);
    scim.get(&format!("/Users/{id}")).await.error(404, None);
    assert_eq!(session_status(&app, &session).await, "revoked");
    assert_eq!(bapi_user(&app, &id).await["deprovisioned"], true);
}

#[tokio::test]
async fn paging_and_filters() {
    let app = TestApp::new().await;
    let (dir, key) = directory(&app, "okta", None).await;
    let scim = app.scim(&dir, &key);
    for i in 0..5 {
        scim.post(
            "/Users",
            json!({ "userName": format!("u{i}@acme.test"), "externalId": format!("ext-{i}"),
                    "emails": [{ "value": format!("u{i}@acme.test"), "type": if i % 2 == 0 { "work" } else { "home" } }] }),
        )
        .await
        .status(201);
    }
    let page = scim.get("/Users?startIndex=2&count=2").await.status(200).json;
    assert_eq!(
        (page["totalResults"].clone(), page["startIndex"].clone(), page["itemsPerPage"].clone()),
        (json!(5), json!(2), json!(2))
    );
    assert_eq!(page["Resources"][0]["userName"], "u1@acme.test");
    let none = scim.get("/Users?count=0").await.status(200).json;
    assert_eq!((none["totalResults"].clone(), none["Resources"].clone()), (json!(5), json!([])));
    let count = |f: &str| {
        let scim = &scim;
        let q = url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>();
        async move { scim.get(&format!("/Users?filter={q}")).await.status(200).json["totalResults"].as_i64().unwrap() }
    };
    assert_eq!(count(r#"externalId eq "ext-3""#).await, 1);
    assert_eq!(count(r#"userName sw "U1""#).await, 1);
    assert_eq!(count(r#"emails.value co "acme""#).await, 5);
    assert_eq!(count(r#"emails[type eq "work"]"#).await, 3);
    assert_eq!(count(r#"userName eq "u0@acme.test" or externalId eq "ext-4""#).await, 2);
    assert_eq!(count(r#"userName pr and not (externalId eq "ext-0")"#).await, 4);
    let slim = scim.get("/Users?attributes=userName&count=1").await.status(200).json;
    let mut keys: Vec<_> = slim["Resources"][0].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "schemas", "userName"]);

    // The same query as a search in the body (RFC 7644 §3.4.3).
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": r#"emails[type eq "work"]"#, "attributes": ["userName"], "startIndex": 2, "count": 1,
    });
    let found = scim.post("/Users/.search", search).await.status(200).json;
    assert_eq!((found["totalResults"].clone(), found["startIndex"].clone()), (json!(3), json!(2)));
    let mut keys: Vec<_> = found["Resources"][0].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    let bad = json!({ "filter": "userName zz \"x\"" });
    scim.post("/Users/.search", bad).await.error(400, Some("invalidFilter"));
}
