-- The transactional e-mail API (`POST /email`, `POST /email/batch`, `GET /email/{id}`; `emails.*` of
-- @clerk/backend 3.x): each e-mail sent, its send state, and the idempotency key it was sent under with a keyed
-- digest of its request (the same key with another request is a conflict).
CREATE TABLE transactional_emails (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    idempotency_key  TEXT,
    request_digest   TEXT NOT NULL,
    user_id          TEXT,
    email_address_id TEXT,
    to_email_address TEXT NOT NULL,
    from_address     TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    body_plain       TEXT,
    -- queued (being sent) | accepted (handed to the relay, or captured) | failed
    status           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX transactional_emails_key ON transactional_emails(instance_id, idempotency_key);
