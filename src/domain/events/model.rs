//! Events as Diesel rows.

use diesel::prelude::*;

use crate::base::clock::{self, Micros};
use crate::base::error::AppError;
use crate::base::schema::events;
use crate::base::wire::{WireEnum, from_db};
use crate::domain::events::api::{Event, NewEvent};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub event_type: String,
    pub status: String,
    pub starts_at: Micros,
    pub ends_at: Option<Micros>,
    pub location_name: Option<String>,
    pub address: Option<String>,
    pub is_virtual: bool,
    pub virtual_url: Option<String>,
    pub registration_url: Option<String>,
    pub capacity: Option<i32>,
    pub initiative_id: Option<i64>,
    pub program_id: Option<i64>,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
    /// Increases exactly when the event really changes (iCalendar's SEQUENCE).
    pub revision: i32,
}

/// Every column but the id: inserted on create, written whole on update.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub struct EventChanges {
    pub title: String,
    pub description: Option<String>,
    pub event_type: &'static str,
    pub status: &'static str,
    pub starts_at: Micros,
    pub ends_at: Option<Micros>,
    pub location_name: Option<String>,
    pub address: Option<String>,
    pub is_virtual: bool,
    pub virtual_url: Option<String>,
    pub registration_url: Option<String>,
    pub capacity: Option<i32>,
    pub initiative_id: Option<i64>,
    pub program_id: Option<i64>,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub revision: i32,
}

impl EventChanges {
    pub fn new(record: NewEvent, created_at: Micros, updated_at: Micros, revision: i32) -> EventChanges {
        let NewEvent {
            title,
            description,
            event_type,
            status,
            starts_at,
            ends_at,
            location_name,
            address,
            is_virtual,
            virtual_url,
            registration_url,
            capacity,
            initiative_id,
            program_id,
        } = record;
        let search_text = crate::db::search_text(&[Some(&title), description.as_deref()]);
        EventChanges {
            title,
            description,
            event_type: event_type.as_str(),
            status: status.as_str(),
            starts_at,
            ends_at,
            location_name,
            address,
            is_virtual,
            virtual_url,
            registration_url,
            capacity,
            initiative_id,
            program_id,
            search_text,
            created_at,
            updated_at,
            revision,
        }
    }
}

impl EventRow {
    pub fn into_event(self) -> Result<Event, AppError> {
        let EventRow {
            id,
            title,
            description,
            event_type,
            status,
            starts_at,
            ends_at,
            location_name,
            address,
            is_virtual,
            virtual_url,
            registration_url,
            capacity,
            initiative_id,
            program_id,
            search_text: _,
            created_at,
            updated_at,
            revision: _,
        } = self;
        Ok(Event {
            id,
            title,
            description,
            event_type: from_db("events.event_type", &event_type)?,
            status: from_db("events.status", &status)?,
            starts_at: clock::format_instant(starts_at),
            ends_at: ends_at.map(clock::format_instant),
            location_name,
            address,
            is_virtual,
            virtual_url,
            registration_url,
            capacity,
            initiative_id,
            program_id,
            created_at: clock::format_micros(created_at),
            updated_at: clock::format_micros(updated_at),
        })
    }

    /// The client-settable fields, as a patch starts from.
    pub fn to_new(&self) -> Result<NewEvent, AppError> {
        let row = self.clone();
        Ok(NewEvent {
            title: row.title,
            description: row.description,
            event_type: from_db("events.event_type", &row.event_type)?,
            status: from_db("events.status", &row.status)?,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            location_name: row.location_name,
            address: row.address,
            is_virtual: row.is_virtual,
            virtual_url: row.virtual_url,
            registration_url: row.registration_url,
            capacity: row.capacity,
            initiative_id: row.initiative_id,
            program_id: row.program_id,
        })
    }
}
