//! The record endpoints, written once: list, get, create, update and delete for any resource
//! (`domain::record_store::RecordStore`), and the mechanics they and the other reads share: a list
//! page through the rendered-page cache, a cheap `304` by version, and the checks before a PATCH
//! or DELETE is queued.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::base::clock::Micros;
use crate::base::error::AppError;
use crate::base::wire::WireEnum;
use crate::db::Conn;
use crate::domain::collection::Collection;
use crate::domain::idempotency::{self, Idempotent};
use crate::domain::record_store::RecordStore;
use crate::domain::relations::{self, Relation};
use crate::domain::resources;
use crate::endpoints::state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::conditional::{self, IfMatch};
use crate::http::query::QueryParams;
use crate::http::respond::Representation;
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

/// `GET <collection>`: a page of records, filtered and sorted as the query asks, with the
/// relations `include` names.
pub async fn list<S: RecordStore>(state: &AppState, request: &HttpRequest) -> Result<HttpResponse, AppError> {
    let mut params = QueryParams::from_request(request)?;
    let include = read_include(&mut params, S::COLLECTION)?;
    let query = S::query(&mut params);
    let pairs = params.finish()?;
    let window = S::window(&query);
    let whole_table = S::is_unfiltered(&query).then_some(S::COLLECTION.as_str());
    let counting = query.clone();
    let count = move |conn: &mut Conn| S::count(conn, &counting);
    if include.is_empty() {
        return list_page(state, request, &pairs, window, whole_table, count, move |conn| S::page(conn, &query)).await;
    }
    let page = move |conn: &mut Conn| {
        let records = S::page(conn, &query)?;
        relations::embed::<S>(conn, &include, records)
    };
    list_page(state, request, &pairs, window, whole_table, count, page).await
}

/// `GET <collection>/{id}`: one record with a strong ETag, or a `304` for a current copy. With
/// `include`, the ETag is the embedded representation's own: it changes with any embedded
/// record, so the shortcut by the record's version does not apply.
pub async fn get<S: RecordStore>(
    state: &AppState,
    id: RecordId,
    request: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    let mut params = QueryParams::from_request(request)?;
    let include = read_include(&mut params, S::COLLECTION)?;
    params.finish()?;
    let id = id.of(S::KIND)?;
    if !include.is_empty() {
        let embedded = state
            .db
            .read(move |conn| {
                let record = S::get(conn, id)?;
                relations::embed::<S>(conn, &include, vec![record])
            })
            .await?;
        let record = embedded.first().ok_or_else(|| AppError::internal("embedding lost the record"))?;
        return Ok(Representation::of(record)?.read(request));
    }
    if let Some(response) =
        not_modified_by_version(state, request, S::KIND, id, move |conn| S::version(conn, id)).await?
    {
        return Ok(response);
    }
    let generation = state.db.generation().await;
    let record = state.db.read(move |conn| S::get(conn, id)).await?;
    let representation = Representation::of(&record)?;
    let (id, version) = S::identity(&record);
    state.caches.etags.remember(S::KIND, id, version, &representation.etag, generation);
    Ok(representation.read(request))
}

/// The relations the query's `include` names (none without it); an invalid `include` is
/// reported by `QueryParams::finish`.
fn read_include(params: &mut QueryParams, collection: Collection) -> Result<Vec<&'static Relation>, AppError> {
    let relations = resources::of(collection)?.relations;
    Ok(params.get("include", relations::parse_include(relations, collection)).unwrap_or_default())
}

/// `POST <collection>`: creates a record, once per `Idempotency-Key`.
pub async fn create<S: RecordStore>(
    caller: &Caller,
    state: &AppState,
    request: &HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    no_query(request)?;
    let body = body.value()?;
    let key = Idempotent::from_request(request, caller.token_id, &body)?;
    let record = S::new_from_json(body)?;
    idempotency::create(&state.db, key, move |conn, now| {
        let created = S::create(conn, record.clone(), now)?;
        let location = format!("/api/v1/{}/{}", S::COLLECTION.as_str(), S::identity(&created).0);
        Ok((created, location))
    })
    .await
}

/// `PATCH <collection>/{id}`: applies a JSON merge patch, under `If-Match` when it is given.
pub async fn update<S: RecordStore>(
    state: &AppState,
    id: RecordId,
    request: &HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(state, request, id, S::KIND, S::version, S::get).await?;
    let record = state
        .db
        .write(move |conn, now| {
            let precondition = |current: &S::Record| require_match(&if_match, current, S::KIND);
            S::update(conn, id, precondition, || body.value(), now)
        })
        .await?;
    Ok(Representation::of(&record)?.respond(StatusCode::OK))
}

