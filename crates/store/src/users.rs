//! Users and their identifications (email addresses, phone numbers, web3 wallets).

use std::sync::OnceLock;

use serde::Deserialize;

use crate::db::FromSqliteRow;
use crate::dialect::{Dialect, json_bool};
use crate::direct_reads::{Cost, PerCount};
use crate::error::StoreError;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `users`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct UserRow {
    /// `user_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Id in the customer's systems (unique per instance, exact).
    pub external_id: Option<String>,
    /// Username as given.
    pub username: Option<String>,
    /// Lower-cased username (unique per instance).
    pub username_normalized: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Lower-cased "first last".
    pub name_search: String,
    /// Locale.
    pub locale: Option<String>,
    /// Primary email identification.
    pub primary_email_address_id: Option<String>,
    /// Primary phone identification.
    pub primary_phone_number_id: Option<String>,
    /// Primary web3 wallet identification.
    pub primary_web3_wallet_id: Option<String>,
    /// JSON object.
    pub public_metadata: String,
    /// JSON object.
    pub private_metadata: String,
    /// JSON object.
    pub unsafe_metadata: String,
    /// Password digest (PHC for argon2id; imported format otherwise).
    pub password_digest: Option<String>,
    /// Hasher of `password_digest`.
    pub password_hasher: Option<String>,
    /// Unix ms.
    pub password_last_updated_at: Option<i64>,
    /// Marked compromised by the API.
    pub password_compromised: bool,
    /// Sealed base32 TOTP secret.
    pub totp_secret_sealed: Option<Vec<u8>>,
    /// Last accepted TOTP step.
    pub totp_last_step: Option<i64>,
    /// Unix ms.
    pub mfa_enabled_at: Option<i64>,
    /// Unix ms.
    pub mfa_disabled_at: Option<i64>,
    /// Banned.
    pub banned: bool,
    /// Deactivated by the directory that provisioned the user (0040): may not sign in.
    pub deprovisioned: bool,
    /// Start of the current lock, Unix ms.
    pub locked_at: Option<i64>,
    /// End of the current lock (NULL with `locked_at` set: never), Unix ms.
    pub lockout_expires_at: Option<i64>,
    /// Failed password/code verifications since the last success or lock expiry.
    pub failed_verification_attempts: i64,
    /// Current profile image.
    pub image_id: Option<String>,
    /// Flag.
    pub delete_self_enabled: bool,
    /// Flag.
    pub create_organization_enabled: bool,
    /// 0/NULL = unlimited.
    pub create_organizations_limit: Option<i64>,
    /// Flag.
    pub bypass_client_trust: bool,
    /// Unix ms.
    pub legal_accepted_at: Option<i64>,
    /// Unix ms.
    pub last_sign_in_at: Option<i64>,
    /// Unix ms.
    pub last_active_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `identifications` (also decoded from the JSON array of [`UserWithIdentifications`]).
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow, Deserialize)]
pub struct IdentificationRow {
    /// `idn_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Owning user.
    pub user_id: String,
    /// `email_address`, `phone_number` or `web3_wallet`.
    pub kind: String,
    /// Value as shown.
    pub value: String,
    /// Normalized value (unique per instance and kind).
    pub value_normalized: String,
    /// Reserved (unverified but claimed).
    #[serde(deserialize_with = "json_bool")]
    pub reserved: bool,
    /// `verified`, `unverified`…
    pub verification_status: Option<String>,
    /// `admin`, `email_code`…; NULL = no verification object.
    pub verification_strategy: Option<String>,
    /// Attempts of the verification.
    pub verification_attempts: Option<i64>,
    /// Expiry of the verification, Unix ms.
    pub verification_expire_at: Option<i64>,
    /// Phone used for second factor.
    #[serde(deserialize_with = "json_bool")]
    pub reserved_for_second_factor: bool,
    /// Default second factor phone.
    #[serde(deserialize_with = "json_bool")]
    pub default_second_factor: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Every column of `users`, prefixed with `u.`.
pub const USER_COLUMNS: &str = "u.id, u.instance_id, u.external_id, u.username, u.username_normalized, u.first_name, \
    u.last_name, u.name_search, u.locale, u.primary_email_address_id, u.primary_phone_number_id, \
    u.primary_web3_wallet_id, u.public_metadata, u.private_metadata, u.unsafe_metadata, u.password_digest, \
    u.password_hasher, u.password_last_updated_at, u.password_compromised, u.totp_secret_sealed, u.totp_last_step, \
    u.mfa_enabled_at, u.mfa_disabled_at, u.banned, u.deprovisioned, u.locked_at, u.lockout_expires_at, \
    u.failed_verification_attempts, u.image_id, u.delete_self_enabled, u.create_organization_enabled, \
    u.create_organizations_limit, u.bypass_client_trust, u.legal_accepted_at, u.last_sign_in_at, u.last_active_at, u.created_at, u.updated_at";

/// Every column of `identifications`.
pub const IDENTIFICATION_COLUMNS: &str = "id, instance_id, user_id, kind, value, value_normalized, reserved, \
    verification_status, verification_strategy, verification_attempts, verification_expire_at, \
    reserved_for_second_factor, default_second_factor, created_at, updated_at";

/// A user row with everything the user object shows besides it: the identifications, the number of backup codes
/// and the enterprise accounts.
#[derive(Debug, Clone)]
pub struct UserWithIdentifications {
    /// The user.
    pub user: UserRow,
    /// The user's identifications, oldest first.
    pub identifications: Vec<IdentificationRow>,
    /// How many backup codes the user has left.
    pub backup_code_count: i64,
    /// The user's enterprise accounts with their connections, oldest first.
    pub enterprise_accounts: Vec<crate::sso::UserEnterpriseAccount>,
}

impl UserWithIdentifications {
    /// Puts the identifications in the order every read returns them: oldest first, then by id.
    pub fn order_identifications(&mut self) {
        self.identifications.sort_unstable_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    }
}

/// A user as one statement returns it with [`user_with_identifications_columns`]: the identifications and the
/// enterprise accounts aggregated as JSON arrays. Inside write transactions, where one statement is one round trip
/// (or one hop to SQLite's writer thread); reads outside take the direct SQLite statements or PostgreSQL's join
/// ([`crate::pg_user_reads`]).
#[derive(sqlx::FromRow, FromSqliteRow)]
pub(crate) struct AggregatedUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    identifications_json: String,
    backup_code_count: i64,
    enterprise_accounts_json: String,
}

