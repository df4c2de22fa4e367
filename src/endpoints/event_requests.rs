//! Event request endpoints: the public submission, the requester's status link, and staff review.
//! Every answer that holds a request is `Cache-Control: private, no-store`: it may hold personal
//! data, which no shared cache and no browser history should keep.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use utoipa::{IntoParams, ToSchema};

use crate::base::error::AppError;
use crate::domain::event_requests::api::{
    EventRequest, EventRequestPatchDoc, NewEventRequest, RequestQuery, RequestStatus, StaffPatch, Submission,
    SubmittedEventRequest,
};
use crate::domain::event_requests::store;
use crate::domain::events::api::{Event, EventType, NewEvent};
use crate::domain::idempotency::{self, Idempotent, SecretCreated};
use crate::endpoints::records::write_target;
use crate::endpoints::state::AppState;
use crate::http::auth::{Staff, StaffPublisher};
use crate::http::body::JsonBody;
use crate::http::respond::{self, ListMeta, Representation};
use crate::http::{RecordId, no_query, require_match};

/// Neither shared caches nor the browser may keep it.
pub const PRIVATE: &str = "private, no-store";

fn private(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static(PRIVATE));
    response
}

/// `200` with the request and its ETag, or `304` when `If-None-Match` names it; private.
fn read(request: &HttpRequest, value: &EventRequest) -> Result<HttpResponse, AppError> {
    Ok(private(Representation::of(value)?.read(request)))
}

/// A page of event requests.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the list envelope; lists are serialized by respond::render_list")]
pub struct EventRequestList {
    data: Vec<EventRequest>,
    meta: ListMeta,
}

/// The query parameters of `GET /api/v1/event-requests`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by RequestQuery::from_request")]
pub struct EventRequestListParams {
    /// Page size, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i64>,
    /// How many matching requests to skip, at least 0.
    #[param(minimum = 0, default = 0)]
    offset: Option<i64>,
    /// Only requests whose `updated_at` is at or after this instant (RFC 3339 with an offset).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-25T14:00:00.000000Z")]
    updated_since: Option<String>,
    /// Comma-separated sort fields, each optionally prefixed with `-` for descending:
    /// `created_at`, `starts_at`, `organization_name`, `updated_at`. Without `sort`, the newest
    /// first (`-created_at`). Ties break by `id`.
    #[param(
        pattern = r"^-?(created_at|starts_at|organization_name|updated_at)(,-?(created_at|starts_at|organization_name|updated_at))*$",
        example = "starts_at"
    )]
    sort: Option<String>,
    /// Only requests with this status.
    status: Option<RequestStatus>,
    /// Only requests for this type of event.
    event_type: Option<EventType>,
    /// Only requests whose event starts at or after this instant (RFC 3339 with an offset).
    #[param(value_type = Option<String>, format = DateTime)]
    starts_after: Option<String>,
    /// Only requests whose event starts before this instant (RFC 3339 with an offset).
    #[param(value_type = Option<String>, format = DateTime)]
    starts_before: Option<String>,
    /// Case-insensitive text that the organization, event title or description contains.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "health fair"
    )]
    q: Option<String>,
}

/// Submit an event request
///
/// Anyone may ask RUSH to take part in their community event: no token. The answer holds the
/// request's `reference` and its `status_url`, the requester's private link (also the `Location`),
/// shown this once. Each client IP may submit a limited number per hour (429 with `Retry-After`);
/// the same contact email, event title and start again within 24 hours is a 409
/// `duplicate_request`. `starts_at` must be in the future. With an `Idempotency-Key`, a retry gets
/// the same request with a new status link (the earlier link stops working: no link is stored).
#[utoipa::path(
    post, path = "/api/v1/event-requests", tag = "event requests", operation_id = "submit_event_request",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the submission safe to retry: a repeat with the same key and body within 24 hours gets the same request (with a new status link, the earlier one no longer working) and creates nothing; the same key with another body is a 422, and a repeat while the first is still in flight a 409. 1 to 255 visible ASCII characters, e.g. a UUID.")),
    request_body(content = NewEventRequest, content_type = "application/json"),
    responses((status = 201, description = "The request as submitted, with its private status link.", body = SubmittedEventRequest, headers(
        ("Location" = String, description = "The requester's status link, the same as `status_url`."),
        ("Idempotent-Replayed" = String, description = "`true` when this answers a retry with the same `Idempotency-Key`."),
        ("ETag" = String, description = "Strong entity tag of the answer."),
        ("Cache-Control" = String, description = "`private, no-store`: the answer holds personal data and a secret link."),
    )))
)]
pub async fn submit_event_request(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let body = body.value()?;
    let key = Idempotent::from_request(&request, idempotency::ANONYMOUS, &body)?;
    let submission = Submission::from_json(body, crate::base::clock::system_now())?;
    // Counted once a submission is valid, so that a form's typos do not use up the allowance.
    let verdict = if state.submissions.is_on() {
        let (client, per_hour) = (state.rate_limiter.client_ip(&request), state.submissions.per_hour);
        let allowance = state.db.write(move |conn, now| store::take_allowance(conn, client, per_hour, now)).await?;
        state.submissions.verdict(allowance.allowed, allowance.remaining, allowance.reset_seconds)
    } else {
        None
    };
    if let Some(verdict) = verdict.as_ref().filter(|verdict| !verdict.allowed) {
        let detail = format!(
            "This address has submitted as many event requests as an hour allows; retry in {} seconds.",
            verdict.reset_seconds
        );
        let mut response = AppError::client(crate::base::error::ProblemCode::RateLimited, detail).error_response();
        crate::http::guard::add_headers(response.headers_mut(), verdict);
        return Ok(response);
    }
    let answer = |submitted: store::Submitted| {
        let status_url = store::status_url(&submitted.secret);
        let id = submitted.request.id;
        SecretCreated {
            body: SubmittedEventRequest { request: submitted.request, status_url: status_url.clone() },
            location: status_url,
            id,
        }
    };
    let mut response = idempotency::create_with_secret(
        &state.db,
        key,
        move |conn, now| store::submit(conn, &submission, now).map(answer),
        move |conn, id| store::reissue_secret(conn, id).map(answer),
    )
    .await?;
    if let Some(verdict) = &verdict {
        crate::http::guard::add_headers(response.headers_mut(), verdict);
    }
    Ok(private(response))
}

