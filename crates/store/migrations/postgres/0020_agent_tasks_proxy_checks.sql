-- Agent tasks and proxy checks.

-- An agent is named by the caller; its id is stable per name within an instance.
CREATE TABLE agents (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX agents_instance_name ON agents(instance_id, name);

-- An agent task is a single-use ticket that signs a user in on the Frontend API host and then redirects. Like the
-- other tickets (0013), only a keyed digest of the ticket is stored. status: pending | accepted | revoked (expiry
-- is derived from expire_at).
CREATE TABLE agent_tasks (
    id                           TEXT PRIMARY KEY,
    instance_id                  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    agent_id                     TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    user_id                      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permissions                  TEXT NOT NULL,
    task_description             TEXT NOT NULL,
    redirect_url                 TEXT NOT NULL,
    session_max_duration_seconds BIGINT NOT NULL,
    status                       TEXT NOT NULL,
    ticket_hash                  BYTEA NOT NULL UNIQUE,
    expire_at                    BIGINT NOT NULL,
    created_at                   BIGINT NOT NULL,
    updated_at                   BIGINT NOT NULL
);
CREATE INDEX agent_tasks_instance ON agent_tasks(instance_id, created_at);

-- The last check of a proxy URL for a domain: one row per (domain, proxy URL), updated by each run.
CREATE TABLE proxy_checks (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    domain_id   TEXT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    proxy_url   TEXT NOT NULL,
    successful  BOOLEAN NOT NULL,
    last_run_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX proxy_checks_domain_url ON proxy_checks(instance_id, domain_id, proxy_url);
