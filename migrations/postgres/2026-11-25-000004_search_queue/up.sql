-- The SQLite twin queues changes for its FTS5 indexes, to apply them once per transaction. A GIN
-- index is maintained by PostgreSQL itself: nothing to do here. (The migration exists so that both
-- backends have the same list of versions.)
SELECT 1;