impl TryFrom<AggregatedUserRow> for UserWithIdentifications {
    type Error = StoreError;

    fn try_from(row: AggregatedUserRow) -> StoreResult<Self> {
        let decode = |e: serde_json::Error| StoreError::Sqlx(sqlx::Error::Decode(Box::new(e)));
        Ok(Self {
            identifications: serde_json::from_str(&row.identifications_json).map_err(decode)?,
            enterprise_accounts: serde_json::from_str(&row.enterprise_accounts_json).map_err(decode)?,
            backup_code_count: row.backup_code_count,
            user: row.user,
        })
    }
}

impl UserRow {
    /// Decodes the columns of [`USER_COLUMNS`], in their order, from a rusqlite row.
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            instance_id: r.get(1)?,
            external_id: r.get(2)?,
            username: r.get(3)?,
            username_normalized: r.get(4)?,
            first_name: r.get(5)?,
            last_name: r.get(6)?,
            name_search: r.get(7)?,
            locale: r.get(8)?,
            primary_email_address_id: r.get(9)?,
            primary_phone_number_id: r.get(10)?,
            primary_web3_wallet_id: r.get(11)?,
            public_metadata: r.get(12)?,
            private_metadata: r.get(13)?,
            unsafe_metadata: r.get(14)?,
            password_digest: r.get(15)?,
            password_hasher: r.get(16)?,
            password_last_updated_at: r.get(17)?,
            password_compromised: r.get(18)?,
            totp_secret_sealed: r.get(19)?,
            totp_last_step: r.get(20)?,
            mfa_enabled_at: r.get(21)?,
            mfa_disabled_at: r.get(22)?,
            banned: r.get(23)?,
            deprovisioned: r.get(24)?,
            locked_at: r.get(25)?,
            lockout_expires_at: r.get(26)?,
            failed_verification_attempts: r.get(27)?,
            image_id: r.get(28)?,
            delete_self_enabled: r.get(29)?,
            create_organization_enabled: r.get(30)?,
            create_organizations_limit: r.get(31)?,
            bypass_client_trust: r.get(32)?,
            legal_accepted_at: r.get(33)?,
            last_sign_in_at: r.get(34)?,
            last_active_at: r.get(35)?,
            created_at: r.get(36)?,
            updated_at: r.get(37)?,
        })
    }
}

impl IdentificationRow {
    /// Decodes the columns of [`IDENTIFICATION_COLUMNS`], in their order, from a rusqlite row.
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Self::from_sqlite_at(r, 0)
    }

    /// Decodes the columns of [`IDENTIFICATION_COLUMNS`], in their order, starting at column `at`.
    fn from_sqlite_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(at)?,
            instance_id: r.get(at + 1)?,
            user_id: r.get(at + 2)?,
            kind: r.get(at + 3)?,
            value: r.get(at + 4)?,
            value_normalized: r.get(at + 5)?,
            reserved: r.get(at + 6)?,
            verification_status: r.get(at + 7)?,
            verification_strategy: r.get(at + 8)?,
            verification_attempts: r.get(at + 9)?,
            verification_expire_at: r.get(at + 10)?,
            reserved_for_second_factor: r.get(at + 11)?,
            default_second_factor: r.get(at + 12)?,
            created_at: r.get(at + 13)?,
            updated_at: r.get(at + 14)?,
        })
    }
}

/// What a user statement that looks users up by id counts itself (see [`COUNTED_COLUMNS`]), so that
/// [`sqlite_details`] need not ask: a single user's read is then two statements, not four.
pub(crate) struct Counted {
    backup_codes: i64,
    has_enterprise_accounts: bool,
}

