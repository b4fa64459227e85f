//! The SCIM 2.0 service provider of a directory, as identity providers drive it: Okta's and Entra's request
//! sequences (recorded shapes, quirks included), group → role mappings, and a negative corpus. Every answer is
//! checked by the testkit's SCIM client (media type, error schema, never a 5xx).

mod entra;
mod negative;
mod okta;
mod roles;

use serde_json::{Value, json};
use tessera_testkit::TestApp;

/// A directory of a fresh SAML connection (linked to `organization_id` when given): `(directory id, API key)`.
pub async fn directory(app: &TestApp, provider: &str, organization_id: Option<&str>) -> (String, String) {
    let mut body =
        json!({ "name": "Acme SSO", "provider": "saml_custom", "domains": [format!("{provider}.acme.test")] });
    if let Some(org) = organization_id {
        body["organization_id"] = json!(org);
    }
    let ec = super::enterprise_sso::create_connection(app, body).await;
    let d = app
        .post("/v1/directories", json!({ "enterprise_connection_id": ec["id"], "provider": provider }))
        .send()
        .await
        .assert_status(200)
        .json;
    (d["id"].as_str().unwrap().to_owned(), d["api_key"].as_str().unwrap().to_owned())
}

/// The user as the Backend API shows it.
pub async fn bapi_user(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/users/{id}")).send().await.assert_status(200).json
}

/// A live session of the user (Backend API, development instance); returns its id.
pub async fn session_of(app: &TestApp, user_id: &str) -> String {
    let s = app.post("/v1/sessions", json!({ "user_id": user_id })).send().await.assert_status(200).json;
    s["id"].as_str().unwrap().to_owned()
}

/// A session's status.
pub async fn session_status(app: &TestApp, id: &str) -> String {
    app.get(&format!("/v1/sessions/{id}")).send().await.assert_status(200).json["status"].as_str().unwrap().to_owned()
}
