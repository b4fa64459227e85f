//! The payers' side of billing: payers, subscriptions, subscription items, discount redemptions, the credit
//! ledger, statements, payment attempts, and the billing clock's lease.

use std::sync::LazyLock;

use super::read_fns;
use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `billing_payers`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct PayerRow {
    /// `cpayer_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The user, for a user payer.
    pub user_id: Option<String>,
    /// The organization, for an organization payer.
    pub organization_id: Option<String>,
    /// Cents; `None` = never had credits.
    pub credit_balance: Option<i64>,
    /// The payer has had a free trial.
    pub trial_used: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_subscriptions`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct SubscriptionRow {
    /// `csub_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The payer.
    pub payer_id: String,
    /// `active` | `past_due`
    pub status: String,
    /// Unix ms.
    pub active_at: Option<i64>,
    /// Unix ms.
    pub past_due_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_items`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ItemRow {
    /// `csubi_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The payer.
    pub payer_id: String,
    /// The plan.
    pub plan_id: String,
    /// The price charged.
    pub price_id: String,
    /// `month` | `annual`
    pub plan_period: String,
    /// Clerk's item status.
    pub status: String,
    /// In a free trial (ends at `period_end`).
    pub is_free_trial: bool,
    /// `subscriptionItem.freeTrialEnding` was sent for this trial.
    pub trial_warned: bool,
    /// Unix ms.
    pub period_start: i64,
    /// Unix ms; `None` for the default (free) plan.
    pub period_end: Option<i64>,
    /// Unix ms.
    pub canceled_at: Option<i64>,
    /// Unix ms.
    pub past_due_at: Option<i64>,
    /// Unix ms.
    pub ended_at: Option<i64>,
    /// Cents paid for this item so far.
    pub lifetime_paid: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_redemptions`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct RedemptionRow {
    /// `cdr_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The item.
    pub item_id: String,
    /// The discount.
    pub discount_id: String,
    /// `active` | `exhausted` | `removed`
    pub status: String,
    /// Billing cycles it has reduced.
    pub cycles_applied: i64,
    /// Unix ms.
    pub redeemed_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_credit_ledger`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct LedgerRow {
    /// `ccl_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The payer.
    pub payer_id: String,
    /// Signed cents.
    pub amount: i64,
    /// `adjustment` | `payment_attempt`
    pub source_type: String,
    /// The adjustment's own id, or the payment attempt.
    pub source_id: String,
    /// Note.
    pub note: Option<String>,
    /// Idempotency key of an adjustment.
    pub idempotency_key: Option<String>,
    /// Digest of the adjustment request.
    pub request_digest: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// A row of `billing_statements`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct StatementRow {
    /// `cstmt_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The payer.
    pub payer_id: String,
    /// Start of the month, Unix ms.
    pub timestamp: i64,
    /// End of the month, Unix ms.
    pub period_end: i64,
    /// `open` | `closed`
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_payment_attempts`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct AttemptRow {
    /// `cpay_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The payer.
    pub payer_id: String,
    /// The statement.
    pub statement_id: String,
    /// The item charged for.
    pub item_id: Option<String>,
    /// `checkout` | `recurring`
    pub charge_type: String,
    /// `card` | `payer-credits`
    pub payment_type: String,
    /// Cents before discount and credits.
    pub subtotal: i64,
    /// Cents off by a discount.
    pub discount: i64,
    /// Cents drawn from credits.
    pub credits: i64,
    /// Cents charged to the payment method.
    pub amount: i64,
    /// `pending` | `paid` | `failed`
    pub status: String,
    /// Unix ms.
    pub paid_at: Option<i64>,
    /// Unix ms.
    pub failed_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const PAYER_COLUMNS: &str =
    "id, instance_id, user_id, organization_id, credit_balance, trial_used, created_at, updated_at";
const SUB_COLUMNS: &str = "id, instance_id, payer_id, status, active_at, past_due_at, created_at, updated_at";
/// Columns of `billing_items`, for queries that alias it `i`.
pub const ITEM_COLUMNS: &str = "i.id, i.instance_id, i.subscription_id, i.payer_id, i.plan_id, i.price_id, \
     i.plan_period, i.status, i.is_free_trial, i.trial_warned, i.period_start, i.period_end, i.canceled_at, \
     i.past_due_at, i.ended_at, i.lifetime_paid, i.created_at, i.updated_at";
const REDEMPTION_COLUMNS: &str =
    "id, instance_id, item_id, discount_id, status, cycles_applied, redeemed_at, updated_at";
const LEDGER_COLUMNS: &str = "id, instance_id, payer_id, amount, source_type, source_id, note, idempotency_key, \
     request_digest, created_at";
const STATEMENT_COLUMNS: &str = "id, instance_id, payer_id, timestamp, period_end, status, created_at, updated_at";
const ATTEMPT_COLUMNS: &str = "id, instance_id, payer_id, statement_id, item_id, charge_type, payment_type, \
     subtotal, discount, credits, amount, status, paid_at, failed_at, created_at, updated_at";

/// Inserts a payer.
pub async fn insert_payer(tx: &mut Tx, row: &PayerRow) -> StoreResult<()> {
    let sql = format!("INSERT INTO billing_payers ({PAYER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.user_id)
            .bind(&row.organization_id)
            .bind(row.credit_balance)
            .bind(row.trial_used)
            .bind(row.created_at)
            .bind(row.updated_at)
    )?;
    Ok(())
}

/// Writes a payer's balance and trial flag.
pub async fn update_payer(tx: &mut Tx, row: &PayerRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE billing_payers SET credit_balance = $1, trial_used = $2, updated_at = $3 WHERE id = $4")
            .bind(row.credit_balance)
            .bind(row.trial_used)
            .bind(row.updated_at)
            .bind(&row.id)
    )?;
    Ok(())
}