/// Two columns after [`USER_COLUMNS`] for users aliased `u`, decoded by [`Counted::from_sqlite`]. Only for
/// statements that find their users by id or walk an index in the list's order: a list that sorts would compute
/// them for every user it sorts.
pub(crate) const COUNTED_COLUMNS: &str = "(SELECT COUNT(*) FROM user_backup_codes b WHERE b.user_id = u.id), \
    EXISTS (SELECT 1 FROM enterprise_accounts a WHERE a.instance_id = u.instance_id AND a.user_id = u.id)";

/// How many columns [`USER_COLUMNS`] has: [`COUNTED_COLUMNS`] follow them, then a joined read's identification.
pub(crate) const USER_COLUMN_COUNT: usize = 38;

/// Where [`sqlite_user_joined`]'s rows start the identification columns (after [`USER_COLUMNS`] and
/// [`COUNTED_COLUMNS`]).
const JOINED_IDENTIFICATION_AT: usize = USER_COLUMN_COUNT + 2;

/// One user of instance `?1` by id (`?2`) with its counts and its identifications, in one statement: a row per
/// identification (one row with NULL identification columns when it has none), the user's columns repeated on
/// each. A single user's read is then one statement, not two.
fn sqlite_user_joined() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let identification = IDENTIFICATION_FIELDS.iter().map(|f| format!("i.{f}")).collect::<Vec<_>>();
        format!(
            "SELECT {USER_COLUMNS}, {COUNTED_COLUMNS}, {} FROM users u \
             LEFT JOIN identifications i ON i.user_id = u.id WHERE u.instance_id = ?1 AND u.id = ?2",
            identification.join(", ")
        )
    })
}

impl Counted {
    /// A user and its counts from a row of [`USER_COLUMNS`] and [`COUNTED_COLUMNS`].
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<(UserRow, Option<Self>)> {
        let counted =
            Self { backup_codes: r.get(USER_COLUMN_COUNT)?, has_enterprise_accounts: r.get(USER_COLUMN_COUNT + 1)? };
        Ok((UserRow::from_sqlite(r)?, Some(counted)))
    }
}

/// The identifications of the users `?2…` of instance `?1`, in no particular order: [`sqlite_details`] puts each
/// user's in order (oldest first, then by id). An `ORDER BY created_at, id` here made SQLite sort the rows in a
/// temporary b-tree (the `(user_id, created_at)` index orders one user's rows by time, not by id after it), a
/// third of the statement's cost. `+instance_id`: without statistics SQLite would rather walk the instance's
/// identifications by the `(instance_id, kind, value)` index than look up these few users by
/// `(user_id, created_at)`.
fn sqlite_identifications(users: usize) -> String {
    format!(
        "SELECT {IDENTIFICATION_COLUMNS} FROM identifications WHERE user_id IN ({}) AND +instance_id = ?1",
        crate::direct_reads::placeholders(2, users)
    )
}

/// Completes users read on a direct SQLite connection (see [`crate::direct_reads`]) with their identifications,
/// backup-code counts and enterprise accounts: a statement each for all of them, in place of the JSON that one
/// statement would aggregate per user (SQLite built, sorted and the caller parsed it again: a third of a page's
/// instructions). Keeps the users' order.
pub(crate) fn sqlite_details(
    conn: &rusqlite::Connection,
    instance_id: &str,
    users: Vec<(UserRow, Option<Counted>)>,
) -> rusqlite::Result<Vec<UserWithIdentifications>> {
    sqlite_complete(conn, instance_id, users, None)
}

