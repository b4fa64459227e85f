//! Billing: the catalogue (features, plans, prices, discounts) and the instance's billing switches. The payers'
//! side (subscriptions, items, credits, statements, payment attempts) is in [`ledger`].

use std::sync::LazyLock;

use crate::db::FromSqliteRow;
use crate::direct_reads::sqlite_placeholders;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

pub mod ledger;

/// Defines a read function on the pool and its twin inside a write transaction, from one SQL body.
macro_rules! read_fns {
    ($(#[$m:meta])* $name:ident, $name_tx:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty, $fetch:ident $(then $map:expr)?,
     $(let $sql:ident = $sql_text:expr;)? sqlx $($query:tt)+) => {
        $(#[$m])*
        pub async fn $name(db: &Db, $($arg: $ty),*) -> StoreResult<$ret> {
            $(let $sql = $sql_text;)?
            let rows = on_read!(db, |c| sqlx $($query)+.$fetch(c).await)?;
            Ok($(($map))?(rows))
        }
        $(#[$m])*
        #[doc = "(Read inside a write transaction.)"]
        pub async fn $name_tx(tx: &mut Tx, $($arg: $ty),*) -> StoreResult<$ret> {
            $(let $sql = $sql_text;)?
            let rows = fetch_tx!(tx, $fetch, sqlx $($query)+)?;
            Ok($(($map))?(rows))
        }
    };
}
pub(crate) use read_fns;

/// A row of `billing_config`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ConfigRow {
    /// The instance.
    pub instance_id: String,
    /// Billing is enabled for users.
    pub user_enabled: bool,
    /// Billing is enabled for organizations.
    pub org_enabled: bool,
    /// Charges not covered by credits are paid (else they fail).
    pub payments_succeed: bool,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_features`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct FeatureRow {
    /// `feat_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Unique per instance; the `fea` claim names it.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_plans`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct PlanRow {
    /// `cplan_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `prod_…`
    pub product_id: String,
    /// `user` | `org`
    pub payer_type: String,
    /// Unique per instance; the `pla` claim names it.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Avatar.
    pub avatar_url: Option<String>,
    /// The payer type's default (free) plan.
    pub is_default: bool,
    /// Shown in pricing tables.
    pub publicly_visible: bool,
    /// Trial length; `None` = no trial.
    pub free_trial_days: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `billing_prices`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct PriceRow {
    /// `cprice_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The plan.
    pub plan_id: String,
    /// Monthly fee, cents.
    pub amount: i64,
    /// Monthly equivalent of the annual fee, cents (0 = no annual billing).
    pub annual_monthly_amount: i64,
    /// Description.
    pub description: Option<String>,
    /// The plan's own price.
    pub is_default: bool,
    /// `month` | `annual` | `both`
    pub billing_periods: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A row of `billing_discounts`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct DiscountRow {
    /// `cdisc_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The catalogue's key for it.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `percentage` | `fixed_amount`
    pub effect: String,
    /// Whole percent, for `percentage`.
    pub percent_off: Option<i64>,
    /// Cents, for `fixed_amount`.
    pub amount_off: Option<i64>,
    /// Billing cycles it applies to; `None` = forever.
    pub cycles: Option<i64>,
    /// Promotion code, when redeemed by code.
    pub promo_code: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const PLAN_COLUMNS: &str = "id, instance_id, product_id, payer_type, slug, name, description, avatar_url, is_default, \
     publicly_visible, free_trial_days, created_at, updated_at";
const PRICE_COLUMNS: &str =
    "id, instance_id, plan_id, amount, annual_monthly_amount, description, is_default, billing_periods, created_at";

/// Writes the instance's billing switches.
pub async fn put_config(tx: &mut Tx, row: &ConfigRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO billing_config (instance_id, user_enabled, org_enabled, payments_succeed, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance_id) DO UPDATE SET user_enabled = $2, \
             org_enabled = $3, payments_succeed = $4, updated_at = $5"
        )
        .bind(&row.instance_id)
        .bind(row.user_enabled)
        .bind(row.org_enabled)
        .bind(row.payments_succeed)
        .bind(row.updated_at)
    )?;
    Ok(())
}

const CONFIG_SQL: &str = "SELECT instance_id, user_enabled, org_enabled, payments_succeed, updated_at \
    FROM billing_config WHERE instance_id = $1";

/// The instance's billing switches, if ever set.
pub async fn config(db: &Db, instance_id: &str) -> StoreResult<Option<ConfigRow>> {
    // Every session token minted asks whether billing is on: on SQLite without the hop to a connection thread.
    if let Db::Sqlite(pools) = db {
        static SQLITE: LazyLock<String> = LazyLock::new(|| sqlite_placeholders(CONFIG_SQL));
        return pools.direct.optional(&SQLITE, [instance_id.to_owned()], ConfigRow::from_sqlite_row).await;
    }
    Ok(on_read!(db, |c| sqlx::query_as::<_, ConfigRow>(CONFIG_SQL).bind(instance_id).fetch_optional(c).await)?)
}

/// The instance's billing switches, if ever set (read inside a write transaction).
pub async fn config_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Option<ConfigRow>> {
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, ConfigRow>(CONFIG_SQL).bind(instance_id))
}

/// Inserts or updates a feature (by slug); returns its id.
pub async fn upsert_feature(tx: &mut Tx, row: &FeatureRow) -> StoreResult<String> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, String>(
            "INSERT INTO billing_features (id, instance_id, slug, name, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (instance_id, slug) DO UPDATE SET name = $4, \
             description = $5, updated_at = $7 RETURNING id"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.slug)
        .bind(&row.name)
        .bind(&row.description)
        .bind(row.created_at)
        .bind(row.updated_at)
    )
}

