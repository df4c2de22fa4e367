-- Figures ("By the Numbers") with their sources. `value` and `target_value` hold the JSON number
-- as the API writes it back (integers as integers, decimals in the shortest form that reads back
-- to the same double): exact for 15 significant digits, and the same text on every backend, where
-- a REAL column would turn 825 into 825.0. No sort or filter reads them as numbers.
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    label TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    value TEXT NOT NULL,
    unit TEXT NOT NULL CHECK (unit IN ('years', 'people', 'usd', 'percent', 'count')),
    as_of TEXT,
    target_value TEXT,
    target_date TEXT CHECK (target_date IS NULL OR target_value IS NOT NULL),
    initiative_id INTEGER REFERENCES initiatives (id),
    source_name TEXT NOT NULL,
    source_url TEXT,
    source_quote TEXT,
    display_order INTEGER NOT NULL CHECK (display_order BETWEEN 0 AND 10000),
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX metrics_display_order ON metrics (display_order, id);
CREATE INDEX metrics_label ON metrics (label, id);
CREATE INDEX metrics_as_of ON metrics (as_of, id);
CREATE INDEX metrics_unit ON metrics (unit, display_order, id);
CREATE INDEX metrics_initiative_id ON metrics (initiative_id);
CREATE INDEX metrics_created_at ON metrics (created_at, id);
CREATE INDEX metrics_updated_at ON metrics (updated_at, id);

CREATE VIRTUAL TABLE metrics_search USING fts5(search_text, content='metrics', content_rowid='id', tokenize='trigram');
CREATE TRIGGER metrics_search_queue_insert AFTER INSERT ON metrics BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('metrics', new.id, NULL);
END;
CREATE TRIGGER metrics_search_queue_delete AFTER DELETE ON metrics BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('metrics', old.id, old.search_text);
END;
CREATE TRIGGER metrics_search_queue_update AFTER UPDATE OF search_text ON metrics BEGIN
    INSERT INTO search_queue (resource, record_id, old_text) VALUES ('metrics', old.id, old.search_text);
END;

-- The NRMP program code applicants and matching tools name a residency by; unique where set.
ALTER TABLE programs ADD COLUMN nrmp_code TEXT;
CREATE UNIQUE INDEX programs_nrmp_code ON programs (nrmp_code);
