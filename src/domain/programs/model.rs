//! Programs as Diesel rows.

use diesel::prelude::*;

use crate::base::clock::{self, Micros};
use crate::base::error::AppError;
use crate::base::schema::programs;
use crate::base::wire::{WireEnum, from_db};
use crate::domain::programs::api::{NewProgram, Program};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = programs)]
pub struct ProgramRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub program_type: String,
    pub specialty: String,
    pub department: Option<String>,
    pub campus: String,
    pub description: Option<String>,
    pub duration_years: i32,
    pub positions_per_year: Option<i32>,
    pub accreditor: Option<String>,
    pub accreditation_id: Option<String>,
    pub director_name: Option<String>,
    pub contact_email: Option<String>,
    pub website_url: Option<String>,
    pub accepting_applications: bool,
    pub application_deadline: Option<String>,
    pub nrmp_code: Option<String>,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Every column but the id: inserted on create, written whole on update.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = programs, treat_none_as_null = true)]
pub struct ProgramChanges {
    pub name: String,
    pub slug: String,
    pub program_type: &'static str,
    pub specialty: String,
    pub department: Option<String>,
    pub campus: &'static str,
    pub description: Option<String>,
    pub duration_years: i32,
    pub positions_per_year: Option<i32>,
    pub accreditor: Option<String>,
    pub accreditation_id: Option<String>,
    pub director_name: Option<String>,
    pub contact_email: Option<String>,
    pub website_url: Option<String>,
    pub accepting_applications: bool,
    pub application_deadline: Option<String>,
    pub nrmp_code: Option<String>,
    pub search_text: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl ProgramChanges {
    /// The row for `record`, whose slug has been settled.
    pub fn new(record: NewProgram, slug: String, created_at: Micros, updated_at: Micros) -> ProgramChanges {
        let NewProgram {
            name,
            slug: _,
            program_type,
            specialty,
            department,
            campus,
            description,
            duration_years,
            positions_per_year,
            accreditor,
            accreditation_id,
            director_name,
            contact_email,
            website_url,
            accepting_applications,
            application_deadline,
            nrmp_code,
        } = record;
        let search_text = crate::db::search_text(&[Some(&name), description.as_deref()]);
        ProgramChanges {
            name,
            slug,
            program_type: program_type.as_str(),
            specialty,
            department,
            campus: campus.as_str(),
            description,
            duration_years,
            positions_per_year,
            accreditor,
            accreditation_id,
            director_name,
            contact_email,
            website_url,
            accepting_applications,
            application_deadline,
            nrmp_code,
            search_text,
            created_at,
            updated_at,
        }
    }
}

impl ProgramRow {
    pub fn into_program(self) -> Result<Program, AppError> {
        let ProgramRow {
            id,
            name,
            slug,
            program_type,
            specialty,
            department,
            campus,
            description,
            duration_years,
            positions_per_year,
            accreditor,
            accreditation_id,
            director_name,
            contact_email,
            website_url,
            accepting_applications,
            application_deadline,
            nrmp_code,
            search_text: _,
            created_at,
            updated_at,
        } = self;
        Ok(Program {
            id,
            name,
            slug,
            program_type: from_db("programs.program_type", &program_type)?,
            specialty,
            department,
            campus: from_db("programs.campus", &campus)?,
            description,
            duration_years,
            positions_per_year,
            accreditor,
            accreditation_id,
            director_name,
            contact_email,
            website_url,
            accepting_applications,
            application_deadline,
            nrmp_code,
            created_at: clock::format_micros(created_at),
            updated_at: clock::format_micros(updated_at),
        })
    }

    /// The client-settable fields, as a patch starts from.
    pub fn to_new(&self) -> Result<NewProgram, AppError> {
        let row = self.clone();
        Ok(NewProgram {
            name: row.name,
            slug: Some(row.slug),
            program_type: from_db("programs.program_type", &row.program_type)?,
            specialty: row.specialty,
            department: row.department,
            campus: from_db("programs.campus", &row.campus)?,
            description: row.description,
            duration_years: row.duration_years,
            positions_per_year: row.positions_per_year,
            accreditor: row.accreditor,
            accreditation_id: row.accreditation_id,
            director_name: row.director_name,
            contact_email: row.contact_email,
            website_url: row.website_url,
            accepting_applications: row.accepting_applications,
            application_deadline: row.application_deadline,
            nrmp_code: row.nrmp_code,
        })
    }
}
