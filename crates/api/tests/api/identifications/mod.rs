//! Email Addresses and Phone Numbers: create, get, update, delete, replace, and code verification.

mod addresses;
mod verification;

use serde_json::{Value, json};
use tessera_testkit::TestApp;

/// Creates a user from a body; returns its JSON.
pub async fn user(app: &TestApp, body: Value) -> Value {
    app.post("/v1/users", body).send().await.assert_status(200).json
}

/// The id of a JSON object.
pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Creates an email address for a user.
pub async fn email(app: &TestApp, user_id: &str, address: &str, extra: Value) -> Value {
    let mut body = json!({ "user_id": user_id, "email_address": address });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.post("/v1/email_addresses", body).send().await.assert_status(200).json
}
