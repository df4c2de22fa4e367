//! The request mechanics every record endpoint shares: a list page through the rendered-page
//! cache, a cheap `304` by version, and the checks before a PATCH or DELETE is queued.

use actix_web::HttpRequest;
use serde::Serialize;

use crate::base::clock::Micros;
use crate::base::error::AppError;
use crate::db::Conn;
use crate::endpoints::state::AppState;
use crate::http::conditional::{self, IfMatch};
use crate::http::{RecordId, no_query, rendered, require_match, respond};

/// The record a PATCH or DELETE writes, checked before the write is queued: the request has no
/// query, `id` names a record (404) and `If-Match` names its current ETag (412). Returns the id and
/// the `If-Match` the write checks again inside its transaction, where they hold for certain; the
/// check here keeps requests that would fail from costing the batch they would have joined a
/// rollback and a second run. It reads as little as it can: the record's version, and the record
/// itself only when `If-Match` names tags that the ETags served for that version cannot answer.
pub async fn write_target<T: Serialize + Send + 'static>(
    state: &AppState,
    request: &HttpRequest,
    id: RecordId,
    kind: &'static str,
    version: fn(&mut Conn, i64) -> Result<Micros, AppError>,
    get: fn(&mut Conn, i64) -> Result<T, AppError>,
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
    state: &AppState,
    request: &HttpRequest,
    kind: &'static str,
    id: i64,
    version: F,
) -> Result<Option<actix_web::HttpResponse>, AppError>
where
    F: FnOnce(&mut Conn) -> Result<Micros, AppError> + Send + 'static,
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
    state: &AppState,
    request: &HttpRequest,
    pairs: &[(String, String)],
    (limit, offset): (i64, i64),
    whole_table: Option<&'static str>,
    count: C,
    page: P,
) -> Result<actix_web::HttpResponse, AppError>
where
    T: Serialize + Send + 'static,
    C: FnOnce(&mut Conn) -> Result<i64, AppError> + Send + 'static,
    P: FnOnce(&mut Conn) -> Result<Vec<T>, AppError> + Send + 'static,
{
    // Taken before reading: a write that commits meanwhile makes this rendering stale at once.
    let generation = state.db.generation().await;
    let stamp = generation.map(|generation| rendered::Stamp { generation, step: 0 });
    let caches = state.caches.clone();
    let load = move |conn: &mut Conn| {
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
