//! The OpenAPI 3.1 document, generated from the handlers and wire types.

use serde_json::json;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::base::error::{AppError, FieldError, PROBLEM_JSON, Problem, ProblemCode};
use crate::base::wire::WireEnum;
use crate::domain::relations::Cardinality;
use crate::domain::resources::{RESOURCES, Resource};
use crate::endpoints;
use crate::endpoints::{deletions, health, problems};
use crate::http::rendered::Rendered;
use crate::http::respond;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "RUSH API",
        description = "Residency and fellowship programs, community health initiatives, events and the figures quoted about them (with their sources) of RUSH University System for Health.\n\n\
Reads are public. Writes need `Authorization: Bearer <token>` (tokens come from `rush-api token create`) with the scope `content`; event requests are submitted without a token and reviewed with the scope `requests`. \
A valid token without the needed scope gets 403 `insufficient_scope` and `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"...\"`; each operation names its scopes in its `security` requirement and its description.\n\n\
Every error is `application/problem+json` (RFC 9457) with a stable `code`; a 422 lists every invalid field or parameter in `errors` (at most 50; `detail` gives the total). \
Every response carries `X-Request-Id` (the client's own, when it sends one of 1 to 128 visible ASCII characters) and `X-Content-Type-Options: nosniff`.\n\n\
Conventions: JSON bodies with `snake_case` fields; ids are positive integers, never reused; timestamps are RFC 3339 and must carry an offset (output is UTC with microseconds); \
dates are `YYYY-MM-DD`; lengths count Unicode scalar values; strings are stored as sent. Single-line text refuses control characters (U+0000-U+001F, U+007F-U+009F) and bidirectional \
overrides and isolates (U+202A-U+202E, U+2066-U+2069); descriptions and summaries allow tab, line feed and carriage return. URLs are absolute `http`/`https` with a host and no credentials, parsed as browsers parse them.\n\n\
Limits: request targets over 8 KiB are a 414, bodies over 1 MiB a 413, a body on GET/HEAD/DELETE a 400. Each client (its token when it sends a valid one, otherwise its IP address) \
has a rate limit, answered with 429 and `Retry-After`; responses carry the IETF `RateLimit` and `RateLimit-Policy` fields. Searches and calendar feeds stopped past 2 s of database time answer 503 `query_too_costly`.\n\n\
Responses of 1 KiB or more are compressed (`br`, `gzip`) when `Accept-Encoding` allows; a compressed representation has its own strong ETag (the identity tag with `-br` or `-gzip`), \
and either tag works in `If-None-Match` and `If-Match`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "This server")),
    paths(
        endpoints::programs::list_programs,
        endpoints::programs::create_program,
        endpoints::programs::get_program,
        endpoints::programs::get_program_jsonld,
        endpoints::programs::update_program,
        endpoints::programs::delete_program,
        endpoints::initiatives::list_initiatives,
        endpoints::initiatives::create_initiative,
        endpoints::initiatives::get_initiative,
        endpoints::initiatives::update_initiative,
        endpoints::initiatives::delete_initiative,
        endpoints::events::list_events,
        endpoints::events::create_event,
        endpoints::events::get_event,
        endpoints::events::update_event,
        endpoints::events::delete_event,
        endpoints::events::list_events_ics,
        endpoints::events::get_event_ics,
        endpoints::events::get_event_jsonld,
        endpoints::metrics::list_metrics,
        endpoints::metrics::create_metric,
        endpoints::metrics::get_metric,
        endpoints::metrics::update_metric,
        endpoints::metrics::delete_metric,
        endpoints::event_requests::submit_event_request,
        endpoints::event_requests::get_event_request_status,
        endpoints::event_requests::withdraw_event_request,
        endpoints::event_requests::list_event_requests,
        endpoints::event_requests::get_event_request,
        endpoints::event_requests::update_event_request,
        endpoints::event_requests::create_event_from_request,
        endpoints::event_requests::delete_event_request,
        deletions::list_deletions,
        problems::list_problems,
        problems::get_problem,
        health::healthz,
        health::readyz,
    ),
    components(schemas(Problem, FieldError, ProblemCode)),
    tags(
        (name = "programs", description = "Residency, fellowship and allied-health training programs."),
        (name = "initiatives", description = "Community health initiatives and programs of work."),
        (name = "events", description = "Health fairs, community, networking, wellness, recruitment, education and volunteer events."),
        (name = "event requests", description = "Community organizations ask RUSH to take part in their events: anyone submits, the requester follows a private status link, staff (scope `requests`) review. Contact details are personal data: only the requester and staff see them."),
        (name = "metrics", description = "Figures (\"By the Numbers\") as the public pages state them, each with its source."),
        (name = "change feed", description = "What mirrors need besides `updated_since` on the lists: the records deleted since a point in time."),
        (name = "operations", description = "Liveness and readiness for load balancers and orchestrators."),
        (name = "problems", description = "The catalogue of problem types: every problem's `type` is a page here."),
    ),
    modifiers(&Contract)
)]
pub struct ApiDoc;

