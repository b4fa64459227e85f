//! Organizations and everything that hangs off them (memberships, roles, permissions, invitations).

mod crud;
mod domains;
mod invitations;
mod logo;
mod memberships;
mod permissions;
mod role_sets;
mod roles;

use serde_json::{Value, json};
use tessera_testkit::TestApp;

pub use super::users::user_with_email;

/// Start of the manual clock in tests that move time.
pub const T0: i64 = 1_750_000_000_000;

/// Turns organizations on for the app's instance (they are off by default, as on Clerk).
pub async fn enable(app: &TestApp) {
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true })).send().await.assert_status(200);
}

/// A test app with organizations enabled.
pub async fn app() -> TestApp {
    let app = TestApp::new().await;
    enable(&app).await;
    app
}

/// Creates an organization through the API; returns its JSON.
pub async fn create_org(app: &TestApp, body: Value) -> Value {
    app.post("/v1/organizations", body).send().await.assert_status(200).json
}

/// Creates an organization named `name` created by `user_id`; returns its id.
pub async fn org_by(app: &TestApp, name: &str, user_id: &str) -> String {
    create_org(app, json!({ "name": name, "created_by": user_id })).await["id"].as_str().unwrap().to_owned()
}

/// The ids of a `{data, total_count}` list.
pub fn ids(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect()
}
