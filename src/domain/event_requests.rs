//! Community event requests: the public submits, the requester follows with a private link, staff
//! review and turn a request into an event. Contact details are personal data.

pub mod api;
pub mod model;
pub mod store;
