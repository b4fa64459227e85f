-- `ignore_dots_for_gmail_addresses` (PATCH /instance/restrictions): with it on, dots in the local part of a
-- gmail.com / googlemail.com address do not make a new identifier. `email_dotless` is that comparison key (the
-- lower-cased address without the dots of its local part), kept for gmail addresses only (NULL otherwise), so
-- that the uniqueness check is one indexed lookup whichever way the switch was set when a row was written.
ALTER TABLE identifications ADD COLUMN email_dotless TEXT;
UPDATE identifications
    SET email_dotless = replace(substr(value_normalized, 1, length(value_normalized) - 10), '.', '') || '@gmail.com'
    WHERE kind = 'email_address' AND value_normalized LIKE '%@gmail.com';
UPDATE identifications
    SET email_dotless =
        replace(substr(value_normalized, 1, length(value_normalized) - 15), '.', '') || '@googlemail.com'
    WHERE kind = 'email_address' AND value_normalized LIKE '%@googlemail.com';
CREATE INDEX identifications_instance_dotless ON identifications(instance_id, email_dotless)
    WHERE email_dotless IS NOT NULL;
