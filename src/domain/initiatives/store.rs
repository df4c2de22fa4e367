//! Initiative queries. No HTTP here: callers pass a connection, inside a transaction for writes.

use diesel::prelude::*;
use serde_json::Value;

use crate::base::clock::Micros;
use crate::base::error::AppError;
use crate::base::schema::{events, initiatives, initiatives_search, metrics};
use crate::base::wire::WireEnum;
use crate::db::{self, Backend, Conn};
use crate::domain::collection::Collection;
use crate::domain::initiatives::api::{Initiative, InitiativePatch, InitiativeQuery, InitiativeSort, NewInitiative};
use crate::domain::initiatives::model::{InitiativeChanges, InitiativeRow};
use crate::domain::record_store::RecordStore;
use crate::domain::slugs;
use crate::domain::tombstones;
use crate::http::query::QueryParams;

const RESOURCE: &str = "initiative";

/// `full_text`: whether the backend has the full-text index (`db::has_full_text_index`).
fn filtered(query: &InitiativeQuery, full_text: bool) -> initiatives::BoxedQuery<'static, Backend> {
    let mut select = initiatives::table.into_boxed();
    if let Some(since) = query.list.updated_since {
        select = select.filter(initiatives::updated_at.ge(since));
    }
    if let Some(category) = query.category {
        select = select.filter(initiatives::category.eq(category.as_str()));
    }
    if let Some(status) = query.status {
        select = select.filter(initiatives::status.eq(status.as_str()));
    }
    if let Some(text) = &query.q {
        select = if full_text && text.chars().count() >= db::TRIGRAM {
            let hits = initiatives_search::table
                .select(initiatives_search::rowid)
                .filter(db::matches(initiatives_search::search_text, db::phrase(text)))
                .filter(db::within_budget());
            select.filter(initiatives::id.eq_any(hits))
        } else {
            select
                .filter(initiatives::search_text.like(db::contains_pattern(text)).escape('\\'))
                .filter(db::within_budget())
        };
    }
    select
}

fn find_row(conn: &mut Conn, id: i64) -> Result<InitiativeRow, AppError> {
    crate::on_backend!(conn, |c| initiatives::table.find(id).select(InitiativeRow::as_select()).get_result(c))
        .optional()?
        .ok_or_else(|| AppError::not_found(RESOURCE, id))
}

pub fn exists(conn: &mut Conn, id: i64) -> Result<bool, AppError> {
    Ok(initiatives::table.find(id).count().get_result::<i64>(conn)? > 0)
}

/// The id of the initiative with `slug`, if any.
pub fn id_by_slug(conn: &mut Conn, slug: &str) -> Result<Option<i64>, AppError> {
    Ok(initiatives::table.filter(initiatives::slug.eq(slug)).select(initiatives::id).get_result(conn).optional()?)
}

fn settle_slug(conn: &mut Conn, explicit: Option<&str>, name: &str, except_id: i64) -> Result<String, AppError> {
    let others = || initiatives::table.filter(initiatives::id.ne(except_id)).select(initiatives::slug);
    slugs::settle(
        conn,
        RESOURCE,
        explicit,
        name,
        |conn, slug| Ok(others().filter(initiatives::slug.eq(slug)).get_result::<String>(conn).optional()?.is_some()),
        |conn, prefix| Ok(others().filter(initiatives::slug.like(format!("{prefix}%"))).load(conn)?),
    )
}

fn write_error(error: diesel::result::Error, slug: &str) -> AppError {
    if db::is_unique_violation(&error) { AppError::slug_taken(RESOURCE, slug) } else { error.into() }
}

/// Creates one record of the bundled dataset (`resources::Resource::load_bundled`).
pub fn load_bundled(conn: &mut Conn, record: serde_json::Value, now: Micros) -> Result<(), AppError> {
    Initiatives::create(conn, NewInitiative::from_json(record)?, now).map(drop)
}

/// The initiatives, for the shared record endpoints.
pub struct Initiatives;

impl RecordStore for Initiatives {
    type Record = Initiative;
    type Query = InitiativeQuery;
    type New = NewInitiative;

    const KIND: &'static str = RESOURCE;
    const COLLECTION: Collection = Collection::Initiatives;

    fn query(params: &mut QueryParams) -> InitiativeQuery {
        InitiativeQuery::from_params(params)
    }

    fn window(query: &InitiativeQuery) -> (i64, i64) {
        (query.list.limit, query.list.offset)
    }

    fn is_unfiltered(query: &InitiativeQuery) -> bool {
        query.is_unfiltered()
    }

    fn identity(initiative: &Initiative) -> (i64, &str) {
        (initiative.id, &initiative.updated_at)
    }

    fn new_from_json(body: Value) -> Result<NewInitiative, AppError> {
        NewInitiative::from_json(body)
    }

    fn count(conn: &mut Conn, query: &InitiativeQuery) -> Result<i64, AppError> {
        Ok(filtered(query, db::has_full_text_index(conn)).count().get_result::<i64>(conn)?)
    }

