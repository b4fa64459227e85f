//! Delivery of verification codes and invitations: SMTP (lettre) when configured, and for development
//! instances a captured outbox (`outbox_messages`, printed by `tessera outbox` and announced in the log).
//!
//! What is logged: a captured message's instance, channel, recipient and subject. Subjects of code messages
//! carry the code ("123456 is your verification code"), which is the point of a development outbox; bodies
//! (which could carry links) are never logged, and production instances capture and log nothing.

use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tessera_store::Tx;
use tessera_store::outbox::OutboxRow;

use crate::ids::new_id;
use crate::instances::{Environment, Instance};
use crate::{Ctx, Error, ErrorCode, Result};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// E-mail.
    Email,
    /// SMS (no SMS provider is built in: only development instances can "send" them, into the outbox).
    Sms,
}

impl Channel {
    /// `email` / `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

/// A message to one recipient.
#[derive(Debug, Clone)]
pub struct Message {
    /// Channel.
    pub channel: Channel,
    /// E-mail address or E.164 phone number.
    pub to: String,
    /// Subject (SMS: a summary, shown in the outbox).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Transport security of the SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (local relays, tests).
    None,
    /// STARTTLS upgrade (port 587).
    StartTls,
    /// Implicit TLS (port 465).
    Tls,
}

/// SMTP settings.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Relay host.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// Security.
    pub security: SmtpSecurity,
    /// Login, if the relay needs one.
    pub username: Option<String>,
    /// Password (never logged).
    pub password: Option<String>,
    /// `From` mailbox, e.g. `Example <notifications@example.com>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("from", &self.from)
            .finish()
    }
}

/// The configured delivery: SMTP or nothing (then only development instances can deliver, into the outbox).
#[derive(Clone, Default)]
pub struct Sender {
    smtp: Option<(Arc<AsyncSmtpTransport<Tokio1Executor>>, Mailbox)>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("smtp", &self.smtp.as_ref().map(|(_, from)| from.to_string())).finish()
    }
}

impl Sender {
    /// A sender over SMTP.
    pub fn smtp(config: &SmtpConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config.from.parse().map_err(|e| anyhow::anyhow!("invalid SMTP from address: {e}"))?;
        let mut builder = match config.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
        }
        .port(config.port)
        .timeout(Some(std::time::Duration::from_secs(15)));
        if let (Some(user), Some(pass)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Self { smtp: Some((Arc::new(builder.build()), from)) })
    }

    /// Whether e-mail goes out over SMTP.
    pub fn has_smtp(&self) -> bool {
        self.smtp.is_some()
    }
}

fn not_configured(channel: Channel) -> Error {
    let what = match channel {
        Channel::Email => "No SMTP server is configured, so e-mail cannot be sent for a production instance.",
        Channel::Sms => "No SMS provider is configured, so SMS cannot be sent for a production instance.",
    };
    Error::with(ErrorCode::DeliveryNotConfigured, ErrorCode::DeliveryNotConfigured.message(), what, None)
}

/// Sends a message over the configured external transport. Call it before opening the transaction that
/// records what was sent (the SMTP exchange must not hold the writer). Development instances without a
/// transport succeed here: [`capture`] records the message instead. Production instances without one fail.
pub async fn send_external(ctx: &Ctx, instance: &Instance, msg: &Message) -> Result<()> {
    let dev = instance.environment == Environment::Development;
    match (msg.channel, &ctx.sender.smtp) {
        (Channel::Email, Some((transport, from))) => {
            let to: Mailbox =
                msg.to.parse().map_err(|e| Error::internal(anyhow::anyhow!("recipient is not a mailbox: {e}")))?;
            let email = lettre::Message::builder()
                .from(from.clone())
                .to(to)
                .subject(msg.subject.clone())
                .body(msg.body.clone())
                .map_err(Error::internal)?;
            transport.send(email).await.map_err(|e| Error::internal(anyhow::anyhow!("SMTP delivery failed: {e}")))?;
            Ok(())
        }
        _ if dev => Ok(()),
        (channel, _) => Err(not_configured(channel)),
    }
}

