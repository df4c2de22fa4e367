//! The whole URL surface on one screen. One `web::resource` per path, so that any other method
//! is a 405 with `Allow`; HEAD is served wherever GET is.

use actix_web::web::{self, delete, get, head, patch, post, resource};

use crate::programs::handlers::{create_program, delete_program, get_program, list_programs, update_program};
use crate::{docs, health};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            resource("/api/v1/programs")
                .route(get().to(list_programs))
                .route(head().to(list_programs))
                .route(post().to(create_program)),
        )
        .service(
            resource("/api/v1/programs/{id}")
                .route(get().to(get_program))
                .route(head().to(get_program))
                .route(patch().to(update_program))
                .route(delete().to(delete_program)),
        )
        .service(resource("/healthz").route(get().to(health::healthz)).route(head().to(health::healthz)))
        .service(resource("/readyz").route(get().to(health::readyz)).route(head().to(health::readyz)))
        .service(resource("/openapi.json").route(get().to(docs::openapi_json)).route(head().to(docs::openapi_json)))
        .service(resource("/docs").route(get().to(docs::docs_redirect)))
        .service(docs::swagger_ui());
}
