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

-- Costly queries call within_budget() in their WHERE, as on SQLite, where the service defines it
-- to stop a query past its budget. PostgreSQL stops such a query with statement_timeout instead
-- (set by the service around each costly read), so here it is simply true.
CREATE FUNCTION within_budget() RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
