//! The table of resources: every place that must name each collection (the write clock's start,
//! the bundled dataset, the full-text indexes, deletions, the spec's conflict codes, the tests)
//! reads it, so a new resource is one row here plus its own module.

use serde_json::Value;

use crate::base::clock::Micros;
use crate::base::error::{AppError, ProblemCode};
use crate::db::Conn;
use crate::domain::collection::Collection;
use crate::domain::events;
use crate::domain::initiatives;
use crate::domain::metrics;
use crate::domain::programs;
use crate::domain::relations::{Cardinality, Relation, to_many, to_one};

/// One collection and the facts about it that shared code needs.
pub struct Resource {
    pub collection: Collection,
    /// Its table; `<table>_search` is its full-text index.
    pub table: &'static str,
    /// Its collection URL; records are at `<path>/{id}`.
    pub path: &'static str,
    /// What one record is called in prose ("initiative").
    pub noun: &'static str,
    /// The 409s a create or update can answer: the unique fields it may clash on.
    pub write_conflicts: &'static [ProblemCode],
    /// Other records reference its records (so deleting one can be 409 `still_referenced`).
    pub referenced: bool,
    /// Creates one record of the bundled dataset, given as the API's create body (references by
    /// slug where the dataset names them so).
    pub load_bundled: fn(&mut Conn, Value, Micros) -> Result<(), AppError>,
    /// What `include` can embed in its records, in the order it adds them.
    pub relations: &'static [Relation],
}

/// Every resource, in the order the bundled dataset is loaded (referenced before referencing).
pub const RESOURCES: &[Resource] = &[
    Resource {
        collection: Collection::Programs,
        table: "programs",
        path: "/api/v1/programs",
        noun: "program",
        write_conflicts: &[ProblemCode::SlugTaken, ProblemCode::NrmpCodeTaken],
        referenced: true,
        load_bundled: programs::store::load_bundled,
        relations: &[Relation {
            name: "events",
            cardinality: Cardinality::ToMany,
            target: Collection::Events,
            field: "program_id",
            load: to_many::<events::store::Events>,
        }],
    },
    Resource {
        collection: Collection::Initiatives,
        table: "initiatives",
        path: "/api/v1/initiatives",
        noun: "initiative",
        write_conflicts: &[ProblemCode::SlugTaken],
        referenced: true,
        load_bundled: initiatives::store::load_bundled,
        relations: &[
            Relation {
                name: "events",
                cardinality: Cardinality::ToMany,
                target: Collection::Events,
                field: "initiative_id",
                load: to_many::<events::store::Events>,
            },
            Relation {
                name: "metrics",
                cardinality: Cardinality::ToMany,
                target: Collection::Metrics,
                field: "initiative_id",
                load: to_many::<metrics::store::Metrics>,
            },
        ],
    },
    Resource {
        collection: Collection::Events,
        table: "events",
        path: "/api/v1/events",
        noun: "event",
        write_conflicts: &[],
        referenced: false,
        load_bundled: events::store::load_bundled,
        relations: &[
            Relation {
                name: "initiative",
                cardinality: Cardinality::ToOne,
                target: Collection::Initiatives,
                field: "initiative_id",
                load: to_one::<initiatives::store::Initiatives>,
            },
            Relation {
                name: "program",
                cardinality: Cardinality::ToOne,
                target: Collection::Programs,
                field: "program_id",
                load: to_one::<programs::store::Programs>,
            },
        ],
    },
    Resource {
        collection: Collection::Metrics,
        table: "metrics",
        path: "/api/v1/metrics",
        noun: "metric",
        write_conflicts: &[ProblemCode::SlugTaken],
        referenced: false,
        load_bundled: metrics::store::load_bundled,
        relations: &[Relation {
            name: "initiative",
            cardinality: Cardinality::ToOne,
            target: Collection::Initiatives,
            field: "initiative_id",
            load: to_one::<initiatives::store::Initiatives>,
        }],
    },
];

/// Every resource's table, in the order of `RESOURCES`.
pub fn tables() -> Vec<&'static str> {
    RESOURCES.iter().map(|resource| resource.table).collect()
}

/// The row of `collection`.
pub fn of(collection: Collection) -> Result<&'static Resource, AppError> {
    RESOURCES
        .iter()
        .find(|resource| resource.collection == collection)
        .ok_or_else(|| AppError::internal(format!("{collection:?} has no row in RESOURCES")))
}

/// The resource whose collection or records `path` addresses.
pub fn for_path(path: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|resource| {
        path.strip_prefix(resource.path).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '.']))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::wire::WireEnum;

    #[test]
    fn every_collection_has_exactly_one_row_named_after_it() {
        for &collection in Collection::ALL {
            let rows: Vec<_> = RESOURCES.iter().filter(|r| r.collection == collection).collect();
            assert_eq!(rows.len(), 1, "{collection:?}");
            assert_eq!(rows[0].table, collection.as_str());
            assert_eq!(rows[0].path, format!("/api/v1/{}", collection.as_str()));
        }
        assert_eq!(RESOURCES.len(), Collection::ALL.len());
    }

    #[test]
    fn paths_find_their_resource_and_no_other() {
        assert_eq!(for_path("/api/v1/events/5.ics").map(|r| r.collection), Some(Collection::Events));
        assert_eq!(for_path("/api/v1/events.ics").map(|r| r.collection), Some(Collection::Events));
        assert_eq!(for_path("/api/v1/programs").map(|r| r.collection), Some(Collection::Programs));
        assert!(for_path("/api/v1/programsx").is_none());
        assert!(for_path("/api/v1/deletions").is_none());
    }
}
