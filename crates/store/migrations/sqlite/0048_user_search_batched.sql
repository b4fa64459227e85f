-- The user search index (migration 0015) is brought up to date once per committed batch instead of inside every
-- write transaction. FTS5 flushes its pending terms to a new segment at every savepoint, and group commit opens
-- one savepoint per transaction, so a user create paid for a segment of its own, merges of those segments, and a
-- delete and re-insert of its document when its first identification arrived.
--
-- The triggers on users and identifications now only note which users changed. Just before each batch's COMMIT
-- the writer runs `DELETE FROM user_search_pending` (crates/store/src/users.rs, SQLITE_USER_SEARCH_FLUSH): the
-- trigger below rewrites each noted user's document as it goes. Readers see only committed data, so they find the
-- index exact as before. (A trigger rather than a script of statements: the writer's one statement is prepared
-- once and cached with its trigger program; a script was parsed again at every commit.)
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

CREATE TRIGGER user_search_flush BEFORE DELETE ON user_search_pending BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT doc FROM user_search_docs WHERE user_id = old.user_id);
    DELETE FROM user_search_docs
        WHERE user_id = old.user_id AND NOT EXISTS (SELECT 1 FROM users WHERE id = old.user_id);
    INSERT INTO user_search_docs (user_id) SELECT old.user_id
        WHERE EXISTS (SELECT 1 FROM users WHERE id = old.user_id)
        AND NOT EXISTS (SELECT 1 FROM user_search_docs WHERE user_id = old.user_id);
    INSERT INTO user_search (rowid, text)
        SELECT d.doc, coalesce(u.username_normalized, '') || char(1) || u.name_search || char(1)
            || coalesce((SELECT group_concat(i.value_normalized, char(1)) FROM identifications i
                         WHERE i.user_id = u.id), '')
        FROM user_search_docs d JOIN users u ON u.id = d.user_id WHERE d.user_id = old.user_id;
END;
