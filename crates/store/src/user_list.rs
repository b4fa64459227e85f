//! The user list and count: about twenty optional filters and ten orderings, built into one statement.
//!
//! The SQL is assembled from fixed fragments only; every caller value travels as a bound parameter (`$n`, numbered
//! as the fragments are added), so the builder needs no escaping and both drivers run the same text.

use crate::db::FromSqliteRow;
use crate::dialect::Dialect;
use crate::direct_reads::{Cost, sqlite_placeholders};
use crate::{Db, StoreResult, on_read};

/// Sort fields of the user list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserOrder {
    /// Creation time.
    CreatedAt,
    /// Last update.
    UpdatedAt,
    /// Primary email address.
    EmailAddress,
    /// Primary web3 wallet.
    Web3Wallet,
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// Primary phone number.
    PhoneNumber,
    /// Username (case-insensitive).
    Username,
    /// Last activity.
    LastActiveAt,
    /// Last sign-in.
    LastSignInAt,
}

impl UserOrder {
    fn expr(self) -> &'static str {
        match self {
            Self::CreatedAt => "u.created_at",
            Self::UpdatedAt => "u.updated_at",
            Self::EmailAddress => {
                "(SELECT p.value_normalized FROM identifications p WHERE p.id = u.primary_email_address_id)"
            }
            Self::Web3Wallet => {
                "(SELECT p.value_normalized FROM identifications p WHERE p.id = u.primary_web3_wallet_id)"
            }
            Self::PhoneNumber => {
                "(SELECT p.value_normalized FROM identifications p WHERE p.id = u.primary_phone_number_id)"
            }
            Self::FirstName => "u.first_name",
            Self::LastName => "u.last_name",
            Self::Username => "u.username_normalized",
            Self::LastActiveAt => "u.last_active_at",
            Self::LastSignInAt => "u.last_sign_in_at",
        }
    }
}

/// Filters of the user list; empty vectors and `None` do not filter. Different filters combine with AND; the
/// values of one filter with OR. Identifier values must already be normalized the way they are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UserFilter {
    /// Normalized email addresses.
    pub email_addresses: Vec<String>,
    /// Normalized phone numbers.
    pub phone_numbers: Vec<String>,
    /// Normalized web3 wallets.
    pub web3_wallets: Vec<String>,
    /// Normalized usernames.
    pub usernames: Vec<String>,
    /// External ids to include.
    pub external_ids: Vec<String>,
    /// External ids to exclude.
    pub external_ids_excluded: Vec<String>,
    /// User ids to include.
    pub user_ids: Vec<String>,
    /// User ids to exclude.
    pub user_ids_excluded: Vec<String>,
    /// Nothing matches (a filter on something no user can have yet, e.g. organization memberships).
    pub match_nothing: bool,
    /// Exact id, or part of an identifier, username or name (lower-cased).
    pub query: Option<String>,
    /// Part of an email address (lower-cased).
    pub email_address_query: Option<String>,
    /// Part of a phone number.
    pub phone_number_query: Option<String>,
    /// Part of a username (lower-cased).
    pub username_query: Option<String>,
    /// Part of "first last" (lower-cased).
    pub name_query: Option<String>,
    /// Banned or not.
    pub banned: Option<bool>,
    /// Unix ms bounds (exclusive).
    pub last_active_at_before: Option<i64>,
    /// Unix ms bounds (exclusive).
    pub last_active_at_after: Option<i64>,
    /// Unix ms bounds (exclusive).
    pub created_at_before: Option<i64>,
    /// Unix ms bounds (exclusive).
    pub created_at_after: Option<i64>,
    /// Unix ms bounds (exclusive).
    pub last_sign_in_at_before: Option<i64>,
    /// Unix ms bounds (exclusive).
    pub last_sign_in_at_after: Option<i64>,
    /// Members of any of these organizations.
    pub organization_ids: Vec<String>,
    /// Members of none of these organizations.
    pub organization_ids_excluded: Vec<String>,
}

/// A page request: ordering, window and an optional keyset cursor `(created_at, id)` of the last user seen.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// Sort field.
    pub order: UserOrder,
    /// Descending.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Skipped rows.
    pub offset: i64,
    /// Users strictly after this `(created_at, id)` in `created_at` order.
    pub after: Option<(i64, String)>,
}

enum Bind {
    Text(String),
    Int(i64),
    Bool(bool),
}

struct Builder {
    dialect: Dialect,
    clauses: Vec<String>,
    binds: Vec<Bind>,
    /// A filter names the users by a small set of ids or identifiers (see [`Builder::where_sql`]).
    by_ids: bool,
}

