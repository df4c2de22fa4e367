//! Metric endpoints: extract, check, one database call, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::{IntoParams, ToSchema};

use crate::base::error::AppError;
use crate::db::Conn;
use crate::domain::idempotency::{self, Idempotent};
use crate::domain::metrics::api::{Metric, MetricPatch, MetricPatchDoc, MetricQuery, NewMetric, Unit};
use crate::domain::metrics::store;
use crate::endpoints::records::{list_page, not_modified_by_version, write_target};
use crate::endpoints::state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::respond::{self, ListMeta, Representation};
use crate::http::{RecordId, no_query, require_match};

/// A page of metrics.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the list envelope; lists are serialized by respond::render_list")]
pub struct MetricList {
    data: Vec<Metric>,
    meta: ListMeta,
}

/// The query parameters of `GET /api/v1/metrics`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by MetricQuery::from_request")]
pub struct MetricListParams {
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
    /// `display_order` (the default), `label`, `as_of`, `created_at`, `updated_at`. Ties break by
    /// `id`. Metrics without `as_of` come first in ascending order.
    #[param(
        pattern = r"^-?(display_order|label|as_of|created_at|updated_at)(,-?(display_order|label|as_of|created_at|updated_at))*$",
        example = "label"
    )]
    sort: Option<String>,
    /// Only metrics of this initiative.
    #[param(minimum = 1)]
    initiative_id: Option<i64>,
    /// Only metrics in this unit.
    unit: Option<Unit>,
    /// Case-insensitive text that the label or source quote contains.
    /// Control characters and bidirectional overrides are refused (422), as in single-line text.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "life expectancy"
    )]
    q: Option<String>,
}

/// List metrics
///
/// Figures ("By the Numbers") with their sources, filtered and sorted, a page at a time. The
/// `Link` header (RFC 8288) gives the `next` and `prev` pages with the same filters and sort.
#[utoipa::path(
    get, path = "/api/v1/metrics", tag = "metrics", operation_id = "list_metrics",
    params(MetricListParams),
    responses((status = 200, description = "A page of metrics.", body = MetricList,
        headers(("Link" = String, description = "RFC 8288 links to the `next` and `prev` pages, where they exist."))))
)]
pub async fn list_metrics(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, AppError> {
    let (query, pairs) = MetricQuery::from_request(&request)?;
    let page = (query.list.limit, query.list.offset);
    let whole_table = query.is_unfiltered().then_some("metrics");
    let counting = query.clone();
    let count = move |conn: &mut Conn| store::count(conn, &counting);
    list_page(&state, &request, &pairs, page, whole_table, count, move |conn| store::page(conn, &query)).await
}

/// Get a metric
///
/// One metric by id, with a strong `ETag`. A matching `If-None-Match` answers `304`.
#[utoipa::path(
    get, path = "/api/v1/metrics/{id}", tag = "metrics", operation_id = "get_metric",
    params(("id" = i64, Path, description = "The metric's id.", minimum = 1)),
    responses(
        (status = 200, description = "The metric.", body = Metric,
            headers(("ETag" = String, description = "Strong entity tag of this representation."))),
        (status = 304, description = "The client's copy (`If-None-Match`) is current.",
            headers(("ETag" = String, description = "Strong entity tag of the current representation."))),
    )
)]
pub async fn get_metric(
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let id = id.of("metric")?;
    if let Some(response) =
        not_modified_by_version(&state, &request, "metric", id, move |conn| store::version(conn, id)).await?
    {
        return Ok(response);
    }
    let generation = state.db.generation().await;
    let metric = state.db.read(move |conn| store::get(conn, id)).await?;
    let representation = Representation::of(&metric)?;
    state.caches.etags.remember("metric", id, &metric.updated_at, &representation.etag, generation);
    Ok(representation.read(&request))
}

/// Create a metric
///
/// Creates a metric. The slug is derived from the label when omitted; an explicit slug that is
/// taken is a `409`. `initiative_id` must name an existing initiative; `target_date` needs a
/// `target_value`.
#[utoipa::path(
    post, path = "/api/v1/metrics", tag = "metrics", operation_id = "create_metric",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry: a repeat with the same key and body (members in any order) from the same token (not a later token given the same name) within 24 hours gets the original response and creates nothing; the same key with another body is a 422, and a repeat while the first is still in flight a 409. 1 to 255 visible ASCII characters, e.g. a UUID.")),
    request_body(content = NewMetric, content_type = "application/json"),
    security(("bearer" = ["content"])),
    responses((status = 201, description = "The created metric.", body = Metric, headers(
        ("Location" = String, description = "The URL of the new metric."),
        ("Idempotent-Replayed" = String, description = "`true` when this is the stored response to an earlier request with the same `Idempotency-Key`."),
        ("ETag" = String, description = "Strong entity tag of the new metric."),
    )))
)]
pub async fn create_metric(
    caller: Caller,
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let body = body.value()?;
    let key = Idempotent::from_request(&request, caller.token_id, &body)?;
    // Every field rule is checked before the write is queued; the initiative again inside it.
    NewMetric::from_json(body.clone(), &mut |_| Ok(true))?;
    idempotency::create(&state.db, key, move |conn, now| {
        let record = store::new_from_json(conn, body.clone())?;
        let metric = store::create(conn, record, now)?;
        let location = format!("/api/v1/metrics/{}", metric.id);
        Ok((metric, location))
    })
    .await
}

/// Update a metric
///
/// Applies a JSON merge patch (RFC 7396): absent fields stay, `null` clears an optional field. A
/// patch that changes nothing leaves `updated_at` and the `ETag` as they were. With `If-Match`,
/// the update happens only if the metric is still as the client last saw it.
#[utoipa::path(
    patch, path = "/api/v1/metrics/{id}", tag = "metrics", operation_id = "update_metric",
    params(
        ("id" = i64, Path, description = "The metric's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Update only if the current `ETag` is one of these (or `*`)."),
    ),
    request_body(content(
        (MetricPatchDoc = "application/merge-patch+json"),
        (MetricPatchDoc = "application/json"),
    )),
    security(("bearer" = ["content"])),
    responses((status = 200, description = "The metric after the patch.", body = Metric,
        headers(("ETag" = String, description = "Strong entity tag of the metric after the patch."))))
)]
pub async fn update_metric(
    _caller: Caller,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "metric", store::version, store::get).await?;
    let metric = state
        .db
        .write(move |conn, now| {
            store::update(
                conn,
                id,
                |current| require_match(&if_match, current, "metric"),
                || MetricPatch::from_json(body.value()?),
                now,
            )
        })
        .await?;
    Ok(Representation::of(&metric)?.respond(StatusCode::OK))
}

/// Delete a metric
///
/// Deletes a metric. Its id is never reused.
#[utoipa::path(
    delete, path = "/api/v1/metrics/{id}", tag = "metrics", operation_id = "delete_metric",
    params(
        ("id" = i64, Path, description = "The metric's id.", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Delete only if the current `ETag` is one of these (or `*`)."),
    ),
    security(("bearer" = ["content"])),
    responses((status = 204, description = "The metric is deleted."))
)]
pub async fn delete_metric(
    _caller: Caller,
    state: web::Data<AppState>,
    id: RecordId,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (id, if_match) = write_target(&state, &request, id, "metric", store::version, store::get).await?;
    state
        .db
        .write(move |conn, now| store::delete(conn, id, now, |current| require_match(&if_match, current, "metric")))
        .await?;
    Ok(respond::no_content())
}
