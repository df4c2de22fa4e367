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
use diesel::r2d2::{CustomizeConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::base::clock::Micros;
use crate::base::error::AppError;

mod budget;
pub mod conn;
pub mod copy;
pub mod generation;
mod ids;
pub mod readiness;
mod search;
mod writer;

use budget::Budget;
pub use budget::within_budget;
pub use ids::id_in;
pub use search::{TRIGRAM, contains_pattern, has_full_text_index, matches, phrase, search_text};

pub use conn::{
    BUDGET_EXCEEDED, Backend, Conn, Location, QUERY_BUDGET, is_foreign_key_violation, is_unique_violation,
    write_transaction,
};
use generation::WriteGeneration;

/// The read pool, and how many lost connections it has found: a connection not tested since the
/// last one was found is tested before it is used (`Reads::get`).
#[derive(Clone)]
struct Reads {
    pool: Pool<Manager>,
    losses: Arc<std::sync::atomic::AtomicU64>,
}

impl Reads {
    /// A connection within `wait`, tested first if connections were lost since it last was: after
    /// PostgreSQL restarts, one request finds out and the others get working connections.
    fn get(&self, wait: Duration) -> Result<diesel::r2d2::PooledConnection<Manager>, AppError> {
        use std::sync::atomic::Ordering;
        let losses = self.losses.load(Ordering::SeqCst);
        for _ in 0..=self.pool.max_size() {
            let mut pooled = self.pool.get_timeout(wait)?;
            if pooled.tested_at >= losses {
                return Ok(pooled);
            }
            pooled.tested_at = losses;
            if diesel::r2d2::R2D2Connection::ping(&mut pooled.conn).is_ok() {
                return Ok(pooled);
            }
            pooled.lost = true;
        }
        Err(AppError::client(
            crate::base::error::ProblemCode::NotReady,
            "The database cannot be reached right now; retry in a moment.",
        ))
    }

    /// Runs `work` on `pooled`; a failure that may come from a lost connection tests it.
    fn run<T>(&self, pooled: &mut Pooled, work: impl FnOnce(&mut Conn) -> Result<T, AppError>) -> Result<T, AppError> {
        let outcome = work(&mut pooled.conn);
        if let Err(error) = &outcome
            && matches!(
                error.code(),
                crate::base::error::ProblemCode::Internal | crate::base::error::ProblemCode::NotReady
            )
            && diesel::r2d2::R2D2Connection::ping(&mut pooled.conn).is_err()
        {
            pooled.lost = true;
            self.losses.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        outcome
    }
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The pool's connection factory: the variant `Location` names, never a guess from the string
/// (a SQLite file may be called anything, a libpq keyword string included).
#[derive(Debug)]
pub struct Manager {
    location: Location,
    /// `Reads::losses`: a new connection counts as tested when it is made.
    losses: Arc<std::sync::atomic::AtomicU64>,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let tested_at = self.losses.load(std::sync::atomic::Ordering::SeqCst);
        let conn = self.location.connect().map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(Pooled { conn, lost: false, tested_at })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        diesel::r2d2::R2D2Connection::ping(&mut pooled.conn).map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.lost || std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(&mut pooled.conn)
    }
}

/// A pooled connection, and whether it was found lost. Connections are not tested each time they
/// are taken from the pool (on PostgreSQL that would be one more round trip per request); instead
/// a request that failed with an internal or busy error tests its connection, a lost one
/// (PostgreSQL restarted, a failover, a dropped idle connection) leaves the pool, and the others
/// are tested once before their next use (`Reads`).
pub struct Pooled {
    conn: Conn,
    lost: bool,
    /// The count of losses when this connection was last tested, or made.
    tested_at: u64,
}

/// Connections for reads on SQLite unless `DATABASE_POOL_SIZE` says otherwise. Two workers keep
/// about this many busy; more costs memory (each connection has its own page cache) without
/// adding throughput.
pub const DEFAULT_READ_POOL_SIZE: u32 = 8;
/// Connections per instance on PostgreSQL unless `DATABASE_POOL_SIZE` says otherwise: each
/// request waits on the network there, so more of them are in flight at once.
pub const DEFAULT_POSTGRES_POOL_SIZE: u32 = 16;
/// How long a request waits for a connection before it fails with a 503 `not_ready` instead of
/// hanging.
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

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        configure(&mut pooled.conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Every connection's settings, pooled or the writer's.
fn configure(conn: &mut Conn) -> QueryResult<()> {
    let conn = match conn {
        Conn::Sqlite(conn) => conn,
        Conn::Postgres(conn) => {
            // The checks inside write transactions rely on read committed (each statement sees
            // what committed before it), whatever the server's or role's default says; a lock
            // held elsewhere (an operator's session) fails a write after as long as SQLite would
            // wait, instead of holding it for good.
            return conn.batch_execute(&format!(
                "SET default_transaction_isolation = 'read committed'; SET lock_timeout = {BUSY_TIMEOUT_MS};"
            ));
        }
    };
    budget::register(conn)?;
    // busy_timeout first: the pragmas after it may themselves need a lock. Each connection keeps
    // a small cache; the rest is the kernel's page cache. (Memory-mapping the file was no faster
    // here and counted every page it touched against the process's memory.)
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};
         PRAGMA foreign_keys = ON;
         PRAGMA synchronous = FULL;
         PRAGMA cache_size = -{CACHE_KIB};"
    ))
}

