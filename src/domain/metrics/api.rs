//! Metrics on the wire: what clients send and receive, and the rules their fields follow.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use utoipa::ToSchema;

use crate::base::error::{AppError, FieldError};
use crate::http::fields::{self, Fields, Patch};
use crate::http::query::{self, ListParams, QueryParams};
use crate::wire_enum;

wire_enum! {
    /// What the value counts or measures.
    pub enum Unit {
        Years = "years",
        People = "people",
        Usd = "usd",
        Percent = "percent",
        Count = "count",
    }
}

wire_enum! {
    /// A field metrics can be sorted by.
    pub enum MetricSort {
        DisplayOrder = "display_order",
        Label = "label",
        AsOf = "as_of",
        CreatedAt = "created_at",
        UpdatedAt = "updated_at",
    }
}

/// A figure as a page states it, with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Metric {
    /// Assigned by the server; never reused.
    #[schema(example = 1, minimum = 1)]
    pub id: i64,
    /// What is measured; 1 to 200 characters.
    #[schema(example = "Life expectancy gap between downtown Chicago and the West Side")]
    pub label: String,
    /// Unique; derived from the label when a create omits it.
    #[schema(example = "life-expectancy-gap", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80)]
    pub slug: String,
    /// The figure, as sent: integers stay integers, decimals keep 15 significant digits.
    #[schema(value_type = f64, example = 16)]
    pub value: Number,
    pub unit: Unit,
    /// When the value held.
    #[schema(required = true, format = "date", example = "2024-01-01")]
    pub as_of: Option<String>,
    /// A stated goal for the same figure.
    #[schema(required = true, value_type = Option<f64>, example = 8)]
    pub target_value: Option<Number>,
    /// When the goal is due.
    #[schema(required = true, format = "date", example = "2030-12-31")]
    pub target_date: Option<String>,
    /// The initiative the figure belongs to.
    #[schema(required = true, minimum = 1)]
    pub initiative_id: Option<i64>,
    /// The page or report the figure comes from.
    #[schema(example = "Diversity, Equity & Inclusion")]
    pub source_name: String,
    /// An absolute http(s) URL of the source.
    #[schema(required = true, format = "uri")]
    pub source_url: Option<String>,
    /// The sentence the value is taken from, verbatim.
    #[schema(required = true)]
    pub source_quote: Option<String>,
    /// Where the figure goes in a list (ascending), 0 to 10,000.
    #[schema(example = 10, minimum = 0, maximum = 10000)]
    pub display_order: i32,
    /// When the record was created (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub created_at: String,
    /// When the record last changed (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub updated_at: String,
}

/// The fields a client sets on a metric. POST takes them with the defaults below; PATCH merges a
/// subset into the stored record.
///
/// `value` and `target_value` are JSON numbers (integers or decimals; not strings). An integer, or
/// a decimal without a fraction such as `1e3`, is kept as that integer (exactly, within ±2^53);
/// any other number is kept to 15 significant digits and answered in its shortest form.
/// `target_date` is allowed only with a `target_value`.
///
/// Single-line text fields refuse control characters (U+0000-U+001F, U+007F-U+009F) and
/// bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069); `source_quote` also allows
/// tab, line feed and carriage return. A refused character is a 422 naming the field.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMetric {
    /// 1 to 200 characters.
    #[schema(
        example = "Life expectancy gap between downtown Chicago and the West Side",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub label: String,
    /// Unique. Derived from the label when omitted (lower-case ASCII, other characters become `-`,
    /// `-2`, `-3`, … when taken); an explicit slug that is taken is a 409 `slug_taken`.
    #[schema(example = "life-expectancy-gap", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 80)]
    pub slug: Option<String>,
    /// A JSON number.
    #[schema(value_type = f64, example = 16)]
    pub value: Number,
    pub unit: Unit,
    /// `YYYY-MM-DD`: when the value held.
    #[schema(format = "date", example = "2024-01-01")]
    pub as_of: Option<String>,
    /// A JSON number: a stated goal for the same figure.
    #[schema(value_type = Option<f64>, example = 8)]
    pub target_value: Option<Number>,
    /// `YYYY-MM-DD`: when the goal is due; only with `target_value`.
    #[schema(format = "date", example = "2030-12-31")]
    pub target_date: Option<String>,
    /// The id of an existing initiative.
    #[schema(minimum = 1)]
    pub initiative_id: Option<i64>,
    /// 1 to 200 characters: the page or report.
    #[schema(
        example = "Diversity, Equity & Inclusion",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub source_name: String,
    /// An absolute `http`/`https` URL, with the same rules as `website_url` elsewhere.
    #[schema(format = "uri", max_length = 2048)]
    pub source_url: Option<String>,
    /// At most 1,000 characters: the sentence the value is taken from.
    #[schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub source_quote: Option<String>,
    /// 0 to 10,000; defaults to 0. Lists are in this order unless sorted otherwise.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000, default = 0)]
    pub display_order: i32,
}

