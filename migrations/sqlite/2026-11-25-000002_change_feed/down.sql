DROP TABLE idempotency_keys;
ALTER TABLE events DROP COLUMN revision;
DROP TABLE deletions;
