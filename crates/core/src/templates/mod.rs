//! Email & SMS templates: Clerk's template slugs with built-in defaults, changed per instance (content, and whether
//! Tessera delivers the message at all), reverted to the default, previewed with sample data. The sender renders
//! them for every verification code and invitation it sends ([`crate::sender::prepare`]).

pub mod defaults;
pub mod render;

use aws_lc_rs::digest;
use serde_json::{Value, json};
use tessera_store::templates::{self as store, TemplateRow};

use crate::instances::Instance;
use crate::{Ctx, Error, ErrorCode, Result};
use defaults::Builtin;

/// Longest e-mail body.
const MAX_EMAIL_BODY: usize = 100_000;
/// Longest SMS body (ten concatenated SMS segments).
const MAX_SMS_BODY: usize = 1_600;
/// Longest name, subject, and markup.
const MAX_NAME: usize = 100;
const MAX_SUBJECT: usize = 500;
const MAX_MARKUP: usize = 200_000;

/// `email` or `sms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateType {
    /// E-mail.
    Email,
    /// SMS.
    Sms,
}

impl TemplateType {
    /// The path value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    /// Parses the `{template_type}` path parameter: 400 naming it for anything else.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "email" => Ok(Self::Email),
            "sms" => Ok(Self::Sms),
            _ => Err(Error::with(
                ErrorCode::BadRequest,
                "invalid template type",
                "template_type must be `email` or `sms`.",
                Some("template_type"),
            )),
        }
    }
}

/// A template as the API shows it: the instance's version, or the built-in default.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `tmpl_…`, stable per instance, type and slug.
    pub id: String,
    /// The instance, when the content was changed (Clerk: `null` for system templates).
    pub instance_id: Option<String>,
    /// Type.
    pub template_type: TemplateType,
    /// Machine name.
    pub slug: String,
    /// User-friendly name.
    pub name: String,
    /// 1-based listing position.
    pub position: i64,
    /// Content changed by the instance (`resource_type: user`, revertible).
    pub customized: bool,
    /// E-mail subject.
    pub subject: Option<String>,
    /// Editor markup.
    pub markup: String,
    /// Handlebars body.
    pub body: String,
    /// Variables the body may use.
    pub available_variables: Vec<String>,
    /// Variables the body must use.
    pub required_variables: Vec<String>,
    /// Local part of the From address (e-mail).
    pub from_email_name: Option<String>,
    /// Local part of the Reply-To address (e-mail).
    pub reply_to_email_name: Option<String>,
    /// Whether Tessera sends messages made from it.
    pub delivered_by_clerk: bool,
    /// Notification SMS templates.
    pub can_toggle: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// The stable id of an instance's template.
fn template_id(instance_id: &str, t: TemplateType, slug: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let d = digest::digest(&digest::SHA256, format!("{instance_id}\0{}\0{slug}", t.as_str()).as_bytes());
    let suffix: String = d.as_ref().iter().take(27).map(|b| BASE62[usize::from(b % 62)] as char).collect();
    format!("tmpl_{suffix}")
}

fn default_row(instance: &Instance, t: TemplateType, d: &Builtin) -> TemplateRow {
    TemplateRow {
        id: template_id(&instance.id, t, d.slug),
        instance_id: instance.id.clone(),
        template_type: t.as_str().to_owned(),
        slug: d.slug.to_owned(),
        customized: false,
        name: d.name.to_owned(),
        subject: d.subject.map(str::to_owned),
        markup: String::new(),
        body: defaults::body(t, d),
        from_email_name: (t == TemplateType::Email).then(|| defaults::DEFAULT_FROM_EMAIL_NAME.to_owned()),
        reply_to_email_name: None,
        delivered_by_clerk: true,
        created_at: instance.created_at,
        updated_at: instance.created_at,
    }
}

