//! Agent tasks: creation (a ticket URL on the Frontend API host, the ticket stored as a digest), stable agent ids,
//! revocation, redirect-URL rules, and redemption through `tessera_core::agent_tasks::redeem` (which the Frontend
//! API's `GET /v1/tickets/accept` calls).

use serde_json::{Value, json};
use tessera_core::ErrorCode;
use tessera_core::agent_tasks::{self, RedeemedAgentTask};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use crate::machines::assert_not_in_database;
use crate::users::{T0, create_user, user_with_email};

fn body(user_id: &str, agent: &str) -> Value {
    json!({
        "on_behalf_of": { "user_id": user_id },
        "permissions": "*",
        "agent_name": agent,
        "task_description": "Run the checkout test",
        "redirect_url": "http://localhost:3000/dashboard",
    })
}

async fn create(app: &TestApp, body: Value) -> Value {
    app.post("/v1/agents/tasks", body).send().await.assert_status(200).json
}

/// The ticket inside a task's `url`.
fn ticket_of(task: &Value) -> String {
    task["url"].as_str().unwrap().split_once("?ticket=").unwrap().1.to_owned()
}

async fn redeem(app: &TestApp, ticket: &str) -> tessera_core::Result<RedeemedAgentTask> {
    agent_tasks::redeem(app.ctx(), &app.instance.id, ticket).await
}

#[track_caller]
fn assert_code<T: std::fmt::Debug>(r: tessera_core::Result<T>, status: u16, code: ErrorCode) {
    let e = r.unwrap_err();
    assert_eq!((e.status(), e.code()), (status, code), "{e}");
}

#[tokio::test]
async fn create_redeem_once_and_stable_agent_ids() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "ada@example.com").await;
    let t = create(&app, body(&user, "checkout-bot")).await;
    assert_eq!(t["object"], "agent_task");
    let agent_id = t["agent_id"].as_str().unwrap();
    let task_id = t["agent_task_id"].as_str().unwrap();
    assert!(agent_id.starts_with("agt_"), "{t}");
    assert!(task_id.starts_with("agttsk_"), "{t}");
    assert_eq!(t["task_id"], t["agent_task_id"], "the deprecated duplicate");
    let url = t["url"].as_str().unwrap();
    let prefix = format!("https://{}/v1/tickets/accept?ticket=", app.instance.frontend_host());
    assert!(url.starts_with(&prefix), "{url}");
    let ticket = ticket_of(&t);
    assert!(ticket.len() >= 40 && ticket.bytes().all(|b| b.is_ascii_alphanumeric()), "{ticket}");
    assert_not_in_database(&app, &[&ticket]).await;

    // Same agent name: same agent id, a new task; another name: another agent.
    let again = create(&app, body(&user, "checkout-bot")).await;
    assert_eq!(again["agent_id"], agent_id);
    assert_ne!(again["agent_task_id"], task_id);
    assert_ne!(ticket_of(&again), ticket);
    let other = create(&app, body(&user, "support-bot")).await;
    assert_ne!(other["agent_id"], agent_id);
    // Agent ids are per instance.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    let user_b = app.post("/v1/users", json!({ "email_address": ["x@example.com"] })).bearer(&key_b).send().await.json
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_b = app.post("/v1/agents/tasks", body(&user_b, "checkout-bot")).bearer(&key_b).send().await;
    let in_b = in_b.assert_status(200).json;
    assert_ne!(in_b["agent_id"], agent_id);

    let redeemed = redeem(&app, &ticket).await.unwrap();
    assert_eq!(
        redeemed,
        RedeemedAgentTask {
            user_id: user.clone(),
            redirect_url: "http://localhost:3000/dashboard".into(),
            session_max_duration_ms: 1_800_000,
            agent_id: agent_id.to_owned(),
            agent_task_id: task_id.to_owned(),
        }
    );
    // Single use; an accepted task cannot be revoked.
    assert_code(redeem(&app, &ticket).await, 400, ErrorCode::TokenInvalid);
    app.post(&format!("/v1/agents/tasks/{task_id}/revoke"), json!({})).send().await.assert_error(
        400,
        "agent_task_cannot_be_revoked",
        None,
    );
    // Another instance cannot redeem this instance's ticket.
    let other_ticket = ticket_of(&again);
    let instance_b = tessera_core::instances::authenticate(app.ctx(), &key_b).await.unwrap();
    assert_code(agent_tasks::redeem(app.ctx(), &instance_b.id, &other_ticket).await, 400, ErrorCode::TokenInvalid);
    for bad in ["", "nope", &"x".repeat(300)] {
        assert_code(redeem(&app, bad).await, 400, ErrorCode::TokenInvalid);
    }
    assert!(redeem(&app, &other_ticket).await.is_ok());
}