read_fns!(
    /// The payer of a user or organization (`owner` is matched against both columns).
    payer_of, payer_of_tx, (instance_id: &str, owner: &str) -> Option<PayerRow>, fetch_optional,
    let sql = format!(
        "SELECT {PAYER_COLUMNS} FROM billing_payers WHERE instance_id = $1 AND (user_id = $2 OR organization_id = $2)"
    );
    sqlx::query_as::<_, PayerRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(owner)
);

read_fns!(
    /// One payer by id.
    payer, payer_tx, (instance_id: &str, id: &str) -> Option<PayerRow>, fetch_optional,
    let sql = format!("SELECT {PAYER_COLUMNS} FROM billing_payers WHERE instance_id = $1 AND id = $2");
    sqlx::query_as::<_, PayerRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
);

/// Users of the instance that have no payer yet (for enabling billing).
pub async fn users_without_payer_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<String>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT u.id FROM users u WHERE u.instance_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM billing_payers p WHERE p.instance_id = $1 AND p.user_id = u.id) ORDER BY u.created_at, u.id"
        )
        .bind(instance_id)
    )
}

/// Organizations of the instance that have no payer yet.
pub async fn orgs_without_payer_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<String>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT o.id FROM organizations o WHERE o.instance_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM billing_payers p WHERE p.instance_id = $1 AND p.organization_id = o.id) \
             ORDER BY o.created_at, o.id"
        )
        .bind(instance_id)
    )
}

/// Payers of the instance whose subscription has no item (for enabling billing on payers that only had credits).
pub async fn payers_without_subscription_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<PayerRow>> {
    let sql = format!(
        "SELECT {PAYER_COLUMNS} FROM billing_payers p WHERE p.instance_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM billing_subscriptions s WHERE s.payer_id = p.id) ORDER BY p.created_at, p.id"
    );
    fetch_tx!(tx, fetch_all, sqlx::query_as::<_, PayerRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id))
}

/// Inserts a subscription.
pub async fn insert_subscription(tx: &mut Tx, row: &SubscriptionRow) -> StoreResult<()> {
    let sql = format!("INSERT INTO billing_subscriptions ({SUB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.payer_id)
            .bind(&row.status)
            .bind(row.active_at)
            .bind(row.past_due_at)
            .bind(row.created_at)
            .bind(row.updated_at)
    )?;
    Ok(())
}

/// Writes a subscription's status.
pub async fn update_subscription(tx: &mut Tx, row: &SubscriptionRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE billing_subscriptions SET status = $1, active_at = $2, past_due_at = $3, updated_at = $4 \
             WHERE id = $5"
        )
        .bind(&row.status)
        .bind(row.active_at)
        .bind(row.past_due_at)
        .bind(row.updated_at)
        .bind(&row.id)
    )?;
    Ok(())
}

