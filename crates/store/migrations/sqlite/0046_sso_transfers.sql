-- Enterprise SSO transfers (clerk-js's `transferable` verifications): the IdP vouched for a person, but the attempt
-- that asked was the wrong kind — a sign-up for someone who already has an account, or a sign-in for someone who
-- has none. The verified identity waits here, for the attempt it answered, until clerk-js continues with the other
-- kind (`signIn.create({transfer: true})` / `signUp.create({transfer: true})`) on the same client.
CREATE TABLE sso_transfers (
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    -- The sign-in (`sia_…`) or sign-up (`sua_…`) attempt the IdP answered.
    attempt_id    TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES enterprise_connections(id) ON DELETE CASCADE,
    -- JSON: the verified identity (subject, e-mail address, names, custom attributes).
    identity      TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (instance_id, attempt_id)
);
