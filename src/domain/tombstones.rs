//! Tombstones: which records were deleted, and when. Each store records one in the deleting
//! transaction; `GET /api/v1/deletions` reads them.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::base::clock::{self, Micros};
use crate::base::error::AppError;
use crate::base::schema::deletions;
use crate::base::wire::{WireEnum, from_db};
use crate::db::Conn;
use crate::domain::collection::Collection;

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

/// Records that `resource` `id` was deleted at `now`, in the deleting transaction, and prunes
/// what is past retention.
pub fn record(conn: &mut Conn, resource: Collection, id: i64, now: Micros) -> Result<(), AppError> {
    diesel::insert_into(deletions::table)
        .values((deletions::resource.eq(resource.as_str()), deletions::record_id.eq(id), deletions::deleted_at.eq(now)))
        .execute(conn)?;
    diesel::delete(deletions::table.filter(deletions::deleted_at.lt(now - RETENTION_MICROS))).execute(conn)?;
    Ok(())
}

/// Which deletions a page of the feed holds.
#[derive(Clone)]
pub struct DeletionQuery {
    pub since: Option<Micros>,
    pub resource: Option<Collection>,
    pub limit: i64,
    pub offset: i64,
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

pub fn count(conn: &mut Conn, query: &DeletionQuery) -> Result<i64, AppError> {
    Ok(filtered(query).count().get_result::<i64>(conn)?)
}

/// A page of deletions, oldest first.
pub fn page(conn: &mut Conn, query: &DeletionQuery) -> Result<Vec<Deletion>, AppError> {
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
