//! The one error type of the service and its RFC 9457 problem+json rendering.

use std::fmt;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";
/// The most entries a 422's `errors` lists; `detail` gives the full count. A request with
/// thousands of bad members gets a small answer, not one the size of its own body.
pub const MAX_LISTED_ERRORS: usize = 50;

/// Declares `ProblemCode` from one row per code, so that a code cannot lack its status, title,
/// explanation or example, nor be left out of `ALL` (and so of `/problems` and the spec).
macro_rules! problem_codes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident {
            code: $code:literal,
            status: $status:ident,
            title: $title:literal,
            explanation: $explanation:literal,
            example: $example:literal $(,)?
        },
    )*) => {
        /// A stable, machine-readable error code. Clients branch on `code`, never on `title` or
        /// `detail`.
        /// (The wire names come from `rename_all`: utoipa does not read a `rename` that a macro
        /// writes. A test holds each `code` equal to its wire name.)
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ProblemCode {
            $(
                $(#[doc = $doc])*
                $variant,
            )*
        }

        impl ProblemCode {
            /// Every code, in the order of `/problems`.
            pub const ALL: &[ProblemCode] = &[$(ProblemCode::$variant),*];

            pub fn status(self) -> StatusCode {
                match self { $(ProblemCode::$variant => StatusCode::$status,)* }
            }

            pub fn title(self) -> &'static str {
                match self { $(ProblemCode::$variant => $title,)* }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(ProblemCode::$variant => $code,)* }
            }

            /// What the problem means and how to fix the request, for the `/problems/` pages and
            /// the spec.
            pub fn explanation(self) -> &'static str {
                match self { $(ProblemCode::$variant => $explanation,)* }
            }

            /// A detail of the kind this code carries, for the examples in the OpenAPI document.
            pub fn example_detail(self) -> &'static str {
                match self { $(ProblemCode::$variant => $example,)* }
            }
        }
    };
}

