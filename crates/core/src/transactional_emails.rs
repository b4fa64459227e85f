//! The transactional e-mail API (`emails.create` / `createBatch` / `get` of `@clerk/backend` 3.x; in no spec
//! revision): an app sends its own e-mail through the instance, to an address or to a user's primary address.
//!
//! Delivery is the existing sender's: the SMTP relay when one is configured; for development instances without
//! one, the development outbox. A production instance without a relay is refused (`delivery_not_configured`), and
//! its sender must be at the instance's primary domain (Clerk: "the instance's verified production sending
//! domain").
//!
//! Idempotency: a request with an `Idempotency-Key` is recorded (with a keyed digest of the request) BEFORE it is
//! sent, so that a retry with the same key and request returns the same e-mail without sending again, and the same
//! key with another request is a 409. A concurrent duplicate loses on the unique index and is answered the same way.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};
use tessera_store::transactional_emails::{self as store, EmailRow};

use crate::ids::new_id;
use crate::instances::{Environment, Instance};
use crate::sender::{self, Channel, Message};
use crate::settings::validate;
use crate::{Ctx, Error, ErrorCode, Result};

/// Most recipients across `to`, `cc` and `bcc`.
const MAX_RECIPIENTS: usize = 50;
/// Largest combined UTF-8 size of the HTML and text bodies.
const MAX_BODY_BYTES: usize = 50_000;
/// Most attachments, and their largest combined decoded size.
const MAX_ATTACHMENTS: usize = 10;
const MAX_ATTACHMENT_BYTES: usize = 1024 * 1024;
/// Headers an app may set: threading, unsubscribe, and its own `X-…` ones. The rest are the provider's.
const ALLOWED_HEADERS: &[&str] = &["in-reply-to", "references", "list-unsubscribe", "list-unsubscribe-post"];

/// A mailbox: an address and an optional display name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxInput {
    /// The address.
    pub address: String,
    /// Display name, up to 200 characters.
    pub name: Option<String>,
}

/// The recipient: an address, or a user whose primary address is used.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    /// The address.
    pub address: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// A user of the instance.
    pub user_id: Option<String>,
}

/// An attachment: a file name and base64 content.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    /// File name.
    pub filename: String,
    /// Base64 content.
    pub content: String,
}

/// One e-mail to send, as `@clerk/backend` sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEmail {
    /// The recipient.
    pub to: RecipientInput,
    /// The sender.
    pub from: MailboxInput,
    /// The `Reply-To` mailbox.
    pub reply_to: Option<MailboxInput>,
    /// Subject, up to 998 characters.
    pub subject: String,
    /// Copies.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind copies.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Attachments.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    /// HTML body (takes precedence).
    pub html: Option<String>,
    /// Text body.
    pub text: Option<String>,
}

/// A sent (or being sent) e-mail.
#[derive(Debug, Clone)]
pub struct Email {
    /// The row.
    pub row: EmailRow,
}

impl Email {
    /// The local part of the sender address (`from_email_name`).
    pub fn from_email_name(&self) -> &str {
        self.row.from_address.split('@').next().unwrap_or_default()
    }
}

