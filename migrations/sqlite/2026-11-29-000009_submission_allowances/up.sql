-- Each client address's allowance of public event request submissions
-- (EVENT_REQUEST_RATE_LIMIT_PER_HOUR), in the database so that every instance on one database
-- counts the same submissions. The address is kept only as a hash, and a row only while it still
-- limits: at most an hour after the address's last submission.
CREATE TABLE submission_allowances (
    client_hash TEXT PRIMARY KEY NOT NULL,
    -- GCRA's theoretical arrival time, microseconds since the Unix epoch (UTC).
    theoretical_arrival BIGINT NOT NULL
);
CREATE INDEX submission_allowances_theoretical_arrival ON submission_allowances (theoretical_arrival);
