//! Programs on the wire: what clients send and receive, and the rules their fields follow.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::base::error::{AppError, FieldError};
use crate::http::fields::{self, Fields, Patch};
use crate::http::query::{self, ListParams, QueryParams};
use crate::wire_enum;

wire_enum! {
    /// The kind of training program.
    pub enum ProgramType {
        Residency = "residency",
        Fellowship = "fellowship",
        AlliedHealth = "allied_health",
    }
}

wire_enum! {
    /// The RUSH campus that hosts the program.
    pub enum Campus {
        RushUniversityMedicalCenter = "rush_university_medical_center",
        RushOakParkHospital = "rush_oak_park_hospital",
        RushCopleyMedicalCenter = "rush_copley_medical_center",
    }
}

wire_enum! {
    /// A field programs can be sorted by.
    pub enum ProgramSort {
        Name = "name",
        Specialty = "specialty",
        CreatedAt = "created_at",
        UpdatedAt = "updated_at",
    }
}

/// A residency, fellowship or allied-health training program.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Program {
    /// Assigned by the server; never reused.
    #[schema(example = 1, minimum = 1)]
    pub id: i64,
    /// 1 to 200 characters.
    #[schema(example = "Internal Medicine Residency")]
    pub name: String,
    /// Unique; derived from the name when a create omits it.
    #[schema(example = "internal-medicine-residency", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80)]
    pub slug: String,
    pub program_type: ProgramType,
    /// 1 to 120 characters.
    #[schema(example = "Internal Medicine")]
    pub specialty: String,
    /// At most 120 characters.
    #[schema(required = true, example = "Department of Internal Medicine")]
    pub department: Option<String>,
    pub campus: Campus,
    /// At most 10,000 characters.
    #[schema(required = true)]
    pub description: Option<String>,
    /// Length of training in years, 1 to 10.
    #[schema(example = 3, minimum = 1, maximum = 10)]
    pub duration_years: i32,
    /// New positions offered each year, 0 to 500.
    #[schema(required = true, example = 12, minimum = 0, maximum = 500)]
    pub positions_per_year: Option<i32>,
    /// The accrediting body, e.g. `ACGME` or `ASHP`.
    #[schema(required = true, example = "ACGME")]
    pub accreditor: Option<String>,
    /// The accreditor's program number; for `ACGME`, its 10-digit program number.
    #[schema(required = true, example = "1401600001")]
    pub accreditation_id: Option<String>,
    /// At most 200 characters.
    #[schema(required = true)]
    pub director_name: Option<String>,
    /// An email address for applicants.
    #[schema(required = true, format = "email")]
    pub contact_email: Option<String>,
    /// An absolute http(s) URL.
    #[schema(required = true, format = "uri")]
    pub website_url: Option<String>,
    /// Whether the program takes applications now.
    pub accepting_applications: bool,
    /// The last day to apply.
    #[schema(required = true, format = "date", example = "2027-09-15")]
    pub application_deadline: Option<String>,
    /// The NRMP program code that applicants and matching tools name the program by: seven digits,
    /// an upper-case letter and a digit. Unique.
    #[schema(required = true, pattern = "^[0-9]{7}[A-Z][0-9]$", example = "1234140C0")]
    pub nrmp_code: Option<String>,
    /// When the record was created (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub created_at: String,
    /// When the record last changed (UTC, microseconds).
    #[schema(format = "date-time", example = "2026-05-17T15:04:05.123456Z")]
    pub updated_at: String,
}

