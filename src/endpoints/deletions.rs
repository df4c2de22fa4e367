//! The deletions half of the change feed: which records were deleted, and when.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::base::clock::{self, Micros};
use crate::base::error::AppError;
use crate::base::schema::deletions;
use crate::base::wire::{WireEnum, from_db};
use crate::db::Conn;
pub use crate::domain::resources::Collection;
use crate::endpoints::state::AppState;
use crate::http::list_page;
use crate::http::query::{self, QueryParams};
use crate::http::respond::ListMeta;

/// Deletions are kept at least this long (90 days); older ones are pruned by later deletes.
pub const RETENTION_MICROS: Micros = 90 * 24 * 3600 * 1_000_000;

/// A record that was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Deletion {
    pub resource: Collection,
    /// The id the record had; ids are never reused.
    #[schema(example = 42, minimum = 1)]
    pub id: i64,
    /// When it was deleted (UTC, microseconds), on the same strictly increasing clock as
    /// `updated_at`.
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub deleted_at: String,
}

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

/// Records that `resource` `id` was deleted at `now`, in the deleting transaction, and prunes
/// what is past retention.
pub fn record(conn: &mut Conn, resource: Collection, id: i64, now: Micros) -> Result<(), AppError> {
    diesel::insert_into(deletions::table)
        .values((deletions::resource.eq(resource.as_str()), deletions::record_id.eq(id), deletions::deleted_at.eq(now)))
        .execute(conn)?;
    diesel::delete(deletions::table.filter(deletions::deleted_at.lt(now - RETENTION_MICROS))).execute(conn)?;
    Ok(())
}

#[derive(Clone)]
struct DeletionQuery {
    since: Option<Micros>,
    resource: Option<Collection>,
    limit: i64,
    offset: i64,
}

fn filtered(query: &DeletionQuery) -> deletions::BoxedQuery<'static, crate::db::Backend> {
    let mut select = deletions::table.into_boxed();
    if let Some(since) = query.since {
        select = select.filter(deletions::deleted_at.ge(since));
    }
    if let Some(resource) = query.resource {
        select = select.filter(deletions::resource.eq(resource.as_str()));
    }
    select
}

fn count(conn: &mut Conn, query: &DeletionQuery) -> Result<i64, AppError> {
    Ok(filtered(query).count().get_result::<i64>(conn)?)
}

fn page(conn: &mut Conn, query: &DeletionQuery) -> Result<Vec<Deletion>, AppError> {
    let rows: Vec<(String, i64, Micros)> = filtered(query)
        .order((deletions::deleted_at.asc(), deletions::id.asc()))
        .limit(query.limit)
        .offset(query.offset)
        .select((deletions::resource, deletions::record_id, deletions::deleted_at))
        .load(conn)?;
    let data = rows
        .into_iter()
        .map(|(resource, id, deleted_at)| {
            Ok(Deletion {
                resource: from_db("deletions.resource", &resource)?,
                id,
                deleted_at: clock::format_micros(deleted_at),
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(data)
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
    let counted = move |conn: &mut Conn| count(conn, &counting);
    list_page(&state, &request, &pairs, (limit, offset), None, counted, move |conn| page(conn, &query)).await
}
