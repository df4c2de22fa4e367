//! HTTP mechanics written once for every resource.

pub mod auth;
pub mod body;
pub mod cache;
pub mod conditional;
pub mod encoding;
pub mod fields;
pub mod guard;
pub mod middleware;
pub mod query;
pub mod rate_limit;
pub mod rendered;
pub mod respond;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::Serialize;

use crate::base::error::AppError;
use crate::http::conditional::IfMatch;
use crate::http::respond::Representation;

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin access (the default).
    None,
    /// Any origin (`*`).
    Any,
    /// Exactly these origins, each `scheme://host[:port]`.
    List(Vec<String>),
}

/// The `{id}` of a record path, as sent. Anything but a positive integer written as the server
/// writes it names no record: 404.
#[derive(Debug)]
pub struct RecordId(String);

impl RecordId {
    pub fn of(&self, resource: &str) -> Result<i64, AppError> {
        // One URL per record: `01` or `+1` as another name for 1 would split caches and ETags
        // between URLs and make two strings compare unequal for the same record.
        match self.0.parse::<i64>() {
            Ok(id) if id > 0 && id.to_string() == self.0 => Ok(id),
            _ => Err(AppError::not_found(resource, format!("'{}'", self.0))),
        }
    }
}

impl FromRequest for RecordId {
    type Error = AppError;
    type Future = std::future::Ready<Result<RecordId, AppError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(RecordId(request.match_info().get("id").unwrap_or_default().to_owned())))
    }
}

/// Refuses any query parameter on operations that take none: never silently ignored.
pub fn no_query(request: &HttpRequest) -> Result<(), AppError> {
    query::QueryParams::from_request(request)?.finish().map(|_| ())
}

/// RFC 9110 §13.1.1: a write with `If-Match` proceeds only if it names the current ETag.
pub fn require_match(if_match: &IfMatch, current: &impl Serialize, resource: &str) -> Result<(), AppError> {
    if if_match.allows(&Representation::of(current)?.etag) {
        Ok(())
    } else {
        Err(AppError::precondition_failed(resource))
    }
}
