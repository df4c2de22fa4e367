DROP TABLE service_state;
DROP TABLE api_tokens;
DROP TABLE events;
DROP TABLE initiatives;
DROP TABLE programs;
