//! The domain and storage layer: each resource's fields, rules and store, the table of
//! resources, tombstones and the bundled dataset. It imports the database layer, the HTTP
//! toolkit's field and query rules, and the base.

/// The collections by name.
pub mod collection;
/// The bundled dataset.
pub mod dataset;
/// Community event requests: public intake and staff review.
pub mod event_requests;
/// Events.
pub mod events;
/// Idempotent creates.
pub mod idempotency;
/// Community health initiatives.
pub mod initiatives;
/// Figures ("By the Numbers") with their sources.
pub mod metrics;
/// Training programs.
pub mod programs;
/// What the shared record endpoints need of a resource.
pub mod record_store;
/// Related records embedded by `include`.
pub mod relations;
/// The table of resources that shared code reads.
pub mod resources;
/// schema.org JSON-LD for public pages.
pub mod schema_org;
/// Slug derivation.
pub mod slugs;
/// Write tokens.
pub mod tokens;
/// Tombstones of deleted records.
pub mod tombstones;
