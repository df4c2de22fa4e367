//! Initiatives as Diesel rows.

use diesel::prelude::*;

use crate::base::clock::{self, Micros};
use crate::base::error::AppError;
use crate::base::schema::initiatives;
use crate::base::wire::{WireEnum, from_db};
use crate::domain::initiatives::api::{Initiative, NewInitiative};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = initiatives)]
pub struct InitiativeRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub category: String,
    pub lead_office: Option<String>,
    pub status: String,
    pub started_on: Option<String>,
    pub website_url: Option<String>,
    pub contact_email: Option<String>,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Every column but the id: inserted on create, written whole on update.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = initiatives, treat_none_as_null = true)]
pub struct InitiativeChanges {
    pub name: String,
    pub slug: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub category: &'static str,
    pub lead_office: Option<String>,
    pub status: &'static str,
    pub started_on: Option<String>,
    pub website_url: Option<String>,
    pub contact_email: Option<String>,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl InitiativeChanges {
    /// The row for `record`, whose slug has been settled.
    pub fn new(record: NewInitiative, slug: String, created_at: Micros, updated_at: Micros) -> InitiativeChanges {
        let NewInitiative {
            name,
            slug: _,
            summary,
            description,
            category,
            lead_office,
            status,
            started_on,
            website_url,
            contact_email,
        } = record;
        let search_text = crate::db::search_text(&[Some(&name), summary.as_deref(), description.as_deref()]);
        InitiativeChanges {
            name,
            slug,
            summary,
            description,
            category: category.as_str(),
            lead_office,
            status: status.as_str(),
            started_on,
            website_url,
            contact_email,
            search_text,
            created_at,
            updated_at,
        }
    }
}

impl InitiativeRow {
    pub fn into_initiative(self) -> Result<Initiative, AppError> {
        let InitiativeRow {
            id,
            name,
            slug,
            summary,
            description,
            category,
            lead_office,
            status,
            started_on,
            website_url,
            contact_email,
            search_text: _,
            created_at,
            updated_at,
        } = self;
        Ok(Initiative {
            id,
            name,
            slug,
            summary,
            description,
            category: from_db("initiatives.category", &category)?,
            lead_office,
            status: from_db("initiatives.status", &status)?,
            started_on,
            website_url,
            contact_email,
            created_at: clock::format_micros(created_at),
            updated_at: clock::format_micros(updated_at),
        })
    }

    /// The client-settable fields, as a patch starts from.
    pub fn to_new(&self) -> Result<NewInitiative, AppError> {
        let row = self.clone();
        Ok(NewInitiative {
            name: row.name,
            slug: Some(row.slug),
            summary: row.summary,
            description: row.description,
            category: from_db("initiatives.category", &row.category)?,
            lead_office: row.lead_office,
            status: from_db("initiatives.status", &row.status)?,
            started_on: row.started_on,
            website_url: row.website_url,
            contact_email: row.contact_email,
        })
    }
}
