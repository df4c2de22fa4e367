//! `rush-api copy-database`: everything in one database (records with their ids, the id
//! sequences, tokens, tombstones, idempotency records, event requests, the service's own state)
//! copied into an empty one, and the copy's row counts checked against the source's.
//!
//! Both ends are SQLite files in this build. The copy runs on one connection to the target with
//! the source attached, inside one transaction: the target has all of it or none of it.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::Conn;
use crate::error::AppError;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The tables that hold data, in a copyable order. Full-text indexes and their queue are derived
/// data, rebuilt after the copy; Diesel's record of migrations is the target's own.
fn data_tables(conn: &mut Conn, schema: &str) -> Result<Vec<String>, AppError> {
    let names: Vec<Name> = diesel::sql_query(format!(
        "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name NOT LIKE '%_search' AND name NOT LIKE '%_search_%' AND name NOT IN ('search_queue', '__diesel_schema_migrations')
         ORDER BY name"
    ))
    .load(conn)?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

fn count(conn: &mut Conn, schema: &str, table: &str) -> Result<i64, AppError> {
    Ok(diesel::sql_query(format!("SELECT count(*) AS n FROM {schema}.\"{table}\"")).get_result::<Count>(conn)?.n)
}

fn columns(conn: &mut Conn, schema: &str, table: &str) -> Result<Vec<String>, AppError> {
    let names: Vec<Name> =
        diesel::sql_query(format!("SELECT name FROM pragma_table_info('{table}', '{schema}')")).load(conn)?;
    Ok(names.into_iter().map(|n| format!("\"{}\"", n.name)).collect())
}

/// Copies the database at `source` into the empty database at `target` (both already migrated
/// to the same version), and returns each table's row count, equal on both sides.
pub fn copy(source: &str, target: &str) -> Result<Vec<(String, i64)>, AppError> {
    let mut conn = Conn::establish(target).map_err(AppError::internal)?;
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = OFF;")?;
    diesel::sql_query("ATTACH DATABASE ? AS source").bind::<diesel::sql_types::Text, _>(source).execute(&mut conn)?;
    let tables = data_tables(&mut conn, "main")?;
    if tables != data_tables(&mut conn, "source")? {
        return Err(AppError::internal("the two databases do not have the same tables"));
    }
    let counts = conn.immediate_transaction(|conn| -> Result<Vec<(String, i64)>, AppError> {
        for table in &tables {
            // The service's own state (the write clock, whether the dataset was loaded) comes
            // from the source too; a new database's defaults give way to it.
            if table != "service_state" && count(conn, "main", table)? > 0 {
                return Err(AppError::client(
                    crate::error::ProblemCode::BadRequest,
                    format!("the target database is not empty: its table {table} has rows"),
                ));
            }
        }
        let mut counts = Vec::with_capacity(tables.len());
        for table in &tables {
            let columns = columns(conn, "main", table)?.join(", ");
            conn.batch_execute(&format!(
                "DELETE FROM main.\"{table}\"; INSERT INTO main.\"{table}\" ({columns}) SELECT {columns} FROM source.\"{table}\";"
            ))?;
            let (copied, original) = (count(conn, "main", table)?, count(conn, "source", table)?);
            if copied != original {
                return Err(AppError::internal(format!("{table}: {copied} rows copied of {original}")));
            }
            counts.push((table.clone(), copied));
        }
        // Ids are never reused: the target goes on from the source's highest id ever handed out,
        // not from the highest id left.
        conn.batch_execute(
            "DELETE FROM main.sqlite_sequence;
             INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM source.sqlite_sequence;
             DELETE FROM main.search_queue;",
        )?;
        for resource in crate::resources::RESOURCES {
            let table = resource.table;
            conn.batch_execute(&format!("INSERT INTO {table}_search ({table}_search) VALUES ('rebuild');"))?;
        }
        let broken: Vec<Name> = diesel::sql_query("SELECT \"table\" AS name FROM pragma_foreign_key_check").load(conn)?;
        if let Some(first) = broken.first() {
            return Err(AppError::internal(format!("the copy has a broken reference in {}", first.name)));
        }
        Ok(counts)
    })?;
    conn.batch_execute("DETACH DATABASE source;")?;
    Ok(counts)
}