read_fns!(
    /// The instance's features.
    features, features_tx, (instance_id: &str) -> Vec<FeatureRow>, fetch_all,
    sqlx::query_as::<_, FeatureRow>(
        "SELECT id, instance_id, slug, name, description, created_at, updated_at FROM billing_features \
         WHERE instance_id = $1 ORDER BY slug"
    )
    .bind(instance_id)
);

/// A plan's feature, with its position in the plan.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct PlanFeatureRow {
    /// The plan.
    pub plan_id: String,
    /// The feature.
    #[sqlx(flatten)]
    pub feature: FeatureRow,
}

read_fns!(
    /// The features of every plan of the instance, in each plan's order.
    plan_features, plan_features_tx, (instance_id: &str) -> Vec<PlanFeatureRow>, fetch_all,
    sqlx::query_as::<_, PlanFeatureRow>(
            "SELECT pf.plan_id, f.id, f.instance_id, f.slug, f.name, f.description, f.created_at, f.updated_at \
             FROM billing_plan_features pf JOIN billing_features f ON f.id = pf.feature_id \
             WHERE pf.instance_id = $1 ORDER BY pf.plan_id, pf.position"
        )
        .bind(instance_id)
);

/// Replaces a plan's features.
pub async fn set_plan_features(
    tx: &mut Tx,
    instance_id: &str,
    plan_id: &str,
    feature_ids: &[String],
) -> StoreResult<()> {
    exec_tx!(tx, sqlx::query("DELETE FROM billing_plan_features WHERE plan_id = $1").bind(plan_id))?;
    for (i, f) in feature_ids.iter().enumerate() {
        exec_tx!(
            tx,
            sqlx::query(
                "INSERT INTO billing_plan_features (instance_id, plan_id, feature_id, position) VALUES ($1, $2, $3, $4)"
            )
            .bind(instance_id)
            .bind(plan_id)
            .bind(f)
            .bind(i as i64)
        )?;
    }
    Ok(())
}

/// Inserts a plan.
pub async fn insert_plan(tx: &mut Tx, row: &PlanRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO billing_plans ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.product_id)
            .bind(&row.payer_type)
            .bind(&row.slug)
            .bind(&row.name)
            .bind(&row.description)
            .bind(&row.avatar_url)
            .bind(row.is_default)
            .bind(row.publicly_visible)
            .bind(row.free_trial_days)
            .bind(row.created_at)
            .bind(row.updated_at)
    )?;
    Ok(())
}

/// Writes a plan's mutable fields (not its payer type or slug).
pub async fn update_plan(tx: &mut Tx, row: &PlanRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE billing_plans SET name = $1, description = $2, avatar_url = $3, is_default = $4, \
             publicly_visible = $5, free_trial_days = $6, updated_at = $7 WHERE instance_id = $8 AND id = $9"
        )
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.avatar_url)
        .bind(row.is_default)
        .bind(row.publicly_visible)
        .bind(row.free_trial_days)
        .bind(row.updated_at)
        .bind(&row.instance_id)
        .bind(&row.id)
    )?;
    Ok(())
}

read_fns!(
    /// Every plan of the instance, newest first.
    plans, plans_tx, (instance_id: &str) -> Vec<PlanRow>, fetch_all,
    let sql = format!(
            "SELECT {PLAN_COLUMNS} FROM billing_plans WHERE instance_id = $1 ORDER BY created_at DESC, id DESC"
        );
    sqlx::query_as::<_, PlanRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id)
);