/// A JSON merge patch (RFC 7396) of a metric: absent fields stay, `null` clears an optional field,
/// required fields cannot be `null`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = MetricPatch)]
#[serde(deny_unknown_fields)]
pub struct MetricPatchDoc {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub label: Option<String>,
    #[schema(nullable = false, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 80)]
    pub slug: Option<String>,
    #[schema(nullable = false, value_type = Option<f64>)]
    pub value: Option<Number>,
    #[schema(nullable = false)]
    pub unit: Option<Unit>,
    #[schema(format = "date")]
    pub as_of: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub target_value: Option<Number>,
    #[schema(format = "date")]
    pub target_date: Option<String>,
    #[schema(minimum = 1)]
    pub initiative_id: Option<i64>,
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub source_name: Option<String>,
    #[schema(format = "uri", max_length = 2048)]
    pub source_url: Option<String>,
    #[schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub source_quote: Option<String>,
    #[schema(nullable = false, minimum = 0, maximum = 10000)]
    pub display_order: Option<i32>,
}

/// Whether the initiative a metric names exists; the store answers inside the write transaction.
pub type InitiativeCheck<'a> = &'a mut dyn FnMut(i64) -> Result<bool, AppError>;

/// The rules between fields and records: `target_date` only with `target_value`, and an
/// `initiative_id` that names an initiative. Fields that are themselves invalid are skipped.
fn rule_errors(
    has_target_value: bool,
    has_target_date: bool,
    initiative_id: Option<i64>,
    exists: InitiativeCheck<'_>,
) -> Result<Vec<FieldError>, AppError> {
    let mut errors = Vec::new();
    if has_target_date && !has_target_value {
        errors.push(FieldError::body("target_date", "is allowed only with a target_value"));
    }
    if let Some(id) = initiative_id
        && !exists(id)?
    {
        errors.push(FieldError::body("initiative_id", format!("there is no initiative with id {id}")));
    }
    Ok(errors)
}

impl NewMetric {
    /// Reads a create body, naming every invalid field, a missing initiative included.
    pub fn from_json(body: Value, exists: InitiativeCheck<'_>) -> Result<NewMetric, AppError> {
        let mut f = Fields::new(body)?;
        let label = f.required("label", &fields::single_line(1, 200));
        let slug = f.optional("slug", &fields::slug);
        let value = f.required("value", &fields::number);
        let unit = f.required("unit", &fields::one_of::<Unit>);
        let as_of = f.optional("as_of", &fields::date);
        let target_value = f.optional("target_value", &fields::number);
        let target_date = f.optional("target_date", &fields::date);
        let initiative_id = f.optional("initiative_id", &fields::record_id);
        let source_name = f.required("source_name", &fields::single_line(1, 200));
        let source_url = f.optional("source_url", &fields::url);
        let source_quote = f.optional("source_quote", &fields::multi_line(0, 1000));
        let display_order = f.defaulted("display_order", 0, &fields::small_integer(0, 10_000));
        let has_target_value = target_value.is_some() || f.has_errors_for("target_value");
        for error in rule_errors(has_target_value, target_date.is_some(), initiative_id, exists)? {
            f.check(false, &error.field, &error.message);
        }
        f.finish()?;
        let (Some(label), Some(value), Some(unit), Some(source_name), Some(display_order)) =
            (label, value, unit, source_name, display_order)
        else {
            return Err(AppError::internal("a required metric field passed validation without a value"));
        };
        Ok(NewMetric {
            label,
            slug,
            value,
            unit,
            as_of,
            target_value,
            target_date,
            initiative_id,
            source_name,
            source_url,
            source_quote,
            display_order,
        })
    }
}

