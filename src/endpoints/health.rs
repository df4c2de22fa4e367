//! Liveness and readiness.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::base::error::{AppError, ProblemCode};
use crate::endpoints::state::AppState;

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
