//! Related records in one request: `include` on every read of a record or a list.
//!
//! A relation is a row of a resource's entry in the table of resources
//! (`resources::Resource::relations`); what it embeds is the related record exactly as its own
//! `GET` gives it (to-one), or the first page of the related list in that list's default order
//! with its total (to-many). A page's related records cost one query per relation, whatever the
//! page size: the keys of the whole page are looked up at once.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::base::error::AppError;
use crate::base::wire::WireEnum;
use crate::db::Conn;
use crate::domain::collection::Collection;
use crate::domain::record_store::{RecordStore, Referencing};
use crate::http::query::MAX_LIMIT;

/// How many related records a to-many relation embeds per record: one full page of the related
/// list (`limit=100`); `total` says how many there are.
pub const FIRST_RELATED: i64 = MAX_LIMIT;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// `"initiative": <record> | null`, through the record's own reference field.
    ToOne,
    /// `"events": {"data": [...], "total": N}`, the records whose reference field names this one.
    ToMany,
}

/// An embedded value: the JSON of a related record or page, rendered once per page and shared by
/// every record of the page that embeds it; or `null`.
#[derive(Clone, Default)]
pub struct Related(Option<Arc<RawValue>>);

impl Related {
    fn of(value: &impl Serialize) -> Result<Related, AppError> {
        let raw = serde_json::value::to_raw_value(value).map_err(AppError::internal)?;
        Ok(Related(Some(Arc::from(raw))))
    }
}

impl Serialize for Related {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => raw.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }
}

/// What a relation's loader returns: the embedded value by key (the referenced id for a to-one
/// relation, the record's own id for a to-many one).
pub type Loaded = HashMap<i64, Related>;

/// One relation of a resource.
pub struct Relation {
    /// The name `include` takes and the property it adds.
    pub name: &'static str,
    pub cardinality: Cardinality,
    /// The related collection.
    pub target: Collection,
    /// The reference field: the record's own (to-one, read by `RecordStore::reference`) or the
    /// related records' (to-many).
    pub field: &'static str,
    /// Loads the embedded values for a page's keys, in one query.
    pub load: fn(&mut Conn, &'static str, &[i64]) -> Result<Loaded, AppError>,
}

/// `Relation::load` of a to-one relation to the records of `S`.
pub fn to_one<S: RecordStore>(conn: &mut Conn, _field: &'static str, ids: &[i64]) -> Result<Loaded, AppError> {
    S::get_many(conn, ids)?.iter().map(|record| Ok((S::identity(record).0, Related::of(record)?))).collect()
}

/// A to-many relation as it is embedded.
#[derive(Serialize)]
struct IncludedPage<T> {
    data: Vec<T>,
    total: i64,
}

/// `Relation::load` of a to-many relation to the records of `S` whose `field` names the record.
pub fn to_many<S: Referencing>(conn: &mut Conn, field: &'static str, parents: &[i64]) -> Result<Loaded, AppError> {
    let mut pages: HashMap<i64, IncludedPage<S::Record>> = HashMap::new();
    for (parent, record, total) in S::first_of_each(conn, field, parents, FIRST_RELATED)? {
        pages.entry(parent).or_insert_with(|| IncludedPage { data: Vec::new(), total }).data.push(record);
    }
    parents
        .iter()
        .map(|parent| {
            let page = pages.remove(parent).unwrap_or(IncludedPage { data: Vec::new(), total: 0 });
            Ok((*parent, Related::of(&page)?))
        })
        .collect()
}

/// A record with the relations `include` named: its own fields, then one property per relation.
pub struct WithRelations<T> {
    record: T,
    related: Vec<(&'static str, Related)>,
}

impl<T: Serialize> Serialize for WithRelations<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a, T> {
            #[serde(flatten)]
            record: &'a T,
            #[serde(flatten)]
            related: Properties<'a>,
        }
        struct Properties<'a>(&'a [(&'static str, Related)]);
        impl Serialize for Properties<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.iter().map(|(name, value)| (name, value)))
            }
        }
        Flat { record: &self.record, related: Properties(&self.related) }.serialize(serializer)
    }
}

