DROP TABLE event_requests;
ALTER TABLE api_tokens DROP COLUMN scopes;