/// The parts of the contract that hold for every operation: the bearer scheme, the problem
/// responses each kind of operation can give, and `X-Request-Id` on every response.
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for resource in RESOURCES {
            document_record_endpoints(openapi, resource);
            document_relations(openapi, resource);
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `rush-api token create --scope content|requests`. The scopes each operation needs are listed in its security requirement: `content` for writes to programs, initiatives, events and metrics; `requests` for event requests."))
                    .build(),
            ),
        );
        // Every problem type with its status, meaning and an example, as reusable responses.
        for &code in ProblemCode::ALL {
            let example = problem_example(code);
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .examples_from_iter([(code.as_str(), example)])
                .build();
            let description = format!(
                "{} (HTTP {}, type `{}`): {}",
                code.title(),
                code.status().as_u16(),
                code.type_uri(),
                code.explanation()
            );
            let mut response = ResponseBuilder::new()
                .description(description)
                .content(PROBLEM_JSON, content)
                .header("X-Request-Id", request_id_header())
                .build();
            if matches!(code, ProblemCode::RateLimited | ProblemCode::NotReady | ProblemCode::QueryTooCostly) {
                response.headers.insert("Retry-After".to_owned(), retry_after_header());
            }
            add_rate_limit_headers(&mut response);
            components.responses.insert(format!("problem_{}", code.as_str()), RefOr::T(response));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let is_record = path.contains("{id}");
            let is_api = path.starts_with("/api/");
            let limited = !matches!(path.as_str(), "/healthz" | "/readyz");
            let operations = [
                (&mut item.get, Kind::Read),
                (&mut item.post, Kind::Create),
                (&mut item.patch, Kind::Update),
                (&mut item.delete, Kind::Delete),
            ];
            for (operation, kind) in operations {
                let Some(operation) = operation.as_mut() else { continue };
                // An operation that declares no token is public: an empty list says that no
                // scheme applies. The others name the scopes they need.
                let scopes = required_scopes(operation);
                if scopes.is_empty() {
                    operation.security = Some(Vec::new());
                } else {
                    let named = scopes.iter().map(|scope| format!("`{scope}`")).collect::<Vec<_>>().join(" and ");
                    let noun = if scopes.len() == 1 { "scope" } else { "scopes" };
                    let description = operation.description.get_or_insert_with(String::new);
                    description.push_str(&format!(
                        "\n\nNeeds `Authorization: Bearer <token>` with a token that has the {noun} {named}: 401 without a valid token, 403 `insufficient_scope` when a scope is missing."
                    ));
                }
                if kind == Kind::Read && is_api && !path.starts_with(REQUESTS_PATH) {
                    document_revalidation(operation);
                }
                if kind == Kind::Read && is_api {
                    add_header_parameter(operation, if_none_match_parameter());
                }
                tighten_header_parameters(operation);
                for code in problem_codes(path, kind, is_record, is_api, limited, !scopes.is_empty()) {
                    add_problem(operation, code);
                }
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response.headers.insert("X-Request-Id".to_owned(), request_id_header());
                        if limited {
                            add_rate_limit_headers(response);
                        }
                    }
                }
            }
        }
        remove_unreferenced_problems(openapi);
        require_distinct_support(openapi);
        bound_header_strings(openapi);
        bound_record_strings(openapi);
    }
}

