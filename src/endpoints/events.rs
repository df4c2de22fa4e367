//! Event endpoints: extract, check, one database call, respond.

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::{IntoParams, ToSchema};

use crate::base::clock;
use crate::base::error::AppError;
use crate::domain::events::api::{Event, EventPatchDoc, EventQuery, EventStatus, EventType, NewEvent};
use crate::domain::events::calendar;
use crate::domain::events::store::{self, Events};
use crate::domain::record_store::RecordStore;
use crate::domain::schema_org;
use crate::domain::schema_org::EventLd;
use crate::endpoints::records::record_endpoints;
use crate::endpoints::state::AppState;
use crate::http::rendered::{self, Stamp};
use crate::http::respond::{self, ListMeta};
use crate::http::{RecordId, no_query};

/// A page of events.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the list envelope; lists are serialized by respond::render_list")]
pub struct EventList {
    data: Vec<Event>,
    meta: ListMeta,
}

/// The query parameters of `GET /api/v1/events`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by EventQuery::from_request")]
pub struct EventListParams {
    /// Page size, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i64>,
    /// How many matching records to skip, at least 0.
    #[param(minimum = 0, default = 0)]
    offset: Option<i64>,
    /// Only records whose `updated_at` is at or after this instant (RFC 3339 with an offset). A
    /// mirror polls with the largest `updated_at` it has seen: write timestamps strictly increase
    /// in commit order, so nothing is missed. Pair with `GET /api/v1/deletions`.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-25T14:00:00.000000Z")]
    updated_since: Option<String>,
    /// Comma-separated sort fields, each optionally prefixed with `-` for descending:
    /// `starts_at` (the default), `title`, `created_at`, `updated_at`. Ties break by `id`.
    #[param(
        pattern = r"^-?(starts_at|title|created_at|updated_at)(,-?(starts_at|title|created_at|updated_at))*$",
        example = "-starts_at"
    )]
    sort: Option<String>,
    /// Only events of this type.
    event_type: Option<EventType>,
    /// Only events with this status.
    status: Option<EventStatus>,
    /// Only events run by this initiative.
    #[param(minimum = 1)]
    initiative_id: Option<i64>,
    /// Only events of this program.
    #[param(minimum = 1)]
    program_id: Option<i64>,
    /// Only virtual (`true`) or in-person (`false`) events.
    is_virtual: Option<bool>,
    /// Only events with `starts_at` at or after this instant (RFC 3339 with an offset).
    #[param(value_type = Option<String>, format = DateTime, example = "2027-01-01T00:00:00Z")]
    starts_after: Option<String>,
    /// Only events with `starts_at` before this instant (RFC 3339 with an offset).
    #[param(value_type = Option<String>, format = DateTime, example = "2027-02-01T00:00:00Z")]
    starts_before: Option<String>,
    /// Case-insensitive text that the title or description contains.
    /// Control characters and bidirectional overrides are refused (422), as in single-line text.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "health fair"
    )]
    q: Option<String>,
}

/// Get an event (JSON-LD)
///
/// One event as a schema.org `Event` in JSON-LD for search engines, with a strong `ETag`. Safe
/// to paste into an HTML `script` element of type `application/ld+json`: `<`, `>`, `&`, U+2028 and U+2029 are
/// written as `\u` escapes.
#[utoipa::path(
    get, path = "/api/v1/events/{id}.jsonld", tag = "events", operation_id = "get_event_jsonld",
    params(("id" = i64, Path, description = "The event's id.", minimum = 1)),
    responses(
        (status = 200, description = "The event as JSON-LD.", content_type = "application/ld+json", body = EventLd,
            headers(("ETag" = String, description = "Strong entity tag of this representation."))),
    )
)]
pub async fn get_event_jsonld(
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("event")?;
    let event = state.db.read(move |conn| Events::get(conn, id)).await?;
    schema_org::respond(&request, &schema_org::event(&event))
}

