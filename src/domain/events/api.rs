//! Events on the wire: what clients send and receive, and the rules their fields follow.

use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::base::clock::Micros;
use crate::base::error::{AppError, FieldError};
use crate::http::fields::{self, Fields, Patch};
use crate::http::query::{self, ListParams, QueryParams, SortKey};
use crate::wire_enum;

wire_enum! {
    /// What kind of event it is.
    pub enum EventType {
        HealthFair = "health_fair",
        CommunityEvent = "community_event",
        Networking = "networking",
        Wellness = "wellness",
        Recruitment = "recruitment",
        Education = "education",
        Volunteer = "volunteer",
    }
}

wire_enum! {
    /// Whether the event goes ahead.
    pub enum EventStatus {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

wire_enum! {
    /// A field events can be sorted by.
    pub enum EventSort {
        StartsAt = "starts_at",
        Title = "title",
        CreatedAt = "created_at",
        UpdatedAt = "updated_at",
    }
}

/// A health fair, community, networking, wellness, recruitment, education or volunteer event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    /// Assigned by the server; never reused.
    #[schema(example = 1, minimum = 1)]
    pub id: i64,
    /// 1 to 200 characters.
    #[schema(example = "Back-to-School Health Fair")]
    pub title: String,
    /// At most 10,000 characters.
    #[schema(required = true)]
    pub description: Option<String>,
    pub event_type: EventType,
    pub status: EventStatus,
    /// When it starts, in UTC.
    #[schema(format = "date-time", example = "2027-03-14T14:00:00Z")]
    pub starts_at: String,
    /// When it ends, in UTC; after `starts_at`.
    #[schema(required = true, format = "date-time", example = "2027-03-14T17:00:00Z")]
    pub ends_at: Option<String>,
    /// At most 200 characters.
    #[schema(required = true, example = "Rush University Medical Center")]
    pub location_name: Option<String>,
    /// At most 300 characters.
    #[schema(required = true)]
    pub address: Option<String>,
    /// Whether it happens online; then `virtual_url` is set.
    pub is_virtual: bool,
    /// Where to join online: an absolute http(s) URL.
    #[schema(required = true, format = "uri")]
    pub virtual_url: Option<String>,
    /// Where to register: an absolute http(s) URL.
    #[schema(required = true, format = "uri")]
    pub registration_url: Option<String>,
    /// How many people can attend, 1 to 100,000.
    #[schema(required = true, minimum = 1, maximum = 100000)]
    pub capacity: Option<i32>,
    /// The initiative that runs it.
    #[schema(required = true, minimum = 1)]
    pub initiative_id: Option<i64>,
    /// The training program it belongs to.
    #[schema(required = true, minimum = 1)]
    pub program_id: Option<i64>,
    /// When the record was created (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub created_at: String,
    /// When the record last changed (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub updated_at: String,
}

/// The fields a client sets on an event. POST takes them with the defaults below; PATCH merges a
/// subset into the stored record. Timestamps take any RFC 3339 offset (one is required) and are
/// returned in UTC.
///
/// Single-line text fields refuse control characters (U+0000-U+001F, U+007F-U+009F) and
/// bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069); `description` also
/// allows tab, line feed and carriage return and refuses the other control characters. A refused
/// character is a 422 naming the field.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// 1 to 200 characters.
    #[schema(
        example = "Back-to-School Health Fair",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub title: String,
    /// At most 10,000 characters.
    #[schema(max_length = 10000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    pub event_type: EventType,
    /// Defaults to `scheduled`.
    #[serde(default = "default_status")]
    pub status: EventStatus,
    /// RFC 3339 with an offset.
    #[schema(value_type = String, format = DateTime, example = "2027-03-14T09:00:00-05:00")]
    pub starts_at: Micros,
    /// RFC 3339 with an offset; must be after `starts_at`.
    #[schema(value_type = Option<String>, format = DateTime, example = "2027-03-14T12:00:00-05:00")]
    pub ends_at: Option<Micros>,
    /// At most 200 characters.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub location_name: Option<String>,
    /// At most 300 characters.
    #[schema(max_length = 300, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub address: Option<String>,
    /// Defaults to `false`; when `true`, `virtual_url` must be given.
    #[serde(default)]
    #[schema(default = false)]
    pub is_virtual: bool,
    /// An absolute `http`/`https` URL with a host, as browsers parse it (WHATWG URL), that is also
    /// an RFC 3986 URI: `//` right after the scheme, no user name or password, and anything but
    /// ASCII letters, digits and `-._~:/?#[]@!$&'()*+,;=` percent-encoded (punycode for
    /// international host names), so no spaces, backslashes or control characters. Stored as sent.
    #[schema(format = "uri", max_length = 2048)]
    pub virtual_url: Option<String>,
    /// An absolute `http`/`https` URL with a host, as browsers parse it (WHATWG URL), that is also
    /// an RFC 3986 URI: `//` right after the scheme, no user name or password, and anything but
    /// ASCII letters, digits and `-._~:/?#[]@!$&'()*+,;=` percent-encoded (punycode for
    /// international host names), so no spaces, backslashes or control characters. Stored as sent.
    #[schema(format = "uri", max_length = 2048)]
    pub registration_url: Option<String>,
    #[schema(minimum = 1, maximum = 100000)]
    pub capacity: Option<i32>,
    /// The id of an existing initiative.
    #[schema(minimum = 1)]
    pub initiative_id: Option<i64>,
    /// The id of an existing program.
    #[schema(minimum = 1)]
    pub program_id: Option<i64>,
}

