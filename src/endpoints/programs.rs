//! Program endpoints: extract, check, one database call, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::{IntoParams, ToSchema};

use crate::base::error::AppError;
use crate::db::Conn;
use crate::domain::idempotency::{self, Idempotent};
use crate::domain::programs::api::{
    Campus, NewProgram, Program, ProgramPatch, ProgramPatchDoc, ProgramQuery, ProgramType,
};
use crate::domain::programs::store;
use crate::domain::schema_org;
use crate::domain::schema_org::ProgramLd;
use crate::endpoints::records::{list_page, not_modified_by_version, write_target};
use crate::endpoints::state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::respond::{self, ListMeta, Representation};
use crate::http::{RecordId, no_query, require_match};

/// A page of programs.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the list envelope; lists are serialized by respond::render_list")]
pub struct ProgramList {
    data: Vec<Program>,
    meta: ListMeta,
}

/// The query parameters of `GET /api/v1/programs`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by ProgramQuery::from_request")]
pub struct ProgramListParams {
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
    /// `name` (the default), `specialty`, `created_at`, `updated_at`. Ties break by `id`.
    #[param(
        pattern = r"^-?(name|specialty|created_at|updated_at)(,-?(name|specialty|created_at|updated_at))*$",
        example = "-updated_at,name"
    )]
    sort: Option<String>,
    /// Only programs of this type.
    program_type: Option<ProgramType>,
    /// Only programs on this campus.
    campus: Option<Campus>,
    /// Only programs with exactly this specialty (case-sensitive); single-line text as in the body.
    #[param(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "Internal Medicine"
    )]
    specialty: Option<String>,
    /// Only programs that do (`true`) or do not (`false`) accept applications.
    accepting_applications: Option<bool>,
    /// Only the program with this NRMP program code.
    #[param(pattern = "^[0-9]{7}[A-Z][0-9]$", example = "1234140C0")]
    nrmp_code: Option<String>,
    /// Case-insensitive text that the name or description contains.
    /// Control characters and bidirectional overrides are refused (422), as in single-line text.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "medicine"
    )]
    q: Option<String>,
}

/// List programs
///
/// Residency, fellowship and allied-health programs, filtered and sorted, a page at a time. The
/// `Link` header (RFC 8288) gives the `next` and `prev` pages with the same filters and sort.
#[utoipa::path(
    get, path = "/api/v1/programs", tag = "programs", operation_id = "list_programs",
    params(ProgramListParams),
    responses((status = 200, description = "A page of programs.", body = ProgramList,
        headers(("Link" = String, description = "RFC 8288 links to the `next` and `prev` pages, where they exist."))))
)]
pub async fn list_programs(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, AppError> {
    let (query, pairs) = ProgramQuery::from_request(&request)?;
    let page = (query.list.limit, query.list.offset);
    let whole_table = query.is_unfiltered().then_some("programs");
    let counting = query.clone();
    let count = move |conn: &mut Conn| store::count(conn, &counting);
    list_page(&state, &request, &pairs, page, whole_table, count, move |conn| store::page(conn, &query)).await
}

/// Get a program
///
/// One program by id, with a strong `ETag`. A matching `If-None-Match` answers `304`. The same
/// program as schema.org JSON-LD is at `/api/v1/programs/{id}.jsonld`.
#[utoipa::path(
    get, path = "/api/v1/programs/{id}", tag = "programs", operation_id = "get_program",
    params(("id" = i64, Path, description = "The program's id.", minimum = 1)),
    responses(
        (status = 200, description = "The program.", body = Program,
            headers(("ETag" = String, description = "Strong entity tag of this representation."))),
        (status = 304, description = "The client's copy (`If-None-Match`) is current.",
            headers(("ETag" = String, description = "Strong entity tag of the current representation."))),
    )
)]
pub async fn get_program(
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("program")?;
    if let Some(response) =
        not_modified_by_version(&state, &request, "program", id, move |conn| store::version(conn, id)).await?
    {
        return Ok(response);
    }
    let generation = state.db.generation().await;
    let program = state.db.read(move |conn| store::get(conn, id)).await?;
    let representation = Representation::of(&program)?;
    state.caches.etags.remember("program", id, &program.updated_at, &representation.etag, generation);
    Ok(representation.read(&request))
}

