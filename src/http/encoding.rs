//! Response compression (`br`, `gzip`) with entity tags per content coding.
//!
//! RFC 9110 §8.8.3: a strong ETag names one representation, and a compressed one is another
//! representation, so it gets its own tag: the identity tag with `-br` or `-gzip` inside the
//! quotes. Handlers only ever see identity tags: the suffix is taken off `If-None-Match` and
//! `If-Match` before routing, so a client revalidates (or writes) with whichever tag it was given.
//!
//! Compressing costs far more than serving a cached page, so compressed bytes are kept by the
//! identity tag they encode (a digest of the identity bytes): a page served from the rendered
//! cache, a record or the documentation's assets are compressed once per content and coding.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Mutex;

use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::web::{self, Bytes};

use crate::base::error::AppError;

/// Bodies smaller than this go out as they are: compression would save little and cost a
/// buffer and a header.
pub const MIN_COMPRESSED_BYTES: usize = 1024;
/// Brotli's quality for everything: near gzip's speed, a tenth smaller (qualities above 6 are
/// many times slower for a few per cent).
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW_BITS: u32 = 22;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        }
    }

    /// The suffix this coding adds inside an entity tag's quotes.
    fn tag_suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Gzip => "-gzip",
            Encoding::Brotli => "-br",
        }
    }
}

/// The coding to answer with, from `Accept-Encoding` (RFC 9110 §12.5.3): the acceptable one with
/// the highest q-value, `br` before `gzip` on a tie; identity when neither is acceptable.
pub fn negotiate(headers: &HeaderMap) -> Encoding {
    let mut brotli: Option<f32> = None;
    let mut gzip: Option<f32> = None;
    let mut any: Option<f32> = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for entry in text.split(',') {
            let mut parts = entry.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let mut quality = 1.0_f32;
            for parameter in parts {
                if let Some((name, value)) = parameter.split_once('=')
                    && name.trim().eq_ignore_ascii_case("q")
                {
                    quality = value.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0);
                }
            }
            match coding.as_str() {
                "br" => brotli = Some(quality),
                "gzip" | "x-gzip" => gzip = Some(quality),
                "*" => any = Some(quality),
                _ => {}
            }
        }
    }
    let brotli = brotli.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if brotli > 0.0 && brotli >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// The tag of `identity_tag`'s representation in `encoding`.
pub fn tag_for(identity_tag: &str, encoding: Encoding) -> String {
    match identity_tag.strip_suffix('"') {
        Some(opaque) if encoding != Encoding::Identity => format!("{opaque}{}\"", encoding.tag_suffix()),
        _ => identity_tag.to_owned(),
    }
}

/// A tag as a client sent it, split into the identity tag and the coding it named.
fn identity_of(tag: &str) -> (String, Encoding) {
    for encoding in [Encoding::Brotli, Encoding::Gzip] {
        let suffix = format!("{}\"", encoding.tag_suffix());
        if let Some(opaque) = tag.strip_suffix(&suffix) {
            return (format!("{opaque}\""), encoding);
        }
    }
    (tag.to_owned(), Encoding::Identity)
}

/// Rewrites the tags of a conditional header to identity tags; returns the codings they named.
fn strip_codings(headers: &mut HeaderMap, name: header::HeaderName) -> Vec<Encoding> {
    // Most conditional requests carry identity tags: leave those headers as they are.
    let names_a_coding = headers.get_all(&name).any(|value| {
        let bytes = value.as_bytes();
        [b"-br\"".as_slice(), b"-gzip\"".as_slice()]
            .iter()
            .any(|suffix| bytes.windows(suffix.len()).any(|window| window == *suffix))
    });
    if !names_a_coding {
        return Vec::new();
    }
    let values: Vec<String> =
        headers.get_all(&name).filter_map(|value| value.to_str().ok()).map(str::to_owned).collect();
    if values.is_empty() {
        return Vec::new();
    }
    let mut codings = Vec::new();
    let mut tags = Vec::new();
    for tag in values.iter().flat_map(|value| value.split(',')).map(str::trim).filter(|tag| !tag.is_empty()) {
        let (identity, coding) = identity_of(tag);
        codings.push(coding);
        tags.push(identity);
    }
    if let Ok(value) = HeaderValue::from_str(&tags.join(", ")) {
        headers.insert(name, value);
    }
    codings
}

