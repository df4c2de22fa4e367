//! The endpoints layer: every handler, and the request mechanics they share.

/// The deletions half of the change feed.
pub mod deletions;
/// `/openapi.json` and `/docs`.
pub mod docs;
/// Event requests: public intake and staff review.
pub mod event_requests;
/// Events, their calendar feeds and JSON-LD.
pub mod events;
/// Liveness and readiness.
pub mod health;
/// Initiatives.
pub mod initiatives;
/// Metrics.
pub mod metrics;
/// The problem type catalogue.
pub mod problems;
/// Programs and their JSON-LD.
pub mod programs;
/// The request mechanics every record endpoint shares.
pub mod records;
/// What every request can reach.
pub mod state;
