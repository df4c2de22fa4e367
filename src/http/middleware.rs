//! The outermost middleware: request ids, problem+json for every error (the framework's own
//! included), panics turned into 500 problems, one access-log line per request, and the
//! response's content coding (`http::encoding`).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use futures_util::FutureExt;

use crate::base::error::{AppError, PROBLEM_JSON, code_for_status};
use crate::http::encoding::CompressedCache;

/// Path prefixes whose next segment is a credential (an event request's status link), which
/// logs never show; the application registers them as app data.
pub struct SecretPaths(pub &'static [&'static str]);

/// The path as logs may show it: the secret segment after any of `secret_paths` is written `…`
/// (`/api/v1/event-requests/status/…`).
pub fn loggable_path(path: &str, secret_paths: &[&str]) -> String {
    for prefix in secret_paths {
        if let Some(rest) = path.strip_prefix(prefix) {
            let action = rest.split_once('/').map(|(_, action)| format!("/{action}")).unwrap_or_default();
            return format!("{prefix}…{action}");
        }
    }
    path.to_owned()
}

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_REQUEST_ID_LENGTH: usize = 128;

pub async fn request_context(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = client_request_id(&request).unwrap_or_else(fresh_request_id);
    let method = request.method().clone();
    let secret_paths = request.app_data::<web::Data<SecretPaths>>().map_or(&[][..], |paths| paths.0);
    let path = loggable_path(request.path(), secret_paths);
    let cross_origin = request.headers().contains_key(header::ORIGIN);
    let negotiated = crate::http::encoding::Negotiated::of(&mut request);

    // The request cannot be cloned before routing (actix needs it unshared), so errors raised
    // outside a handler response and panics are answered through `Answered` below.
    let outcome = match AssertUnwindSafe(next.call(request)).catch_unwind().await {
        Ok(Ok(response)) => {
            let (request, response) = response.map_into_boxed_body().into_parts();
            Ok((request, response))
        }
        Ok(Err(error)) => Err(HttpResponse::from_error(error)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Err(HttpResponse::from_error(AppError::internal(format!("handler panicked: {message}"))))
        }
    };
    let response = match &outcome {
        Ok((_, response)) | Err(response) => response,
    };
    let status = response.status();
    if status.is_server_error() {
        let cause = response.error().map_or_else(|| "no error attached".to_owned(), cause_chain);
        // Only a failure of the service is an error; a 503 (busy database, a query stopped at its
        // budget) is the service protecting itself, often from its clients.
        let level = if status == actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
            log::Level::Warn
        } else {
            log::Level::Error
        };
        log::log!(level, "{method} {path} -> {}: {cause} (request_id={request_id})", status.as_u16());
    }
    log::info!(
        target: "rush_api::access",
        "{method} {path} {} {:.3}ms request_id={request_id}",
        status.as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );

    let finish = |response: HttpResponse| async {
        let status = response.status();
        let mut response = if status.is_client_error() || status.is_server_error() {
            as_problem(response, &path, &request_id).await
        } else {
            response
        };
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        // No response may be sniffed into another type (a JSON string rendered as HTML).
        response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if !cross_origin {
            // actix-cors lists the exposed headers on every response; only a browser's
            // cross-origin request (which carries `Origin`) reads the list.
            response.headers_mut().remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
        }
        response
    };
    match outcome {
        Ok((request, response)) => {
            let response = finish(response).await;
            let cache = request.app_data::<web::Data<CompressedCache>>().map(|cache| cache.as_ref());
            let response = match negotiated.encode(response, cache).await {
                Ok(response) => response,
                Err(error) => {
                    log::error!("{method} {path} -> 500: {error} (request_id={request_id})");
                    finish(HttpResponse::from_error(error)).await
                }
            };
            Ok(ServiceResponse::new(request, response))
        }
        Err(response) => Err(Answered::from(finish(response).await).await.into()),
    }
}

/// A finished response travelling as an error, for the paths where no request is at hand to
/// build a `ServiceResponse`; actix renders it unchanged.
#[derive(Debug)]
struct Answered {
    status: actix_web::http::StatusCode,
    headers: header::HeaderMap,
    body: actix_web::web::Bytes,
}

impl Answered {
    async fn from(response: HttpResponse) -> Answered {
        let status = response.status();
        let headers = response.headers().clone();
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
        Answered { status, headers, body }
    }
}

impl std::fmt::Display for Answered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "answered with {}", self.status)
    }
}

impl actix_web::ResponseError for Answered {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::with_body(self.status, BoxBody::new(self.body.clone()));
        for (name, value) in &self.headers {
            response.headers_mut().append(name.clone(), value.clone());
        }
        response
    }
}

