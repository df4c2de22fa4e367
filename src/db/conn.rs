//! A connection to either backend, and what its errors mean: the part of the database layer that
//! everything else in it (budgets, search, the writer, copies) builds on.

use std::time::Duration;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::base::error::{AppError, ProblemCode};

/// A connection to either backend. Queries written once on Diesel's query builder run on both;
/// what differs (transactions, search, the clock's lock, backup) is decided here, by variant.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Backend = MultiBackend;

/// Runs `$body` with `$c` bound to the connection inside `$conn`, whichever backend it is: the
/// same query-builder code compiled once per backend. For the statements Diesel's multi-backend
/// type cannot express (`RETURNING` a whole row), and for the hottest lookups (a record by id, its
/// version, a token): through the multi-backend connection every execution builds its SQL text
/// again (a sixth of the CPU of `mixed` in a profile), while each backend's own connection finds
/// the prepared statement by the query's type.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::conn::Conn::Postgres($c) => $body,
            $crate::db::conn::Conn::Sqlite($c) => $body,
        }
    };
}

/// Where the data lives, as `DATABASE_URL` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file (created if missing).
    Sqlite(String),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl Location {
    /// A new connection, outside any pool (the command line's copy, tests).
    pub fn connect(&self) -> ConnectionResult<Conn> {
        match self {
            Location::Sqlite(path) => SqliteConnection::establish(path).map(Conn::Sqlite),
            Location::Postgres(url) => PgConnection::establish(url).map(Conn::Postgres),
        }
    }

    /// How the location is shown in messages: a PostgreSQL URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(path) => path.clone(),
            Location::Postgres(url) => redact_password(url),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`. A URL that does not parse
/// (the configuration refuses those) is not shown at all.
fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "postgres://…".to_owned(),
    }
}

impl Conn {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }
}

/// Runs `work` in a write transaction: `BEGIN IMMEDIATE` on SQLite (a deferred transaction that
/// reads and then writes gets SQLITE_BUSY at once when another writer got there first, whatever
/// busy_timeout says), a plain `BEGIN` on PostgreSQL, whose writers serialise on the write
/// clock's row instead (`writer::WriteClock::claim`). Nested `transaction` calls are savepoints.
pub fn write_transaction<T, E>(conn: &mut Conn, work: impl FnOnce(&mut Conn) -> Result<T, E>) -> Result<T, E>
where
    E: From<DieselError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        Conn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        Conn::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match work(conn) {
        Ok(value) => {
            <Conn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            <Conn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// How much database time one costly query (a search, a calendar) may take before it is stopped.
pub const QUERY_BUDGET: Duration = Duration::from_secs(2);
/// The error text a query stopped at its budget fails with; recognised by `From<diesel::result::Error> for AppError` below.
pub const BUDGET_EXCEEDED: &str = "rush-api: the query ran past its budget";

/// Whether a write failed on a UNIQUE constraint (the backstop behind the in-transaction checks;
/// SQLite does not tell Diesel which constraint).
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}

/// Whether a write failed on a FOREIGN KEY constraint.
pub fn is_foreign_key_violation(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _))
}

// The database layer says what its errors mean to a client: which are transient, which are a
// costly query stopped at its budget.
impl AppError {
    /// The database is held by someone else for longer than a request waits.
    pub fn busy() -> Self {
        AppError::client(ProblemCode::NotReady, "The database is busy right now; retry in a moment.")
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        // SQLite's BUSY/LOCKED after busy_timeout: a transient condition, not a bug.
        let message = match &error {
            diesel::result::Error::DatabaseError(_, info) => info.message(),
            _ => "",
        };
        // SQLite's budget function, or PostgreSQL's statement_timeout set for a costly read.
        if message.contains(BUDGET_EXCEEDED) || message.contains("canceling statement due to statement timeout") {
            return AppError::client(
                ProblemCode::QueryTooCostly,
                format!(
                    "The query ran past its budget of {} seconds of database time and was stopped; narrow it (a longer or rarer q, a smaller window) or retry later.",
                    QUERY_BUDGET.as_secs()
                ),
            );
        }
        // PostgreSQL: a connection lost or refused mid-request is as transient.
        let busy = message.contains("database is locked")
            || message.contains("database is busy")
            || message.contains("canceling statement due to lock timeout")
            || matches!(
                error,
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ClosedConnection, _)
            );
        if busy { AppError::busy() } else { AppError::Internal(Box::new(error)) }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        log::warn!("no database connection became free in time: {error}");
        AppError::busy()
    }
}
