-- Token scopes: `content` (writes to the public collections) and `requests` (event requests),
-- space-separated. Tokens made before scopes existed keep what they could do: `content`.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'content';

-- Community event requests: the one place the public writes. The requester's status link is a
-- 256-bit secret stored only as its SHA-256 hash. Contact details are personal data: erased
-- (set to NULL, with erased_at) once the event is past the retention period. No REFERENCES on
-- event_id: the event may be deleted later, and the request keeps the link as history.
CREATE TABLE event_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL UNIQUE,
    organization_name TEXT NOT NULL,
    contact_name TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    event_title TEXT NOT NULL,
    event_description TEXT,
    event_type TEXT NOT NULL CHECK (event_type IN ('health_fair', 'community_event', 'networking', 'wellness', 'recruitment', 'education', 'volunteer')),
    requested_support TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT CHECK (ends_at IS NULL OR ends_at > starts_at),
    location_name TEXT,
    address TEXT,
    expected_attendance INTEGER CHECK (expected_attendance BETWEEN 1 AND 100000),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'in_review', 'accepted', 'declined', 'withdrawn')),
    decision_note TEXT,
    event_id BIGINT,
    -- Lower-cased contact email, title and start: the 24-hour duplicate rule's key.
    duplicate_key TEXT,
    search_text TEXT NOT NULL,
    erased_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX event_requests_created_at ON event_requests (created_at, id);
CREATE INDEX event_requests_updated_at ON event_requests (updated_at, id);
CREATE INDEX event_requests_starts_at ON event_requests (starts_at, id);
CREATE INDEX event_requests_status ON event_requests (status, created_at, id);
CREATE INDEX event_requests_organization_name ON event_requests (organization_name, id);
CREATE INDEX event_requests_duplicate_key ON event_requests (duplicate_key, created_at);
CREATE INDEX event_requests_retention ON event_requests (erased_at, starts_at);