/// The longest value each response header can have, so that clients and linters can bound what
/// they accept: every string header gets a `maxLength`.
fn bound_header_strings(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{Schema, SchemaType};
    fn longest(name: &str) -> usize {
        match name {
            "X-Request-Id" => 128,
            // A strong ETag is a quoted SHA-256 prefix, with `-gzip` or `-br` when compressed.
            "ETag" => 64,
            "Location" => 200,
            // Two links, each a request target of at most 8 KiB.
            "Link" => 32_768,
            _ => 256,
        }
    }
    let bound = |response: &mut utoipa::openapi::Response| {
        for (name, header) in response.headers.iter_mut() {
            if let RefOr::T(Schema::Object(schema)) = &mut header.schema
                && schema.schema_type == SchemaType::from(Type::String)
                && schema.max_length.is_none()
            {
                schema.max_length = Some(longest(name));
            }
        }
    };
    if let Some(components) = openapi.components.as_mut() {
        components.responses.values_mut().for_each(|response| {
            if let RefOr::T(response) = response {
                bound(response);
            }
        });
    }
    for item in openapi.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    bound(response);
                }
            }
        }
    }
}

/// A record answers its fields within the limits its create body accepts: each record schema
/// (`Program`) takes the `maxLength` of the same property of its create schema (`NewProgram`),
/// and a timestamp or date is at most as long as the longest the service writes. Clients and
/// linters can then bound what they accept.
fn bound_record_strings(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat, SchemaType};
    let Some(components) = openapi.components.as_mut() else { return };
    let limits_of = |schema: Option<&RefOr<Schema>>| -> std::collections::BTreeMap<String, usize> {
        let Some(RefOr::T(Schema::Object(object))) = schema else { return Default::default() };
        object
            .properties
            .iter()
            .filter_map(|(name, property)| match property {
                RefOr::T(Schema::Object(property)) => property.max_length.map(|max| (name.clone(), max)),
                _ => None,
            })
            .collect()
    };
    let pairs: Vec<(String, std::collections::BTreeMap<String, usize>)> = components
        .schemas
        .keys()
        .filter_map(|name| name.strip_prefix("New").map(|record| (record.to_owned(), name.clone())))
        .map(|(record, create)| (record, limits_of(components.schemas.get(&create))))
        .collect();
    let string = SchemaType::from(Type::String);
    // Request schemas keep what they accept as it is (an instant may carry more digits).
    let is_request = |name: &str| name.starts_with("New") || name.ends_with("Patch");
    for (name, schema) in components.schemas.iter_mut().filter(|(name, _)| !is_request(name)) {
        let RefOr::T(Schema::Object(object)) = schema else { continue };
        let limits = pairs.iter().find(|(record, _)| record == name).map(|(_, limits)| limits);
        for (property, value) in object.properties.iter_mut() {
            let RefOr::T(Schema::Object(value)) = value else { continue };
            let is_string =
                value.schema_type == string || value.schema_type == SchemaType::from_iter([Type::String, Type::Null]);
            if !is_string || value.max_length.is_some() || value.enum_values.is_some() {
                continue;
            }
            let inherited = limits.and_then(|limits| limits.get(property)).copied();
            // `2026-05-17T15:04:05.123456Z` at the longest; dates are `YYYY-MM-DD`.
            let by_format = match &value.format {
                Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)) => Some(27),
                Some(SchemaFormat::Custom(format)) if format == "date-time" => Some(27),
                Some(SchemaFormat::KnownFormat(KnownFormat::Date)) => Some(10),
                Some(SchemaFormat::Custom(format)) if format == "date" => Some(10),
                _ => None,
            };
            value.max_length = inherited.or(by_format);
        }
    }
}

/// `requested_support` holds distinct values: `uniqueItems`, which utoipa's derive cannot state.
fn require_distinct_support(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    let Some(components) = openapi.components.as_mut() else { return };
    if let Some(RefOr::T(Schema::Object(request))) = components.schemas.get_mut("NewEventRequest")
        && let Some(RefOr::T(Schema::Array(support))) = request.properties.get_mut("requested_support")
    {
        support.unique_items = true;
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Read,
    Create,
    Update,
    Delete,
}

/// The event requests' paths: private answers, and their own problems.
const REQUESTS_PATH: &str = "/api/v1/event-requests";

/// The scopes an operation's security requirement names (none for a public operation).
fn required_scopes(operation: &Operation) -> Vec<String> {
    let declared = serde_json::to_value(&operation.security).unwrap_or_default();
    let mut scopes: Vec<String> = declared
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|requirement| requirement.get("bearer"))
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|scope| scope.as_str().map(str::to_owned))
        .collect();
    scopes.dedup();
    scopes
}

