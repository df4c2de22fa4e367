//! The bundled dataset (`seed_data.json`), loaded into an empty database through the same
//! validation as the API, in one transaction.

use diesel::prelude::*;
use serde_json::Value;

use crate::base::error::AppError;
use crate::base::schema::service_state;
use crate::base::wire::WireEnum;
use crate::db::{self, Conn, Db};
use crate::domain::collection::Collection;
use crate::domain::resources::RESOURCES;

pub const DATASET: &str = include_str!("dataset/bundled.json");
const SEEDED_KEY: &str = "bundled_dataset_loaded_at";

/// How many records a load created, per collection, in the order of `resources::RESOURCES`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Loaded(pub Vec<(Collection, usize)>);

impl std::fmt::Display for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(collection, n)| format!("{n} {}", collection.as_str())).collect();
        f.write_str(&parts.join(", "))
    }
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
            .values((
                service_state::key.eq(SEEDED_KEY),
                service_state::value.eq(crate::base::clock::format_micros(now)),
            ))
            .execute(conn)?;
        Ok(Some(loaded))
    })
    .await
}

fn is_pristine(conn: &mut Conn) -> Result<bool, AppError> {
    let marked = service_state::table.find(SEEDED_KEY).count().get_result::<i64>(conn)? > 0;
    let tables = crate::domain::resources::tables();
    Ok(!marked && !db::ever_assigned_ids(conn, &tables)? && db::all_empty(conn, &tables)?)
}

/// Creates every record of the dataset, failing whole if any record breaks the API's rules.
pub fn load(conn: &mut Conn, now: crate::base::clock::Micros) -> Result<Loaded, AppError> {
    let dataset: Value = serde_json::from_str(DATASET).map_err(AppError::internal)?;
    let mut loaded = Loaded::default();
    for resource in RESOURCES {
        let name = resource.collection.as_str();
        let records = dataset[name].as_array().map(Vec::as_slice).unwrap_or_default();
        for (index, record) in records.iter().enumerate() {
            (resource.load_bundled)(conn, record.clone(), now)
                .map_err(|e| AppError::internal(format!("bundled {name} #{index} is invalid: {e}")))?;
        }
        loaded.0.push((resource.collection, records.len()));
    }
    Ok(loaded)
}