/// Records a message of a development instance in the outbox (in the caller's transaction) and announces it in
/// the log. Production instances capture nothing.
pub async fn capture(ctx: &Ctx, tx: &mut Tx, instance: &Instance, msg: &Message) -> Result<()> {
    capture_copy(ctx, tx, instance, msg, None).await
}

/// [`capture`], remembering the id of the message this is a copy of (erasing the message erases its copies).
async fn capture_copy(ctx: &Ctx, tx: &mut Tx, instance: &Instance, msg: &Message, of: Option<&str>) -> Result<()> {
    if instance.environment != Environment::Development {
        return Ok(());
    }
    let row = OutboxRow {
        id: new_id("msg"),
        instance_id: instance.id.clone(),
        channel: msg.channel.as_str().to_owned(),
        recipient: msg.to.clone(),
        subject: msg.subject.clone(),
        body: msg.body.clone(),
        created_at: ctx.now_ms(),
        email_id: of.map(str::to_owned),
    };
    tessera_store::outbox::insert(tx, &row).await?;
    tracing::info!(
        instance_id = %instance.id,
        channel = msg.channel.as_str(),
        to = %msg.to,
        subject = %msg.subject,
        "development outbox: message captured (tessera outbox shows it)"
    );
    Ok(())
}

/// A message made from one of the instance's templates (see [`crate::templates`]).
#[derive(Debug, Clone)]
pub struct TemplatedMessage {
    /// Channel (e-mail templates for e-mail, SMS templates for SMS).
    pub channel: Channel,
    /// The template (`verification_code`, `invitation`…).
    pub slug: &'static str,
    /// E-mail address or E.164 phone number.
    pub to: String,
    /// The user it is for, if any.
    pub user_id: Option<String>,
    /// The e-mail address or phone number object it is for, if any.
    pub identification_id: Option<String>,
    /// The template variables (an object); the sender adds `app` and `theme`.
    pub data: serde_json::Value,
}

/// A rendered message, already handed to the transport if its template is delivered by Tessera. [`record`] it in
/// the transaction of the change that caused it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// `ema_…` / `sms_…`
    pub id: String,
    /// What was asked for (with the complete template data).
    pub message: TemplatedMessage,
    /// What the template made of it.
    pub composed: crate::templates::Composed,
    /// Unix ms.
    pub created_at: i64,
}

/// Renders `msg` with the instance's template and, unless delivery by Tessera is turned off for that template,
/// sends it. Call it before opening the transaction that records the change (an SMTP exchange must not hold the
/// writer); then [`record`] the result inside that transaction.
pub async fn prepare(ctx: &Ctx, instance: &Instance, mut msg: TemplatedMessage) -> Result<Prepared> {
    let (t, prefix) = match msg.channel {
        Channel::Email => (crate::templates::TemplateType::Email, "ema"),
        Channel::Sms => (crate::templates::TemplateType::Sms, "sms"),
    };
    let composed = crate::templates::compose(ctx, instance, t, msg.slug, &mut msg.data).await?;
    let prepared = Prepared { id: new_id(prefix), message: msg, composed, created_at: ctx.now_ms() };
    if prepared.composed.delivered_by_clerk {
        deliver(ctx, instance, &prepared).await?;
    }
    Ok(prepared)
}

impl Prepared {
    /// The message in the development outbox's terms (subject: the e-mail subject, or the SMS itself).
    fn outbox_message(&self) -> Message {
        let c = &self.composed;
        let subject = c.subject.clone().unwrap_or_else(|| c.text.lines().next().unwrap_or_default().to_owned());
        Message { channel: self.message.channel, to: self.message.to.clone(), subject, body: c.text.clone() }
    }