fn default_status() -> EventStatus {
    EventStatus::Scheduled
}

/// A JSON merge patch (RFC 7396) of an event: absent fields stay, `null` clears an optional
/// field, required fields cannot be `null`. The rules between fields (`ends_at` after
/// `starts_at`, `virtual_url` for virtual events) are checked on the event as patched.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = EventPatch)]
#[serde(deny_unknown_fields)]
pub struct EventPatchDoc {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub title: Option<String>,
    #[schema(max_length = 10000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub event_type: Option<EventType>,
    #[schema(nullable = false)]
    pub status: Option<EventStatus>,
    #[schema(nullable = false, format = DateTime)]
    pub starts_at: Option<String>,
    #[schema(format = DateTime)]
    pub ends_at: Option<String>,
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub location_name: Option<String>,
    #[schema(max_length = 300, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub address: Option<String>,
    #[schema(nullable = false)]
    pub is_virtual: Option<bool>,
    #[schema(format = "uri", max_length = 2048)]
    pub virtual_url: Option<String>,
    #[schema(format = "uri", max_length = 2048)]
    pub registration_url: Option<String>,
    #[schema(minimum = 1, maximum = 100000)]
    pub capacity: Option<i32>,
    #[schema(minimum = 1)]
    pub initiative_id: Option<i64>,
    #[schema(minimum = 1)]
    pub program_id: Option<i64>,
}

fn optional_line(max: usize) -> impl Fn(&Value) -> Result<String, String> {
    fields::single_line(0, max)
}

/// Whether the record a reference field (`initiative_id`, `program_id`) names exists; the store
/// answers inside the write transaction.
pub type ReferenceCheck<'a> = &'a mut dyn FnMut(&'static str, i64) -> Result<bool, AppError>;

fn reference_errors(
    initiative_id: Option<i64>,
    program_id: Option<i64>,
    exists: ReferenceCheck<'_>,
) -> Result<Vec<FieldError>, AppError> {
    let mut errors = Vec::new();
    for (field, id, resource) in [("initiative_id", initiative_id, "initiative"), ("program_id", program_id, "program")]
    {
        if let Some(id) = id
            && !exists(field, id)?
        {
            errors.push(FieldError::body(field, format!("there is no {resource} with id {id}")));
        }
    }
    Ok(errors)
}

impl NewEvent {
    /// Reads a create body, naming every invalid field, references to missing records included.
    pub fn from_json(body: Value, exists: ReferenceCheck<'_>) -> Result<NewEvent, AppError> {
        let mut f = Fields::new(body)?;
        let title = f.required("title", &fields::single_line(1, 200));
        let description = f.optional("description", &fields::multi_line(0, 10_000));
        let event_type = f.required("event_type", &fields::one_of::<EventType>);
        let status = f.defaulted("status", EventStatus::Scheduled, &fields::one_of::<EventStatus>);
        let starts_at = f.required("starts_at", &fields::instant);
        let ends_at = f.optional("ends_at", &fields::instant);
        let location_name = f.optional("location_name", &optional_line(200));
        let address = f.optional("address", &optional_line(300));
        let is_virtual = f.defaulted("is_virtual", false, &fields::boolean);
        let virtual_url = f.optional("virtual_url", &fields::url);
        let registration_url = f.optional("registration_url", &fields::url);
        let capacity = f.optional("capacity", &fields::small_integer(1, 100_000));
        let initiative_id = f.optional("initiative_id", &fields::record_id);
        let program_id = f.optional("program_id", &fields::record_id);
        let has_virtual_url = virtual_url.is_some() || f.has_errors_for("virtual_url");
        let mut found = rule_errors(starts_at, ends_at, is_virtual == Some(true), has_virtual_url, false);
        found.extend(reference_errors(initiative_id, program_id, exists)?);
        for error in found {
            f.check(false, &error.field, &error.message);
        }
        f.finish()?;
        let (Some(title), Some(event_type), Some(status), Some(starts_at), Some(is_virtual)) =
            (title, event_type, status, starts_at, is_virtual)
        else {
            return Err(AppError::internal("a required event field passed validation without a value"));
        };
        Ok(NewEvent {
            title,
            description,
            event_type,
            status,
            starts_at,
            ends_at,
            location_name,
            address,
            is_virtual,
            virtual_url,
            registration_url,
            capacity,
            initiative_id,
            program_id,
        })
    }
}

/// The rules between fields: `ends_at` after `starts_at` (blamed on `starts_at` when only it
/// changed), and a `virtual_url` for a virtual event.
fn rule_errors(
    starts_at: Option<Micros>,
    ends_at: Option<Micros>,
    is_virtual: bool,
    has_virtual_url: bool,
    blame_starts: bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at)
        && ends_at <= starts_at
    {
        errors.push(if blame_starts {
            FieldError::body("starts_at", "must be before ends_at")
        } else {
            FieldError::body("ends_at", "must be after starts_at")
        });
    }
    if is_virtual && !has_virtual_url {
        errors.push(FieldError::body("virtual_url", "must be given when is_virtual is true"));
    }
    errors
}

