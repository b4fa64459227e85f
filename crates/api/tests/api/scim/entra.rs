//! Microsoft Entra's provisioning sequence, with its departures from the RFC: PascalCase operations, `"False"`
//! and `"True"` strings, value-filtered paths that create the item, enterprise-extension paths, path-less `Add`,
//! members removed by a `members` path with a value list, and `excludedAttributes=members`.

use serde_json::json;
use tessera_testkit::TestApp;

use super::{bapi_user, directory, session_of, session_status};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn entra_provisions_updates_deactivates_and_reactivates() {
    let app = TestApp::new().await;
    let (dir, key) = directory(&app, "microsoft", None).await;
    let scim = app.scim(&dir, &key);

    let none = scim.get("/Users?filter=userName+eq+%22Test_User_ab6490ee%40acme.test%22").await.status(200).json;
    assert_eq!(none["totalResults"], 0);
    let created = scim
        .post(
            "/Users",
            json!({
                "schemas": [CORE, ENTERPRISE],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_ab6490ee@acme.test",
                "active": true,
                "emails": [{ "primary": true, "type": "work", "value": "Test_User_fd0ea19b@acme.test" }],
                "meta": { "resourceType": "User" },
                "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
                "roles": []
            }),
        )
        .await
        .status(201)
        .json;
    let id = created["id"].as_str().unwrap().to_owned();
    let u = bapi_user(&app, &id).await;
    assert_eq!(u["external_id"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(u["email_addresses"][0]["email_address"], "test_user_fd0ea19b@acme.test");

    let patched = scim
        .patch(
            &format!("/Users/{id}"),
            json!([
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@acme.test" },
                { "op": "Replace", "path": "name.familyName", "value": "updatedFamilyName" },
                { "op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Sales" },
                { "op": "Add", "value": { "name.givenName": "updatedGivenName" } }
            ]),
        )
        .await
        .status(200)
        .json;
    assert_eq!(patched["emails"][0]["value"], "updatedEmail@acme.test");
    assert_eq!(patched[ENTERPRISE]["department"], "Sales");
    assert!(patched["schemas"].as_array().unwrap().contains(&json!(ENTERPRISE)));
    let u = bapi_user(&app, &id).await;
    assert_eq!(
        (u["first_name"].clone(), u["last_name"].clone()),
        (json!("updatedGivenName"), json!("updatedFamilyName"))
    );
    assert_eq!(u["email_addresses"][0]["email_address"], "updatedemail@acme.test");
    let by_dept = scim.get(&format!("/Users?filter={ENTERPRISE}:department%20eq%20%22sales%22")).await.status(200).json;
    assert_eq!(by_dept["totalResults"], 1);

    // "False" and "True" as strings.
    let session = session_of(&app, &id).await;
    let off = scim
        .patch(&format!("/Users/{id}"), json!([{ "op": "Replace", "path": "active", "value": "False" }]))
        .await
        .status(200);
    assert_eq!(off.json["active"], false);
    assert_eq!(bapi_user(&app, &id).await["deprovisioned"], true);
    assert_eq!(session_status(&app, &session).await, "revoked");
    scim.patch(&format!("/Users/{id}"), json!([{ "op": "Replace", "path": "active", "value": "True" }]))
        .await
        .status(200);
    assert_eq!(bapi_user(&app, &id).await["deprovisioned"], false);

    // Groups: created empty, members added and removed Entra's way, listed without members.
    let g = scim
        .post(
            "/Groups",
            json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                    "displayName": "Group1DisplayName", "members": [], "meta": { "resourceType": "Group" } }),
        )
        .await
        .status(201)
        .json;
    let gid = g["id"].as_str().unwrap().to_owned();
    scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "Add", "path": "members", "value": [{ "value": id }] }]))
        .await
        .status(200);
    let listed = scim
        .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22Group1DisplayName%22")
        .await
        .status(200)
        .json;
    assert_eq!(listed["totalResults"], 1);
    assert_eq!(listed["Resources"][0].get("members"), None);
    let with = scim.get(&format!("/Groups?filter=members.value%20eq%20%22{id}%22")).await.status(200).json;
    assert_eq!(with["totalResults"], 1);
    scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "Remove", "path": "members", "value": [{ "value": id }] }]))
        .await
        .status(200);
    assert_eq!(scim.get(&format!("/Groups/{gid}")).await.status(200).json["members"], json!([]));
    scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "Replace", "path": "displayName", "value": "Renamed" }]))
        .await
        .status(200);
    assert_eq!(scim.get(&format!("/Groups/{gid}")).await.json["displayName"], "Renamed");
    scim.delete(&format!("/Groups/{gid}")).await.status(204);
    scim.get(&format!("/Groups/{gid}")).await.error(404, None);
}

#[tokio::test]
async fn discovery_documents() {
    let app = TestApp::new().await;
    let (dir, key) = directory(&app, "microsoft", None).await;
    let scim = app.scim(&dir, &key);
    let c = scim.get("/ServiceProviderConfig").await.status(200).json;
    assert_eq!((c["patch"]["supported"].clone(), c["bulk"]["supported"].clone()), (json!(true), json!(false)));
    assert_eq!(c["filter"]["supported"], true);
    let types = scim.get("/ResourceTypes").await.status(200).json;
    assert_eq!(types["totalResults"], 2);
    assert_eq!(scim.get("/ResourceTypes/User").await.status(200).json["endpoint"], "/Users");
    let schemas = scim.get("/Schemas").await.status(200).json;
    let ids: Vec<_> =
        schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:clerk:2.0:User".to_owned()), "{ids:?}");
    scim.get(&format!("/Schemas/{CORE}")).await.status(200);
    scim.get("/Schemas/urn:nope").await.error(404, None);
}