    /// The `email` / `sms_message` object of the `email.created` / `sms.created` event.
    pub fn event_data(&self) -> serde_json::Value {
        let (m, c) = (&self.message, &self.composed);
        match m.channel {
            Channel::Email => serde_json::json!({
                "object": "email",
                "id": self.id,
                "slug": m.slug,
                "from_email_name": c.from_email_name.clone().unwrap_or_default(),
                "reply_to_email_name": c.reply_to_email_name,
                "to_email_address": m.to,
                "email_address_id": m.identification_id,
                "user_id": m.user_id,
                "subject": c.subject.clone().unwrap_or_default(),
                "body": c.html.clone().unwrap_or_else(|| c.text.clone()),
                "body_plain": c.text,
                "status": "queued",
                "data": m.data,
                "delivered_by_clerk": c.delivered_by_clerk,
                "created_at": self.created_at,
            }),
            Channel::Sms => serde_json::json!({
                "object": "sms_message",
                "id": self.id,
                "slug": m.slug,
                // No SMS provider is built in, so there is no sending number.
                "from_phone_number": "",
                "to_phone_number": m.to,
                "phone_number_id": m.identification_id,
                "user_id": m.user_id,
                "message": c.text,
                "status": "queued",
                "data": m.data,
                "delivered_by_clerk": c.delivered_by_clerk,
                "created_at": self.created_at,
                "created_at_ms": self.created_at,
            }),
        }
    }
}

/// Hands a prepared message to the external transport (SMTP: text and HTML alternatives). Development instances
/// without a transport succeed ([`record`] captures the message); production instances without one fail.
async fn deliver(ctx: &Ctx, instance: &Instance, p: &Prepared) -> Result<()> {
    let dev = instance.environment == Environment::Development;
    match (p.message.channel, &ctx.sender.smtp) {
        (Channel::Email, Some((transport, from))) => {
            let to: Mailbox = p
                .message
                .to
                .parse()
                .map_err(|e| Error::internal(anyhow::anyhow!("recipient is not a mailbox: {e}")))?;
            let builder = lettre::Message::builder()
                .from(from.clone())
                .to(to)
                .subject(p.composed.subject.clone().unwrap_or_default());
            let email = match &p.composed.html {
                Some(html) => builder.multipart(lettre::message::MultiPart::alternative_plain_html(
                    p.composed.text.clone(),
                    html.clone(),
                )),
                None => builder.body(p.composed.text.clone()),
            }
            .map_err(Error::internal)?;
            transport.send(email).await.map_err(|e| Error::internal(anyhow::anyhow!("SMTP delivery failed: {e}")))?;
            Ok(())
        }
        _ if dev => Ok(()),
        (channel, _) => Err(not_configured(channel)),
    }
}

/// Records a prepared message in the caller's transaction: the development outbox (when Tessera delivers it) and
/// the `email.created` / `sms.created` event (always: with delivery turned off, the app sends it from the event).
pub async fn record(ctx: &Ctx, tx: &mut Tx, instance: &Instance, p: &Prepared) -> Result<()> {
    if p.composed.delivered_by_clerk {
        capture_copy(ctx, tx, instance, &p.outbox_message(), Some(&p.id)).await?;
    }
    let event = match p.message.channel {
        Channel::Email => crate::events::EventType::EmailCreated,
        Channel::Sms => crate::events::EventType::SmsCreated,
    };
    crate::events::emit(ctx, tx, &instance.id, event, &p.event_data()).await
}

/// Hands an e-mail composed by the caller (its own `From`) to the SMTP relay. `Ok(false)`: no relay is configured.
pub async fn relay(ctx: &Ctx, email: lettre::Message) -> Result<bool> {
    let Some((transport, _)) = &ctx.sender.smtp else { return Ok(false) };
    transport.send(email).await.map_err(|e| Error::internal(anyhow::anyhow!("SMTP delivery failed: {e}")))?;
    Ok(true)
}

/// Records a copy of an e-mail in the development outbox (in the caller's transaction), remembering its id so that
/// erasing the e-mail erases the copy.
pub async fn capture_email(ctx: &Ctx, tx: &mut Tx, instance: &Instance, msg: &Message, email_id: &str) -> Result<()> {
    capture_copy(ctx, tx, instance, msg, Some(email_id)).await
}

/// Erases the stored copies of a message recorded by [`record`]: its development-outbox copy and its
/// `email.created` / `sms.created` event (with the event's deliveries, pending ones included).
pub async fn erase_copies(tx: &mut Tx, instance_id: &str, message_id: &str) -> Result<()> {
    tessera_store::outbox::delete_copies(tx, instance_id, message_id).await?;
    for event in [crate::events::EventType::EmailCreated, crate::events::EventType::SmsCreated] {
        tessera_store::webhooks::delete_events_about(tx, instance_id, event.as_str(), message_id).await?;
    }
    Ok(())
}

