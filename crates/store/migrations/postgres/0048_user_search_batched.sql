-- Nothing to change on PostgreSQL: its user search is the pg_trgm indexes of migration 0015, which PostgreSQL
-- maintains itself (GIN's pending list already batches them). This version exists because the SQLite one does
-- (both folders keep the same versions).
SELECT 1;
