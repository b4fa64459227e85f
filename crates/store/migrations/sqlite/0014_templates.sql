-- Email and SMS templates an instance changed (content and/or delivery). An instance without a row for a
-- (template_type, slug) uses Tessera's built-in default for it; reverting restores the default content.
CREATE TABLE templates (
    -- Derived from (instance, type, slug), so a template keeps its id whether or not it was ever changed.
    id                  TEXT PRIMARY KEY,
    instance_id         TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    -- email | sms
    template_type       TEXT NOT NULL,
    slug                TEXT NOT NULL,
    -- Whether the content differs from the default (resource_type `user`); false after a revert.
    customized          BOOLEAN NOT NULL,
    name                TEXT NOT NULL,
    subject             TEXT,
    markup              TEXT NOT NULL,
    body                TEXT NOT NULL,
    from_email_name     TEXT,
    reply_to_email_name TEXT,
    -- false: Tessera does not send the message; the app delivers it from the email.created / sms.created event.
    delivered_by_clerk  BOOLEAN NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX templates_instance_type_slug ON templates(instance_id, template_type, slug);
