-- The full-text indexes are brought up to date once per write transaction, just before it
-- commits, instead of inside every statement that changes a record: FTS5 flushes its pending
-- terms to disk at every statement boundary of a transaction that has touched it, which made a
-- third of the writer's time (bench/RESULTS.md). Triggers now queue what changed, and the writer
-- applies the queue in the same transaction (db::sync_search), so the indexes still change
-- atomically with the records and every committed write is searchable at once.
CREATE TABLE search_queue (
    seq INTEGER PRIMARY KEY,
    resource TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    -- The text the index held for the record before this change; NULL for a new record.
    old_text TEXT
);
CREATE INDEX search_queue_record ON search_queue (resource, record_id, seq);

DROP TRIGGER programs_search_insert;
DROP TRIGGER programs_search_delete;
DROP TRIGGER programs_search_update;
CREATE TRIGGER programs_search_queue_insert AFTER INSERT ON programs BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('programs', new.id, NULL);
END;
CREATE TRIGGER programs_search_queue_delete AFTER DELETE ON programs BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('programs', old.id, old.search_text);
END;
CREATE TRIGGER programs_search_queue_update AFTER UPDATE OF search_text ON programs BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('programs', old.id, old.search_text);
END;

DROP TRIGGER initiatives_search_insert;
DROP TRIGGER initiatives_search_delete;
DROP TRIGGER initiatives_search_update;
CREATE TRIGGER initiatives_search_queue_insert AFTER INSERT ON initiatives BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('initiatives', new.id, NULL);
END;
CREATE TRIGGER initiatives_search_queue_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('initiatives', old.id, old.search_text);
END;
CREATE TRIGGER initiatives_search_queue_update AFTER UPDATE OF search_text ON initiatives BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('initiatives', old.id, old.search_text);
END;

DROP TRIGGER events_search_insert;
DROP TRIGGER events_search_delete;
DROP TRIGGER events_search_update;
CREATE TRIGGER events_search_queue_insert AFTER INSERT ON events BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('events', new.id, NULL);
END;
CREATE TRIGGER events_search_queue_delete AFTER DELETE ON events BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('events', old.id, old.search_text);
END;
CREATE TRIGGER events_search_queue_update AFTER UPDATE OF search_text ON events BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('events', old.id, old.search_text);
END;
