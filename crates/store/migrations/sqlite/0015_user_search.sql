-- Substring search for the users list's `query` (and users/count): a trigram full-text index over what `query`
-- matches by substring — the normalized username, the lower-cased name and every identification value — so that a
-- search among a million users reads the index instead of every row (5 s → milliseconds).
--
-- One FTS5 document per user; the fields are joined by char(1), which no query contains, so a match never spans two
-- fields. FTS5 rowids must be stable integers, and a users rowid is not (VACUUM may renumber a table without an
-- INTEGER PRIMARY KEY), so each user gets its own document number here. Triggers keep the index exact inside the
-- writing transaction: nothing in Rust has to remember it.
CREATE TABLE user_search_docs (
    doc     INTEGER PRIMARY KEY,
    -- No foreign key: a cascade would drop the number before the users trigger could remove its document.
    user_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE user_search USING fts5(text, tokenize = 'trigram', detail = 'none');

CREATE TRIGGER user_search_user_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_search_docs (user_id) VALUES (new.id);
    INSERT INTO user_search (rowid, text)
        VALUES (last_insert_rowid(), coalesce(new.username_normalized, '') || char(1) || new.name_search);
END;

CREATE TRIGGER user_search_user_update AFTER UPDATE OF username_normalized, name_search ON users BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT doc FROM user_search_docs WHERE user_id = new.id);
    INSERT INTO user_search (rowid, text)
        SELECT d.doc, coalesce(new.username_normalized, '') || char(1) || new.name_search || char(1)
            || coalesce((SELECT group_concat(i.value_normalized, char(1)) FROM identifications i
                         WHERE i.user_id = new.id), '')
        FROM user_search_docs d WHERE d.user_id = new.id;
END;

CREATE TRIGGER user_search_user_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT doc FROM user_search_docs WHERE user_id = old.id);
    DELETE FROM user_search_docs WHERE user_id = old.id;
END;

CREATE TRIGGER user_search_identification_insert AFTER INSERT ON identifications BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT doc FROM user_search_docs WHERE user_id = new.user_id);
    INSERT INTO user_search (rowid, text)
        SELECT d.doc, coalesce(u.username_normalized, '') || char(1) || u.name_search || char(1)
            || coalesce((SELECT group_concat(i.value_normalized, char(1)) FROM identifications i
                         WHERE i.user_id = u.id), '')
        FROM user_search_docs d JOIN users u ON u.id = d.user_id WHERE d.user_id = new.user_id;
END;

CREATE TRIGGER user_search_identification_update AFTER UPDATE OF value_normalized, user_id ON identifications BEGIN
    DELETE FROM user_search WHERE rowid IN (SELECT doc FROM user_search_docs WHERE user_id IN (old.user_id, new.user_id));
    INSERT INTO user_search (rowid, text)
        SELECT d.doc, coalesce(u.username_normalized, '') || char(1) || u.name_search || char(1)
            || coalesce((SELECT group_concat(i.value_normalized, char(1)) FROM identifications i
                         WHERE i.user_id = u.id), '')
        FROM user_search_docs d JOIN users u ON u.id = d.user_id WHERE d.user_id IN (old.user_id, new.user_id);
END;

-- Also fires for the identifications a user's deletion cascades to; the user is gone by then (or goes next), so
-- the join finds no row to re-insert.
CREATE TRIGGER user_search_identification_delete AFTER DELETE ON identifications BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT doc FROM user_search_docs WHERE user_id = old.user_id);
    INSERT INTO user_search (rowid, text)
        SELECT d.doc, coalesce(u.username_normalized, '') || char(1) || u.name_search || char(1)
            || coalesce((SELECT group_concat(i.value_normalized, char(1)) FROM identifications i
                         WHERE i.user_id = u.id), '')
        FROM user_search_docs d JOIN users u ON u.id = d.user_id WHERE d.user_id = old.user_id;
END;

-- Users that existed before this migration.
INSERT INTO user_search_docs (user_id) SELECT id FROM users;
INSERT INTO user_search (rowid, text)
    SELECT d.doc, coalesce(u.username_normalized, '') || char(1) || u.name_search || char(1)
        || coalesce((SELECT group_concat(i.value_normalized, char(1)) FROM identifications i
                     WHERE i.user_id = u.id), '')
    FROM user_search_docs d JOIN users u ON u.id = d.user_id;
