//! Entity tags and conditional requests (RFC 9110 §8.8.3, §13).

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap};
use sha2::{Digest, Sha256};

/// Public reads may be stored by browsers and shared caches, but must be revalidated each time:
/// the data changes at any moment, and with the ETag a revalidation costs a 304 without a body.
pub const REVALIDATE: &str = "public, no-cache";

/// The strong entity tag of a representation: a digest of its exact bytes, so it changes exactly
/// when the bytes do.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    tag
}

/// The entity tags listed in a header, or `None` for `*`.
fn listed_tags(headers: &HeaderMap, name: header::HeaderName) -> Option<Option<Vec<String>>> {
    let mut tags = Vec::new();
    let mut present = false;
    for value in headers.get_all(name) {
        present = true;
        let Ok(text) = value.to_str() else { continue };
        for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Some(None);
            }
            tags.push(tag.to_owned());
        }
    }
    present.then_some(Some(tags))
}

/// `If-None-Match` with weak comparison: whether the client's copy is current (answer 304).
pub fn none_match_hits(request: &HttpRequest, current: &str) -> bool {
    match listed_tags(request.headers(), header::IF_NONE_MATCH) {
        None => false,
        Some(None) => true,
        Some(Some(tags)) => {
            let opaque = current.trim_start_matches("W/");
            tags.iter().any(|tag| tag.trim_start_matches("W/") == opaque)
        }
    }
}

/// The `If-Match` precondition of a write, read from the request before the record is loaded.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Option<Vec<String>>>);

impl IfMatch {
    pub fn from_request(request: &HttpRequest) -> IfMatch {
        IfMatch(listed_tags(request.headers(), header::IF_MATCH))
    }

    /// Whether it names entity tags (rather than being absent or `*`): only then does the
    /// record's current tag matter.
    pub fn names_tags(&self) -> bool {
        matches!(self.0, Some(Some(_)))
    }

    /// Strong comparison against the record's current tag: a weak tag never matches.
    pub fn allows(&self, current: &str) -> bool {
        match &self.0 {
            None | Some(None) => true,
            Some(Some(tags)) => tags.iter().any(|tag| tag == current),
        }
    }
}

/// Whether the request is conditional on `If-None-Match` at all.
pub fn has_if_none_match(request: &HttpRequest) -> bool {
    request.headers().contains_key(header::IF_NONE_MATCH)
}

/// The ETag of the representation last served for each record, with its version (`updated_at`),
/// so that a conditional GET can be answered 304 without loading and serialising the record: from
/// a one-column lookup of the version, or from memory alone when no write has committed since that
/// version was read (the write generation, `Db::generation`, is unchanged).
#[derive(Default)]
pub struct EtagCache {
    entries: std::sync::Mutex<std::collections::HashMap<(&'static str, i64), Served>>,
}

struct Served {
    version: i64,
    etag: String,
    /// The write generation in which `version` was last read as the record's current one, if
    /// it was read outside a commit.
    confirmed: Option<u64>,
}

/// Records kept at most; past that the cache starts over (a miss only costs the full read).
const ETAG_CACHE_CAPACITY: usize = 50_000;

impl EtagCache {
    /// The ETag of record `id` if it is known to be current in write generation `generation`.
    pub fn current(&self, kind: &'static str, id: i64, generation: u64) -> Option<String> {
        let entries = self.entries.lock().ok()?;
        entries.get(&(kind, id)).filter(|served| served.confirmed == Some(generation)).map(|served| served.etag.clone())
    }

    /// The ETag served for `version` of record `id`, if that is the version last served; it is
    /// then known to be current in `generation`, read before `version` was.
    pub fn at_version(&self, kind: &'static str, id: i64, version: i64, generation: Option<u64>) -> Option<String> {
        let mut entries = self.entries.lock().ok()?;
        let served = entries.get_mut(&(kind, id)).filter(|served| served.version == version)?;
        served.confirmed = generation;
        Some(served.etag.clone())
    }

    /// Remembers the ETag of record `id` as served at `updated_at` (its wire form), read in
    /// write generation `generation` (taken before the read).
    pub fn remember(&self, kind: &'static str, id: i64, updated_at: &str, etag: &str, generation: Option<u64>) {
        let Ok(version) = crate::base::clock::parse_instant(updated_at) else { return };
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= ETAG_CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert((kind, id), Served { version, etag: etag.to_owned(), confirmed: generation });
        }
    }
}
