-- Erasing an invitation (DELETE /invitations/{id}) erases the copies of its e-mail too: the development outbox's
-- copy and the `email.created` event (whose `resource_id` is the e-mail's id). The invitation remembers the id of
-- the e-mail sent for it, and a captured message the id of the e-mail it copies.
ALTER TABLE invitations ADD COLUMN email_id TEXT;
ALTER TABLE outbox_messages ADD COLUMN email_id TEXT;
CREATE INDEX outbox_messages_email ON outbox_messages(email_id);
-- Opt-in Clerk rate limits (`--rate-limits clerk`): requests counted per instance, bucket and fixed window, so that
-- every node serving one PostgreSQL database counts the same requests. (SQLite has one serving process: it counts
-- in memory and leaves this table empty; it exists so that both dialects keep one schema.)
CREATE TABLE rate_limit_windows (
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    bucket       TEXT NOT NULL,
    -- Unix ms at which the window began (a multiple of the window's length).
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (instance_id, bucket, window_start)
);