/// The fields a client sets on a program. POST takes them with the defaults below; PATCH merges a
/// subset into the stored record.
///
/// Single-line text fields refuse control characters (U+0000-U+001F, U+007F-U+009F) and
/// bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069); `description` also
/// allows tab, line feed and carriage return and refuses the other control characters. A refused
/// character is a 422 naming the field.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgram {
    /// 1 to 200 characters.
    #[schema(
        example = "Internal Medicine Residency",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub name: String,
    /// Unique. Derived from the name when omitted (lower-case ASCII, other characters become `-`,
    /// `-2`, `-3`, … when taken); an explicit slug that is taken is a 409 `slug_taken`.
    #[schema(
        example = "internal-medicine-residency",
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        min_length = 1,
        max_length = 80
    )]
    pub slug: Option<String>,
    pub program_type: ProgramType,
    /// 1 to 120 characters.
    #[schema(
        example = "Internal Medicine",
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub specialty: String,
    /// At most 120 characters.
    #[schema(max_length = 120, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub department: Option<String>,
    pub campus: Campus,
    /// At most 10,000 characters.
    #[schema(max_length = 10000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Length of training in years.
    #[schema(example = 3, minimum = 1, maximum = 10)]
    pub duration_years: i32,
    /// New positions offered each year.
    #[schema(minimum = 0, maximum = 500)]
    pub positions_per_year: Option<i32>,
    /// The accrediting body, e.g. `ACGME` or `ASHP`. At most 120 characters.
    #[schema(
        example = "ACGME",
        max_length = 120,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub accreditor: Option<String>,
    /// The accreditor's program number; when `accreditor` is `ACGME`, exactly 10 digits.
    #[schema(
        example = "1401600001",
        max_length = 120,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub accreditation_id: Option<String>,
    /// At most 200 characters.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub director_name: Option<String>,
    /// A valid email address.
    #[schema(format = "email", max_length = 254)]
    pub contact_email: Option<String>,
    /// An absolute `http`/`https` URL with a host, as browsers parse it (WHATWG URL), that is also
    /// an RFC 3986 URI: `//` right after the scheme, no user name or password, and anything but
    /// ASCII letters, digits and `-._~:/?#[]@!$&'()*+,;=` percent-encoded (punycode for
    /// international host names), so no spaces, backslashes or control characters. Stored as sent.
    #[schema(format = "uri", max_length = 2048)]
    pub website_url: Option<String>,
    /// Defaults to `true`.
    #[serde(default)]
    #[schema(default = true)]
    pub accepting_applications: bool,
    /// `YYYY-MM-DD`.
    #[schema(format = "date", example = "2027-09-15")]
    pub application_deadline: Option<String>,
    /// The NRMP program code: seven digits, an upper-case letter and a digit (e.g. `1234140C0`).
    /// Unique: a code another program has is a 409 `nrmp_code_taken`.
    #[schema(pattern = "^[0-9]{7}[A-Z][0-9]$", example = "1234140C0")]
    pub nrmp_code: Option<String>,
}

/// A JSON merge patch (RFC 7396) of a program: absent fields stay, `null` clears an optional
/// field, required fields cannot be `null`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = ProgramPatch)]
#[serde(deny_unknown_fields)]
pub struct ProgramPatchDoc {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub name: Option<String>,
    #[schema(nullable = false, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 80)]
    pub slug: Option<String>,
    #[schema(nullable = false)]
    pub program_type: Option<ProgramType>,
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub specialty: Option<String>,
    #[schema(max_length = 120, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub department: Option<String>,
    #[schema(nullable = false)]
    pub campus: Option<Campus>,
    #[schema(max_length = 10000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    #[schema(nullable = false, minimum = 1, maximum = 10)]
    pub duration_years: Option<i32>,
    #[schema(minimum = 0, maximum = 500)]
    pub positions_per_year: Option<i32>,
    #[schema(max_length = 120, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub accreditor: Option<String>,
    #[schema(max_length = 120, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub accreditation_id: Option<String>,
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$")]
    pub director_name: Option<String>,
    #[schema(format = "email", max_length = 254)]
    pub contact_email: Option<String>,
    #[schema(format = "uri", max_length = 2048)]
    pub website_url: Option<String>,
    #[schema(nullable = false)]
    pub accepting_applications: Option<bool>,
    #[schema(format = "date")]
    pub application_deadline: Option<String>,
    #[schema(pattern = "^[0-9]{7}[A-Z][0-9]$")]
    pub nrmp_code: Option<String>,
}

const ACCREDITOR_MAX: usize = 120;

/// Whether `text` is an NRMP program code: `^[0-9]{7}[A-Z][0-9]$`.
pub fn is_nrmp_code(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 9
        && bytes[..7].iter().all(u8::is_ascii_digit)
        && bytes[7].is_ascii_uppercase()
        && bytes[8].is_ascii_digit()
}