fn view(t: TemplateType, position: usize, d: &Builtin, row: TemplateRow) -> Template {
    Template {
        id: row.id,
        instance_id: row.customized.then_some(row.instance_id),
        template_type: t,
        slug: row.slug,
        name: row.name,
        position: i64::try_from(position).unwrap_or(i64::MAX),
        customized: row.customized,
        subject: row.subject,
        markup: row.markup,
        body: row.body,
        available_variables: defaults::available_variables(d),
        required_variables: d.required_variables.iter().map(|s| (*s).to_owned()).collect(),
        from_email_name: row.from_email_name,
        reply_to_email_name: row.reply_to_email_name,
        delivered_by_clerk: row.delivered_by_clerk,
        can_toggle: d.can_toggle,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn not_found() -> Error {
    Error::not_found("template")
}

fn lookup(t: TemplateType, slug: &str) -> Result<(usize, &'static Builtin)> {
    defaults::find(t, slug).ok_or_else(not_found)
}

/// A page of the instance's templates of a type, by position, and how many there are.
pub async fn list(
    ctx: &Ctx,
    instance: &Instance,
    t: TemplateType,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Template>, i64)> {
    let mut changed = store::list(&ctx.db, &instance.id, t.as_str()).await?;
    let all = defaults::all(t);
    let page = all
        .iter()
        .enumerate()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|(i, d)| {
            let row = match changed.iter().position(|r| r.slug == d.slug) {
                Some(p) => changed.swap_remove(p),
                None => default_row(instance, t, d),
            };
            view(t, i + 1, d, row)
        })
        .collect();
    Ok((page, i64::try_from(all.len()).unwrap_or(i64::MAX)))
}

/// One template of the instance.
pub async fn get(ctx: &Ctx, instance: &Instance, t: TemplateType, slug: &str) -> Result<Template> {
    let (position, d) = lookup(t, slug)?;
    let row = store::get(&ctx.db, &instance.id, t.as_str(), slug).await?.unwrap_or_else(|| default_row(instance, t, d));
    Ok(view(t, position, d, row))
}

/// `PUT /templates/{type}/{slug}`: the fields given replace the current ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateUpdate {
    /// User-friendly name.
    pub name: Option<String>,
    /// E-mail subject.
    pub subject: Option<String>,
    /// Editor markup.
    pub markup: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Delivery by Tessera.
    pub delivered_by_clerk: Option<bool>,
    /// Local part of the From address.
    pub from_email_name: Option<String>,
    /// Local part of the Reply-To address (empty: none).
    pub reply_to_email_name: Option<String>,
}

fn check_len(param: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::param_value_invalid(param, format!("{param} must be at most {max} characters.")));
    }
    Ok(())
}

/// A local part of an e-mail address: letters, digits and `.`, `_`, `+`, `-`, not starting or ending with a dot.
fn check_local_part(param: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
        && !value.starts_with('.')
        && !value.ends_with('.')
        && !value.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Error::param_format_invalid(param, format!("{param} must be the local part of an e-mail address.")))
    }
}

fn email_only(t: TemplateType, param: &str, given: bool) -> Result<()> {
    if given && t == TemplateType::Sms {
        return Err(Error::param_value_invalid(param, format!("{param} applies to email templates only.")));
    }
    Ok(())
}

/// Renders subject and body with sample data, so that a broken template is refused when it is saved, and checks
/// that the body uses every required variable.
fn check_renders(app: &Value, t: TemplateType, d: &Builtin, subject: Option<&str>, body: &str) -> Result<()> {
    let mut data = defaults::sample_data(app);
    let markers: Vec<(String, String)> = d
        .required_variables
        .iter()
        .enumerate()
        .map(|(i, v)| ((*v).to_owned(), format!("TesseraRequiredVariable{i}x")))
        .collect();
    for (name, marker) in &markers {
        data[name.as_str()] = json!(marker);
    }
    if let Some(subject) = subject {
        render::plain(subject, &data)
            .map_err(|e| Error::param_format_invalid("subject", format!("subject is not a valid template: {}", e.0)))?;
    }
    let rendered = match t {
        TemplateType::Email => render::html_body(body, &data),
        TemplateType::Sms => render::plain(body, &data),
    }
    .map_err(|e| Error::param_format_invalid("body", format!("body is not a valid template: {}", e.0)))?;
    for (name, marker) in &markers {
        if !rendered.contains(marker.as_str()) {
            return Err(Error::param_value_invalid("body", format!("body must contain the {{{{{name}}}}} variable.")));
        }
    }
    Ok(())
}