impl Builder {
    fn new(instance_id: &str, dialect: Dialect) -> Self {
        Self {
            dialect,
            clauses: vec!["u.instance_id = $1".into()],
            binds: vec![Bind::Text(instance_id.to_owned())],
            by_ids: false,
        }
    }

    /// Adds a bind and returns its placeholder.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn list(&mut self, values: &[String]) -> String {
        values.iter().map(|v| self.bind(Bind::Text(v.clone()))).collect::<Vec<_>>().join(", ")
    }

    fn identifiers(&mut self, kind: &'static str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let list = self.list(values);
        self.by_ids = true;
        // Driven from the unique index (instance_id, kind, value_normalized): a correlated EXISTS made both
        // databases walk every user of the instance (600 ms per lookup at 10,000 users).
        self.clauses.push(format!(
            "u.id IN (SELECT i.user_id FROM identifications i WHERE i.instance_id = $1 AND i.kind = '{kind}' \
             AND i.value_normalized IN ({list}))"
        ));
    }

    fn identifier_like(&mut self, kind: &'static str, query: Option<&str>) {
        if let Some(q) = query {
            let p = self.bind(Bind::Text(like_pattern(q)));
            self.clauses.push(format!(
                "EXISTS (SELECT 1 FROM identifications i WHERE i.user_id = u.id AND i.kind = '{kind}' \
                 AND i.value_normalized LIKE {p} ESCAPE '\\')"
            ));
        }
    }

    fn column_in(&mut self, column: &'static str, values: &[String], negate: bool) {
        if values.is_empty() {
            return;
        }
        let list = self.list(values);
        // `NOT IN` must keep rows whose column is NULL (users without an external id).
        self.clauses.push(if negate {
            format!("({column} IS NULL OR {column} NOT IN ({list}))")
        } else {
            format!("{column} IN ({list})")
        });
    }

    fn bound(&mut self, column: &'static str, op: &'static str, value: Option<i64>) {
        if let Some(v) = value {
            let p = self.bind(Bind::Int(v));
            self.clauses.push(format!("{column} {op} {p}"));
        }
    }

    fn filter(mut self, f: &UserFilter) -> Self {
        if f.match_nothing {
            self.clauses.push("1 = 0".into());
        }
        self.identifiers("email_address", &f.email_addresses);
        self.identifiers("phone_number", &f.phone_numbers);
        self.identifiers("web3_wallet", &f.web3_wallets);
        self.column_in("u.username_normalized", &f.usernames, false);
        self.column_in("u.external_id", &f.external_ids, false);
        self.column_in("u.external_id", &f.external_ids_excluded, true);
        self.column_in("u.id", &f.user_ids, false);
        self.by_ids |= !f.user_ids.is_empty();
        self.column_in("u.id", &f.user_ids_excluded, true);
        if let Some(q) = f.query.as_deref() {
            self.search(q);
        }
        self.identifier_like("email_address", f.email_address_query.as_deref());
        self.identifier_like("phone_number", f.phone_number_query.as_deref());
        if let Some(q) = f.username_query.as_deref() {
            let p = self.bind(Bind::Text(like_pattern(q)));
            self.clauses.push(format!("u.username_normalized LIKE {p} ESCAPE '\\'"));
        }
        if let Some(q) = f.name_query.as_deref() {
            let p = self.bind(Bind::Text(like_pattern(q)));
            self.clauses.push(format!("u.name_search LIKE {p} ESCAPE '\\'"));
        }
        if let Some(banned) = f.banned {
            let p = self.bind(Bind::Bool(banned));
            self.clauses.push(format!("u.banned = {p}"));
        }
        self.bound("u.last_active_at", "<", f.last_active_at_before);
        self.bound("u.last_active_at", ">", f.last_active_at_after);
        self.bound("u.created_at", "<", f.created_at_before);
        self.bound("u.created_at", ">", f.created_at_after);
        self.bound("u.last_sign_in_at", "<", f.last_sign_in_at_before);
        self.bound("u.last_sign_in_at", ">", f.last_sign_in_at_after);
        for (ids, negate) in [(&f.organization_ids, false), (&f.organization_ids_excluded, true)] {
            if !ids.is_empty() {
                let list = self.list(ids);
                let not = if negate { "NOT " } else { "" };
                self.clauses.push(format!(
                    "u.id {not}IN (SELECT om.user_id FROM organization_memberships om WHERE om.instance_id = $1 \
                     AND om.organization_id IN ({list}))"
                ));
            }
        }
        self
    }

    /// `query`: the exact user id or external id, or a substring of the username, the name or any identification
    /// value. Written as a set of matching ids that the indexes of migration 0015 compute (a trigram FTS5 table on
    /// SQLite, pg_trgm GIN indexes on PostgreSQL): an `OR` across columns and an `EXISTS` per user made both
    /// databases visit every user (5 s at a million users).
    fn search(&mut self, q: &str) {
        let exact = self.bind(Bind::Text(q.to_owned()));
        let lowered = q.to_lowercase();
        // FTS5 uses its index only for a two-argument LIKE; a pattern that needs ESCAPE is still right, just scanned.
        let escape = if lowered.contains(['%', '_', '\\']) { " ESCAPE '\\'" } else { "" };
        let p = self.bind(Bind::Text(like_pattern(&lowered)));
        let substring_matches = match self.dialect {
            Dialect::Sqlite => format!(
                "SELECT d.user_id FROM user_search s JOIN user_search_docs d ON d.doc = s.rowid \
                 WHERE s.text LIKE {p}{escape}"
            ),
            Dialect::Postgres => format!(
                "SELECT i.user_id FROM identifications i WHERE i.instance_id = $1 AND i.value_normalized LIKE {p}{escape} \
                 UNION SELECT x.id FROM users x WHERE x.instance_id = $1 \
                 AND (x.username_normalized LIKE {p}{escape} OR x.name_search LIKE {p}{escape})"
            ),
        };
        self.clauses.push(format!(
            "u.id IN ({substring_matches} UNION SELECT x.id FROM users x WHERE x.instance_id = $1 AND x.id = {exact} \
             UNION SELECT x.id FROM users x WHERE x.instance_id = $1 AND x.external_id = {exact})"
        ));
    }

    /// The WHERE clause. When a filter names the users by ids or identifiers, the planner is kept from walking the
    /// instance's users in list order: without statistics (always on SQLite; on PostgreSQL until autovacuum has
    /// analyzed a freshly filled table) both prefer the `(instance_id, created_at)` index for the ORDER BY and test
    /// every user of the instance (3.6M instructions per e-mail lookup at 1,000 users on SQLite, 1.5 ms on
    /// PostgreSQL). Written so that no index can serve the instance term (`+` on SQLite, an expression on
    /// PostgreSQL), it stays a filter: the id set drives the query and its few rows are sorted.
    fn where_sql(&self) -> String {
        let sql = self.clauses.join(" AND ");
        match self.dialect {
            _ if !self.by_ids => sql,
            Dialect::Sqlite => format!("+{sql}"),
            Dialect::Postgres => sql.replacen("u.instance_id = $1", "u.instance_id || '' = $1", 1),
        }
    }
}