/// Sends one e-mail; `prefix` names the parameters of a batch item (`messages[3].`). `key` is its idempotency key.
pub async fn send(ctx: &Ctx, instance: &Instance, email: NewEmail, key: Option<&str>, prefix: &str) -> Result<Email> {
    let p = |name: &str| format!("{prefix}{name}");
    if let Some(key) = key
        && (!(1..=255).contains(&key.len())
            || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return Err(Error::param_format_invalid(
            &p("idempotency_key"),
            "Idempotency keys contain only ASCII letters, digits, underscores and hyphens, up to 255 characters.",
        ));
    }
    // The digest is of the request as received, so a retry is recognised before any look-up.
    let canonical = serde_json::to_string(&email).map_err(Error::internal)?;
    let digest = hex::encode(ctx.secrets.digest(&canonical));
    let composed = compose(ctx, instance, &email, &p).await?;
    if instance.environment == Environment::Production && !ctx.sender.has_smtp() {
        return Err(Error::with(
            ErrorCode::DeliveryNotConfigured,
            ErrorCode::DeliveryNotConfigured.message(),
            "No SMTP server is configured, so e-mail cannot be sent for a production instance.",
            None,
        ));
    }
    let now = ctx.now_ms();
    let row = EmailRow {
        id: new_id("ema"),
        instance_id: instance.id.clone(),
        idempotency_key: key.map(str::to_owned),
        request_digest: digest,
        user_id: composed.user_id.clone(),
        email_address_id: composed.email_address_id.clone(),
        to_email_address: composed.to.email.to_string(),
        from_address: composed.from.email.to_string(),
        subject: email.subject.clone(),
        body: email.html.clone().or_else(|| email.text.clone()).unwrap_or_default(),
        body_plain: email.text.clone(),
        status: "queued".into(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    if let Some(key) = key
        && let Some(existing) = store::by_key(&mut tx, &instance.id, key).await?
    {
        return same_request(existing, &row.request_digest);
    }
    match store::insert(&mut tx, &row).await {
        Ok(()) => tx.commit().await?,
        Err(e) if e.is_unique_violation() => {
            // A concurrent request with the same key won; answer as a retry of it.
            drop(tx);
            let mut tx = ctx.db.begin().await?;
            let existing = store::by_key(&mut tx, &instance.id, key.unwrap_or_default()).await?;
            return same_request(existing.ok_or_else(|| Error::internal(e))?, &row.request_digest);
        }
        Err(e) => return Err(e.into()),
    }
    let status = deliver(ctx, instance, &row, composed).await;
    let status_text = if status.is_ok() { "accepted" } else { "failed" };
    store::set_status(&ctx.db, &instance.id, &row.id, status_text, ctx.now_ms()).await?;
    status?;
    get(ctx, &instance.id, &row.id).await
}

/// An e-mail of the instance.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Email> {
    let row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(|| Error::not_found("email"))?;
    Ok(Email { row })
}

/// The stored e-mail of a key, if it was sent for the same request; 409 otherwise.
fn same_request(existing: EmailRow, digest: &str) -> Result<Email> {
    if existing.request_digest == digest {
        return Ok(Email { row: existing });
    }
    Err(Error::with(
        ErrorCode::Conflict,
        "idempotency key reused",
        "This Idempotency-Key was already used for a request with other parameters. Reuse a key only with an \
         identical request.",
        None,
    ))
}

/// A validated e-mail, ready for the relay.
struct Composed {
    from: Mailbox,
    to: Mailbox,
    reply_to: Option<Mailbox>,
    cc: Vec<Mailbox>,
    bcc: Vec<Mailbox>,
    headers: Vec<(String, String)>,
    attachments: Vec<(String, Vec<u8>)>,
    user_id: Option<String>,
    email_address_id: Option<String>,
}

fn mailbox(param: &str, address: &str, name: Option<&str>) -> Result<Mailbox> {
    let address = validate::email(param, address)?;
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(Error::param_value_invalid(param, "A display name has at most 200 characters."));
    }
    let email =
        address.parse().map_err(|_| Error::param_format_invalid(param, format!("{param} is not an address.")))?;
    Ok(Mailbox::new(name.map(str::to_owned), email))
}