/// Validates an update and applies it to `row`.
fn apply(app: &Value, t: TemplateType, d: &Builtin, row: &mut TemplateRow, u: TemplateUpdate) -> Result<()> {
    email_only(t, "subject", u.subject.as_deref().is_some_and(|s| !s.is_empty()))?;
    email_only(t, "from_email_name", u.from_email_name.as_deref().is_some_and(|s| !s.is_empty()))?;
    email_only(t, "reply_to_email_name", u.reply_to_email_name.as_deref().is_some_and(|s| !s.is_empty()))?;
    if let Some(name) = u.name {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::param_value_invalid("name", "name must not be empty."));
        }
        check_len("name", name, MAX_NAME)?;
        row.name = name.to_owned();
    }
    if let Some(subject) = u.subject.filter(|_| t == TemplateType::Email) {
        if subject.trim().is_empty() {
            return Err(Error::param_value_invalid("subject", "subject must not be empty."));
        }
        check_len("subject", &subject, MAX_SUBJECT)?;
        row.subject = Some(subject);
    }
    if let Some(markup) = u.markup {
        check_len("markup", &markup, MAX_MARKUP)?;
        row.markup = markup;
    }
    if let Some(body) = u.body {
        if body.trim().is_empty() {
            return Err(Error::param_value_invalid("body", "body must not be empty."));
        }
        check_len("body", &body, if t == TemplateType::Email { MAX_EMAIL_BODY } else { MAX_SMS_BODY })?;
        row.body = body;
    }
    if let Some(from) = u.from_email_name.filter(|_| t == TemplateType::Email) {
        check_local_part("from_email_name", &from)?;
        row.from_email_name = Some(from);
    }
    if let Some(reply_to) = u.reply_to_email_name.filter(|_| t == TemplateType::Email) {
        if !reply_to.is_empty() {
            check_local_part("reply_to_email_name", &reply_to)?;
        }
        row.reply_to_email_name = Some(reply_to).filter(|r| !r.is_empty());
    }
    if let Some(delivered) = u.delivered_by_clerk {
        row.delivered_by_clerk = delivered;
    }
    check_renders(app, t, d, row.subject.as_deref(), &row.body)
}

fn same_content(a: &TemplateRow, b: &TemplateRow) -> bool {
    (&a.name, &a.subject, &a.markup, &a.body, &a.from_email_name, &a.reply_to_email_name)
        == (&b.name, &b.subject, &b.markup, &b.body, &b.from_email_name, &b.reply_to_email_name)
}

/// Changes a template of the instance (validated, rendered once with sample data).
pub async fn upsert(
    ctx: &Ctx,
    instance: &Instance,
    t: TemplateType,
    slug: &str,
    u: TemplateUpdate,
) -> Result<Template> {
    let (position, d) = lookup(t, slug)?;
    let app = app_data(ctx, instance).await;
    let default = default_row(instance, t, d);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::get_tx(&mut tx, &instance.id, t.as_str(), slug)
        .await?
        .unwrap_or_else(|| TemplateRow { created_at: now, ..default.clone() });
    apply(&app, t, d, &mut row, u)?;
    row.customized = !same_content(&row, &default);
    row.updated_at = now;
    store::upsert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view(t, position, d, row))
}

