//! The database: pools, pragmas, embedded migrations, and the two ways to run work on it.
//!
//! Everything backend-specific lives here, so that the stores stay on Diesel's query builder.
//!
//! Lookups by a unique key use `get_result`, not `first`: `first` binds `LIMIT ?`, and SQLite
//! (3.53) plans a bound LIMIT by its value, so it prepares such a statement again at every
//! execution instead of reusing the cached one (a fifth of the CPU of `get_by_id`).

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::clock::Micros;
use crate::error::AppError;

mod budget;
pub mod copy;
pub mod generation;
mod search;
mod writer;

use budget::Budget;
pub use budget::within_budget;
pub use search::{TRIGRAM, contains_pattern, matches, phrase, search_text};

use generation::WriteGeneration;

pub type Backend = diesel::sqlite::Sqlite;
pub type Conn = SqliteConnection;
type ConnPool = Pool<ConnectionManager<Conn>>;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Connections for reads unless `DATABASE_POOL_SIZE` says otherwise. Two workers keep about this
/// many busy; more costs memory (each connection has its own page cache) without adding throughput.
pub const DEFAULT_READ_POOL_SIZE: u32 = 8;
/// How long a request waits for a connection before it fails with a 500 instead of hanging.
const POOL_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite's memory for the whole process (caches, FTS buffers), in bytes: a soft limit it keeps
/// to by releasing cache pages, so that broad searches do not grow the process for good.
const SOFT_HEAP_LIMIT: u64 = 24 * 1024 * 1024;
/// Each connection's own page cache, in KiB.
const CACHE_KIB: u32 = 2 * 1024;
/// How long SQLite waits for a lock held by another connection or process.
const BUSY_TIMEOUT_MS: u32 = 5_000;

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<Conn, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        budget::register(conn).map_err(diesel::r2d2::Error::QueryError)?;
        // busy_timeout first: the pragmas after it may themselves need a lock. Each connection
        // keeps a small cache; the rest is the kernel's page cache. (Memory-mapping the file
        // was no faster here and counted every page it touched against the process's memory.)
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};
             PRAGMA foreign_keys = ON;
             PRAGMA synchronous = FULL;
             PRAGMA cache_size = -{CACHE_KIB};"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// How much database time one costly query (a search, a calendar) may take before it is stopped.
pub const QUERY_BUDGET: Duration = Duration::from_secs(2);
/// How long a costly query waits for one of the connections costly queries may use.
const COSTLY_WAIT: Duration = Duration::from_secs(2);
/// How many costly queries may run at once: at most half the read connections and at most half
/// the cores (at least one), so that lookups by id, plain lists, writes and readiness keep both a
/// connection and a core while someone floods the expensive requests. On 2 cores that is one.
fn costly_permits(read_pool_size: u32) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    (cores / 2).min(read_pool_size as usize / 2).max(1)
}
/// The error text a query stopped at its budget fails with; recognised in `error.rs`.
pub const BUDGET_EXCEEDED: &str = "rush-api: the query ran past its budget";

/// The database handle shared by every request: a read pool, and the queue of the one writer
/// thread (SQLite has one writer at a time; a queue is cheaper than contending on the lock, and
/// lets the writer commit several writes with one fsync).
#[derive(Clone)]
pub struct Db {
    read: ConnPool,
    /// Permits to run a costly query, `costly_permits()` of them.
    costly: Arc<tokio::sync::Semaphore>,
    writes: mpsc::Sender<Box<dyn writer::Job>>,
    generation: WriteGeneration,
}

/// A failure to open the database at start-up.
#[derive(Debug)]
pub struct OpenError(pub String);

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpenError {}

impl Db {
    /// Opens (creating if needed) and migrates the database file at `path`, with the default
    /// number of read connections.
    pub fn open(path: &str) -> Result<Db, OpenError> {
        Db::open_with(path, DEFAULT_READ_POOL_SIZE)
    }

