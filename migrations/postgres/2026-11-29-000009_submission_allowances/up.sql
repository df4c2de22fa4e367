-- The PostgreSQL twin of migrations/sqlite/2026-11-29-000009_submission_allowances.
CREATE TABLE submission_allowances (
    client_hash TEXT PRIMARY KEY NOT NULL,
    theoretical_arrival BIGINT NOT NULL
);
CREATE INDEX submission_allowances_theoretical_arrival ON submission_allowances (theoretical_arrival);