/// The query parameters of `GET /api/v1/events.ics`: the list's filters, without paging.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by EventQuery::for_calendar")]
pub struct EventCalendarParams {
    /// Only events of this type.
    event_type: Option<EventType>,
    /// Only events with this status. Without it, cancelled events stay in the feed (as
    /// `STATUS:CANCELLED`), so that subscribers see the cancellation.
    status: Option<EventStatus>,
    /// Only events run by this initiative.
    #[param(minimum = 1)]
    initiative_id: Option<i64>,
    /// Only events of this program.
    #[param(minimum = 1)]
    program_id: Option<i64>,
    /// Only virtual (`true`) or in-person (`false`) events.
    is_virtual: Option<bool>,
    /// Only events starting at or after this instant; default: 30 days ago.
    #[param(value_type = Option<String>, format = DateTime, example = "2027-01-01T00:00:00Z")]
    starts_after: Option<String>,
    /// Only events starting before this instant; default: 365 days ahead.
    #[param(value_type = Option<String>, format = DateTime, example = "2028-01-01T00:00:00Z")]
    starts_before: Option<String>,
    /// Only events whose `updated_at` is at or after this instant.
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
    /// Case-insensitive text that the title or description contains.
    /// Control characters and bidirectional overrides are refused (422), as in single-line text.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "health fair"
    )]
    q: Option<String>,
}

const CALENDAR_NAME: &str = "RUSH University System for Health events";

/// Subscribe to events (iCalendar)
///
/// The events as an iCalendar feed (RFC 5545 and RFC 7986) that calendar apps can subscribe to
/// with the plain URL. It takes the list's filters; by default it holds events starting from 30
/// days ago to 365 days ahead, at most the earliest 1,000. Each event has a stable `UID`, a
/// `SEQUENCE` that increases whenever the event really changes, and `STATUS:CANCELLED` once
/// cancelled.
#[utoipa::path(
    get, path = "/api/v1/events.ics", tag = "events", operation_id = "list_events_ics",
    params(EventCalendarParams),
    responses((status = 200, description = "The calendar.", content_type = "text/calendar", body = String))
)]
pub async fn list_events_ics(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, AppError> {
    let now = clock::system_now();
    let query = EventQuery::for_calendar(&request, now)?;
    // Taken before reading: a write that lands meanwhile makes this rendering stale at once. The
    // default window moves with the clock, so a rendering also lasts only its minute.
    let stamp = state.db.generation().await.map(|generation| Stamp { generation, step: now / FEED_STEP });
    // A feed holds up to 1,000 events: when it goes stale, the subscribers polling that URL at
    // that moment wait for one new rendering instead of each making one.
    let render = async {
        let events = state.db.read_costly(move |conn| store::calendar(conn, &query)).await?;
        let body = calendar::render(CALENDAR_NAME, &events).into_bytes();
        Ok(respond::document_rendering(calendar::TEXT_CALENDAR, body))
    };
    let feed = state.caches.get_or_render(rendered::target_of(&request), stamp, render).await?;
    Ok(feed.respond(&request))
}

/// How long a feed rendering with the default window is reused.
const FEED_STEP: clock::Micros = 60 * 1_000_000;

/// Get an event (iCalendar)
///
/// One event as an iCalendar file, to add to a calendar.
#[utoipa::path(
    get, path = "/api/v1/events/{id}.ics", tag = "events", operation_id = "get_event_ics",
    params(("id" = i64, Path, description = "The event's id.", minimum = 1)),
    responses((status = 200, description = "The event as a calendar.", content_type = "text/calendar", body = String))
)]
pub async fn get_event_ics(
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("event")?;
    let event = state.db.read(move |conn| store::calendar_event(conn, id)).await?;
    let body = calendar::render(&event.event.title.clone(), std::slice::from_ref(&event));
    Ok(respond::document(&request, calendar::TEXT_CALENDAR, body.into_bytes()))
}

record_endpoints! {
    Events at "/api/v1/events", "/api/v1/events/{id}", tag "events";
    /// List events
    ///
    /// Health fairs, community, networking and other events, filtered and sorted, a page at a time. The
    /// `Link` header (RFC 8288) gives the `next` and `prev` pages with the same filters and sort.
    list list_events(EventListParams) -> EventList;
    /// Get an event
    ///
    /// One event by id, with a strong `ETag`. A matching `If-None-Match` answers `304`. The same
    /// event as schema.org JSON-LD is at `/api/v1/events/{id}.jsonld`, and as iCalendar at
    /// `/api/v1/events/{id}.ics`.
    get get_event -> Event;
    /// Create an event
    ///
    /// Creates an event. `initiative_id` and `program_id` must name existing records; `ends_at` must be
    /// after `starts_at`; a virtual event needs `virtual_url`.
    create create_event(NewEvent);
    /// Update an event
    ///
    /// Applies a JSON merge patch (RFC 7396): absent fields stay, `null` clears an optional field. A
    /// patch that changes nothing leaves `updated_at` and the `ETag` as they were. With `If-Match`,
    /// the update happens only if the event is still as the client last saw it.
    update update_event(EventPatchDoc);
    /// Delete an event
    ///
    /// Deletes an event. Its id is never reused.
    delete delete_event;
}
