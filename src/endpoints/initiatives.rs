//! Initiative endpoints: extract, check, one database call, respond.

use utoipa::{IntoParams, ToSchema};

use crate::domain::initiatives::api::{Category, Initiative, InitiativePatchDoc, InitiativeStatus, NewInitiative};
use crate::domain::initiatives::store::Initiatives;
use crate::endpoints::records::record_endpoints;
use crate::http::respond::ListMeta;

/// A page of initiatives.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the list envelope; lists are serialized by respond::render_list")]
pub struct InitiativeList {
    data: Vec<Initiative>,
    meta: ListMeta,
}

/// The query parameters of `GET /api/v1/initiatives`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; it is read by InitiativeQuery::from_request")]
pub struct InitiativeListParams {
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
    /// `name` (the default), `started_on`, `created_at`, `updated_at`. Ties break by `id`.
    /// Initiatives without `started_on` come first in ascending order.
    #[param(
        pattern = r"^-?(name|started_on|created_at|updated_at)(,-?(name|started_on|created_at|updated_at))*$",
        example = "-started_on"
    )]
    sort: Option<String>,
    /// Only initiatives of this category.
    category: Option<Category>,
    /// Only initiatives with this status.
    status: Option<InitiativeStatus>,
    /// Case-insensitive text that the name, summary or description contains.
    /// Control characters and bidirectional overrides are refused (422), as in single-line text.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "equity"
    )]
    q: Option<String>,
}

record_endpoints! {
    Initiatives at "/api/v1/initiatives", "/api/v1/initiatives/{id}", tag "initiatives";
    /// List initiatives
    ///
    /// Community health initiatives, filtered and sorted, a page at a time. The
    /// `Link` header (RFC 8288) gives the `next` and `prev` pages with the same filters and sort.
    list list_initiatives(InitiativeListParams) -> InitiativeList;
    /// Get an initiative
    ///
    /// One initiative by id, with a strong `ETag`. A matching `If-None-Match` answers `304`.
    get get_initiative -> Initiative;
    /// Create an initiative
    ///
    /// Creates an initiative. The slug is derived from the name when omitted; an explicit slug that is
    /// taken is a `409`.
    create create_initiative(NewInitiative);
    /// Update an initiative
    ///
    /// Applies a JSON merge patch (RFC 7396): absent fields stay, `null` clears an optional field. A
    /// patch that changes nothing leaves `updated_at` and the `ETag` as they were. With `If-Match`,
    /// the update happens only if the initiative is still as the client last saw it.
    update update_initiative(InitiativePatchDoc);
    /// Delete an initiative
    ///
    /// Deletes an initiative. Refused with `409 still_referenced` while events or metrics reference it
    /// (`referencing_events` and `referencing_metrics` count them). Its id is
    /// never reused.
    delete delete_initiative;
}
