//! Event queries. No HTTP here: callers pass a connection, inside a transaction for writes.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use serde_json::Value;

use crate::base::clock::Micros;
use crate::base::error::AppError;
use crate::base::schema::{events, events_search};
use crate::base::wire::WireEnum;
use crate::db::{self, Backend, Conn};
use crate::domain::collection::Collection;
use crate::domain::events::api::{Event, EventPatch, EventQuery, EventSort, NewEvent};
use crate::domain::events::calendar::CalendarEvent;
use crate::domain::events::model::{EventChanges, EventRow};
use crate::domain::initiatives;
use crate::domain::programs;
use crate::domain::record_store::{RecordStore, Referencing};
use crate::domain::relations;
use crate::domain::tombstones;
use crate::http::query::QueryParams;

const RESOURCE: &str = "event";

/// `full_text`: whether the backend has the full-text index (`db::has_full_text_index`).
fn filtered(query: &EventQuery, full_text: bool) -> events::BoxedQuery<'static, Backend> {
    let mut select = events::table.into_boxed();
    if let Some(since) = query.list.updated_since {
        select = select.filter(events::updated_at.ge(since));
    }
    if let Some(event_type) = query.event_type {
        select = select.filter(events::event_type.eq(event_type.as_str()));
    }
    if let Some(status) = query.status {
        select = select.filter(events::status.eq(status.as_str()));
    }
    if let Some(initiative_id) = query.initiative_id {
        select = select.filter(events::initiative_id.eq(initiative_id));
    }
    if let Some(program_id) = query.program_id {
        select = select.filter(events::program_id.eq(program_id));
    }
    if let Some(is_virtual) = query.is_virtual {
        select = select.filter(events::is_virtual.eq(is_virtual));
    }
    if let Some(after) = query.starts_after {
        select = select.filter(events::starts_at.ge(after));
    }
    if let Some(before) = query.starts_before {
        select = select.filter(events::starts_at.lt(before));
    }
    if let Some(text) = &query.q {
        select = if full_text && text.chars().count() >= db::TRIGRAM {
            let hits = events_search::table
                .select(events_search::rowid)
                .filter(db::matches(events_search::search_text, db::phrase(text)))
                .filter(db::within_budget());
            select.filter(events::id.eq_any(hits))
        } else {
            select.filter(events::search_text.like(db::contains_pattern(text)).escape('\\')).filter(db::within_budget())
        };
    }
    select
}

fn find_row(conn: &mut Conn, id: i64) -> Result<EventRow, AppError> {
    crate::on_backend!(conn, |c| events::table.find(id).select(EventRow::as_select()).get_result(c))
        .optional()?
        .ok_or_else(|| AppError::not_found(RESOURCE, id))
}

fn into_calendar(row: EventRow) -> Result<CalendarEvent, AppError> {
    let (revision, created_at, updated_at) = (row.revision, row.created_at, row.updated_at);
    Ok(CalendarEvent { event: row.into_event()?, revision, created_at, updated_at })
}

/// The events of a calendar feed: those matching `query`, earliest first, up to its limit.
pub fn calendar(conn: &mut Conn, query: &EventQuery) -> Result<Vec<CalendarEvent>, AppError> {
    let rows: Vec<EventRow> = filtered(query, db::has_full_text_index(conn))
        .filter(db::within_budget())
        .order((events::starts_at.asc(), events::id.asc()))
        .limit(query.list.limit)
        .select(EventRow::as_select())
        .load(conn)?;
    rows.into_iter().map(into_calendar).collect()
}

/// One event as a calendar entry.
pub fn calendar_event(conn: &mut Conn, id: i64) -> Result<CalendarEvent, AppError> {
    into_calendar(find_row(conn, id)?)
}

/// Whether the record a reference field names exists. Asked inside the write transaction, so a
/// concurrent delete cannot slip between the check and the write.
pub fn reference_exists(conn: &mut Conn, field: &str, id: i64) -> Result<bool, AppError> {
    match field {
        "initiative_id" => initiatives::store::exists(conn, id),
        "program_id" => programs::store::exists(conn, id),
        other => Err(AppError::internal(format!("{other} is not a reference field"))),
    }
}

/// Stores `record`, whose references were checked in this transaction by `NewEvent::from_json`.
pub fn insert(conn: &mut Conn, record: NewEvent, now: Micros) -> Result<Event, AppError> {
    crate::on_backend!(conn, |c| diesel::insert_into(events::table)
        .values(&EventChanges::new(record, now, now, 0))
        .returning(EventRow::as_returning())
        .get_result(c))?
    .into_event()
}

/// Creates one record of the bundled dataset (`resources::Resource::load_bundled`). The dataset
/// names an event's initiative and program by slug (ids are the server's to assign).
pub fn load_bundled(conn: &mut Conn, mut record: serde_json::Value, now: Micros) -> Result<(), AppError> {
    crate::domain::slugs::slug_to_id(
        conn,
        &mut record,
        ("initiative", "initiative_id"),
        initiatives::store::id_by_slug,
    )?;
    crate::domain::slugs::slug_to_id(conn, &mut record, ("program", "program_id"), programs::store::id_by_slug)?;
    Events::create(conn, record, now).map(drop)
}

/// The events, for the shared record endpoints.
pub struct Events;

impl RecordStore for Events {
    type Record = Event;
    type Query = EventQuery;
    type New = Value;

