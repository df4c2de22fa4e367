//! The write generation: the one number every cache of derived data is checked against.
//!
//! It is even while the writer is idle and odd while it commits a batch (from before `BEGIN` to
//! after `COMMIT`); each batch moves it by two. Something derived from the data (a count, a
//! rendered page, an ETag) is valid for the generation read *before* reading that data: while the
//! generation is unchanged, no write has begun to commit since.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct WriteGeneration(Arc<AtomicU64>);

impl WriteGeneration {
    /// The current generation, or `None` while a batch is being committed: what is read then may
    /// already show it or not yet, so it must not be kept (else one reader could be served the new
    /// data and the next one the old).
    pub fn current(&self) -> Option<u64> {
        let generation = self.0.load(Ordering::SeqCst);
        generation.is_multiple_of(2).then_some(generation)
    }

    /// Marks a batch as committing until the returned guard is dropped. The writer drops it after
    /// the commit and before any reply, so that a client that hears of its write never reads a
    /// page kept from before it; dropping it on any exit, unwinding included, keeps the
    /// generation even once the writer is idle.
    pub fn begin_batch(&self) -> Batch<'_> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Batch(self)
    }
}

/// A batch of writes being committed; ends when dropped.
pub struct Batch<'a>(&'a WriteGeneration);

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.0.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// On PostgreSQL, how long a write generation read from the database may be used without reading
/// it again, and how long after its commit every write is acknowledged.
///
/// Together they keep "a write acknowledged by one instance is seen by every read that any
/// instance begins afterwards" without a query per read. A write that committed at `C` is
/// acknowledged at `A >= C + ACKNOWLEDGE_AFTER` (measured by its instance after COMMIT returned). A
/// read that begins at `R > A` uses a generation whose reading began at `S > R - LEASE`. With
/// `LEASE == ACKNOWLEDGE_AFTER`, `S > A - LEASE >= C`: the reading began after the commit, so the
/// generation it found is the write's or a later one, and nothing kept from before is served. Only
/// durations are compared, each on one machine's monotonic clock; clocks need not agree.
pub const LEASE: Duration = Duration::from_millis(5);

/// The delay between a write's commit and its acknowledgement on PostgreSQL (`LEASE`).
pub const ACKNOWLEDGE_AFTER: Duration = LEASE;

/// The last write generation read from the database, and when that reading began.
#[derive(Clone, Default)]
pub struct Lease(Arc<Mutex<Option<(u64, Instant)>>>);

impl Lease {
    /// The generation, if its reading began less than `LEASE` ago.
    pub fn current(&self) -> Option<u64> {
        let held = *self.0.lock().ok()?;
        held.filter(|(_, began)| began.elapsed() < LEASE).map(|(generation, _)| generation)
    }

    /// Keeps `generation`, read by a reading that began at `began`, unless a later reading is kept.
    pub fn renew(&self, generation: u64, began: Instant) {
        if let Ok(mut held) = self.0.lock()
            && held.is_none_or(|(_, kept)| kept < began)
        {
            *held = Some((generation, began));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_current_while_a_batch_commits_and_each_batch_moves_on() {
        let generation = WriteGeneration::default();
        let before = generation.current();
        assert_eq!(before, Some(0));
        let batch = generation.begin_batch();
        assert_eq!(generation.current(), None);
        drop(batch);
        let after = generation.current();
        assert!(after.is_some() && after != before);
    }

    #[test]
    fn a_lease_lasts_lease_from_when_its_reading_began_and_a_later_reading_wins() {
        let lease = Lease::default();
        assert_eq!(lease.current(), None);
        let began = Instant::now();
        lease.renew(7, began);
        assert_eq!(lease.current(), Some(7));
        // An earlier reading that finishes later does not replace it.
        lease.renew(6, began - Duration::from_millis(1));
        assert_eq!(lease.current(), Some(7));
        std::thread::sleep(LEASE);
        assert_eq!(lease.current(), None, "expired LEASE after its reading began");
        lease.renew(8, Instant::now());
        assert_eq!(lease.current(), Some(8));
    }
}
