//! Community health initiatives and programs of work.

pub mod api;
pub mod model;
pub mod store;
