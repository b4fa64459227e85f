-- PostgreSQL's 0050 drops the triggers of its 0049; SQLite had none (one process per file). Kept in step.
SELECT 1;
