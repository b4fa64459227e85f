//! Test runs of enterprise connections (`/enterprise_connections/{id}/test_runs`): a short-lived one-time URL on
//! the frontend host that runs the connection's IdP flow in test mode. The IdP's answer comes back to the same ACS
//! or OIDC callback as a sign-in's, is verified the same way, and is recorded — the logs, the parsed user, the raw
//! exchange (sealed: it carries tokens) — instead of signing anyone in: no user, no account, no session.

use serde_json::{Map, Value, json};
use tessera_store::test_runs::{self as store, TestRunRow};

use super::finish::{self, Identity};
use super::{Attempt, Start};
use crate::enterprise_connections::{self as connections, By, EnterpriseConnection};
use crate::instances::Instance;
use crate::{Ctx, Error, Result, ids};

/// How long a test run's URL opens.
pub const URL_TTL_MS: i64 = 15 * 60 * 1000;
/// Run statuses.
pub const STATUSES: &[&str] = &["pending", "success", "failed"];
const ARTIFACTS_PURPOSE: &str = "enterprise_connection_test_run.artifacts";

/// A run as the Backend API shows it.
#[derive(Debug, Clone)]
pub struct TestRun {
    /// The row.
    pub row: TestRunRow,
    /// The parsed user, once the IdP answered.
    pub parsed_user_info: Option<Value>,
    /// Its log entries.
    pub logs: Vec<Value>,
    /// The raw exchange (`{saml: …}` or `{oauth: …}`), unsealed.
    pub artifacts: Map<String, Value>,
}

fn log(level: &str, code: &str, message: &str) -> Value {
    json!({ "level": level, "code": code, "message": message })
}

/// The path of a run's URL on the frontend host.
pub fn url_path(token: &str) -> String {
    format!("/enterprise-sso/test/{token}")
}

/// The path of a run's result page on the frontend host.
pub fn result_path(run_id: &str) -> String {
    format!("/enterprise-sso/test-runs/{run_id}")
}

/// `POST /enterprise_connections/{id}/test_runs`: a pending run; returns its one-time URL.
pub async fn create(ctx: &Ctx, instance: &Instance, connection_id: &str) -> Result<String> {
    let c = connections::get(ctx, &instance.id, By::Id, connection_id).await?;
    let token = crate::oidc::random_token();
    let now = ctx.now_ms();
    let row = TestRunRow {
        id: ids::new_id("ectr"),
        instance_id: instance.id.clone(),
        connection_id: c.row.id.clone(),
        token_hash: ctx.secrets.digest(&token),
        connection_type: if c.is_saml() { "saml" } else { "oauth" }.into(),
        status: "pending".into(),
        parsed_user_info: None,
        logs: json!([log("info", "test_run_created", "The test run was created; its URL opens once.")]).to_string(),
        artifacts: None,
        opened_at: None,
        expires_at: now + URL_TTL_MS,
        created_at: now,
        updated_at: now,
    };
    store::insert(&ctx.db, &row).await?;
    Ok(format!("https://{}{}", instance.frontend_host(), url_path(&token)))
}

/// `GET /enterprise_connections/{id}/test_runs`: a page of a connection's runs (newest first) with one of
/// `statuses` (any when empty), and the total.
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    connection_id: &str,
    statuses: &[String],
    (limit, offset): (i64, i64),
) -> Result<(Vec<TestRun>, i64)> {
    let c = connections::get(ctx, instance_id, By::Id, connection_id).await?;
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(Error::param_value_invalid("status", format!("{bad:?} is not one of pending, success, failed.")));
    }
    let (rows, total) = store::list(&ctx.db, instance_id, &c.row.id, statuses, (limit, offset)).await?;
    let runs = rows.into_iter().map(|row| view(ctx, row)).collect::<Result<Vec<_>>>()?;
    Ok((runs, total))
}

fn view(ctx: &Ctx, row: TestRunRow) -> Result<TestRun> {
    let parsed_user_info = row.parsed_user_info.as_deref().and_then(|t| serde_json::from_str(t).ok());
    let logs = serde_json::from_str(&row.logs).unwrap_or_default();
    let artifacts = match &row.artifacts {
        Some(sealed) => {
            let text = ctx.secrets.open_string(ARTIFACTS_PURPOSE, sealed).map_err(Error::internal)?;
            serde_json::from_str(&text).unwrap_or_default()
        }
        None => Map::new(),
    };
    Ok(TestRun { row, parsed_user_info, logs, artifacts })
}

