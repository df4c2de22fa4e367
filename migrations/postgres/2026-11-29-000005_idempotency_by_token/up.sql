-- The PostgreSQL twin of migrations/sqlite/2026-11-29-000005_idempotency_by_token: keys belong to
-- the token id, never to a name a later token can be given.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    token_id BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_location TEXT,
    response_body BYTEA,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