async fn compose(
    ctx: &Ctx,
    instance: &Instance,
    e: &NewEmail,
    p: &(dyn Fn(&str) -> String + Sync),
) -> Result<Composed> {
    let from = mailbox(&p("from.address"), &e.from.address, e.from.name.as_deref())?;
    if instance.environment == Environment::Production {
        let domain = crate::domains::primary_domain(ctx, instance).await?.name;
        if !from.email.domain().eq_ignore_ascii_case(&domain) {
            return Err(Error::param_value_invalid(
                &p("from.address"),
                format!("The sender's domain must be the instance's domain, {domain}."),
            ));
        }
    }
    let (to, user_id, email_address_id) = match (&e.to.address, &e.to.user_id) {
        (Some(address), None) => (mailbox(&p("to.address"), address, e.to.name.as_deref())?, None, None),
        (None, Some(user_id)) => {
            let user = crate::users::get_user(ctx, &instance.id, user_id).await?;
            let primary = user
                .primary_email_address_id
                .as_deref()
                .and_then(|id| user.email_addresses.iter().find(|i| i.id == id))
                .ok_or_else(|| {
                    Error::param_value_invalid(&p("to.user_id"), "This user has no primary email address.")
                })?;
            let to = mailbox(&p("to.user_id"), &primary.value, e.to.name.as_deref())?;
            (to, Some(user.id.clone()), Some(primary.id.clone()))
        }
        _ => {
            return Err(Error::param_value_invalid(&p("to"), "Give the recipient's address or user_id, not both."));
        }
    };
    let reply_to = e.reply_to.as_ref().map(|m| mailbox(&p("reply_to.address"), &m.address, m.name.as_deref()));
    let subject = e.subject.trim();
    if subject.is_empty() || e.subject.chars().count() > 998 || e.subject.contains(['\r', '\n']) {
        return Err(Error::param_value_invalid(&p("subject"), "subject is 1 to 998 characters on one line."));
    }
    let body_bytes = e.html.as_deref().map_or(0, str::len) + e.text.as_deref().map_or(0, str::len);
    if e.html.as_deref().is_none_or(str::is_empty) && e.text.as_deref().is_none_or(str::is_empty) {
        return Err(Error::param_missing(&p("html")));
    }
    if body_bytes > MAX_BODY_BYTES {
        return Err(Error::param_value_invalid(&p("html"), "html and text together are at most 50,000 bytes."));
    }
    let copies = |field: &str, list: &[String]| -> Result<Vec<Mailbox>> {
        list.iter().enumerate().map(|(i, a)| mailbox(&p(&format!("{field}[{i}]")), a, None)).collect()
    };
    let (cc, bcc) = (copies("cc", &e.cc)?, copies("bcc", &e.bcc)?);
    let mut seen = HashSet::new();
    for m in std::iter::once(&to).chain(&cc).chain(&bcc) {
        if !seen.insert(m.email.to_string().to_ascii_lowercase()) {
            return Err(Error::param_value_invalid(&p("cc"), format!("{} is a recipient twice.", m.email)));
        }
    }
    if seen.len() > MAX_RECIPIENTS {
        return Err(Error::param_value_invalid(&p("cc"), "At most 50 recipients across to, cc and bcc."));
    }
    let mut headers = Vec::new();
    for (name, value) in &e.headers {
        let lower = name.to_ascii_lowercase();
        let valid_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid_name || !(lower.starts_with("x-") || ALLOWED_HEADERS.contains(&lower.as_str())) {
            return Err(Error::param_value_invalid(
                &p(&format!("headers.{name}")),
                "Only threading (In-Reply-To, References), List-Unsubscribe and X-… headers may be set.",
            ));
        }
        if value.contains(['\r', '\n']) {
            return Err(Error::param_format_invalid(&p(&format!("headers.{name}")), "A header value is one line."));
        }
        headers.push((name.clone(), value.clone()));
    }
    if e.attachments.len() > MAX_ATTACHMENTS {
        return Err(Error::param_value_invalid(&p("attachments"), "At most 10 attachments."));
    }
    let mut attachments = Vec::new();
    for (i, a) in e.attachments.iter().enumerate() {
        let param = p(&format!("attachments[{i}].content"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&a.content)
            .map_err(|_| Error::param_format_invalid(&param, "content is base64."))?;
        if a.filename.trim().is_empty() || a.filename.contains(['\r', '\n', '/', '\\']) {
            return Err(Error::param_value_invalid(&p(&format!("attachments[{i}].filename")), "Not a file name."));
        }
        attachments.push((a.filename.clone(), bytes));
    }
    if attachments.iter().map(|(_, b)| b.len()).sum::<usize>() > MAX_ATTACHMENT_BYTES {
        return Err(Error::param_value_invalid(&p("attachments"), "Attachments are at most 1 MiB together."));
    }
    Ok(Composed { from, to, reply_to: reply_to.transpose()?, cc, bcc, headers, attachments, user_id, email_address_id })
}

/// Hands the e-mail to the relay, or (development instances without one) to the development outbox.
async fn deliver(ctx: &Ctx, instance: &Instance, row: &EmailRow, c: Composed) -> Result<()> {
    let mut builder = lettre::Message::builder().from(c.from).to(c.to).subject(row.subject.clone());
    if let Some(reply_to) = c.reply_to {
        builder = builder.reply_to(reply_to);
    }
    for m in c.cc {
        builder = builder.cc(m);
    }
    for m in c.bcc {
        builder = builder.bcc(m);
    }
    for (name, value) in c.headers {
        let name = HeaderName::new_from_ascii(name).map_err(Error::internal)?;
        builder = builder.raw_header(HeaderValue::new(name, value));
    }
    let html = (row.body_plain.as_deref() != Some(row.body.as_str())).then(|| row.body.clone());
    let content = match (&html, &row.body_plain) {
        (Some(html), Some(text)) => MultiPart::alternative_plain_html(text.clone(), html.clone()),
        (Some(html), None) => MultiPart::mixed().singlepart(SinglePart::html(html.clone())),
        (None, _) => MultiPart::mixed().singlepart(SinglePart::plain(row.body.clone())),
    };
    let mut mixed = MultiPart::mixed().multipart(content);
    for (filename, bytes) in c.attachments {
        let kind = ContentType::parse("application/octet-stream").map_err(Error::internal)?;
        mixed = mixed.singlepart(Attachment::new(filename).body(bytes, kind));
    }
    let email = builder.multipart(mixed).map_err(Error::internal)?;
    if sender::relay(ctx, email).await? {
        return Ok(());
    }
    // No relay: a development instance (production ones were refused before anything was recorded).
    let copy = Message {
        channel: Channel::Email,
        to: row.to_email_address.clone(),
        subject: row.subject.clone(),
        body: row.body_plain.clone().unwrap_or_else(|| row.body.clone()),
    };
    let mut tx = ctx.db.begin().await?;
    sender::capture_email(ctx, &mut tx, instance, &copy, &row.id).await?;
    tx.commit().await?;
    Ok(())
}