#[tokio::test]
async fn revoke_expiry_and_custom_session_length() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "ada@example.com").await;
    let t = create(&app, body(&user, "bot")).await;
    let id = t["agent_task_id"].as_str().unwrap();
    let r = app.post(&format!("/v1/agents/tasks/{id}/revoke"), json!({})).send().await.assert_status(200).json;
    assert_eq!(r, json!({ "object": "agent_task", "agent_id": t["agent_id"], "agent_task_id": id, "task_id": id }));
    app.post(&format!("/v1/agents/tasks/{id}/revoke"), json!({})).send().await.assert_error(
        400,
        "agent_task_cannot_be_revoked",
        None,
    );
    assert_code(redeem(&app, &ticket_of(&t)).await, 400, ErrorCode::TokenInvalid);
    app.post("/v1/agents/tasks/agttsk_unknown/revoke", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );

    let mut long = body(&user, "bot");
    long["session_max_duration_in_seconds"] = json!(600);
    let t = create(&app, long).await;
    let fresh = create(&app, body(&user, "bot")).await;
    app.clock.advance_ms(3_600_000);
    assert_code(redeem(&app, &ticket_of(&t)).await, 400, ErrorCode::TokenExpired);
    let fresh_id = fresh["agent_task_id"].as_str().unwrap();
    app.post(&format!("/v1/agents/tasks/{fresh_id}/revoke"), json!({})).send().await.assert_error(
        400,
        "agent_task_cannot_be_revoked",
        None,
    );
    app.clock.advance_ms(-1000);
    let r = redeem(&app, &ticket_of(&t)).await.unwrap();
    assert_eq!(r.session_max_duration_ms, 600_000);
}

#[tokio::test]
async fn on_behalf_of_a_verified_identifier_or_username() {
    let app = TestApp::new().await;
    let u = create_user(
        &app,
        json!({ "email_address": ["Ada@Example.com"], "phone_number": ["+15555550100"], "username": "ada_l" }),
    )
    .await;
    let id = u["id"].as_str().unwrap();
    for identifier in ["ada@example.com", " ADA@example.com ", "+15555550100", "ADA_L"] {
        let mut b = body("", "bot");
        b["on_behalf_of"] = json!({ "identifier": identifier });
        let t = create(&app, b).await;
        assert_eq!(redeem(&app, &ticket_of(&t)).await.unwrap().user_id, id, "{identifier}");
    }
    // An unverified address names nobody.
    app.post("/v1/email_addresses", json!({ "user_id": id, "email_address": "new@example.com", "verified": false }))
        .send()
        .await
        .assert_status(200);
    for identifier in ["new@example.com", "nobody@example.com", "+15555550199", "someone"] {
        let mut b = body("", "bot");
        b["on_behalf_of"] = json!({ "identifier": identifier });
        app.post("/v1/agents/tasks", b).send().await.assert_error(404, "resource_not_found", None);
    }
    app.post("/v1/agents/tasks", body("user_unknown", "bot")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn invalid_bodies_are_refused() {
    let app = TestApp::new().await;
    let user = user_with_email(&app, "ada@example.com").await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({ "on_behalf_of": null }), "form_param_missing", "on_behalf_of"),
        (json!({ "on_behalf_of": {} }), "form_param_missing", "on_behalf_of.user_id"),
        (
            json!({ "on_behalf_of": { "user_id": user, "identifier": "ada@example.com" } }),
            "form_param_value_invalid",
            "on_behalf_of",
        ),
        (json!({ "permissions": "read" }), "form_param_value_invalid", "permissions"),
        (json!({ "permissions": null }), "form_param_missing", "permissions"),
        (json!({ "agent_name": "  " }), "form_param_missing", "agent_name"),
        (json!({ "task_description": null }), "form_param_missing", "task_description"),
        (json!({ "redirect_url": null }), "form_param_missing", "redirect_url"),
        (json!({ "redirect_url": "javascript:alert(1)" }), "form_param_format_invalid", "redirect_url"),
        (json!({ "redirect_url": "https://evil.example.org/" }), "form_param_value_invalid", "redirect_url"),
        (
            json!({ "session_max_duration_in_seconds": 0 }),
            "form_param_value_invalid",
            "session_max_duration_in_seconds",
        ),
    ];
    for (patch, code, param) in cases {
        let mut b = body(&user, "bot");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        app.post("/v1/agents/tasks", b.clone()).send().await.assert_error(422, code, Some(param));
    }
    let mut b = body(&user, "bot");
    b["unexpected"] = json!(1);
    let r = app.post("/v1/agents/tasks", b).send().await;
    assert_eq!(r.status, 422, "additionalProperties: false; {}", r.json);
    app.post("/v1/agents/tasks", json!({})).send().await.assert_status(422);
}

