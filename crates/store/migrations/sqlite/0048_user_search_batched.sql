-- The user search index (migration 0015) is brought up to date once per committed batch instead of inside every
-- write transaction. FTS5 flushes its pending terms to a new segment at every savepoint, and group commit opens
-- one savepoint per transaction, so a user create paid for a segment of its own, merges of those segments, and a
-- delete and re-insert of its document when its first identification arrived: a third of its instructions.
--
-- The triggers now only note which users changed; the writer runs `user_search_flush` (crates/store/src/users.rs)
-- on its connection just before each batch's COMMIT, so readers, who see only committed data, find the index
-- exact as before.
CREATE TABLE user_search_pending (
    user_id TEXT PRIMARY KEY
) WITHOUT ROWID;

DROP TRIGGER user_search_user_insert;
DROP TRIGGER user_search_user_update;
DROP TRIGGER user_search_user_delete;
DROP TRIGGER user_search_identification_insert;
DROP TRIGGER user_search_identification_update;
DROP TRIGGER user_search_identification_delete;

CREATE TRIGGER user_search_user_insert AFTER INSERT ON users BEGIN
    INSERT OR IGNORE INTO user_search_pending (user_id) VALUES (new.id);
END;

CREATE TRIGGER user_search_user_update AFTER UPDATE OF username_normalized, name_search ON users BEGIN
    INSERT OR IGNORE INTO user_search_pending (user_id) VALUES (new.id);
END;

CREATE TRIGGER user_search_user_delete AFTER DELETE ON users BEGIN
    INSERT OR IGNORE INTO user_search_pending (user_id) VALUES (old.id);
END;

CREATE TRIGGER user_search_identification_insert AFTER INSERT ON identifications BEGIN
    INSERT OR IGNORE INTO user_search_pending (user_id) VALUES (new.user_id);
END;

CREATE TRIGGER user_search_identification_update AFTER UPDATE OF value_normalized, user_id ON identifications BEGIN
    INSERT OR IGNORE INTO user_search_pending (user_id) VALUES (old.user_id), (new.user_id);
END;

CREATE TRIGGER user_search_identification_delete AFTER DELETE ON identifications BEGIN
    INSERT OR IGNORE INTO user_search_pending (user_id) VALUES (old.user_id);
END;