problem_codes! {
    /// 400: the body is not well-formed JSON.
    MalformedJson {
        code: "malformed_json",
        status: BAD_REQUEST,
        title: "Malformed JSON",
        explanation: "The request body is not well-formed JSON. Check quoting, commas and brackets; `detail` gives the line and column where parsing stopped.",
        example: "The body is not valid JSON: expected value at line 1 column 1.",
    },
    /// 400: the request is malformed in a way that is not about one field.
    BadRequest {
        code: "bad_request",
        status: BAD_REQUEST,
        title: "Bad request",
        explanation: "The request could not be understood as HTTP, for example a body that ended early. Send a complete, well-formed request.",
        example: "The request could not be understood.",
    },
    /// 400: a GET, HEAD or DELETE came with a body; the connection is closed.
    BodyNotAllowed {
        code: "body_not_allowed",
        status: BAD_REQUEST,
        title: "Body not allowed",
        explanation: "GET, HEAD and DELETE take no request body (no `Content-Length` above 0, no `Transfer-Encoding`). The request is refused and the connection closed; send it again without a body.",
        example: "A GET request must not have a body.",
    },
    /// 401: a write without a valid bearer token.
    Unauthorized {
        code: "unauthorized",
        status: UNAUTHORIZED,
        title: "Authentication required",
        explanation: "Writes (POST, PATCH, DELETE) need `Authorization: Bearer <token>` with a token from `rush-api token create` that has not been revoked. Reads need no token.",
        example: "This operation needs an `Authorization: Bearer <token>` header with a valid token.",
    },
    /// 403: the token is valid but lacks the scope the operation needs; `WWW-Authenticate` names it.
    InsufficientScope {
        code: "insufficient_scope",
        status: FORBIDDEN,
        title: "Insufficient scope",
        explanation: "The token is valid but was not given the scope this operation needs (`content` for writes to programs, initiatives, events and metrics; `requests` for event requests; both to turn a request into an event). `WWW-Authenticate` names the scope. Create a token with it: `rush-api token create --name NAME --scope content --scope requests`.",
        example: "This operation needs a token with the scope 'requests'.",
    },
    /// 404: no such record or route.
    NotFound {
        code: "not_found",
        status: NOT_FOUND,
        title: "Not found",
        explanation: "Nothing exists at this URL: the id names no record (ids are positive integers and never reused), or the path is not part of the API.",
        example: "There is no program with id 42.",
    },
    /// 405: the path exists but not with this method; `Allow` lists the methods it has.
    MethodNotAllowed {
        code: "method_not_allowed",
        status: METHOD_NOT_ALLOWED,
        title: "Method not allowed",
        explanation: "The path exists but does not take this method. The `Allow` header lists the methods it takes.",
        example: "PUT is not allowed here; allowed: GET, HEAD, PATCH, DELETE.",
    },
    /// 408: the request was not received in time.
    RequestTimeout {
        code: "request_timeout",
        status: REQUEST_TIMEOUT,
        title: "Request timeout",
        explanation: "The body did not arrive within 10 seconds of the request head. Send the whole body promptly.",
        example: "The request was not received completely in time.",
    },
    /// 409: the explicit slug is already used by another record.
    SlugTaken {
        code: "slug_taken",
        status: CONFLICT,
        title: "Slug already taken",
        explanation: "Another record of this kind already has the slug you gave. Choose another slug, or leave it out and one is derived from the name.",
        example: "The slug 'internal-medicine-residency' is already used by another program.",
    },
    /// 409: other records still reference the record; `referencing_events` (and for an
    /// initiative `referencing_metrics`) say how many.
    StillReferenced {
        code: "still_referenced",
        status: CONFLICT,
        title: "Still referenced",
        explanation: "Other records still reference the program or initiative you tried to delete: `referencing_events` says how many events, and for an initiative `referencing_metrics` how many metrics. Delete those records or point them elsewhere first.",
        example: "The program is still referenced by 3 events; delete or re-link them first.",
    },
    /// 409: the NRMP program code is already used by another program.
    NrmpCodeTaken {
        code: "nrmp_code_taken",
        status: CONFLICT,
        title: "NRMP code already taken",
        explanation: "Another program already has the `nrmp_code` you gave; an NRMP code names one program. Check the code, or clear it on the other program first.",
        example: "The NRMP code '1234140C0' is already used by another program.",
    },
    /// 409: the event request's status cannot change this way.
    InvalidTransition {
        code: "invalid_transition",
        status: CONFLICT,
        title: "Invalid transition",
        explanation: "An event request's status moves only along its workflow: submitted to in_review, accepted or declined; in_review to accepted or declined; declined back to in_review; a requester may withdraw while it is submitted or in_review. Read the request's current `status` and choose a transition from it.",
        example: "An event request that is accepted cannot become withdrawn.",
    },
    /// 409: the same request was submitted within the last 24 hours.
    DuplicateRequest {
        code: "duplicate_request",
        status: CONFLICT,
        title: "Duplicate request",
        explanation: "A request with the same contact email, event title and start was submitted within the last 24 hours. Follow that one with its status link instead of submitting again.",
        example: "The same request was submitted within the last 24 hours.",
    },
    /// 409: the event request already has its event.
    EventAlreadyCreated {
        code: "event_already_created",
        status: CONFLICT,
        title: "Event already created",
        explanation: "The event request already has an event (`event_id`); a request becomes at most one event. Edit that event instead.",
        example: "Event request 7 already has event 42.",
    },
    /// 409: a request with the same `Idempotency-Key` is still being processed.
    IdempotencyKeyInUse {
        code: "idempotency_key_in_use",
        status: CONFLICT,
        title: "Idempotency key in use",
        explanation: "A POST with the same `Idempotency-Key` from the same token is still being processed. Retry after a moment: you then get that request's response.",
        example: "A request with this Idempotency-Key is still being processed; retry shortly.",
    },
    /// 422: the `Idempotency-Key` was already used with a different request.
    IdempotencyKeyReused {
        code: "idempotency_key_reused",
        status: UNPROCESSABLE_ENTITY,
        title: "Idempotency key reused",
        explanation: "The `Idempotency-Key` was already used by this token, within the last 24 hours, for a POST with a different body. Use a fresh key for a different request.",
        example: "This Idempotency-Key was used with a different request body.",
    },
    /// 412: `If-Match` does not match the current `ETag`.
    PreconditionFailed {
        code: "precondition_failed",
        status: PRECONDITION_FAILED,
        title: "Precondition failed",
        explanation: "The record changed since you read it: `If-Match` does not name its current `ETag`. GET it again, reapply your change, and retry with the new `ETag`.",
        example: "If-Match does not match the current ETag of the program.",
    },
    /// 413: the body is larger than 1 MiB.
    PayloadTooLarge {
        code: "payload_too_large",
        status: PAYLOAD_TOO_LARGE,
        title: "Payload too large",
        explanation: "The body is larger than 1 MiB. No valid record comes close; check what is being sent.",
        example: "The body is larger than the limit of 1048576 bytes.",
    },
    /// 414: the request target (path and query) is longer than 8 KiB.
    UriTooLong {
        code: "uri_too_long",
        status: URI_TOO_LONG,
        title: "URI too long",
        explanation: "The request target (path and query string) is longer than 8 KiB (8,192 bytes). No valid query comes close; shorten it.",
        example: "The request target is longer than the limit of 8192 bytes.",
    },
    /// 415: the body is not `application/json` (or `application/merge-patch+json` on PATCH).
    UnsupportedMediaType {
        code: "unsupported_media_type",
        status: UNSUPPORTED_MEDIA_TYPE,
        title: "Unsupported media type",
        explanation: "Send bodies as `application/json` (optionally with `charset=utf-8`); PATCH also takes `application/merge-patch+json`.",
        example: "The body must be sent as application/json.",
    },
    /// 422: one or more body fields or query parameters are invalid; `errors` names each.
    ValidationFailed {
        code: "validation_failed",
        status: UNPROCESSABLE_ENTITY,
        title: "Validation failed",
        explanation: "One or more body fields or query parameters break the rules in the API documentation. `errors` names each one (with a JSON Pointer for body fields, or the parameter name) and says what is wrong.",
        example: "1 field is invalid: see `errors`.",
    },
    /// 429: this client sent more requests than its rate limit allows; `Retry-After` says when to retry.
    RateLimited {
        code: "rate_limited",
        status: TOO_MANY_REQUESTS,
        title: "Rate limited",
        explanation: "This client sent more requests than its limit allows (per IP address, or per token when a valid one is sent). Wait the `Retry-After` seconds; the `RateLimit` and `RateLimit-Policy` headers say how many requests remain and in what window.",
        example: "Too many requests from this client; retry in 12 seconds.",
    },
    /// 500: an unexpected failure; the request id lets operators find it in the log.
    Internal {
        code: "internal",
        status: INTERNAL_SERVER_ERROR,
        title: "Internal server error",
        explanation: "Something failed on the server. Nothing about your request needs to change; if it persists, report the `request_id`.",
        example: "An unexpected error occurred. Quote the request id when reporting it.",
    },
    /// 503: the database cannot be used right now.
    NotReady {
        code: "not_ready",
        status: SERVICE_UNAVAILABLE,
        title: "Service not ready",
        explanation: "The database cannot be used right now, usually because another process holds it. Retry after the `Retry-After` seconds.",
        example: "The database cannot be used right now.",
    },
    /// 503: the query ran past its budget of database time and was stopped; `Retry-After` applies.
    QueryTooCostly {
        code: "query_too_costly",
        status: SERVICE_UNAVAILABLE,
        title: "Query too costly",
        explanation: "The query ran past its budget of 2 seconds of database time and was stopped, or too many expensive queries (searches, calendar renders) are running at once. Retry after the `Retry-After` seconds, or narrow the query: a longer or rarer `q`, a smaller calendar window.",
        example: "The query took too long and was stopped; retry later or narrow it.",
    },
}