    /// Opens the database file at `path` with `read_pool_size` read connections.
    pub fn open_with(path: &str, read_pool_size: u32) -> Result<Db, OpenError> {
        let open_error =
            |what: &str, e: &dyn std::fmt::Display| OpenError(format!("cannot {what} the database '{path}': {e}"));
        let mut conn = Conn::establish(path).map_err(|e| open_error("open", &e))?;
        // WAL is a property of the file: set once, it persists for every later connection.
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
             PRAGMA soft_heap_limit = {SOFT_HEAP_LIMIT};"
        ))
        .map_err(|e| open_error("configure", &e))?;
        conn.run_pending_migrations(MIGRATIONS).map_err(|e| open_error("migrate", &e))?;
        // Changes made by anything but this service's writer (an operator's sqlite3 session)
        // are queued too; index them before serving.
        conn.immediate_transaction(search::sync_search).map_err(|e| open_error("index", &e))?;
        let clock = writer::WriteClock::load(&mut conn).map_err(|e| open_error("read", &e))?;

        let read = Pool::builder()
            .max_size(read_pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(POOL_TIMEOUT)
            .connection_customizer(Box::new(Pragmas))
            .build(ConnectionManager::<Conn>::new(path))
            .map_err(|e| open_error("connect to", &e))?;
        let mut writer = Conn::establish(path).map_err(|e| open_error("open", &e))?;
        Pragmas.on_acquire(&mut writer).map_err(|e| open_error("configure", &e))?;
        let (writes, queue) = mpsc::channel();
        let generation = WriteGeneration::default();
        let committed = generation.clone();
        std::thread::Builder::new()
            .name("rush-api-writer".to_owned())
            .spawn(move || writer::write_loop(writer, clock, queue, committed))
            .map_err(|e| open_error("start the writer for", &e))?;
        let costly = Arc::new(tokio::sync::Semaphore::new(costly_permits(read_pool_size)));
        Ok(Db { read, costly, writes, generation })
    }

    /// The write generation (`db::generation`), read before reading the data that something kept
    /// is derived from.
    pub fn generation(&self) -> Option<u64> {
        self.generation.current()
    }

    /// Runs `work` on a read connection, off the async workers.
    pub async fn read<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Conn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.read.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// Runs a costly read (a search, a calendar) like `read`, but on at most half the read
    /// connections and within `QUERY_BUDGET` of database time: past either limit it fails with
    /// 503 `query_too_costly` rather than hold connections that cheaper requests need.
    pub async fn read_costly<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Conn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = actix_web::rt::time::timeout(COSTLY_WAIT, self.costly.clone().acquire_owned()).await;
        let Ok(Ok(permit)) = permit else {
            return Err(AppError::client(
                crate::error::ProblemCode::QueryTooCostly,
                "Too many searches and calendar renderings are running; retry in a moment.",
            ));
        };
        let pool = self.read.clone();
        web::block(move || {
            let _permit = permit;
            let mut conn = pool.get()?;
            let _budget = Budget::start(QUERY_BUDGET);
            work(&mut conn)
        })
        .await?
    }

    /// Runs `work` on the writer thread, atomically: its changes are kept only if it returns
    /// `Ok`. `work` gets the write's timestamp, taken once the write lock is held, so that
    /// timestamps follow commit order. Returns once the commit is durable (synchronous=FULL).
    /// `work` may run more than once (its batch is retried without a write that failed), but
    /// only the last run's changes are ever kept: it must take its inputs by reference or clone.
    pub async fn write<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnMut(&mut Conn, Micros) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, result) = tokio::sync::oneshot::channel();
        let job = writer::TypedJob { work, outcome: None, reply };
        self.writes.send(Box::new(job)).map_err(|_| AppError::internal("the writer thread has stopped"))?;
        result.await.map_err(|_| AppError::internal("the writer thread dropped a write"))?
    }

    /// Whether the database can be read and a write transaction can begin, within `deadline`.
    pub async fn check_ready(&self, deadline: Duration) -> Result<(), AppError> {
        let pool = self.read.clone();
        let probe = web::block(move || -> Result<(), AppError> {
            let mut conn = pool.get_timeout(deadline)?;
            let millis = deadline.as_millis();
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {millis}; SELECT count(*) FROM programs; BEGIN IMMEDIATE; ROLLBACK; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"
            ))
            .inspect_err(|_| {
                // Leave the pooled connection as the pool gave it out.
                let _ = conn.batch_execute(&format!("ROLLBACK; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"));
            })?;
            Ok(())
        });
        match actix_web::rt::time::timeout(deadline + Duration::from_millis(200), probe).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(error),
            Ok(Err(blocking)) => Err(blocking.into()),
            Err(_elapsed) => Err(AppError::internal("readiness probe timed out")),
        }
    }
}

/// Whether a write failed on a UNIQUE constraint (the backstop behind the in-transaction checks;
/// SQLite does not tell Diesel which constraint).
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}

