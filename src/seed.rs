//! The bundled dataset (`seed_data.json`), loaded into an empty database through the same
//! validation as the API, in one transaction.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::{self, Conn, Db};
use crate::error::AppError;
use crate::schema::{
    events as events_table, initiatives as initiatives_table, programs as programs_table, service_state,
};
use crate::{events, initiatives, programs};

pub const DATASET: &str = include_str!("seed_data.json");
const SEEDED_KEY: &str = "bundled_dataset_loaded_at";

/// How many records a load created.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub programs: usize,
    pub initiatives: usize,
    pub events: usize,
}

/// Loads the dataset unless the database has ever held data or had it loaded: a second start, or
/// a database its users emptied, gets nothing.
pub async fn load_if_empty(db: &Db) -> Result<Option<Loaded>, AppError> {
    db.write(|conn, now| {
        if !is_pristine(conn)? {
            return Ok(None);
        }
        let loaded = load(conn, now)?;
        diesel::insert_into(service_state::table)
            .values((service_state::key.eq(SEEDED_KEY), service_state::value.eq(crate::clock::format_micros(now))))
            .execute(conn)?;
        Ok(Some(loaded))
    })
    .await
}

fn is_pristine(conn: &mut Conn) -> Result<bool, AppError> {
    let marked = service_state::table.find(SEEDED_KEY).count().get_result::<i64>(conn)? > 0;
    let rows = programs_table::table.count().get_result::<i64>(conn)?
        + initiatives_table::table.count().get_result::<i64>(conn)?
        + events_table::table.count().get_result::<i64>(conn)?;
    Ok(!marked && rows == 0 && !db::ever_assigned_ids(conn, &["programs", "initiatives", "events"])?)
}

fn section<'a>(dataset: &'a Value, name: &str) -> Result<&'a Vec<Value>, AppError> {
    dataset[name].as_array().ok_or_else(|| AppError::internal(format!("the bundled dataset has no '{name}' list")))
}

fn invalid(kind: &str, index: usize, error: AppError) -> AppError {
    AppError::internal(format!("bundled {kind} #{index} is invalid: {error}"))
}

/// Creates every record of the dataset, failing whole if any record breaks the API's rules.
pub fn load(conn: &mut Conn, now: crate::clock::Micros) -> Result<Loaded, AppError> {
    let dataset: Value = serde_json::from_str(DATASET).map_err(AppError::internal)?;
    let mut loaded = Loaded::default();
    for (index, record) in section(&dataset, "programs")?.iter().enumerate() {
        let record = programs::api::NewProgram::from_json(record.clone()).map_err(|e| invalid("program", index, e))?;
        programs::store::create(conn, record, now).map_err(|e| invalid("program", index, e))?;
        loaded.programs += 1;
    }
    for (index, record) in section(&dataset, "initiatives")?.iter().enumerate() {
        let record =
            initiatives::api::NewInitiative::from_json(record.clone()).map_err(|e| invalid("initiative", index, e))?;
        initiatives::store::create(conn, record, now).map_err(|e| invalid("initiative", index, e))?;
        loaded.initiatives += 1;
    }
    for (index, record) in section(&dataset, "events")?.iter().enumerate() {
        let record = event_with_ids(conn, record).map_err(|e| invalid("event", index, e))?;
        let record =
            events::api::NewEvent::from_json(record, &mut |field, id| events::store::reference_exists(conn, field, id))
                .map_err(|e| invalid("event", index, e))?;
        events::store::create(conn, record, now).map_err(|e| invalid("event", index, e))?;
        loaded.events += 1;
    }
    Ok(loaded)
}

/// The dataset names an event's initiative and program by slug (ids are the server's to assign);
/// this turns them into the `initiative_id` and `program_id` the API takes.
fn event_with_ids(conn: &mut Conn, record: &Value) -> Result<Value, AppError> {
    let mut record = record.clone();
    let object = record.as_object_mut().ok_or_else(|| AppError::internal("an event is not an object"))?;
    let initiative = object.remove("initiative").unwrap_or(Value::Null);
    let program = object.remove("program").unwrap_or(Value::Null);
    let initiative_id = match initiative.as_str() {
        Some(slug) => Some(
            initiatives::store::id_by_slug(conn, slug)?
                .ok_or_else(|| AppError::internal(format!("no initiative '{slug}'")))?,
        ),
        None => None,
    };
    let program_id = match program.as_str() {
        Some(slug) => Some(
            programs::store::id_by_slug(conn, slug)?
                .ok_or_else(|| AppError::internal(format!("no program '{slug}'")))?,
        ),
        None => None,
    };
    object.insert("initiative_id".to_owned(), initiative_id.into());
    object.insert("program_id".to_owned(), program_id.into());
    Ok(record)
}