impl ProblemCode {
    /// The problem `type`: a URL on this server whose page explains the problem (relative, so
    /// that it resolves against whichever host served the response).
    pub fn type_uri(self) -> String {
        format!("/problems/{}", self.as_str())
    }

    pub fn parse(text: &str) -> Option<ProblemCode> {
        ProblemCode::ALL.iter().copied().find(|code| code.as_str() == text)
    }
}

/// One invalid body field or query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The body field or query parameter, by its wire name.
    #[schema(example = "name")]
    pub field: String,
    /// For a body field: where it is in the body, as a JSON Pointer (RFC 6901); `""` is the
    /// whole body.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/name")]
    pub pointer: Option<String>,
    /// For a query parameter: its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What is wrong with it, in terms a client can act on.
    #[schema(example = "must be 1 to 200 characters long")]
    pub message: String,
}

impl FieldError {
    /// A problem with the body member `field` (or with the whole body, for `body`).
    pub fn body(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let pointer =
            if field == "body" { String::new() } else { format!("/{}", field.replace('~', "~0").replace('/', "~1")) };
        FieldError { field, pointer: Some(pointer), parameter: None, message: message.into() }
    }

    /// A problem with the request header `name`.
    pub fn header(name: impl Into<String>, message: impl Into<String>) -> Self {
        let name = name.into();
        FieldError { field: name.clone(), pointer: None, parameter: Some(name), message: message.into() }
    }

