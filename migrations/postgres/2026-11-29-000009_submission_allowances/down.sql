DROP TABLE submission_allowances;
