//! rush-api: RUSH University System for Health's programs, initiatives and events as a JSON REST API.
//!
//! The crate is layered; each module may import only modules of its own layer or of the layers
//! that [`LAYERS`] lets it import, and no two modules import each other, directly or not.
//! `docs/architecture.md` explains the layers; `tests/api/architecture.rs` enforces them.

/// The application layer: command line, configuration, routes, OpenAPI document, server.
pub mod app;
/// The base layer: errors, clocks, wire enumerations, table definitions, memory.
pub mod base;
/// The database layer: pools, the writer thread, the write generation, search, budgets, copies.
pub mod db;
/// The domain and storage layer: resources, their rules and stores, tombstones, the dataset.
pub mod domain;
/// The endpoints layer: handlers and their shared mechanics.
pub mod endpoints;
/// The HTTP toolkit: fields, queries, responses, caching, encoding, conditionals, limits, auth.
pub mod http;

/// One layer of the crate: a top-level module and the layers below it that it may import.
#[derive(Debug, Clone, Copy)]
pub struct Layer {
    /// The top-level module (`src/<name>.rs` and `src/<name>/`).
    pub name: &'static str,
    /// The layers this one may import, besides itself.
    pub may_import: &'static [&'static str],
}

/// The layers from the top down: the one table that `tests/api/architecture.rs` checks every
/// `crate::` path of `src/` against. The binary (`src/main.rs`) belongs to the application.
pub const LAYERS: &[Layer] = &[
    Layer { name: "app", may_import: &["endpoints", "domain", "db", "http", "base"] },
    Layer { name: "endpoints", may_import: &["domain", "db", "http", "base"] },
    Layer { name: "domain", may_import: &["db", "http", "base"] },
    Layer { name: "db", may_import: &["base"] },
    Layer { name: "http", may_import: &["base"] },
    Layer { name: "base", may_import: &[] },
];