/// Compressed bodies by (identity tag, coding), oldest evicted first, within a byte budget.
#[derive(Default)]
pub struct CompressedCache {
    inner: Mutex<Compressed>,
}

#[derive(Default)]
struct Compressed {
    entries: HashMap<(String, Encoding), Bytes>,
    order: VecDeque<(String, Encoding)>,
    bytes: usize,
}

/// What compressed bodies may take at once: the documentation bundle and the pages in use.
const CACHE_BUDGET_BYTES: usize = 8 * 1024 * 1024;
const CACHE_MAX_ENTRIES: usize = 4_096;

impl CompressedCache {
    fn get(&self, tag: &str, encoding: Encoding) -> Option<Bytes> {
        let inner = self.inner.lock().ok()?;
        inner.entries.get(&(tag.to_owned(), encoding)).cloned()
    }

    fn put(&self, tag: String, encoding: Encoding, body: Bytes) {
        let size = body.len() + tag.len();
        if size > CACHE_BUDGET_BYTES {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        let key = (tag, encoding);
        if inner.entries.contains_key(&key) {
            return;
        }
        while inner.bytes + size > CACHE_BUDGET_BYTES || inner.entries.len() >= CACHE_MAX_ENTRIES {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(evicted) = inner.entries.remove(&oldest) {
                inner.bytes -= evicted.len() + oldest.0.len();
            }
        }
        inner.bytes += size;
        inner.order.push_back(key.clone());
        inner.entries.insert(key, body);
    }
}

/// `body` in `encoding`.
pub fn compress(body: &[u8], encoding: Encoding) -> std::io::Result<Vec<u8>> {
    match encoding {
        Encoding::Identity => Ok(body.to_vec()),
        Encoding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body)?;
            encoder.finish()
        }
        Encoding::Brotli => {
            let mut output = Vec::with_capacity(body.len() / 4);
            {
                let mut encoder = brotli::CompressorWriter::new(&mut output, 4096, BROTLI_QUALITY, BROTLI_WINDOW_BITS);
                encoder.write_all(body)?;
                encoder.flush()?;
            }
            Ok(output)
        }
    }
}

/// Text formats worth compressing; images and already-compressed formats are not.
fn is_compressible(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("json")
        || essence.ends_with("+json")
        || essence == "application/javascript"
        || essence == "image/svg+xml"
}

/// What the request asked of the response's coding, read (and its conditional headers turned
/// into identity tags) before the request is handled.
pub struct Negotiated {
    encoding: Encoding,
    /// The codings named by the tags of `If-None-Match`.
    revalidated_with: Vec<Encoding>,
}

impl Negotiated {
    pub fn of(request: &mut ServiceRequest) -> Negotiated {
        let encoding = negotiate(request.headers());
        let revalidated_with = strip_codings(request.headers_mut(), header::IF_NONE_MATCH);
        strip_codings(request.headers_mut(), header::IF_MATCH);
        Negotiated { encoding, revalidated_with }
    }

