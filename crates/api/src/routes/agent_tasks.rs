//! Agent tasks: create (a ticket URL on the instance's Frontend API host) and revoke. Redemption is the
//! Frontend API's (`tessera_core::agent_tasks::redeem`).

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::agent_tasks::{self, NewAgentTask, OnBehalfOf};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, SecretKey};
use crate::objects::agent_task;

/// `on_behalf_of`: exactly one of the two.
#[derive(Debug, Deserialize)]
pub struct OnBehalfOfBody {
    user_id: Option<String>,
    identifier: Option<String>,
}

/// Body of `POST /agents/tasks` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentTaskBody {
    on_behalf_of: Option<OnBehalfOfBody>,
    permissions: Option<String>,
    agent_name: Option<String>,
    task_description: Option<String>,
    redirect_url: Option<String>,
    session_max_duration_in_seconds: Option<i64>,
}

/// `POST /v1/agents/tasks`
pub async fn create_agent_task(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateAgentTaskBody>,
) -> ApiResult<Json<Value>> {
    let input = NewAgentTask {
        on_behalf_of: b.on_behalf_of.map(|o| OnBehalfOf { user_id: o.user_id, identifier: o.identifier }),
        permissions: b.permissions,
        agent_name: b.agent_name,
        task_description: b.task_description,
        redirect_url: b.redirect_url,
        session_max_duration_in_seconds: b.session_max_duration_in_seconds,
    };
    let task = agent_tasks::create(&app.ctx, &instance, input).await?;
    Ok(Json(agent_task::agent_task(&task)))
}

/// `POST /v1/agents/tasks/{agent_task_id}/revoke`
pub async fn revoke_agent_task(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let task = agent_tasks::revoke(&app.ctx, &instance.id, &id).await?;
    Ok(Json(agent_task::agent_task(&task)))
}
