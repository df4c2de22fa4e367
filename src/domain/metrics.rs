//! Figures ("By the Numbers") with their sources.

pub mod api;
pub mod model;
pub mod store;
