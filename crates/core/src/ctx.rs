//! The context every core operation receives.

use crate::cache::FastMap;
use std::sync::RwLock;

use tessera_store::Db;

use crate::clock::Clock;
use crate::crypto::{MasterKey, Secrets};
use crate::instances::Instance;
use crate::keyring::Keyring;

/// Shared state of a server: database, clock, derived secrets and caches of immutable data.
#[derive(Debug)]
pub struct Ctx {
    /// The database.
    pub db: Db,
    /// The clock every expiry uses.
    pub clock: Clock,
    /// Lookup digests and sealing.
    pub secrets: Secrets,
    /// Parsed signing keys.
    pub keyring: Keyring,
    /// Delivery of codes and invitations (SMTP when configured; development instances also capture).
    pub sender: crate::sender::Sender,
    /// What the hot paths cache from the database, with the staleness bound stated in [`crate::cache`].
    pub caches: crate::cache::Caches,
    /// Instance secret-key digest → instance. Instance secret keys cannot be changed, revoked or deleted (not
    /// through the API, not by the CLI: rows of `instance_secret_keys` are only ever inserted), so the key →
    /// instance mapping never goes stale and needs no invalidation. Only the immutable fields (`id`, `environment`) of a cached
    /// instance may be read on request paths: its `publishable_key` changes with the primary domain on any node,
    /// so code that needs it reads the instance from the database.
    pub(crate) instance_auth_cache: RwLock<FastMap<Vec<u8>, Instance>>,
    /// Frontend host → instance, with the time it was loaded (see `instances::by_frontend_host`).
    pub(crate) frontend_host_cache: RwLock<Option<(i64, FastMap<String, Instance>)>>,
}

impl Ctx {
    /// Builds a context.
    pub fn new(db: Db, clock: Clock, master_key: &MasterKey) -> Self {
        Self {
            db,
            clock,
            secrets: Secrets::new(master_key),
            keyring: Keyring::default(),
            sender: crate::sender::Sender::default(),
            caches: crate::cache::Caches::default(),
            instance_auth_cache: RwLock::default(),
            frontend_host_cache: RwLock::default(),
        }
    }

    /// The context with this sender (SMTP) instead of the default (development outbox only).
    pub fn with_sender(mut self, sender: crate::sender::Sender) -> Self {
        self.sender = sender;
        self
    }

    /// Now, in Unix ms.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
