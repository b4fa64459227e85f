//! The built-in templates: Clerk's e-mail and SMS template slugs, with Tessera's own default wording (Handlebars,
//! with Clerk's variable names: `app.name`, `otp_code`, `action_url`, `magic_link`…).

use serde_json::{Value, json};

use super::TemplateType;

/// A built-in template.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Machine name.
    pub slug: &'static str,
    /// User-friendly name.
    pub name: &'static str,
    /// E-mail subject (`None` for SMS).
    pub subject: Option<&'static str>,
    /// E-mail: the HTML inside the shared layout; SMS: the whole message.
    pub content: &'static str,
    /// Variables the body must use.
    pub required_variables: &'static [&'static str],
    /// Variables the body may use, besides the common `app.*` and `theme.*`.
    pub variables: &'static [&'static str],
    /// Notification SMS templates can be switched off (Clerk: `can_toggle`).
    pub can_toggle: bool,
}

/// The local part of the From address of e-mails, unless a template says otherwise (as Clerk's).
pub const DEFAULT_FROM_EMAIL_NAME: &str = "notifications";

const CODE_VARS: &[&str] = &["otp_code", "requested_at", "requested_by"];
const LINK_VARS: &[&str] = &["magic_link", "ttl_minutes", "requested_at", "requested_by"];
const NOTICE_VARS: &[&str] = &["user.first_name", "user.last_name", "primary_email_address", "requested_at"];

const fn email(
    slug: &'static str,
    name: &'static str,
    subject: &'static str,
    content: &'static str,
    required_variables: &'static [&'static str],
    variables: &'static [&'static str],
) -> Builtin {
    Builtin { slug, name, subject: Some(subject), content, required_variables, variables, can_toggle: false }
}

const fn sms(
    slug: &'static str,
    name: &'static str,
    content: &'static str,
    required_variables: &'static [&'static str],
    variables: &'static [&'static str],
    can_toggle: bool,
) -> Builtin {
    Builtin { slug, name, subject: None, content, required_variables, variables, can_toggle }
}