read_fns!(
    /// One plan.
    plan, plan_tx, (instance_id: &str, id: &str) -> Option<PlanRow>, fetch_optional,
    let sql = format!("SELECT {PLAN_COLUMNS} FROM billing_plans WHERE instance_id = $1 AND id = $2");
    sqlx::query_as::<_, PlanRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
);

/// Inserts a price.
pub async fn insert_price(tx: &mut Tx, row: &PriceRow) -> StoreResult<()> {
    let sql = format!("INSERT INTO billing_prices ({PRICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.instance_id)
            .bind(&row.plan_id)
            .bind(row.amount)
            .bind(row.annual_monthly_amount)
            .bind(&row.description)
            .bind(row.is_default)
            .bind(&row.billing_periods)
            .bind(row.created_at)
    )?;
    Ok(())
}

/// Writes the amounts of a plan's default price.
pub async fn update_default_price(
    tx: &mut Tx,
    plan_id: &str,
    amount: i64,
    annual_monthly: i64,
    periods: &str,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE billing_prices SET amount = $1, annual_monthly_amount = $2, billing_periods = $3 \
             WHERE plan_id = $4 AND is_default"
        )
        .bind(amount)
        .bind(annual_monthly)
        .bind(periods)
        .bind(plan_id)
    )?;
    Ok(())
}

read_fns!(
    /// The default prices of every plan of the instance.
    default_prices, default_prices_tx, (instance_id: &str) -> Vec<PriceRow>, fetch_all,
    let sql = format!("SELECT {PRICE_COLUMNS} FROM billing_prices WHERE instance_id = $1 AND is_default");
    sqlx::query_as::<_, PriceRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id)
);

read_fns!(
    /// One price.
    price, price_tx, (instance_id: &str, id: &str) -> Option<PriceRow>, fetch_optional,
    let sql = format!("SELECT {PRICE_COLUMNS} FROM billing_prices WHERE instance_id = $1 AND id = $2");
    sqlx::query_as::<_, PriceRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
);

/// A page of the instance's prices (of one plan when given): by amount ascending, then newest first.
pub async fn list_prices(
    db: &Db,
    instance_id: &str,
    plan_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<PriceRow>, i64)> {
    let filter = if plan_id.is_some() { "instance_id = $1 AND plan_id = $2" } else { "instance_id = $1 AND $2 = ''" };
    let sql = format!(
        "SELECT {PRICE_COLUMNS} FROM billing_prices WHERE {filter} ORDER BY amount ASC, created_at DESC, id DESC \
         LIMIT $3 OFFSET $4"
    );
    let count_sql = format!("SELECT COUNT(*) FROM billing_prices WHERE {filter}");
    let plan = plan_id.unwrap_or("");
    let rows = on_read!(db, |c| sqlx::query_as::<_, PriceRow>(sqlx::AssertSqlSafe(sql))
        .bind(instance_id)
        .bind(plan)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?;
    let total = on_read!(db, |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql))
        .bind(instance_id)
        .bind(plan)
        .fetch_one(c)
        .await)?;
    Ok((rows, total))
}

/// Inserts or updates a discount (by slug).
pub async fn upsert_discount(tx: &mut Tx, row: &DiscountRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO billing_discounts (id, instance_id, slug, name, effect, percent_off, amount_off, cycles, \
             promo_code, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (instance_id, slug) DO UPDATE SET name = $4, effect = $5, percent_off = $6, amount_off = $7, \
             cycles = $8, promo_code = $9, updated_at = $11"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.slug)
        .bind(&row.name)
        .bind(&row.effect)
        .bind(row.percent_off)
        .bind(row.amount_off)
        .bind(row.cycles)
        .bind(&row.promo_code)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}

const DISCOUNT_COLUMNS: &str =
    "id, instance_id, slug, name, effect, percent_off, amount_off, cycles, promo_code, created_at, updated_at";

read_fns!(
    /// The instance's discounts.
    discounts, discounts_tx, (instance_id: &str) -> Vec<DiscountRow>, fetch_all,
    let sql = format!("SELECT {DISCOUNT_COLUMNS} FROM billing_discounts WHERE instance_id = $1 ORDER BY slug");
    sqlx::query_as::<_, DiscountRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id)
);

read_fns!(
    /// One discount.
    discount, discount_tx, (instance_id: &str, id: &str) -> Option<DiscountRow>, fetch_optional,
    let sql = format!("SELECT {DISCOUNT_COLUMNS} FROM billing_discounts WHERE instance_id = $1 AND id = $2");
    sqlx::query_as::<_, DiscountRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
);
