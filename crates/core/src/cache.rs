//! Caches of what the database holds on the hot paths (design decision 13), with a stated staleness bound.
//!
//! One mechanism for every cached resource: a [`Cache`] keyed by lookup digest, its entries tagged with their
//! instance, and a [`Topic`] per resource group. A change commits, then:
//! - on the node that made it, [`Caches::invalidate`] drops the instance's entries of that topic at once;
//! - on every other node (PostgreSQL), the change's transaction also sent `NOTIFY` (see [`changed`]; PostgreSQL
//!   delivers it at commit), and each node's listener (`tessera_store::notify`, wired at start-up) invalidates the
//!   same entries when it arrives — milliseconds on a healthy connection;
//! - if a notification is lost (the listener's connection dropped), every entry still expires after [`TTL_MS`],
//!   and a listener that reconnects flushes every cache, since it cannot know what it missed.
//!
//! **Bound:** a revoked, changed or deleted API key or M2M token stops verifying on every node within [`TTL_MS`]
//! (1 s) at worst, and in practice as soon as the notification arrives. SQLite is one server process per file:
//! local invalidation covers its changes; a change made by another process on the same file (the CLI) is seen
//! within [`TTL_MS`].
//!
//! **User objects** (and pages of users, instances' configuration — settings groups, billing switches — and
//! sessions, which every session token minted reads) follow the same bound by other means, since far more code
//! paths change them than change a key: the store counts this node's committed writes to the tables they are read
//! from (`tessera_store::changes`), whichever code made them, and an entry is used only while that count is what it
//! was before the entry was read ([`Counted`]); after a commit that moved a count, the node that wrote notifies the
//! other nodes (`users:*`, `settings:*`, `sessions:*`: every node drops all of that topic). So a change is never
//! answered stale by the node that made it, and by the others within [`TTL_MS`] at worst — also SQL run by hand,
//! which nothing notifies.
//!
//! Deletions that cascade from elsewhere (a user deleted with the API keys it owns) send no notification of their
//! own and are bounded by [`TTL_MS`] alone. Machine secret keys are not cached at all; instance secret
//! keys (never changed or deleted, see `instances::authenticate`) and signing keysets (`keyring`) have their own
//! rules.
//!
//! A load racing an invalidation could put back what was just invalidated; each cache counts invalidations in an
//! epoch read before the load, and an insert whose epoch moved meanwhile is dropped.
//!
//! An entry is reloaded before it expires: past half its life, the first lookup misses (and reloads it) while every
//! other lookup still hits, so that a busy key is never missed by every request in flight at once — on PostgreSQL
//! that herd queued a round trip per request behind the read pool's connections every second.

use std::any::Any;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tessera_store::Tx;
use tessera_store::user_list::UserFilter;

use crate::users::list::UserListPage;

use crate::Result;

/// How long a cached entry may be used without a notification: the fallback staleness bound.
pub const TTL_MS: i64 = 1_000;

/// Entries kept per cache unless it says otherwise; past it the cache starts over (a crude bound, far above any
/// real working set).
const MAX_ENTRIES: usize = 100_000;

/// User objects kept: about a kilobyte each, so a few megabytes at most. Past it the cache starts over, so a read
/// pattern wider than this (a million users read at random) mostly misses, at the cost of the read it would do
/// anyway.
const MAX_USER_BODIES: usize = 4_096;

/// Pages of the user list kept (an e-mail lookup is a page): each a query and a few ids.
const MAX_USER_PAGES: usize = 4_096;

/// Sessions kept: a row of a few hundred bytes each.
const MAX_SESSIONS: usize = 16_384;

