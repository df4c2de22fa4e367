-- `q` without scanning every row: an FTS5 trigram index over each table's search_text, kept in
-- step by triggers. A phrase query of 3 or more characters finds the rows containing it.
CREATE VIRTUAL TABLE programs_search USING fts5(search_text, content='programs', content_rowid='id', tokenize='trigram');
INSERT INTO programs_search (rowid, search_text) SELECT id, search_text FROM programs;
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

CREATE VIRTUAL TABLE initiatives_search USING fts5(search_text, content='initiatives', content_rowid='id', tokenize='trigram');
INSERT INTO initiatives_search (rowid, search_text) SELECT id, search_text FROM initiatives;
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

CREATE VIRTUAL TABLE events_search USING fts5(search_text, content='events', content_rowid='id', tokenize='trigram');
INSERT INTO events_search (rowid, search_text) SELECT id, search_text FROM events;
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

-- Filters that combine with the default sort of events.
CREATE INDEX events_is_virtual ON events (is_virtual, starts_at, id);
CREATE INDEX programs_accepting ON programs (accepting_applications, name, id);