fn nrmp_code(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(text) if is_nrmp_code(text) => Ok(text.to_owned()),
        Some(_) => {
            Err("must be an NRMP program code: seven digits, an upper-case letter and a digit (e.g. 1234140C0)"
                .to_owned())
        }
        None => Err(format!("must be a string, not {}", fields::json_kind(value))),
    }
}

fn optional_line(max: usize) -> impl Fn(&Value) -> Result<String, String> {
    fields::single_line(0, max)
}

impl NewProgram {
    /// Reads a create body, naming every invalid field.
    pub fn from_json(body: Value) -> Result<NewProgram, AppError> {
        let mut f = Fields::new(body)?;
        let name = f.required("name", &fields::single_line(1, 200));
        let slug = f.optional("slug", &fields::slug);
        let program_type = f.required("program_type", &fields::one_of::<ProgramType>);
        let specialty = f.required("specialty", &fields::single_line(1, 120));
        let department = f.optional("department", &optional_line(120));
        let campus = f.required("campus", &fields::one_of::<Campus>);
        let description = f.optional("description", &fields::multi_line(0, 10_000));
        let duration_years = f.required("duration_years", &fields::small_integer(1, 10));
        let positions_per_year = f.optional("positions_per_year", &fields::small_integer(0, 500));
        let accreditor = f.optional("accreditor", &optional_line(ACCREDITOR_MAX));
        let accreditation_id = f.optional("accreditation_id", &optional_line(ACCREDITOR_MAX));
        let director_name = f.optional("director_name", &optional_line(200));
        let contact_email = f.optional("contact_email", &fields::email);
        let website_url = f.optional("website_url", &fields::url);
        let accepting_applications = f.defaulted("accepting_applications", true, &fields::boolean);
        let application_deadline = f.optional("application_deadline", &fields::date);
        let nrmp_code = f.optional("nrmp_code", &nrmp_code);
        if let Some(error) = accreditation_error(accreditor.as_deref(), accreditation_id.as_deref()) {
            f.check(false, &error.field, &error.message);
        }
        f.finish()?;
        let (
            Some(name),
            Some(program_type),
            Some(specialty),
            Some(campus),
            Some(duration_years),
            Some(accepting_applications),
        ) = (name, program_type, specialty, campus, duration_years, accepting_applications)
        else {
            return Err(AppError::internal("a required program field passed validation without a value"));
        };
        Ok(NewProgram {
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
        })
    }
}

/// ACGME identifies each accredited program by a 10-digit number.
fn accreditation_error(accreditor: Option<&str>, accreditation_id: Option<&str>) -> Option<FieldError> {
    let is_acgme = accreditor.is_some_and(|a| a.trim().eq_ignore_ascii_case("acgme"));
    match accreditation_id {
        Some(id) if is_acgme && !(id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit())) => Some(FieldError::body(
            "accreditation_id",
            "must be the ACGME's 10-digit program number when accreditor is ACGME",
        )),
        _ => None,
    }
}

/// A read merge patch of a program.
#[derive(Debug)]
pub struct ProgramPatch {
    name: Patch<String>,
    slug: Patch<String>,
    program_type: Patch<ProgramType>,
    specialty: Patch<String>,
    department: Patch<String>,
    campus: Patch<Campus>,
    description: Patch<String>,
    duration_years: Patch<i32>,
    positions_per_year: Patch<i32>,
    accreditor: Patch<String>,
    accreditation_id: Patch<String>,
    director_name: Patch<String>,
    contact_email: Patch<String>,
    website_url: Patch<String>,
    accepting_applications: Patch<bool>,
    application_deadline: Patch<String>,
    nrmp_code: Patch<String>,
    /// Problems found while reading, reported together with those of the patched record.
    errors: Vec<FieldError>,
}

