-- Idempotency keys belong to the token that used them, not to its name: a token revoked and
-- created again under the same name is another client and must never be answered with the old
-- one's stored responses. Token ids are never reused (AUTOINCREMENT), so the id names one token
-- for good. Keys live 24 hours, so the rows keyed by name are dropped rather than carried over: a
-- retry within that day creates its record again at worst. No REFERENCES: a create still in flight
-- when its token is revoked stores a row that matches nothing and expires; `token revoke` deletes
-- the token's keys itself.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    token_id BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_location TEXT,
    response_body BLOB,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
