//! Residency, fellowship and allied-health training programs.

pub mod api;
pub mod model;
pub mod store;
