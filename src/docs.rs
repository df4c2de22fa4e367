//! `/openapi.json` and the interactive documentation at `/docs`, served from assets built into
//! the binary: no request leaves for another host.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::app::AppState;

pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi_json.to_string())
}

/// The bare `/docs` leads to the UI's index.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}

pub fn swagger_ui() -> SwaggerUi {
    // validator_url "none": Swagger UI otherwise sends the document to an online validator.
    SwaggerUi::new("/docs/{_:.*}").config(
        Config::new(["/openapi.json"])
            .validator_url("none")
            .try_it_out_enabled(true)
            .display_operation_id(true)
            .persist_authorization(true),
    )
}