/// The problem codes an operation can answer with, in the order RFC 9110 §13.2.1 checks them.
fn problem_codes(
    path: &str,
    kind: Kind,
    is_record: bool,
    is_api: bool,
    limited: bool,
    secured: bool,
) -> Vec<ProblemCode> {
    let resource = crate::domain::resources::for_path(path);
    let conflicts = resource.map_or(&[][..], |resource| resource.write_conflicts);
    let referenced = resource.is_some_and(|resource| resource.referenced);
    let searched = resource.is_some_and(|resource| resource.path == path) || path == "/api/v1/events.ics";
    if path.starts_with(REQUESTS_PATH) {
        return request_problem_codes(path, kind, secured);
    }
    // Before routing, every operation checks its request target and that a GET or DELETE carries
    // no body; then the client's rate limit.
    let mut codes = vec![ProblemCode::UriTooLong];
    if matches!(kind, Kind::Read | Kind::Delete) {
        codes.push(ProblemCode::BodyNotAllowed);
    }
    if limited {
        codes.push(ProblemCode::RateLimited);
    }
    if !is_api {
        if path == "/problems/{code}" {
            codes.push(ProblemCode::NotFound);
        }
        codes.push(ProblemCode::ValidationFailed);
        if path == "/readyz" {
            codes.push(ProblemCode::NotReady);
        }
        return codes;
    }
    if secured {
        codes.extend([ProblemCode::Unauthorized, ProblemCode::InsufficientScope]);
    }
    if matches!(kind, Kind::Create | Kind::Update) {
        codes.extend([
            ProblemCode::MalformedJson,
            ProblemCode::BadRequest,
            ProblemCode::RequestTimeout,
            ProblemCode::PayloadTooLarge,
            ProblemCode::UnsupportedMediaType,
        ]);
    }
    if is_record {
        codes.push(ProblemCode::NotFound);
    }
    if matches!(kind, Kind::Update | Kind::Delete) {
        codes.push(ProblemCode::PreconditionFailed);
    }
    if kind == Kind::Create {
        codes.extend([ProblemCode::IdempotencyKeyInUse, ProblemCode::IdempotencyKeyReused]);
    }
    match kind {
        Kind::Create | Kind::Update => codes.extend(conflicts),
        Kind::Delete if referenced => codes.push(ProblemCode::StillReferenced),
        _ => {}
    }
    codes.push(ProblemCode::ValidationFailed);
    codes.push(ProblemCode::Internal);
    codes.push(ProblemCode::NotReady);
    if searched && kind == Kind::Read {
        codes.push(ProblemCode::QueryTooCostly);
    }
    codes
}

/// The problems of the event requests' operations, in the order they are checked.
fn request_problem_codes(path: &str, kind: Kind, secured: bool) -> Vec<ProblemCode> {
    let mut codes = vec![ProblemCode::UriTooLong];
    if matches!(kind, Kind::Read | Kind::Delete) {
        codes.push(ProblemCode::BodyNotAllowed);
    }
    codes.push(ProblemCode::RateLimited);
    if secured {
        codes.extend([ProblemCode::Unauthorized, ProblemCode::InsufficientScope]);
    }
    let takes_body = matches!(kind, Kind::Update) || (kind == Kind::Create && !path.ends_with("/withdraw"));
    if takes_body {
        codes.extend([
            ProblemCode::MalformedJson,
            ProblemCode::BadRequest,
            ProblemCode::RequestTimeout,
            ProblemCode::PayloadTooLarge,
            ProblemCode::UnsupportedMediaType,
        ]);
    }
    if path.contains('{') {
        codes.push(ProblemCode::NotFound);
    }
    if matches!(kind, Kind::Update | Kind::Delete) {
        codes.push(ProblemCode::PreconditionFailed);
    }
    if path == REQUESTS_PATH && kind == Kind::Create {
        codes.extend([
            ProblemCode::IdempotencyKeyInUse,
            ProblemCode::IdempotencyKeyReused,
            ProblemCode::DuplicateRequest,
        ]);
    }
    if path.ends_with("/withdraw") || kind == Kind::Update || path.ends_with("/event") {
        codes.push(ProblemCode::InvalidTransition);
    }
    if path.ends_with("/event") {
        codes.push(ProblemCode::EventAlreadyCreated);
    }
    codes.push(ProblemCode::ValidationFailed);
    codes.push(ProblemCode::Internal);
    codes.push(ProblemCode::NotReady);
    if path == REQUESTS_PATH && kind == Kind::Read {
        codes.push(ProblemCode::QueryTooCostly);
    }
    codes
}

