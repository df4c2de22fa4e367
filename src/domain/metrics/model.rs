//! Metrics as Diesel rows.

use std::str::FromStr;

use diesel::prelude::*;
use serde_json::Number;

use crate::base::clock::{self, Micros};
use crate::base::error::AppError;
use crate::base::schema::metrics;
use crate::base::wire::{WireEnum, from_db};
use crate::domain::metrics::api::{Metric, NewMetric};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = metrics)]
pub struct MetricRow {
    pub id: i64,
    pub label: String,
    pub slug: String,
    pub value: String,
    pub unit: String,
    pub as_of: Option<String>,
    pub target_value: Option<String>,
    pub target_date: Option<String>,
    pub initiative_id: Option<i64>,
    pub source_name: String,
    pub source_url: Option<String>,
    pub source_quote: Option<String>,
    pub display_order: i32,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Every column but the id: inserted on create, written whole on update.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = metrics, treat_none_as_null = true)]
pub struct MetricChanges {
    pub label: String,
    pub slug: String,
    pub value: String,
    pub unit: &'static str,
    pub as_of: Option<String>,
    pub target_value: Option<String>,
    pub target_date: Option<String>,
    pub initiative_id: Option<i64>,
    pub source_name: String,
    pub source_url: Option<String>,
    pub source_quote: Option<String>,
    pub display_order: i32,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A stored number read back; anything but a JSON number is a corrupt row.
fn number(column: &'static str, text: &str) -> Result<Number, AppError> {
    Number::from_str(text).map_err(|_| AppError::internal(format!("not a number in column {column}")))
}

impl MetricChanges {
    /// The row for `record`, whose slug has been settled.
    pub fn new(record: NewMetric, slug: String, created_at: Micros, updated_at: Micros) -> MetricChanges {
        let NewMetric {
            label,
            slug: _,
            value,
            unit,
            as_of,
            target_value,
            target_date,
            initiative_id,
            source_name,
            source_url,
            source_quote,
            display_order,
        } = record;
        let search_text = crate::db::search_text(&[Some(&label), source_quote.as_deref()]);
        MetricChanges {
            label,
            slug,
            value: value.to_string(),
            unit: unit.as_str(),
            as_of,
            target_value: target_value.map(|n| n.to_string()),
            target_date,
            initiative_id,
            source_name,
            source_url,
            source_quote,
            display_order,
            search_text,
            created_at,
            updated_at,
        }
    }
}

impl MetricRow {
    pub fn into_metric(self) -> Result<Metric, AppError> {
        let MetricRow {
            id,
            label,
            slug,
            value,
            unit,
            as_of,
            target_value,
            target_date,
            initiative_id,
            source_name,
            source_url,
            source_quote,
            display_order,
            search_text: _,
            created_at,
            updated_at,
        } = self;
        Ok(Metric {
            id,
            label,
            slug,
            value: number("metrics.value", &value)?,
            unit: from_db("metrics.unit", &unit)?,
            as_of,
            target_value: target_value.map(|text| number("metrics.target_value", &text)).transpose()?,
            target_date,
            initiative_id,
            source_name,
            source_url,
            source_quote,
            display_order,
            created_at: clock::format_micros(created_at),
            updated_at: clock::format_micros(updated_at),
        })
    }

    /// The client-settable fields, as a patch starts from.
    pub fn to_new(&self) -> Result<NewMetric, AppError> {
        let row = self.clone();
        Ok(NewMetric {
            label: row.label,
            slug: Some(row.slug),
            value: number("metrics.value", &row.value)?,
            unit: from_db("metrics.unit", &row.unit)?,
            as_of: row.as_of,
            target_value: row.target_value.map(|text| number("metrics.target_value", &text)).transpose()?,
            target_date: row.target_date,
            initiative_id: row.initiative_id,
            source_name: row.source_name,
            source_url: row.source_url,
            source_quote: row.source_quote,
            display_order: row.display_order,
        })
    }
}
