//! `/openapi.json` and the interactive documentation at `/docs`, served from assets built into
//! the binary: no request leaves for another host.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::app::AppState;

pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi_json.to_string())
}

/// The UI's index at the bare `/docs` as well, so that clients that do not follow redirects see
/// the page. `<base href="/docs/">` makes its relative asset links resolve under `/docs/`.
pub async fn docs_index() -> HttpResponse {
    match utoipa_swagger_ui::serve("index.html", Arc::new(config())) {
        Ok(Some(file)) => {
            let html = String::from_utf8_lossy(&file.bytes).replacen("<head>", "<head>\n    <base href=\"/docs/\">", 1);
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .body(html)
        }
        _ => HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish(),
    }
}

fn config() -> Config<'static> {
    // validator_url "none": Swagger UI otherwise sends the document to an online validator.
    Config::new(["/openapi.json"])
        .validator_url("none")
        .try_it_out_enabled(true)
        .display_operation_id(true)
        .persist_authorization(true)
}

pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").config(config())
}