/// A run by id, for its result page (404 for an unknown one).
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<TestRun> {
    let row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(|| Error::not_found("test run"))?;
    view(ctx, row)
}

/// `GET {frontend host}/enterprise-sso/test/{token}`: opens the run (once, before it expires) and records the
/// request to the IdP; returns the IdP URL to send the browser to. A connection that cannot start (an OIDC IdP
/// that cannot be reached) fails the run, and the browser is sent to its result page instead.
pub async fn open(ctx: &Ctx, instance: &Instance, token: &str) -> Result<String> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let run = store::open(&mut tx, &ctx.secrets.digest(token), now).await?;
    tx.commit().await?;
    let run = run
        .filter(|r| r.instance_id == instance.id)
        .ok_or_else(|| Error::not_found("test run (the link is unknown, expired, or was opened before)"))?;
    let c = connections::get(ctx, &instance.id, By::Id, &run.connection_id).await?;
    let start = Start {
        redirect_url: None,
        action_complete_redirect_url: None,
        base_url: format!("https://{}", instance.frontend_host()),
    };
    let plan = match super::plan(instance, &c).await {
        Ok(p) => p,
        Err(e) => return record(ctx, instance, &c, &run.id, Err(e), Map::new()).await,
    };
    // The result page is Tessera's: no return URL of clerk-js's to check.
    let ready = super::Ready { connection: c, plan, redirect_url: String::new(), start };
    let mut tx = ctx.db.begin().await?;
    let url = ready.start_tx(ctx, &mut tx, instance, Attempt::TestRun(&run.id), None).await?;
    tx.commit().await?;
    Ok(url)
}

/// Records the outcome of a run — the identity its IdP's answer verified into, or why it was refused — with the
/// raw exchange; returns the path of its result page. Nothing is signed in.
pub(crate) async fn record(
    ctx: &Ctx,
    instance: &Instance,
    c: &EnterpriseConnection,
    run_id: &str,
    outcome: Result<Identity>,
    artifacts: Map<String, Value>,
) -> Result<String> {
    let mut row = store::get(&ctx.db, &instance.id, run_id).await?.ok_or_else(|| Error::not_found("test run"))?;
    let mut logs: Vec<Value> = serde_json::from_str(&row.logs).unwrap_or_default();
    logs.push(log("info", "idp_answer_received", "The identity provider's answer arrived."));
    let mut parsed = None;
    let failed = match outcome {
        Ok(who) => {
            let mut user = Map::new();
            user.insert("user_id".into(), Value::String(who.subject.clone()));
            user.insert("email_address".into(), Value::String(who.email.clone()));
            for (k, v) in [("first_name", &who.first_name), ("last_name", &who.last_name)] {
                if let Some(v) = v {
                    user.insert(k.into(), Value::String(v.clone()));
                }
            }
            parsed = Some(Value::Object(user).to_string());
            if finish::in_connection_domains(c, &who.email) {
                logs.push(log(
                    "info",
                    "test_run_succeeded",
                    "The answer verified: it would sign this person in (test mode: no user or session was made).",
                ));
                false
            } else {
                logs.push(log(
                    "error",
                    "email_domain_mismatch",
                    "The e-mail address is not in the connection's domains.",
                ));
                true
            }
        }
        Err(e) => {
            let item = e.items().first();
            let code = item.map_or("error", |i| i.code.as_str());
            let message = item.map_or_else(|| e.to_string(), |i| i.long_message.clone());
            logs.push(log("error", code, &message));
            true
        }
    };
    row.status = if failed { "failed" } else { "success" }.into();
    row.parsed_user_info = parsed;
    row.logs = Value::Array(logs).to_string();
    row.artifacts = (!artifacts.is_empty())
        .then(|| ctx.secrets.seal(ARTIFACTS_PURPOSE, Value::Object(artifacts).to_string().as_bytes()));
    row.updated_at = ctx.now_ms();
    store::finish(&ctx.db, &row).await?;
    Ok(format!("https://{}{}", instance.frontend_host(), result_path(run_id)))
}
