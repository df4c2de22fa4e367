//! The whole URL surface on one screen. One `web::resource` per path, so that any other method
//! is a 405 with `Allow`; HEAD is served wherever GET is. A collection's record paths sit in a
//! scope named after the collection.

use actix_web::Resource;
use actix_web::http::Method;
use actix_web::web::{self, delete, get, head, patch, post};

use crate::endpoints::deletions;
use crate::endpoints::docs;
use crate::endpoints::event_requests::{
    create_event_from_request, delete_event_request, get_event_request, get_event_request_status, list_event_requests,
    submit_event_request, update_event_request, withdraw_event_request,
};
use crate::endpoints::events::{
    create_event, delete_event, get_event, get_event_ics, get_event_jsonld, list_events, list_events_ics, update_event,
};
use crate::endpoints::health;
use crate::endpoints::initiatives::{
    create_initiative, delete_initiative, get_initiative, list_initiatives, update_initiative,
};
use crate::endpoints::metrics::{create_metric, delete_metric, get_metric, list_metrics, update_metric};
use crate::endpoints::problems;
use crate::endpoints::programs::{
    create_program, delete_program, get_program, get_program_jsonld, list_programs, update_program,
};
use crate::http::guard::refuse_bodies;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            resource("/api/v1/programs")
                .route(get().to(list_programs))
                .route(head().to(list_programs))
                .route(post().to(create_program)),
        )
        .service(
            records("/api/v1/programs")
                // Before `/{id}`, whose `{id}` would also match `5.jsonld`.
                .service(
                    resource("/{id}.jsonld").route(get().to(get_program_jsonld)).route(head().to(get_program_jsonld)),
                )
                .service(
                    record("/{id}")
                        .route(get().to(get_program))
                        .route(head().to(get_program))
                        .route(patch().to(update_program))
                        .route(delete().to(delete_program)),
                ),
        )
        .service(
            resource("/api/v1/initiatives")
                .route(get().to(list_initiatives))
                .route(head().to(list_initiatives))
                .route(post().to(create_initiative)),
        )
        .service(
            records("/api/v1/initiatives").service(
                record("/{id}")
                    .route(get().to(get_initiative))
                    .route(head().to(get_initiative))
                    .route(patch().to(update_initiative))
                    .route(delete().to(delete_initiative)),
            ),
        )
        .service(
            resource("/api/v1/events")
                .route(get().to(list_events))
                .route(head().to(list_events))
                .route(post().to(create_event)),
        )
        .service(resource("/api/v1/events.ics").route(get().to(list_events_ics)).route(head().to(list_events_ics)))
        .service(
            records("/api/v1/events")
                // Before `/{id}`, whose `{id}` would also match `5.ics`.
                .service(resource("/{id}.ics").route(get().to(get_event_ics)).route(head().to(get_event_ics)))
                .service(resource("/{id}.jsonld").route(get().to(get_event_jsonld)).route(head().to(get_event_jsonld)))
                .service(
                    record("/{id}")
                        .route(get().to(get_event))
                        .route(head().to(get_event))
                        .route(patch().to(update_event))
                        .route(delete().to(delete_event)),
                ),
        )
        .service(
            resource("/api/v1/metrics")
                .route(get().to(list_metrics))
                .route(head().to(list_metrics))
                .route(post().to(create_metric)),
        )
        .service(
            records("/api/v1/metrics").service(
                record("/{id}")
                    .route(get().to(get_metric))
                    .route(head().to(get_metric))
                    .route(patch().to(update_metric))
                    .route(delete().to(delete_metric)),
            ),
        )
        .service(
            resource("/api/v1/event-requests")
                .route(get().to(list_event_requests))
                .route(head().to(list_event_requests))
                .route(post().to(submit_event_request)),
        )
        .service(
            records("/api/v1/event-requests")
                // Before `/{id}`: the status links are not ids.
                .service(
                    resource("/status/{secret}")
                        .route(get().to(get_event_request_status))
                        .route(head().to(get_event_request_status)),
                )
                .service(web::resource("/status/{secret}/withdraw").route(post().to(withdraw_event_request)))
                .service(web::resource("/{id}/event").route(post().to(create_event_from_request)))
                .service(
                    record("/{id}")
                        .route(get().to(get_event_request))
                        .route(head().to(get_event_request))
                        .route(patch().to(update_event_request))
                        .route(delete().to(delete_event_request)),
                ),
        )
        .service(
            resource("/api/v1/deletions")
                .route(get().to(deletions::list_deletions))
                .route(head().to(deletions::list_deletions)),
        )
        .service(
            resource("/problems").route(get().to(problems::list_problems)).route(head().to(problems::list_problems)),
        )
        .service(
            resource("/problems/{code}").route(get().to(problems::get_problem)).route(head().to(problems::get_problem)),
        )
        .service(resource("/healthz").route(get().to(health::healthz)).route(head().to(health::healthz)))
        .service(resource("/readyz").route(get().to(health::readyz)).route(head().to(health::readyz)))
        .service(resource("/openapi.json").route(get().to(docs::openapi_json)).route(head().to(docs::openapi_json)))
        .service(resource("/docs").route(get().to(docs::docs_index)).route(head().to(docs::docs_index)))
        .service(resource("/docs/{file:.*}").route(get().to(docs::docs_asset)).route(head().to(docs::docs_asset)));
}

/// The record paths under a collection. A scope matches its prefix as plain text, so a request
/// is tried against the patterns of its own collection only: every `{id}` pattern is a regular
/// expression, and trying all of them cost a measurable share of the fastest reads.
fn records(collection: &str) -> actix_web::Scope {
    web::scope(collection)
}

/// A path whose methods take no body (GET and HEAD): a body is refused before any handler runs.
fn resource(path: &str) -> Resource {
    web::resource(path).route(refuse_bodies(&[Method::GET, Method::HEAD]))
}

/// A record's path: DELETE takes no body either. Other methods keep their 405 with `Allow`.
fn record(path: &str) -> Resource {
    web::resource(path).route(refuse_bodies(&[Method::GET, Method::HEAD, Method::DELETE]))
}