/// A read merge patch of an event.
#[derive(Debug)]
pub struct EventPatch {
    title: Patch<String>,
    description: Patch<String>,
    event_type: Patch<EventType>,
    status: Patch<EventStatus>,
    starts_at: Patch<Micros>,
    ends_at: Patch<Micros>,
    location_name: Patch<String>,
    address: Patch<String>,
    is_virtual: Patch<bool>,
    virtual_url: Patch<String>,
    registration_url: Patch<String>,
    capacity: Patch<i32>,
    initiative_id: Patch<i64>,
    program_id: Patch<i64>,
    /// Problems found while reading, reported together with those of the patched record.
    errors: Vec<FieldError>,
}

impl EventPatch {
    /// Reads a merge-patch body; its field errors are reported by `apply`.
    pub fn from_json(body: Value) -> Result<EventPatch, AppError> {
        let mut f = Fields::new(body)?;
        let mut patch = EventPatch {
            title: f.patch_required("title", &fields::single_line(1, 200)),
            description: f.patch_optional("description", &fields::multi_line(0, 10_000)),
            event_type: f.patch_required("event_type", &fields::one_of::<EventType>),
            status: f.patch_required("status", &fields::one_of::<EventStatus>),
            starts_at: f.patch_required("starts_at", &fields::instant),
            ends_at: f.patch_optional("ends_at", &fields::instant),
            location_name: f.patch_optional("location_name", &optional_line(200)),
            address: f.patch_optional("address", &optional_line(300)),
            is_virtual: f.patch_required("is_virtual", &fields::boolean),
            virtual_url: f.patch_optional("virtual_url", &fields::url),
            registration_url: f.patch_optional("registration_url", &fields::url),
            capacity: f.patch_optional("capacity", &fields::small_integer(1, 100_000)),
            initiative_id: f.patch_optional("initiative_id", &fields::record_id),
            program_id: f.patch_optional("program_id", &fields::record_id),
            errors: Vec::new(),
        };
        patch.errors = f.into_errors();
        Ok(patch)
    }

