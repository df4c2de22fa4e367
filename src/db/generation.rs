//! The write generation: the one number every cache of derived data is checked against.
//!
//! It is even while the writer is idle and odd while it commits a batch (from before `BEGIN` to
//! after `COMMIT`); each batch moves it by two. Something derived from the data (a count, a
//! rendered page, an ETag) is valid for the generation read *before* reading that data: while the
//! generation is unchanged, no write has begun to commit since.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
}
