//! Health fairs, community, networking and other events.

pub mod api;
pub mod calendar;
pub mod model;
pub mod store;
