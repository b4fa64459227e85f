-- Affiliation verification of an organization domain by e-mail code: the keyed digest of the code sent to the
-- affiliation address (bound to the domain and the moment the verification was prepared). Never the code.
ALTER TABLE organization_domains ADD COLUMN affiliation_code_digest BYTEA;
