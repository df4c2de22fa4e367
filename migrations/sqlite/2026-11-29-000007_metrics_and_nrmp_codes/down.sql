DROP INDEX programs_nrmp_code;
ALTER TABLE programs DROP COLUMN nrmp_code;
DROP TRIGGER metrics_search_queue_update;
DROP TRIGGER metrics_search_queue_delete;
DROP TRIGGER metrics_search_queue_insert;
DROP TABLE metrics_search;
DROP TABLE metrics;
DELETE FROM search_queue WHERE resource = 'metrics';
