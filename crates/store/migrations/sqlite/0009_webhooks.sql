-- Webhooks: the event outbox (written in the same transaction as each change), the instance's webhook application
-- and its endpoints, one delivery per (event, subscribed endpoint) with its attempts, and the endpoint portal's
-- one-time tokens and sessions (digests only).
CREATE TABLE webhook_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- `msg_…`: the `svix-id` of every delivery of this event.
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    -- The id of the object the event is about: deliveries of one resource to one endpoint go out in order.
    resource_id TEXT NOT NULL,
    -- The whole event as sent (`object`, `type`, `timestamp`, `instance_id`, `data`).
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX webhook_events_instance ON webhook_events(instance_id, seq);

CREATE TABLE webhook_apps (
    instance_id TEXT PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
    id          TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE webhook_endpoints (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES webhook_apps(instance_id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    description   TEXT NOT NULL,
    -- Space-separated event types; empty subscribes to every type.
    event_types   TEXT NOT NULL,
    -- The `whsec_…` signing secret, sealed (the portal shows it again).
    secret_sealed BLOB NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_instance ON webhook_endpoints(instance_id, created_at);

-- status: pending (to send, or being sent under a lease), succeeded, failed (after the last try).
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    event_seq        BIGINT NOT NULL REFERENCES webhook_events(seq) ON DELETE CASCADE,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    resource_id      TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    last_attempt_at  BIGINT,
    last_status_code BIGINT,
    last_response    TEXT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(endpoint_id, resource_id, event_seq);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries(instance_id, event_seq);

CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    status_code  BIGINT,
    response     TEXT,
    error        TEXT,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, attempted_at);

-- One-time portal links (single use, short-lived) and the portal sessions they open; both looked up by digest.
CREATE TABLE webhook_portal_tokens (
    digest      BLOB PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE webhook_portal_sessions (
    digest      BLOB PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL
);
