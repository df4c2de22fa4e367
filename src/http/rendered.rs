//! Rendered responses (list pages, calendar feeds), reused until the data changes.
//!
//! The same few URLs are asked for again and again (a site's first pages, its search box's
//! popular terms, subscribed calendars), and between two writes their answer cannot change. A
//! broad `q` costs milliseconds of full-text matching, counting and sorting; serving the bytes
//! rendered for the previous asker costs microseconds.
//!
//! An entry is valid only for the write generation it was rendered from (`Db::generation`,
//! read *before* the database): a write committed while rendering makes the entry stale at once,
//! and every write's reply is sent after the generation moved, so a client never reads a page
//! older than its own acknowledged write.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;

use crate::http::conditional::{self, REVALIDATE};

/// What a rendering was made from: the write generation, and for renderings that also depend on
/// the clock (a calendar's default window), the clock's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub generation: u64,
    pub step: i64,
}

/// One rendered `200` response: its bytes, their ETag, and the headers that go with them.
#[derive(Clone)]
pub struct Rendered {
    pub content_type: &'static str,
    pub body: Bytes,
    pub etag: String,
    pub link: Option<String>,
}

impl Rendered {
    /// `200` with the body, or `304` when `If-None-Match` names its ETag; both revalidate, and
    /// both carry the `Link` header: it describes the resource, not this copy of it.
    pub fn respond(self, request: &HttpRequest) -> HttpResponse {
        let not_modified = conditional::none_match_hits(request, &self.etag);
        let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
        response.insert_header((header::ETAG, self.etag)).insert_header((header::CACHE_CONTROL, REVALIDATE));
        if let Some(link) = self.link {
            response.insert_header((header::LINK, link));
        }
        if not_modified {
            return response.finish();
        }
        response.content_type(self.content_type).body(self.body)
    }
}

/// Bytes of renderings kept at once, keys and bookkeeping included. Enough for hundreds of list
/// pages and a few full calendar feeds; small next to the database's own page cache.
pub const BUDGET_BYTES: usize = 6 * 1024 * 1024;
/// Renderings kept at once, however small: a flood of distinct URLs (any `q`, any `offset`)
/// evicts, it does not grow the cache.
pub const MAX_ENTRIES: usize = 4_096;
/// What an entry costs beyond its key and rendering: the map's and the queue's slots, the stamp.
const ENTRY_OVERHEAD: usize = 160;

/// Renderings by request target (path and query string), evicted oldest first.
#[derive(Default)]
pub struct RenderedCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_target: HashMap<String, Entry>,
    /// Targets in the order they were stored, with the sequence number of that store: an entry
    /// stored again later is found under its newer number, and the older one is skipped.
    order: VecDeque<(u64, String)>,
    next_sequence: u64,
    /// The newest write generation seen; entries of older ones can never be served again.
    generation: u64,
    bytes: usize,
}

struct Entry {
    stamp: Stamp,
    rendered: Rendered,
    sequence: u64,
    size: usize,
}

impl Entries {
    fn remove(&mut self, target: &str) {
        if let Some(old) = self.by_target.remove(target) {
            self.bytes -= old.size;
        }
    }

    /// Drops the places in `order` whose entry is gone or was stored again since.
    fn compact_order(&mut self) {
        let Entries { order, by_target, .. } = self;
        order.retain(|(sequence, target)| by_target.get(target).is_some_and(|entry| entry.sequence == *sequence));
    }

    fn evict_oldest(&mut self) -> bool {
        while let Some((sequence, target)) = self.order.pop_front() {
            if self.by_target.get(&target).is_some_and(|entry| entry.sequence == sequence) {
                self.remove(&target);
                return true;
            }
        }
        false
    }
}

impl RenderedCache {
    /// The rendering of `target` made at `stamp`, if there is one.
    pub fn get(&self, target: &str, stamp: Stamp) -> Option<Rendered> {
        let entries = self.inner.lock().ok()?;
        let entry = entries.by_target.get(target)?;
        (entry.stamp == stamp).then(|| entry.rendered.clone())
    }

    /// Keeps `rendered` for `target`, made at `stamp`, within the budget.
    pub fn put(&self, target: String, stamp: Stamp, rendered: Rendered) {
        let size = target.len()
            + rendered.body.len()
            + rendered.etag.len()
            + rendered.link.as_ref().map_or(0, String::len)
            + ENTRY_OVERHEAD;
        if size > BUDGET_BYTES {
            return;
        }
        let Ok(mut entries) = self.inner.lock() else { return };
        if stamp.generation < entries.generation {
            return;
        }
        if stamp.generation > entries.generation {
            entries.generation = stamp.generation;
            let Entries { by_target, bytes, .. } = &mut *entries;
            by_target.retain(|_, entry| {
                let current = entry.stamp.generation == stamp.generation;
                if !current {
                    *bytes -= entry.size;
                }
                current
            });
            entries.compact_order();
        }
        entries.remove(&target);
        while entries.bytes + size > BUDGET_BYTES || entries.by_target.len() >= MAX_ENTRIES {
            if !entries.evict_oldest() {
                break;
            }
        }
        if entries.order.len() > 2 * entries.by_target.len() + 64 {
            // Targets stored again (a feed each minute) leave their older places behind.
            entries.compact_order();
        }
        let sequence = entries.next_sequence;
        entries.next_sequence += 1;
        entries.bytes += size;
        entries.order.push_back((sequence, target.clone()));
        entries.by_target.insert(target, Entry { stamp, rendered, sequence, size });
    }
}

