//! `rush-api copy-database`: everything in one database (records with their ids, the id
//! sequences, tokens, tombstones, idempotency records, event requests, the service's own state)
//! copied into an empty one, SQLite or PostgreSQL on either side, and the copy's row counts
//! checked against the source's.
//!
//! Each table travels as one JSON array, which both backends read and write natively and exactly
//! (64-bit integers, text; booleans as 0/1 or true/false, which each side's reader accepts; binary
//! columns as `\x`-prefixed hex, PostgreSQL's own text form of `bytea`). The source is read in one
//! snapshot; the target is written in one transaction: it has all of it or none of it.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::base::error::{AppError, ProblemCode};
use crate::db::conn::{Conn, Location, write_transaction};

/// The tables that are not resources, after the resources (which reference each other in the
/// order of `RESOURCES`), in an order where every table comes after those it references.
const OTHER_TABLES: [&str; 6] =
    ["event_requests", "api_tokens", "deletions", "idempotency_keys", "submission_allowances", "service_state"];

/// Tables whose `id` the database hands out, and never twice.
const SEQUENCED: [&str; 3] = ["event_requests", "api_tokens", "deletions"];

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

#[derive(QueryableByName)]
struct Rows {
    #[diesel(sql_type = Text)]
    rows: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One table as read from the source.
struct Exported {
    table: &'static str,
    columns: Vec<(String, bool)>,
    /// Every row, as `export` gives them.
    rows: String,
    count: i64,
    /// The highest id ever handed out (0 for tables without ids).
    highest_id: i64,
}

fn copy_order(resource_tables: &[&'static str]) -> Vec<&'static str> {
    resource_tables.iter().copied().chain(OTHER_TABLES).collect()
}

/// The tables that hold data, sorted. Full-text indexes and their queue are SQLite's derived
/// data, rebuilt after the copy; Diesel's record of migrations is each database's own.
fn data_tables(conn: &mut Conn) -> Result<Vec<String>, AppError> {
    let sql = if conn.is_postgres() {
        "SELECT table_name::text AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
           AND table_name <> '__diesel_schema_migrations' ORDER BY name"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name NOT LIKE '%_search' AND name NOT LIKE '%_search_%'
           AND name NOT IN ('search_queue', '__diesel_schema_migrations')
         ORDER BY name"
    };
    Ok(diesel::sql_query(sql).load::<Name>(conn)?.into_iter().map(|n| n.name).collect())
}

/// The columns of `table` and whether each holds bytes.
fn columns(conn: &mut Conn, table: &str) -> Result<Vec<(String, bool)>, AppError> {
    let sql = if conn.is_postgres() {
        format!(
            "SELECT column_name::text AS name, data_type::text AS kind FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
        )
    } else {
        format!("SELECT name, type AS kind FROM pragma_table_info('{table}')")
    };
    let columns: Vec<Column> = diesel::sql_query(sql).load(conn)?;
    Ok(columns
        .into_iter()
        .map(|c| (c.name, matches!(c.kind.to_ascii_lowercase().as_str(), "blob" | "bytea")))
        .collect())
}

fn count(conn: &mut Conn, table: &str) -> Result<i64, AppError> {
    Ok(diesel::sql_query(format!("SELECT count(*) AS n FROM \"{table}\"")).get_result::<Count>(conn)?.n)
}

/// Every row of `table` as one JSON array of objects.
fn export(conn: &mut Conn, table: &str, columns: &[(String, bool)]) -> Result<String, AppError> {
    let sql = if conn.is_postgres() {
        format!("SELECT coalesce(json_agg(t), '[]')::text AS rows FROM \"{table}\" AS t")
    } else {
        let members: Vec<String> =
            columns
                .iter()
                .map(|(name, bytes)| {
                    if *bytes { format!("'{name}', '\\x' || hex(\"{name}\")") } else { format!("'{name}', \"{name}\"") }
                })
                .collect();
        format!("SELECT coalesce(json_group_array(json_object({})), '[]') AS rows FROM \"{table}\"", members.join(", "))
    };
    Ok(diesel::sql_query(sql).get_result::<Rows>(conn)?.rows)
}

/// Inserts the rows `export` gave into `table`.
fn import(conn: &mut Conn, table: &str, columns: &[(String, bool)], rows: &str) -> Result<(), AppError> {
    let names: Vec<String> = columns.iter().map(|(name, _)| format!("\"{name}\"")).collect();
    let names = names.join(", ");
    match conn {
        Conn::Postgres(c) => {
            diesel::sql_query(format!(
                "INSERT INTO \"{table}\" ({names}) SELECT {names} FROM json_populate_recordset(NULL::\"{table}\", $1::json)"
            ))
            .bind::<Text, _>(rows)
            .execute(c)?;
        }
        Conn::Sqlite(c) => {
            let values: Vec<String> = columns
                .iter()
                .map(|(name, bytes)| {
                    let value = format!("json_extract(value, '$.\"{name}\"')");
                    if *bytes { format!("unhex(substr({value}, 3))") } else { value }
                })
                .collect();
            diesel::sql_query(format!(
                "INSERT INTO \"{table}\" ({names}) SELECT {} FROM json_each(?)",
                values.join(", ")
            ))
            .bind::<Text, _>(rows)
            .execute(c)?;
        }
    }
    Ok(())
}

/// Makes `table` go on from `highest` when it next hands out an id.
fn continue_ids(conn: &mut Conn, table: &str, highest: i64) -> Result<(), AppError> {
    if highest == 0 {
        return Ok(());
    }
    let sql = if conn.is_postgres() {
        format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), {highest})")
    } else {
        format!(
            "DELETE FROM sqlite_sequence WHERE name = '{table}';
             INSERT INTO sqlite_sequence (name, seq) VALUES ('{table}', {highest});"
        )
    };
    conn.batch_execute(&sql)?;
    Ok(())
}

/// Copies the database at `source` into the empty database at `target` (both already migrated
/// to the same version), and returns each table's row count, equal on both sides.
/// `resource_tables` are the resources' tables, referenced before referencing (the table of
/// resources' order); each has an id sequence and, on SQLite, a full-text index.
pub fn copy(
    source: &Location,
    target: &Location,
    resource_tables: &[&'static str],
) -> Result<Vec<(String, i64)>, AppError> {
    let mut from = source.connect().map_err(AppError::internal)?;
    let mut to = target.connect().map_err(AppError::internal)?;
    if let Conn::Sqlite(c) = &mut to {
        c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")?;
    }
    let order = copy_order(resource_tables);
    let mut expected: Vec<String> = order.iter().map(|t| (*t).to_owned()).collect();
    expected.sort();
    for side in [&mut from, &mut to] {
        if data_tables(side)? != expected {
            return Err(AppError::internal("the two databases do not have the tables this version knows"));
        }
    }
    // One snapshot of the source: every table as it was at one moment.
    let exported = from.transaction(|from| -> Result<Vec<Exported>, AppError> {
        if let Conn::Postgres(c) = from {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        let mut tables = Vec::with_capacity(order.len());
        for table in &order {
            let columns = columns(from, table)?;
            let rows = export(from, table, &columns)?;
            let sequenced = resource_tables.contains(table) || SEQUENCED.contains(table);
            let highest = if sequenced { crate::db::highest_id_ever(from, table)? } else { 0 };
            tables.push(Exported { table, columns, rows, count: count(from, table)?, highest_id: highest });
        }
        Ok(tables)
    })?;
    write_transaction(&mut to, |to| -> Result<Vec<(String, i64)>, AppError> {
        for table in &order {
            // The service's own state (the write clock, whether the dataset was loaded) comes
            // from the source too; a new database's defaults give way to it.
            if *table != "service_state" && count(to, table)? > 0 {
                return Err(AppError::client(
                    ProblemCode::BadRequest,
                    format!("the target database is not empty: its table {table} has rows"),
                ));
            }
        }
        to.batch_execute("DELETE FROM service_state")?;
        let mut counts = Vec::with_capacity(exported.len());
        for Exported { table, columns: source_columns, rows, count: original, highest_id: highest } in &exported {
            let mut theirs = columns(to, table)?;
            let mut ours = source_columns.clone();
            theirs.sort();
            ours.sort();
            if theirs != ours {
                return Err(AppError::internal(format!("{table} has other columns in the target")));
            }
            import(to, table, source_columns, rows)?;
            let copied = count(to, table)?;
            if copied != *original {
                return Err(AppError::internal(format!("{table}: {copied} rows copied of {original}")));
            }
            // Ids are never reused: the target goes on from the source's highest id ever
            // handed out, not from the highest id left.
            continue_ids(to, table, *highest)?;
            counts.push(((*table).to_owned(), copied));
        }
        if let Conn::Sqlite(c) = to {
            c.batch_execute("DELETE FROM search_queue;")?;
            for table in resource_tables {
                c.batch_execute(&format!("INSERT INTO {table}_search ({table}_search) VALUES ('rebuild');"))?;
            }
        }
        Ok(counts)
    })
}