/// [`sqlite_details`], with the users' identifications given when the caller's statement read them already.
fn sqlite_complete(
    conn: &rusqlite::Connection,
    instance_id: &str,
    users: Vec<(UserRow, Option<Counted>)>,
    identifications: Option<Vec<IdentificationRow>>,
) -> rusqlite::Result<Vec<UserWithIdentifications>> {
    use crate::direct_reads::{PerCount, placeholders};
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let n = users.len();
    let all_counted = users.iter().all(|(_, counted)| counted.is_some());
    let any_accounts = users.iter().any(|(_, c)| c.as_ref().is_none_or(|c| c.has_enterprise_accounts));
    let mut out: Vec<UserWithIdentifications> = users
        .into_iter()
        .map(|(user, counted)| UserWithIdentifications {
            user,
            identifications: Vec::new(),
            backup_code_count: counted.map_or(0, |c| c.backup_codes),
            enterprise_accounts: Vec::new(),
        })
        .collect();
    let position: std::collections::HashMap<String, usize> =
        out.iter().enumerate().map(|(i, u)| (u.user.id.clone(), i)).collect();
    let params =
        || rusqlite::params_from_iter(std::iter::once(instance_id).chain(out.iter().map(|u| u.user.id.as_str())));

    static IDENTIFICATIONS: PerCount = PerCount::new(sqlite_identifications);
    static BACKUP_CODES: PerCount = PerCount::new(|n| {
        format!(
            "SELECT user_id, COUNT(*) FROM user_backup_codes WHERE user_id IN ({}) AND instance_id = ?1 \
             GROUP BY user_id",
            placeholders(2, n)
        )
    });
    static ACCOUNTS: PerCount = PerCount::new(crate::sso::sqlite_user_accounts);
    let rows = match identifications {
        Some(rows) => rows,
        None => {
            let mut idents = conn.prepare_cached(&IDENTIFICATIONS.get(n))?;
            idents.query_map(params(), IdentificationRow::from_sqlite)?.collect::<rusqlite::Result<Vec<_>>>()?
        }
    };
    let counts = if all_counted {
        Vec::new()
    } else {
        let mut codes = conn.prepare_cached(&BACKUP_CODES.get(n))?;
        codes
            .query_map(params(), |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let accounts = if any_accounts {
        let mut accounts = conn.prepare_cached(&ACCOUNTS.get(n))?;
        accounts
            .query_map(params(), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        Vec::new()
    };

    for row in rows {
        if let Some(&i) = position.get(&row.user_id) {
            out[i].identifications.push(row);
        }
    }
    for user in &mut out {
        user.order_identifications();
    }
    for (user_id, count) in counts {
        if let Some(&i) = position.get(&user_id) {
            out[i].backup_code_count = count;
        }
    }
    for (user_id, json) in accounts {
        let account = serde_json::from_str(&json)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
        if let Some(&i) = position.get(&user_id) {
            out[i].enterprise_accounts.push(account);
        }
    }
    Ok(out)
}

/// Brings the SQLite user search index (migration 0015) up to date for the users its triggers noted as changed:
/// deleting the notes fires migration 0048's trigger, which rewrites each noted user's document (or forgets a
/// deleted user's). The group-commit writer runs it as its deferred work: just before a batch's `COMMIT`, outside
/// every transaction's savepoint (FTS5 writes a segment at each savepoint it meets), once enough users changed or
/// a search asks for it (`user_list`), so that one segment covers many users.
pub const SQLITE_USER_SEARCH_FLUSH: &str = "DELETE FROM user_search_pending";

/// The identification columns the aggregated JSON and PostgreSQL's joined reads carry (every column of
/// [`IdentificationRow`]).
pub(crate) const IDENTIFICATION_FIELDS: &[&str] = &[
    "id",
    "instance_id",
    "user_id",
    "kind",
    "value",
    "value_normalized",
    "reserved",
    "verification_status",
    "verification_strategy",
    "verification_attempts",
    "verification_expire_at",
    "reserved_for_second_factor",
    "default_second_factor",
    "created_at",
    "updated_at",
];

/// The columns of [`UserWithIdentifications`] for users aliased `u`: every user column, the identifications as
/// one JSON array and the backup-code count, each a subquery driven by the `(user_id, …)` indexes. Built once per
/// dialect: formatting it anew was a tenth of a user read's instructions. For reads in write transactions.
///
/// The identifications and backup codes are matched by user id alone: user ids are unique across instances and
/// both tables reference `users(id)`, so the user's instance is theirs. An `instance_id` term as well gave
/// PostgreSQL a second index to combine: without statistics (a freshly filled table, until autovacuum analyzes
/// it) it ANDed a bitmap of every identification of the instance with the user's, 0.25 ms per user.
pub fn user_with_identifications_columns(dialect: Dialect) -> &'static str {
    static COLUMNS: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    COLUMNS[dialect_index(dialect)].get_or_init(|| {
        let idents = dialect.json_array_of(
            IDENTIFICATION_FIELDS,
            "i",
            "identifications i",
            "i.user_id = u.id",
            "i.created_at, i.id",
        );
        let accounts = crate::sso::user_accounts_json(dialect);
        format!(
            "{USER_COLUMNS}, {idents} AS identifications_json, (SELECT COUNT(*) FROM user_backup_codes b \
             WHERE b.user_id = u.id) AS backup_code_count, {accounts} AS enterprise_accounts_json"
        )
    })
}

fn dialect_index(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Sqlite => 0,
        Dialect::Postgres => 1,
    }
}

/// One user of the instance with their identifications, backup-code count and enterprise accounts.
pub async fn get_full(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<UserWithIdentifications>> {
    let pools = match db {
        Db::Sqlite(pools) => pools,
        Db::Postgres(pools) => {
            static SQL: OnceLock<String> = OnceLock::new();
            let sql = SQL.get_or_init(|| crate::pg_user_reads::statement("u.instance_id = $1 AND u.id = $2", None));
            let query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(instance_id).bind(id);
            return Ok(crate::pg_user_reads::fetch(pools, instance_id, query).await?.pop());
        }
    };
    let (instance_id, id) = (instance_id.to_owned(), id.to_owned());
    pools
        .direct
        .run(Cost::Bounded, move |c| {
            let mut statement = c.prepare_cached(sqlite_user_joined())?;
            let mut rows = statement.query([&instance_id, &id])?;
            let mut user = None;
            let mut identifications = Vec::new();
            while let Some(row) = rows.next()? {
                if user.is_none() {
                    user = Some(Counted::from_sqlite(row)?);
                }
                if row.get_ref(JOINED_IDENTIFICATION_AT)?.data_type() != rusqlite::types::Type::Null {
                    identifications.push(IdentificationRow::from_sqlite_at(row, JOINED_IDENTIFICATION_AT)?);
                }
            }
            drop(rows);
            let Some(user) = user else { return Ok(None) };
            Ok(sqlite_complete(c, &instance_id, vec![user], Some(identifications))?.pop())
        })
        .await
}

/// [`get_full`] inside a write transaction (it sees the transaction's own changes). On PostgreSQL the user row is
/// locked until the end of the transaction, as [`lock`] does.
pub async fn get_full_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<UserWithIdentifications>> {
    static SQL: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    let dialect = Dialect::of_tx(tx);
    let sql = SQL[dialect_index(dialect)].get_or_init(|| {
        let columns = user_with_identifications_columns(dialect);
        let suffix = if dialect == Dialect::Postgres { " FOR UPDATE OF u" } else { "" };
        format!("SELECT {columns} FROM users u WHERE u.instance_id = $1 AND u.id = $2{suffix}")
    });
    let row =
        fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, AggregatedUserRow>(sql.as_str()).bind(instance_id).bind(id))?;
    row.map(UserWithIdentifications::try_from).transpose()
}

/// The users of the instance among `ids` with their identifications, backup-code counts and enterprise accounts,
/// in no particular order.
pub async fn get_many_full(db: &Db, instance_id: &str, ids: &[String]) -> StoreResult<Vec<UserWithIdentifications>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pools = match db {
        Db::Sqlite(pools) => pools,
        Db::Postgres(pools) => {
            static SQL: OnceLock<String> = OnceLock::new();
            let sql = SQL
                .get_or_init(|| crate::pg_user_reads::statement("u.instance_id = $1 AND u.id = ANY($2)", Some("u.id")));
            let query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(instance_id).bind(ids);
            return crate::pg_user_reads::fetch(pools, instance_id, query).await;
        }
    };
    let (instance_id, ids) = (instance_id.to_owned(), ids.to_vec());
    pools
        .direct
        .run(Cost::Bounded, move |c| {
            static USERS: PerCount = PerCount::new(|n| {
                format!(
                    "SELECT {USER_COLUMNS}, {COUNTED_COLUMNS} FROM users u WHERE u.instance_id = ?1 AND u.id IN ({})",
                    crate::direct_reads::placeholders(2, n)
                )
            });
            let mut user = c.prepare_cached(&USERS.get(ids.len()))?;
            let params = std::iter::once(&instance_id).chain(&ids);
            let users = user
                .query_map(rusqlite::params_from_iter(params), Counted::from_sqlite)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            sqlite_details(c, &instance_id, users)
        })
        .await
}