    fn page(conn: &mut Conn, query: &InitiativeQuery) -> Result<Vec<Initiative>, AppError> {
        let mut select = filtered(query, db::has_full_text_index(conn));
        for key in &query.list.sort {
            select = match (key.field, key.descending) {
                (InitiativeSort::Name, false) => select.then_order_by(initiatives::name.asc()),
                (InitiativeSort::Name, true) => select.then_order_by(initiatives::name.desc()),
                // Nulls first ascending and last descending, as SQLite orders them; PostgreSQL's default is
                // the other way round.
                (InitiativeSort::StartedOn, false) => select
                    .then_order_by(initiatives::started_on.is_null().desc())
                    .then_order_by(initiatives::started_on.asc()),
                (InitiativeSort::StartedOn, true) => select
                    .then_order_by(initiatives::started_on.is_null().asc())
                    .then_order_by(initiatives::started_on.desc()),
                (InitiativeSort::CreatedAt, false) => select.then_order_by(initiatives::created_at.asc()),
                (InitiativeSort::CreatedAt, true) => select.then_order_by(initiatives::created_at.desc()),
                (InitiativeSort::UpdatedAt, false) => select.then_order_by(initiatives::updated_at.asc()),
                (InitiativeSort::UpdatedAt, true) => select.then_order_by(initiatives::updated_at.desc()),
            };
        }
        let rows: Vec<InitiativeRow> = select
            .then_order_by(initiatives::id.asc())
            .limit(query.list.limit)
            .offset(query.list.offset)
            .select(InitiativeRow::as_select())
            .load(conn)?;
        let initiatives = rows.into_iter().map(InitiativeRow::into_initiative).collect::<Result<_, _>>()?;
        Ok(initiatives)
    }

    fn version(conn: &mut Conn, id: i64) -> Result<Micros, AppError> {
        crate::on_backend!(conn, |c| initiatives::table.find(id).select(initiatives::updated_at).get_result(c))
            .optional()?
            .ok_or_else(|| AppError::not_found(RESOURCE, id))
    }

    fn get(conn: &mut Conn, id: i64) -> Result<Initiative, AppError> {
        find_row(conn, id)?.into_initiative()
    }

    fn get_many(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Initiative>, AppError> {
        let listed = db::id_in(conn.is_postgres(), initiatives::id, ids);
        let rows: Vec<InitiativeRow> =
            crate::on_backend!(conn, |c| initiatives::table.filter(listed).select(InitiativeRow::as_select()).load(c))?;
        rows.into_iter().map(InitiativeRow::into_initiative).collect()
    }

    fn create(conn: &mut Conn, record: NewInitiative, now: Micros) -> Result<Initiative, AppError> {
        let slug = settle_slug(conn, record.slug.as_deref(), &record.name, 0)?;
        let row = InitiativeChanges::new(record, slug.clone(), now, now);
        crate::on_backend!(conn, |c| diesel::insert_into(initiatives::table)
            .values(&row)
            .returning(InitiativeRow::as_returning())
            .get_result(c))
        .map_err(|error| write_error(error, &slug))?
        .into_initiative()
    }

    fn update(
        conn: &mut Conn,
        id: i64,
        precondition: impl FnOnce(&Initiative) -> Result<(), AppError>,
        patch: impl FnOnce() -> Result<Value, AppError>,
        now: Micros,
    ) -> Result<Initiative, AppError> {
        let row = find_row(conn, id)?;
        let current = row.clone().into_initiative()?;
        precondition(&current)?;
        let before = row.to_new()?;
        let after = InitiativePatch::from_json(patch()?)?.apply(before.clone())?;
        if after == before {
            return Ok(current);
        }
        let slug = match &after.slug {
            Some(slug) if *slug == row.slug => slug.clone(),
            explicit => settle_slug(conn, explicit.as_deref(), &after.name, id)?,
        };
        let changes = InitiativeChanges::new(after, slug.clone(), row.created_at, now);
        crate::on_backend!(conn, |c| diesel::update(initiatives::table.find(id))
            .set(&changes)
            .returning(InitiativeRow::as_returning())
            .get_result(c))
        .map_err(|error| write_error(error, &slug))?
        .into_initiative()
    }

    fn delete(
        conn: &mut Conn,
        id: i64,
        now: Micros,
        precondition: impl FnOnce(&Initiative) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let current = Self::get(conn, id)?;
        precondition(&current)?;
        let events = events::table.filter(events::initiative_id.eq(id)).count().get_result::<i64>(conn)?;
        let metrics = metrics::table.filter(metrics::initiative_id.eq(id)).count().get_result::<i64>(conn)?;
        if events > 0 || metrics > 0 {
            return Err(AppError::StillReferenced { resource: RESOURCE, events, metrics: Some(metrics) });
        }
        diesel::delete(initiatives::table.find(id)).execute(conn)?;
        tombstones::record(conn, Self::COLLECTION, id, now)
    }
}