    /// A problem with the query parameter `name`.
    pub fn query(name: impl Into<String>, message: impl Into<String>) -> Self {
        let name = name.into();
        FieldError { field: name.clone(), pointer: None, parameter: Some(name), message: message.into() }
    }
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type; one per `code`.
    #[serde(rename = "type")]
    #[schema(example = "/problems/not_found")]
    pub type_uri: String,
    /// A short summary of the problem type; the same for every occurrence of a code.
    #[schema(example = "Not found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong this time, for a human.
    #[schema(example = "There is no program with id 42.")]
    pub detail: String,
    /// The stable machine-readable code.
    pub code: ProblemCode,
    /// The request id, also sent as `X-Request-Id`, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "6f1c9a8e2b7d4c3f")]
    pub request_id: Option<String>,
    /// With `validation_failed`: every invalid field or parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// With `still_referenced`: how many events reference the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referencing_events: Option<i64>,
    /// With `still_referenced` for an initiative: how many metrics reference it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referencing_metrics: Option<i64>,
}

/// Everything a request can fail with. Handlers return `Result<T, AppError>` and use `?`.
#[derive(Debug)]
pub enum AppError {
    /// A problem the client can fix; `detail` says how, in their terms.
    Client { code: ProblemCode, detail: String },
    /// 422 naming every offending field or parameter, not just the first.
    Validation(Vec<FieldError>),
    /// 405 with the methods the path does have.
    MethodNotAllowed { method: String, allow: &'static str },
    /// 409: the record is still referenced by `events` events and, for a resource that metrics
    /// can reference, `metrics` metrics (`None` for other resources).
    StillReferenced { resource: &'static str, events: i64, metrics: Option<i64> },
    /// 403: the token lacks `scope` (space-separated when several are needed).
    InsufficientScope { scope: &'static str },
    /// Anything else: logged once with its cause chain; the client sees `internal` and the request id.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn client(code: ProblemCode, detail: impl Into<String>) -> Self {
        AppError::Client { code, detail: detail.into() }
    }

    pub fn not_found(resource: &str, id: impl fmt::Display) -> Self {
        AppError::client(ProblemCode::NotFound, format!("There is no {resource} with id {id}."))
    }

    pub fn slug_taken(resource: &str, slug: &str) -> Self {
        AppError::client(ProblemCode::SlugTaken, format!("The slug '{slug}' is already used by another {resource}."))
    }

    pub fn precondition_failed(resource: &str) -> Self {
        AppError::client(
            ProblemCode::PreconditionFailed,
            format!("If-Match does not match the current ETag of the {resource}."),
        )
    }

    pub fn unauthorized() -> Self {
        AppError::client(
            ProblemCode::Unauthorized,
            "This operation needs an `Authorization: Bearer <token>` header with a valid token.",
        )
    }

    /// A 422 for one body field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::body(field, message)])
    }

    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(error.into())
    }

