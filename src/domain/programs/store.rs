//! Program queries. No HTTP here: callers pass a connection, inside a transaction for writes.

use diesel::prelude::*;
use serde_json::Value;

use crate::base::clock::Micros;
use crate::base::error::{AppError, ProblemCode};
use crate::base::schema::{events, programs, programs_search};
use crate::base::wire::WireEnum;
use crate::db::{self, Backend, Conn};
use crate::domain::collection::Collection;
use crate::domain::programs::api::{NewProgram, Program, ProgramPatch, ProgramQuery, ProgramSort};
use crate::domain::programs::model::{ProgramChanges, ProgramRow};
use crate::domain::record_store::RecordStore;
use crate::domain::slugs;
use crate::domain::tombstones;
use crate::http::query::QueryParams;

const RESOURCE: &str = "program";

/// `full_text`: whether the backend has the full-text index (`db::has_full_text_index`).
fn filtered(query: &ProgramQuery, full_text: bool) -> programs::BoxedQuery<'static, Backend> {
    let mut select = programs::table.into_boxed();
    if let Some(since) = query.list.updated_since {
        select = select.filter(programs::updated_at.ge(since));
    }
    if let Some(program_type) = query.program_type {
        select = select.filter(programs::program_type.eq(program_type.as_str()));
    }
    if let Some(campus) = query.campus {
        select = select.filter(programs::campus.eq(campus.as_str()));
    }
    if let Some(nrmp_code) = &query.nrmp_code {
        select = select.filter(programs::nrmp_code.eq(nrmp_code.clone()));
    }
    if let Some(specialty) = &query.specialty {
        select = select.filter(programs::specialty.eq(specialty.clone()));
    }
    if let Some(accepting) = query.accepting_applications {
        select = select.filter(programs::accepting_applications.eq(accepting));
    }
    if let Some(text) = &query.q {
        select = if full_text && text.chars().count() >= db::TRIGRAM {
            let hits = programs_search::table
                .select(programs_search::rowid)
                .filter(db::matches(programs_search::search_text, db::phrase(text)))
                .filter(db::within_budget());
            select.filter(programs::id.eq_any(hits))
        } else {
            select
                .filter(programs::search_text.like(db::contains_pattern(text)).escape('\\'))
                .filter(db::within_budget())
        };
    }
    select
}

fn find_row(conn: &mut Conn, id: i64) -> Result<ProgramRow, AppError> {
    crate::on_backend!(conn, |c| programs::table.find(id).select(ProgramRow::as_select()).get_result(c))
        .optional()?
        .ok_or_else(|| AppError::not_found(RESOURCE, id))
}

pub fn exists(conn: &mut Conn, id: i64) -> Result<bool, AppError> {
    Ok(programs::table.find(id).count().get_result::<i64>(conn)? > 0)
}

/// The id of the program with `slug`, if any.
pub fn id_by_slug(conn: &mut Conn, slug: &str) -> Result<Option<i64>, AppError> {
    Ok(programs::table.filter(programs::slug.eq(slug)).select(programs::id).get_result(conn).optional()?)
}

fn settle_slug(conn: &mut Conn, explicit: Option<&str>, name: &str, except_id: i64) -> Result<String, AppError> {
    let others = || programs::table.filter(programs::id.ne(except_id)).select(programs::slug);
    slugs::settle(
        conn,
        RESOURCE,
        explicit,
        name,
        |conn, slug| Ok(others().filter(programs::slug.eq(slug)).get_result::<String>(conn).optional()?.is_some()),
        |conn, prefix| Ok(others().filter(programs::slug.like(format!("{prefix}%"))).load(conn)?),
    )
}

fn write_error(error: diesel::result::Error, slug: &str, nrmp_code: Option<&str>) -> AppError {
    match (&error, nrmp_code) {
        // The checks before the write make this a backstop; SQLite names the column in its message.
        (diesel::result::Error::DatabaseError(_, info), Some(code))
            if db::is_unique_violation(&error) && info.message().contains("nrmp_code") =>
        {
            nrmp_code_taken(code)
        }
        _ if db::is_unique_violation(&error) => AppError::slug_taken(RESOURCE, slug),
        _ => error.into(),
    }
}

fn nrmp_code_taken(code: &str) -> AppError {
    AppError::client(ProblemCode::NrmpCodeTaken, format!("The NRMP code '{code}' is already used by another program."))
}

/// Refuses an NRMP code that a program other than `except_id` has.
fn check_nrmp_code(conn: &mut Conn, code: Option<&str>, except_id: i64) -> Result<(), AppError> {
    let Some(code) = code else { return Ok(()) };
    let taken = programs::table
        .filter(programs::nrmp_code.eq(code))
        .filter(programs::id.ne(except_id))
        .select(programs::id)
        .get_result::<i64>(conn)
        .optional()?
        .is_some();
    if taken { Err(nrmp_code_taken(code)) } else { Ok(()) }
}

/// Creates one record of the bundled dataset (`resources::Resource::load_bundled`).
pub fn load_bundled(conn: &mut Conn, record: serde_json::Value, now: Micros) -> Result<(), AppError> {
    Programs::create(conn, NewProgram::from_json(record)?, now).map(drop)
}

/// The programs, for the shared record endpoints.
pub struct Programs;

impl RecordStore for Programs {
    type Record = Program;
    type Query = ProgramQuery;
    type New = NewProgram;

