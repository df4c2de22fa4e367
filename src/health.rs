//! Liveness and readiness.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::{AppError, ProblemCode};

/// How long readiness may take before the database counts as unusable.
const READY_DEADLINE: Duration = Duration::from_secs(2);

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
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "get_healthz",
    responses((status = 200, description = "The process is up.", body = Health)))]
pub async fn healthz() -> HttpResponse {
    ok()
}

/// Readiness
///
/// `200` when the database can be read and a write transaction can begin within 2 seconds,
/// otherwise `503`. Load balancers should route traffic only to ready instances.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "get_readyz",
    responses((status = 200, description = "The database is usable.", body = Health)))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    match state.db.check_ready(READY_DEADLINE).await {
        Ok(()) => Ok(ok()),
        Err(error) => {
            log::warn!("not ready: {error}");
            Err(AppError::client(ProblemCode::NotReady, "The database cannot be used right now."))
        }
    }
}
