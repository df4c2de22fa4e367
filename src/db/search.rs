//! Search: the text `q` matches, the full-text indexes (FTS5 trigram, kept in step once per write
//! transaction) and the SQL that queries them. FTS5 is SQLite's own syntax, hence plain SQL here.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::conn::Conn;

/// Applies the changes the triggers queued in `search_queue` (migration 4) to the full-text
/// indexes, inside the caller's transaction: for each changed record, the text the index held
/// before the first change (if any) is deleted and the record's text now (if it still exists) is
/// added. Run once per transaction, so that FTS5 flushes once per commit rather than once per
/// statement. FTS5 commands are SQLite's own syntax, hence plain SQL here. The queue names each
/// record's table (the triggers write it), so this layer needs no list of the resources.
pub(super) fn sync_search(conn: &mut Conn) -> QueryResult<()> {
    match conn {
        Conn::Sqlite(conn) => {
            let queued: Vec<QueuedTable> =
                diesel::sql_query("SELECT DISTINCT resource FROM search_queue").load(conn)?;
            let mut sql = String::new();
            for QueuedTable { resource: table } in &queued {
                // Written by the migrations' triggers; anything else is not a table of ours.
                if table.is_empty() || !table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                    return Err(diesel::result::Error::QueryBuilderError(
                        format!("search_queue names an unknown table '{table}'").into(),
                    ));
                }
                sql.push_str(&format!(
                    "INSERT INTO {table}_search ({table}_search, rowid, search_text)
                         SELECT 'delete', queued.record_id, queued.old_text FROM search_queue AS queued
                         WHERE queued.resource = '{table}' AND queued.old_text IS NOT NULL
                           AND queued.seq = (SELECT min(first.seq) FROM search_queue AS first
                                             WHERE first.resource = '{table}' AND first.record_id = queued.record_id);
                     INSERT INTO {table}_search (rowid, search_text)
                         SELECT id, search_text FROM {table}
                         WHERE id IN (SELECT record_id FROM search_queue WHERE resource = '{table}');
                    "
                ));
            }
            if sql.is_empty() {
                return Ok(());
            }
            sql.push_str("DELETE FROM search_queue;");
            conn.batch_execute(&sql)
        }
        // PostgreSQL maintains its trigram indexes itself.
        Conn::Postgres(_) => Ok(()),
    }
}

#[derive(QueryableByName)]
struct QueuedTable {
    #[diesel(sql_type = diesel::sql_types::Text)]
    resource: String,
}

diesel::infix_operator!(Matches, " MATCH ");

/// `column MATCH query`: a full-text query against an FTS5 column.
pub fn matches<C>(column: C, query: String) -> Matches<C, diesel::dsl::AsExprOf<String, diesel::sql_types::Text>>
where
    C: diesel::Expression<SqlType = diesel::sql_types::Text>,
{
    Matches::new(column, diesel::expression::AsExpression::<diesel::sql_types::Text>::as_expression(query))
}

/// Whether `q` can use the FTS5 tables: SQLite's. On PostgreSQL the `LIKE` over `search_text`
/// is itself answered from a trigram GIN index (migration 3), with the same meaning.
pub fn has_full_text_index(conn: &Conn) -> bool {
    matches!(conn, Conn::Sqlite(_))
}

/// The shortest `q` the trigram indexes can answer; shorter ones scan the table with `LIKE`.
pub const TRIGRAM: usize = 3;

/// The FTS5 query that finds `needle` anywhere in the indexed text: one quoted phrase, so that
/// no character of it is query syntax. FTS5 ends a query string at NUL ("unterminated string"):
/// `needle` must hold none, which `q`'s check (no control characters) ensures.
pub fn phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

/// The SQL `LIKE` pattern that finds `needle` anywhere, with its wildcards taken literally.
/// Pair with `.escape('\\')`.
pub fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The text `q` searches: the given fields, lower-cased, one per line. Lower-casing in Rust makes
/// search case-insensitive for all of Unicode, which SQLite's `LIKE` is not.
pub fn search_text(parts: &[Option<&str>]) -> String {
    parts.iter().flatten().map(|part| part.to_lowercase()).collect::<Vec<_>>().join("\n")
}