fn example_error(code: ProblemCode) -> AppError {
    match code {
        ProblemCode::ValidationFailed => AppError::Validation(vec![
            FieldError::body("name", "must be 1 to 200 characters long"),
            FieldError::body(
                "campus",
                "must be one of: rush_university_medical_center, rush_oak_park_hospital, rush_copley_medical_center",
            ),
        ]),
        ProblemCode::StillReferenced => {
            AppError::StillReferenced { resource: "initiative", events: 3, metrics: Some(1) }
        }
        ProblemCode::MethodNotAllowed => {
            AppError::MethodNotAllowed { method: "PUT".to_owned(), allow: "GET, HEAD, PATCH, DELETE" }
        }
        other => AppError::client(other, other.example_detail()),
    }
}

fn problem_example(code: ProblemCode) -> utoipa::openapi::example::Example {
    let mut problem = example_error(code).problem();
    problem.request_id = Some("6f1c9a8e2b7d-0000002a".to_owned());
    ExampleBuilder::new()
        .summary(code.title())
        .value(Some(serde_json::to_value(&problem).unwrap_or_else(|_| json!({}))))
        .build()
}

/// Documents `code` on `operation`: by reference to its entry in the catalogue of problem
/// responses, or, where another code shares its status, as one response with an example of each.
fn add_problem(operation: &mut Operation, code: ProblemCode) {
    let status = code.status().as_u16().to_string();
    let responses = &mut operation.responses.responses;
    let Some(existing) = responses.get(&status) else {
        let reference = Ref::new(format!("#/components/responses/problem_{}", code.as_str()));
        responses.insert(status, RefOr::Ref(reference));
        return;
    };
    let mut codes: Vec<ProblemCode> = match existing {
        RefOr::Ref(reference) => ProblemCode::ALL
            .iter()
            .copied()
            .filter(|c| reference.ref_location.ends_with(&format!("/problem_{}", c.as_str())))
            .collect(),
        RefOr::T(response) => ProblemCode::ALL
            .iter()
            .copied()
            .filter(|c| response.content.get(PROBLEM_JSON).is_some_and(|m| m.examples.contains_key(c.as_str())))
            .collect(),
    };
    codes.push(code);
    let titles: Vec<&str> = codes.iter().map(|c| c.title()).collect();
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .examples_from_iter(codes.iter().map(|c| (c.as_str(), problem_example(*c))))
        .build();
    let response = ResponseBuilder::new().description(titles.join(" or ")).content(PROBLEM_JSON, content).build();
    responses.insert(status, RefOr::T(response));
}

