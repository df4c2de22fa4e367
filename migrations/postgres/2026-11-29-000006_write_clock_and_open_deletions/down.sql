DELETE FROM deletions WHERE resource NOT IN ('programs', 'initiatives', 'events');
ALTER TABLE deletions ADD CONSTRAINT deletions_resource_check CHECK (resource IN ('programs', 'initiatives', 'events'));
DELETE FROM service_state WHERE key = 'write_clock';