/// A group of cached resources, invalidated together per instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// API keys by secret digest (`api_keys::verify`).
    ApiKeys,
    /// Opaque M2M tokens by token digest (`m2m_tokens::verify_token`).
    M2mTokens,
    /// User objects as answered (`users::get_user_rendered`) and pages of the user list. Notified by the store
    /// after any commit that changed the user tables (payload `users:*`, `tessera_store::changes::Outgoing`), for
    /// every instance at once; this node's own changes are followed through `tessera_store::changes`.
    Users,
    /// Instances' configuration: settings groups (`settings::load`) and billing switches (`billing::config`).
    /// Notified and followed like [`Topic::Users`] (payload `settings:*`).
    Settings,
    /// Sessions by id (`sessions::use_active_session`, which every session token minted goes through). Notified and
    /// followed like [`Topic::Users`] (payload `sessions:*`); a user's deletion deletes its sessions, so
    /// [`Topic::Users`] drops them too.
    Sessions,
}

impl Topic {
    const ALL: [Self; 5] = [Self::ApiKeys, Self::M2mTokens, Self::Users, Self::Settings, Self::Sessions];

    fn name(self) -> &'static str {
        match self {
            Self::ApiKeys => "api_keys",
            Self::M2mTokens => "m2m_tokens",
            Self::Users => "users",
            Self::Settings => "settings",
            Self::Sessions => "sessions",
        }
    }

    /// `api_keys:ins_…`: what a notification carries.
    fn payload(self, instance_id: &str) -> String {
        format!("{}:{instance_id}", self.name())
    }

    fn parse(payload: &str) -> Option<(Self, &str)> {
        let (name, instance_id) = payload.split_once(':')?;
        Self::ALL.into_iter().find(|t| t.name() == name).map(|t| (t, instance_id))
    }
}

/// The map of the in-memory caches (these, the secret-key, keyset and frontend-host caches): foldhash instead of
/// std's SipHash, which cost a `GET /v1/jwks` about 750 of the 18,500 instructions it spends besides the secret
/// key's digest (two lookups, a digest and an instance id; callgrind, the same build with either hasher). Keys are
/// ids and digests the server made, not strings a client chooses, so SipHash's resistance to chosen-key flooding
/// buys nothing here; foldhash is still seeded per process.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One cache: key → (instance, value, loaded at).
pub struct Cache<K, V> {
    name: &'static str,
    entries: RwLock<FastMap<K, Entry<V>>>,
    epoch: AtomicU64,
    max_entries: usize,
}

struct Entry<V> {
    instance_id: String,
    loaded_at: i64,
    value: V,
    /// A lookup past half the entry's life has taken on reloading it.
    reload_claimed: AtomicBool,
}

impl<K: Hash + Eq, V: Clone> Cache<K, V> {
    /// An empty cache; `name` labels its hit and miss counters.
    pub fn new(name: &'static str) -> Self {
        Self::with_capacity(name, MAX_ENTRIES)
    }

    /// An empty cache that starts over past `max_entries`.
    pub fn with_capacity(name: &'static str, max_entries: usize) -> Self {
        Self { name, entries: RwLock::default(), epoch: AtomicU64::new(0), max_entries }
    }

    /// The value cached for `key`, unless older than [`TTL_MS`] — or past half of it and this is the first lookup
    /// since, which is to reload it (see the module's documentation). Counts a hit or a miss.
    pub fn get(&self, key: &K, now: i64) -> Option<V> {
        self.get_where(key, now, |_, _| true)
    }