/// The columns a new user's row is written with, in the order of [`insert`]'s (and [`insert_created_at_once`]'s)
/// parameters. A literal, so that both statements share it.
macro_rules! user_insert_columns {
    () => {
        "id, instance_id, external_id, username, username_normalized, first_name, last_name, name_search, locale, \
         primary_email_address_id, primary_phone_number_id, primary_web3_wallet_id, public_metadata, \
         private_metadata, unsafe_metadata, password_digest, password_hasher, password_last_updated_at, \
         password_compromised, totp_secret_sealed, totp_last_step, mfa_enabled_at, mfa_disabled_at, banned, locked_at, \
         lockout_expires_at, failed_verification_attempts, image_id, delete_self_enabled, create_organization_enabled, \
         create_organizations_limit, bypass_client_trust, legal_accepted_at, last_sign_in_at, last_active_at, \
         created_at, updated_at"
    };
}

/// Inserts a user. A unique violation names the taken username or external id (see [`UniqueField`]).
pub async fn insert(tx: &mut Tx, u: &UserRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(concat!(
            "INSERT INTO users (",
            user_insert_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
                 $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37)"
        ))
        .bind(&u.id)
        .bind(&u.instance_id)
        .bind(&u.external_id)
        .bind(&u.username)
        .bind(&u.username_normalized)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.name_search)
        .bind(&u.locale)
        .bind(&u.primary_email_address_id)
        .bind(&u.primary_phone_number_id)
        .bind(&u.primary_web3_wallet_id)
        .bind(&u.public_metadata)
        .bind(&u.private_metadata)
        .bind(&u.unsafe_metadata)
        .bind(&u.password_digest)
        .bind(&u.password_hasher)
        .bind(u.password_last_updated_at)
        .bind(u.password_compromised)
        .bind(&u.totp_secret_sealed)
        .bind(u.totp_last_step)
        .bind(u.mfa_enabled_at)
        .bind(u.mfa_disabled_at)
        .bind(u.banned)
        .bind(u.locked_at)
        .bind(u.lockout_expires_at)
        .bind(u.failed_verification_attempts)
        .bind(&u.image_id)
        .bind(u.delete_self_enabled)
        .bind(u.create_organization_enabled)
        .bind(u.create_organizations_limit)
        .bind(u.bypass_client_trust)
        .bind(u.legal_accepted_at)
        .bind(u.last_sign_in_at)
        .bind(u.last_active_at)
        .bind(u.created_at)
        .bind(u.updated_at)
    )?;
    Ok(())
}

