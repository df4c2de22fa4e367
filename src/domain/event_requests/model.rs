//! Event requests as Diesel rows.

use diesel::prelude::*;

use crate::base::clock::{self, Micros};
use crate::base::error::AppError;
use crate::base::schema::event_requests;
use crate::base::wire::{WireEnum, from_db};
use crate::domain::event_requests::api::{EventRequest, Support};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_requests)]
pub struct RequestRow {
    pub id: i64,
    pub reference: String,
    pub organization_name: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub event_title: String,
    pub event_description: Option<String>,
    pub event_type: String,
    pub requested_support: String,
    pub starts_at: Micros,
    pub ends_at: Option<Micros>,
    pub location_name: Option<String>,
    pub address: Option<String>,
    pub expected_attendance: Option<i32>,
    pub status: String,
    pub decision_note: Option<String>,
    pub event_id: Option<i64>,
    pub erased_at: Option<Micros>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// `requested_support` as stored: the values' names, space-separated, in the order given.
pub fn format_support(support: &[Support]) -> String {
    support.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

impl RequestRow {
    pub fn into_request(self) -> Result<EventRequest, AppError> {
        let RequestRow {
            id,
            reference,
            organization_name,
            contact_name,
            contact_email,
            contact_phone,
            event_title,
            event_description,
            event_type,
            requested_support,
            starts_at,
            ends_at,
            location_name,
            address,
            expected_attendance,
            status,
            decision_note,
            event_id,
            erased_at,
            created_at,
            updated_at,
        } = self;
        let requested_support = requested_support
            .split_whitespace()
            .map(|name| from_db("event_requests.requested_support", name))
            .collect::<Result<_, _>>()?;
        Ok(EventRequest {
            id,
            reference,
            organization_name,
            contact_name,
            contact_email,
            contact_phone,
            event_title,
            event_description,
            event_type: from_db("event_requests.event_type", &event_type)?,
            requested_support,
            starts_at: clock::format_instant(starts_at),
            ends_at: ends_at.map(clock::format_instant),
            location_name,
            address,
            expected_attendance,
            status: from_db("event_requests.status", &status)?,
            decision_note,
            event_id,
            erased_at: erased_at.map(clock::format_micros),
            created_at: clock::format_micros(created_at),
            updated_at: clock::format_micros(updated_at),
        })
    }
}
