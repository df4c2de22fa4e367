//! Liveness and readiness.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::base::error::{AppError, ProblemCode};
use crate::endpoints::state::AppState;

/// How long readiness may take before the database counts as unusable.
const READY_DEADLINE: Duration = Duration::from_secs(2);
/// How long a probe's outcome answers later probes: a flood of probes costs one database check a
/// second, never a queue on the write lock.
const READY_REUSE: Duration = Duration::from_secs(1);

/// The last readiness check and when it finished. The lock is held through a check, so probes
/// that arrive meanwhile wait for its outcome instead of starting their own.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl Readiness {
    async fn is_ready(&self, db: &crate::db::Db) -> bool {
        let mut last = self.last.lock().await;
        if let Some((checked_at, ready)) = *last
            && checked_at.elapsed() < READY_REUSE
        {
            return ready;
        }
        let ready = match db.check_ready(READY_DEADLINE).await {
            Ok(()) => true,
            Err(error) => {
                log::warn!("not ready: {error}");
                false
            }
        };
        *last = Some((std::time::Instant::now(), ready));
        ready
    }
}

/// The state of the service.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` in a 200.
    #[schema(example = "ok")]
    pub status: &'static str,
}

fn ok() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(Health { status: "ok" })
}

/// Liveness
///
/// `200` while the process is up and serving, whatever the state of the database.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "check_liveness",
    responses((status = 200, description = "The process is up.", body = Health)))]
pub async fn healthz(request: HttpRequest) -> Result<HttpResponse, AppError> {
    crate::http::no_query(&request)?;
    Ok(ok())
}

/// Readiness
///
/// `200` when the database can be read and a write transaction can begin within 2 seconds,
/// otherwise `503`. The answer comes from a check at most 1 second old. Load balancers should
/// route traffic only to ready instances.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "check_readiness",
    responses((status = 200, description = "The database is usable.", body = Health)))]
pub async fn readyz(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, AppError> {
    crate::http::no_query(&request)?;
    if state.readiness.is_ready(&state.db).await {
        Ok(ok())
    } else {
        Err(AppError::client(ProblemCode::NotReady, "The database cannot be used right now."))
    }
}
