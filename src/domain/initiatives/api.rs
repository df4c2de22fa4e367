//! Initiatives on the wire: what clients send and receive, and the rules their fields follow.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::base::error::{AppError, FieldError};
use crate::http::fields::{self, Fields, Patch};
use crate::http::query::{self, ListParams, QueryParams};
use crate::wire_enum;

wire_enum! {
    /// What kind of work the initiative is.
    pub enum Category {
        HealthEquity = "health_equity",
        Education = "education",
        ClinicalCare = "clinical_care",
        EconomicDevelopment = "economic_development",
        CommunityService = "community_service",
        Partnership = "partnership",
        PublicHealth = "public_health",
    }
}

wire_enum! {
    /// Where the initiative stands.
    pub enum InitiativeStatus {
        Planned = "planned",
        Active = "active",
        Completed = "completed",
    }
}

wire_enum! {
    /// A field initiatives can be sorted by.
    pub enum InitiativeSort {
        Name = "name",
        StartedOn = "started_on",
        CreatedAt = "created_at",
        UpdatedAt = "updated_at",
    }
}

/// A community health initiative or program of work.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Initiative {
    /// Assigned by the server; never reused.
    #[schema(example = 1, minimum = 1)]
    pub id: i64,
    /// 1 to 200 characters.
    #[schema(example = "West Side United")]
    pub name: String,
    /// Unique; derived from the name when a create omits it.
    #[schema(example = "west-side-united", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80)]
    pub slug: String,
    /// At most 500 characters.
    #[schema(required = true)]
    pub summary: Option<String>,
    /// At most 10,000 characters.
    #[schema(required = true)]
    pub description: Option<String>,
    pub category: Category,
    /// The office that leads it; at most 200 characters.
    #[schema(required = true, example = "Office of Community Health Equity and Engagement")]
    pub lead_office: Option<String>,
    pub status: InitiativeStatus,
    /// When it started.
    #[schema(required = true, format = "date", example = "2018-01-01")]
    pub started_on: Option<String>,
    /// An absolute http(s) URL.
    #[schema(required = true, format = "uri")]
    pub website_url: Option<String>,
    /// An email address.
    #[schema(required = true, format = "email")]
    pub contact_email: Option<String>,
    /// When the record was created (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub created_at: String,
    /// When the record last changed (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub updated_at: String,
}

/// The fields a client sets on an initiative. POST takes them with the defaults below; PATCH
/// merges a subset into the stored record.
///
/// Single-line text fields refuse control characters (U+0000-U+001F, U+007F-U+009F) and
/// bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069); `summary` and
/// `description` also allow tab, line feed and carriage return and refuse the other control
/// characters. A refused character is a 422 naming the field.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInitiative {
    /// 1 to 200 characters.
    #[schema(
        example = "West Side United",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub name: String,
    /// Unique. Derived from the name when omitted (lower-case ASCII, other characters become `-`,
    /// `-2`, `-3`, … when taken); an explicit slug that is taken is a 409 `slug_taken`.
    #[schema(example = "west-side-united", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 80)]
    pub slug: Option<String>,
    /// At most 500 characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub summary: Option<String>,
    /// At most 10,000 characters.
    #[schema(max_length = 10000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    pub category: Category,
    /// At most 200 characters.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub lead_office: Option<String>,
    /// Defaults to `active`.
    #[serde(default = "default_status")]
    pub status: InitiativeStatus,
    /// `YYYY-MM-DD`.
    #[schema(format = "date", example = "2018-01-01")]
    pub started_on: Option<String>,
    /// An absolute `http`/`https` URL with a host, as browsers parse it (WHATWG URL), that is also
    /// an RFC 3986 URI: `//` right after the scheme, no user name or password, and anything but
    /// ASCII letters, digits and `-._~:/?#[]@!$&'()*+,;=` percent-encoded (punycode for
    /// international host names), so no spaces, backslashes or control characters. Stored as sent.
    #[schema(format = "uri", max_length = 2048)]
    pub website_url: Option<String>,
    /// A valid email address.
    #[schema(format = "email", max_length = 254)]
    pub contact_email: Option<String>,
}

fn default_status() -> InitiativeStatus {
    InitiativeStatus::Active
}

/// A JSON merge patch (RFC 7396) of an initiative: absent fields stay, `null` clears an optional
/// field, required fields cannot be `null`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = InitiativePatch)]
#[serde(deny_unknown_fields)]
pub struct InitiativePatchDoc {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub name: Option<String>,
    #[schema(nullable = false, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 80)]
    pub slug: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub summary: Option<String>,
    #[schema(max_length = 10000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub category: Option<Category>,
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub lead_office: Option<String>,
    #[schema(nullable = false)]
    pub status: Option<InitiativeStatus>,
    #[schema(format = "date")]
    pub started_on: Option<String>,
    #[schema(format = "uri", max_length = 2048)]
    pub website_url: Option<String>,
    #[schema(format = "email", max_length = 254)]
    pub contact_email: Option<String>,
}

