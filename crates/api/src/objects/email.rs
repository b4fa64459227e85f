//! The `email` object of the transactional e-mail API, as `@clerk/backend`'s `Email.fromJSON` reads it.

use serde::Serialize;
use tessera_core::transactional_emails::Email;

/// `Email`.
#[derive(Debug, Serialize)]
pub struct EmailObject<'a> {
    object: &'static str,
    id: &'a str,
    slug: Option<&'a str>,
    from_email_name: &'a str,
    to_email_address: &'a str,
    email_address_id: Option<&'a str>,
    user_id: Option<&'a str>,
    subject: &'a str,
    body: &'a str,
    body_plain: Option<&'a str>,
    status: &'a str,
    data: Option<()>,
    delivered_by_clerk: bool,
    suppression_reason: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> EmailObject<'a> {
    /// The object of an e-mail.
    pub fn new(e: &'a Email) -> Self {
        let r = &e.row;
        Self {
            object: "email",
            id: &r.id,
            // Transactional e-mails come from no template.
            slug: None,
            from_email_name: e.from_email_name(),
            to_email_address: &r.to_email_address,
            email_address_id: r.email_address_id.as_deref(),
            user_id: r.user_id.as_deref(),
            subject: &r.subject,
            body: &r.body,
            body_plain: r.body_plain.as_deref(),
            status: &r.status,
            data: None,
            delivered_by_clerk: true,
            suppression_reason: None,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