    /// [`Cache::get`] of an entry that `usable(instance_id, value)` accepts (one cached for the instance asked
    /// about, or under conditions that still hold); any other is a miss.
    pub fn get_where<Q>(&self, key: &Q, now: i64, usable: impl FnOnce(&str, &V) -> bool) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hit = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .filter(|e| {
                let age = now - e.loaded_at;
                usable(&e.instance_id, &e.value)
                    && (0..TTL_MS).contains(&age)
                    && (age < TTL_MS / 2 || e.reload_claimed.swap(true, Ordering::AcqRel))
            })
            .map(|e| e.value.clone());
        let outcome = if hit.is_some() { "tessera_cache_hits_total" } else { "tessera_cache_misses_total" };
        metrics::counter!(outcome, "cache" => self.name).increment(1);
        hit
    }

    /// Read before loading from the database; pass it to [`Cache::insert`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches a value loaded at `now`, unless an invalidation happened since `epoch` was read.
    pub fn insert(&self, key: K, instance_id: &str, value: V, now: i64, epoch: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that invalidation takes too, so no invalidation slips between check and insert.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= self.max_entries {
            entries.clear();
        }
        let entry = Entry {
            instance_id: instance_id.to_owned(),
            loaded_at: now,
            value,
            reload_claimed: AtomicBool::new(false),
        };
        entries.insert(key, entry);
    }

    /// Changes a cached entry in place, keeping its load time: bookkeeping such as `last_used_at`, never a field a
    /// change elsewhere could have moved (the entry may have been reloaded since it was read). `None` if the key
    /// has no entry; else what `change` returned.
    pub fn update<R>(&self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        self.entries.write().unwrap_or_else(|p| p.into_inner()).get_mut(key).map(|e| change(&mut e.value))
    }

    /// Claims a use at `now` in the entry of `key` when its `last_used_at` (`field`) is `stale`: whether the caller
    /// is to record the use (also when nothing is cached). Claimed before the write, so that the uses of a busy key
    /// arriving while it is written find it recorded, instead of each writing it again and waiting for that write
    /// (on the SQLite file, a commit's fsync).
    pub fn claim_use(
        &self,
        key: &K,
        now: i64,
        field: fn(&mut V) -> &mut Option<i64>,
        stale: impl FnOnce(Option<i64>) -> bool,
    ) -> bool {
        let claim = |value: &mut V| {
            let last_used_at = field(value);
            let claimed = stale(*last_used_at);
            if claimed {
                *last_used_at = Some(now);
            }
            claimed
        };
        self.update(key, claim).unwrap_or(true)
    }

    /// Drops the instance's entries.
    fn forget_instance(&self, instance_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, e| e.instance_id != instance_id);
    }

    /// Drops everything.
    fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

/// Every cache of a node.
pub struct Caches {
    /// API key rows by secret digest.
    pub(crate) api_keys: Cache<Vec<u8>, tessera_store::api_keys::ApiKeyRow>,
    /// Opaque M2M token rows by token digest.
    pub(crate) m2m_tokens: Cache<Vec<u8>, tessera_store::m2m_tokens::M2mTokenRow>,
    /// User objects as answered, by user id (see [`RenderedUser`]).
    pub(crate) users: Cache<String, RenderedUser>,
    /// The ids of pages of the user list, by query (see [`PageIds`]).
    pub(crate) user_pages: Cache<(UserFilter, UserListPage), PageIds>,
    /// Instances' configuration, decoded (see [`configuration`]), with the count of changes to the settings tables.
    configuration: Cache<ConfigKey, Counted<u64, Arc<dyn Any + Send + Sync>>>,
    /// Session rows by session id, with the counts of changes to sessions (and clients, whose deletion deletes their
    /// sessions) and to users (likewise). A session's status is worked out anew at each use (`Session::from_row`),
    /// since an expiry passes without any write.
    pub(crate) sessions: Cache<String, Counted<(u64, u64), tessera_store::sessions::SessionRow>>,
}

/// A value kept with the count of committed changes (`tessera_store::changes`) to the tables it derives from, read
/// before it was loaded: used only while the count is unchanged ([`Cache::counted`]).
#[derive(Clone)]
pub(crate) struct Counted<C, V> {
    changes: C,
    value: V,
}

