//! `GET /api/v1/deletions`: the deletions half of the change feed (`domain::tombstones`).

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::{IntoParams, ToSchema};

use crate::base::error::AppError;
use crate::db::Conn;
use crate::domain::collection::Collection;
use crate::domain::tombstones::{self, Deletion, DeletionQuery};
use crate::endpoints::records::list_page;
use crate::endpoints::state::AppState;
use crate::http::query::{self, QueryParams};
use crate::http::respond::ListMeta;

/// A page of deletions, oldest first.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the list envelope; lists are serialized by respond::render_list")]
pub struct DeletionList {
    data: Vec<Deletion>,
    meta: ListMeta,
}

/// The query parameters of `GET /api/v1/deletions`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by list_deletions")]
pub struct DeletionListParams {
    /// Only deletions at or after this instant (RFC 3339 with an offset); without it, every
    /// deletion still kept (at least the last 90 days).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-25T14:00:00.000000Z")]
    since: Option<String>,
    /// Only deletions of this collection.
    resource: Option<Collection>,
    /// Page size, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i64>,
    /// How many matching deletions to skip, at least 0.
    #[param(minimum = 0, default = 0)]
    offset: Option<i64>,
}

/// List deletions
///
/// Records deleted at or after `since`, oldest first, paginated like the other lists. With
/// `updated_since` on the lists, a mirror stays complete: poll each feed from the largest
/// timestamp it has given so far (`updated_at` in a list, `deleted_at` here), moving that bound to
/// the last item of each page rather than paging by offset. Deletions are kept for at least 90 days.
#[utoipa::path(
    get, path = "/api/v1/deletions", tag = "change feed", operation_id = "list_deletions",
    params(DeletionListParams),
    responses((status = 200, description = "A page of deletions.", body = DeletionList, headers(
        ("Link" = String, description = "RFC 8288 links to the `next` and `prev` pages, where they exist."),
        ("ETag" = String, description = "Strong entity tag of this page."),
    )))
)]
pub async fn list_deletions(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, AppError> {
    let mut params = QueryParams::from_request(&request)?;
    let since = params.get("since", query::instant);
    let resource = params.get("resource", query::one_of::<Collection>);
    let limit = params.get("limit", query::integer(1, query::MAX_LIMIT)).unwrap_or(query::DEFAULT_LIMIT);
    let offset = params.get("offset", query::integer(0, i64::MAX)).unwrap_or(0);
    let pairs = params.finish()?;
    let query = DeletionQuery { since, resource, limit, offset };
    let counting = query.clone();
    let counted = move |conn: &mut Conn| tombstones::count(conn, &counting);
    list_page(&state, &request, &pairs, (limit, offset), None, counted, move |conn| tombstones::page(conn, &query))
        .await
}