/// Whether a write failed on a FOREIGN KEY constraint.
pub fn is_foreign_key_violation(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _))
}

impl Db {
    /// Writes a consistent copy of the database to `target` and checks the copy's integrity.
    /// `VACUUM INTO` reads one snapshot, so writers carry on meanwhile. `target` must be absent
    /// or an empty file, and a plain file name: the connection reads `file:` names as URIs. The
    /// command line creates the file itself (`cli::backup`), so that SQLite neither follows a
    /// link nor picks the mode.
    pub async fn backup_to(&self, target: String) -> Result<(), AppError> {
        let pool = self.read.clone();
        web::block(move || -> Result<(), AppError> {
            let mut conn = pool.get()?;
            diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(&target).execute(&mut conn)?;
            let mut copy = Conn::establish(&target).map_err(AppError::internal)?;
            let verdict: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
            match verdict.as_slice() {
                [row] if row.integrity_check == "ok" => Ok(()),
                _ => Err(AppError::internal("the copy failed its integrity check")),
            }
        })
        .await?
    }
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whether every one of `tables` has no row. (Table names come from `resources::RESOURCES`.)
pub fn all_empty(conn: &mut Conn, tables: &[&str]) -> Result<bool, AppError> {
    for table in tables {
        let rows = diesel::sql_query(format!("SELECT count(*) AS n FROM (SELECT 1 FROM {table} LIMIT 1)"))
            .get_result::<Count>(conn)?
            .n;
        if rows > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether any of `tables` ever had a row, even if all were deleted since: AUTOINCREMENT keeps
/// the highest id it handed out in `sqlite_sequence`, which exists once any id was assigned.
pub fn ever_assigned_ids(conn: &mut Conn, tables: &[&str]) -> Result<bool, AppError> {
    let has_sequence = diesel::sql_query("SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_sequence'")
        .get_result::<Count>(conn)?
        .n
        > 0;
    if !has_sequence {
        return Ok(false);
    }
    let mut assigned = 0;
    for table in tables {
        assigned += diesel::sql_query("SELECT count(*) AS n FROM sqlite_sequence WHERE name = ? AND seq > 0")
            .bind::<diesel::sql_types::Text, _>(*table)
            .get_result::<Count>(conn)?
            .n;
    }
    Ok(assigned > 0)
}

#[cfg(test)]
mod tests {
    use diesel::migration::MigrationSource;

    use super::writer::WRITE_CLOCK_KEY;
    use super::*;
    use crate::clock;
    use crate::error::ProblemCode;
    use crate::schema::service_state;

    fn open() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
        let path = dir.path().join("budget.sqlite3").to_string_lossy().into_owned();
        let db = Db::open(&path).unwrap_or_else(|e| panic!("open: {e}"));
        (dir, db)
    }

    #[actix_web::test]
    async fn a_costly_query_past_its_budget_is_stopped_with_query_too_costly() {
        let (_dir, db) = open();
        let within = db.read_costly(|conn| Ok(diesel::select(within_budget()).get_result::<bool>(conn)?)).await;
        assert!(matches!(within, Ok(true)), "{within:?}");
        // A budget already spent: the first row the query looks at stops it.
        let stopped = db
            .read(|conn| {
                let _budget = Budget::start(Duration::ZERO);
                Ok(diesel::select(within_budget()).get_result::<bool>(conn)?)
            })
            .await;
        assert!(matches!(&stopped, Err(error) if error.code() == ProblemCode::QueryTooCostly), "{stopped:?}");
        // The deadline ends with its query: the connection's next query runs as usual.
        let after = db.read(|conn| Ok(diesel::select(within_budget()).get_result::<bool>(conn)?)).await;
        assert!(matches!(after, Ok(true)), "{after:?}");
    }

    #[actix_web::test]
    async fn costly_queries_take_at_most_half_the_read_connections() {
        let (_dir, db) = open();
        let permits = costly_permits(DEFAULT_READ_POOL_SIZE);
        assert!((1..=DEFAULT_READ_POOL_SIZE as usize / 2).contains(&permits));
        assert_eq!(costly_permits(1), 1, "a pool of one still runs costly queries");
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(std::sync::Mutex::new(released));
        let mut holding = Vec::new();
        for _ in 0..permits {
            let released = Arc::clone(&released);
            let db = db.clone();
            holding.push(actix_web::rt::spawn(async move {
                db.read_costly(move |_conn| {
                    let _ = released.lock().map(|r| r.recv_timeout(Duration::from_secs(10)));
                    Ok(())
                })
                .await
            }));
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        // Plain reads still get a connection at once...
        let started = std::time::Instant::now();
        assert!(db.read(|conn| Ok(diesel::select(within_budget()).get_result::<bool>(conn)?)).await.is_ok());
        assert!(started.elapsed() < Duration::from_millis(500));
        // ...while one more costly query waits its turn, then gives up.
        let refused = db.read_costly(|_conn| Ok(())).await;
        assert!(matches!(&refused, Err(error) if error.code() == ProblemCode::QueryTooCostly), "{refused:?}");
        for _ in 0..permits {
            let _ = release.send(());
        }
        for task in holding {
            assert!(matches!(task.await, Ok(Ok(()))));
        }
    }

    #[actix_web::test]
    async fn the_database_holds_a_lease_past_every_timestamp_and_a_reopened_database_continues_from_it() {
        let (dir, db) = open();
        let path = dir.path().join("budget.sqlite3").to_string_lossy().into_owned();
        let lease = |db: Db| async move {
            db.read(|conn| {
                Ok(service_state::table
                    .find(WRITE_CLOCK_KEY)
                    .select(service_state::value)
                    .get_result::<String>(conn)?)
            })
            .await
            .ok()
            .and_then(|text| text.parse::<Micros>().ok())
            .unwrap_or_default()
        };
        let write =
            |db: Db| async move { db.write(|_conn, now| Ok(now)).await.unwrap_or_else(|e| panic!("write: {e}")) };
        let first_write = write(db.clone()).await;
        let first = lease(db.clone()).await;
        assert!(first >= first_write, "the lease {first} covers {first_write}");
        // Writes within the lease leave it alone (no write to the clock's row per commit)...
        let second = write(db.clone()).await;
        assert!(second > first_write && second <= first);
        assert_eq!(lease(db.clone()).await, first);
        // ...and one past it stores the next.
        let mut last = second;
        for _ in 0..300 {
            if last > first {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
            last = write(db.clone()).await;
        }
        assert!(last > first, "the clock passed its lease within 3 s");
        assert!(lease(db.clone()).await >= last);
        drop(db);

        // Another process (an older binary, a restore) left a later clock in the file, as after
        // the system clock stepped back: a reopened database continues after it.
        let ahead = clock::system_now() + 3_600_000_000;
        let mut conn = Conn::establish(&path).unwrap_or_else(|e| panic!("open: {e}"));
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = 5000; UPDATE service_state SET value = '{ahead}' WHERE key = 'write_clock'"
        ))
        .unwrap_or_else(|e| panic!("update: {e}"));
        let reopened = Db::open(&path).unwrap_or_else(|e| panic!("reopen: {e}"));
        let now = write(reopened.clone()).await;
        assert!(now > ahead, "{now} after {ahead}");
        assert!(lease(reopened).await >= now);
    }

    #[derive(QueryableByName, Debug, PartialEq)]
    struct SchemaObject {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        sql: Option<String>,
    }

    fn schema(conn: &mut Conn) -> Vec<SchemaObject> {
        diesel::sql_query(
            "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name",
        )
        .load(conn)
        .expect("read the schema")
    }

    #[test]
    fn the_latest_migration_reverts_to_exactly_the_schema_before_it() {
        let mut migrations = MIGRATIONS.migrations().expect("embedded migrations");
        migrations.sort_by_key(|m| m.name().version().to_string());
        let Some((latest, earlier)) = migrations.split_last() else { panic!("no migrations") };
        let mut before = Conn::establish(":memory:").expect("open");
        // Creates Diesel's table of applied migrations, which `run_migration` records in.
        before.applied_migrations().expect("set up");
        for migration in earlier {
            before.run_migration(migration).expect("migrate");
        }
        let mut conn = Conn::establish(":memory:").expect("open");
        conn.run_pending_migrations(MIGRATIONS).expect("migrate");
        let after = schema(&mut conn);
        conn.revert_last_migration(MIGRATIONS).expect("revert");
        assert_eq!(schema(&mut conn), schema(&mut before), "down.sql of {}", latest.name());
        conn.run_pending_migrations(MIGRATIONS).expect("migrate again");
        assert_eq!(schema(&mut conn), after, "up.sql of {} after its down.sql", latest.name());
    }
}
