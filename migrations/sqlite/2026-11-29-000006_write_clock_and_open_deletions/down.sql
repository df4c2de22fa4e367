-- (Copied out and back rather than renamed: SQLite would keep a renamed table's name quoted.)
CREATE TEMPORARY TABLE deletions_kept AS SELECT id, resource, record_id, deleted_at FROM deletions;
DROP TABLE deletions;
CREATE TABLE deletions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    resource TEXT NOT NULL CHECK (resource IN ('programs', 'initiatives', 'events')),
    record_id BIGINT NOT NULL,
    deleted_at BIGINT NOT NULL
);
INSERT INTO deletions (id, resource, record_id, deleted_at)
    SELECT id, resource, record_id, deleted_at FROM deletions_kept
    WHERE resource IN ('programs', 'initiatives', 'events');
DROP TABLE deletions_kept;
CREATE INDEX deletions_deleted_at ON deletions (deleted_at, id);

DELETE FROM service_state WHERE key = 'write_clock';
