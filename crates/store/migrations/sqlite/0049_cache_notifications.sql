-- Nothing to change on SQLite: one server process per database file, whose writer tells its caches itself
-- (crates/store/src/changes.rs). PostgreSQL's version adds the triggers that tell the other nodes. This version
-- exists because that one does (both folders keep the same versions).
SELECT 1;
