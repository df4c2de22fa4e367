//! The writer thread: every write goes through one queue to one connection, which commits up to
//! `MAX_BATCH` of them per transaction (group commit: one fsync for all).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc;

use diesel::prelude::*;

use crate::base::clock::{self, Micros};
use crate::base::error::{AppError, ProblemCode};
use crate::base::schema::service_state;
use crate::db::conn::{self, Conn};
use crate::db::generation::WriteGeneration;
use crate::db::search::sync_search;

/// The most writes committed together in one transaction (one fsync).
const MAX_BATCH: usize = 64;

/// Hands out write timestamps that strictly increase across all writes, even if the system clock
/// stalls or steps back, so that `updated_at` orders every change.
///
/// The database holds the clock in `service_state.write_clock` (migration 6).
///
/// On SQLite this process is the only writer. A restart continues from a lease: a value at least
/// as large as every timestamp handed out. Writing it in every transaction would add a page to
/// every commit (a tenth of `create`'s throughput); instead a transaction that hands out a
/// timestamp past the lease stores a new lease, `LEASE` ahead, and the lease counts only once that
/// transaction committed.
///
/// On PostgreSQL several instances write. Each write transaction first locks the clock's row
/// (`claim`), continues from the value there and stores its last timestamp before committing:
/// transactions take timestamps one after another in the order they commit, whichever instance
/// runs them, so a mirror reading `updated_since` never misses one committed later with an earlier
/// timestamp. The lock is held for one batch's transaction, and batches keep that short.
#[derive(Debug)]
pub(super) struct WriteClock {
    last: AtomicI64,
    /// The lease the database holds.
    leased: AtomicI64,
    /// The lease the transaction being committed stores, if it stores one.
    pending: AtomicI64,
}

/// How far ahead of the timestamps handed out a lease reaches: the clock is written about once
/// per this much time under load, and a restart may start this much ahead of the wall clock.
const LEASE: Micros = 1_000_000;

/// The `service_state` key of the write clock's last value (migration 6).
pub(super) const WRITE_CLOCK_KEY: &str = "write_clock";

#[derive(QueryableByName)]
struct ClockRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

impl WriteClock {
    fn next(&self) -> Micros {
        let now = clock::system_now();
        let previous =
            self.last.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some(now.max(last + 1))).unwrap_or(now);
        now.max(previous + 1)
    }

    /// Creates the clock's row if the database has none yet, so that `claim` has a row to lock.
    pub(super) fn ensure_row(conn: &mut Conn) -> QueryResult<()> {
        diesel::sql_query(format!(
            "INSERT INTO service_state (key, value) VALUES ('{WRITE_CLOCK_KEY}', '0') ON CONFLICT (key) DO NOTHING"
        ))
        .execute(conn)
        .map(drop)
    }

    /// The clock as the database last stored it (0 for a database that never had a write).
    pub(super) fn stored(conn: &mut Conn) -> QueryResult<Micros> {
        let stored: Option<String> =
            service_state::table.find(WRITE_CLOCK_KEY).select(service_state::value).get_result(conn).optional()?;
        Ok(stored.and_then(|text| text.parse::<Micros>().ok()).unwrap_or(0))
    }

    /// A clock that goes on from the one the database stored.
    pub(super) fn load(conn: &mut Conn) -> QueryResult<WriteClock> {
        let last = WriteClock::stored(conn)?;
        Ok(WriteClock { last: AtomicI64::new(last), leased: AtomicI64::new(last), pending: AtomicI64::new(0) })
    }

    /// First thing in a write transaction on PostgreSQL: waits for the clock's row, and continues
    /// from what the instance that held it last stored.
    fn claim(&self, conn: &mut Conn) -> QueryResult<()> {
        if !conn.is_postgres() {
            return Ok(());
        }
        let row: ClockRow =
            diesel::sql_query(format!("SELECT value FROM service_state WHERE key = '{WRITE_CLOCK_KEY}' FOR UPDATE"))
                .get_result(conn)?;
        let stored = row.value.parse::<Micros>().unwrap_or(0);
        self.last.fetch_max(stored, Ordering::SeqCst);
        Ok(())
    }

    /// Inside a write transaction, after its timestamps were handed out: on PostgreSQL stores the
    /// last one; on SQLite stores a new lease when they passed the one the database holds.
    fn store(&self, conn: &mut Conn) -> QueryResult<()> {
        let last = self.last.load(Ordering::SeqCst);
        let value = if conn.is_postgres() {
            last
        } else if last <= self.leased.load(Ordering::SeqCst) {
            return Ok(());
        } else {
            last + LEASE
        };
        diesel::update(service_state::table.find(WRITE_CLOCK_KEY))
            .set(service_state::value.eq(value.to_string()))
            .execute(conn)?;
        self.pending.store(value, Ordering::SeqCst);
        Ok(())
    }

    /// The transaction committed: its lease, if it stored one, is the database's now.
    fn committed(&self) {
        let pending = self.pending.swap(0, Ordering::SeqCst);
        self.leased.fetch_max(pending, Ordering::SeqCst);
    }

    /// The transaction was rolled back: its lease never reached the database.
    fn rolled_back(&self) {
        self.pending.store(0, Ordering::SeqCst);
    }
}

