-- Sign-ups live on the browser's client that created them through the Frontend API (POST /v1/client/sign_ups):
-- only that client reaches them there, and the session a sign-up completes into opens on it. Attempts made before
-- this migration (Tessera's former secret-key stand-in endpoints) have none; the Backend API still reads them.
ALTER TABLE sign_ups ADD COLUMN client_id TEXT;
CREATE INDEX sign_ups_client ON sign_ups(instance_id, client_id);