/// A LIKE pattern matching `query` anywhere, with `%`, `_` and `\` taken literally.
pub fn like_pattern(query: &str) -> String {
    let mut out = String::with_capacity(query.len() + 2);
    out.push('%');
    for ch in query.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
                Bind::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// On SQLite, brings the user search index up to date before a read that searches it (`query`): the writer
/// updates it lazily, for many users at once ([`crate::group_commit::Writer::run_deferred`]), and a search must
/// find every committed user — also those another process wrote (the CLI, SQL by hand): whether any is waiting is
/// read from the file, not from this writer's memory.
async fn search_index_current(db: &Db, filter: &UserFilter) -> StoreResult<()> {
    let Db::Sqlite(pools) = db else { return Ok(()) };
    if filter.query.is_none() {
        return Ok(());
    }
    const PENDING: &str = "SELECT EXISTS (SELECT 1 FROM user_search_pending)";
    if on_read!(db, |c| sqlx::query_scalar::<_, bool>(PENDING).fetch_one(c).await)? {
        pools.writer.run_deferred().await?;
    }
    Ok(())
}

/// The ids of a page of the instance's users matching `filter`, in the page's order. The users themselves are read
/// by id ([`crate::users::get_many_full`]) — only those a caller does not have at hand (its cache of rendered
/// users): the page is one light statement, its users one more only when some are missing.
pub async fn list_ids(db: &Db, instance_id: &str, filter: &UserFilter, page: &UserPage) -> StoreResult<Vec<String>> {
    search_index_current(db, filter).await?;
    let mut b = Builder::new(instance_id, Dialect::of(db)).filter(filter);
    // Only the instance term (and perhaps a cursor): the `(instance_id, created_at)` index yields the page in order.
    let unfiltered = b.clauses.len() == 1;
    let dir = if page.descending { "DESC" } else { "ASC" };
    if let Some((created_at, id)) = &page.after {
        let c = b.bind(Bind::Int(*created_at));
        let i = b.bind(Bind::Text(id.clone()));
        let op = if page.descending { "<" } else { ">" };
        b.clauses.push(format!("(u.created_at {op} {c} OR (u.created_at = {c} AND u.id {op} {i}))"));
    }
    let order_sql = match page.order {
        UserOrder::CreatedAt => format!("u.created_at {dir}, u.id {dir}"),
        // NULLs last in both directions and on both databases (they disagree on the default).
        other => {
            let e = other.expr();
            format!("({e} IS NULL), {e} {dir}, u.created_at {dir}, u.id {dir}")
        }
    };
    // The limit is written into the statement: SQLite plans a bound LIMIT with its value and so prepares the
    // statement again at every execution (a million instructions for this one). It is an integer, not caller text.
    let limit = page.limit;
    let offset = b.bind(Bind::Int(page.offset));
    let sql =
        format!("SELECT u.id FROM users u WHERE {} ORDER BY {order_sql} LIMIT {limit} OFFSET {offset}", b.where_sql());
    let pools = match db {
        Db::Sqlite(pools) => pools,
        Db::Postgres(pools) => {
            let query = bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())), &b.binds);
            return Ok(query.fetch_all(&*pools.read).await?);
        }
    };
    // SQLite, on a direct connection: a page of named users, or the first pages in creation order without filters,
    // is a few index lookups and runs inline; anything else may scan and runs on the blocking pool.
    let bounded = b.by_ids || (unfiltered && page.order == UserOrder::CreatedAt && page.offset <= INLINE_MAX_OFFSET);
    let sql = sqlite_placeholders(&sql);
    let binds = b.binds;
    pools
        .direct
        .run(if bounded { Cost::Bounded } else { Cost::Unbounded }, move |c| {
            let mut statement = c.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(&binds), |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        })
        .await
}

