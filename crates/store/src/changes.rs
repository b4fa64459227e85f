//! What this node's committed writes may have changed, for caches of what reads derive from the database.
//!
//! One counter per group of tables: the tables a user object is read from ([`USER_TABLES`]), those of an
//! instance's configuration ([`SETTINGS_TABLES`]) and sessions ([`SESSION_TABLES`]). A write transaction that runs
//! a statement naming one of a group's tables (anything but a plain `SELECT`) moves the group's counter once it has
//! committed — on SQLite when its batch's `COMMIT` returned, before any member of the batch is acknowledged; on
//! PostgreSQL when its `COMMIT` returned. A cache tags what it loads with the counter read *before* loading and uses an entry only while the
//! counter still has that value, so nothing this node committed is ever answered stale from a cache, whichever
//! code path wrote it.
//!
//! Matching a statement by the tables it names rather than by what it changed is deliberately coarse: a statement
//! that names a followed table without changing a row (an `UPDATE` that matched nothing) still moves the counter.
//! Other nodes' writes (PostgreSQL) reach this node's caches through `NOTIFY`: after a commit that moved a counter,
//! the node that wrote tells the others ([`Outgoing`], sent by `crate::notify`); another process's writes to a
//! SQLite file (the CLI), and SQL run by hand, through the caches' expiry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// The tables a user object is read from. (Nothing deletes instances, so no cascade reaches them from elsewhere.)
pub const USER_TABLES: [&str; 4] = ["users", "identifications", "user_backup_codes", "enterprise_accounts"];

/// The tables of an instance's configuration: its settings groups and its billing switches.
pub const SETTINGS_TABLES: [&str; 2] = ["instance_settings", "billing_config"];

/// The table a session is read from, and `clients`, whose deletion deletes their sessions. (Deleting a user deletes
/// its sessions too: a cached session is also checked against the count of [`USER_TABLES`].)
pub const SESSION_TABLES: [&str; 2] = ["sessions", "clients"];

/// Counters of committed changes, one per group of tables. Shared by every clone of a [`crate::Db`].
#[derive(Debug, Default)]
pub struct Changes {
    users: AtomicU64,
    settings: AtomicU64,
    sessions: AtomicU64,
    /// PostgreSQL: the notifications still to send to the other nodes.
    outgoing: Option<Arc<Outgoing>>,
}

impl Changes {
    /// Counters whose committed changes are also queued for the other nodes (PostgreSQL).
    pub(crate) fn notifying(outgoing: Arc<Outgoing>) -> Self {
        Self { outgoing: Some(outgoing), ..Self::default() }
    }

    /// The count of committed writes to [`USER_TABLES`] so far: read it before loading what a cache keeps.
    pub fn users(&self) -> u64 {
        self.users.load(Ordering::Acquire)
    }

    /// The count of committed writes to [`SETTINGS_TABLES`] so far.
    pub fn settings(&self) -> u64 {
        self.settings.load(Ordering::Acquire)
    }

    /// The count of committed writes to [`SESSION_TABLES`] so far.
    pub fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Acquire)
    }

    /// Records a committed transaction's possible changes.
    pub(crate) fn committed(&self, changed: Changed) {
        if changed.users {
            self.users.fetch_add(1, Ordering::AcqRel);
        }
        if changed.settings {
            self.settings.fetch_add(1, Ordering::AcqRel);
        }
        if changed.sessions {
            self.sessions.fetch_add(1, Ordering::AcqRel);
        }
        if let Some(outgoing) = &self.outgoing {
            outgoing.queue(changed);
        }
    }
}

/// The groups this node changed and has not told the other nodes of yet, and the wake-up of the task that tells
/// them (`crate::notify::send_changes`).
///
/// Sent after the commit rather than inside the transaction: a transaction that `NOTIFY`s holds one lock of the
/// whole database from its notification until its commit is flushed (PostgreSQL orders the queue by commit), so
/// writes that notified could not share a WAL flush (one-insert transactions at 32 clients: a third of their rate).
/// Sent after, one notification covers every change committed while the previous one was on its way.
#[derive(Debug, Default)]
pub struct Outgoing {
    /// Bit 0: users; bit 1: settings; bit 2: sessions.
    pending: AtomicU8,
    wake: tokio::sync::Notify,
}

impl Outgoing {
    const USERS: u8 = 1;
    const SETTINGS: u8 = 2;
    const SESSIONS: u8 = 4;
    /// Each group's bit and payload (`crate::notify`'s, parsed by the caches' listener).
    const PAYLOADS: [(u8, &'static str); 3] =
        [(Self::USERS, "users:*"), (Self::SETTINGS, "settings:*"), (Self::SESSIONS, "sessions:*")];

    fn queue(&self, changed: Changed) {
        self.pend(
            (u8::from(changed.users) * Self::USERS)
                | (u8::from(changed.settings) * Self::SETTINGS)
                | (u8::from(changed.sessions) * Self::SESSIONS),
        );
    }

    fn pend(&self, bits: u8) {
        if bits != 0 {
            self.pending.fetch_or(bits, Ordering::AcqRel);
            self.wake.notify_one();
        }
    }

    /// Wakes the sending task (to see that its pool closed).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until something is queued.
    pub(crate) async fn queued(&self) {
        self.wake.notified().await;
    }

    /// Takes what is queued: the payloads to send (`users:*`, `settings:*`, `sessions:*`), none if nothing is.
    pub(crate) fn take(&self) -> Vec<&'static str> {
        let bits = self.pending.swap(0, Ordering::AcqRel);
        Self::PAYLOADS.into_iter().filter(|(bit, _)| bits & bit != 0).map(|(_, payload)| payload).collect()
    }

    /// Puts back payloads whose sending failed.
    pub(crate) fn requeue(&self, payloads: &[&str]) {
        self.pend(Self::PAYLOADS.into_iter().filter(|(_, p)| payloads.contains(p)).fold(0, |b, (bit, _)| b | bit));
    }
}

/// Which followed groups of tables the statements of a transaction may have changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    /// [`USER_TABLES`].
    pub users: bool,
    /// [`SETTINGS_TABLES`].
    pub settings: bool,
    /// [`SESSION_TABLES`].
    pub sessions: bool,
}

