//! Program endpoints: extract, check, one database call, respond.

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::{IntoParams, ToSchema};

use crate::base::error::AppError;
use crate::domain::programs::api::{Campus, NewProgram, Program, ProgramPatchDoc, ProgramType};
use crate::domain::programs::store::Programs;
use crate::domain::record_store::RecordStore;
use crate::domain::schema_org;
use crate::domain::schema_org::ProgramLd;
use crate::endpoints::records::record_endpoints;
use crate::endpoints::state::AppState;
use crate::http::respond::ListMeta;
use crate::http::{RecordId, no_query};

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
    let program = state.db.read(move |conn| Programs::get(conn, id)).await?;
    schema_org::respond(&request, &schema_org::program(&program))
}

record_endpoints! {
    Programs at "/api/v1/programs", "/api/v1/programs/{id}", tag "programs";
    /// List programs
    ///
    /// Residency, fellowship and allied-health programs, filtered and sorted, a page at a time. The
    /// `Link` header (RFC 8288) gives the `next` and `prev` pages with the same filters and sort.
    list list_programs(ProgramListParams) -> ProgramList;
    /// Get a program
    ///
    /// One program by id, with a strong `ETag`. A matching `If-None-Match` answers `304`. The same
    /// program as schema.org JSON-LD is at `/api/v1/programs/{id}.jsonld`.
    get get_program -> Program;
    /// Create a program
    ///
    /// Creates a program. The slug is derived from the name when omitted; an explicit slug that is
    /// taken is a `409`.
    create create_program(NewProgram);
    /// Update a program
    ///
    /// Applies a JSON merge patch (RFC 7396): absent fields stay, `null` clears an optional field. A
    /// patch that changes nothing leaves `updated_at` and the `ETag` as they were. With `If-Match`,
    /// the update happens only if the program is still as the client last saw it.
    update update_program(ProgramPatchDoc);
    /// Delete a program
    ///
    /// Deletes a program. Refused with `409 still_referenced` while events reference it. Its id is
    /// never reused.
    delete delete_program;
}
