DROP FUNCTION within_budget();
DROP INDEX programs_accepting;
DROP INDEX events_is_virtual;
DROP INDEX events_search;
DROP INDEX initiatives_search;
DROP INDEX programs_search;
