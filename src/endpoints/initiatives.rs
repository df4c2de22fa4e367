//! Initiative endpoints: extract, check, one database call, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::{IntoParams, ToSchema};

use crate::base::error::AppError;
use crate::db::Conn;
use crate::domain::idempotency::{self, Idempotent};
use crate::domain::initiatives::api::{
    Category, Initiative, InitiativePatch, InitiativePatchDoc, InitiativeQuery, InitiativeStatus, NewInitiative,
};
use crate::domain::initiatives::store;
use crate::endpoints::records::{list_page, not_modified_by_version, write_target};
use crate::endpoints::state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::respond::{self, ListMeta, Representation};
use crate::http::{RecordId, no_query, require_match};

/// A page of initiatives.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the list envelope; lists are serialized by respond::render_list")]
pub struct InitiativeList {
    data: Vec<Initiative>,
    meta: ListMeta,
}

/// The query parameters of `GET /api/v1/initiatives`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by InitiativeQuery::from_request")]
pub struct InitiativeListParams {
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
    /// `name` (the default), `started_on`, `created_at`, `updated_at`. Ties break by `id`.
    /// Initiatives without `started_on` come first in ascending order.
    #[param(
        pattern = r"^-?(name|started_on|created_at|updated_at)(,-?(name|started_on|created_at|updated_at))*$",
        example = "-started_on"
    )]
    sort: Option<String>,
    /// Only initiatives of this category.
    category: Option<Category>,
    /// Only initiatives with this status.
    status: Option<InitiativeStatus>,
    /// Case-insensitive text that the name, summary or description contains.
    /// Control characters and bidirectional overrides are refused (422), as in single-line text.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "equity"
    )]
    q: Option<String>,
}

/// List initiatives
///
/// Community health initiatives, filtered and sorted, a page at a time. The
/// `Link` header (RFC 8288) gives the `next` and `prev` pages with the same filters and sort.
#[utoipa::path(
    get, path = "/api/v1/initiatives", tag = "initiatives", operation_id = "list_initiatives",
    params(InitiativeListParams),
    responses((status = 200, description = "A page of initiatives.", body = InitiativeList,
        headers(("Link" = String, description = "RFC 8288 links to the `next` and `prev` pages, where they exist."))))
)]
pub async fn list_initiatives(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, AppError> {
    let (query, pairs) = InitiativeQuery::from_request(&request)?;
    let page = (query.list.limit, query.list.offset);
    let whole_table = query.is_unfiltered().then_some("initiatives");
    let counting = query.clone();
    let count = move |conn: &mut Conn| store::count(conn, &counting);
    list_page(&state, &request, &pairs, page, whole_table, count, move |conn| store::page(conn, &query)).await
}

/// Get an initiative
///
/// One initiative by id, with a strong `ETag`. A matching `If-None-Match` answers `304`.
#[utoipa::path(
    get, path = "/api/v1/initiatives/{id}", tag = "initiatives", operation_id = "get_initiative",
    params(("id" = i64, Path, description = "The initiative's id.", minimum = 1)),
    responses(
        (status = 200, description = "The initiative.", body = Initiative,
            headers(("ETag" = String, description = "Strong entity tag of this representation."))),
        (status = 304, description = "The client's copy (`If-None-Match`) is current.",
            headers(("ETag" = String, description = "Strong entity tag of the current representation."))),
    )
)]
pub async fn get_initiative(
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("initiative")?;
    if let Some(response) =
        not_modified_by_version(&state, &request, "initiative", id, move |conn| store::version(conn, id)).await?
    {
        return Ok(response);
    }
    let generation = state.db.generation().await;
    let initiative = state.db.read(move |conn| store::get(conn, id)).await?;
    let representation = Representation::of(&initiative)?;
    state.caches.etags.remember("initiative", id, &initiative.updated_at, &representation.etag, generation);
    Ok(representation.read(&request))
}

/// Create an initiative
///
/// Creates an initiative. The slug is derived from the name when omitted; an explicit slug that is
/// taken is a `409`.
#[utoipa::path(
    post, path = "/api/v1/initiatives", tag = "initiatives", operation_id = "create_initiative",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry: a repeat with the same key and body (members in any order) from the same token (not a later token given the same name) within 24 hours gets the original response and creates nothing; the same key with another body is a 422, and a repeat while the first is still in flight a 409. 1 to 255 visible ASCII characters, e.g. a UUID.")),
    request_body(content = NewInitiative, content_type = "application/json"),
    security(("bearer" = ["content"])),
    responses((status = 201, description = "The created initiative.", body = Initiative, headers(
        ("Location" = String, description = "The URL of the new initiative."),
        ("Idempotent-Replayed" = String, description = "`true` when this is the stored response to an earlier request with the same `Idempotency-Key`."),
        ("ETag" = String, description = "Strong entity tag of the new initiative."),
    )))
)]
pub async fn create_initiative(
    caller: Caller,
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let body = body.value()?;
    let key = Idempotent::from_request(&request, caller.token_id, &body)?;
    let record = NewInitiative::from_json(body)?;
    idempotency::create(&state.db, key, move |conn, now| {
        let initiative = store::create(conn, record.clone(), now)?;
        let location = format!("/api/v1/initiatives/{}", initiative.id);
        Ok((initiative, location))
    })
    .await
}

/// Update an initiative
///
/// Applies a JSON merge patch (RFC 7396): absent fields stay, `null` clears an optional field. A
/// patch that changes nothing leaves `updated_at` and the `ETag` as they were. With `If-Match`,
/// the update happens only if the initiative is still as the client last saw it.
#[utoipa::path(
    patch, path = "/api/v1/initiatives/{id}", tag = "initiatives", operation_id = "update_initiative",
    params(
        ("id" = i64, Path, description = "The initiative's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Update only if the current `ETag` is one of these (or `*`)."),
    ),
    request_body(content(
        (InitiativePatchDoc = "application/merge-patch+json"),
        (InitiativePatchDoc = "application/json"),
    )),
    security(("bearer" = ["content"])),
    responses((status = 200, description = "The initiative after the patch.", body = Initiative,
        headers(("ETag" = String, description = "Strong entity tag of the initiative after the patch."))))
)]
pub async fn update_initiative(
    _caller: Caller,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "initiative", store::version, store::get).await?;
    let initiative = state
        .db
        .write(move |conn, now| {
            store::update(
                conn,
                id,
                |current| require_match(&if_match, current, "initiative"),
                || InitiativePatch::from_json(body.value()?),
                now,
            )
        })
        .await?;
    Ok(Representation::of(&initiative)?.respond(StatusCode::OK))
}

/// Delete an initiative
///
/// Deletes an initiative. Refused with `409 still_referenced` while events or metrics reference it
/// (`referencing_events` and `referencing_metrics` count them). Its id is
/// never reused.
#[utoipa::path(
    delete, path = "/api/v1/initiatives/{id}", tag = "initiatives", operation_id = "delete_initiative",
    params(
        ("id" = i64, Path, description = "The initiative's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Delete only if the current `ETag` is one of these (or `*`)."),
    ),
    security(("bearer" = ["content"])),
    responses((status = 204, description = "The initiative is deleted."))
)]
pub async fn delete_initiative(
    _caller: Caller,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "initiative", store::version, store::get).await?;
    state
        .db
        .write(move |conn, now| store::delete(conn, id, now, |current| require_match(&if_match, current, "initiative")))
        .await?;
    Ok(respond::no_content())
}
