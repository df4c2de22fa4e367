//! The base layer: the vocabulary every other layer speaks. It imports nothing of the crate.

/// Wire and database timestamps.
pub mod clock;
/// SHA-256 of secrets.
pub mod digest;
/// The one error type and its problem+json rendering.
pub mod error;
/// How the process uses memory.
pub mod memory;
/// Diesel's table definitions.
pub mod schema;
/// Wire enumerations.
pub mod wire;
