//! Users: create, get, list/count filters and ordering, delete, and the operations on one user.

mod cached;
mod create;
mod credentials;
mod hashers;
mod list;
mod update;

use serde_json::{Value, json};
use tessera_testkit::TestApp;

/// Start of the manual clock in tests that move time.
pub const T0: i64 = 1_750_000_000_000;

/// Creates a user through the API; returns its JSON.
pub async fn create_user(app: &TestApp, body: Value) -> Value {
    app.post("/v1/users", body).send().await.assert_status(200).json
}

/// Creates a user with one email address; returns its id.
pub async fn user_with_email(app: &TestApp, email: &str) -> String {
    let u = create_user(app, json!({ "email_address": [email] })).await;
    u["id"].as_str().unwrap().to_owned()
}

/// The ids of a bare user array.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
}
