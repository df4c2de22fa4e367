-- The change feed for mirrors: every delete leaves a row here, in the same transaction, with a
-- write timestamp from the same strictly increasing clock as updated_at. Rows older than 90 days
-- are pruned by later deletes.
CREATE TABLE deletions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    resource TEXT NOT NULL CHECK (resource IN ('programs', 'initiatives', 'events')),
    record_id BIGINT NOT NULL,
    deleted_at BIGINT NOT NULL
);
CREATE INDEX deletions_deleted_at ON deletions (deleted_at, id);

-- A per-event revision that increases exactly when the event really changes: iCalendar's SEQUENCE.
ALTER TABLE events ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Idempotent creates (the IETF Idempotency-Key draft): the first request with a key reserves it
-- (response_status NULL while it is processed), and the finished response is kept for replay.
CREATE TABLE idempotency_keys (
    token_name TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_location TEXT,
    response_body BLOB,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token_name, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