fn optional_line(max: usize) -> impl Fn(&Value) -> Result<String, String> {
    fields::single_line(0, max)
}

impl NewInitiative {
    /// Reads a create body, naming every invalid field.
    pub fn from_json(body: Value) -> Result<NewInitiative, AppError> {
        let mut f = Fields::new(body)?;
        let name = f.required("name", &fields::single_line(1, 200));
        let slug = f.optional("slug", &fields::slug);
        let summary = f.optional("summary", &fields::multi_line(0, 500));
        let description = f.optional("description", &fields::multi_line(0, 10_000));
        let category = f.required("category", &fields::one_of::<Category>);
        let lead_office = f.optional("lead_office", &optional_line(200));
        let status = f.defaulted("status", InitiativeStatus::Active, &fields::one_of::<InitiativeStatus>);
        let started_on = f.optional("started_on", &fields::date);
        let website_url = f.optional("website_url", &fields::url);
        let contact_email = f.optional("contact_email", &fields::email);
        f.finish()?;
        let (Some(name), Some(category), Some(status)) = (name, category, status) else {
            return Err(AppError::internal("a required initiative field passed validation without a value"));
        };
        Ok(NewInitiative {
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
        })
    }
}

/// A read merge patch of an initiative.
#[derive(Debug)]
pub struct InitiativePatch {
    name: Patch<String>,
    slug: Patch<String>,
    summary: Patch<String>,
    description: Patch<String>,
    category: Patch<Category>,
    lead_office: Patch<String>,
    status: Patch<InitiativeStatus>,
    started_on: Patch<String>,
    website_url: Patch<String>,
    contact_email: Patch<String>,
    /// Problems found while reading, reported by `apply`.
    errors: Vec<FieldError>,
}

impl InitiativePatch {
    /// Reads a merge-patch body; its field errors are reported by `apply`.
    pub fn from_json(body: Value) -> Result<InitiativePatch, AppError> {
        let mut f = Fields::new(body)?;
        let mut patch = InitiativePatch {
            name: f.patch_required("name", &fields::single_line(1, 200)),
            slug: f.patch_required("slug", &fields::slug),
            summary: f.patch_optional("summary", &fields::multi_line(0, 500)),
            description: f.patch_optional("description", &fields::multi_line(0, 10_000)),
            category: f.patch_required("category", &fields::one_of::<Category>),
            lead_office: f.patch_optional("lead_office", &optional_line(200)),
            status: f.patch_required("status", &fields::one_of::<InitiativeStatus>),
            started_on: f.patch_optional("started_on", &fields::date),
            website_url: f.patch_optional("website_url", &fields::url),
            contact_email: f.patch_optional("contact_email", &fields::email),
            errors: Vec::new(),
        };
        patch.errors = f.into_errors();
        Ok(patch)
    }

    /// The record as it is after the patch; a 422 names every invalid field of the patch.
    pub fn apply(self, mut record: NewInitiative) -> Result<NewInitiative, AppError> {
        let InitiativePatch {
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
            errors,
        } = self;
        fields::fail_if_any(errors)?;
        name.apply(&mut record.name);
        slug.apply_optional(&mut record.slug);
        summary.apply_optional(&mut record.summary);
        description.apply_optional(&mut record.description);
        category.apply(&mut record.category);
        lead_office.apply_optional(&mut record.lead_office);
        status.apply(&mut record.status);
        started_on.apply_optional(&mut record.started_on);
        website_url.apply_optional(&mut record.website_url);
        contact_email.apply_optional(&mut record.contact_email);
        Ok(record)
    }
}

/// The query of `GET /api/v1/initiatives`.
#[derive(Debug, Clone)]
pub struct InitiativeQuery {
    pub category: Option<Category>,
    pub status: Option<InitiativeStatus>,
    /// Lower-cased search text.
    pub q: Option<String>,
    pub list: ListParams<InitiativeSort>,
}

impl InitiativeQuery {
    /// Whether the query matches every initiative (only paging and sorting given).
    pub fn is_unfiltered(&self) -> bool {
        let InitiativeQuery { category, status, q, list } = self;
        category.is_none() && status.is_none() && q.is_none() && list.updated_since.is_none()
    }

    /// Takes the list's parameters from the query string; `QueryParams::finish` then reports any
    /// other parameter as unknown.
    pub fn from_params(params: &mut QueryParams) -> InitiativeQuery {
        InitiativeQuery {
            category: params.get("category", query::one_of::<Category>),
            status: params.get("status", query::one_of::<InitiativeStatus>),
            q: params.search(),
            list: params.list_params(InitiativeSort::Name),
        }
    }
}