read_fns!(
    /// The subscription of a payer.
    subscription_of, subscription_of_tx, (instance_id: &str, payer_id: &str) -> Option<SubscriptionRow>, fetch_optional,
    let sql = format!("SELECT {SUB_COLUMNS} FROM billing_subscriptions WHERE instance_id = $1 AND payer_id = $2");
    sqlx::query_as::<_, SubscriptionRow>(sqlx::AssertSqlSafe(sql))
        .bind(instance_id)
        .bind(payer_id)
);

/// Inserts an item.
pub async fn insert_item(tx: &mut Tx, row: &ItemRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO billing_items (id, instance_id, subscription_id, payer_id, plan_id, price_id, plan_period, \
             status, is_free_trial, trial_warned, period_start, period_end, canceled_at, past_due_at, ended_at, \
             lifetime_paid, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.subscription_id)
        .bind(&row.payer_id)
        .bind(&row.plan_id)
        .bind(&row.price_id)
        .bind(&row.plan_period)
        .bind(&row.status)
        .bind(row.is_free_trial)
        .bind(row.trial_warned)
        .bind(row.period_start)
        .bind(row.period_end)
        .bind(row.canceled_at)
        .bind(row.past_due_at)
        .bind(row.ended_at)
        .bind(row.lifetime_paid)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}

/// Writes an item's mutable fields.
pub async fn update_item(tx: &mut Tx, row: &ItemRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE billing_items SET plan_id = $1, price_id = $2, plan_period = $3, status = $4, is_free_trial = $5, \
             trial_warned = $6, period_start = $7, period_end = $8, canceled_at = $9, past_due_at = $10, \
             ended_at = $11, lifetime_paid = $12, updated_at = $13 WHERE id = $14"
        )
        .bind(&row.plan_id)
        .bind(&row.price_id)
        .bind(&row.plan_period)
        .bind(&row.status)
        .bind(row.is_free_trial)
        .bind(row.trial_warned)
        .bind(row.period_start)
        .bind(row.period_end)
        .bind(row.canceled_at)
        .bind(row.past_due_at)
        .bind(row.ended_at)
        .bind(row.lifetime_paid)
        .bind(row.updated_at)
        .bind(&row.id)
    )?;
    Ok(())
}

read_fns!(
    /// One item.
    item, item_tx, (instance_id: &str, id: &str) -> Option<ItemRow>, fetch_optional,
    let sql = format!("SELECT {ITEM_COLUMNS} FROM billing_items i WHERE i.instance_id = $1 AND i.id = $2");
    sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
);

read_fns!(
    /// A payer's items, oldest first.
    items_of, items_of_tx, (instance_id: &str, payer_id: &str) -> Vec<ItemRow>, fetch_all,
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM billing_items i WHERE i.instance_id = $1 AND i.payer_id = $2 \
        ORDER BY i.created_at, i.id"
    );
    sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(payer_id)
);

/// Filters of the item list. Every field narrows; `None` = any.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Item status (`free_trial` = active and in a trial).
    pub status: Option<String>,
    /// `user` | `org`
    pub payer_type: Option<String>,
    /// The plan.
    pub plan_id: Option<String>,
    /// Include items of default (free) plans.
    pub include_free: bool,
    /// Exact item, payer, user or organization id, or part of the plan's name or slug (lower-cased).
    pub query: Option<String>,
}