/// The e-mail templates, in listing order (their position).
pub const EMAIL: &[Builtin] = &[
    email(
        "verification_code",
        "Verification code",
        "{{otp_code}} is your verification code",
        "<p>Enter this verification code to continue:</p><p class=\"code\">{{otp_code}}</p>\
         <p>It expires in 10 minutes. Do not share it with anyone.</p>\
         <p class=\"small\">Requested {{#if requested_by}}from {{requested_by}} {{/if}}at {{requested_at}}. If you \
         did not request it, ignore this e-mail.</p>",
        &["otp_code"],
        CODE_VARS,
    ),
    email(
        "reset_password_code",
        "Reset password code",
        "{{otp_code}} is your password reset code",
        "<p>Enter this code to reset your password:</p><p class=\"code\">{{otp_code}}</p>\
         <p>It expires in 10 minutes. Do not share it with anyone.</p>\
         <p class=\"small\">Requested {{#if requested_by}}from {{requested_by}} {{/if}}at {{requested_at}}. If you \
         did not request it, ignore this e-mail.</p>",
        &["otp_code"],
        CODE_VARS,
    ),
    email(
        "invitation",
        "Invitation",
        "You have been invited to join {{app.name}}",
        "<p>{{#if inviter_name}}{{inviter_name}} has invited you{{else}}You have been invited{{/if}} to join \
         {{app.name}}.</p><p><a class=\"button\" href=\"{{action_url}}\">Accept invitation</a></p>\
         <p class=\"small\">Or open this link: {{action_url}}</p>",
        &["action_url"],
        &["action_url", "inviter_name", "invitation.public_metadata"],
    ),
    email(
        "waitlist_invitation",
        "Waitlist invitation",
        "You are invited to join {{app.name}}",
        "<p>Good news: your spot on the {{app.name}} waitlist came up.</p>\
         <p><a class=\"button\" href=\"{{action_url}}\">Create your account</a></p>\
         <p class=\"small\">Or open this link: {{action_url}}</p>",
        &["action_url"],
        &["action_url", "invitation.public_metadata"],
    ),
    email(
        "waitlist_confirmation",
        "Waitlist confirmation",
        "You are on the {{app.name}} waitlist",
        "<p>Thanks for joining the {{app.name}} waitlist. We will e-mail you when your spot comes up.</p>",
        &[],
        &[],
    ),
    email(
        "organization_invitation",
        "Organization invitation",
        "{{#if inviter_name}}{{inviter_name}} invited you{{else}}You are invited{{/if}} to join {{org.name}}",
        "<p>{{#if inviter_name}}{{inviter_name}} has invited you{{else}}You have been invited{{/if}} to join the \
         {{org.name}} organization on {{app.name}}.</p>\
         <p><a class=\"button\" href=\"{{action_url}}\">Join {{org.name}}</a></p>\
         <p class=\"small\">Or open this link: {{action_url}}</p>",
        &["action_url"],
        &["action_url", "inviter_name", "org.name", "org.image_url"],
    ),
    email(
        "magic_link_sign_in",
        "Magic link - Sign in",
        "Your {{app.name}} sign-in link",
        "<p>Use this link to sign in to {{app.name}}:</p>\
         <p><a class=\"button\" href=\"{{magic_link}}\">Sign in</a></p>\
         <p class=\"small\">It expires in {{ttl_minutes}} minutes. Requested at {{requested_at}}. If you did not \
         request it, ignore this e-mail.</p>",
        &["magic_link"],
        LINK_VARS,
    ),
    email(
        "magic_link_sign_up",
        "Magic link - Sign up",
        "Your {{app.name}} sign-up link",
        "<p>Use this link to finish signing up to {{app.name}}:</p>\
         <p><a class=\"button\" href=\"{{magic_link}}\">Sign up</a></p>\
         <p class=\"small\">It expires in {{ttl_minutes}} minutes. Requested at {{requested_at}}. If you did not \
         request it, ignore this e-mail.</p>",
        &["magic_link"],
        LINK_VARS,
    ),
    email(
        "magic_link_user_profile",
        "Magic link - Verify email",
        "Verify your e-mail address for {{app.name}}",
        "<p>Use this link to verify your e-mail address:</p>\
         <p><a class=\"button\" href=\"{{magic_link}}\">Verify e-mail address</a></p>\
         <p class=\"small\">It expires in {{ttl_minutes}} minutes. Requested at {{requested_at}}. If you did not \
         request it, ignore this e-mail.</p>",
        &["magic_link"],
        LINK_VARS,
    ),
    email(
        "new_device_sign_in",
        "Sign in from new device",
        "New sign-in to your {{app.name}} account",
        "<p>Your {{app.name}} account was just signed in to from a new device{{#if sign_in_method}} \
         ({{sign_in_method}}){{/if}}.</p><p class=\"small\">{{#if device_type}}Device: {{device_type}}. \
         {{/if}}{{#if location}}Location: {{location}}. {{/if}}If this was not you, change your password.</p>",
        &[],
        &["sign_in_method", "device_type", "browser_name", "location", "ip_address", "session_created_at"],
    ),
    email(
        "password_changed",
        "Password changed",
        "Your {{app.name}} password was changed",
        "<p>The password of your {{app.name}} account ({{primary_email_address}}) was changed.</p>\
         <p class=\"small\">If you did not do this, contact the application's support.</p>",
        &[],
        NOTICE_VARS,
    ),
    email(
        "password_removed",
        "Password removed",
        "Your {{app.name}} password was removed",
        "<p>The password of your {{app.name}} account ({{primary_email_address}}) was removed.</p>\
         <p class=\"small\">If you did not do this, contact the application's support.</p>",
        &[],
        NOTICE_VARS,
    ),
    email(
        "primary_email_address_changed",
        "Primary email address changed",
        "Your {{app.name}} e-mail address was changed",
        "<p>The primary e-mail address of your {{app.name}} account is now {{new_email_address}}.</p>\
         <p class=\"small\">If you did not do this, contact the application's support.</p>",
        &[],
        &["new_email_address", "user.first_name", "user.last_name", "requested_at"],
    ),
    email(
        "passkey_added",
        "Passkey added",
        "A passkey was added to your {{app.name}} account",
        "<p>A passkey{{#if passkey_name}} ({{passkey_name}}){{/if}} was added to your {{app.name}} account.</p>\
         <p class=\"small\">If you did not do this, contact the application's support.</p>",
        &[],
        &["passkey_name", "user.first_name", "user.last_name", "requested_at"],
    ),
    email(
        "passkey_removed",
        "Passkey removed",
        "A passkey was removed from your {{app.name}} account",
        "<p>A passkey{{#if passkey_name}} ({{passkey_name}}){{/if}} was removed from your {{app.name}} account.</p>\
         <p class=\"small\">If you did not do this, contact the application's support.</p>",
        &[],
        &["passkey_name", "user.first_name", "user.last_name", "requested_at"],
    ),
    email(
        "account_locked",
        "Account locked",
        "Your {{app.name}} account is locked",
        "<p>Your {{app.name}} account was locked after too many failed sign-in attempts.</p>\
         <p class=\"small\">{{#if lockout_duration}}You can try again in {{lockout_duration}}.{{/if}}</p>",
        &[],
        &["lockout_duration", "user.first_name", "user.last_name"],
    ),
];

