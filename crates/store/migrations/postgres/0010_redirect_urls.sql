-- Redirect URLs the instance allows for native and OAuth flows (`https://…` or a custom scheme), unique per instance.
CREATE TABLE redirect_urls (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX redirect_urls_instance_url ON redirect_urls(instance_id, url);
CREATE INDEX redirect_urls_instance_created ON redirect_urls(instance_id, created_at);
