//! Event requests on the wire: what the public and staff send and receive, and the rules.

use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::base::clock::Micros;
use crate::base::error::{AppError, FieldError};
use crate::base::wire::WireEnum;
use crate::domain::events::api::EventType;
use crate::http::fields::{self, Fields, Patch};
use crate::http::query::{self, ListParams, QueryParams};
use crate::wire_enum;

wire_enum! {
    /// Where a request stands in its review.
    pub enum RequestStatus {
        Submitted = "submitted",
        InReview = "in_review",
        Accepted = "accepted",
        Declined = "declined",
        Withdrawn = "withdrawn",
    }
}

impl RequestStatus {
    /// Whether staff may move a request from `self` to `to` (a status kept as it is is no move).
    pub fn staff_may_move_to(self, to: RequestStatus) -> bool {
        use RequestStatus::{Accepted, Declined, InReview, Submitted};
        self == to
            || matches!(
                (self, to),
                (Submitted, InReview | Accepted | Declined) | (InReview, Accepted | Declined) | (Declined, InReview)
            )
    }

    /// Whether the requester may still withdraw.
    pub fn may_withdraw(self) -> bool {
        matches!(self, RequestStatus::Submitted | RequestStatus::InReview)
    }
}

wire_enum! {
    /// What the organization asks RUSH to bring.
    pub enum Support {
        HealthScreenings = "health_screenings",
        HealthEducation = "health_education",
        InformationTable = "information_table",
        Speaker = "speaker",
        Volunteers = "volunteers",
        Vaccinations = "vaccinations",
        Sponsorship = "sponsorship",
    }
}

wire_enum! {
    /// A field event requests can be sorted by.
    pub enum RequestSort {
        CreatedAt = "created_at",
        StartsAt = "starts_at",
        OrganizationName = "organization_name",
        UpdatedAt = "updated_at",
    }
}

/// A community organization's request for RUSH to take part in its event. Contact details
/// (`contact_name`, `contact_email`, `contact_phone`) are shown only to the requester (through the
/// status link) and to staff with the `requests` scope; they become `null` once erased.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventRequest {
    /// Assigned by the server; never reused. Staff address the request by it.
    #[schema(example = 7, minimum = 1)]
    pub id: i64,
    /// The request's reference, to quote in correspondence: `ER-` and 8 characters.
    #[schema(example = "ER-7KQ2M9XD", pattern = "^ER-[A-HJ-NP-Z2-9]{8}$")]
    pub reference: String,
    #[schema(example = "Near West Side Community Council")]
    pub organization_name: String,
    /// `null` once erased (`erased_at`).
    #[schema(required = true, example = "Jordan Rivera")]
    pub contact_name: Option<String>,
    /// `null` once erased (`erased_at`).
    #[schema(required = true, format = "email", example = "jordan@example.org")]
    pub contact_email: Option<String>,
    #[schema(required = true, example = "+1 (312) 555-0100")]
    pub contact_phone: Option<String>,
    #[schema(example = "West Side Health Fair")]
    pub event_title: String,
    #[schema(required = true)]
    pub event_description: Option<String>,
    pub event_type: EventType,
    /// What the organization asks for, in the order given.
    pub requested_support: Vec<Support>,
    /// When the event starts (UTC; fractional seconds only when given).
    #[schema(format = "date-time", example = "2027-06-12T15:00:00Z")]
    pub starts_at: String,
    #[schema(required = true, format = "date-time", example = "2027-06-12T19:00:00Z")]
    pub ends_at: Option<String>,
    #[schema(required = true, example = "Malcolm X College")]
    pub location_name: Option<String>,
    #[schema(required = true, example = "1900 W Jackson Blvd, Chicago, IL 60612")]
    pub address: Option<String>,
    #[schema(required = true, minimum = 1, maximum = 100000, example = 300)]
    pub expected_attendance: Option<i32>,
    pub status: RequestStatus,
    /// Staff's note on the decision, shown to the requester.
    #[schema(required = true)]
    pub decision_note: Option<String>,
    /// The event RUSH created for the request, once accepted.
    #[schema(required = true, minimum = 1)]
    pub event_id: Option<i64>,
    /// When the contact details were erased (retention), if they were.
    #[schema(required = true, format = "date-time")]
    pub erased_at: Option<String>,
    #[schema(format = "date-time", example = "2026-11-29T15:04:05.123456Z")]
    pub created_at: String,
    #[schema(format = "date-time", example = "2026-11-29T15:04:05.123456Z")]
    pub updated_at: String,
}

