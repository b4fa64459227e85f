//! `ActorToken`, `SignInToken` and `TestingToken`. The token itself appears only in the creation answer.

use serde_json::{Value, json};
use tessera_core::agent_tasks::ticket_url;
use tessera_core::instances::Instance;
use tessera_core::tickets::{ActorToken, SignInToken, TestingToken, actor_object};

/// `ActorToken`; its `url` (creation only) is the ticket link on the instance's Frontend API.
pub fn actor_token(t: &ActorToken, instance: &Instance) -> Value {
    let mut out = json!({
        "object": "actor_token",
        "id": t.id,
        "status": t.status,
        "user_id": t.user_id,
        "actor": actor_object(&t.actor),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    });
    if let Some(token) = &t.token {
        out["token"] = json!(token);
        out["url"] = json!(ticket_url(instance, token));
    }
    out
}

/// `SignInToken`; its `url` (creation only) is the ticket link on the instance's Frontend API.
pub fn sign_in_token(t: &SignInToken, instance: &Instance) -> Value {
    let mut out = json!({
        "object": "sign_in_token",
        "id": t.id,
        "status": t.status,
        "user_id": t.user_id,
        "url": null,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    });
    if let Some(token) = &t.token {
        out["token"] = json!(token);
        out["url"] = json!(ticket_url(instance, token));
    }
    out
}

/// `TestingToken`.
pub fn testing_token(t: &TestingToken) -> Value {
    json!({ "object": "testing_token", "token": t.token, "expires_at": t.expires_at })
}
