-- The PostgreSQL twin of migrations/sqlite/2026-11-29-000006_write_clock_and_open_deletions.
INSERT INTO service_state (key, value)
SELECT 'write_clock', CAST(GREATEST(
    coalesce((SELECT max(updated_at) FROM programs), 0),
    coalesce((SELECT max(updated_at) FROM initiatives), 0),
    coalesce((SELECT max(updated_at) FROM events), 0),
    coalesce((SELECT max(created_at) FROM api_tokens), 0),
    coalesce((SELECT max(deleted_at) FROM deletions), 0)
) AS TEXT)
WHERE NOT EXISTS (SELECT 1 FROM service_state WHERE key = 'write_clock');

ALTER TABLE deletions DROP CONSTRAINT deletions_resource_check;
