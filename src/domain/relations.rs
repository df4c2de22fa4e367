//! Related records in one request: `include` on every read of a record or a list.
//!
//! A relation is a row of a resource's entry in the table of resources
//! (`resources::Resource::relations`); what it embeds is the related record exactly as its own
//! `GET` gives it (to-one), or the first page of the related list in that list's default order
//! with its total (to-many). A page's related records cost one query per relation, whatever the
//! page size: the keys of the whole page are looked up at once.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

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

/// What a relation's loader returns: the embedded value by key (the referenced id for a to-one
/// relation, the record's own id for a to-many one).
pub type Loaded = HashMap<i64, Value>;

/// One relation of a resource.
pub struct Relation {
    /// The name `include` takes and the property it adds.
    pub name: &'static str,
    pub cardinality: Cardinality,
    /// The related collection.
    pub target: Collection,
    /// The reference field: the record's own (to-one) or the related records' (to-many).
    pub field: &'static str,
    /// Loads the embedded values for a page's keys, in one query.
    pub load: fn(&mut Conn, &'static str, &[i64]) -> Result<Loaded, AppError>,
}

/// `Relation::load` of a to-one relation to the records of `S`.
pub fn to_one<S: RecordStore>(conn: &mut Conn, _field: &'static str, ids: &[i64]) -> Result<Loaded, AppError> {
    S::get_many(conn, ids)?.iter().map(|record| Ok((S::identity(record).0, value_of(record)?))).collect()
}

/// `Relation::load` of a to-many relation to the records of `S` whose `field` names the record.
pub fn to_many<S: Referencing>(conn: &mut Conn, field: &'static str, parents: &[i64]) -> Result<Loaded, AppError> {
    let mut pages: HashMap<i64, (Vec<Value>, i64)> = HashMap::new();
    for (parent, record, total) in S::first_of_each(conn, field, parents, FIRST_RELATED)? {
        pages.entry(parent).or_insert_with(|| (Vec::new(), total)).0.push(value_of(&record)?);
    }
    Ok(parents
        .iter()
        .map(|parent| {
            let (data, total) = pages.remove(parent).unwrap_or_default();
            (*parent, json!({ "data": data, "total": total }))
        })
        .collect())
}

fn value_of(record: &impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(record).map_err(AppError::internal)
}

/// The relations a request's `include` names, in the order of the resource's table (so that
/// `include=a,b` and `include=b,a` give the same bytes and the same ETag).
pub fn parse_include(
    relations: &'static [Relation],
    collection: Collection,
) -> impl Fn(&str) -> Result<Vec<&'static Relation>, String> {
    move |text| {
        let names: Vec<&str> = relations.iter().map(|relation| relation.name).collect();
        let expected = format!("use a comma-separated list of {}, each at most once", names.join(", "));
        let mut chosen = vec![false; relations.len()];
        for part in text.split(',') {
            if part.is_empty() {
                return Err(format!("must name one or more relations; {expected}"));
            }
            if part.contains('.') {
                return Err(format!("'{part}' nests relations; include embeds one level only ({expected})"));
            }
            let Some(position) = relations.iter().position(|relation| relation.name == part) else {
                return Err(format!("'{part}' is not a relation of {}; {expected}", collection.as_str()));
            };
            if std::mem::replace(&mut chosen[position], true) {
                return Err(format!("names '{part}' more than once; {expected}"));
            }
        }
        Ok(relations.iter().zip(chosen).filter(|(_, chosen)| *chosen).map(|(relation, _)| relation).collect())
    }
}

/// `records` as their `GET` gives them, each with the relations `include` named, loaded with one
/// query per relation for all of them.
pub fn embed<T: Serialize>(
    conn: &mut Conn,
    include: &[&'static Relation],
    records: &[T],
) -> Result<Vec<Value>, AppError> {
    let mut objects: Vec<Map<String, Value>> = records
        .iter()
        .map(|record| match value_of(record)? {
            Value::Object(object) => Ok(object),
            _ => Err(AppError::internal("a record is not a JSON object")),
        })
        .collect::<Result<_, AppError>>()?;
    for relation in include {
        let key_field = match relation.cardinality {
            Cardinality::ToOne => relation.field,
            Cardinality::ToMany => "id",
        };
        let key_of = |object: &Map<String, Value>| object.get(key_field).and_then(Value::as_i64);
        let mut keys: Vec<i64> = objects.iter().filter_map(key_of).collect();
        keys.sort_unstable();
        keys.dedup();
        let loaded = if keys.is_empty() { Loaded::new() } else { (relation.load)(conn, relation.field, &keys)? };
        for object in &mut objects {
            let value = key_of(object).and_then(|key| loaded.get(&key).cloned()).unwrap_or(Value::Null);
            object.insert(relation.name.to_owned(), value);
        }
    }
    Ok(objects.into_iter().map(Value::Object).collect())
}

/// The SQL of a to-many relation's one query over `table`, whose `field` references the parents:
/// a condition keeping the first `first` rows of each parent in `order` (ranked by a window
/// function, so the query reads no more than the page it returns), the parent's id, and how many
/// rows name the parent. Only integers and the store's own identifiers are written into it.
pub fn ranked_sql(
    table: &'static str,
    field: &'static str,
    order: &'static str,
    parents: &[i64],
    first: i64,
) -> (String, String, String) {
    let ids: Vec<String> = parents.iter().map(i64::to_string).collect();
    let ranked = format!(
        "{table}.id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY {field} ORDER BY {order}) AS position \
         FROM {table} WHERE {field} IN ({ids})) AS ranked WHERE position <= {first})",
        ids = ids.join(",")
    );
    let total = format!("(SELECT COUNT(*) FROM {table} AS counted WHERE counted.{field} = {table}.{field})");
    (ranked, format!("{table}.{field}"), total)
}
