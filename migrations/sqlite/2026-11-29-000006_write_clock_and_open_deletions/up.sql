-- The write clock's last value is kept in the database, written by every write transaction, so a
-- restarted service continues from it without scanning every table (and a new resource needs no
-- change here). Seeded once from the newest timestamp already stored.
INSERT INTO service_state (key, value)
SELECT 'write_clock', CAST(max(
    coalesce((SELECT max(updated_at) FROM programs), 0),
    coalesce((SELECT max(updated_at) FROM initiatives), 0),
    coalesce((SELECT max(updated_at) FROM events), 0),
    coalesce((SELECT max(created_at) FROM api_tokens), 0),
    coalesce((SELECT max(deleted_at) FROM deletions), 0)
) AS TEXT)
WHERE NOT EXISTS (SELECT 1 FROM service_state WHERE key = 'write_clock');

-- Which collections exist is the service's table of resources (src/resources.rs), which rejects
-- an unknown name when it reads one back; a CHECK listing them here was a second list to keep.
-- (Copied out and back rather than renamed: SQLite would keep a renamed table's name quoted.)
CREATE TEMPORARY TABLE deletions_kept AS SELECT id, resource, record_id, deleted_at FROM deletions;
DROP TABLE deletions;
CREATE TABLE deletions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    resource TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    deleted_at BIGINT NOT NULL
);
INSERT INTO deletions (id, resource, record_id, deleted_at)
    SELECT id, resource, record_id, deleted_at FROM deletions_kept;
DROP TABLE deletions_kept;
CREATE INDEX deletions_deleted_at ON deletions (deleted_at, id);
