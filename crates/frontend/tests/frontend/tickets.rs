//! Ticket links (`GET /v1/tickets/accept`): sign-in tokens, actor tokens and agent tasks sign the browser that
//! opens them in, once.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::{TestApp, TestBrowser};

async fn user(app: &TestApp, key: Option<&str>) -> String {
    let mut r = app
        .post("/v1/users", json!({"email_address": ["ada@example.com"], "password": "correct horse battery staple"}));
    if let Some(k) = key {
        r = r.bearer(k);
    }
    r.send().await.assert_status(200).json["id"].as_str().unwrap().to_owned()
}

/// The path and query of a ticket URL (`https://{frontend host}/v1/tickets/accept?ticket=…`).
fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).expect("absolute url");
    format!("{}?{}", u.path(), u.query().unwrap_or_default())
}

fn location(r: &tessera_testkit::TestResponse) -> url::Url {
    url::Url::parse(r.headers.get("location").expect("Location").to_str().unwrap()).unwrap()
}

fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn sessions_of(b: &TestBrowser<'_>) -> Value {
    b.get("/v1/client").send().await.assert_status(200).json["response"]["sessions"].clone()
}

#[tokio::test]
async fn a_sign_in_token_link_signs_a_new_browser_in_once() {
    let app = TestApp::new().await;
    let user_id = user(&app, None).await;
    let token = app.post("/v1/sign_in_tokens", json!({"user_id": user_id})).send().await.assert_status(200).json;
    let path = path_of(token["url"].as_str().unwrap());
    let mut b = app.browser().await;
    b.dev_browser = None; // A browser that opens the link cold.
    let r = b.get(&path).send().await.assert_status(303);
    let to = location(&r);
    assert!(to.as_str().starts_with(&format!("https://{}/user", app.instance.frontend_host())), "{to}");
    let db = param(&to, "__clerk_db_jwt").expect("the new dev browser travels in the redirect");
    b.dev_browser = Some(db);
    let sessions = sessions_of(&b).await;
    assert_eq!(sessions[0]["user"]["id"], user_id.as_str());
    // Single use: nothing more is written.
    b.get(&path).send().await.assert_error(400, "token_invalid", None);
    assert_eq!(sessions_of(&b).await.as_array().map(Vec::len), Some(1));
    let r = app.get(&format!("/v1/sign_in_tokens?user_id={user_id}")).send().await;
    let _ = r;
}

#[tokio::test]
async fn an_agent_task_link_leads_to_its_redirect_url_with_a_short_session() {
    let app = TestApp::new().await;
    let user_id = user(&app, None).await;
    let task = app
        .post(
            "/v1/agents/tasks",
            json!({"on_behalf_of": {"user_id": user_id}, "permissions": "*", "agent_name": "checkout-bot",
                   "task_description": "buy milk", "redirect_url": "http://localhost:3000/after",
                   "session_max_duration_in_seconds": 600}),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let b = app.browser().await;
    let r = b.get(&path_of(task["url"].as_str().unwrap())).send().await.assert_status(303);
    let to = location(&r);
    assert_eq!((to.host_str(), to.path()), (Some("localhost"), "/after"));
    assert_eq!(param(&to, "__clerk_db_jwt"), b.dev_browser.clone(), "the browser's own dev browser");
    let s = &sessions_of(&b).await[0];
    assert_eq!(s["user"]["id"], user_id.as_str());
    let lifetime = s["expire_at"].as_i64().unwrap() - s["created_at"].as_i64().unwrap();
    assert_eq!(lifetime, 600_000);
    // Revoking a redeemed task is refused; the link works once.
    let id = task["agent_task_id"].as_str().unwrap();
    app.post(&format!("/v1/agents/tasks/{id}/revoke"), json!({})).send().await.assert_status(400);
    b.get(&path_of(task["url"].as_str().unwrap())).send().await.assert_error(400, "token_invalid", None);
}

#[tokio::test]
async fn an_actor_token_link_opens_an_impersonation_session() {
    let app = TestApp::new().await;
    let user_id = user(&app, None).await;
    let token = app
        .post("/v1/actor_tokens", json!({"user_id": user_id, "actor": {"sub": "user_support"}}))
        .send()
        .await
        .assert_status(200)
        .json;
    let b = app.browser().await;
    b.get(&path_of(token["url"].as_str().unwrap())).send().await.assert_status(303);
    let s = &sessions_of(&b).await[0];
    assert_eq!(s["actor"]["sub"], "user_support");
}

#[tokio::test]
async fn a_production_browser_gets_its_client_cookie() {
    let app = TestApp::new().await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    let user_id = user(&app, Some(&key)).await;
    let token =
        app.post("/v1/sign_in_tokens", json!({"user_id": user_id})).bearer(&key).send().await.assert_status(200).json;
    let mut b = app.browser_for(&prod).await;
    b.origin = None;
    let r = b.get(&path_of(token["url"].as_str().unwrap())).send().await.assert_status(303);
    assert!(param(&location(&r), "__clerk_db_jwt").is_none());
    assert!(b.cookie("__client").is_some_and(|c| c.starts_with("clt_")));
    assert!(b.cookie("__client_uat").is_some_and(|v| v != "0"));
    assert_eq!(sessions_of(&b).await[0]["user"]["id"], user_id.as_str());
}

#[tokio::test]
async fn bad_tickets_are_refused_and_write_nothing() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    b.get("/v1/tickets/accept").send().await.assert_error(400, "query_param_missing", None);
    for bad in ["nope", "x".repeat(300).as_str(), "%00"] {
        b.get(&format!("/v1/tickets/accept?ticket={bad}")).send().await.assert_status(400);
    }
    assert_eq!(sessions_of(&b).await, json!([]));
    // A link of another instance is unknown here.
    let (_, other_key) = app.create_instance(Environment::Development).await;
    let other_user = user(&app, Some(&other_key)).await;
    let t = app
        .post("/v1/sign_in_tokens", json!({"user_id": other_user}))
        .bearer(&other_key)
        .send()
        .await
        .assert_status(200)
        .json;
    b.get(&path_of(t["url"].as_str().unwrap())).send().await.assert_error(400, "token_invalid", None);
    // An evil redirect_url is refused before the ticket is used.
    let user_id = user(&app, None).await;
    let t = app.post("/v1/sign_in_tokens", json!({"user_id": user_id})).send().await.assert_status(200).json;
    let path = path_of(t["url"].as_str().unwrap());
    b.get(&format!("{path}&redirect_url=https%3A%2F%2Fevil.example%2F")).send().await.assert_error(
        400,
        "redirect_url_not_allowed",
        Some("redirect_url"),
    );
    b.get(&path).send().await.assert_status(303);
}