impl<K: Hash + Eq, C: PartialEq + Clone, V: Clone> Cache<K, Counted<C, V>> {
    /// The value under `key` for `instance_id` if it was loaded while the count of changes was `changes` (read by
    /// the caller before calling); else loaded by `load` and kept with that count (a `None` is not kept).
    pub(crate) async fn counted<Q>(
        &self,
        key: &Q,
        instance_id: &str,
        now: i64,
        changes: C,
        load: impl AsyncFnOnce() -> Result<Option<V>>,
    ) -> Result<Option<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(hit) = self.get_where(key, now, |instance, c| instance == instance_id && c.changes == changes) {
            return Ok(Some(hit.value));
        }
        let epoch = self.epoch();
        let value = load().await?;
        if let Some(v) = &value {
            self.insert(key.to_owned(), instance_id, Counted { changes, value: v.clone() }, now, epoch);
        }
        Ok(value)
    }
}

/// What a piece of an instance's configuration is cached under: the instance, the piece (a settings group's
/// name, `billing_config`) and the environment whose defaults fill it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ConfigKey {
    instance_id: String,
    piece: &'static str,
    environment: crate::instances::Environment,
}

impl ConfigKey {
    pub(crate) fn new(instance_id: &str, piece: &'static str, environment: crate::instances::Environment) -> Self {
        Self { instance_id: instance_id.to_owned(), piece, environment }
    }
}

/// A piece of an instance's configuration: cached while nothing this node committed since it was read may have
/// changed the configuration tables (and, for other nodes' changes, until their notification or [`TTL_MS`]), else
/// loaded by `load` and kept.
pub(crate) async fn configuration<T: Clone + Send + Sync + 'static>(
    ctx: &crate::Ctx,
    key: ConfigKey,
    load: impl AsyncFnOnce() -> Result<T>,
) -> Result<T> {
    let changes = ctx.db.changes().settings();
    let loaded = async || Ok(Some(Arc::new(load().await?) as Arc<dyn Any + Send + Sync>));
    let value = ctx.caches.configuration.counted(&key, &key.instance_id, ctx.now_ms(), changes, loaded).await?;
    // Each piece is always loaded as the same type (its name is its type's: a settings group's, `billing_config`).
    value.and_then(|v| v.downcast_ref::<T>().cloned()).ok_or_else(|| {
        crate::Error::internal(anyhow::anyhow!("configuration piece {} cached as another type", key.piece))
    })
}

/// The ids of a page of the user list, in its order: what the list's statement found, for the reads that follow
/// until a user changes (invalidated with the user objects, by the same count).
#[derive(Clone)]
pub(crate) struct PageIds {
    /// As [`RenderedUser::changes`].
    pub(crate) changes: u64,
    /// The page's user ids.
    pub(crate) ids: std::sync::Arc<[String]>,
}

/// A user object as an operation answers it, rendered (serialized) once for all the reads that follow until the
/// user changes. Only users whose object does not depend on the time of reading are kept (see
/// `users::get_user_rendered`).
#[derive(Clone)]
pub(crate) struct RenderedUser {
    /// `tessera_store::changes::Changes::users` before the user was read: the entry is used only while it is
    /// unchanged, so that no change this node committed since is answered stale.
    pub(crate) changes: u64,
    /// The request origin its image URL was made absolute under.
    pub(crate) base: Box<str>,
    /// The JSON.
    pub(crate) body: bytes::Bytes,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            api_keys: Cache::new("api_keys"),
            m2m_tokens: Cache::new("m2m_tokens"),
            users: Cache::with_capacity("users", MAX_USER_BODIES),
            user_pages: Cache::with_capacity("user_pages", MAX_USER_PAGES),
            configuration: Cache::new("configuration"),
            sessions: Cache::with_capacity("sessions", MAX_SESSIONS),
        }
    }
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

impl Caches {
    /// Drops the instance's entries of a topic (after a change committed on this node, or notified by another).
    pub fn invalidate(&self, topic: Topic, instance_id: &str) {
        match topic {
            Topic::ApiKeys => self.api_keys.forget_instance(instance_id),
            Topic::M2mTokens => self.m2m_tokens.forget_instance(instance_id),
            // The store notes changes per statement, not per row, so it cannot tell the instance: every user goes.
            Topic::Users => {
                self.users.clear();
                self.user_pages.clear();
                self.sessions.clear();
            }
            Topic::Settings => self.configuration.clear(),
            Topic::Sessions => self.sessions.clear(),
        }
    }