    /// The response in the negotiated coding, with `Vary: Accept-Encoding` and its ETag for that
    /// coding. `cache` keeps compressed bodies by identity tag.
    /// Fails only if the body cannot be read back, which a buffered body cannot.
    pub async fn encode(
        self,
        mut response: HttpResponse,
        cache: Option<&CompressedCache>,
    ) -> Result<HttpResponse, AppError> {
        let Negotiated { encoding, revalidated_with } = self;
        response.headers_mut().append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            // The client named the tag of the coding it would be sent now: confirm that tag.
            if encoding != Encoding::Identity && revalidated_with.contains(&encoding) {
                retag(response.headers_mut(), encoding);
            }
            return Ok(response);
        }
        let eligible = encoding != Encoding::Identity
            && !status.is_informational()
            && status != StatusCode::NO_CONTENT
            && !response.headers().contains_key(header::CONTENT_ENCODING)
            && is_compressible(response.headers());
        if !eligible {
            return Ok(response);
        }
        let (head, body) = response.into_parts();
        // The bodies here are whole byte buffers already: this moves them, it does not copy.
        let bytes = actix_web::body::to_bytes(body)
            .await
            .map_err(|_| AppError::internal("the response body could not be read for compression"))?;
        let mut response = head.set_body(BoxBody::new(bytes.clone()));
        if bytes.len() < MIN_COMPRESSED_BYTES {
            return Ok(response);
        }
        let identity_tag = response
            .headers()
            .get(header::ETAG)
            .and_then(|value| value.to_str().ok())
            .filter(|tag| !tag.starts_with("W/"))
            .map(str::to_owned);
        let cached = identity_tag.as_ref().zip(cache).and_then(|(tag, cache)| cache.get(tag, encoding));
        let compressed = match cached {
            Some(compressed) => compressed,
            None => match web::block(move || compress(&bytes, encoding)).await {
                Ok(Ok(compressed)) => {
                    let compressed = Bytes::from(compressed);
                    if let (Some(tag), Some(cache)) = (&identity_tag, cache) {
                        cache.put(tag.clone(), encoding, compressed.clone());
                    }
                    compressed
                }
                // Sent as it is rather than failed: compression is an optimisation.
                _ => return Ok(response),
            },
        };
        retag(response.headers_mut(), encoding);
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.token()));
        response.headers_mut().remove(header::CONTENT_LENGTH);
        // HEAD too: it gets the headers of the compressed GET, its length included; actix then
        // sends no body.
        Ok(response.set_body(BoxBody::new(compressed)))
    }
}

fn retag(headers: &mut HeaderMap, encoding: Encoding) {
    let tagged = headers
        .get(header::ETAG)
        .and_then(|value| value.to_str().ok())
        .filter(|tag| !tag.starts_with("W/"))
        .map(|tag| tag_for(tag, encoding))
        .and_then(|tag| HeaderValue::from_str(&tag).ok());
    if let Some(tagged) = tagged {
        headers.insert(header::ETAG, tagged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::ACCEPT_ENCODING, value);
        }
        negotiate(&headers)
    }

    #[test]
    fn the_best_acceptable_coding_is_chosen() {
        assert_eq!(accepting("gzip, deflate, br"), Encoding::Brotli);
        assert_eq!(accepting("gzip"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0.5, gzip;q=0.8"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(accepting("*"), Encoding::Brotli);
        assert_eq!(accepting("*;q=0.1, br;q=0"), Encoding::Gzip);
        assert_eq!(accepting("identity"), Encoding::Identity);
        assert_eq!(accepting(""), Encoding::Identity);
    }

    #[test]
    fn coded_tags_differ_and_map_back_to_the_identity_tag() {
        let tag = "\"0123abcd\"";
        assert_eq!(tag_for(tag, Encoding::Brotli), "\"0123abcd-br\"");
        assert_eq!(tag_for(tag, Encoding::Gzip), "\"0123abcd-gzip\"");
        assert_eq!(identity_of("\"0123abcd-br\""), (tag.to_owned(), Encoding::Brotli));
        assert_eq!(identity_of("W/\"0123abcd-gzip\""), ("W/\"0123abcd\"".to_owned(), Encoding::Gzip));
        assert_eq!(identity_of(tag), (tag.to_owned(), Encoding::Identity));
    }

    #[test]
    fn compressed_bodies_decompress_to_the_original() {
        let body = "{\"name\":\"Internal Medicine Residency\"}".repeat(100);
        let gzip = compress(body.as_bytes(), Encoding::Gzip).unwrap_or_default();
        let mut decoded = String::new();
        let _ = std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gzip.as_slice()), &mut decoded);
        assert_eq!(decoded, body);
        let brotli = compress(body.as_bytes(), Encoding::Brotli).unwrap_or_default();
        let mut decoded = Vec::new();
        let _ = brotli::BrotliDecompress(&mut brotli.as_slice(), &mut decoded);
        assert_eq!(decoded, body.as_bytes());
        assert!(brotli.len() < body.len() / 10);
    }
}
