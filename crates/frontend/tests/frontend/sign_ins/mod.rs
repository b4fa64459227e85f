//! Sign-ins on the browser's client: identifier, password, e-mail and SMS codes, tickets, second factors, and the
//! negative corpus (wrong and expired codes, too many attempts, reuse, other clients' sign-ins, locked and banned
//! users, hostile identifiers, unknown strategies, missing parameters).

mod flows;
mod refusals;
mod second_factor;
mod tickets;

use serde_json::{Value, json};
use tessera_testkit::{TestApp, TestResponse};

pub const T0: i64 = 1_750_000_000_000;
pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
pub const SIGN_INS: &str = "/v1/client/sign_ins";

/// Creates a user through the Backend API; returns its id.
pub async fn user(app: &TestApp, body: Value) -> String {
    let r = app.post("/v1/users", body).send().await.assert_status(200);
    r.json["id"].as_str().expect("user id").to_owned()
}

pub async fn user_with_password(app: &TestApp, email: &str) -> String {
    user(app, json!({ "email_address": [email], "password": PASSWORD, "skip_password_checks": true })).await
}

pub fn path(id: &str, op: &str) -> String {
    format!("{SIGN_INS}/{id}/{op}")
}

pub fn id_of(r: &TestResponse) -> String {
    r.json["response"]["id"].as_str().expect("sign-in id").to_owned()
}

/// The code of the newest captured message.
pub async fn last_code(app: &TestApp) -> String {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    let m = msgs.first().expect("a captured message");
    let code: String = m.subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "subject: {}", m.subject);
    code
}

pub async fn outbox_len(app: &TestApp) -> usize {
    tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap().len()
}

pub fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

/// A complete sign-in's answer: the client carries its session (with a token for it), not the sign-in; the
/// Backend API lists the session for the user.
pub async fn assert_signed_in(app: &TestApp, r: &TestResponse, user_id: &str) -> String {
    let s = &r.json["response"];
    assert_eq!(s["status"], "complete", "{}", r.json);
    let sid = s["created_session_id"].as_str().expect("created_session_id").to_owned();
    let client = &r.json["client"];
    assert!(client["sign_in"].is_null(), "{client}");
    assert_eq!(client["last_active_session_id"], sid.as_str());
    let session = &client["sessions"][0];
    assert_eq!(session["id"], sid.as_str());
    assert_eq!(session["user"]["id"], user_id);
    let jwt = session["last_active_token"]["jwt"].as_str().expect("token");
    let claims = tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, jwt).await.expect("valid jwt").claims;
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["sub"], user_id);
    let listed = app.get(&format!("/v1/sessions?user_id={user_id}")).send().await.assert_status(200).json;
    assert!(listed.as_array().unwrap().iter().any(|x| x["id"] == sid.as_str() && x["status"] == "active"), "{listed}");
    sid
}