/// The largest offset of an unfiltered page read inline: the index walk skips the offset's rows one by one.
const INLINE_MAX_OFFSET: i64 = 1_000;

impl rusqlite::ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Self::Text(s) => s.to_sql(),
            Self::Int(i) => i.to_sql(),
            Self::Bool(v) => v.to_sql(),
        }
    }
}

/// How many users of the instance match `filter`.
pub async fn count(db: &Db, instance_id: &str, filter: &UserFilter) -> StoreResult<i64> {
    search_index_current(db, filter).await?;
    let b = Builder::new(instance_id, Dialect::of(db)).filter(filter);
    let sql = format!("SELECT COUNT(*) FROM users u WHERE {}", b.where_sql());
    Ok(on_read!(db, |c| bind_all!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())), &b.binds)
        .fetch_one(c)
        .await)?)
}

/// A membership with the public data of its user, as the membership lists show it.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct MembershipUserRow {
    /// The membership.
    #[sqlx(flatten)]
    pub membership: crate::organization_memberships::MembershipRow,
    /// The member's first name.
    pub first_name: Option<String>,
    /// The member's last name.
    pub last_name: Option<String>,
    /// The member's image.
    pub image_id: Option<String>,
    /// The member's username.
    pub username: Option<String>,
    /// The member is banned.
    pub banned: bool,
    /// The member's primary email address, else primary phone number.
    pub identifier: Option<String>,
}

/// Which memberships a membership list shows: those of one organization, of one user, or all of the instance;
/// `roles` (any of) and `users` (a user filter on the members) narrow it.
#[derive(Debug, Clone, Default)]
pub struct MembershipFilter {
    /// Only this organization's memberships.
    pub organization_id: Option<String>,
    /// Only this user's memberships.
    pub user_id: Option<String>,
    /// Only memberships with one of these role keys.
    pub roles: Vec<String>,
    /// Only members matching this user filter.
    pub users: UserFilter,
}

const MEMBERSHIP_USER_COLUMNS: &str = "m.id, m.instance_id, m.organization_id, m.user_id, m.role, \
    m.public_metadata, m.private_metadata, m.created_at, m.updated_at, u.first_name, u.last_name, u.image_id, \
    u.username, u.banned, (SELECT p.value FROM identifications p \
    WHERE p.id = COALESCE(u.primary_email_address_id, u.primary_phone_number_id)) AS identifier";

