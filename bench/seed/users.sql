-- Seeds :count users, each with one verified e-mail address seed<n>@bench.example, straight into the database
-- (through the API a million users would take most of an hour). Used only by `bench/run --users N`.
-- Placeholders, filled in by bench/run.py: :instance, :count, :now. Written once; the SQLite and PostgreSQL
-- variants differ only in the row generator (see run.py).
INSERT INTO users (id, instance_id, first_name, last_name, name_search, primary_email_address_id, public_metadata,
                   private_metadata, unsafe_metadata, password_compromised, banned, failed_verification_attempts,
                   delete_self_enabled, create_organization_enabled, bypass_client_trust, created_at, updated_at)
SELECT 'user_seed' || lpad_n, :instance, 'Seed', 'User' || n, 'seed user' || n, 'idn_seed' || lpad_n, '{}', '{}',
       '{}', FALSE, FALSE, 0, TRUE, TRUE, FALSE, :now + n, :now + n
FROM seq;
INSERT INTO identifications (id, instance_id, user_id, kind, value, value_normalized, reserved, verification_status,
                             verification_strategy, reserved_for_second_factor, default_second_factor, created_at,
                             updated_at)
SELECT 'idn_seed' || lpad_n, :instance, 'user_seed' || lpad_n, 'email_address', 'seed' || n || '@bench.example',
       'seed' || n || '@bench.example', FALSE, 'verified', 'admin', FALSE, FALSE, :now + n, :now + n
FROM seq;
