//! The budget of costly queries (searches, calendar renderings): a deadline per query, checked
//! by a SQL function SQLite calls for every candidate row, that stops the query once passed.

use std::time::Duration;

use diesel::SqliteConnection;
use diesel::sqlite::Sqlite as Backend;

use crate::db::conn::BUDGET_EXCEEDED;

diesel::define_sql_function! {
    /// True while the running query is within its budget; past it, an error that stops the query.
    /// Placed in the `WHERE` of costly queries (in their full-text subquery too), so SQLite asks
    /// it for every candidate row.
    fn within_budget() -> diesel::sql_types::Bool;
}

std::thread_local! {
    /// When the costly query running on this thread must stop, if one is running.
    static QUERY_DEADLINE: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
}

/// The answer of `within_budget()`: a boolean, or an error once the deadline has passed.
#[derive(Debug)]
struct BudgetCheck(bool);

impl diesel::serialize::ToSql<diesel::sql_types::Bool, Backend> for BudgetCheck {
    fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, Backend>) -> diesel::serialize::Result {
        if self.0 {
            <bool as diesel::serialize::ToSql<diesel::sql_types::Bool, Backend>>::to_sql(&true, out)
        } else {
            Err(BUDGET_EXCEEDED.into())
        }
    }
}

fn check_budget() -> BudgetCheck {
    BudgetCheck(QUERY_DEADLINE.get().is_none_or(|deadline| std::time::Instant::now() < deadline))
}

/// Sets this thread's query deadline while alive.
pub(super) struct Budget;

impl Budget {
    pub(super) fn start(budget: Duration) -> Budget {
        QUERY_DEADLINE.set(Some(std::time::Instant::now() + budget));
        Budget
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        QUERY_DEADLINE.set(None);
    }
}

/// Makes `within_budget()` known to a connection.
pub(super) fn register(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    within_budget_utils::register_nondeterministic_impl(conn, check_budget)
}