/// Follow an event request
///
/// The request behind a status link, for its requester: no token, the link's secret is the
/// credential. A secret that names no request (malformed, unknown or replaced) is a 404 that says
/// nothing about which requests exist.
#[utoipa::path(
    get, path = "/api/v1/event-requests/status/{secret}", tag = "event requests", operation_id = "get_event_request_status",
    params(("secret" = String, Path, description = "The secret of the status link: 64 lower-case hex digits (256 bits).", pattern = "^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "The request.", body = EventRequest, headers(
            ("ETag" = String, description = "Strong entity tag of this representation."),
            ("Cache-Control" = String, description = "`private, no-store`."),
        )),
        (status = 304, description = "The client's copy (`If-None-Match`) is current.",
            headers(("ETag" = String, description = "Strong entity tag of the current representation."))),
    )
)]
pub async fn get_event_request_status(
    state: web::Data<AppState>,
    secret: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let secret = secret.into_inner();
    let found = state.db.read(move |conn| store::by_secret(conn, &secret)?.into_request()).await?;
    read(&request, &found)
}

/// Withdraw an event request
///
/// The requester withdraws the request behind a status link, while it is `submitted` or
/// `in_review`; otherwise (already withdrawn included) 409 `invalid_transition`. No token and no
/// body.
#[utoipa::path(
    post, path = "/api/v1/event-requests/status/{secret}/withdraw", tag = "event requests", operation_id = "withdraw_event_request",
    params(("secret" = String, Path, description = "The secret of the status link: 64 lower-case hex digits (256 bits).", pattern = "^[0-9a-f]{64}$")),
    responses((status = 200, description = "The request, now `withdrawn`.", body = EventRequest, headers(
        ("ETag" = String, description = "Strong entity tag of the request after the change."),
        ("Cache-Control" = String, description = "`private, no-store`."),
    )))
)]
pub async fn withdraw_event_request(
    state: web::Data<AppState>,
    secret: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let secret = secret.into_inner();
    let withdrawn = state.db.write(move |conn, now| store::withdraw(conn, &secret, now)).await?;
    Ok(private(Representation::of(&withdrawn)?.respond(StatusCode::OK)))
}

/// List event requests
///
/// Staff: every request, newest first unless sorted otherwise, a page at a time, with contact
/// details. Needs a token with the scope `requests`.
#[utoipa::path(
    get, path = "/api/v1/event-requests", tag = "event requests", operation_id = "list_event_requests",
    params(EventRequestListParams),
    security(("bearer" = ["requests"])),
    responses(
        (status = 200, description = "A page of event requests.", body = EventRequestList, headers(
            ("Link" = String, description = "RFC 8288 links to the `next` and `prev` pages, where they exist."),
            ("ETag" = String, description = "Strong entity tag of this page."),
            ("Cache-Control" = String, description = "`private, no-store`."),
        )),
        (status = 304, description = "The client's copy of the page (`If-None-Match`) is current.",
            headers(("ETag" = String, description = "Strong entity tag of the current page."))),
    )
)]
pub async fn list_event_requests(
    _staff: Staff,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (query, pairs) = RequestQuery::from_request(&request)?;
    let (limit, offset) = (query.list.limit, query.list.offset);
    let searching = query.q.is_some();
    let load = move |conn: &mut crate::db::Conn| store::list(conn, &query);
    let (data, total) = if searching { state.db.read_costly(load).await? } else { state.db.read(load).await? };
    let page = respond::render_list(request.path(), &pairs, &data, ListMeta { total, limit, offset })?;
    Ok(private(page.respond(&request)))
}