/// A page of the instance's items, newest first, and the total.
pub async fn list_items(
    db: &Db,
    instance_id: &str,
    f: &ItemFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<ItemRow>, i64)> {
    let mut conds = vec!["i.instance_id = $1".to_owned()];
    let mut binds: Vec<String> = Vec::new();
    let next = |v: String, binds: &mut Vec<String>| {
        binds.push(v);
        format!("${}", binds.len() + 1)
    };
    match f.status.as_deref() {
        Some("free_trial") => conds.push("i.status = 'active' AND i.is_free_trial".into()),
        Some(s) => {
            let p = next(s.to_owned(), &mut binds);
            conds.push(format!("i.status = {p}"));
        }
        None => {}
    }
    if let Some(t) = &f.payer_type {
        conds.push(if t == "org" { "p.organization_id IS NOT NULL" } else { "p.user_id IS NOT NULL" }.into());
    }
    if let Some(plan) = &f.plan_id {
        let p = next(plan.clone(), &mut binds);
        conds.push(format!("i.plan_id = {p}"));
    }
    if !f.include_free {
        conds.push("NOT pl.is_default".into());
    }
    if let Some(q) = &f.query {
        let exact = next(q.clone(), &mut binds);
        let like = next(format!("%{}%", q.to_lowercase().replace(['%', '_', '\\'], "")), &mut binds);
        conds.push(format!(
            "(i.id = {exact} OR i.payer_id = {exact} OR p.user_id = {exact} OR p.organization_id = {exact} \
             OR LOWER(pl.name) LIKE {like} OR LOWER(pl.slug) LIKE {like})"
        ));
    }
    let from = "billing_items i JOIN billing_payers p ON p.id = i.payer_id JOIN billing_plans pl ON pl.id = i.plan_id";
    let filter = conds.join(" AND ");
    let n = binds.len();
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM {from} WHERE {filter} ORDER BY i.created_at DESC, i.id DESC LIMIT ${} OFFSET ${}",
        n + 2,
        n + 3
    );
    let count_sql = format!("SELECT COUNT(*) FROM {from} WHERE {filter}");
    let rows = on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id);
        for b in &binds {
            q = q.bind(b);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?;
    let total = on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql)).bind(instance_id);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_one(c).await
    })?;
    Ok((rows, total))
}

/// Items the clock must look at: `active`/`past_due` items whose period (or trial) ends by `horizon`, and
/// `upcoming` ones whose start has come. Across instances, or in `instance_id` only; at most `limit`.
pub async fn due_items_tx(
    tx: &mut Tx,
    instance_id: Option<&str>,
    horizon: i64,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<ItemRow>> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM billing_items i WHERE {} AND ($4 IS NULL OR i.instance_id = $4) \
         ORDER BY i.period_end, i.id LIMIT $3",
        item_due("$1", "$2")
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql)).bind(horizon).bind(now).bind(limit).bind(instance_id)
    )
}

/// Trials ending by `horizon` that were not announced yet (across instances, or in `instance_id` only).
pub async fn trials_ending_tx(
    tx: &mut Tx,
    instance_id: Option<&str>,
    horizon: i64,
    limit: i64,
) -> StoreResult<Vec<ItemRow>> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM billing_items i WHERE {} AND ($3 IS NULL OR i.instance_id = $3) \
         ORDER BY i.period_end, i.id LIMIT $2",
        trial_ending("$1")
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql)).bind(horizon).bind(limit).bind(instance_id)
    )
}

/// Inserts a redemption.
pub async fn insert_redemption(tx: &mut Tx, row: &RedemptionRow) -> StoreResult<()> {
    let sql = format!("INSERT INTO billing_redemptions ({REDEMPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.item_id)
            .bind(&row.discount_id)
            .bind(&row.status)
            .bind(row.cycles_applied)
            .bind(row.redeemed_at)
            .bind(row.updated_at)
    )?;
    Ok(())
}

/// Writes a redemption's status and cycles.
pub async fn update_redemption(tx: &mut Tx, row: &RedemptionRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE billing_redemptions SET status = $1, cycles_applied = $2, updated_at = $3 WHERE id = $4")
            .bind(&row.status)
            .bind(row.cycles_applied)
            .bind(row.updated_at)
            .bind(&row.id)
    )?;
    Ok(())
}

/// The active redemption of an item.
pub async fn active_redemption_tx(tx: &mut Tx, item_id: &str) -> StoreResult<Option<RedemptionRow>> {
    let sql = format!("SELECT {REDEMPTION_COLUMNS} FROM billing_redemptions WHERE item_id = $1 AND status = 'active'");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, RedemptionRow>(sqlx::AssertSqlSafe(sql)).bind(item_id))
}

/// Inserts a ledger entry.
pub async fn insert_ledger(tx: &mut Tx, row: &LedgerRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO billing_credit_ledger ({LEDGER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.payer_id)
            .bind(row.amount)
            .bind(&row.source_type)
            .bind(&row.source_id)
            .bind(&row.note)
            .bind(&row.idempotency_key)
            .bind(&row.request_digest)
            .bind(row.created_at)
    )?;
    Ok(())
}

