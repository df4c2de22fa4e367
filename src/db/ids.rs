//! Lookups by a set of ids whose SQL text does not depend on how many ids there are.
//!
//! Diesel writes `eq_any` as `IN (?, ?, …)` on SQLite, one placeholder per id, and does not keep
//! such statements prepared: every page of related records (`include`) would parse and plan its
//! query again, a third of the lookup's cost. One bound list instead (a JSON array for SQLite's
//! `json_each`, an array literal for PostgreSQL) gives one statement text, prepared once per
//! connection.

/// `<column> IN <ids>` with the ids as one bound text parameter, as the SQL before the parameter,
/// the parameter, and the SQL after it:
/// `sql::<Bool>(&before).bind::<Text, _>(list).sql(after)`. `column` is a qualified column name
/// of the crate's own schema, never input.
pub fn id_list(on_postgres: bool, column: &'static str, ids: &[i64]) -> (String, String, &'static str) {
    let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    if on_postgres {
        (format!("{column} = ANY(CAST("), format!("{{{listed}}}"), " AS BIGINT[]))")
    } else {
        (format!("{column} IN (SELECT value FROM json_each("), format!("[{listed}]"), "))")
    }
}