/// Writes the profile fields a PATCH can change (not passwords, MFA, lockout or images: they have their own
/// statements, so that concurrent changes of those do not overwrite each other).
pub async fn update_profile(tx: &mut Tx, u: &UserRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET external_id = $1, username = $2, username_normalized = $3, first_name = $4, \
             last_name = $5, name_search = $6, locale = $7, primary_email_address_id = $8, \
             primary_phone_number_id = $9, primary_web3_wallet_id = $10, public_metadata = $11, \
             private_metadata = $12, unsafe_metadata = $13, delete_self_enabled = $14, \
             create_organization_enabled = $15, create_organizations_limit = $16, bypass_client_trust = $17, \
             legal_accepted_at = $18, created_at = $19, updated_at = $20 WHERE instance_id = $21 AND id = $22"
        )
        .bind(&u.external_id)
        .bind(&u.username)
        .bind(&u.username_normalized)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.name_search)
        .bind(&u.locale)
        .bind(&u.primary_email_address_id)
        .bind(&u.primary_phone_number_id)
        .bind(&u.primary_web3_wallet_id)
        .bind(&u.public_metadata)
        .bind(&u.private_metadata)
        .bind(&u.unsafe_metadata)
        .bind(u.delete_self_enabled)
        .bind(u.create_organization_enabled)
        .bind(u.create_organizations_limit)
        .bind(u.bypass_client_trust)
        .bind(u.legal_accepted_at)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(&u.instance_id)
        .bind(&u.id)
    )
}

/// Inserts an identification.
pub async fn insert_identification(tx: &mut Tx, i: &IdentificationRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO identifications (id, instance_id, user_id, kind, value, value_normalized, reserved, \
             verification_status, verification_strategy, verification_attempts, verification_expire_at, \
             reserved_for_second_factor, default_second_factor, created_at, updated_at, email_dotless) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        )
        .bind(&i.id)
        .bind(&i.instance_id)
        .bind(&i.user_id)
        .bind(&i.kind)
        .bind(&i.value)
        .bind(&i.value_normalized)
        .bind(i.reserved)
        .bind(&i.verification_status)
        .bind(&i.verification_strategy)
        .bind(i.verification_attempts)
        .bind(i.verification_expire_at)
        .bind(i.reserved_for_second_factor)
        .bind(i.default_second_factor)
        .bind(i.created_at)
        .bind(i.updated_at)
        .bind(dotless_key(i))
    )?;
    Ok(())
}

/// The `email_dotless` column of an identification: its gmail comparison key if it is an e-mail address.
fn dotless_key(i: &IdentificationRow) -> Option<String> {
    if i.kind == "email_address" { email_dotless(&i.value_normalized) } else { None }
}

/// What [`insert_created_at_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtOnce {
    /// The user, its identifications and its event are committed.
    Written,
    /// Nothing was written: the instance bills users, or a verified organization domain matches one of the verified
    /// addresses, and either needs more rows in the same transaction (or the database is SQLite, where
    /// transactions are batched anyway). Write the user in a transaction instead.
    NeedsTransaction,
}

