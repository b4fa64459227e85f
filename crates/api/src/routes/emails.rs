//! The transactional e-mail API of `@clerk/backend` 3.x (`emails.create` / `createBatch` / `get`; in no spec
//! revision): `POST /v1/email` (with an optional `Idempotency-Key` header), `POST /v1/email/batch` (1–100
//! messages, each with an optional `idempotency_key`, one result per message in order) and `GET /v1/email/{id}`.

use crate::json::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::transactional_emails::{self as emails, NewEmail};
use tessera_core::{Error, ErrorMeta};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{Body, SecretKey, data_error};
use crate::objects::email::EmailObject;

/// Most messages of a batch.
const MAX_BATCH: usize = 100;

/// `POST /v1/email`
pub async fn create_email(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    headers: HeaderMap,
    Body(email): Body<NewEmail>,
) -> ApiResult<Response> {
    static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
    let key = match headers.get(&IDEMPOTENCY_KEY) {
        Some(v) => Some(v.to_str().map_err(|_| {
            Error::param_format_invalid(
                "Idempotency-Key",
                "The Idempotency-Key header is ASCII letters, digits, _ and -.",
            )
        })?),
        None => None,
    };
    let sent = emails::send(&app.ctx, &instance, email, key, "").await?;
    Ok(Json(EmailObject::new(&sent)).into_response())
}

/// Body of `POST /v1/email/batch`. Items are parsed one by one: a bad item is that item's error, not the batch's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    messages: Vec<serde_json::Map<String, Value>>,
}

/// One item's Clerk error, as `parseError` of `@clerk/shared` reads it.
#[derive(Debug, Serialize)]
struct ErrorObject<'a> {
    message: &'a str,
    long_message: &'a str,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<&'a ErrorMeta>,
}

/// One result of a batch: the e-mail, or the errors and the status the item alone would have had.
#[derive(Debug, Serialize)]
struct BatchResult<'a> {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<EmailObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<ErrorObject<'a>>>,
    status_code: u16,
}

/// `POST /v1/email/batch`
pub async fn create_email_batch(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<BatchBody>,
) -> ApiResult<Response> {
    if b.messages.is_empty() || b.messages.len() > MAX_BATCH {
        return Err(Error::param_value_invalid("messages", "A batch has 1 to 100 messages.").into());
    }
    let mut outcomes = Vec::with_capacity(b.messages.len());
    for (i, mut message) in b.messages.into_iter().enumerate() {
        let prefix = format!("messages[{i}].");
        let key = match message.remove("idempotency_key") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(k)) => Ok(Some(k)),
            Some(_) => Err(Error::param_format_invalid(&format!("{prefix}idempotency_key"), "A string.")),
        };
        let parsed = key.and_then(|key| {
            serde_path_to_error::deserialize::<_, NewEmail>(Value::Object(message))
                .map(|email| (email, key))
                .map_err(|e| data_error(&format!("{prefix}{}", e.path()), &e.into_inner().to_string()))
        });
        // Each message commits independently, in order.
        let outcome = match parsed {
            Ok((email, key)) => emails::send(&app.ctx, &instance, email, key.as_deref(), &prefix).await,
            Err(e) => Err(e),
        };
        outcomes.push(outcome);
    }
    let results: Vec<BatchResult<'_>> = outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(email) => BatchResult { index, email: Some(EmailObject::new(email)), errors: None, status_code: 200 },
            Err(e) => BatchResult {
                index,
                email: None,
                errors: Some(
                    e.items()
                        .iter()
                        .map(|item| ErrorObject {
                            message: &item.message,
                            long_message: &item.long_message,
                            code: item.code.as_str(),
                            meta: item.meta.as_ref(),
                        })
                        .collect(),
                ),
                status_code: e.status(),
            },
        })
        .collect();
    Ok(Json(results).into_response())
}

/// `GET /v1/email/{email_id}`
pub async fn get_email(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let email = emails::get(&app.ctx, &instance.id, &id).await?;
    Ok(Json(EmailObject::new(&email)).into_response())
}