/// How long a costly query waits for one of the connections costly queries may use.
const COSTLY_WAIT: Duration = Duration::from_secs(2);
/// How many costly queries may run at once: at most half the read connections and at most half
/// the cores (at least one), so that lookups by id, plain lists, writes and readiness keep both a
/// connection and a core while someone floods the expensive requests. On 2 cores that is one.
fn costly_permits(read_pool_size: u32) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    (cores / 2).min(read_pool_size as usize / 2).max(1)
}

/// The database handle shared by every request: a read pool, and the queue of the one writer
/// thread (SQLite has one writer at a time; a queue is cheaper than contending on the lock, and
/// lets the writer commit several writes with one fsync).
#[derive(Clone)]
pub struct Db {
    read: Reads,
    /// Permits to run a costly query, `costly_permits()` of them.
    costly: Arc<tokio::sync::Semaphore>,
    writes: mpsc::Sender<Box<dyn writer::Job>>,
    generation: WriteGeneration,
    /// Whether other instances may write to the same database (PostgreSQL): then this process
    /// cannot know of every write, and what it keeps is checked against the generation read from
    /// the database (`generation`).
    shared: bool,
    /// On PostgreSQL, the last generation read from the database (`generation::Lease`).
    lease: generation::Lease,
}

/// The key of the advisory lock that instances starting together take around their migrations.
const MIGRATION_LOCK: i64 = 0x7275_7368_6170_6901;