fn membership_builder(instance_id: &str, dialect: Dialect, f: &MembershipFilter) -> Builder {
    let mut b = Builder::new(instance_id, dialect).filter(&f.users);
    if let Some(org) = &f.organization_id {
        let p = b.bind(Bind::Text(org.clone()));
        b.clauses.push(format!("m.organization_id = {p}"));
    }
    if let Some(user) = &f.user_id {
        let p = b.bind(Bind::Text(user.clone()));
        b.clauses.push(format!("m.user_id = {p}"));
    }
    b.column_in("m.role", &f.roles, false);
    b.clauses.push("m.instance_id = $1".into());
    b
}

/// A page of memberships with their users' public data, ordered by `order` (a user field, or the membership's
/// creation time for [`UserOrder::CreatedAt`]).
pub async fn memberships(
    db: &Db,
    instance_id: &str,
    filter: &MembershipFilter,
    order: UserOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<MembershipUserRow>> {
    search_index_current(db, &filter.users).await?;
    let mut b = membership_builder(instance_id, Dialect::of(db), filter);
    let dir = if descending { "DESC" } else { "ASC" };
    let order_sql = match order {
        UserOrder::CreatedAt => format!("m.created_at {dir}, m.id {dir}"),
        other => {
            let e = other.expr();
            format!("({e} IS NULL), {e} {dir}, m.created_at {dir}, m.id {dir}")
        }
    };
    // Written into the statement, as in `list`: a bound LIMIT makes SQLite prepare the statement at every execution.
    let offset = b.bind(Bind::Int(offset));
    let sql = format!(
        "SELECT {MEMBERSHIP_USER_COLUMNS} FROM organization_memberships m JOIN users u ON u.id = m.user_id \
         WHERE {} ORDER BY {order_sql} LIMIT {limit} OFFSET {offset}",
        b.where_sql()
    );
    Ok(on_read!(db, |c| bind_all!(sqlx::query_as::<_, MembershipUserRow>(sqlx::AssertSqlSafe(sql.clone())), &b.binds)
        .fetch_all(c)
        .await)?)
}

/// How many memberships [`memberships`] would return without paging.
pub async fn memberships_count(db: &Db, instance_id: &str, filter: &MembershipFilter) -> StoreResult<i64> {
    search_index_current(db, &filter.users).await?;
    let b = membership_builder(instance_id, Dialect::of(db), filter);
    let sql = format!(
        "SELECT COUNT(*) FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE {}",
        b.where_sql()
    );
    Ok(on_read!(db, |c| bind_all!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())), &b.binds)
        .fetch_one(c)
        .await)?)
}

/// One membership (of `user_id` in `organization_id`) with its user's public data, read inside a write
/// transaction.
pub async fn membership_tx(
    tx: &mut crate::Tx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
) -> StoreResult<Option<MembershipUserRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_USER_COLUMNS} FROM organization_memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.instance_id = $1 AND m.organization_id = $2 AND m.user_id = $3"
    );
    crate::fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, MembershipUserRow>(sqlx::AssertSqlSafe(sql))
            .bind(instance_id)
            .bind(organization_id)
            .bind(user_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_binds() {
        let f = UserFilter {
            email_addresses: vec!["a@x.io".into(), "b@x.io".into()],
            banned: Some(true),
            query: Some("Jo%".into()),
            ..Default::default()
        };
        let b = Builder::new("ins_1", Dialect::Postgres).filter(&f);
        let sql = b.where_sql();
        assert!(sql.contains("IN ($2, $3)"), "{sql}");
        // Named by identifiers: no index may serve the instance term (see `where_sql`).
        assert!(sql.starts_with("u.instance_id || '' = $1 AND "), "{sql}");
        assert!(sql.contains("x.id = $4") && sql.contains("LIKE $5 ESCAPE"), "{sql}");
        assert!(sql.contains("u.banned = $6"), "{sql}");
        assert_eq!(b.binds.len(), 6);
        assert_eq!(like_pattern("jo%_\\"), "%jo\\%\\_\\\\%");
        let plain = UserFilter { query: Some("Jo".into()), ..Default::default() };
        let sql = Builder::new("ins_1", Dialect::Sqlite).filter(&plain).where_sql();
        assert!(sql.contains("s.text LIKE $3)") || sql.contains("s.text LIKE $3 UNION"), "{sql}");
        assert!(!sql.contains("ESCAPE"), "{sql}");
        assert_eq!(
            sqlite_placeholders("a = $1 AND b IN ($2, $10) AND c = '$x$'"),
            "a = ?1 AND b IN (?2, ?10) AND c = '$x$'"
        );
    }
}
