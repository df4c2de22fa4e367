//! What the shared record endpoints (`endpoints::records`) need of a resource: how a list request
//! reads, and the store calls behind list, get, create, update and delete. Each resource
//! implements it once, in its store; everything else about a record endpoint is written once.

use serde::Serialize;
use serde_json::Value;

use crate::base::clock::Micros;
use crate::base::error::AppError;
use crate::db::Conn;
use crate::domain::collection::Collection;
use crate::http::query::QueryParams;

pub trait RecordStore: 'static {
    /// The record as `GET` gives it.
    type Record: Serialize + Send + 'static;
    /// A list request's filters, sort and page.
    type Query: Clone + Send + 'static;
    /// A create body once the rules that need no database have passed. A resource whose rules
    /// read other records (references) keeps the body and checks it in `create`, inside the
    /// write transaction.
    type New: Clone + Send + 'static;

    /// Its collection: the table, the URL segment, the tombstones' `collection`.
    const COLLECTION: Collection;
    /// The singular noun that problems and the ETag cache use ("initiative").
    const KIND: &'static str;

    /// Takes the list's own parameters (filters, sorts, paging) from the query string.
    fn query(params: &mut QueryParams) -> Self::Query;
    /// The page the query asks for: `(limit, offset)`.
    fn window(query: &Self::Query) -> (i64, i64);
    /// Whether the query matches every record (only paging and sorting given).
    fn is_unfiltered(query: &Self::Query) -> bool;
    /// How many records match `query`.
    fn count(conn: &mut Conn, query: &Self::Query) -> Result<i64, AppError>;
    /// One page of the records matching `query`.
    fn page(conn: &mut Conn, query: &Self::Query) -> Result<Vec<Self::Record>, AppError>;

    /// The version (`updated_at`) of record `id`, without loading it; 404 when there is none.
    fn version(conn: &mut Conn, id: i64) -> Result<Micros, AppError>;
    fn get(conn: &mut Conn, id: i64) -> Result<Self::Record, AppError>;
    /// The records with these ids, in one query; ids without a record are left out.
    fn get_many(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Self::Record>, AppError>;
    /// The record's id and version (`updated_at`).
    fn identity(record: &Self::Record) -> (i64, &str);
    /// The id that the record's reference `field` holds (`domain::relations`); `None` when it
    /// holds none or the resource has no such field.
    fn reference(_record: &Self::Record, _field: &str) -> Option<i64> {
        None
    }

    fn new_from_json(body: Value) -> Result<Self::New, AppError>;
    /// Stores a new record, inside the write transaction.
    fn create(conn: &mut Conn, record: Self::New, now: Micros) -> Result<Self::Record, AppError>;
    /// Applies the merge patch that `patch` reads to record `id`, after `precondition` accepted
    /// the current record. A patch that changes nothing writes nothing, so `updated_at` and the
    /// ETag stay.
    fn update(
        conn: &mut Conn,
        id: i64,
        precondition: impl FnOnce(&Self::Record) -> Result<(), AppError>,
        patch: impl FnOnce() -> Result<Value, AppError>,
        now: Micros,
    ) -> Result<Self::Record, AppError>;
    /// Deletes record `id` after `precondition` accepted it, and leaves its tombstone.
    fn delete(
        conn: &mut Conn,
        id: i64,
        now: Micros,
        precondition: impl FnOnce(&Self::Record) -> Result<(), AppError>,
    ) -> Result<(), AppError>;
}

/// A store whose records reference records of other resources, and so can be listed per
/// referenced record (a to-many relation of `domain::relations`).
pub trait Referencing: RecordStore {
    /// For each of `parents`, the first `first` records whose reference `field` names it, in the
    /// order of the store's own list without `sort`, as `(parent, record, how many name the
    /// parent)`: grouped by parent, in one query whatever the number of parents.
    fn first_of_each(
        conn: &mut Conn,
        field: &'static str,
        parents: &[i64],
        first: i64,
    ) -> Result<Vec<(i64, Self::Record, i64)>, AppError>;
}
