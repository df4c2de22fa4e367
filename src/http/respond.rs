//! Successful responses: records with their ETag, and list pages with their Link header.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::base::error::AppError;
use crate::http::conditional::{self, REVALIDATE};
use crate::http::rendered::Rendered;

/// What PATCH accepts, advertised on every record response (RFC 5789 §3.1).
pub const ACCEPT_PATCH: &str = "application/merge-patch+json, application/json";
const ACCEPT_PATCH_HEADER: header::HeaderName = header::HeaderName::from_static("accept-patch");

/// `304` for a record whose current ETag is `etag`.
pub fn not_modified(etag: String) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .insert_header((ACCEPT_PATCH_HEADER, ACCEPT_PATCH))
        .finish()
}

/// A record serialized once, with the ETag of exactly those bytes.
pub struct Representation {
    pub body: Vec<u8>,
    pub etag: String,
}

impl Representation {
    pub fn of(value: &impl Serialize) -> Result<Representation, AppError> {
        Ok(Representation::from_bytes(serde_json::to_vec(value).map_err(AppError::internal)?))
    }

    /// A representation serialized earlier (a stored response).
    pub fn from_bytes(body: Vec<u8>) -> Representation {
        let etag = conditional::etag_of(&body);
        Representation { body, etag }
    }

    /// `200` with the record, or `304` when `If-None-Match` names its tag; both revalidate.
    pub fn read(self, request: &HttpRequest) -> HttpResponse {
        if conditional::none_match_hits(request, &self.etag) {
            return not_modified(self.etag);
        }
        let mut response = self.respond(StatusCode::OK);
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static(REVALIDATE));
        response
    }

    pub fn respond(self, status: StatusCode) -> HttpResponse {
        HttpResponse::build(status)
            .content_type(mime_json())
            .insert_header((header::ETAG, self.etag))
            .insert_header((ACCEPT_PATCH_HEADER, ACCEPT_PATCH))
            .body(self.body)
    }

    /// `201` with the record, its ETag and its `Location`.
    pub fn created(self, location: String) -> HttpResponse {
        let mut response = self.respond(StatusCode::CREATED);
        if let Ok(value) = header::HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }
}

fn mime_json() -> &'static str {
    "application/json"
}

/// Where a list page sits in the whole result.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct ListMeta {
    /// How many records match the filters, over all pages.
    #[schema(example = 42)]
    pub total: i64,
    /// The page size used.
    #[schema(example = 20)]
    pub limit: i64,
    /// How many matching records come before this page.
    #[schema(example = 0)]
    pub offset: i64,
}

#[derive(Serialize)]
struct Page<'a, T> {
    data: &'a [T],
    meta: ListMeta,
}

/// A list page rendered once: `{"data", "meta"}`, the ETag of exactly those bytes, and an RFC 8288
/// `Link` header to the next and previous pages, keeping the request's filters and sort. `pairs`
/// are the request's validated query parameters.
pub fn render_list<T: Serialize>(
    path: &str,
    pairs: &[(String, String)],
    data: &[T],
    meta: ListMeta,
) -> Result<Rendered, AppError> {
    let body = serde_json::to_vec(&Page { data, meta }).map_err(AppError::internal)?;
    let etag = conditional::etag_of(&body);
    let mut links = Vec::new();
    if meta.offset.saturating_add(meta.limit) < meta.total {
        links.push(link(path, pairs, meta.offset + meta.limit, "next"));
    }
    if meta.offset > 0 {
        // Past the end, the previous page is the last one that has records.
        let previous =
            if meta.offset >= meta.total { meta.total - meta.limit } else { meta.offset - meta.limit }.max(0);
        links.push(link(path, pairs, previous, "prev"));
    }
    let link = (!links.is_empty()).then(|| links.join(", "));
    Ok(Rendered { content_type: mime_json(), body: body.into(), etag, link })
}

fn link(path: &str, pairs: &[(String, String)], offset: i64, relation: &str) -> String {
    let mut query: Vec<(&str, String)> =
        pairs.iter().filter(|(key, _)| key != "offset").map(|(key, value)| (key.as_str(), value.clone())).collect();
    query.push(("offset", offset.to_string()));
    let encoded = serde_urlencoded::to_string(&query).unwrap_or_default();
    format!("<{path}?{encoded}>; rel=\"{relation}\"")
}

/// A non-JSON document (a calendar, a JSON-LD page) with an ETag of its bytes, `304` when
/// `If-None-Match` names it, and revalidation for caches.
pub fn document(request: &HttpRequest, content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    document_rendering(content_type, body).respond(request)
}

/// A document rendered once, to be kept (see `http::rendered`).
pub fn document_rendering(content_type: &'static str, body: Vec<u8>) -> Rendered {
    let etag = conditional::etag_of(&body);
    Rendered { content_type, body: body.into(), etag, link: None }
}

/// `204 No Content`.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_filters_and_sort_and_replace_the_offset() {
        let pairs = vec![
            ("program_type".to_owned(), "residency".to_owned()),
            ("offset".to_owned(), "20".to_owned()),
            ("sort".to_owned(), "-name,created_at".to_owned()),
        ];
        assert_eq!(
            link("/api/v1/programs", &pairs, 40, "next"),
            "</api/v1/programs?program_type=residency&sort=-name%2Ccreated_at&offset=40>; rel=\"next\""
        );
    }
}