/// What the five record endpoints of every resource share (`endpoints::records::record_endpoints`):
/// the `id`, `Idempotency-Key` and `If-Match` parameters, the headers of their answers, and the
/// answers' descriptions, in the words of the resource's noun.
fn document_record_endpoints(openapi: &mut utoipa::openapi::OpenApi, resource: &Resource) {
    let noun = resource.noun;
    let plural = resource.collection.as_str();
    let paths = &mut openapi.paths.paths;
    if let Some(collection) = paths.get_mut(resource.path) {
        if let Some(list) = collection.get.as_mut() {
            describe_answer(
                list,
                "200",
                &format!("A page of {plural}."),
                &[("Link", "RFC 8288 links to the `next` and `prev` pages, where they exist.".to_owned())],
            );
        }
        if let Some(create) = collection.post.as_mut() {
            create.parameters.get_or_insert_with(Vec::new).insert(0, header_parameter(
                crate::domain::idempotency::HEADER,
                "Makes the create safe to retry: a repeat with the same key and body (members in any order) from the same token (not a later token given the same name) within 24 hours gets the original response and creates nothing; the same key with another body is a 422, and a repeat while the first is still in flight a 409. 1 to 255 visible ASCII characters, e.g. a UUID.",
                ObjectBuilder::new(),
            ));
            describe_answer(create, "201", &format!("The created {noun}."), &[
                ("Location", format!("The URL of the new {noun}.")),
                ("Idempotent-Replayed", "`true` when this is the stored response to an earlier request with the same `Idempotency-Key`.".to_owned()),
                ("ETag", format!("Strong entity tag of the new {noun}.")),
            ]);
        }
    }
    let Some(record) = paths.get_mut(&format!("{}/{{id}}", resource.path)) else { return };
    let id = ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(format!("The {noun}'s id.")))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(1)),
        ))
        .build();
    let operations =
        [(&mut record.get, None), (&mut record.patch, Some("Update")), (&mut record.delete, Some("Delete"))];
    for (operation, write) in operations {
        let Some(operation) = operation.as_mut() else { continue };
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        parameters.insert(0, id.clone());
        if let Some(verb) = write {
            let description = format!("{verb} only if the current `ETag` is one of these (or `*`).");
            parameters.insert(1, header_parameter("If-Match", &description, ObjectBuilder::new()));
        }
    }
    if let Some(get) = record.get.as_mut() {
        describe_answer(get, "200", &format!("The {noun}."), &[]);
    }
    if let Some(update) = record.patch.as_mut() {
        describe_answer(
            update,
            "200",
            &format!("The {noun} after the patch."),
            &[("ETag", format!("Strong entity tag of the {noun} after the patch."))],
        );
    }
    if let Some(delete) = record.delete.as_mut() {
        describe_answer(delete, "204", &format!("The {noun} is deleted."), &[]);
    }
}

/// `include` on the resource's two reads, and each relation as an optional property of its record
/// schema (`domain::relations`): the related record, nullable, or a `{data, total}` page.
fn document_relations(openapi: &mut utoipa::openapi::OpenApi, resource: &Resource) {
    if resource.relations.is_empty() {
        return;
    }
    let names: Vec<&str> = resource.relations.iter().map(|relation| relation.name).collect();
    let listed = names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    let include = ParameterBuilder::new()
        .name("include")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(format!(
            "Related records to embed, comma-separated, each at most once: {listed}. One level only; anything else is a 422 naming `include`. Without it the representation has none of these properties."
        )))
        .style(Some(ParameterStyle::Form))
        .explode(Some(false))
        .schema(Some(
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)))
                .min_items(Some(1))
                .unique_items(true),
        ))
        .build();
    let record_path = format!("{}/{{id}}", resource.path);
    for path in [resource.path, record_path.as_str()] {
        if let Some(get) = openapi.paths.paths.get_mut(path).and_then(|item| item.get.as_mut()) {
            get.parameters.get_or_insert_with(Vec::new).push(include.clone());
        }
    }
    let components = openapi.components.get_or_insert_with(Default::default);
    for relation in resource.relations {
        let Ok(target) = crate::domain::resources::of(relation.target) else { continue };
        let target_schema = schema_name(target.noun);
        let property: RefOr<Schema> = match relation.cardinality {
            Cardinality::ToOne => OneOfBuilder::new()
                .item(Ref::from_schema_name(&target_schema))
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .description(Some(format!(
                    "With `include={name}`: the {target} that `{field}` names, exactly as `GET {path}/{{id}}` gives it; null when `{field}` is null. Absent without it.",
                    name = relation.name,
                    target = target.noun,
                    field = relation.field,
                    path = target.path,
                )))
                .into(),
            Cardinality::ToMany => {
                let page = format!("Included{}", schema_name(target.collection.as_str()));
                let first = crate::domain::relations::FIRST_RELATED;
                components.schemas.insert(
                    page.clone(),
                    ObjectBuilder::new()
                        .description(Some(format!(
                            "The first {first} {plural} of a record, in the default order of `GET {path}`, and how many there are.",
                            plural = target.collection.as_str(),
                            path = target.path,
                        )))
                        .property("data", ArrayBuilder::new().items(Ref::from_schema_name(&target_schema)))
                        .property(
                            "total",
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                                .minimum(Some(0))
                                .description(Some(format!("How many {} reference the record.", target.collection.as_str()))),
                        )
                        .required("data")
                        .required("total")
                        .into(),
                );
                let mut reference = Ref::from_schema_name(&page);
                reference.description = format!(
                    "With `include={name}`: the first {first} of `GET {path}?{field}=<id>&limit={first}`, in that list's order, and their total. Absent without it.",
                    name = relation.name,
                    path = target.path,
                    field = relation.field,
                );
                RefOr::Ref(reference)
            }
        };
        if let Some(RefOr::T(Schema::Object(record))) = components.schemas.get_mut(&schema_name(resource.noun)) {
            record.properties.insert(relation.name.to_owned(), property);
        }
    }
}

