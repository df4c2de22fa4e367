// Kept in step with migrations/ by hand (any query on a missing column fails the tests); types are
// the ones `diesel print-schema` gives, except that integer ids and timestamps are BigInt: SQLite
// integers are 64-bit, and a PostgreSQL schema would need BIGINT for them.

diesel::table! {
    programs (id) {
        id -> BigInt,
        name -> Text,
        slug -> Text,
        program_type -> Text,
        specialty -> Text,
        department -> Nullable<Text>,
        campus -> Text,
        description -> Nullable<Text>,
        duration_years -> Integer,
        positions_per_year -> Nullable<Integer>,
        accreditor -> Nullable<Text>,
        accreditation_id -> Nullable<Text>,
        director_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        website_url -> Nullable<Text>,
        accepting_applications -> Bool,
        application_deadline -> Nullable<Text>,
        nrmp_code -> Nullable<Text>,
        search_text -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    initiatives (id) {
        id -> BigInt,
        name -> Text,
        slug -> Text,
        summary -> Nullable<Text>,
        description -> Nullable<Text>,
        category -> Text,
        lead_office -> Nullable<Text>,
        status -> Text,
        started_on -> Nullable<Text>,
        website_url -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        search_text -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        title -> Text,
        description -> Nullable<Text>,
        event_type -> Text,
        status -> Text,
        starts_at -> BigInt,
        ends_at -> Nullable<BigInt>,
        location_name -> Nullable<Text>,
        address -> Nullable<Text>,
        is_virtual -> Bool,
        virtual_url -> Nullable<Text>,
        registration_url -> Nullable<Text>,
        capacity -> Nullable<Integer>,
        initiative_id -> Nullable<BigInt>,
        program_id -> Nullable<BigInt>,
        search_text -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        revision -> Integer,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        scopes -> Text,
    }
}

diesel::table! {
    deletions (id) {
        id -> BigInt,
        resource -> Text,
        record_id -> BigInt,
        deleted_at -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (token_id, idempotency_key) {
        token_id -> BigInt,
        idempotency_key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_location -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> BigInt,
    }
}

// FTS5 trigram indexes over search_text (migrations/…_search_index), queried with MATCH.
diesel::table! {
    programs_search (rowid) {
        rowid -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    metrics_search (rowid) {
        rowid -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    initiatives_search (rowid) {
        rowid -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    events_search (rowid) {
        rowid -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    metrics (id) {
        id -> BigInt,
        label -> Text,
        slug -> Text,
        value -> Text,
        unit -> Text,
        as_of -> Nullable<Text>,
        target_value -> Nullable<Text>,
        target_date -> Nullable<Text>,
        initiative_id -> Nullable<BigInt>,
        source_name -> Text,
        source_url -> Nullable<Text>,
        source_quote -> Nullable<Text>,
        display_order -> Integer,
        search_text -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    event_requests (id) {
        id -> BigInt,
        reference -> Text,
        secret_hash -> Text,
        organization_name -> Text,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        event_title -> Text,
        event_description -> Nullable<Text>,
        event_type -> Text,
        requested_support -> Text,
        starts_at -> BigInt,
        ends_at -> Nullable<BigInt>,
        location_name -> Nullable<Text>,
        address -> Nullable<Text>,
        expected_attendance -> Nullable<Integer>,
        status -> Text,
        decision_note -> Nullable<Text>,
        event_id -> Nullable<BigInt>,
        duplicate_key -> Nullable<Text>,
        search_text -> Text,
        erased_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::joinable!(events -> initiatives (initiative_id));
diesel::joinable!(metrics -> initiatives (initiative_id));
diesel::joinable!(events -> programs (program_id));
diesel::allow_tables_to_appear_in_same_query!(
    programs,
    initiatives,
    events,
    api_tokens,
    service_state,
    deletions,
    idempotency_keys,
    programs_search,
    initiatives_search,
    events_search,
    metrics,
    metrics_search,
    event_requests,
    submission_allowances
);

diesel::table! {
    service_state (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    /// Public event request submissions' allowance per client address (migration 9).
    submission_allowances (client_hash) {
        client_hash -> Text,
        theoretical_arrival -> BigInt,
    }
}
