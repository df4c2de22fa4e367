DROP INDEX programs_nrmp_code;
ALTER TABLE programs DROP COLUMN nrmp_code;
DROP TABLE metrics;
