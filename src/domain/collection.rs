//! The collections of the API, by name: what tombstones, the change feed and the table of
//! resources call each resource.

use crate::wire_enum;

wire_enum! {
    /// A collection of the API.
    pub enum Collection {
        Programs = "programs",
        Initiatives = "initiatives",
        Events = "events",
        Metrics = "metrics",
    }
}