    const KIND: &'static str = RESOURCE;
    const COLLECTION: Collection = Collection::Programs;

    fn query(params: &mut QueryParams) -> ProgramQuery {
        ProgramQuery::from_params(params)
    }

    fn window(query: &ProgramQuery) -> (i64, i64) {
        (query.list.limit, query.list.offset)
    }

    fn is_unfiltered(query: &ProgramQuery) -> bool {
        query.is_unfiltered()
    }

    fn identity(record: &Program) -> (i64, &str) {
        (record.id, &record.updated_at)
    }

    fn new_from_json(body: Value) -> Result<NewProgram, AppError> {
        NewProgram::from_json(body)
    }

    fn count(conn: &mut Conn, query: &ProgramQuery) -> Result<i64, AppError> {
        Ok(filtered(query, db::has_full_text_index(conn)).count().get_result::<i64>(conn)?)
    }

    fn page(conn: &mut Conn, query: &ProgramQuery) -> Result<Vec<Program>, AppError> {
        let mut select = filtered(query, db::has_full_text_index(conn));
        for key in &query.list.sort {
            select = match (key.field, key.descending) {
                (ProgramSort::Name, false) => select.then_order_by(programs::name.asc()),
                (ProgramSort::Name, true) => select.then_order_by(programs::name.desc()),
                (ProgramSort::Specialty, false) => select.then_order_by(programs::specialty.asc()),
                (ProgramSort::Specialty, true) => select.then_order_by(programs::specialty.desc()),
                (ProgramSort::CreatedAt, false) => select.then_order_by(programs::created_at.asc()),
                (ProgramSort::CreatedAt, true) => select.then_order_by(programs::created_at.desc()),
                (ProgramSort::UpdatedAt, false) => select.then_order_by(programs::updated_at.asc()),
                (ProgramSort::UpdatedAt, true) => select.then_order_by(programs::updated_at.desc()),
            };
        }
        let rows: Vec<ProgramRow> = select
            .then_order_by(programs::id.asc())
            .limit(query.list.limit)
            .offset(query.list.offset)
            .select(ProgramRow::as_select())
            .load(conn)?;
        let programs = rows.into_iter().map(ProgramRow::into_program).collect::<Result<_, _>>()?;
        Ok(programs)
    }

    fn version(conn: &mut Conn, id: i64) -> Result<Micros, AppError> {
        crate::on_backend!(conn, |c| programs::table.find(id).select(programs::updated_at).get_result(c))
            .optional()?
            .ok_or_else(|| AppError::not_found(RESOURCE, id))
    }

    fn get(conn: &mut Conn, id: i64) -> Result<Program, AppError> {
        find_row(conn, id)?.into_program()
    }

    fn get_many(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Program>, AppError> {
        let listed = db::id_in(conn.is_postgres(), programs::id, ids);
        let rows: Vec<ProgramRow> =
            crate::on_backend!(conn, |c| programs::table.filter(listed).select(ProgramRow::as_select()).load(c))?;
        rows.into_iter().map(ProgramRow::into_program).collect()
    }

    fn create(conn: &mut Conn, record: NewProgram, now: Micros) -> Result<Program, AppError> {
        let slug = settle_slug(conn, record.slug.as_deref(), &record.name, 0)?;
        check_nrmp_code(conn, record.nrmp_code.as_deref(), 0)?;
        let row = ProgramChanges::new(record, slug.clone(), now, now);
        crate::on_backend!(conn, |c| diesel::insert_into(programs::table)
            .values(&row)
            .returning(ProgramRow::as_returning())
            .get_result(c))
        .map_err(|error| write_error(error, &slug, row.nrmp_code.as_deref()))?
        .into_program()
    }

    fn update(
        conn: &mut Conn,
        id: i64,
        precondition: impl FnOnce(&Program) -> Result<(), AppError>,
        patch: impl FnOnce() -> Result<Value, AppError>,
        now: Micros,
    ) -> Result<Program, AppError> {
        let row = find_row(conn, id)?;
        let current = row.clone().into_program()?;
        precondition(&current)?;
        let before = row.to_new()?;
        let after = ProgramPatch::from_json(patch()?)?.apply(before.clone())?;
        if after == before {
            return Ok(current);
        }
        let slug = match &after.slug {
            Some(slug) if *slug == row.slug => slug.clone(),
            explicit => settle_slug(conn, explicit.as_deref(), &after.name, id)?,
        };
        check_nrmp_code(conn, after.nrmp_code.as_deref(), id)?;
        let changes = ProgramChanges::new(after, slug.clone(), row.created_at, now);
        crate::on_backend!(conn, |c| diesel::update(programs::table.find(id))
            .set(&changes)
            .returning(ProgramRow::as_returning())
            .get_result(c))
        .map_err(|error| write_error(error, &slug, changes.nrmp_code.as_deref()))?
        .into_program()
    }

    fn delete(
        conn: &mut Conn,
        id: i64,
        now: Micros,
        precondition: impl FnOnce(&Program) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let current = Self::get(conn, id)?;
        precondition(&current)?;
        let referencing = events::table.filter(events::program_id.eq(id)).count().get_result::<i64>(conn)?;
        if referencing > 0 {
            return Err(AppError::StillReferenced { resource: RESOURCE, events: referencing, metrics: None });
        }
        diesel::delete(programs::table.find(id)).execute(conn)?;
        tombstones::record(conn, Self::COLLECTION, id, now)
    }
}