/// A record's schema name from its noun or collection: `event` is `Event`.
fn schema_name(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Gives the answer `status` of `operation` its description and headers.
fn describe_answer(operation: &mut Operation, status: &str, description: &str, headers: &[(&str, String)]) {
    if let Some(RefOr::T(answer)) = operation.responses.responses.get_mut(status) {
        description.clone_into(&mut answer.description);
        for (name, text) in headers {
            answer.headers.insert((*name).to_owned(), string_header(text));
        }
    }
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::String)).description(Some(description)).build()
}

/// Every public read of the API has a strong ETag, answers a matching `If-None-Match` with 304,
/// and tells caches to revalidate.
fn document_revalidation(operation: &mut Operation) {
    let cache_control =
        "`public, no-cache`: caches may keep the response but must revalidate it (cheap with the ETag).";
    let responses = &mut operation.responses.responses;
    if let Some(RefOr::T(ok)) = responses.get_mut("200") {
        ok.headers
            .entry("ETag".to_owned())
            .or_insert_with(|| string_header("Strong entity tag of this representation."));
        ok.headers.insert("Cache-Control".to_owned(), string_header(cache_control));
    }
    let not_modified = ResponseBuilder::new()
        .description("The client's copy (`If-None-Match`) is current.")
        .header("ETag", string_header("Strong entity tag of the current representation."))
        .header("Cache-Control", string_header(cache_control))
        .build();
    responses.entry("304".to_owned()).or_insert(RefOr::T(not_modified));
    if let Some(RefOr::T(not_modified)) = responses.get_mut("304") {
        not_modified.headers.insert("Cache-Control".to_owned(), string_header(cache_control));
    }
}

fn request_id_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(
            "The client's request id if it sent a usable one (1 to 128 visible ASCII characters), otherwise a fresh one.",
        ))
        .build()
}

fn retry_after_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
        .description(Some("Seconds to wait before retrying."))
        .build()
}

/// The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers), on every response of an
/// operation that a rate limit applies to, while limiting is on.
fn add_rate_limit_headers(response: &mut utoipa::openapi::Response) {
    response.headers.insert(
        "RateLimit-Policy".to_owned(),
        string_header("The client's quota: `\"default\";q=<requests>;w=<seconds>` (per IP address, or per token when a valid one is sent); a public event request submission also names its own, `\"submissions\";q=<submissions>;w=3600` (per IP address)."),
    );
    response.headers.insert(
        "RateLimit".to_owned(),
        string_header("What is left of each quota: `\"<policy>\";r=<remaining requests>;t=<seconds until the quota is whole again>`."),
    );
}

fn header_parameter(name: &str, description: &str, schema: ObjectBuilder) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema.schema_type(Type::String)))
        .build()
}

fn if_none_match_parameter() -> Parameter {
    header_parameter(
        "If-None-Match",
        "Entity tags of copies the client holds (or `*`): when one is current, the answer is `304 Not Modified` without a body. A tag of a compressed response (ending in `-br` or `-gzip`) names the same content.",
        ObjectBuilder::new(),
    )
}

/// Visible ASCII, what header values here may hold.
const VISIBLE_ASCII: &str = "^[!-~]+$";

