//! Email and SMS templates an instance changed (the defaults live in core, not in the database).

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `templates`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, FromSqliteRow)]
pub struct TemplateRow {
    /// `tmpl_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `email` or `sms`.
    pub template_type: String,
    /// Machine name (`verification_code`…).
    pub slug: String,
    /// Content differs from the default.
    pub customized: bool,
    /// User-friendly name.
    pub name: String,
    /// E-mail subject (Handlebars).
    pub subject: Option<String>,
    /// Editor markup.
    pub markup: String,
    /// Body (Handlebars).
    pub body: String,
    /// Local part of the From address.
    pub from_email_name: Option<String>,
    /// Local part of the Reply-To address.
    pub reply_to_email_name: Option<String>,
    /// Whether Tessera sends the message.
    pub delivered_by_clerk: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, template_type, slug, customized, name, subject, markup, body, \
                       from_email_name, reply_to_email_name, delivered_by_clerk, created_at, updated_at";

/// The instance's changed templates of one type.
pub async fn list(db: &Db, instance_id: &str, template_type: &str) -> StoreResult<Vec<TemplateRow>> {
    let sql = format!("SELECT {COLUMNS} FROM templates WHERE instance_id = $1 AND template_type = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, TemplateRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(template_type)
        .fetch_all(c)
        .await)?)
}

/// The instance's changed template of a type and slug, if any.
pub async fn get(db: &Db, instance_id: &str, template_type: &str, slug: &str) -> StoreResult<Option<TemplateRow>> {
    let sql = format!("SELECT {COLUMNS} FROM templates WHERE instance_id = $1 AND template_type = $2 AND slug = $3");
    Ok(on_read!(db, |c| sqlx::query_as::<_, TemplateRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(template_type)
        .bind(slug)
        .fetch_optional(c)
        .await)?)
}

/// Like [`get`], inside a write transaction (the read sees the transaction's own writes and, on PostgreSQL, locks
/// the row until commit).
pub async fn get_tx(
    tx: &mut Tx,
    instance_id: &str,
    template_type: &str,
    slug: &str,
) -> StoreResult<Option<TemplateRow>> {
    let lock = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql =
        format!("SELECT {COLUMNS} FROM templates WHERE instance_id = $1 AND template_type = $2 AND slug = $3{lock}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, TemplateRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(template_type).bind(slug)
    )
}

/// Inserts the row, or replaces the instance's row of the same type and slug (keeping its `created_at`).
pub async fn upsert(tx: &mut Tx, row: &TemplateRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO templates (id, instance_id, template_type, slug, customized, name, subject, markup, body, \
             from_email_name, reply_to_email_name, delivered_by_clerk, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (instance_id, template_type, slug) DO UPDATE SET customized = excluded.customized, \
             name = excluded.name, subject = excluded.subject, markup = excluded.markup, body = excluded.body, \
             from_email_name = excluded.from_email_name, reply_to_email_name = excluded.reply_to_email_name, \
             delivered_by_clerk = excluded.delivered_by_clerk, updated_at = excluded.updated_at"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.template_type)
        .bind(&row.slug)
        .bind(row.customized)
        .bind(&row.name)
        .bind(&row.subject)
        .bind(&row.markup)
        .bind(&row.body)
        .bind(&row.from_email_name)
        .bind(&row.reply_to_email_name)
        .bind(row.delivered_by_clerk)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}
