-- Back to triggers that change the full-text indexes inside each statement.
DROP TRIGGER programs_search_queue_insert;
DROP TRIGGER programs_search_queue_delete;
DROP TRIGGER programs_search_queue_update;
DROP TRIGGER initiatives_search_queue_insert;
DROP TRIGGER initiatives_search_queue_delete;
DROP TRIGGER initiatives_search_queue_update;
DROP TRIGGER events_search_queue_insert;
DROP TRIGGER events_search_queue_delete;
DROP TRIGGER events_search_queue_update;
DROP TABLE search_queue;
CREATE TRIGGER programs_search_insert AFTER INSERT ON programs BEGIN
    INSERT INTO programs_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER programs_search_delete AFTER DELETE ON programs BEGIN
    INSERT INTO programs_search (programs_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER programs_search_update AFTER UPDATE OF search_text ON programs BEGIN
    INSERT INTO programs_search (programs_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO programs_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER initiatives_search_insert AFTER INSERT ON initiatives BEGIN
    INSERT INTO initiatives_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER initiatives_search_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO initiatives_search (initiatives_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER initiatives_search_update AFTER UPDATE OF search_text ON initiatives BEGIN
    INSERT INTO initiatives_search (initiatives_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO initiatives_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER events_search_update AFTER UPDATE OF search_text ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO events_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
