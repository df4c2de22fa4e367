//! Entity tags and conditional requests (RFC 9110 §8.8.3, §13).

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap};
use sha2::{Digest, Sha256};

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

    /// Strong comparison against the record's current tag: a weak tag never matches.
    pub fn allows(&self, current: &str) -> bool {
        match &self.0 {
            None | Some(None) => true,
            Some(Some(tags)) => tags.iter().any(|tag| tag == current),
        }
    }
}
