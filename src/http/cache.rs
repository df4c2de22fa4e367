//! Every cache of the service, in one place. Each entry is valid only for the write generation it
//! was made from (`Db::generation`, read *before* the database), and every write's reply is sent
//! after the generation moved: no cache can serve data older than a write its client heard of.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::base::error::AppError;
use crate::http::conditional::EtagCache;
use crate::http::encoding::CompressedCache;
use crate::http::rendered::{Flights, Rendered, RenderedCache, Stamp};

#[derive(Default)]
pub struct Caches {
    /// Rendered list pages and calendar feeds, by request target.
    rendered: RenderedCache,
    /// Renderings in progress, one per request target.
    flights: Flights,
    /// ETags of records served, by version, for cheap 304s.
    pub etags: EtagCache,
    /// Compressed bodies by the identity ETag they encode.
    pub compressed: Arc<CompressedCache>,
    /// The row count of each whole table, with the generation it was counted at. An unfiltered
    /// list asks for it on every page, and counting grows with the table.
    counts: Mutex<HashMap<&'static str, (u64, i64)>>,
}

impl Caches {
    /// The rendering of `target` made at `stamp`, or `render`'s, kept for the next asker. When it
    /// is missing, the callers asking for the same target at that moment wait for one rendering
    /// instead of each making one; other targets go on. Without a stamp (the generation is
    /// unknown) nothing is reused or kept.
    pub async fn get_or_render(
        &self,
        target: String,
        stamp: Option<Stamp>,
        render: impl Future<Output = Result<Rendered, AppError>>,
    ) -> Result<Rendered, AppError> {
        let Some(stamp) = stamp else { return render.await };
        if let Some(rendered) = self.rendered.get(&target, stamp) {
            return Ok(rendered);
        }
        let _flight = self.flights.enter(&target).await;
        if let Some(rendered) = self.rendered.get(&target, stamp) {
            return Ok(rendered);
        }
        let rendered = render.await?;
        self.rendered.put(target, stamp, rendered.clone());
        Ok(rendered)
    }

    /// The row count of the whole `table` counted at `generation`, or `count()`'s, kept.
    pub fn count_or(
        &self,
        table: &'static str,
        generation: Option<u64>,
        count: impl FnOnce() -> Result<i64, AppError>,
    ) -> Result<i64, AppError> {
        let Some(generation) = generation else { return count() };
        if let Ok(counts) = self.counts.lock()
            && let Some((counted_at, total)) = counts.get(table)
            && *counted_at == generation
        {
            return Ok(*total);
        }
        let total = count()?;
        if let Ok(mut counts) = self.counts.lock() {
            counts.insert(table, (generation, total));
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_reused_only_at_the_generation_it_was_counted_at() {
        let caches = Caches::default();
        assert_eq!(caches.count_or("programs", Some(1), || Ok(5)).ok(), Some(5));
        assert_eq!(caches.count_or("programs", Some(1), || Ok(6)).ok(), Some(5), "reused");
        assert_eq!(caches.count_or("programs", Some(2), || Ok(7)).ok(), Some(7), "a write happened");
        assert_eq!(caches.count_or("events", Some(2), || Ok(1)).ok(), Some(1), "per table");
        assert_eq!(caches.count_or("programs", None, || Ok(9)).ok(), Some(9), "no generation: counted");
    }
}