/// Brings a new connection's database to this version's schema and state, once however many
/// instances start at the same time.
fn prepare(conn: &mut Conn) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match conn {
        Conn::Sqlite(c) => {
            // WAL is a property of the file: set once, it persists for every later connection.
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
                 PRAGMA soft_heap_limit = {SOFT_HEAP_LIMIT};"
            ))?;
            c.run_pending_migrations(SQLITE_MIGRATIONS)?;
            writer::WriteClock::ensure_row(conn)?;
            // Changes made by anything but this service's writer (an operator's sqlite3 session)
            // are queued too; index them before serving.
            write_transaction(conn, search::sync_search)?;
        }
        Conn::Postgres(c) => {
            // Session-level lock: held across the migrations' own transactions, released below
            // (or by the server if this process dies).
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let migrated = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop);
            let ensured = migrated.and_then(|()| Ok(writer::WriteClock::ensure_row(conn)?));
            let Conn::Postgres(c) = conn else { return ensured };
            let unlocked = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            ensured?;
            unlocked?;
        }
    }
    Ok(())
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
    /// Opens (creating if needed) and migrates the SQLite database file at `path`, with the
    /// default number of read connections.
    pub fn open(path: &str) -> Result<Db, OpenError> {
        Db::open_with(&Location::Sqlite(path.to_owned()), DEFAULT_READ_POOL_SIZE)
    }

    /// Opens and migrates the database at `location`, with `pool_size` connections for reads.
    pub fn open_with(location: &Location, pool_size: u32) -> Result<Db, OpenError> {
        let shown = location.display();
        let open_error =
            |what: &str, e: &dyn std::fmt::Display| OpenError(format!("cannot {what} the database '{shown}': {e}"));
        let mut conn = location.connect().map_err(|e| open_error("open", &e))?;
        prepare(&mut conn).map_err(|e| open_error("migrate", &e))?;
        let clock = writer::WriteClock::load(&mut conn).map_err(|e| open_error("read", &e))?;

        let losses = Arc::default();
        let read = Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(POOL_TIMEOUT)
            .connection_customizer(Box::new(Pragmas))
            .test_on_check_out(false)
            .build(Manager { location: location.clone(), losses: Arc::clone(&losses) })
            .map_err(|e| open_error("connect to", &e))?;
        let read = Reads { pool: read, losses };
        let writer_location = location.clone();
        let reconnect = move || -> Result<Conn, String> {
            let mut conn = writer_location.connect().map_err(|e| e.to_string())?;
            configure(&mut conn).map_err(|e| e.to_string())?;
            Ok(conn)
        };
        let writer = reconnect().map_err(|e| open_error("open", &e))?;
        let (writes, queue) = mpsc::channel();
        let acknowledge = if location.is_postgres() {
            Some(writer::Acknowledgements::start().map_err(|e| open_error("start the writer for", &e))?)
        } else {
            None
        };
        let generation = WriteGeneration::default();
        let committed = generation.clone();
        std::thread::Builder::new()
            .name("rush-api-writer".to_owned())
            .spawn(move || writer::write_loop(writer, reconnect, clock, queue, committed, acknowledge))
            .map_err(|e| open_error("start the writer for", &e))?;
        let costly = Arc::new(tokio::sync::Semaphore::new(costly_permits(pool_size)));
        let shared = location.is_postgres();
        Ok(Db { read, costly, writes, generation, shared, lease: generation::Lease::default() })
    }

    /// The write generation (`db::generation`), read before reading the data that something kept
    /// in memory (a list page, a calendar, an ETag) is derived from. On SQLite this process's
    /// own, which its writer moves. On PostgreSQL the write clock's value in the database, which
    /// every write transaction of every instance moves before it commits: read before reading the
    /// data (one small query), or the one read less than `generation::LEASE` ago, since writes are
    /// acknowledged that long after their commit (the argument is at `generation::LEASE`).
    pub async fn generation(&self) -> Option<u64> {
        if !self.shared {
            return self.generation.current();
        }
        if let Some(generation) = self.lease.current() {
            return Some(generation);
        }
        let began = std::time::Instant::now();
        let stored = self.read(|conn| Ok(writer::WriteClock::stored(conn)?)).await.ok()?;
        let generation = u64::try_from(stored).ok()?;
        self.lease.renew(generation, began);
        Some(generation)
    }

    /// Runs `work` on a read connection, off the async workers.
    pub async fn read<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Conn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let reads = self.read.clone();
        web::block(move || {
            let mut pooled = reads.get(POOL_TIMEOUT)?;
            reads.run(&mut pooled, work)
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
                crate::base::error::ProblemCode::QueryTooCostly,
                "Too many searches and calendar renderings are running; retry in a moment.",
            ));
        };
        let reads = self.read.clone();
        web::block(move || {
            let _permit = permit;
            let mut pooled = reads.get(POOL_TIMEOUT)?;
            if !pooled.conn.is_postgres() {
                let _budget = Budget::start(QUERY_BUDGET);
                return reads.run(&mut pooled, work);
            }
            // PostgreSQL stops the statement itself; the error is recognised in `error.rs`.
            pooled.conn.batch_execute(&format!("SET statement_timeout = {}", QUERY_BUDGET.as_millis()))?;
            let outcome = reads.run(&mut pooled, work);
            pooled.conn.batch_execute("RESET statement_timeout")?;
            outcome
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
        let reads = self.read.clone();
        let probe = web::block(move || -> Result<(), AppError> {
            let mut pooled = reads.get(deadline)?;
            let millis = deadline.as_millis();
            // A read, and a write transaction begun: on SQLite the write lock, on PostgreSQL the
            // write clock's row that every write transaction locks first (`writer::WriteClock`).
            let (probe, restore) = if pooled.conn.is_postgres() {
                (
                    format!(
                        "BEGIN; SET LOCAL statement_timeout = {millis}; SET LOCAL lock_timeout = {millis};
                         SELECT count(*) FROM programs;
                         SELECT value FROM service_state WHERE key = 'write_clock' FOR UPDATE; ROLLBACK;"
                    ),
                    "ROLLBACK;".to_owned(),
                )
            } else {
                (
                    format!(
                        "PRAGMA busy_timeout = {millis}; SELECT count(*) FROM programs; BEGIN IMMEDIATE; ROLLBACK; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"
                    ),
                    format!("ROLLBACK; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"),
                )
            };
            reads.run(&mut pooled, |conn| {
                conn.batch_execute(&probe).map_err(|error| {
                    // Leave the pooled connection as the pool gave it out.
                    let _ = conn.batch_execute(&restore);
                    AppError::from(error)
                })
            })
        });
        match actix_web::rt::time::timeout(deadline + Duration::from_millis(200), probe).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(error),
            Ok(Err(blocking)) => Err(blocking.into()),
            Err(_elapsed) => Err(AppError::internal("readiness probe timed out")),
        }
    }
}