/// PostgreSQL: a new user, its identifications and its event (with one delivery per subscribed endpoint) in ONE
/// statement, in autocommit — one round trip instead of seven (begin, user, address, event, the billing and
/// domain reads, commit): per-statement work and round trips were most of PostgreSQL's time on a create
/// (`pgbench`, 32 clients: 2.3k creates/s as seven statements, 4.1k as one). The statement writes nothing unless
/// the instance neither bills users (`billing_config.user_enabled`) nor has a verified, enrolling organization
/// domain matching one of `verified_emails` — what [`insert`]'s callers then do inside their transaction
/// (`billing::provision_tx`, `domain_enrollment::enroll_user_tx`), read in the same snapshot as the insert, as
/// their own reads in a READ COMMITTED transaction would be. A unique violation leaves nothing written and is
/// returned as is; the caller redoes the create in a transaction, which names the field. On SQLite: always
/// [`AtOnce::NeedsTransaction`].
pub async fn insert_created_at_once(
    db: &Db,
    u: &UserRow,
    idents: &[IdentificationRow],
    verified_emails: &[&str],
    event: &crate::webhooks::NewEvent<'_>,
) -> StoreResult<AtOnce> {
    let Db::Postgres(pools) = db else { return Ok(AtOnce::NeedsTransaction) };
    static STATEMENT: OnceLock<(String, crate::changes::Changed)> = OnceLock::new();
    let (sql, changed) = STATEMENT.get_or_init(|| {
        let sql = format!(
            concat!(
                "WITH gate AS (SELECT NOT EXISTS (SELECT 1 FROM billing_config WHERE instance_id = $8 AND user_enabled) \
                 AND NOT EXISTS (SELECT 1 FROM organization_domains d CROSS JOIN unnest($60::text[]) AS e(address) \
                 WHERE d.instance_id = $8 AND {enrolls}) AS open), \
                 new_user AS (INSERT INTO users (",
                user_insert_columns!(),
                ") SELECT $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
                 $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43 FROM gate \
                 WHERE gate.open RETURNING id), \
                 new_identification AS (INSERT INTO identifications (id, instance_id, user_id, kind, value, \
                 value_normalized, reserved, verification_status, verification_strategy, verification_attempts, \
                 verification_expire_at, reserved_for_second_factor, default_second_factor, created_at, updated_at, \
                 email_dotless) \
                 SELECT i.* FROM new_user CROSS JOIN unnest($44::text[], $45::text[], $46::text[], $47::text[], \
                 $48::text[], $49::text[], $50::boolean[], $51::text[], $52::text[], $53::bigint[], $54::bigint[], \
                 $55::boolean[], $56::boolean[], $57::bigint[], $58::bigint[], $59::text[]) AS i \
                 RETURNING 1), \
                 event AS (INSERT INTO webhook_events (id, instance_id, event_type, resource_id, payload, created_at) \
                 SELECT $1, $2, $3, $4, $5, $6 FROM new_user RETURNING seq), ",
                crate::webhooks::pg_event_deliveries!(),
                " SELECT count(*) FROM new_user"
            ),
            enrolls = crate::domain_enrollment::enrolls("e.address")
        );
        let changed = crate::changes::Changed::by(&sql);
        (sql, changed)
    });
    let column = |f: fn(&IdentificationRow) -> String| idents.iter().map(f).collect::<Vec<_>>();
    let optional = |f: fn(&IdentificationRow) -> Option<String>| idents.iter().map(f).collect::<Vec<_>>();
    let number = |f: fn(&IdentificationRow) -> Option<i64>| idents.iter().map(f).collect::<Vec<_>>();
    let flag = |f: fn(&IdentificationRow) -> bool| idents.iter().map(f).collect::<Vec<_>>();
    let query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(event.id)
        .bind(event.instance_id)
        .bind(event.event_type)
        .bind(event.resource_id)
        .bind(event.payload)
        .bind(event.created_at);
    let query = bind_user(query, u)
        .bind(column(|i| i.id.clone()))
        .bind(column(|i| i.instance_id.clone()))
        .bind(column(|i| i.user_id.clone()))
        .bind(column(|i| i.kind.clone()))
        .bind(column(|i| i.value.clone()))
        .bind(column(|i| i.value_normalized.clone()))
        .bind(flag(|i| i.reserved))
        .bind(optional(|i| i.verification_status.clone()))
        .bind(optional(|i| i.verification_strategy.clone()))
        .bind(number(|i| i.verification_attempts))
        .bind(number(|i| i.verification_expire_at))
        .bind(flag(|i| i.reserved_for_second_factor))
        .bind(flag(|i| i.default_second_factor))
        .bind(number(|i| Some(i.created_at)))
        .bind(number(|i| Some(i.updated_at)))
        .bind(optional(dotless_key))
        .bind(verified_emails);
    let written = query.fetch_one(&pools.pool).await.map_err(StoreError::from);
    pools.changes.committed(*changed);
    Ok(if written? == 1 { AtOnce::Written } else { AtOnce::NeedsTransaction })
}

/// Binds a user row's columns in the order of [`user_insert_columns!`] (PostgreSQL).
fn bind_user<'q, O>(
    query: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    u: &'q UserRow,
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
where
    O: Send + Unpin,
    (O,): for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    query
        .bind(&u.id)
        .bind(&u.instance_id)
        .bind(&u.external_id)
        .bind(&u.username)
        .bind(&u.username_normalized)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.name_search)
        .bind(&u.locale)
        .bind(&u.primary_email_address_id)
        .bind(&u.primary_phone_number_id)
        .bind(&u.primary_web3_wallet_id)
        .bind(&u.public_metadata)
        .bind(&u.private_metadata)
        .bind(&u.unsafe_metadata)
        .bind(&u.password_digest)
        .bind(&u.password_hasher)
        .bind(u.password_last_updated_at)
        .bind(u.password_compromised)
        .bind(&u.totp_secret_sealed)
        .bind(u.totp_last_step)
        .bind(u.mfa_enabled_at)
        .bind(u.mfa_disabled_at)
        .bind(u.banned)
        .bind(u.locked_at)
        .bind(u.lockout_expires_at)
        .bind(u.failed_verification_attempts)
        .bind(&u.image_id)
        .bind(u.delete_self_enabled)
        .bind(u.create_organization_enabled)
        .bind(u.create_organizations_limit)
        .bind(u.bypass_client_trust)
        .bind(u.legal_accepted_at)
        .bind(u.last_sign_in_at)
        .bind(u.last_active_at)
        .bind(u.created_at)
        .bind(u.updated_at)
}

/// The gmail comparison key of a (normalized) e-mail address: its local part without dots, for `gmail.com` and
/// `googlemail.com` addresses only (Gmail ignores those dots). What the `email_dotless` column holds (migration
/// 0037 computes the same for older rows).
pub fn email_dotless(address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    matches!(domain, "gmail.com" | "googlemail.com").then(|| format!("{}@{domain}", local.replace('.', "")))
}