/// Header parameters are plain strings: never `null` (a client cannot send a null header), with
/// the constraints the server checks.
fn tighten_header_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in != ParameterIn::Header {
            continue;
        }
        let schema = match parameter.name.as_str() {
            crate::domain::idempotency::HEADER => ObjectBuilder::new()
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some(VISIBLE_ASCII))
                .examples([json!("5f0c8a8e-2b7d-4c3f-9e1a-6d2b8f4c0a11")]),
            // An empty If-None-Match names no tag and is answered as if absent; an empty
            // If-Match names none either, so nothing matches (412).
            "If-Match" => ObjectBuilder::new().min_length(Some(1)),
            _ => ObjectBuilder::new(),
        };
        parameter.schema = Some(RefOr::T(schema.schema_type(Type::String).into()));
        parameter.required = Required::False;
    }
}

fn add_header_parameter(operation: &mut Operation, parameter: Parameter) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    if !parameters.iter().any(|p| p.name == parameter.name && p.parameter_in == ParameterIn::Header) {
        parameters.push(parameter);
    }
}

/// Drops the catalogue entries no operation refers to (their codes share a status with another
/// and are shown inline); every code stays documented in the `ProblemCode` schema.
fn remove_unreferenced_problems(openapi: &mut utoipa::openapi::OpenApi) {
    let referenced: std::collections::BTreeSet<String> = openapi
        .paths
        .paths
        .values()
        .flat_map(|item| [&item.get, &item.post, &item.patch, &item.delete])
        .flatten()
        .flat_map(|operation| operation.responses.responses.values())
        .filter_map(|response| match response {
            RefOr::Ref(reference) => reference.ref_location.rsplit('/').next().map(str::to_owned),
            RefOr::T(_) => None,
        })
        .collect();
    if let Some(components) = openapi.components.as_mut() {
        components.responses.retain(|name, _| referenced.contains(name));
        if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(codes))) =
            components.schemas.get_mut("ProblemCode")
        {
            let catalogue: Vec<String> = ProblemCode::ALL
                .iter()
                .map(|code| format!("- `{}` ({}): {}", code.as_str(), code.status().as_u16(), code.explanation()))
                .collect();
            codes.description = Some(format!(
                "A stable, machine-readable error code. Clients branch on `code`, never on `title` or `detail`. Each has a page at `/problems/<code>`:\n\n{}",
                catalogue.join("\n")
            ));
        }
    }
}

/// The headers the document declares: those clients may send (header parameters) and those
/// responses carry. CORS allows and exposes exactly these, so a browser can use all of the API.
pub struct DeclaredHeaders {
    pub request: Vec<String>,
    pub response: Vec<String>,
}

pub fn declared_headers() -> DeclaredHeaders {
    let openapi = ApiDoc::openapi();
    let operations: Vec<&Operation> = openapi
        .paths
        .paths
        .values()
        .flat_map(|item| [&item.get, &item.post, &item.patch, &item.delete, &item.head, &item.put])
        .flatten()
        .collect();
    let mut request = std::collections::BTreeSet::new();
    let mut response = std::collections::BTreeSet::new();
    for operation in &operations {
        for parameter in operation.parameters.iter().flatten() {
            if parameter.parameter_in == ParameterIn::Header {
                request.insert(parameter.name.to_ascii_lowercase());
            }
        }
        for answer in operation.responses.responses.values() {
            if let RefOr::T(answer) = answer {
                response.extend(answer.headers.keys().map(|name| name.to_ascii_lowercase()));
            }
        }
    }
    for answer in openapi.components.iter().flat_map(|components| components.responses.values()) {
        if let RefOr::T(answer) = answer {
            response.extend(answer.headers.keys().map(|name| name.to_ascii_lowercase()));
        }
    }
    DeclaredHeaders { request: request.into_iter().collect(), response: response.into_iter().collect() }
}

/// The document as `/openapi.json` serves it: rendered once, with its ETag.
pub fn document_rendering() -> Rendered {
    static RENDERED: std::sync::LazyLock<Rendered> =
        std::sync::LazyLock::new(|| respond::document_rendering("application/json", spec_json().into_bytes()));
    RENDERED.clone()
}

/// The document as served at `/openapi.json`, printed by `rush-api openapi` and committed at
/// `openapi/openapi.json`: pretty JSON with a final newline.
pub fn spec_json() -> String {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(mut json) => {
            json.push('\n');
            json
        }
        Err(error) => format!("{{\"error\": \"the OpenAPI document could not be serialized: {error}\"}}\n"),
    }
}