/// A time as Clerk's templates show it: `23 November 2026, 12:14 UTC`.
pub fn format_time(unix_ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let secs = unix_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!("{day} {name} {year}, {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

/// The newest captured messages, newest first.
pub async fn outbox(ctx: &Ctx, instance_id: Option<&str>, limit: i64) -> Result<Vec<OutboxRow>> {
    Ok(tessera_store::outbox::list(&ctx.db, instance_id, limit.clamp(1, 10_000)).await?)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    use super::*;
    use crate::Clock;
    use crate::crypto::MasterKey;

    /// A minimal SMTP server for one session: accepts everything and returns the commands and the DATA text.
    async fn one_smtp_session(listener: tokio::net::TcpListener) -> (Vec<String>, String) {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let (mut commands, mut data) = (Vec::new(), String::new());
        while let Some(line) = lines.next_line().await.unwrap() {
            let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            commands.push(line.clone());
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 test\r\n",
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    while let Some(l) = lines.next_line().await.unwrap() {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        (commands, data)
    }

    async fn ctx(sender: Sender) -> Ctx {
        let db = tessera_store::Db::connect(&tessera_store::DbTarget::SqliteMemory).await.unwrap();
        Ctx::new(db, Clock::System, &MasterKey::generate()).with_sender(sender)
    }

    fn instance(environment: Environment) -> Instance {
        Instance { id: "ins_test".into(), environment, publishable_key: String::new(), created_at: 0, updated_at: 0 }
    }

    #[test]
    fn formats_times_as_clerk() {
        assert_eq!(format_time(0), "1 January 1970, 00:00 UTC");
        assert_eq!(format_time(1_661_861_640_000), "30 August 2022, 12:14 UTC");
        assert_eq!(format_time(1_709_164_800_000), "29 February 2024, 00:00 UTC");
    }

    #[tokio::test]
    async fn smtp_delivers_the_message() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(one_smtp_session(listener));
        let config = SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "Tessera <notifications@example.com>".into(),
        };
        let ctx = ctx(Sender::smtp(&config).unwrap()).await;
        assert!(ctx.sender.has_smtp());
        let msg = Message {
            channel: Channel::Email,
            to: "ada@example.com".into(),
            subject: "123456 is your verification code".into(),
            body: "Your verification code is 123456.".into(),
        };
        // Production instances deliver over SMTP.
        send_external(&ctx, &instance(Environment::Production), &msg).await.unwrap();
        let (commands, data) = server.await.unwrap();
        assert!(commands.iter().any(|c| c.starts_with("MAIL FROM:<notifications@example.com>")), "{commands:?}");
        assert!(commands.iter().any(|c| c.starts_with("RCPT TO:<ada@example.com>")), "{commands:?}");
        assert!(data.contains("Subject: 123456 is your verification code"), "{data}");
        assert!(data.contains("Your verification code is 123456."), "{data}");
        // SMS has no provider: production instances cannot send them even with SMTP.
        let sms = Message { channel: Channel::Sms, to: "+15555550100".into(), ..msg.clone() };
        let err = send_external(&ctx, &instance(Environment::Production), &sms).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::DeliveryNotConfigured);
        send_external(&ctx, &instance(Environment::Development), &sms).await.unwrap();
    }

    #[tokio::test]
    async fn a_failing_relay_is_an_internal_error() {
        // Nothing listens on this port once the listener is dropped.
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let config = SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "notifications@example.com".into(),
        };
        let ctx = ctx(Sender::smtp(&config).unwrap()).await;
        let msg =
            Message { channel: Channel::Email, to: "a@example.com".into(), subject: "s".into(), body: "b".into() };
        let err = send_external(&ctx, &instance(Environment::Development), &msg).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InternalClerkError);
        assert!(Sender::smtp(&SmtpConfig { from: "not a mailbox".into(), ..config }).is_err());
    }
}