/// Get an event request
///
/// Staff: one request with contact details and a strong `ETag`. Needs a token with the scope
/// `requests`.
#[utoipa::path(
    get, path = "/api/v1/event-requests/{id}", tag = "event requests", operation_id = "get_event_request",
    params(("id" = i64, Path, description = "The request's id.", minimum = 1)),
    security(("bearer" = ["requests"])),
    responses(
        (status = 200, description = "The request.", body = EventRequest, headers(
            ("ETag" = String, description = "Strong entity tag of this representation."),
            ("Cache-Control" = String, description = "`private, no-store`."),
        )),
        (status = 304, description = "The client's copy (`If-None-Match`) is current.",
            headers(("ETag" = String, description = "Strong entity tag of the current representation."))),
    )
)]
pub async fn get_event_request(
    _staff: Staff,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("event request")?;
    let found = state.db.read(move |conn| store::get(conn, id)).await?;
    read(&request, &found)
}

/// Review an event request
///
/// Staff change `status` along the workflow (`submitted` → `in_review`, `accepted` or
/// `declined`; `in_review` → `accepted` or `declined`; `declined` → `in_review`; anything else is
/// a 409 `invalid_transition`), `decision_note` (shown to the requester) and `event_id` (an
/// existing event). With `If-Match`, only if the request is as the client last saw it. Needs a
/// token with the scope `requests`.
#[utoipa::path(
    patch, path = "/api/v1/event-requests/{id}", tag = "event requests", operation_id = "update_event_request",
    params(
        ("id" = i64, Path, description = "The request's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Update only if the current `ETag` is one of these (or `*`)."),
    ),
    request_body(content(
        (EventRequestPatchDoc = "application/merge-patch+json"),
        (EventRequestPatchDoc = "application/json"),
    )),
    security(("bearer" = ["requests"])),
    responses((status = 200, description = "The request after the change.", body = EventRequest, headers(
        ("ETag" = String, description = "Strong entity tag of the request after the change."),
        ("Cache-Control" = String, description = "`private, no-store`."),
    )))
)]
pub async fn update_event_request(
    _staff: Staff,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "event request", store::version, store::get).await?;
    let updated = state
        .db
        .write(move |conn, now| {
            store::update(
                conn,
                id,
                |current| require_match(&if_match, current, "event request"),
                || StaffPatch::from_json(body.value()?),
                now,
            )
        })
        .await?;
    Ok(private(Representation::of(&updated)?.respond(StatusCode::OK)))
}

/// Turn an event request into an event
///
/// Staff, in one transaction: creates a `scheduled` event from the request (title, description,
/// type, times, location and address), with any event fields the body gives on top (no body, or
/// `{}`, for none), links it (`event_id`) and sets the request `accepted`. A request that already has
/// an event is a 409 `event_already_created`; one that cannot be accepted (withdrawn) a 409
/// `invalid_transition`. Needs a token with both scopes, `requests` and `content`.
#[utoipa::path(
    post, path = "/api/v1/event-requests/{id}/event", tag = "event requests", operation_id = "create_event_from_request",
    params(("id" = i64, Path, description = "The request's id.", minimum = 1)),
    request_body(content = Option<NewEvent>, content_type = "application/json", description = "Event fields that override the request's, every field optional. Optional: no body (or `{}`) takes the request as it is."),
    security(("bearer" = ["requests", "content"])),
    responses((status = 201, description = "The created event.", body = Event, headers(
        ("Location" = String, description = "The URL of the new event."),
        ("ETag" = String, description = "Strong entity tag of the new event."),
    )))
)]
pub async fn create_event_from_request(
    _staff: StaffPublisher,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("event request")?;
    // No body at all (no Content-Type, nothing sent) takes the request as it is, like `{}`.
    let declared = |name| request.headers().contains_key(name);
    let bodiless = !declared(header::CONTENT_TYPE)
        && !declared(header::TRANSFER_ENCODING)
        && request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_none_or(|length| length.to_str().is_ok_and(|length| length.trim() == "0"));
    let overrides = if bodiless { serde_json::json!({}) } else { body.value()? };
    let event = state.db.write(move |conn, now| store::create_event(conn, id, overrides.clone(), now)).await?;
    let location = format!("/api/v1/events/{}", event.id);
    Ok(Representation::of(&event)?.created(location))
}

/// Erase an event request
///
/// Staff erase a request entirely (a person's right to erasure): nothing of it is kept, and it
/// is not listed in `/api/v1/deletions`. With `If-Match`, only if the request is as the client
/// last saw it. Needs a token with the scope `requests`.
#[utoipa::path(
    delete, path = "/api/v1/event-requests/{id}", tag = "event requests", operation_id = "delete_event_request",
    params(
        ("id" = i64, Path, description = "The request's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Erase only if the current `ETag` is one of these (or `*`)."),
    ),
    security(("bearer" = ["requests"])),
    responses((status = 204, description = "The request is erased."))
)]
pub async fn delete_event_request(
    _staff: Staff,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "event request", store::version, store::get).await?;
    state
        .db
        .write(move |conn, _now| store::erase(conn, id, |current| require_match(&if_match, current, "event request")))
        .await?;
    Ok(respond::no_content())
}
