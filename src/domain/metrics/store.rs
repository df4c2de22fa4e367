//! Metric queries. No HTTP here: callers pass a connection, inside a transaction for writes.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use serde_json::Value;

use crate::base::clock::Micros;
use crate::base::error::AppError;
use crate::base::schema::{metrics, metrics_search};
use crate::base::wire::WireEnum;
use crate::db::{self, Backend, Conn};
use crate::domain::collection::Collection;
use crate::domain::metrics::api::{Metric, MetricPatch, MetricQuery, MetricSort, NewMetric};
use crate::domain::metrics::model::{MetricChanges, MetricRow};
use crate::domain::record_store::{RecordStore, Referencing};
use crate::domain::relations;
use crate::domain::slugs;
use crate::domain::tombstones;
use crate::http::query::QueryParams;

const RESOURCE: &str = "metric";

/// `full_text`: whether the backend has the full-text index (`db::has_full_text_index`).
fn filtered(query: &MetricQuery, full_text: bool) -> metrics::BoxedQuery<'static, Backend> {
    let mut select = metrics::table.into_boxed();
    if let Some(since) = query.list.updated_since {
        select = select.filter(metrics::updated_at.ge(since));
    }
    if let Some(initiative_id) = query.initiative_id {
        select = select.filter(metrics::initiative_id.eq(initiative_id));
    }
    if let Some(unit) = query.unit {
        select = select.filter(metrics::unit.eq(unit.as_str()));
    }
    if let Some(text) = &query.q {
        select = if full_text && text.chars().count() >= db::TRIGRAM {
            let hits = metrics_search::table
                .select(metrics_search::rowid)
                .filter(db::matches(metrics_search::search_text, db::phrase(text)))
                .filter(db::within_budget());
            select.filter(metrics::id.eq_any(hits))
        } else {
            select
                .filter(metrics::search_text.like(db::contains_pattern(text)).escape('\\'))
                .filter(db::within_budget())
        };
    }
    select
}

fn find_row(conn: &mut Conn, id: i64) -> Result<MetricRow, AppError> {
    crate::on_backend!(conn, |c| metrics::table.find(id).select(MetricRow::as_select()).get_result(c))
        .optional()?
        .ok_or_else(|| AppError::not_found(RESOURCE, id))
}

fn settle_slug(conn: &mut Conn, explicit: Option<&str>, label: &str, except_id: i64) -> Result<String, AppError> {
    let others = || metrics::table.filter(metrics::id.ne(except_id)).select(metrics::slug);
    slugs::settle(
        conn,
        RESOURCE,
        explicit,
        label,
        |conn, slug| Ok(others().filter(metrics::slug.eq(slug)).get_result::<String>(conn).optional()?.is_some()),
        |conn, prefix| Ok(others().filter(metrics::slug.like(format!("{prefix}%"))).load(conn)?),
    )
}

fn write_error(error: diesel::result::Error, slug: &str) -> AppError {
    if db::is_unique_violation(&error) { AppError::slug_taken(RESOURCE, slug) } else { error.into() }
}

fn initiative_exists(conn: &mut Conn, id: i64) -> Result<bool, AppError> {
    crate::domain::initiatives::store::exists(conn, id)
}

/// Stores `record`, whose initiative was checked in this transaction (`Metrics::create`).
pub fn insert(conn: &mut Conn, record: NewMetric, now: Micros) -> Result<Metric, AppError> {
    let slug = settle_slug(conn, record.slug.as_deref(), &record.label, 0)?;
    let row = MetricChanges::new(record, slug.clone(), now, now);
    crate::on_backend!(conn, |c| diesel::insert_into(metrics::table)
        .values(&row)
        .returning(MetricRow::as_returning())
        .get_result(c))
    .map_err(|error| write_error(error, &slug))?
    .into_metric()
}

/// Creates one record of the bundled dataset (`resources::Resource::load_bundled`). The dataset
/// names a metric's initiative by slug (ids are the server's to assign).
pub fn load_bundled(conn: &mut Conn, mut record: serde_json::Value, now: Micros) -> Result<(), AppError> {
    let by_slug = ("initiative", "initiative_id");
    crate::domain::slugs::slug_to_id(conn, &mut record, by_slug, crate::domain::initiatives::store::id_by_slug)?;
    Metrics::create(conn, record, now).map(drop)
}

/// The metrics, for the shared record endpoints.
pub struct Metrics;

impl RecordStore for Metrics {
    type Record = Metric;
    type Query = MetricQuery;
    type New = Value;

    const KIND: &'static str = RESOURCE;
    const COLLECTION: Collection = Collection::Metrics;

    fn query(params: &mut QueryParams) -> MetricQuery {
        MetricQuery::from_params(params)
    }

    fn window(query: &MetricQuery) -> (i64, i64) {
        (query.list.limit, query.list.offset)
    }

    fn is_unfiltered(query: &MetricQuery) -> bool {
        query.is_unfiltered()
    }

    fn identity(record: &Metric) -> (i64, &str) {
        (record.id, &record.updated_at)
    }

    fn reference(record: &Metric, field: &str) -> Option<i64> {
        match field {
            "initiative_id" => record.initiative_id,
            _ => None,
        }
    }

    /// The body is read inside the write transaction (`create`), so that its `initiative_id` is
    /// checked against what the transaction sees.
    fn new_from_json(body: Value) -> Result<Value, AppError> {
        Ok(body)
    }