/// A read merge patch of a metric.
#[derive(Debug)]
pub struct MetricPatch {
    label: Patch<String>,
    slug: Patch<String>,
    value: Patch<Number>,
    unit: Patch<Unit>,
    as_of: Patch<String>,
    target_value: Patch<Number>,
    target_date: Patch<String>,
    initiative_id: Patch<i64>,
    source_name: Patch<String>,
    source_url: Patch<String>,
    source_quote: Patch<String>,
    display_order: Patch<i32>,
    /// Problems found while reading, reported by `apply`.
    errors: Vec<FieldError>,
}

impl MetricPatch {
    /// Reads a merge-patch body; its field errors are reported by `apply`.
    pub fn from_json(body: Value) -> Result<MetricPatch, AppError> {
        let mut f = Fields::new(body)?;
        let mut patch = MetricPatch {
            label: f.patch_required("label", &fields::single_line(1, 200)),
            slug: f.patch_required("slug", &fields::slug),
            value: f.patch_required("value", &fields::number),
            unit: f.patch_required("unit", &fields::one_of::<Unit>),
            as_of: f.patch_optional("as_of", &fields::date),
            target_value: f.patch_optional("target_value", &fields::number),
            target_date: f.patch_optional("target_date", &fields::date),
            initiative_id: f.patch_optional("initiative_id", &fields::record_id),
            source_name: f.patch_required("source_name", &fields::single_line(1, 200)),
            source_url: f.patch_optional("source_url", &fields::url),
            source_quote: f.patch_optional("source_quote", &fields::multi_line(0, 1000)),
            display_order: f.patch_required("display_order", &fields::small_integer(0, 10_000)),
            errors: Vec::new(),
        };
        patch.errors = f.into_errors();
        Ok(patch)
    }

    /// The record as it is after the patch; a 422 names every invalid field of the patch and
    /// every rule the patched record breaks.
    pub fn apply(self, mut record: NewMetric, exists: InitiativeCheck<'_>) -> Result<NewMetric, AppError> {
        let MetricPatch {
            label,
            slug,
            value,
            unit,
            as_of,
            target_value,
            target_date,
            initiative_id,
            source_name,
            source_url,
            source_quote,
            display_order,
            mut errors,
        } = self;
        label.apply(&mut record.label);
        slug.apply_optional(&mut record.slug);
        value.apply(&mut record.value);
        unit.apply(&mut record.unit);
        as_of.apply_optional(&mut record.as_of);
        target_value.apply_optional(&mut record.target_value);
        target_date.apply_optional(&mut record.target_date);
        initiative_id.apply_optional(&mut record.initiative_id);
        source_name.apply(&mut record.source_name);
        source_url.apply_optional(&mut record.source_url);
        source_quote.apply_optional(&mut record.source_quote);
        display_order.apply(&mut record.display_order);
        let already = |field: &str| errors.iter().any(|e| e.field == field);
        // A rule over a field that is itself invalid would only repeat that field's error.
        let has_target_value = record.target_value.is_some() || already("target_value");
        let has_target_date = record.target_date.is_some() && !already("target_date");
        let initiative_id = record.initiative_id.filter(|_| !already("initiative_id"));
        let found = rule_errors(has_target_value, has_target_date, initiative_id, exists)?;
        errors.extend(found);
        fields::fail_if_any(errors)?;
        Ok(record)
    }
}

/// The query of `GET /api/v1/metrics`.
#[derive(Debug, Clone)]
pub struct MetricQuery {
    pub initiative_id: Option<i64>,
    pub unit: Option<Unit>,
    /// Lower-cased search text.
    pub q: Option<String>,
    pub list: ListParams<MetricSort>,
}

impl MetricQuery {
    /// Whether the query matches every metric (only paging and sorting given).
    pub fn is_unfiltered(&self) -> bool {
        let MetricQuery { initiative_id, unit, q, list } = self;
        initiative_id.is_none() && unit.is_none() && q.is_none() && list.updated_since.is_none()
    }

    /// Takes the list's parameters from the query string; `QueryParams::finish` then reports any
    /// other parameter as unknown.
    pub fn from_params(params: &mut QueryParams) -> MetricQuery {
        MetricQuery {
            initiative_id: params.get("initiative_id", query::integer(1, i64::MAX)),
            unit: params.get("unit", query::one_of::<Unit>),
            q: params.search(),
            list: params.list_params(MetricSort::DisplayOrder),
        }
    }
}