/// A write queued for the writer thread: it runs (maybe more than once: a batch is retried without
/// a write that failed), keeps its last outcome, and hands it to its caller once the transaction
/// it ran in is durable, or hands over the commit's failure instead.
pub(super) trait Job: Send {
    /// Runs the write; `false` when it failed (its error is kept for its caller).
    fn run(&mut self, conn: &mut Conn, now: Micros) -> bool;
    /// Forgets the outcome of a run whose transaction was rolled back.
    fn forget(&mut self);
    /// The transaction committed: the caller gets the outcome.
    fn committed(self: Box<Self>);
    /// The transaction failed: the caller gets `error`.
    fn failed(self: Box<Self>, error: AppError);
}

/// A write returning `T` to the caller waiting on `reply`.
pub(super) struct TypedJob<T, F> {
    pub work: F,
    pub outcome: Option<Result<T, AppError>>,
    pub reply: tokio::sync::oneshot::Sender<Result<T, AppError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnMut(&mut Conn, Micros) -> Result<T, AppError> + Send,
{
    fn run(&mut self, conn: &mut Conn, now: Micros) -> bool {
        // A panic in one write becomes its error, so that it cannot stop the writer.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| (self.work)(conn, now)))
            .unwrap_or_else(|_| Err(AppError::internal("a write panicked")));
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn forget(&mut self) {
        self.outcome = None;
    }

    fn committed(self: Box<Self>) {
        let outcome = self.outcome.unwrap_or_else(|| Err(AppError::internal("a write was not run")));
        let _ = self.reply.send(outcome);
    }

    fn failed(self: Box<Self>, error: AppError) {
        let _ = self.reply.send(Err(error));
    }
}

pub(super) type Queue = mpsc::Receiver<Box<dyn Job>>;

/// On PostgreSQL, the thread that answers committed writes `generation::ACKNOWLEDGE_AFTER` after
/// their commit (why: `generation::LEASE`), so that the writer goes on to the next batch at once.
pub(super) struct Acknowledgements(mpsc::Sender<(std::time::Instant, Vec<Box<dyn Job>>)>);

impl Acknowledgements {
    pub(super) fn start() -> std::io::Result<Acknowledgements> {
        let (sender, due) = mpsc::channel::<(std::time::Instant, Vec<Box<dyn Job>>)>();
        std::thread::Builder::new().name("rush-api-acknowledge".to_owned()).spawn(move || {
            // Batches arrive in commit order, each due a fixed delay after its commit.
            while let Ok((at, batch)) = due.recv() {
                std::thread::sleep(at.saturating_duration_since(std::time::Instant::now()));
                batch.into_iter().for_each(|job| job.committed());
            }
        })?;
        Ok(Acknowledgements(sender))
    }

    /// Answers `batch`, committed just now, once the delay has passed.
    fn committed(&self, batch: Vec<Box<dyn Job>>) {
        let due = std::time::Instant::now() + crate::db::generation::ACKNOWLEDGE_AFTER;
        if let Err(mpsc::SendError((_, batch))) = self.0.send((due, batch)) {
            // The thread is gone (it cannot fail on its own): answer late rather than never.
            std::thread::sleep(crate::db::generation::ACKNOWLEDGE_AFTER);
            batch.into_iter().for_each(|job| job.committed());
        }
    }
}

/// The writer thread: takes the waiting writes, up to `MAX_BATCH`, and commits them in one
/// immediate transaction: one commit, one fsync for all; each caller hears back only after it.
///
/// The writes first run one after another with nothing between them. Usually all succeed and
/// that transaction commits. When one fails, the transaction is rolled back (undoing whatever the
/// failed write did half-way), that write's error is its answer, and the others run again, each
/// in its own savepoint so that a failure rolls back that write alone. Savepoints are not the
/// first choice because each one costs: SQLite journals every page a savepoint touches, and the
/// full-text indexes flush their pending terms at every savepoint boundary (two fifths of the
/// writer's time in a profile of `create` with a savepoint per write).
pub(super) fn write_loop(
    mut conn: Conn,
    reconnect: impl Fn() -> Result<Conn, String>,
    clock: WriteClock,
    queue: Queue,
    generation: WriteGeneration,
    acknowledge: Option<Acknowledgements>,
) {
    // Whether the last batch failed to commit: the connection may be gone.
    let mut suspect = false;
    while let Ok(first) = queue.recv() {
        // A connection lost (a PostgreSQL restart or failover, a dropped idle connection) is
        // replaced before the next batch, so that one failed batch is all it costs.
        let lost = diesel::r2d2::R2D2Connection::is_broken(&mut conn)
            || (suspect && diesel::r2d2::R2D2Connection::ping(&mut conn).is_err());
        if lost {
            match reconnect() {
                Ok(fresh) => {
                    log::warn!("the writer's database connection was lost; reconnected");
                    conn = fresh;
                }
                Err(error) => log::error!("the writer's database connection was lost and cannot be reopened: {error}"),
            }
        }
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committing = generation.begin_batch();
        let committed = match commit_together(&mut conn, &clock, &mut batch) {
            Ok(Some(failed)) => {
                // The failed write keeps its error; the others run again, apart.
                let failed = batch.remove(failed);
                // A batch of one that failed has nothing left to run.
                let rest = if batch.is_empty() { Ok(()) } else { commit_apart(&mut conn, &clock, &mut batch) };
                batch.push(failed);
                rest
            }
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        // Before any reply: a client that hears of its write never reads a page kept from before.
        drop(committing);
        suspect = committed.is_err();
        match committed {
            Ok(()) => {
                clock.committed();
                match &acknowledge {
                    Some(acknowledge) => acknowledge.committed(batch),
                    None => batch.into_iter().for_each(|job| job.committed()),
                }
            }
            Err(error) => {
                clock.rolled_back();
                log::error!("a batch of {} writes failed to commit: {error}", batch.len());
                let busy = error.code() == ProblemCode::NotReady;
                for job in batch {
                    job.failed(if busy {
                        AppError::client(ProblemCode::NotReady, "The database is busy right now; retry in a moment.")
                    } else {
                        AppError::internal("the transaction could not be committed")
                    });
                }
            }
        }
    }
}

/// Runs every write in one transaction without savepoints. `Ok(None)`: all succeeded and are
/// committed. `Ok(Some(index))`: the write at `index` failed; nothing is kept, and only that
/// write keeps its outcome (its error). `Err`: the transaction itself failed.
fn commit_together(conn: &mut Conn, clock: &WriteClock, batch: &mut [Box<dyn Job>]) -> Result<Option<usize>, AppError> {
    let mut failed = None;
    let outcome = conn::write_transaction(conn, |conn| -> Result<(), AppError> {
        clock.claim(conn)?;
        for (index, job) in batch.iter_mut().enumerate() {
            if !job.run(conn, clock.next()) {
                failed = Some(index);
                return Err(AppError::internal("a write in the batch failed"));
            }
        }
        clock.store(conn)?;
        Ok(sync_search(conn)?)
    });
    match (outcome, failed) {
        (Ok(()), _) => Ok(None),
        (Err(_), Some(index)) => {
            for (other, job) in batch.iter_mut().enumerate() {
                if other != index {
                    job.forget();
                }
            }
            Ok(Some(index))
        }
        (Err(error), None) => Err(error),
    }
}

/// Runs every write of `batch` again, each in its own savepoint, in one transaction.
fn commit_apart(conn: &mut Conn, clock: &WriteClock, batch: &mut [Box<dyn Job>]) -> Result<(), AppError> {
    conn::write_transaction(conn, |conn| -> Result<(), AppError> {
        clock.claim(conn)?;
        for job in batch.iter_mut() {
            job.forget();
            let now = clock.next();
            // A nested transaction is a savepoint: a failure rolls back this write alone.
            let _ = conn.transaction(|conn| {
                if job.run(conn, now) { Ok(()) } else { Err(diesel::result::Error::RollbackTransaction) }
            });
        }
        clock.store(conn)?;
        Ok(sync_search(conn)?)
    })
}