/// The ledger entry a payer made under an idempotency key.
pub async fn ledger_by_key_tx(tx: &mut Tx, payer_id: &str, key: &str) -> StoreResult<Option<LedgerRow>> {
    let sql =
        format!("SELECT {LEDGER_COLUMNS} FROM billing_credit_ledger WHERE payer_id = $1 AND idempotency_key = $2");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, LedgerRow>(sqlx::AssertSqlSafe(sql)).bind(payer_id).bind(key))
}

/// Inserts a statement.
pub async fn insert_statement(tx: &mut Tx, row: &StatementRow) -> StoreResult<()> {
    let sql = format!("INSERT INTO billing_statements ({STATEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.payer_id)
            .bind(row.timestamp)
            .bind(row.period_end)
            .bind(&row.status)
            .bind(row.created_at)
            .bind(row.updated_at)
    )?;
    Ok(())
}

/// The statement of a payer for the month starting at `timestamp`.
pub async fn statement_for_month_tx(tx: &mut Tx, payer_id: &str, timestamp: i64) -> StoreResult<Option<StatementRow>> {
    let sql = format!("SELECT {STATEMENT_COLUMNS} FROM billing_statements WHERE payer_id = $1 AND timestamp = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, StatementRow>(sqlx::AssertSqlSafe(sql)).bind(payer_id).bind(timestamp)
    )
}

/// Closes the open statements whose month ended by `now` (across instances, or in `instance_id` only); returns
/// how many.
pub async fn close_statements_tx(tx: &mut Tx, instance_id: Option<&str>, now: i64) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE billing_statements SET status = 'closed', updated_at = $1 \
         WHERE {} AND ($2 IS NULL OR instance_id = $2)",
        statement_closing("$1")
    );
    exec_tx!(tx, sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(instance_id))
}

read_fns!(
    /// One statement.
    statement, statement_tx, (instance_id: &str, id: &str) -> Option<StatementRow>, fetch_optional,
    let sql = format!("SELECT {STATEMENT_COLUMNS} FROM billing_statements WHERE instance_id = $1 AND id = $2");
    sqlx::query_as::<_, StatementRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
);

/// A page of the instance's statements, newest first, and the total.
pub async fn list_statements(
    db: &Db,
    instance_id: &str,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<StatementRow>, i64)> {
    let sql = format!(
        "SELECT {STATEMENT_COLUMNS} FROM billing_statements WHERE instance_id = $1 \
         ORDER BY timestamp DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let rows = on_read!(db, |c| sqlx::query_as::<_, StatementRow>(sqlx::AssertSqlSafe(sql))
        .bind(instance_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?;
    let total = on_read!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM billing_statements WHERE instance_id = $1"
    )
    .bind(instance_id)
    .fetch_one(c)
    .await)?;
    Ok((rows, total))
}

/// Inserts a payment attempt.
pub async fn insert_attempt(tx: &mut Tx, row: &AttemptRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO billing_payment_attempts ({ATTEMPT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    );
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.payer_id)
            .bind(&row.statement_id)
            .bind(&row.item_id)
            .bind(&row.charge_type)
            .bind(&row.payment_type)
            .bind(row.subtotal)
            .bind(row.discount)
            .bind(row.credits)
            .bind(row.amount)
            .bind(&row.status)
            .bind(row.paid_at)
            .bind(row.failed_at)
            .bind(row.created_at)
            .bind(row.updated_at)
    )?;
    Ok(())
}

read_fns!(
    /// Every payment attempt of the given statements, oldest first.
    attempts_of, attempts_of_tx, (instance_id: &str, statement_id: &str) -> Vec<AttemptRow>, fetch_all,
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM billing_payment_attempts WHERE instance_id = $1 AND statement_id = $2 \
        ORDER BY created_at, id"
    );
    sqlx::query_as::<_, AttemptRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(statement_id)
);