/// Whether a claimed (verified or reserved) e-mail identification other than `except_id` has this gmail key
/// ([`email_dotless`]), read inside the caller's write transaction.
/// On PostgreSQL it first takes a transaction-scoped advisory lock on the key, so that two transactions claiming
/// variants of one address serialize and the second sees the first's row (SQLite's single writer already does).
pub async fn dotless_claimed_tx(tx: &mut Tx, instance_id: &str, dotless: &str, except_id: &str) -> StoreResult<bool> {
    if matches!(tx, Tx::Postgres(_)) {
        exec_tx!(
            tx,
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("email_dotless:{instance_id}:{dotless}"))
        )?;
    }
    let n = fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>(DOTLESS_CLAIMED).bind(instance_id).bind(dotless).bind(except_id)
    )?;
    Ok(n > 0)
}

/// [`dotless_claimed_tx`] outside a transaction (pre-checks before any write).
pub async fn dotless_claimed(db: &Db, instance_id: &str, dotless: &str) -> StoreResult<bool> {
    let n: i64 = on_read!(db, |c| sqlx::query_scalar(DOTLESS_CLAIMED)
        .bind(instance_id)
        .bind(dotless)
        .bind("")
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

const DOTLESS_CLAIMED: &str = "SELECT COUNT(*) FROM identifications WHERE instance_id = $1 AND email_dotless = $2 \
    AND id <> $3 AND (reserved OR verification_status = 'verified')";

/// One user of the instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.instance_id = $1 AND u.id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One user of the instance, read inside a write transaction. On PostgreSQL the row is locked until the end of
/// the transaction, so read-modify-write sequences on one user serialize (SQLite's single writer already does).
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<UserRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.instance_id = $1 AND u.id = $2{suffix}");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id))
}

/// The identifications of one user, read inside a write transaction.
pub async fn identifications_tx(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<Vec<IdentificationRow>> {
    let sql = format!(
        "SELECT {IDENTIFICATION_COLUMNS} FROM identifications WHERE instance_id = $1 AND user_id = $2 \
         ORDER BY created_at, id"
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, IdentificationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(user_id)
    )
}

/// Deletes an identification of a user; returns the rows deleted.
pub async fn delete_identification(tx: &mut Tx, instance_id: &str, user_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM identifications WHERE instance_id = $1 AND user_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(user_id)
            .bind(id)
    )
}

/// Deletes a user (identifications, backup codes and images go with it). Returns the rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM users WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// Whether a user exists in the instance.
pub async fn exists(db: &Db, instance_id: &str, id: &str) -> StoreResult<bool> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE instance_id = $1 AND id = $2")
        .bind(instance_id)
        .bind(id)
        .fetch_one(c)
        .await)?
        > 0)
}

/// `$start, $start+1, …` for `n` binds. Only numbers are generated, never caller data.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement of a direct user read looks its rows up by the user: none walks the instance.
    #[tokio::test]
    async fn direct_detail_statements_look_up_by_user() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(&crate::DbTarget::SqliteFile(dir.path().join("t.db"))).await.expect("database");
        let Db::Sqlite(pools) = &db else { unreachable!("a SQLite file") };
        let plans = pools
            .direct
            .run(Cost::Bounded, |c| {
                let mut plans = Vec::new();
                for sql in [sqlite_identifications(3), crate::sso::sqlite_user_accounts(3)] {
                    let mut plan = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let rows = plan.query_map([None::<&str>; 4], |r| r.get::<_, String>(3))?;
                    plans.push(rows.collect::<rusqlite::Result<Vec<_>>>()?.join("; "));
                }
                Ok(plans)
            })
            .await
            .expect("plans");
        assert!(plans[0].contains("USING INDEX identifications_user"), "{}", plans[0]);
        assert!(
            plans[1].contains("USING INDEX enterprise_accounts_user (instance_id=? AND user_id=?)"),
            "{}",
            plans[1]
        );
        let joined = pools
            .direct
            .run(Cost::Bounded, |c| {
                let mut plan = c.prepare(&format!("EXPLAIN QUERY PLAN {}", sqlite_user_joined()))?;
                let rows = plan.query_map([None::<&str>; 2], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join("; "))
            })
            .await
            .expect("plan");
        assert!(joined.contains("SEARCH u USING INDEX sqlite_autoindex_users_1 (id=?)"), "{joined}");
        assert!(joined.contains("SEARCH i USING INDEX identifications_user (user_id=?)"), "{joined}");
    }

    /// The joined read's identification columns start right after the user's and the two counts.
    #[test]
    fn joined_identification_columns_follow_the_user_and_its_counts() {
        let columns = |list: &str| list.split(',').count();
        assert_eq!(columns(USER_COLUMNS), USER_COLUMN_COUNT);
        assert_eq!(columns(USER_COLUMNS) + columns(COUNTED_COLUMNS), JOINED_IDENTIFICATION_AT);
    }
}