/// The answer to a submission: the request, and the private link the requester follows it with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmittedEventRequest {
    #[serde(flatten)]
    pub request: EventRequest,
    /// The requester's private link to the request (also the `Location`): shown this once, stored
    /// only as a hash. Anyone holding it can read and withdraw the request.
    #[schema(
        example = "/api/v1/event-requests/status/3f9c0a6e2b7d41c5a8e9f0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"
    )]
    pub status_url: String,
}

/// A submission. Single-line text fields refuse control characters and bidirectional overrides;
/// `event_description` also allows tab, line feed and carriage return.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEventRequest {
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "Near West Side Community Council"
    )]
    pub organization_name: String,
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "Jordan Rivera"
    )]
    pub contact_name: String,
    /// A valid email address.
    #[schema(format = "email", max_length = 254, example = "jordan@example.org")]
    pub contact_email: String,
    /// At most 40 characters: digits, spaces and `+ ( ) - .`.
    #[schema(max_length = 40, pattern = r"^[0-9 +().-]*$", example = "+1 (312) 555-0100")]
    pub contact_phone: Option<String>,
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$",
        example = "West Side Health Fair"
    )]
    pub event_title: String,
    /// At most 5,000 characters.
    #[schema(max_length = 5000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub event_description: Option<String>,
    pub event_type: EventType,
    /// 1 to 7 distinct values; a bad item is named by its JSON Pointer (`/requested_support/2`).
    #[schema(min_items = 1, max_items = 7)]
    pub requested_support: Vec<Support>,
    /// RFC 3339 with an offset; in the future.
    #[schema(value_type = String, format = DateTime, example = "2027-06-12T10:00:00-05:00")]
    pub starts_at: String,
    /// RFC 3339 with an offset; after `starts_at`.
    #[schema(value_type = Option<String>, format = DateTime, example = "2027-06-12T14:00:00-05:00")]
    pub ends_at: Option<String>,
    /// At most 200 characters.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub location_name: Option<String>,
    /// At most 300 characters.
    #[schema(max_length = 300, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub address: Option<String>,
    /// 1 to 100,000.
    #[schema(minimum = 1, maximum = 100000)]
    pub expected_attendance: Option<i32>,
}

/// A submission as read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub organization_name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    pub event_title: String,
    pub event_description: Option<String>,
    pub event_type: EventType,
    pub requested_support: Vec<Support>,
    pub starts_at: Micros,
    pub ends_at: Option<Micros>,
    pub location_name: Option<String>,
    pub address: Option<String>,
    pub expected_attendance: Option<i32>,
}

fn phone(value: &Value) -> Result<String, String> {
    let text = value.as_str().ok_or_else(|| "must be a string".to_owned())?;
    if text.chars().count() > 40 {
        return Err("must be at most 40 characters long".to_owned());
    }
    if !text.chars().all(|c| c.is_ascii_digit() || " +()-.".contains(c)) {
        return Err("may hold only digits, spaces and + ( ) - .".to_owned());
    }
    Ok(text.to_owned())
}

/// `requested_support`: 1 to 7 distinct values; each bad item named by its own JSON Pointer.
fn read_support(f: &mut Fields) -> Option<Vec<Support>> {
    let Some(value) = f.take_raw("requested_support") else {
        f.check(false, "requested_support", "is required");
        return None;
    };
    let Some(items) = value.as_array() else {
        f.check(false, "requested_support", "must be an array of 1 to 7 distinct values");
        return None;
    };
    if items.is_empty() || items.len() > Support::ALL.len() {
        f.check(false, "requested_support", "must hold 1 to 7 distinct values");
        return None;
    }
    let mut chosen = Vec::with_capacity(items.len());
    let mut valid = true;
    for (index, item) in items.iter().enumerate() {
        let bad = |message: String| FieldError {
            field: "requested_support".to_owned(),
            pointer: Some(format!("/requested_support/{index}")),
            parameter: None,
            message,
        };
        match fields::one_of::<Support>(item) {
            Ok(support) if chosen.contains(&support) => {
                f.push(bad(format!("repeats '{}'; each value may appear once", support.as_str())));
                valid = false;
            }
            Ok(support) => chosen.push(support),
            Err(message) => {
                f.push(bad(message));
                valid = false;
            }
        }
    }
    valid.then_some(chosen)
}

