//! What every request can reach: the database, the caches, the limits. Handlers take it; the
//! HTTP toolkit never does: it gets the parts it needs (`AppState::app_data`) as app data.

use std::sync::Arc;

use actix_web::web;
use futures_util::future::LocalBoxFuture;

use crate::base::error::AppError;
use crate::db::Db;
use crate::db::readiness::Readiness;
use crate::domain::event_requests::store::STATUS_PATH;
use crate::domain::tokens::{self, Scope};
use crate::http::CorsOrigins;
use crate::http::auth::{self, Grant, TokenStore};
use crate::http::cache::Caches;
use crate::http::encoding::CompressedCache;
use crate::http::middleware::SecretPaths;
use crate::http::rate_limit::{RateLimitConfig, RateLimiter, SubmissionLimit};

/// What every request can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cors_origins: CorsOrigins,
    /// Every cache (`http::cache::Caches`): renderings, ETags, compressed bodies, table counts.
    pub caches: Arc<Caches>,
    /// Every client's rate-limit buckets.
    pub rate_limiter: Arc<RateLimiter>,
    /// Each client IP's allowance of public event request submissions.
    pub submissions: Arc<SubmissionLimit>,
    /// The last readiness probe's outcome, reused for a second.
    pub readiness: Arc<Readiness>,
}

impl AppState {
    /// The state with rate limiting off; `serve` turns it on with `with_rate_limits`.
    pub fn new(db: Db, cors_origins: CorsOrigins) -> AppState {
        AppState {
            db,
            cors_origins,
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

    /// Registers the state for the handlers, and the parts the HTTP toolkit's middleware and
    /// extractors read: the rate limiter, the token store, the compressed bodies, and the paths
    /// whose secret segment logs never show.
    pub fn app_data(&self, config: &mut web::ServiceConfig) {
        let token_store: Arc<dyn TokenStore> = Arc::new(self.clone());
        config
            .app_data(web::Data::new(self.clone()))
            .app_data(web::Data::from(self.rate_limiter.clone()))
            .app_data(web::Data::from(token_store))
            .app_data(web::Data::<CompressedCache>::from(self.caches.compressed.clone()))
            .app_data(web::Data::new(SecretPaths(&[STATUS_PATH])));
    }
}

impl TokenStore for AppState {
    fn grant(&self, hash: String) -> LocalBoxFuture<'static, Result<Option<Grant>, AppError>> {
        let db = self.db.clone();
        Box::pin(async move {
            let token = db.read(move |conn| tokens::find_by_hash(conn, &hash)).await?;
            Ok(token.map(|token| Grant {
                token_id: token.id,
                token_name: token.name,
                scopes: token.scopes.iter().fold(0, |bits, scope| {
                    bits | match scope {
                        Scope::Content => auth::CONTENT,
                        Scope::Requests => auth::REQUESTS,
                    }
                }),
            }))
        })
    }
}
