//! The application: the one builder every caller uses, and the server.

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::app::openapi;
use crate::app::routes;
use crate::endpoints::docs::ApiDocument;
use crate::endpoints::state::AppState;
use crate::http::CorsOrigins;
use crate::http::guard;
use crate::http::middleware;

/// How long in-flight requests may take to finish after SIGTERM or SIGINT.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long a client has to send a request's head (line and headers); then it gets a bare 408 and
/// the connection is closed. The body has its own deadline (`http::body::BODY_DEADLINE`).
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// How long an idle keep-alive connection stays open. Longer than common load balancer idle
/// timeouts would hold sockets for nothing; shorter makes busy clients reconnect.
pub const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// Threads per worker for blocking database calls (the read pool has 8 connections).
pub const BLOCKING_THREADS_PER_WORKER: usize = 4;
/// Connections each worker serves at once; more wait in the accept backlog.
pub const MAX_CONNECTIONS_PER_WORKER: usize = 2_048;

/// The application as `serve`, the tests and the spec check all see it.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.cors_origins);
    App::new()
        .configure(|config| state.app_data(config))
        .app_data(web::Data::new(ApiDocument(openapi::document_rendering())))
        .configure(routes::configure)
        .default_service(web::to(middleware::no_route))
        .wrap(from_fn(guard::guard))
        .wrap(cors)
        .wrap(from_fn(middleware::request_context))
}

/// CORS for every header the OpenAPI document declares: the request headers of its operations
/// (and `Authorization`, `Content-Type` and `X-Request-Id`, which it states as a security scheme,
/// media types and a response header clients may echo), and the headers of its responses. Request headers are named, not `*`: browsers do not
/// apply a wildcard to `Authorization`.
fn cors(origins: &CorsOrigins) -> Cors {
    let declared = openapi::declared_headers();
    // `X-Request-Id` is a response header of every operation that a client may also send; it is
    // not declared as a parameter of each (fuzzers then take it for a record's id).
    let mut request_headers =
        vec![header::AUTHORIZATION.to_string(), header::CONTENT_TYPE.to_string(), middleware::REQUEST_ID.to_string()];
    request_headers.extend(declared.request);
    let cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "DELETE"])
        .allowed_headers(request_headers)
        .expose_headers(declared.response)
        .max_age(3600)
        // A request from another origin is answered without CORS headers (the browser then
        // withholds it) rather than failed: same-origin and server-side callers are unaffected.
        .block_on_origin_mismatch(false);
    match origins {
        CorsOrigins::None => cors,
        // Echo the origin (with `Vary: Origin`) rather than `*`.
        CorsOrigins::Any => cors.allow_any_origin(),
        CorsOrigins::List(list) => list.iter().fold(cors, |cors, origin| cors.allowed_origin(origin)),
    }
}

/// Serves on `listener` until SIGTERM or SIGINT, then lets requests in flight finish.
pub async fn run(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    HttpServer::new(move || build_app(state.clone()))
        .on_connect(guard::remember_socket)
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .client_request_timeout(HEAD_DEADLINE)
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(KEEP_ALIVE)
        .max_connections(MAX_CONNECTIONS_PER_WORKER)
        // Database reads wait in these threads; more than the read pool's connections would
        // only wait for a connection, each with its own stack and allocator arena.
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        .listen(listener)?
        .run()
        .await
}