/// Get a program (JSON-LD)
///
/// One program as schema.org JSON-LD (an `EducationalOccupationalProgram`) for search engines,
/// with a strong `ETag`. Safe to paste into an HTML `script` element of type
/// `application/ld+json`: `<`, `>`,
/// `&`, U+2028 and U+2029 are written as `\u` escapes.
#[utoipa::path(
    get, path = "/api/v1/programs/{id}.jsonld", tag = "programs", operation_id = "get_program_jsonld",
    params(("id" = i64, Path, description = "The program's id.", minimum = 1)),
    responses(
        (status = 200, description = "The program as JSON-LD.", content_type = "application/ld+json", body = ProgramLd,
            headers(("ETag" = String, description = "Strong entity tag of this representation."))),
    )
)]
pub async fn get_program_jsonld(
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("program")?;
    let program = state.db.read(move |conn| store::get(conn, id)).await?;
    schema_org::respond(&request, &schema_org::program(&program))
}

/// Create a program
///
/// Creates a program. The slug is derived from the name when omitted; an explicit slug that is
/// taken is a `409`.
#[utoipa::path(
    post, path = "/api/v1/programs", tag = "programs", operation_id = "create_program",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry: a repeat with the same key and body (members in any order) from the same token (not a later token given the same name) within 24 hours gets the original response and creates nothing; the same key with another body is a 422, and a repeat while the first is still in flight a 409. 1 to 255 visible ASCII characters, e.g. a UUID.")),
    request_body(content = NewProgram, content_type = "application/json"),
    security(("bearer" = ["content"])),
    responses((status = 201, description = "The created program.", body = Program, headers(
        ("Location" = String, description = "The URL of the new program."),
        ("Idempotent-Replayed" = String, description = "`true` when this is the stored response to an earlier request with the same `Idempotency-Key`."),
        ("ETag" = String, description = "Strong entity tag of the new program."),
    )))
)]
pub async fn create_program(
    caller: Caller,
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let body = body.value()?;
    let key = Idempotent::from_request(&request, caller.token_id, &body)?;
    let record = NewProgram::from_json(body)?;
    idempotency::create(&state.db, key, move |conn, now| {
        let program = store::create(conn, record.clone(), now)?;
        let location = format!("/api/v1/programs/{}", program.id);
        Ok((program, location))
    })
    .await
}

/// Update a program
///
/// Applies a JSON merge patch (RFC 7396): absent fields stay, `null` clears an optional field. A
/// patch that changes nothing leaves `updated_at` and the `ETag` as they were. With `If-Match`,
/// the update happens only if the program is still as the client last saw it.
#[utoipa::path(
    patch, path = "/api/v1/programs/{id}", tag = "programs", operation_id = "update_program",
    params(
        ("id" = i64, Path, description = "The program's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Update only if the current `ETag` is one of these (or `*`)."),
    ),
    request_body(content(
        (ProgramPatchDoc = "application/merge-patch+json"),
        (ProgramPatchDoc = "application/json"),
    )),
    security(("bearer" = ["content"])),
    responses((status = 200, description = "The program after the patch.", body = Program,
        headers(("ETag" = String, description = "Strong entity tag of the program after the patch."))))
)]
pub async fn update_program(
    _caller: Caller,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "program", store::version, store::get).await?;
    let program = state
        .db
        .write(move |conn, now| {
            store::update(
                conn,
                id,
                |current| require_match(&if_match, current, "program"),
                || ProgramPatch::from_json(body.value()?),
                now,
            )
        })
        .await?;
    Ok(Representation::of(&program)?.respond(StatusCode::OK))
}

/// Delete a program
///
/// Deletes a program. Refused with `409 still_referenced` while events reference it. Its id is
/// never reused.
#[utoipa::path(
    delete, path = "/api/v1/programs/{id}", tag = "programs", operation_id = "delete_program",
    params(
        ("id" = i64, Path, description = "The program's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Delete only if the current `ETag` is one of these (or `*`)."),
    ),
    security(("bearer" = ["content"])),
    responses((status = 204, description = "The program is deleted."))
)]
pub async fn delete_program(
    _caller: Caller,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "program", store::version, store::get).await?;
    state
        .db
        .write(move |conn, now| store::delete(conn, id, now, |current| require_match(&if_match, current, "program")))
        .await?;
    Ok(respond::no_content())
}
