-- The triggers of 0049 notified inside each writing transaction. A transaction that NOTIFYs holds one lock of the
-- whole database from its notification until its commit is flushed (PostgreSQL keeps the notification queue in
-- commit order), so writes to users could no longer share a WAL flush (pgbench, one insert per transaction at 32
-- clients: 13.6k/s without a notification, 4.4k/s with one). The node that commits such a change now notifies after
-- its commit, one notification covering every change committed while the previous one was on its way
-- (crates/store/src/changes.rs, `Outgoing`). SQL run by hand reaches the caches through their expiry (1 s), as it
-- does on SQLite.
DROP FUNCTION tessera_cache_changed() CASCADE;