/// Whether the billing clock has anything to do at `now`: an item due to move ([`due_items_tx`]), a trial to
/// announce ([`trials_ending_tx`], with `trial_horizon`) or a statement to close ([`close_statements_tx`]) — read
/// without a write, so that an idle clock neither takes its lease nor commits anything.
pub async fn anything_due(db: &Db, now: i64, trial_horizon: i64) -> StoreResult<bool> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT EXISTS (SELECT 1 FROM billing_items i WHERE {}) \
             OR EXISTS (SELECT 1 FROM billing_items i WHERE {}) \
             OR EXISTS (SELECT 1 FROM billing_statements WHERE {})",
            item_due("$1", "$1"),
            trial_ending("$2"),
            statement_closing("$1")
        )
    });
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, bool>(SQL.as_str()).bind(now).bind(trial_horizon).fetch_one(c).await)?)
}

/// What the billing clock looks for, written once for the statements that act on it and for [`anything_due`]:
/// an item of `billing_items i` whose period ended by `horizon` or that starts by `now`.
fn item_due(horizon: &str, now: &str) -> String {
    format!(
        "((i.status IN ('active', 'canceled', 'past_due') AND i.period_end IS NOT NULL AND i.period_end <= {horizon}) \
         OR (i.status = 'upcoming' AND i.period_start <= {now}))"
    )
}

/// A free trial of `billing_items i` ending by `horizon` and not yet announced.
fn trial_ending(horizon: &str) -> String {
    format!("(i.status = 'active' AND i.is_free_trial AND NOT i.trial_warned AND i.period_end <= {horizon})")
}

/// An open statement of `billing_statements` whose month ended by `now`.
fn statement_closing(now: &str) -> String {
    format!("(status = 'open' AND period_end <= {now})")
}

/// Takes or renews the lease `name` for `owner` until `until`, unless another owner holds it past `now`.
/// Returns whether `owner` holds it.
pub async fn take_lease(db: &Db, name: &str, owner: &str, now: i64, until: i64) -> StoreResult<bool> {
    let n = crate::exec_write!(
        db,
        sqlx::query(
            "INSERT INTO billing_clock_lease (name, owner, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET owner = $2, expires_at = $3 \
             WHERE billing_clock_lease.owner = $2 OR billing_clock_lease.expires_at <= $4"
        )
        .bind(name)
        .bind(owner)
        .bind(until)
        .bind(now)
    )?;
    Ok(n == 1)
}

/// Who a payer is: the user's name and primary e-mail address, or the organization's name.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct PayerDetailsRow {
    /// User's first name.
    pub first_name: Option<String>,
    /// User's last name.
    pub last_name: Option<String>,
    /// User's primary e-mail address.
    pub email: Option<String>,
    /// User's image.
    pub user_image_id: Option<String>,
    /// Organization's name.
    pub organization_name: Option<String>,
    /// Organization's logo.
    pub organization_image_id: Option<String>,
}

read_fns!(
    /// The user or organization behind a payer.
    payer_details, payer_details_tx, (payer: &PayerRow) -> PayerDetailsRow, fetch_optional then Option::unwrap_or_default,
    sqlx::query_as::<_, PayerDetailsRow>(
        "SELECT u.first_name, u.last_name, e.value AS email, u.image_id AS user_image_id, \
         o.name AS organization_name, o.image_id AS organization_image_id \
         FROM billing_payers p LEFT JOIN users u ON u.id = p.user_id \
         LEFT JOIN identifications e ON e.id = u.primary_email_address_id \
         LEFT JOIN organizations o ON o.id = p.organization_id WHERE p.id = $1"
    )
    .bind(&payer.id)
);

read_fns!(
    /// Whether the instance has this user or organization.
    owner_exists, owner_exists_tx, (instance_id: &str, kind_is_org: bool, id: &str) -> bool, fetch_one then |n: i64| n > 0,
    let sql = if kind_is_org {
        "SELECT COUNT(*) FROM organizations WHERE instance_id = $1 AND id = $2"
    } else {
        "SELECT COUNT(*) FROM users WHERE instance_id = $1 AND id = $2"
    };
    sqlx::query_scalar::<_, i64>(sql).bind(instance_id).bind(id)
);

/// Locks a payer's subscription row until the transaction ends, so that changes to its items are serialized
/// (SQLite serializes every writer already).
pub async fn lock_subscription(tx: &mut Tx, payer_id: &str) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE billing_subscriptions SET updated_at = updated_at WHERE payer_id = $1").bind(payer_id)
    )?;
    Ok(())
}