impl Changed {
    /// What `sql` may change: the groups of which it names a table as a whole identifier (letters, digits and `_`
    /// delimit it; table names are written in lower case), unless it starts with `SELECT` — such a statement only
    /// reads (or locks, `FOR UPDATE`): one that writes starts with `INSERT`, `UPDATE`, `DELETE` or `WITH`. Runs for
    /// every statement of a write transaction: substring searches (SIMD in `str::find`), no tokenizing.
    pub fn by(sql: &str) -> Self {
        if sql.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("select")) {
            return Self::default();
        }
        Self {
            users: USER_TABLES.iter().any(|table| names(sql, table)),
            settings: SETTINGS_TABLES.iter().any(|table| names(sql, table)),
            sessions: SESSION_TABLES.iter().any(|table| names(sql, table)),
        }
    }
}

impl std::ops::BitOrAssign for Changed {
    fn bitor_assign(&mut self, other: Self) {
        self.users |= other.users;
        self.settings |= other.settings;
        self.sessions |= other.sessions;
    }
}

/// Whether `table` occurs in `sql` as a whole identifier.
fn names(sql: &str, table: &str) -> bool {
    let ident = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let bytes = sql.as_bytes();
    sql.match_indices(table)
        .any(|(at, _)| !ident(at.checked_sub(1).and_then(|i| bytes.get(i))) && !ident(bytes.get(at + table.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_naming_a_user_table_are_changes() {
        for sql in [
            "INSERT INTO users (id) VALUES ($1)",
            "UPDATE users SET first_name = $1 WHERE id = $2",
            "update \"identifications\" set reserved = true",
            "DELETE FROM user_backup_codes WHERE user_id = $1",
            "INSERT INTO enterprise_accounts (id) VALUES ($1)",
            "WITH e AS (INSERT INTO events (id) VALUES ($1)) UPDATE users SET updated_at = $2",
        ] {
            assert_eq!(Changed::by(sql), Changed { users: true, ..Changed::default() }, "{sql}");
        }
    }

    #[test]
    fn writes_naming_a_settings_table_are_changes_of_settings() {
        for sql in [
            "INSERT INTO instance_settings (instance_id, grp, value) VALUES ($1, $2, $3) ON CONFLICT DO UPDATE",
            "UPDATE billing_config SET user_enabled = $2 WHERE instance_id = $1",
        ] {
            assert_eq!(Changed::by(sql), Changed { settings: true, ..Changed::default() }, "{sql}");
        }
    }

    #[test]
    fn writes_naming_sessions_or_clients_are_changes_of_sessions() {
        for sql in [
            "UPDATE sessions SET status = 'revoked' WHERE id = $1",
            "INSERT INTO sessions (id, client_id) VALUES ($1, $2)",
            "DELETE FROM clients WHERE id = $1",
        ] {
            assert_eq!(Changed::by(sql), Changed { sessions: true, ..Changed::default() }, "{sql}");
        }
        let neither = "INSERT INTO session_reverifications (id, session_id) VALUES ($1, $2)";
        assert_eq!(Changed::by(neither), Changed::default(), "{neither}");
    }

    #[test]
    fn reads_and_other_tables_are_not() {
        for sql in [
            "SELECT * FROM users WHERE id = $1 FOR UPDATE",
            "  select id from identifications where value = $1",
            "INSERT INTO organizations (id, name) VALUES ($1, $2)",
            "UPDATE user_search_pending SET user_id = $1",
            "DELETE FROM organization_memberships WHERE user_id = $1",
        ] {
            assert_eq!(Changed::by(sql), Changed::default(), "{sql}");
        }
    }

    #[tokio::test]
    async fn committed_changes_are_queued_for_the_other_nodes_once_per_group() {
        let outgoing = Arc::new(Outgoing::default());
        let changes = Changes::notifying(outgoing.clone());
        changes.committed(Changed { users: true, ..Changed::default() });
        changes.committed(Changed { users: true, ..Changed::default() });
        changes.committed(Changed::default());
        // The sender was woken (the wake-up waits for it) and finds one notification for both commits.
        tokio::time::timeout(std::time::Duration::from_secs(1), outgoing.queued()).await.expect("woken");
        assert_eq!(outgoing.take(), vec!["users:*"]);
        assert!(outgoing.take().is_empty(), "taken once");
        changes.committed(Changed { settings: true, ..Changed::default() });
        changes.committed(Changed { users: true, sessions: true, ..Changed::default() });
        let payloads = outgoing.take();
        assert_eq!(payloads, vec!["users:*", "settings:*", "sessions:*"]);
        // A failed send puts them back.
        outgoing.requeue(&payloads);
        assert_eq!(outgoing.take(), payloads);
        assert_eq!((changes.users(), changes.settings(), changes.sessions()), (3, 1, 1), "the counters move");
    }
}