/// Restores the default content of a changed template (its delivery setting stays); 400 if it is unchanged.
pub async fn revert(ctx: &Ctx, instance: &Instance, t: TemplateType, slug: &str) -> Result<Template> {
    let (position, d) = lookup(t, slug)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let Some(current) = store::get_tx(&mut tx, &instance.id, t.as_str(), slug).await?.filter(|r| r.customized) else {
        return Err(Error::with(
            ErrorCode::BadRequest,
            "template cannot be reverted",
            "This template has no changes to revert.",
            None,
        ));
    };
    let row = TemplateRow {
        delivered_by_clerk: current.delivered_by_clerk,
        created_at: current.created_at,
        updated_at: now,
        ..default_row(instance, t, d)
    };
    store::upsert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view(t, position, d, row))
}

/// Turns delivery by Tessera on or off (`None`: the opposite of now).
pub async fn toggle_delivery(
    ctx: &Ctx,
    instance: &Instance,
    t: TemplateType,
    slug: &str,
    delivered_by_clerk: Option<bool>,
) -> Result<Template> {
    let (position, d) = lookup(t, slug)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = match store::get_tx(&mut tx, &instance.id, t.as_str(), slug).await? {
        Some(row) => row,
        None => TemplateRow { created_at: now, ..default_row(instance, t, d) },
    };
    row.delivered_by_clerk = delivered_by_clerk.unwrap_or(!row.delivered_by_clerk);
    row.updated_at = now;
    store::upsert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view(t, position, d, row))
}

/// What a preview is made from; absent fields come from the instance's current template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviewInput {
    /// Subject.
    pub subject: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Local part of the From address.
    pub from_email_name: Option<String>,
    /// Local part of the Reply-To address.
    pub reply_to_email_name: Option<String>,
}

/// A rendered preview.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Rendered subject (e-mail).
    pub subject: Option<String>,
    /// Rendered body (HTML for e-mail).
    pub body: String,
    /// The body as plain text.
    pub body_plain: String,
    /// `from_email_name@domain` (e-mail).
    pub from_email_address: Option<String>,
    /// `reply_to_email_name@domain` (e-mail, when set).
    pub reply_to_email_address: Option<String>,
}

/// Renders a template, changed as `input` says (nothing is stored), with sample data.
pub async fn preview(
    ctx: &Ctx,
    instance: &Instance,
    t: TemplateType,
    slug: &str,
    input: PreviewInput,
) -> Result<Preview> {
    let (_, d) = lookup(t, slug)?;
    let mut row =
        store::get(&ctx.db, &instance.id, t.as_str(), slug).await?.unwrap_or_else(|| default_row(instance, t, d));
    let app = app_data(ctx, instance).await;
    let update = TemplateUpdate {
        subject: input.subject,
        body: input.body,
        from_email_name: input.from_email_name,
        reply_to_email_name: input.reply_to_email_name,
        ..TemplateUpdate::default()
    };
    apply(&app, t, d, &mut row, update)?;
    let data = defaults::sample_data(&app);
    let composed = compose_row(t, &row, &data).map_err(|e| Error::param_format_invalid("body", e.0))?;
    let domain = app["domain_name"].as_str().unwrap_or("localhost").to_owned();
    Ok(Preview {
        subject: composed.subject,
        body: composed.html.unwrap_or_else(|| composed.text.clone()),
        body_plain: composed.text,
        from_email_address: row.from_email_name.as_ref().map(|n| format!("{n}@{domain}")),
        reply_to_email_address: row.reply_to_email_name.as_ref().map(|n| format!("{n}@{domain}")),
    })
}

/// A message rendered from a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// Subject (e-mail).
    pub subject: Option<String>,
    /// HTML body (e-mail).
    pub html: Option<String>,
    /// Plain text (the SMS, or the e-mail's text part).
    pub text: String,
    /// Whether Tessera sends it.
    pub delivered_by_clerk: bool,
    /// Local part of the From address (e-mail).
    pub from_email_name: Option<String>,
    /// Local part of the Reply-To address (e-mail).
    pub reply_to_email_name: Option<String>,
}