    fn create(conn: &mut Conn, body: Value, now: Micros) -> Result<Metric, AppError> {
        let record = NewMetric::from_json(body, &mut |id| initiative_exists(conn, id))?;
        insert(conn, record, now)
    }

    fn count(conn: &mut Conn, query: &MetricQuery) -> Result<i64, AppError> {
        Ok(filtered(query, db::has_full_text_index(conn)).count().get_result::<i64>(conn)?)
    }

    fn page(conn: &mut Conn, query: &MetricQuery) -> Result<Vec<Metric>, AppError> {
        let mut select = filtered(query, db::has_full_text_index(conn));
        for key in &query.list.sort {
            select = match (key.field, key.descending) {
                (MetricSort::DisplayOrder, false) => select.then_order_by(metrics::display_order.asc()),
                (MetricSort::DisplayOrder, true) => select.then_order_by(metrics::display_order.desc()),
                (MetricSort::Label, false) => select.then_order_by(metrics::label.asc()),
                (MetricSort::Label, true) => select.then_order_by(metrics::label.desc()),
                // Nulls first ascending and last descending, as SQLite orders them; PostgreSQL's default is
                // the other way round.
                (MetricSort::AsOf, false) => {
                    select.then_order_by(metrics::as_of.is_null().desc()).then_order_by(metrics::as_of.asc())
                }
                (MetricSort::AsOf, true) => {
                    select.then_order_by(metrics::as_of.is_null().asc()).then_order_by(metrics::as_of.desc())
                }
                (MetricSort::CreatedAt, false) => select.then_order_by(metrics::created_at.asc()),
                (MetricSort::CreatedAt, true) => select.then_order_by(metrics::created_at.desc()),
                (MetricSort::UpdatedAt, false) => select.then_order_by(metrics::updated_at.asc()),
                (MetricSort::UpdatedAt, true) => select.then_order_by(metrics::updated_at.desc()),
            };
        }
        let rows: Vec<MetricRow> = select
            .then_order_by(metrics::id.asc())
            .limit(query.list.limit)
            .offset(query.list.offset)
            .select(MetricRow::as_select())
            .load(conn)?;
        let metrics = rows.into_iter().map(MetricRow::into_metric).collect::<Result<_, _>>()?;
        Ok(metrics)
    }

    fn version(conn: &mut Conn, id: i64) -> Result<Micros, AppError> {
        crate::on_backend!(conn, |c| metrics::table.find(id).select(metrics::updated_at).get_result(c))
            .optional()?
            .ok_or_else(|| AppError::not_found(RESOURCE, id))
    }

    fn get(conn: &mut Conn, id: i64) -> Result<Metric, AppError> {
        find_row(conn, id)?.into_metric()
    }

    fn get_many(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Metric>, AppError> {
        let listed = db::id_in(conn.is_postgres(), metrics::id, ids);
        let rows: Vec<MetricRow> =
            crate::on_backend!(conn, |c| metrics::table.filter(listed).select(MetricRow::as_select()).load(c))?;
        rows.into_iter().map(MetricRow::into_metric).collect()
    }

    fn update(
        conn: &mut Conn,
        id: i64,
        precondition: impl FnOnce(&Metric) -> Result<(), AppError>,
        patch: impl FnOnce() -> Result<Value, AppError>,
        now: Micros,
    ) -> Result<Metric, AppError> {
        let row = find_row(conn, id)?;
        let current = row.clone().into_metric()?;
        precondition(&current)?;
        let before = row.to_new()?;
        let after = MetricPatch::from_json(patch()?)?.apply(before.clone(), &mut |id| initiative_exists(conn, id))?;
        if after == before {
            return Ok(current);
        }
        let slug = match &after.slug {
            Some(slug) if *slug == row.slug => slug.clone(),
            explicit => settle_slug(conn, explicit.as_deref(), &after.label, id)?,
        };
        let changes = MetricChanges::new(after, slug.clone(), row.created_at, now);
        crate::on_backend!(conn, |c| diesel::update(metrics::table.find(id))
            .set(&changes)
            .returning(MetricRow::as_returning())
            .get_result(c))
        .map_err(|error| write_error(error, &slug))?
        .into_metric()
    }

    fn delete(
        conn: &mut Conn,
        id: i64,
        now: Micros,
        precondition: impl FnOnce(&Metric) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let current = Self::get(conn, id)?;
        precondition(&current)?;
        diesel::delete(metrics::table.find(id)).execute(conn)?;
        tombstones::record(conn, Self::COLLECTION, id, now)
    }
}

impl Referencing for Metrics {
    /// The list's default order is `display_order, id`: the same order here, ranked per parent by a window.
    fn first_of_each(
        conn: &mut Conn,
        field: &'static str,
        parents: &[i64],
        first: i64,
    ) -> Result<Vec<(i64, Metric, i64)>, AppError> {
        let (ranked, parent, total) =
            relations::ranked_sql(("metrics", &["initiative_id"]), field, "display_order, id", parents, first)?;
        let rows: Vec<(MetricRow, i64, i64)> = metrics::table
            .filter(sql::<Bool>(&ranked))
            .select((MetricRow::as_select(), sql::<BigInt>(&parent), sql::<BigInt>(&total)))
            .order((metrics::display_order.asc(), metrics::id.asc()))
            .load(conn)?;
        rows.into_iter().map(|(row, parent, total)| Ok((parent, row.into_metric()?, total))).collect()
    }
}
