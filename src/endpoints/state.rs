//! What every request can reach: the database, the caches, the limits. A leaf of the crate's
//! layering: handlers, extractors and middleware take it; it takes none of them.

use std::sync::Arc;

use crate::app::config::CorsOrigins;
use crate::app::openapi;
use crate::db::Db;
use crate::http::cache::Caches;
use crate::http::rate_limit::{RateLimitConfig, RateLimiter, SubmissionLimit};
use crate::http::rendered::Rendered;
use crate::http::respond;

/// What every request can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cors_origins: CorsOrigins,
    /// The OpenAPI document, rendered once with its ETag.
    pub openapi_document: Rendered,
    /// Every cache (`cache::Caches`): renderings, ETags, compressed bodies, table counts.
    pub caches: Arc<Caches>,
    /// Every client's rate-limit buckets.
    pub rate_limiter: Arc<RateLimiter>,
    /// Each client IP's allowance of public event request submissions.
    pub submissions: Arc<SubmissionLimit>,
    /// The last readiness probe's outcome, reused for a second.
    pub readiness: Arc<crate::endpoints::health::Readiness>,
}

impl AppState {
    /// The state with rate limiting off; `serve` turns it on with `with_rate_limits`.
    pub fn new(db: Db, cors_origins: CorsOrigins) -> AppState {
        AppState {
            db,
            cors_origins,
            openapi_document: respond::document_rendering("application/json", openapi::spec_json().into_bytes()),
            caches: Arc::default(),
            rate_limiter: Arc::new(RateLimiter::new(&RateLimitConfig::off())),
            submissions: Arc::new(SubmissionLimit::per_hour(0)),
            readiness: Arc::default(),
        }
    }

    pub fn with_rate_limits(mut self, limits: &RateLimitConfig) -> AppState {
        self.rate_limiter = Arc::new(RateLimiter::new(limits));
        self.submissions = Arc::new(SubmissionLimit::per_hour(limits.submissions_per_hour));
        self
    }
}
