//! Metric endpoints: extract, check, one database call, respond.

use utoipa::{IntoParams, ToSchema};

use crate::domain::metrics::api::{Metric, MetricPatchDoc, NewMetric, Unit};
use crate::domain::metrics::store::Metrics;
use crate::endpoints::records::record_endpoints;
use crate::http::respond::ListMeta;

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

record_endpoints! {
    Metrics at "/api/v1/metrics", "/api/v1/metrics/{id}", tag "metrics";
    /// List metrics
    ///
    /// Figures ("By the Numbers") with their sources, filtered and sorted, a page at a time. The
    /// `Link` header (RFC 8288) gives the `next` and `prev` pages with the same filters and sort.
    list list_metrics(MetricListParams) -> MetricList;
    /// Get a metric
    ///
    /// One metric by id, with a strong `ETag`. A matching `If-None-Match` answers `304`.
    get get_metric -> Metric;
    /// Create a metric
    ///
    /// Creates a metric. The slug is derived from the label when omitted; an explicit slug that is
    /// taken is a `409`. `initiative_id` must name an existing initiative; `target_date` needs a
    /// `target_value`.
    create create_metric(NewMetric);
    /// Update a metric
    ///
    /// Applies a JSON merge patch (RFC 7396): absent fields stay, `null` clears an optional field. A
    /// patch that changes nothing leaves `updated_at` and the `ETag` as they were. With `If-Match`,
    /// the update happens only if the metric is still as the client last saw it.
    update update_metric(MetricPatchDoc);
    /// Delete a metric
    ///
    /// Deletes a metric. Its id is never reused.
    delete delete_metric;
}
