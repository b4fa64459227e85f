//! `AgentTask`. `url` (which carries the ticket) appears only in the creation answer.

use serde_json::{Value, json};
use tessera_core::agent_tasks::AgentTask;

/// `AgentTask`; `task_id` is Clerk's deprecated duplicate of `agent_task_id`, which the Python SDK still requires.
pub fn agent_task(t: &AgentTask) -> Value {
    let mut out = json!({
        "object": "agent_task",
        "agent_id": t.agent_id,
        "agent_task_id": t.agent_task_id,
        "task_id": t.agent_task_id,
    });
    if let Some(url) = &t.url {
        out["url"] = json!(url);
    }
    out
}