/// The relations a request's `include` names, in the order of the resource's table (so that
/// `include=a,b` and `include=b,a` give the same bytes and the same ETag).
pub fn parse_include(
    relations: &'static [Relation],
    collection: Collection,
) -> impl Fn(&str) -> Result<Vec<&'static Relation>, String> {
    move |text| {
        // Written only for a 422: a valid `include` costs no formatting.
        let expected = || {
            let names: Vec<&str> = relations.iter().map(|relation| relation.name).collect();
            format!("use a comma-separated list of {}, each at most once", names.join(", "))
        };
        let mut chosen = vec![false; relations.len()];
        for part in text.split(',') {
            if part.is_empty() {
                return Err(format!("must name one or more relations; {}", expected()));
            }
            if part.contains('.') {
                return Err(format!("'{part}' nests relations; include embeds one level only ({})", expected()));
            }
            let Some(position) = relations.iter().position(|relation| relation.name == part) else {
                return Err(format!("'{part}' is not a relation of {}; {}", collection.as_str(), expected()));
            };
            if std::mem::replace(&mut chosen[position], true) {
                return Err(format!("names '{part}' more than once; {}", expected()));
            }
        }
        Ok(relations.iter().zip(chosen).filter(|(_, chosen)| *chosen).map(|(relation, _)| relation).collect())
    }
}

/// `records` as their `GET` gives them, each with the relations `include` named, loaded with one
/// query per relation for all of them.
pub fn embed<S: RecordStore>(
    conn: &mut Conn,
    include: &[&'static Relation],
    records: Vec<S::Record>,
) -> Result<Vec<WithRelations<S::Record>>, AppError> {
    let mut embedded: Vec<WithRelations<S::Record>> =
        records.into_iter().map(|record| WithRelations { record, related: Vec::new() }).collect();
    for relation in include {
        let key_of = |record: &S::Record| match relation.cardinality {
            Cardinality::ToOne => S::reference(record, relation.field),
            Cardinality::ToMany => Some(S::identity(record).0),
        };
        let mut keys: Vec<i64> = embedded.iter().filter_map(|with| key_of(&with.record)).collect();
        keys.sort_unstable();
        keys.dedup();
        let loaded = if keys.is_empty() { Loaded::new() } else { (relation.load)(conn, relation.field, &keys)? };
        for with in &mut embedded {
            let value = key_of(&with.record).and_then(|key| loaded.get(&key).cloned()).unwrap_or_default();
            with.related.push((relation.name, value));
        }
    }
    Ok(embedded)
}

/// The SQL of a to-many relation's one query over `table`, whose `field` references the parents:
/// a condition keeping the first `first` rows of each parent in `order` (ranked by a window
/// function, so the query reads no more than the page it returns), the parent's id, and how many
/// rows name the parent. Only integers and the store's own identifiers are written into it:
/// `field` must be one of the table's `references`.
pub fn ranked_sql(
    (table, references): (&'static str, &[&str]),
    field: &'static str,
    order: &'static str,
    parents: &[i64],
    first: i64,
) -> Result<(String, String, String), AppError> {
    if !references.contains(&field) {
        return Err(AppError::internal(format!("{field} is not a reference field of {table}")));
    }
    let ids: Vec<String> = parents.iter().map(i64::to_string).collect();
    let ranked = format!(
        "{table}.id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY {field} ORDER BY {order}) AS position \
         FROM {table} WHERE {field} IN ({ids})) AS ranked WHERE position <= {first})",
        ids = ids.join(",")
    );
    let total = format!("(SELECT COUNT(*) FROM {table} AS counted WHERE counted.{field} = {table}.{field})");
    Ok((ranked, format!("{table}.{field}"), total))
}