/// Renderings in progress, one per key: a caller that finds one waits for it to finish (and then
/// finds its result in the cache) instead of doing the same work at the same time.
#[derive(Default)]
pub struct Flights {
    in_flight: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while rendering `key`; dropping it lets the next caller for that key go.
pub struct Flight<'a> {
    flights: &'a Flights,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Flights {
    pub async fn enter(&self, key: &str) -> Flight<'_> {
        let lock = match self.in_flight.lock() {
            Ok(mut in_flight) => in_flight.entry(key.to_owned()).or_default().clone(),
            // A poisoned map only loses the sharing, not the rendering.
            Err(_) => std::sync::Arc::default(),
        };
        let guard = lock.lock_owned().await;
        Flight { flights: self, key: key.to_owned(), guard: Some(guard) }
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let Ok(mut in_flight) = self.flights.in_flight.lock() else { return };
        drop(self.guard.take());
        // The map holds one reference; any other belongs to a caller still waiting for this key.
        if in_flight.get(&self.key).is_some_and(|lock| std::sync::Arc::strong_count(lock) == 1) {
            in_flight.remove(&self.key);
        }
    }
}

/// The cache key of a request: its path and query string as sent.
pub fn target_of(request: &HttpRequest) -> String {
    let (path, query) = (request.path(), request.query_string());
    let mut target = String::with_capacity(path.len() + 1 + query.len());
    target.push_str(path);
    target.push('?');
    target.push_str(query);
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(len: usize) -> Rendered {
        Rendered {
            content_type: "application/json",
            body: Bytes::from(vec![b'x'; len]),
            etag: String::new(),
            link: None,
        }
    }

    const NOW: Stamp = Stamp { generation: 2, step: 0 };
    const BEFORE: Stamp = Stamp { generation: 0, step: 0 };

    fn bytes(cache: &RenderedCache) -> usize {
        cache.inner.lock().map(|entries| entries.bytes).unwrap_or(usize::MAX)
    }

    #[test]
    fn an_entry_serves_only_its_own_stamp() {
        let cache = RenderedCache::default();
        cache.put("/a?".to_owned(), BEFORE, rendered(10));
        assert!(cache.get("/a?", BEFORE).is_some());
        assert!(cache.get("/a?", NOW).is_none());
        assert!(cache.get("/a?", Stamp { generation: 0, step: 1 }).is_none());
        assert!(cache.get("/b?", BEFORE).is_none());
    }

    #[test]
    fn a_newer_generation_drops_older_entries_and_an_older_one_is_not_kept() {
        let cache = RenderedCache::default();
        cache.put("/old?".to_owned(), BEFORE, rendered(10));
        cache.put("/new?".to_owned(), NOW, rendered(10));
        assert!(cache.get("/old?", BEFORE).is_none(), "dropped when a newer generation arrived");
        cache.put("/late?".to_owned(), BEFORE, rendered(10));
        assert!(cache.get("/late?", BEFORE).is_none(), "rendered from data older than what is kept");
        assert!(cache.get("/new?", NOW).is_some());
        assert_eq!(bytes(&cache), "/new?".len() + 10 + ENTRY_OVERHEAD);
    }

    #[test]
    fn the_oldest_go_first_and_neither_budget_is_exceeded() {
        let cache = RenderedCache::default();
        let third = BUDGET_BYTES / 3;
        for name in ["/1?", "/2?", "/3?"] {
            cache.put(name.to_owned(), NOW, rendered(third - 200));
        }
        cache.put("/2?".to_owned(), NOW, rendered(third - 200));
        cache.put("/4?".to_owned(), NOW, rendered(third - 200));
        assert!(cache.get("/1?", NOW).is_none(), "the oldest went first");
        assert!(cache.get("/2?", NOW).is_some() && cache.get("/3?", NOW).is_some() && cache.get("/4?", NOW).is_some());
        assert!(bytes(&cache) <= BUDGET_BYTES);

        let many = RenderedCache::default();
        for n in 0..MAX_ENTRIES + 10 {
            many.put(format!("/n?q={n}"), NOW, rendered(1));
        }
        let kept = many.inner.lock().map(|entries| (entries.by_target.len(), entries.order.len())).unwrap_or_default();
        assert_eq!(kept.0, MAX_ENTRIES);
        assert!(kept.1 <= 2 * MAX_ENTRIES + 64);
        assert!(many.get("/n?q=0", NOW).is_none());
        assert!(many.get(&format!("/n?q={}", MAX_ENTRIES + 9), NOW).is_some());
    }

    #[test]
    fn a_rendering_larger_than_the_budget_is_not_kept() {
        let cache = RenderedCache::default();
        cache.put("/huge?".to_owned(), NOW, rendered(BUDGET_BYTES + 1));
        assert!(cache.get("/huge?", NOW).is_none());
        assert_eq!(bytes(&cache), 0);
    }
}

#[cfg(test)]
mod flight_tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::Flights;

    #[actix_web::test]
    async fn one_rendering_per_key_at_a_time_and_other_keys_go_on() {
        let flights = Arc::new(Flights::default());
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for n in 0..6 {
            let (flights, busy, most) = (Arc::clone(&flights), Arc::clone(&busy), Arc::clone(&most));
            tasks.push(actix_web::rt::spawn(async move {
                let key = if n < 4 { "/api/v1/events.ics?a" } else { "/api/v1/events.ics?b" };
                let _flight = flights.enter(key).await;
                if n < 4 {
                    let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                    busy.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        for task in tasks {
            assert!(task.await.is_ok());
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "renderings of one URL overlapped");
        assert!(flights.in_flight.lock().is_ok_and(|map| map.is_empty()), "finished flights are forgotten");
    }
}