    /// The event as it is after the patch, checked as a whole: a 422 names every invalid field of
    /// the patch and every rule the patched event breaks. A broken time rule names the field the
    /// patch changed (`ends_at` when both or neither changed).
    pub fn apply(self, mut record: NewEvent, exists: ReferenceCheck<'_>) -> Result<NewEvent, AppError> {
        let EventPatch {
            title,
            description,
            event_type,
            status,
            starts_at,
            ends_at,
            location_name,
            address,
            is_virtual,
            virtual_url,
            registration_url,
            capacity,
            initiative_id,
            program_id,
            mut errors,
        } = self;
        let only_starts_changed = starts_at != Patch::Absent && ends_at == Patch::Absent;
        title.apply(&mut record.title);
        description.apply_optional(&mut record.description);
        event_type.apply(&mut record.event_type);
        status.apply(&mut record.status);
        starts_at.apply(&mut record.starts_at);
        ends_at.apply_optional(&mut record.ends_at);
        location_name.apply_optional(&mut record.location_name);
        address.apply_optional(&mut record.address);
        is_virtual.apply(&mut record.is_virtual);
        virtual_url.apply_optional(&mut record.virtual_url);
        registration_url.apply_optional(&mut record.registration_url);
        capacity.apply_optional(&mut record.capacity);
        initiative_id.apply_optional(&mut record.initiative_id);
        program_id.apply_optional(&mut record.program_id);

        let already = |field: &str| errors.iter().any(|e| e.field == field);
        // A rule over a field that is itself invalid would only repeat that field's error.
        let times_valid = !already("starts_at") && !already("ends_at");
        let virtual_valid = !already("is_virtual") && !already("virtual_url");
        let mut found: Vec<FieldError> = rule_errors(
            Some(record.starts_at),
            record.ends_at,
            record.is_virtual,
            record.virtual_url.is_some(),
            only_starts_changed,
        )
        .into_iter()
        .filter(|e| if e.field == "virtual_url" { virtual_valid } else { times_valid })
        .collect();
        let initiative_id = record.initiative_id.filter(|_| !already("initiative_id"));
        let program_id = record.program_id.filter(|_| !already("program_id"));
        found.extend(reference_errors(initiative_id, program_id, exists)?);
        errors.extend(found);
        fields::fail_if_any(errors)?;
        Ok(record)
    }
}

/// The query of `GET /api/v1/events`.
#[derive(Debug, Clone)]
pub struct EventQuery {
    pub event_type: Option<EventType>,
    pub status: Option<EventStatus>,
    pub initiative_id: Option<i64>,
    pub program_id: Option<i64>,
    pub is_virtual: Option<bool>,
    /// `starts_at >= starts_after`.
    pub starts_after: Option<Micros>,
    /// `starts_at < starts_before`.
    pub starts_before: Option<Micros>,
    /// Lower-cased search text.
    pub q: Option<String>,
    pub list: ListParams<EventSort>,
}

/// How far back the calendar feed reaches unless `starts_after` says otherwise.
pub const FEED_PAST: Micros = 30 * 24 * 3600 * 1_000_000;
/// How far ahead the calendar feed reaches unless `starts_before` says otherwise.
pub const FEED_AHEAD: Micros = 365 * 24 * 3600 * 1_000_000;
/// The most events one calendar feed carries (the earliest first).
pub const FEED_MAX_EVENTS: i64 = 1_000;

impl EventQuery {
    /// Whether the query matches every event (only paging and sorting given).
    pub fn is_unfiltered(&self) -> bool {
        let EventQuery {
            event_type,
            status,
            initiative_id,
            program_id,
            is_virtual,
            starts_after,
            starts_before,
            q,
            list,
        } = self;
        event_type.is_none()
            && status.is_none()
            && initiative_id.is_none()
            && program_id.is_none()
            && is_virtual.is_none()
            && starts_after.is_none()
            && starts_before.is_none()
            && q.is_none()
            && list.updated_since.is_none()
    }

    /// Takes the list's parameters from the query string; `QueryParams::finish` then reports any
    /// other parameter as unknown.
    pub fn from_params(params: &mut QueryParams) -> EventQuery {
        let list = params.list_params(EventSort::StartsAt);
        EventQuery::with_filters(params, list)
    }

    /// The query of the calendar feed: the list's filters, without paging or sorting, bounded by
    /// default to events starting from 30 days before `now` to 365 days after it, and to the
    /// earliest 1,000.
    pub fn for_calendar(request: &HttpRequest, now: Micros) -> Result<EventQuery, AppError> {
        let mut params = QueryParams::from_request(request)?;
        let updated_since = params.get("updated_since", query::instant);
        let list = ListParams {
            limit: FEED_MAX_EVENTS,
            offset: 0,
            sort: vec![SortKey { field: EventSort::StartsAt, descending: false }],
            updated_since,
        };
        let mut query = EventQuery::with_filters(&mut params, list);
        params.finish()?;
        query.starts_after = query.starts_after.or(Some(now - FEED_PAST));
        query.starts_before = query.starts_before.or(Some(now + FEED_AHEAD));
        Ok(query)
    }

    fn with_filters(params: &mut QueryParams, list: ListParams<EventSort>) -> EventQuery {
        EventQuery {
            event_type: params.get("event_type", query::one_of::<EventType>),
            status: params.get("status", query::one_of::<EventStatus>),
            initiative_id: params.get("initiative_id", query::integer(1, i64::MAX)),
            program_id: params.get("program_id", query::integer(1, i64::MAX)),
            is_virtual: params.get("is_virtual", query::boolean),
            starts_after: params.get("starts_after", query::instant),
            starts_before: params.get("starts_before", query::instant),
            q: params.search(),
            list,
        }
    }
}
