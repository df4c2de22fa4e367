//! Lookups by a set of ids whose SQL text does not depend on how many ids there are.
//!
//! Diesel writes `eq_any` as `IN (?, ?, …)` on SQLite, one placeholder per id, and prepares such
//! a statement again at every execution (as it does any statement with SQL literals): every page
//! of related records (`include`) would parse and plan its lookups again, a third of their cost.
//! [`IdIn`] binds the ids as one list (a JSON array for SQLite's `json_each`, an array literal
//! for PostgreSQL), so each lookup has one statement text, prepared once per connection.

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Text};

/// `<column> IN (ids)`, for `.filter()`.
#[derive(Debug, Clone)]
pub struct IdIn<C> {
    column: C,
    list: String,
    on_postgres: bool,
}

/// `column IN (ids)` on the backend `on_postgres` names.
pub fn id_in<C>(on_postgres: bool, column: C, ids: &[i64]) -> IdIn<C> {
    let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let list = if on_postgres { format!("{{{listed}}}") } else { format!("[{listed}]") };
    IdIn { column, list, on_postgres }
}

impl<C: Expression> Expression for IdIn<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for IdIn<C> {}

impl<C: ValidGrouping<()>> ValidGrouping<()> for IdIn<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C> QueryId for IdIn<C> {
    type QueryId = ();
    // Keyed by its SQL text, which is the same for any number of ids.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, DB> QueryFragment<DB> for IdIn<C>
where
    DB: Backend + HasSqlType<Text>,
    C: QueryFragment<DB>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        if self.on_postgres {
            out.push_sql(" = ANY(CAST(");
            out.push_bind_param::<Text, _>(&self.list)?;
            out.push_sql(" AS BIGINT[]))");
        } else {
            out.push_sql(" IN (SELECT value FROM json_each(");
            out.push_bind_param::<Text, _>(&self.list)?;
            out.push_sql("))");
        }
        Ok(())
    }
}
