//! Rendered responses (list pages, calendar feeds), reused until the data changes.
//!
//! The same few URLs are asked for again and again (a site's first pages, its search box's
//! popular terms, subscribed calendars), and between two writes their answer cannot change. A
//! broad `q` costs milliseconds of full-text matching, counting and sorting; serving the bytes
//! rendered for the previous asker costs microseconds.
//!
//! An entry is valid only for the write generation it was rendered from (`CountCache::generation`,
//! read *before* the database): a write committed while rendering makes the entry stale at once,
//! and every write's reply is sent after the generation moved, so a client never reads a page
//! older than its own acknowledged write.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;

use crate::http::conditional;
use crate::http::respond::REVALIDATE;

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

    fn size(&self) -> usize {
        self.body.len() + self.etag.len() + self.link.as_ref().map_or(0, String::len)
    }
}

/// Bytes of renderings kept at once. Enough for hundreds of list pages and a few full calendar
/// feeds; small next to the database's own page cache.
pub const BUDGET_BYTES: usize = 6 * 1024 * 1024;

/// Renderings by request target (path and query string).
#[derive(Default)]
pub struct RenderedCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_target: HashMap<String, (Stamp, Rendered)>,
    bytes: usize,
}

impl Entries {
    fn remove(&mut self, target: &str) {
        if let Some((_, old)) = self.by_target.remove(target) {
            self.bytes -= old.size();
        }
    }
}

impl RenderedCache {
    /// The rendering of `target` made at `stamp`, if there is one.
    pub fn get(&self, target: &str, stamp: Stamp) -> Option<Rendered> {
        let entries = self.inner.lock().ok()?;
        let (made_at, rendered) = entries.by_target.get(target)?;
        (*made_at == stamp).then(|| rendered.clone())
    }

    /// Keeps `rendered` for `target`. Over the budget, stale renderings go first, then any.
    pub fn put(&self, target: String, stamp: Stamp, rendered: Rendered) {
        let size = rendered.size();
        if size > BUDGET_BYTES {
            return;
        }
        let Ok(mut entries) = self.inner.lock() else { return };
        entries.remove(&target);
        if entries.bytes + size > BUDGET_BYTES {
            let stale: Vec<String> = entries
                .by_target
                .iter()
                .filter(|(_, (made_at, _))| *made_at != stamp)
                .map(|(t, _)| t.clone())
                .collect();
            for target in stale {
                entries.remove(&target);
            }
        }
        while entries.bytes + size > BUDGET_BYTES {
            let Some(victim) = entries.by_target.keys().next().cloned() else { break };
            entries.remove(&victim);
        }
        entries.bytes += size;
        entries.by_target.insert(target, (stamp, rendered));
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
    const BEFORE: Stamp = Stamp { generation: 1, step: 0 };

    #[test]
    fn an_entry_serves_only_its_own_stamp() {
        let cache = RenderedCache::default();
        cache.put("/a?".to_owned(), BEFORE, rendered(10));
        assert!(cache.get("/a?", BEFORE).is_some());
        assert!(cache.get("/a?", NOW).is_none());
        assert!(cache.get("/a?", Stamp { generation: 1, step: 1 }).is_none());
        assert!(cache.get("/b?", BEFORE).is_none());
    }

    #[test]
    fn the_budget_evicts_stale_entries_first_and_is_never_exceeded() {
        let cache = RenderedCache::default();
        let third = BUDGET_BYTES / 3;
        cache.put("/stale?".to_owned(), BEFORE, rendered(third));
        cache.put("/fresh?".to_owned(), NOW, rendered(third));
        cache.put("/new?".to_owned(), NOW, rendered(third + 10));
        assert!(cache.get("/stale?", BEFORE).is_none());
        assert!(cache.get("/fresh?", NOW).is_some());
        assert!(cache.get("/new?", NOW).is_some());
        cache.put("/newer?".to_owned(), NOW, rendered(third));
        let kept = ["/fresh?", "/new?", "/newer?"].iter().filter(|t| cache.get(t, NOW).is_some()).count();
        assert_eq!(kept, 2);
        assert!(cache.get("/newer?", NOW).is_some());
        let bytes = cache.inner.lock().map(|entries| entries.bytes).unwrap_or(usize::MAX);
        assert!(bytes <= BUDGET_BYTES);
    }

    #[test]
    fn a_rendering_larger_than_the_budget_is_not_kept() {
        let cache = RenderedCache::default();
        cache.put("/huge?".to_owned(), NOW, rendered(BUDGET_BYTES + 1));
        assert!(cache.get("/huge?", NOW).is_none());
    }
}