impl ProgramPatch {
    /// Reads a merge-patch body; its field errors are reported by `apply`.
    pub fn from_json(body: Value) -> Result<ProgramPatch, AppError> {
        let mut f = Fields::new(body)?;
        let mut patch = ProgramPatch {
            name: f.patch_required("name", &fields::single_line(1, 200)),
            slug: f.patch_required("slug", &fields::slug),
            program_type: f.patch_required("program_type", &fields::one_of::<ProgramType>),
            specialty: f.patch_required("specialty", &fields::single_line(1, 120)),
            department: f.patch_optional("department", &optional_line(120)),
            campus: f.patch_required("campus", &fields::one_of::<Campus>),
            description: f.patch_optional("description", &fields::multi_line(0, 10_000)),
            duration_years: f.patch_required("duration_years", &fields::small_integer(1, 10)),
            positions_per_year: f.patch_optional("positions_per_year", &fields::small_integer(0, 500)),
            accreditor: f.patch_optional("accreditor", &optional_line(ACCREDITOR_MAX)),
            accreditation_id: f.patch_optional("accreditation_id", &optional_line(ACCREDITOR_MAX)),
            director_name: f.patch_optional("director_name", &optional_line(200)),
            contact_email: f.patch_optional("contact_email", &fields::email),
            website_url: f.patch_optional("website_url", &fields::url),
            accepting_applications: f.patch_required("accepting_applications", &fields::boolean),
            application_deadline: f.patch_optional("application_deadline", &fields::date),
            nrmp_code: f.patch_optional("nrmp_code", &nrmp_code),
            errors: Vec::new(),
        };
        patch.errors = f.into_errors();
        Ok(patch)
    }

    /// The record as it is after the patch, checked as a whole: a 422 names every invalid field
    /// of the patch and every rule the patched record breaks.
    pub fn apply(self, mut record: NewProgram) -> Result<NewProgram, AppError> {
        let ProgramPatch {
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
            mut errors,
        } = self;
        name.apply(&mut record.name);
        slug.apply_optional(&mut record.slug);
        program_type.apply(&mut record.program_type);
        specialty.apply(&mut record.specialty);
        department.apply_optional(&mut record.department);
        campus.apply(&mut record.campus);
        description.apply_optional(&mut record.description);
        duration_years.apply(&mut record.duration_years);
        positions_per_year.apply_optional(&mut record.positions_per_year);
        accreditor.apply_optional(&mut record.accreditor);
        accreditation_id.apply_optional(&mut record.accreditation_id);
        director_name.apply_optional(&mut record.director_name);
        contact_email.apply_optional(&mut record.contact_email);
        website_url.apply_optional(&mut record.website_url);
        accepting_applications.apply(&mut record.accepting_applications);
        application_deadline.apply_optional(&mut record.application_deadline);
        nrmp_code.apply_optional(&mut record.nrmp_code);
        let already = |field: &str| errors.iter().any(|e| e.field == field);
        if !already("accreditor")
            && !already("accreditation_id")
            && let Some(error) = accreditation_error(record.accreditor.as_deref(), record.accreditation_id.as_deref())
        {
            errors.push(error);
        }
        fields::fail_if_any(errors)?;
        Ok(record)
    }
}

/// The query of `GET /api/v1/programs`.
#[derive(Debug, Clone)]
pub struct ProgramQuery {
    pub program_type: Option<ProgramType>,
    pub campus: Option<Campus>,
    pub specialty: Option<String>,
    pub accepting_applications: Option<bool>,
    pub nrmp_code: Option<String>,
    /// Lower-cased search text.
    pub q: Option<String>,
    pub list: ListParams<ProgramSort>,
}

impl ProgramQuery {
    /// Whether the query matches every program (only paging and sorting given).
    pub fn is_unfiltered(&self) -> bool {
        let ProgramQuery { program_type, campus, specialty, accepting_applications, nrmp_code, q, list } = self;
        program_type.is_none()
            && campus.is_none()
            && specialty.is_none()
            && accepting_applications.is_none()
            && nrmp_code.is_none()
            && q.is_none()
            && list.updated_since.is_none()
    }

    /// Takes the list's parameters from the query string; `QueryParams::finish` then reports any
    /// other parameter as unknown.
    pub fn from_params(params: &mut QueryParams) -> ProgramQuery {
        ProgramQuery {
            program_type: params.get("program_type", query::one_of::<ProgramType>),
            campus: params.get("campus", query::one_of::<Campus>),
            specialty: params.get("specialty", query::text(120)),
            accepting_applications: params.get("accepting_applications", query::boolean),
            nrmp_code: params.get("nrmp_code", |text| {
                if is_nrmp_code(text) {
                    Ok(text.to_owned())
                } else {
                    Err("must be an NRMP program code: seven digits, an upper-case letter and a digit".to_owned())
                }
            }),
            q: params.search(),
            list: params.list_params(ProgramSort::Name),
        }
    }
}
