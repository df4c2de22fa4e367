-- The table as 2026-11-25-000002_change_feed created it; the keys stored by token id are dropped.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    token_name TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_location TEXT,
    response_body BYTEA,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token_name, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