fn compose_row(t: TemplateType, row: &TemplateRow, data: &Value) -> Result<Composed, render::RenderFailure> {
    let subject = row.subject.as_deref().map(|s| render::plain(s, data)).transpose()?;
    let (html, text) = match t {
        TemplateType::Email => {
            let html = render::html_body(&row.body, data)?;
            let text = render::html_to_text(&html);
            (Some(html), text)
        }
        TemplateType::Sms => (None, render::plain(&row.body, data)?),
    };
    Ok(Composed {
        subject: subject.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")),
        html,
        text,
        delivered_by_clerk: row.delivered_by_clerk,
        from_email_name: row.from_email_name.clone(),
        reply_to_email_name: row.reply_to_email_name.clone(),
    })
}

/// Renders the instance's template `slug` with `data` (the `app` and `theme` variables are added). A stored
/// template that fails with this data (it rendered with sample data when saved) falls back to the default, so a
/// message is never lost to a template mistake.
pub async fn compose(
    ctx: &Ctx,
    instance: &Instance,
    t: TemplateType,
    slug: &str,
    data: &mut Value,
) -> Result<Composed> {
    let (_, d) = lookup(t, slug).map_err(|_| Error::internal(anyhow::anyhow!("unknown template {slug}")))?;
    let default = default_row(instance, t, d);
    let row = store::get(&ctx.db, &instance.id, t.as_str(), slug).await?.unwrap_or_else(|| default.clone());
    if let Value::Object(map) = &mut *data {
        map.insert("app".into(), app_data(ctx, instance).await);
        map.insert("theme".into(), defaults::theme());
    }
    match compose_row(t, &row, data) {
        Ok(c) => Ok(c),
        Err(e) => {
            tracing::warn!(instance_id = %instance.id, slug, error = %e.0, "template failed to render; using the default");
            let fallback = TemplateRow { delivered_by_clerk: row.delivered_by_clerk, ..default };
            compose_row(t, &fallback, data).map_err(|e| Error::internal(anyhow::anyhow!("default template: {}", e.0)))
        }
    }
}

/// The `app` variables: the instance's primary domain stands for the application.
async fn app_data(ctx: &Ctx, instance: &Instance) -> Value {
    let domain = crate::domains::primary_domain(ctx, instance).await.ok();
    let name = domain.as_ref().map_or_else(|| "Tessera".to_owned(), |d| d.name.clone());
    let host = name.split(':').next().unwrap_or(&name).to_owned();
    let url = domain.as_ref().and_then(|d| d.accounts_portal_url.clone()).unwrap_or_else(|| format!("https://{name}"));
    json!({ "name": name, "domain_name": host, "url": url, "logo_url": null, "logo_image_url": null })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_renders_and_uses_its_required_variables() {
        let app = json!({ "name": "Acme", "domain_name": "acme.test", "url": "https://acme.test" });
        for t in [TemplateType::Email, TemplateType::Sms] {
            for d in defaults::all(t) {
                check_renders(&app, t, d, d.subject, &defaults::body(t, d))
                    .unwrap_or_else(|e| panic!("{}: {e}", d.slug));
            }
        }
        let d = defaults::find(TemplateType::Sms, "verification_code").unwrap().1;
        assert!(check_renders(&app, TemplateType::Sms, d, None, "no code here").is_err());
        assert!(check_renders(&app, TemplateType::Sms, d, None, "{{ otp_code }} ok").is_ok());
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = template_id("ins_1", TemplateType::Email, "invitation");
        assert_eq!(a, template_id("ins_1", TemplateType::Email, "invitation"));
        assert_ne!(a, template_id("ins_2", TemplateType::Email, "invitation"));
        assert_ne!(a, template_id("ins_1", TemplateType::Sms, "invitation"));
        assert!(crate::ids::is_ksuid_id(&a, "tmpl"));
    }
}