impl Db {
    /// Writes a consistent copy of the database to `target` and checks the copy's integrity.
    /// `VACUUM INTO` reads one snapshot, so writers carry on meanwhile. `target` must be absent
    /// or an empty file, and a plain file name: the connection reads `file:` names as URIs. The
    /// command line creates the file itself (`cli::backup`), so that SQLite neither follows a
    /// link nor picks the mode.
    pub async fn backup_to(&self, target: String) -> Result<(), AppError> {
        let reads = self.read.clone();
        web::block(move || -> Result<(), AppError> {
            let mut pooled = reads.get(POOL_TIMEOUT)?;
            let conn = &mut pooled.conn;
            if conn.is_postgres() {
                return Err(AppError::internal("backup_to is SQLite's; PostgreSQL is backed up with pg_dump"));
            }
            diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(&target).execute(conn)?;
            let mut copy = SqliteConnection::establish(&target).map_err(AppError::internal)?;
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
        let rows = diesel::sql_query(format!("SELECT count(*) AS n FROM (SELECT 1 FROM {table} LIMIT 1) AS probe"))
            .get_result::<Count>(conn)?
            .n;
        if rows > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The highest id `table` ever handed out (0 if none), deleted records included: ids are never
/// handed out twice, so each backend remembers the highest (SQLite's AUTOINCREMENT in
/// `sqlite_sequence`, PostgreSQL's identity sequence, whose `last_value` is null until first used).
pub fn highest_id_ever(conn: &mut Conn, table: &str) -> Result<i64, AppError> {
    let sql = if conn.is_postgres() {
        format!(
            "SELECT coalesce(max(last_value), 0) AS n FROM pg_sequences
             WHERE schemaname = current_schema() AND sequencename = '{table}_id_seq'"
        )
    } else {
        format!(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0),
                        coalesce((SELECT max(id) FROM \"{table}\"), 0)) AS n"
        )
    };
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// Whether any of `tables` ever had a row, even if all were deleted since.
pub fn ever_assigned_ids(conn: &mut Conn, tables: &[&str]) -> Result<bool, AppError> {
    for table in tables {
        if highest_id_ever(conn, table)? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use diesel::migration::MigrationSource;

    use super::writer::WRITE_CLOCK_KEY;
    use super::*;
    use crate::base::clock;
    use crate::base::error::ProblemCode;
    use crate::base::schema::service_state;

    #[test]
    fn a_postgres_location_is_shown_without_its_password() {
        let location = Location::Postgres("postgres://rush:s%40cret@db.internal:5432/rush".to_owned());
        assert_eq!(location.display(), "postgres://rush:***@db.internal:5432/rush");
        let without = Location::Postgres("postgres://rush@db.internal/rush".to_owned());
        assert_eq!(without.display(), "postgres://rush@db.internal/rush");
    }

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
        let mut conn = SqliteConnection::establish(&path).unwrap_or_else(|e| panic!("open: {e}"));
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

    fn schema(conn: &mut SqliteConnection) -> Vec<SchemaObject> {
        diesel::sql_query(
            "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name",
        )
        .load(conn)
        .expect("read the schema")
    }

    #[test]
    fn the_latest_migration_reverts_to_exactly_the_schema_before_it() {
        let mut migrations = SQLITE_MIGRATIONS.migrations().expect("embedded migrations");
        migrations.sort_by_key(|m| m.name().version().to_string());
        let Some((latest, earlier)) = migrations.split_last() else { panic!("no migrations") };
        let mut before = SqliteConnection::establish(":memory:").expect("open");
        // Creates Diesel's table of applied migrations, which `run_migration` records in.
        before.applied_migrations().expect("set up");
        for migration in earlier {
            before.run_migration(migration).expect("migrate");
        }
        let mut conn = SqliteConnection::establish(":memory:").expect("open");
        conn.run_pending_migrations(SQLITE_MIGRATIONS).expect("migrate");
        let after = schema(&mut conn);
        conn.revert_last_migration(SQLITE_MIGRATIONS).expect("revert");
        assert_eq!(schema(&mut conn), schema(&mut before), "down.sql of {}", latest.name());
        conn.run_pending_migrations(SQLITE_MIGRATIONS).expect("migrate again");
        assert_eq!(schema(&mut conn), after, "up.sql of {} after its down.sql", latest.name());
    }
}