    const KIND: &'static str = RESOURCE;
    const COLLECTION: Collection = Collection::Events;

    fn query(params: &mut QueryParams) -> EventQuery {
        EventQuery::from_params(params)
    }

    fn window(query: &EventQuery) -> (i64, i64) {
        (query.list.limit, query.list.offset)
    }

    fn is_unfiltered(query: &EventQuery) -> bool {
        query.is_unfiltered()
    }

    fn identity(record: &Event) -> (i64, &str) {
        (record.id, &record.updated_at)
    }

    fn reference(record: &Event, field: &str) -> Option<i64> {
        match field {
            "initiative_id" => record.initiative_id,
            "program_id" => record.program_id,
            _ => None,
        }
    }

    /// The body is read inside the write transaction (`create`), so that its references are
    /// checked against what the transaction sees.
    fn new_from_json(body: Value) -> Result<Value, AppError> {
        Ok(body)
    }

    fn create(conn: &mut Conn, body: Value, now: Micros) -> Result<Event, AppError> {
        let record = NewEvent::from_json(body, &mut |field, id| reference_exists(conn, field, id))?;
        insert(conn, record, now)
    }

    fn count(conn: &mut Conn, query: &EventQuery) -> Result<i64, AppError> {
        Ok(filtered(query, db::has_full_text_index(conn)).count().get_result::<i64>(conn)?)
    }

    fn page(conn: &mut Conn, query: &EventQuery) -> Result<Vec<Event>, AppError> {
        let mut select = filtered(query, db::has_full_text_index(conn));
        for key in &query.list.sort {
            select = match (key.field, key.descending) {
                (EventSort::StartsAt, false) => select.then_order_by(events::starts_at.asc()),
                (EventSort::StartsAt, true) => select.then_order_by(events::starts_at.desc()),
                (EventSort::Title, false) => select.then_order_by(events::title.asc()),
                (EventSort::Title, true) => select.then_order_by(events::title.desc()),
                (EventSort::CreatedAt, false) => select.then_order_by(events::created_at.asc()),
                (EventSort::CreatedAt, true) => select.then_order_by(events::created_at.desc()),
                (EventSort::UpdatedAt, false) => select.then_order_by(events::updated_at.asc()),
                (EventSort::UpdatedAt, true) => select.then_order_by(events::updated_at.desc()),
            };
        }
        let rows: Vec<EventRow> = select
            .then_order_by(events::id.asc())
            .limit(query.list.limit)
            .offset(query.list.offset)
            .select(EventRow::as_select())
            .load(conn)?;
        let events = rows.into_iter().map(EventRow::into_event).collect::<Result<_, _>>()?;
        Ok(events)
    }

    fn version(conn: &mut Conn, id: i64) -> Result<Micros, AppError> {
        crate::on_backend!(conn, |c| events::table.find(id).select(events::updated_at).get_result(c))
            .optional()?
            .ok_or_else(|| AppError::not_found(RESOURCE, id))
    }

    fn get(conn: &mut Conn, id: i64) -> Result<Event, AppError> {
        find_row(conn, id)?.into_event()
    }

    fn get_many(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Event>, AppError> {
        let listed = db::id_in(conn.is_postgres(), events::id, ids);
        let rows: Vec<EventRow> =
            crate::on_backend!(conn, |c| events::table.filter(listed).select(EventRow::as_select()).load(c))?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    fn update(
        conn: &mut Conn,
        id: i64,
        precondition: impl FnOnce(&Event) -> Result<(), AppError>,
        patch: impl FnOnce() -> Result<Value, AppError>,
        now: Micros,
    ) -> Result<Event, AppError> {
        let row = find_row(conn, id)?;
        let current = row.clone().into_event()?;
        precondition(&current)?;
        let before = row.to_new()?;
        let after = EventPatch::from_json(patch()?)?
            .apply(before.clone(), &mut |field, id| reference_exists(conn, field, id))?;
        if after == before {
            return Ok(current);
        }
        crate::on_backend!(conn, |c| diesel::update(events::table.find(id))
            .set(&EventChanges::new(after, row.created_at, now, row.revision + 1))
            .returning(EventRow::as_returning())
            .get_result(c))?
        .into_event()
    }

    fn delete(
        conn: &mut Conn,
        id: i64,
        now: Micros,
        precondition: impl FnOnce(&Event) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let current = Self::get(conn, id)?;
        precondition(&current)?;
        diesel::delete(events::table.find(id)).execute(conn)?;
        tombstones::record(conn, Self::COLLECTION, id, now)
    }
}

impl Referencing for Events {
    /// The list's default order is `starts_at, id`: the same order here, ranked per parent by a window.
    fn first_of_each(
        conn: &mut Conn,
        field: &'static str,
        parents: &[i64],
        first: i64,
    ) -> Result<Vec<(i64, Event, i64)>, AppError> {
        let (ranked, parent, total) = relations::ranked_sql(
            ("events", &["initiative_id", "program_id"]),
            field,
            "starts_at, id",
            parents,
            first,
        )?;
        let rows: Vec<(EventRow, i64, i64)> = events::table
            .filter(sql::<Bool>(&ranked))
            .select((EventRow::as_select(), sql::<BigInt>(&parent), sql::<BigInt>(&total)))
            .order((events::starts_at.asc(), events::id.asc()))
            .load(conn)?;
        rows.into_iter().map(|(row, parent, total)| Ok((parent, row.into_event()?, total))).collect()
    }
}
