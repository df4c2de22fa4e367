//! schema.org JSON-LD for public pages: search engines read events and programs from it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::base::error::AppError;
use crate::base::wire::WireEnum;
use crate::domain::events::api::{Event, EventStatus};
use crate::domain::programs::api::{Campus, Program, ProgramType};

pub const LD_JSON: &str = "application/ld+json";
const CONTEXT: &str = "https://schema.org";

/// JSON-LD that is safe to paste into `<script type="application/ld+json">`: `<`, `>` and `&`
/// written as escapes, so no text can close the script element or open a comment, and U+2028 and
/// U+2029 too, which old JavaScript parsers take for line ends. Outside strings JSON has none of
/// these characters, so escaping them in the serialized text changes no value.
pub fn script_safe_json(value: &impl Serialize) -> Result<Vec<u8>, serde_json::Error> {
    let text = serde_json::to_string(value)?;
    let mut safe = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            '\u{2028}' => safe.push_str("\\u2028"),
            '\u{2029}' => safe.push_str("\\u2029"),
            other => safe.push(other),
        }
    }
    Ok(safe.into_bytes())
}

/// `200` with `value` as script-safe JSON-LD and its ETag, or `304`.
pub fn respond(request: &actix_web::HttpRequest, value: &impl Serialize) -> Result<actix_web::HttpResponse, AppError> {
    let body = script_safe_json(value).map_err(AppError::internal)?;
    Ok(crate::http::respond::document(request, LD_JSON, body))
}

/// The organisation behind every event and program.
#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    #[serde(rename = "@type")]
    #[schema(example = "Organization")]
    pub kind: &'static str,
    #[schema(example = "RUSH University System for Health")]
    pub name: String,
}

/// Where an event happens: a `Place` or a `VirtualLocation`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Location {
    #[serde(rename = "@type")]
    #[schema(example = "Place")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A schema.org `Event`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventLd {
    #[serde(rename = "@context")]
    #[schema(example = "https://schema.org")]
    pub context: &'static str,
    #[serde(rename = "@type")]
    #[schema(example = "Event")]
    pub kind: &'static str,
    #[serde(rename = "@id")]
    #[schema(example = "/api/v1/events/1")]
    pub id: String,
    pub identifier: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schema(format = "date-time")]
    pub start_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "date-time")]
    pub end_date: Option<String>,
    /// `https://schema.org/EventScheduled` or `https://schema.org/EventCancelled`.
    pub event_status: String,
    /// `https://schema.org/OfflineEventAttendanceMode` or `https://schema.org/OnlineEventAttendanceMode`.
    pub event_attendance_mode: String,
    pub location: Vec<Location>,
    pub organizer: Organization,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_attendee_capacity: Option<i32>,
    pub keywords: String,
}

/// A schema.org `EducationalOccupationalProgram`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgramLd {
    #[serde(rename = "@context")]
    #[schema(example = "https://schema.org")]
    pub context: &'static str,
    #[serde(rename = "@type")]
    #[schema(example = "EducationalOccupationalProgram")]
    pub kind: &'static str,
    #[serde(rename = "@id")]
    #[schema(example = "/api/v1/programs/1")]
    pub id: String,
    pub identifier: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Residency`, `Fellowship` or `Allied health training`.
    pub program_type: &'static str,
    /// The specialty.
    pub occupational_category: String,
    /// ISO 8601 duration, e.g. `P3Y`.
    pub time_to_complete: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "date")]
    pub application_deadline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_enrollment: Option<i32>,
    pub provider: Organization,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

fn rush() -> Organization {
    Organization { kind: "Organization", name: "RUSH University System for Health".to_owned() }
}

pub fn event(event: &Event) -> EventLd {
    let mut location = Vec::new();
    if event.location_name.is_some() || event.address.is_some() {
        location.push(Location {
            kind: "Place",
            name: event.location_name.clone(),
            address: event.address.clone(),
            url: None,
        });
    }
    if event.is_virtual {
        location.push(Location { kind: "VirtualLocation", name: None, address: None, url: event.virtual_url.clone() });
    }
    let status = match event.status {
        EventStatus::Scheduled | EventStatus::Completed => "EventScheduled",
        EventStatus::Cancelled => "EventCancelled",
    };
    let mode = match (event.is_virtual, location.len()) {
        (true, 2) => "MixedEventAttendanceMode",
        (true, _) => "OnlineEventAttendanceMode",
        (false, _) => "OfflineEventAttendanceMode",
    };
    EventLd {
        context: CONTEXT,
        kind: "Event",
        id: format!("/api/v1/events/{}", event.id),
        identifier: event.id.to_string(),
        name: event.title.clone(),
        description: event.description.clone(),
        start_date: event.starts_at.clone(),
        end_date: event.ends_at.clone(),
        event_status: format!("{CONTEXT}/{status}"),
        event_attendance_mode: format!("{CONTEXT}/{mode}"),
        location,
        organizer: rush(),
        url: event.registration_url.clone(),
        maximum_attendee_capacity: event.capacity,
        keywords: event.event_type.as_str().to_owned(),
    }
}

pub fn program(program: &Program) -> ProgramLd {
    let program_type = match program.program_type {
        ProgramType::Residency => "Residency",
        ProgramType::Fellowship => "Fellowship",
        ProgramType::AlliedHealth => "Allied health training",
    };
    let provider = match program.campus {
        Campus::RushUniversityMedicalCenter => "RUSH University Medical Center",
        Campus::RushOakParkHospital => "RUSH Oak Park Hospital",
        Campus::RushCopleyMedicalCenter => "RUSH Copley Medical Center",
    };
    ProgramLd {
        context: CONTEXT,
        kind: "EducationalOccupationalProgram",
        id: format!("/api/v1/programs/{}", program.id),
        identifier: program.slug.clone(),
        name: program.name.clone(),
        description: program.description.clone(),
        program_type,
        occupational_category: program.specialty.clone(),
        time_to_complete: format!("P{}Y", program.duration_years),
        application_deadline: program.application_deadline.clone(),
        maximum_enrollment: program.positions_per_year,
        provider: Organization { kind: "Hospital", name: provider.to_owned() },
        url: program.website_url.clone(),
    }
}