    /// Drops everything (a listener that reconnected may have missed notifications).
    pub fn flush(&self) {
        self.api_keys.clear();
        self.m2m_tokens.clear();
        self.users.clear();
        self.user_pages.clear();
        self.configuration.clear();
        self.sessions.clear();
    }

    /// Applies what the invalidation listener reports: a notification from another node (an unknown payload,
    /// such as a newer node's topic, flushes), or a (re)connection, after which anything may have been missed.
    pub fn on_listener_event(&self, event: &tessera_store::notify::Event<'_>) {
        match event {
            tessera_store::notify::Event::Connected => self.flush(),
            tessera_store::notify::Event::Message(payload) => match Topic::parse(payload) {
                Some((topic, instance_id)) => self.invalidate(topic, instance_id),
                None => self.flush(),
            },
        }
    }
}

/// Inside the transaction that changes a cached resource, just before `tx.commit()`: tells the other nodes
/// (PostgreSQL delivers the notification at commit, never for a rolled-back change). After the commit, call
/// `ctx.caches.invalidate(topic, instance_id)` for this node.
pub async fn changed(tx: &mut Tx, topic: Topic, instance_id: &str) -> Result<()> {
    Ok(tessera_store::notify::send(tx, &topic.payload(instance_id)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_invalidate_per_instance() {
        let c: Cache<Vec<u8>, u32> = Cache::new("test");
        let e = c.epoch();
        c.insert(b"a".to_vec(), "ins_1", 1, 0, e);
        c.insert(b"b".to_vec(), "ins_2", 2, 0, e);
        assert_eq!(c.get(&b"a".to_vec(), TTL_MS / 2 - 1), Some(1));
        assert_eq!(c.get(&b"a".to_vec(), TTL_MS), None, "expired");
        c.forget_instance("ins_1");
        assert_eq!(c.get(&b"a".to_vec(), 0), None);
        assert_eq!(c.get(&b"b".to_vec(), 0), Some(2));
    }

    #[test]
    fn past_half_its_life_one_lookup_reloads_while_the_others_still_hit() {
        let c: Cache<Vec<u8>, u32> = Cache::new("test");
        c.insert(b"a".to_vec(), "ins_1", 1, 0, c.epoch());
        let half = TTL_MS / 2;
        assert_eq!(c.get(&b"a".to_vec(), half - 1), Some(1), "young: a hit");
        assert_eq!(c.get(&b"a".to_vec(), half), None, "the first lookup past half its life reloads");
        assert_eq!(c.get(&b"a".to_vec(), half + 1), Some(1), "the others hit meanwhile");
        assert_eq!(c.get(&b"a".to_vec(), TTL_MS - 1), Some(1));
        assert_eq!(c.get(&b"a".to_vec(), TTL_MS), None, "never past its life");
        // The reload's insert starts a new life.
        c.insert(b"a".to_vec(), "ins_1", 2, half, c.epoch());
        assert_eq!(c.get(&b"a".to_vec(), TTL_MS - 1), Some(2));
    }

    #[test]
    fn a_load_that_raced_an_invalidation_is_not_cached() {
        let c: Cache<Vec<u8>, u32> = Cache::new("test");
        let before_load = c.epoch();
        c.forget_instance("ins_1");
        c.insert(b"a".to_vec(), "ins_1", 1, 0, before_load);
        assert_eq!(c.get(&b"a".to_vec(), 0), None);
    }

    #[test]
    fn payloads_round_trip() {
        assert_eq!(Topic::parse(&Topic::M2mTokens.payload("ins_x")), Some((Topic::M2mTokens, "ins_x")));
        assert_eq!(Topic::parse("nonsense"), None);
    }
}