#[tokio::test]
async fn redirect_urls_follow_the_instances_domains_and_rules() {
    let app = TestApp::new().await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    let user =
        app.post("/v1/users", json!({ "email_address": ["p@example.com"] })).bearer(&key).send().await.json["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let create_in_prod = |url: &str| {
        let mut b = body(&user, "bot");
        b["redirect_url"] = json!(url);
        app.post("/v1/agents/tasks", b).bearer(&key).send()
    };
    let sat = app
        .post("/v1/domains", json!({ "name": "example.com", "is_satellite": true }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200)
        .json;
    app.post("/v1/redirect_urls", json!({ "url": "https://partner.io/callback" }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    app.patch("/v1/instance", json!({ "allowed_origins": ["https://allowed.io:8443"] }))
        .bearer(&key)
        .send()
        .await
        .assert_status(204);
    for ok in [
        format!("https://{}/after", prod.frontend_host()),
        "https://example.com/after".into(),
        "https://app.example.com/after?x=1".into(),
        "https://partner.io/callback?state=1".into(),
        "https://allowed.io:8443/anywhere".into(),
    ] {
        create_in_prod(&ok).await.assert_status(200);
    }
    for (bad, code) in [
        ("http://example.com/after", "form_param_format_invalid"),
        ("http://localhost:3000/", "form_param_format_invalid"),
        ("https://evil.com/", "form_param_value_invalid"),
        ("https://example.com.evil.com/", "form_param_value_invalid"),
        ("https://partner.io/callbackx", "form_param_value_invalid"),
        ("https://allowed.io/", "form_param_value_invalid"),
    ] {
        create_in_prod(bad).await.assert_error(422, code, Some("redirect_url"));
    }

    // Redemption checks again: once the satellite is gone, its URLs are refused and the task stays pending.
    let t = create_in_prod("https://app.example.com/after").await.assert_status(200).json;
    let sat_id = sat["id"].as_str().unwrap();
    app.delete(&format!("/v1/domains/{sat_id}")).bearer(&key).send().await.assert_status(200);
    let ticket = ticket_of(&t);
    assert_code(agent_tasks::redeem(app.ctx(), &prod.id, &ticket).await, 422, ErrorCode::FormParamValueInvalid);
    let id = t["agent_task_id"].as_str().unwrap();
    app.post(&format!("/v1/agents/tasks/{id}/revoke"), json!({})).bearer(&key).send().await.assert_status(200);
}

#[tokio::test]
async fn banned_locked_and_deleted_users_cannot_redeem() {
    let app = TestApp::new().await;
    let user = user_with_email(&app, "ada@example.com").await;
    let t = create(&app, body(&user, "bot")).await;
    app.post(&format!("/v1/users/{user}/ban"), json!({})).send().await.assert_status(200);
    assert_code(redeem(&app, &ticket_of(&t)).await, 400, ErrorCode::UserBanned);
    app.post(&format!("/v1/users/{user}/unban"), json!({})).send().await.assert_status(200);
    let id = t["agent_task_id"].as_str().unwrap();
    // The failed redemption left the task pending.
    app.post(&format!("/v1/agents/tasks/{id}/revoke"), json!({})).send().await.assert_status(200);

    // A locked user cannot redeem either; the task works once the lock ends.
    let t = create(&app, body(&user, "bot")).await;
    app.post(&format!("/v1/users/{user}/lock"), json!({})).send().await.assert_status(200);
    assert_code(redeem(&app, &ticket_of(&t)).await, 403, ErrorCode::UserLocked);
    app.post(&format!("/v1/users/{user}/unlock"), json!({})).send().await.assert_status(200);
    assert_eq!(redeem(&app, &ticket_of(&t)).await.unwrap().user_id, user);

    let t = create(&app, body(&user, "bot")).await;
    app.delete(&format!("/v1/users/{user}")).send().await.assert_status(200);
    assert_code(redeem(&app, &ticket_of(&t)).await, 400, ErrorCode::TokenInvalid);
}