/// The error and its sources, outermost first, for the log only.
fn cause_chain(error: &actix_web::Error) -> String {
    let mut chain = error.to_string();
    if let Some(app_error) = error.as_error::<AppError>() {
        let mut source = std::error::Error::source(app_error);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
    }
    chain
}

/// Makes an error response a problem document carrying the request id. Responses the framework
/// or a middleware produced in its own format (default 404, actix-cors rejections, payload
/// errors) are replaced by the problem for their status, keeping their headers (`Allow`, CORS).
async fn as_problem(response: HttpResponse, path: &str, request_id: &str) -> HttpResponse {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let (head, body) = response.into_parts();
    let mut problem = match is_problem {
        true => actix_web::body::to_bytes(body)
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok()),
        false => None,
    }
    .unwrap_or_else(|| {
        let code = code_for_status(status);
        let allow = head.headers().get(header::ALLOW).and_then(|v| v.to_str().ok());
        let detail = match (status.as_u16(), allow) {
            (404, _) => format!("There is nothing at {path}."),
            (405, Some(allow)) => format!("This method is not allowed at {path}; allowed: {allow}."),
            _ => status.canonical_reason().map_or_else(|| code.title().to_owned(), |r| format!("{r}.")),
        };
        serde_json::to_value(AppError::client(code, detail).problem()).unwrap_or_default()
    });
    if let Some(object) = problem.as_object_mut() {
        object.insert("status".to_owned(), status.as_u16().into());
        object.insert("request_id".to_owned(), request_id.into());
    }
    let bytes = serde_json::to_vec(&problem).unwrap_or_default();
    let mut rebuilt = head.set_body(BoxBody::new(bytes));
    rebuilt.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    rebuilt.headers_mut().remove(header::CONTENT_LENGTH);
    rebuilt
}

/// The client's `X-Request-Id` when it is safe to reflect: 1 to 128 visible ASCII characters.
fn client_request_id(request: &ServiceRequest) -> Option<String> {
    let value = request.headers().get(REQUEST_ID)?.to_str().ok()?;
    let acceptable =
        !value.is_empty() && value.len() <= MAX_REQUEST_ID_LENGTH && value.bytes().all(|b| b.is_ascii_graphic());
    acceptable.then(|| value.to_owned())
}

/// A fresh id: 96 bits that look random and say nothing about how many requests came before.
/// They are a keyed hash (SipHash, the key drawn from the OS when the process starts) of a
/// counter: unique like the counter, unpredictable without the key, and without a system call
/// per request (reading the kernel's generator for each cost a measurable share of a fast read).
fn fresh_request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static KEY: std::sync::OnceLock<std::collections::hash_map::RandomState> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let key = KEY.get_or_init(std::collections::hash_map::RandomState::new);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let half = |part: u8| {
        let mut hasher = key.build_hasher();
        hasher.write_u64(count);
        hasher.write_u8(part);
        hasher.finish()
    };
    format!("{:016x}{:08x}", half(0), half(1) >> 32)
}

/// The default service: a problem for any path that is not routed.
pub async fn no_route(request: actix_web::HttpRequest) -> Result<HttpResponse, AppError> {
    let secret_paths = request.app_data::<web::Data<SecretPaths>>().map_or(&[][..], |paths| paths.0);
    Err(AppError::client(
        crate::base::error::ProblemCode::NotFound,
        format!("There is nothing at {}.", loggable_path(request.path(), secret_paths)),
    ))
}

/// A resource's default service: 405 with the methods it does have.
pub fn method_not_allowed(
    allow: &'static str,
) -> impl Fn(actix_web::HttpRequest) -> std::future::Ready<Result<HttpResponse, AppError>> + Clone {
    move |request| std::future::ready(Err(AppError::MethodNotAllowed { method: request.method().to_string(), allow }))
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, test, web};

    use super::*;

    async fn panics() -> HttpResponse {
        panic!("SELECT secret FROM /var/lib/rush.sqlite3");
    }

    #[actix_web::test]
    async fn a_panicking_handler_becomes_a_500_problem_without_the_panic_text() {
        let app =
            test::init_service(App::new().route("/boom", web::get().to(panics)).wrap(from_fn(request_context))).await;
        // Without a request to hand, the answer travels as an error that actix renders as is.
        let response =
            match actix_web::dev::Service::call(&app, test::TestRequest::get().uri("/boom").to_request()).await {
                Ok(response) => response.into_parts().1,
                Err(error) => error.error_response(),
            };
        assert_eq!(response.status().as_u16(), 500);
        assert!(response.headers().contains_key(REQUEST_ID));
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(content_type.as_deref(), Some(PROBLEM_JSON));
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("\"code\":\"internal\""), "{text}");
        assert!(!text.contains("SELECT") && !text.contains("/var/lib") && !text.contains("panic"), "{text}");
    }
}
