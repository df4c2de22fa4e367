//! HTTP mechanics written once for every resource.

pub mod auth;
pub mod body;
pub mod cache;
pub mod conditional;
pub mod encoding;
pub mod fields;
pub mod guard;
pub mod middleware;
pub mod query;
pub mod rate_limit;
pub mod rendered;
pub mod respond;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::Serialize;

use crate::base::error::AppError;
use crate::http::conditional::IfMatch;
use crate::http::respond::Representation;

/// The `{id}` of a record path, as sent. Anything but a positive integer written as the server
/// writes it names no record: 404.
#[derive(Debug)]
pub struct RecordId(String);

impl RecordId {
    pub fn of(&self, resource: &str) -> Result<i64, AppError> {
        // One URL per record: `01` or `+1` as another name for 1 would split caches and ETags
        // between URLs and make two strings compare unequal for the same record.
        match self.0.parse::<i64>() {
            Ok(id) if id > 0 && id.to_string() == self.0 => Ok(id),
            _ => Err(AppError::not_found(resource, format!("'{}'", self.0))),
        }
    }
}

impl FromRequest for RecordId {
    type Error = AppError;
    type Future = std::future::Ready<Result<RecordId, AppError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(RecordId(request.match_info().get("id").unwrap_or_default().to_owned())))
    }
}

/// Refuses any query parameter on operations that take none: never silently ignored.
pub fn no_query(request: &HttpRequest) -> Result<(), AppError> {
    query::QueryParams::from_request(request)?.finish().map(|_| ())
}

/// RFC 9110 §13.1.1: a write with `If-Match` proceeds only if it names the current ETag.
pub fn require_match(if_match: &IfMatch, current: &impl Serialize, resource: &str) -> Result<(), AppError> {
    if if_match.allows(&Representation::of(current)?.etag) {
        Ok(())
    } else {
        Err(AppError::precondition_failed(resource))
    }
}

/// The record a PATCH or DELETE writes, checked before the write is queued: the request has no
/// query, `id` names a record (404) and `If-Match` names its current ETag (412). Returns the id and
/// the `If-Match` the write checks again inside its transaction, where they hold for certain; the
/// check here keeps requests that would fail from costing the batch they would have joined a
/// rollback and a second run. It reads as little as it can: the record's version, and the record
/// itself only when `If-Match` names tags that the ETags served for that version cannot answer.
pub async fn write_target<T: Serialize + Send + 'static>(
    state: &crate::endpoints::state::AppState,
    request: &HttpRequest,
    id: RecordId,
    kind: &'static str,
    version: fn(&mut crate::db::Conn, i64) -> Result<crate::base::clock::Micros, AppError>,
    get: fn(&mut crate::db::Conn, i64) -> Result<T, AppError>,
) -> Result<(i64, IfMatch), AppError> {
    no_query(request)?;
    let id = id.of(kind)?;
    let if_match = IfMatch::from_request(request);
    let generation = state.db.generation().await;
    let version = state.db.read(move |conn| version(conn, id)).await?;
    if !if_match.names_tags() {
        return Ok((id, if_match));
    }
    if let Some(etag) = state.caches.etags.at_version(kind, id, version, generation) {
        return if if_match.allows(&etag) { Ok((id, if_match)) } else { Err(AppError::precondition_failed(kind)) };
    }
    let current = state.db.read(move |conn| get(conn, id)).await?;
    require_match(&if_match, &current, kind)?;
    Ok((id, if_match))
}

/// A cheap `304` for a record: when `If-None-Match` names the ETag already served for the
/// record's current version, answering needs only that version (`version` reads it), not the
/// record; and not even that while no write has committed since it was last read. `None` means
/// the full representation is needed.
pub async fn not_modified_by_version<F>(
    state: &crate::endpoints::state::AppState,
    request: &HttpRequest,
    kind: &'static str,
    id: i64,
    version: F,
) -> Result<Option<actix_web::HttpResponse>, AppError>
where
    F: FnOnce(&mut crate::db::Conn) -> Result<crate::base::clock::Micros, AppError> + Send + 'static,
{
    if !conditional::has_if_none_match(request) {
        return Ok(None);
    }
    // Taken before reading: a write that commits meanwhile makes what is read here unconfirmed.
    let generation = state.db.generation().await;
    let served = match generation.and_then(|generation| state.caches.etags.current(kind, id, generation)) {
        Some(etag) => Some(etag),
        None => {
            let version = state.db.read(version).await?;
            state.caches.etags.at_version(kind, id, version, generation)
        }
    };
    Ok(served.filter(|etag| conditional::none_match_hits(request, etag)).map(respond::not_modified))
}

/// A list page. Rendered pages are kept until the next write (`cache::Caches::get_or_render`),
/// so a repeated request costs no database work; otherwise `count` and `page` run on one read
/// connection (a search within the budget of costly queries). `whole_table` names the table when
/// the query matches all of it, whose count is then kept until the next write too.
pub async fn list_page<T, C, P>(
    state: &crate::endpoints::state::AppState,
    request: &HttpRequest,
    pairs: &[(String, String)],
    (limit, offset): (i64, i64),
    whole_table: Option<&'static str>,
    count: C,
    page: P,
) -> Result<actix_web::HttpResponse, AppError>
where
    T: Serialize + Send + 'static,
    C: FnOnce(&mut crate::db::Conn) -> Result<i64, AppError> + Send + 'static,
    P: FnOnce(&mut crate::db::Conn) -> Result<Vec<T>, AppError> + Send + 'static,
{
    // Taken before reading: a write that commits meanwhile makes this rendering stale at once.
    let generation = state.db.generation().await;
    let stamp = generation.map(|generation| rendered::Stamp { generation, step: 0 });
    let caches = state.caches.clone();
    let load = move |conn: &mut crate::db::Conn| {
        let total = match whole_table {
            Some(table) => caches.count_or(table, generation, || count(conn))?,
            None => count(conn)?,
        };
        Ok((page(conn)?, total))
    };
    let searching = pairs.iter().any(|(name, _)| name == "q");
    let render = async {
        let (data, total) = if searching { state.db.read_costly(load).await? } else { state.db.read(load).await? };
        respond::render_list(request.path(), pairs, &data, respond::ListMeta { total, limit, offset })
    };
    let page = state.caches.get_or_render(rendered::target_of(request), stamp, render).await?;
    Ok(page.respond(request))
}