    pub fn code(&self) -> ProblemCode {
        match self {
            AppError::Client { code, .. } => *code,
            AppError::Validation(_) => ProblemCode::ValidationFailed,
            AppError::MethodNotAllowed { .. } => ProblemCode::MethodNotAllowed,
            AppError::StillReferenced { .. } => ProblemCode::StillReferenced,
            AppError::InsufficientScope { .. } => ProblemCode::InsufficientScope,
            AppError::Internal(_) => ProblemCode::Internal,
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        let mut referencing = (None, None);
        let (detail, errors) = match self {
            AppError::Client { detail, .. } => (detail.clone(), None),
            AppError::Validation(errors) => {
                let listed = &errors[..errors.len().min(MAX_LISTED_ERRORS)];
                let names = listed.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", ");
                let detail = match errors.len() {
                    1 => format!("1 field is invalid: {names}."),
                    n if n <= MAX_LISTED_ERRORS => format!("{n} fields are invalid: {names}."),
                    n => format!("{n} fields are invalid; the first {MAX_LISTED_ERRORS} are listed: {names}."),
                };
                (detail, Some(listed.to_vec()))
            }
            AppError::MethodNotAllowed { method, allow } => {
                (format!("{method} is not allowed here; allowed: {allow}."), None)
            }
            AppError::StillReferenced { resource, events, metrics } => {
                let counted = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
                let mut by = vec![counted(*events, "event", "events")];
                by.extend(metrics.map(|n| counted(n, "metric", "metrics")));
                let detail = format!(
                    "The {resource} is still referenced by {}; delete them or point them elsewhere first.",
                    by.join(" and ")
                );
                referencing = (Some(*events), *metrics);
                (detail, None)
            }
            AppError::InsufficientScope { scope } => {
                let scopes = scope.split(' ').map(|s| format!("'{s}'")).collect::<Vec<_>>().join(" and ");
                let noun = if scope.contains(' ') { "scopes" } else { "scope" };
                (format!("This operation needs a token with the {noun} {scopes}."), None)
            }
            // The cause goes to the log, never to the client.
            AppError::Internal(_) => (code.example_detail().to_owned(), None),
        };
        let (referencing_events, referencing_metrics) = referencing;
        Problem {
            type_uri: code.type_uri(),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            detail,
            code,
            request_id: None,
            errors,
            referencing_events,
            referencing_metrics,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Internal(error) => write!(f, "internal error: {error}"),
            other => write!(f, "{}: {}", other.code().as_str(), other.problem().detail),
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Internal(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            AppError::Client { code: ProblemCode::Unauthorized, .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"rush-api\""));
            }
            AppError::InsufficientScope { scope } => {
                let challenge = format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"");
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            AppError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, *allow));
            }
            AppError::Client { code: ProblemCode::NotReady | ProblemCode::QueryTooCostly, .. } => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        match serde_json::to_vec(&self.problem()) {
            Ok(body) => response.body(body),
            Err(_) => response.body(r#"{"type":"/problems/internal","title":"Internal server error","status":500,"detail":"An unexpected error occurred.","code":"internal"}"#),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        AppError::Internal(Box::new(error))
    }
}

/// The problem code actix's own errors map to, by status, for responses the framework or a
/// middleware produced before any handler ran.
pub fn code_for_status(status: StatusCode) -> ProblemCode {
    match status.as_u16() {
        401 => ProblemCode::Unauthorized,
        404 => ProblemCode::NotFound,
        405 => ProblemCode::MethodNotAllowed,
        408 => ProblemCode::RequestTimeout,
        412 => ProblemCode::PreconditionFailed,
        413 => ProblemCode::PayloadTooLarge,
        414 => ProblemCode::UriTooLong,
        415 => ProblemCode::UnsupportedMediaType,
        422 => ProblemCode::ValidationFailed,
        429 => ProblemCode::RateLimited,
        503 => ProblemCode::NotReady,
        400..=499 => ProblemCode::BadRequest,
        _ => ProblemCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_its_own_wire_name() {
        for &code in ProblemCode::ALL {
            assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::Value::from(code.as_str())));
        }
    }

    #[test]
    fn every_code_renders_a_problem_with_its_status_and_no_internal_text() {
        for &code in ProblemCode::ALL {
            let status = code.status();
            assert!(status.is_client_error() || status.is_server_error(), "{code:?}");
            let error = match code {
                ProblemCode::Internal => AppError::internal("SELECT * FROM programs at /srv/db.sqlite3"),
                ProblemCode::ValidationFailed => AppError::field("name", "is required"),
                ProblemCode::StillReferenced => {
                    AppError::StillReferenced { resource: "initiative", events: 2, metrics: Some(1) }
                }
                ProblemCode::MethodNotAllowed => AppError::MethodNotAllowed { method: "PUT".into(), allow: "GET" },
                other => AppError::client(other, other.example_detail()),
            };
            let response = error.error_response();
            assert_eq!(response.status(), status, "{code:?}");
            assert_eq!(
                response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
                Some(PROBLEM_JSON),
                "{code:?}"
            );
            let body = serde_json::to_string(&error.problem()).unwrap_or_default();
            assert!(body.contains(&format!("\"code\":\"{}\"", code.as_str())), "{body}");
            assert!(!body.contains("SELECT") && !body.contains("/srv"), "{body}");
        }
    }
}
