-- The PostgreSQL twin of migrations/sqlite/2026-11-25-000003_search_index: `q` without scanning
-- every row, through a trigram GIN index over each table's lower-cased search_text. A
-- `search_text LIKE '%needle%'` of 3 or more characters uses it; the text is lower-cased by the
-- service (full Unicode case folding), so matching is the same on both backends.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX programs_search ON programs USING gin (search_text gin_trgm_ops);
CREATE INDEX initiatives_search ON initiatives USING gin (search_text gin_trgm_ops);
CREATE INDEX events_search ON events USING gin (search_text gin_trgm_ops);

-- The boolean filters with their list orders, as on SQLite.
CREATE INDEX events_is_virtual ON events (is_virtual, starts_at, id);
CREATE INDEX programs_accepting ON programs (accepting_applications, name, id);