/// The SMS templates, in listing order.
pub const SMS: &[Builtin] = &[
    sms(
        "verification_code",
        "Verification code",
        "{{otp_code}} is your verification code for {{app.name}}. It expires in 10 minutes.",
        &["otp_code"],
        CODE_VARS,
        false,
    ),
    sms(
        "reset_password_code",
        "Reset password code",
        "{{otp_code}} is your password reset code for {{app.name}}. It expires in 10 minutes.",
        &["otp_code"],
        CODE_VARS,
        false,
    ),
    sms(
        "invitation",
        "Invitation",
        "You have been invited to join {{app.name}}: {{action_url}}",
        &["action_url"],
        &["action_url", "inviter_name"],
        false,
    ),
    sms(
        "password_changed",
        "Password changed",
        "The password of your {{app.name}} account was changed. If this was not you, contact support.",
        &[],
        &["requested_at"],
        true,
    ),
    sms(
        "password_removed",
        "Password removed",
        "The password of your {{app.name}} account was removed. If this was not you, contact support.",
        &[],
        &["requested_at"],
        true,
    ),
    sms(
        "primary_phone_number_changed",
        "Primary phone number changed",
        "The primary phone number of your {{app.name}} account was changed. If this was not you, contact support.",
        &[],
        &["requested_at"],
        true,
    ),
];

/// The built-in templates of a type.
pub fn all(t: TemplateType) -> &'static [Builtin] {
    match t {
        TemplateType::Email => EMAIL,
        TemplateType::Sms => SMS,
    }
}

/// The built-in template of a type and slug, with its position (1-based).
pub fn find(t: TemplateType, slug: &str) -> Option<(usize, &'static Builtin)> {
    all(t).iter().enumerate().find(|(_, d)| d.slug == slug).map(|(i, d)| (i + 1, d))
}

/// The shared HTML frame of the default e-mails (`{{> app_logo}}` is the application's logo or name).
const LAYOUT_HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{{app.name}}</title>\
<style>body{margin:0;padding:24px;background:#f5f5f7;font-family:system-ui,-apple-system,sans-serif;color:#1f2328}\
.card{max-width:480px;margin:0 auto;background:#fff;border-radius:8px;padding:32px}\
.code{font-size:28px;font-weight:700;letter-spacing:4px}.small{font-size:13px;color:#6e7781}\
.button{display:inline-block;padding:10px 18px;border-radius:6px;background:{{theme.primary_color}};\
color:{{theme.button_text_color}};text-decoration:none}</style></head>\n\
<body><div class=\"card\"><h2>{{> app_logo}}</h2>\n";
const LAYOUT_TAIL: &str = "\n</div></body></html>\n";

/// The full default body of a template.
pub fn body(t: TemplateType, d: &Builtin) -> String {
    match t {
        TemplateType::Email => format!("{LAYOUT_HEAD}{}{LAYOUT_TAIL}", d.content),
        TemplateType::Sms => d.content.to_owned(),
    }
}

/// Every variable a template may use: the common ones and its own.
pub fn available_variables(d: &Builtin) -> Vec<String> {
    let mut out: Vec<String> = ["app.name", "app.url", "app.domain_name", "app.logo_image_url", "theme.primary_color"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    out.extend(d.variables.iter().map(|s| (*s).to_owned()));
    out
}

/// Sample values of every variable, for previews and for checking that a body uses its required variables.
pub fn sample_data(app: &Value) -> Value {
    json!({
        "app": app,
        "theme": theme(),
        "otp_code": "123456",
        "requested_at": "23 November 2026, 12:14 UTC",
        "requested_by": "Chrome, macOS",
        "action_url": "https://accounts.example.com/sign-up?__clerk_ticket=sample",
        "magic_link": "https://accounts.example.com/v1/verify?token=sample",
        "ttl_minutes": 10,
        "inviter_name": "Ada Lovelace",
        "invitation": { "public_metadata": {} },
        "org": { "name": "Acme Inc", "image_url": null },
        "user": { "first_name": "Grace", "last_name": "Hopper", "public_metadata": {} },
        "primary_email_address": "grace@example.com",
        "new_email_address": "grace.hopper@example.com",
        "passkey_name": "MacBook",
        "sign_in_method": "password",
        "device_type": "Macintosh",
        "browser_name": "Chrome",
        "location": "Paris, FR",
        "ip_address": "192.0.2.1",
        "session_created_at": "23 November 2026, 12:14 UTC",
        "lockout_duration": "1 hour",
    })
}

/// The theme variables of every message.
pub fn theme() -> Value {
    json!({ "primary_color": "#6c47ff", "button_text_color": "#ffffff", "show_clerk_branding": false })
}
