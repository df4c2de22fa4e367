//! The application layer: the command line, configuration, the URL surface, the OpenAPI
//! document and the server that puts them together.

/// The command line.
pub mod cli;
/// Configuration from the environment.
pub mod config;
/// The OpenAPI document.
pub mod openapi;
/// The URL surface.
pub mod routes;
/// The application builder and the server.
pub mod server;
