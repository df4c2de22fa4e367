-- Timestamps are INTEGER microseconds since the Unix epoch (UTC): they sort and compare as numbers,
-- carry the microseconds the contract promises, and map to BIGINT on PostgreSQL unchanged.
-- Dates are TEXT 'YYYY-MM-DD', which sorts chronologically.
-- AUTOINCREMENT so that an id is never reused, even after the newest row is deleted.
-- `search_text` is the lower-cased text that `q` searches; the store keeps it in step with the
-- fields it is made of, so search is Unicode case-insensitive on every backend.

CREATE TABLE programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    program_type TEXT NOT NULL CHECK (program_type IN ('residency', 'fellowship', 'allied_health')),
    specialty TEXT NOT NULL,
    department TEXT,
    campus TEXT NOT NULL CHECK (campus IN ('rush_university_medical_center', 'rush_oak_park_hospital', 'rush_copley_medical_center')),
    description TEXT,
    duration_years INTEGER NOT NULL CHECK (duration_years BETWEEN 1 AND 10),
    positions_per_year INTEGER CHECK (positions_per_year BETWEEN 0 AND 500),
    accreditor TEXT,
    accreditation_id TEXT,
    director_name TEXT,
    contact_email TEXT,
    website_url TEXT,
    accepting_applications BOOLEAN NOT NULL,
    application_deadline TEXT,
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX programs_name ON programs (name, id);
CREATE INDEX programs_specialty ON programs (specialty, id);
CREATE INDEX programs_program_type ON programs (program_type, id);
CREATE INDEX programs_campus ON programs (campus, id);
CREATE INDEX programs_created_at ON programs (created_at, id);
CREATE INDEX programs_updated_at ON programs (updated_at, id);

CREATE TABLE initiatives (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    summary TEXT,
    description TEXT,
    category TEXT NOT NULL CHECK (category IN ('health_equity', 'education', 'clinical_care', 'economic_development', 'community_service', 'partnership', 'public_health')),
    lead_office TEXT,
    status TEXT NOT NULL CHECK (status IN ('planned', 'active', 'completed')),
    started_on TEXT,
    website_url TEXT,
    contact_email TEXT,
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX initiatives_name ON initiatives (name, id);
CREATE INDEX initiatives_category ON initiatives (category, id);
CREATE INDEX initiatives_status ON initiatives (status, id);
CREATE INDEX initiatives_started_on ON initiatives (started_on, id);
CREATE INDEX initiatives_created_at ON initiatives (created_at, id);
CREATE INDEX initiatives_updated_at ON initiatives (updated_at, id);

-- Plain REFERENCES (no ON DELETE action): SQLite then reports a violation as a foreign-key error
-- Diesel can classify. The store checks references inside the write transaction first; the
-- constraint is the backstop.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    event_type TEXT NOT NULL CHECK (event_type IN ('health_fair', 'community_event', 'networking', 'wellness', 'recruitment', 'education', 'volunteer')),
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'completed')),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT CHECK (ends_at IS NULL OR ends_at > starts_at),
    location_name TEXT,
    address TEXT,
    is_virtual BOOLEAN NOT NULL,
    virtual_url TEXT CHECK (NOT is_virtual OR virtual_url IS NOT NULL),
    registration_url TEXT,
    capacity INTEGER CHECK (capacity BETWEEN 1 AND 100000),
    initiative_id INTEGER REFERENCES initiatives (id),
    program_id INTEGER REFERENCES programs (id),
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX events_starts_at ON events (starts_at, id);
CREATE INDEX events_title ON events (title, id);
CREATE INDEX events_event_type ON events (event_type, starts_at, id);
CREATE INDEX events_status ON events (status, starts_at, id);
CREATE INDEX events_initiative_id ON events (initiative_id);
CREATE INDEX events_program_id ON events (program_id);
CREATE INDEX events_created_at ON events (created_at, id);
CREATE INDEX events_updated_at ON events (updated_at, id);

-- Write tokens: only the SHA-256 of the secret is kept. Revoking deletes the row, so the name can
-- be reused and a revoked secret matches nothing.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Facts about the database itself, such as when the bundled dataset was loaded (so that a
-- database a user emptied on purpose is not filled again at the next start).
CREATE TABLE service_state (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
