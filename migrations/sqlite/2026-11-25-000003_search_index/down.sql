DROP INDEX programs_accepting;
DROP INDEX events_is_virtual;
DROP TABLE events_search;
DROP TABLE initiatives_search;
DROP TABLE programs_search;