/// `DELETE <collection>/{id}`: deletes a record, under `If-Match` when it is given.
pub async fn delete<S: RecordStore>(
    state: &AppState,
    id: RecordId,
    request: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(state, request, id, S::KIND, S::version, S::get).await?;
    state
        .db
        .write(move |conn, now| S::delete(conn, id, now, |current| require_match(&if_match, current, S::KIND)))
        .await?;
    Ok(respond::no_content())
}

/// A resource's five record endpoints as thin handlers over the functions above, each with the
/// resource's own documentation and types. `app::openapi` adds to each what every record
/// endpoint shares (the `id` and precondition parameters, the response headers, the `304`), and
/// the response descriptions, from the table of resources.
macro_rules! record_endpoints {
    (
        $store:ident at $collection:tt, $record:tt, tag $tag:tt;
        $(#[doc = $list_doc:tt])* list $list:ident($params:ident) -> $page:ident;
        $(#[doc = $get_doc:tt])* get $get:ident -> $record_type:ident;
        $(#[doc = $create_doc:tt])* create $create:ident($new:ident);
        $(#[doc = $update_doc:tt])* update $update:ident($patch:ident);
        $(#[doc = $delete_doc:tt])* delete $delete:ident;
    ) => {
        $(#[doc = $list_doc])*
        #[utoipa::path(get, path = $collection, tag = $tag, params($params),
            responses((status = 200, body = $page)))]
        pub async fn $list(
            state: actix_web::web::Data<$crate::endpoints::state::AppState>,
            request: actix_web::HttpRequest,
        ) -> Result<actix_web::HttpResponse, $crate::base::error::AppError> {
            $crate::endpoints::records::list::<$store>(&state, &request).await
        }

        $(#[doc = $get_doc])*
        #[utoipa::path(get, path = $record, tag = $tag, responses((status = 200, body = $record_type)))]
        pub async fn $get(
            state: actix_web::web::Data<$crate::endpoints::state::AppState>,
            id: $crate::http::RecordId,
            request: actix_web::HttpRequest,
        ) -> Result<actix_web::HttpResponse, $crate::base::error::AppError> {
            $crate::endpoints::records::get::<$store>(&state, id, &request).await
        }

        $(#[doc = $create_doc])*
        #[utoipa::path(post, path = $collection, tag = $tag,
            request_body(content = $new, content_type = "application/json"),
            security(("bearer" = ["content"])),
            responses((status = 201, body = $record_type)))]
        pub async fn $create(
            caller: $crate::http::auth::Caller,
            state: actix_web::web::Data<$crate::endpoints::state::AppState>,
            request: actix_web::HttpRequest,
            body: $crate::http::body::JsonBody,
        ) -> Result<actix_web::HttpResponse, $crate::base::error::AppError> {
            $crate::endpoints::records::create::<$store>(&caller, &state, &request, body).await
        }

        $(#[doc = $update_doc])*
        #[utoipa::path(patch, path = $record, tag = $tag,
            request_body(content(($patch = "application/merge-patch+json"), ($patch = "application/json"))),
            security(("bearer" = ["content"])),
            responses((status = 200, body = $record_type)))]
        pub async fn $update(
            _caller: $crate::http::auth::Caller,
            state: actix_web::web::Data<$crate::endpoints::state::AppState>,
            id: $crate::http::RecordId,
            request: actix_web::HttpRequest,
            body: $crate::http::body::JsonBody,
        ) -> Result<actix_web::HttpResponse, $crate::base::error::AppError> {
            $crate::endpoints::records::update::<$store>(&state, id, &request, body).await
        }

        $(#[doc = $delete_doc])*
        #[utoipa::path(delete, path = $record, tag = $tag, security(("bearer" = ["content"])),
            responses((status = 204)))]
        pub async fn $delete(
            _caller: $crate::http::auth::Caller,
            state: actix_web::web::Data<$crate::endpoints::state::AppState>,
            id: $crate::http::RecordId,
            request: actix_web::HttpRequest,
        ) -> Result<actix_web::HttpResponse, $crate::base::error::AppError> {
            $crate::endpoints::records::delete::<$store>(&state, id, &request).await
        }
    };
}
pub(crate) use record_endpoints;