impl Submission {
    /// Reads a submission, naming every invalid field; `now` decides what "in the future" is.
    pub fn from_json(body: Value, now: Micros) -> Result<Submission, AppError> {
        let mut f = Fields::new(body)?;
        let organization_name = f.required("organization_name", &fields::single_line(1, 200));
        let contact_name = f.required("contact_name", &fields::single_line(1, 200));
        let contact_email = f.required("contact_email", &fields::email);
        let contact_phone = f.optional("contact_phone", &phone);
        let event_title = f.required("event_title", &fields::single_line(1, 200));
        let event_description = f.optional("event_description", &fields::multi_line(0, 5000));
        let event_type = f.required("event_type", &fields::one_of::<EventType>);
        let requested_support = read_support(&mut f);
        let starts_at = f.required("starts_at", &fields::instant);
        let ends_at = f.optional("ends_at", &fields::instant);
        let location_name = f.optional("location_name", &fields::single_line(0, 200));
        let address = f.optional("address", &fields::single_line(0, 300));
        let expected_attendance = f.optional("expected_attendance", &fields::small_integer(1, 100_000));
        if let Some(starts_at) = starts_at {
            f.check(starts_at > now, "starts_at", "must be in the future");
            if let Some(ends_at) = ends_at {
                f.check(ends_at > starts_at, "ends_at", "must be after starts_at");
            }
        }
        f.finish()?;
        let (
            Some(organization_name),
            Some(contact_name),
            Some(contact_email),
            Some(event_title),
            Some(event_type),
            Some(requested_support),
            Some(starts_at),
        ) = (organization_name, contact_name, contact_email, event_title, event_type, requested_support, starts_at)
        else {
            return Err(AppError::internal("a required event request field passed validation without a value"));
        };
        Ok(Submission {
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
        })
    }
}

/// What staff may change: `status` (along the workflow), `decision_note` and `event_id`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = EventRequestPatch)]
#[serde(deny_unknown_fields)]
pub struct EventRequestPatchDoc {
    /// `submitted` → `in_review`, `accepted` or `declined`; `in_review` → `accepted` or
    /// `declined`; `declined` → `in_review`. Any other change is a 409 `invalid_transition`.
    #[schema(nullable = false)]
    pub status: Option<RequestStatus>,
    /// At most 2,000 characters; shown to the requester.
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub decision_note: Option<String>,
    /// The id of an existing event.
    #[schema(minimum = 1)]
    pub event_id: Option<i64>,
}

/// A read staff patch.
#[derive(Debug)]
pub struct StaffPatch {
    pub status: Patch<RequestStatus>,
    pub decision_note: Patch<String>,
    pub event_id: Patch<i64>,
}

impl StaffPatch {
    pub fn from_json(body: Value) -> Result<StaffPatch, AppError> {
        let mut f = Fields::new(body)?;
        let patch = StaffPatch {
            status: f.patch_required("status", &fields::one_of::<RequestStatus>),
            decision_note: f.patch_optional("decision_note", &fields::multi_line(0, 2000)),
            event_id: f.patch_optional("event_id", &fields::record_id),
        };
        f.finish()?;
        Ok(patch)
    }
}

/// The query of `GET /api/v1/event-requests`.
#[derive(Debug, Clone)]
pub struct RequestQuery {
    pub status: Option<RequestStatus>,
    pub event_type: Option<EventType>,
    pub starts_after: Option<Micros>,
    pub starts_before: Option<Micros>,
    /// Lower-cased search text.
    pub q: Option<String>,
    pub list: ListParams<RequestSort>,
}

impl RequestQuery {
    pub fn from_request(request: &HttpRequest) -> Result<(RequestQuery, Vec<(String, String)>), AppError> {
        let mut params = QueryParams::from_request(request)?;
        let query = RequestQuery {
            status: params.get("status", query::one_of::<RequestStatus>),
            event_type: params.get("event_type", query::one_of::<EventType>),
            starts_after: params.get("starts_after", query::instant),
            starts_before: params.get("starts_before", query::instant),
            q: params.search(),
            list: params.list_params_newest_first(RequestSort::CreatedAt),
        };
        Ok((query, params.finish()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staff_workflow_is_the_contract_table() {
        use RequestStatus::*;
        let allowed = [
            (Submitted, InReview),
            (Submitted, Accepted),
            (Submitted, Declined),
            (InReview, Accepted),
            (InReview, Declined),
            (Declined, InReview),
        ];
        for &from in RequestStatus::ALL {
            for &to in RequestStatus::ALL {
                let expected = from == to || allowed.contains(&(from, to));
                assert_eq!(from.staff_may_move_to(to), expected, "{from:?} -> {to:?}");
            }
        }
        assert!(Submitted.may_withdraw() && InReview.may_withdraw());
        assert!(!Accepted.may_withdraw() && !Declined.may_withdraw() && !Withdrawn.may_withdraw());
    }
}
