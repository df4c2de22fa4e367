//! Rendered calendar feeds, reused until the data changes or the default window moves on.
//!
//! A feed holds up to 1,000 events: rendering and hashing it on every poll of every subscriber
//! would cost far more than the feed is worth, and the same few URLs are polled again and again.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::web::Bytes;

use crate::clock::Micros;

/// Distinct feed URLs kept at once; past this the oldest rendering is dropped.
const CAPACITY: usize = 32;
/// The default window moves with the clock; a rendering is reused within the same minute.
const WINDOW_STEP: Micros = 60 * 1_000_000;

#[derive(Default)]
pub struct FeedCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Held while rendering, so that when a rendering goes stale (a write, the next minute) the
    /// subscribers polling at that moment wait for one new rendering instead of each making one.
    pub rendering: tokio::sync::Mutex<()>,
}

struct Entry {
    generation: u64,
    step: Micros,
    body: Bytes,
    etag: String,
}

impl FeedCache {
    /// The rendering of the feed at `url`, if it was made from the same data in the same minute.
    pub fn get(&self, url: &str, generation: u64, now: Micros) -> Option<(Bytes, String)> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(url)?;
        (entry.generation == generation && entry.step == now / WINDOW_STEP)
            .then(|| (entry.body.clone(), entry.etag.clone()))
    }

    pub fn put(&self, url: String, generation: u64, now: Micros, body: Bytes, etag: String) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= CAPACITY && !entries.contains_key(&url) {
            let oldest = entries.iter().min_by_key(|(_, e)| (e.step, e.generation)).map(|(url, _)| url.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(url, Entry { generation, step: now / WINDOW_STEP, body, etag });
    }
}
