//! rush-api: RUSH University System for Health's programs, initiatives and events as a JSON REST API.

/// Shared state, the application builder and the server.
pub mod app;
/// Every cache, checked against the write generation.
pub mod cache;
/// The command line.
pub mod cli;
/// Wire and database timestamps.
pub mod clock;
/// Configuration from the environment.
pub mod config;
/// Pools, pragmas, migrations and the read/write entry points.
pub mod db;
/// The deletions half of the change feed.
pub mod deletions;
/// `/openapi.json` and `/docs`.
pub mod docs;
/// The one error type and its problem+json rendering.
pub mod error;
/// Community event requests: public intake and staff review.
pub mod event_requests;
/// Events.
pub mod events;
/// Liveness and readiness.
pub mod health;
/// HTTP mechanics shared by every resource.
pub mod http;
/// Idempotent creates.
pub mod idempotency;
/// Community health initiatives.
pub mod initiatives;
/// How the process uses memory.
pub mod memory;
/// Figures ("By the Numbers") with their sources.
pub mod metrics;
/// The OpenAPI document.
pub mod openapi;
/// The problem type catalogue.
pub mod problems;
/// Training programs.
pub mod programs;
/// The table of resources that shared code reads.
pub mod resources;
/// The URL surface.
pub mod routes;
/// Diesel's table definitions.
pub mod schema;
/// schema.org JSON-LD for public pages.
pub mod schema_org;
/// The bundled dataset.
pub mod seed;
/// Slug derivation.
pub mod slugs;
/// What every request can reach.
pub mod state;
/// Write tokens.
pub mod tokens;
/// Wire enumerations.
pub mod wire;
