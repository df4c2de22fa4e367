//! What every request must pass, cheaply: a bounded request target and the client's rate limit
//! (before routing), and no body where the method takes none (the first route of each resource).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, Method};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::base::error::{AppError, ProblemCode};
use crate::http::auth::{self, TokenStore};
use crate::http::rate_limit::{Client, RateLimiter, Verdict};

/// A second handle on a connection's socket, to end its reading side from a handler.
pub struct ConnectionSocket(socket2::Socket);

/// `HttpServer::on_connect`: keeps a duplicate of each TCP connection's socket (one `dup` per
/// connection) with the connection's data.
pub fn remember_socket(connection: &dyn std::any::Any, data: &mut actix_web::dev::Extensions) {
    if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
        && let Ok(socket) = socket2::SockRef::from(stream).try_clone()
    {
        data.insert(ConnectionSocket(socket));
    }
}

/// The longest request target (path and query) served; no valid query comes close.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;

pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let target = request.uri().path_and_query().map_or(0, |target| target.as_str().len());
    if target > MAX_TARGET_BYTES {
        let refusal = AppError::client(
            ProblemCode::UriTooLong,
            format!("The request target is {target} bytes long; the limit is {MAX_TARGET_BYTES} bytes."),
        );
        return Ok(request.into_response(refusal.error_response()));
    }
    // The application registers its limiter (and its token store) as app data; none, no limit.
    let limiter =
        request.app_data::<web::Data<RateLimiter>>().filter(|limiter| limiter.applies_to(request.path())).cloned();
    let Some(limiter) = limiter else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    let client = client_of(&request, &limiter).await;
    let Some(verdict) = limiter.check(&client) else {
        return next.call(request).await.map(ServiceResponse::map_into_boxed_body);
    };
    if !verdict.allowed {
        let detail = format!(
            "This client sent more requests than its limit allows; retry in {} second{}.",
            verdict.reset_seconds,
            if verdict.reset_seconds == 1 { "" } else { "s" }
        );
        let mut response = AppError::client(ProblemCode::RateLimited, detail).error_response();
        add_headers(response.headers_mut(), &verdict);
        return Ok(request.into_response(response));
    }
    let mut response = next.call(request).await?.map_into_boxed_body();
    add_headers(response.headers_mut(), &verdict);
    Ok(response)
}

/// Adds the verdict's fields beside any a handler set for a limit of its own (a list of policies
/// is one field, RFC 9651 §3.1, so a second line adds to it); a `Retry-After` already set stays.
pub fn add_headers(headers: &mut header::HeaderMap, verdict: &Verdict) {
    for (name, value) in verdict.headers() {
        if name == header::RETRY_AFTER {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        } else {
            headers.append(name, value);
        }
    }
}

/// The client a request counts against: its token when it sends a valid one, else its address.
async fn client_of(request: &ServiceRequest, limiter: &RateLimiter) -> Client {
    let ip = Client::Ip(limiter.client_ip(request.request()));
    let Some(hash) = auth::presented_token_hash(request.headers()) else { return ip };
    let valid = match limiter.remembered_token(&hash) {
        Some(valid) => valid,
        None => {
            // A failed lookup counts the request against the address, which always has a bucket.
            let valid = match request.app_data::<web::Data<dyn TokenStore>>() {
                Some(store) => store.grant(hash.clone()).await.is_ok_and(|grant| grant.is_some()),
                None => false,
            };
            limiter.remember_token(hash.clone(), valid);
            valid
        }
    };
    if valid { Client::Token(hash) } else { ip }
}

/// A route that answers `methods` with 400 `body_not_allowed` when the request has a body; placed
/// first on a resource, so that the resource's own routes never see such a request, while a
/// method the resource does not take still gets its 405.
pub fn refuse_bodies(methods: &[Method]) -> actix_web::Route {
    let methods = methods.to_vec();
    web::route()
        .guard(actix_web::guard::fn_guard(move |context| {
            methods.contains(&context.head().method) && has_body(&context.head().headers)
        }))
        .to(body_not_allowed)
}

async fn body_not_allowed(request: HttpRequest) -> HttpResponse {
    let refusal = AppError::client(
        ProblemCode::BodyNotAllowed,
        format!("A {} request must not have a body; send it again without one.", request.method()),
    );
    let mut response = refusal.error_response();
    // The body is never read: closing is the only way not to parse it as the next request.
    response.head_mut().set_connection_type(ConnectionType::Close);
    // actix would still drain the unread body before closing, so a body trickled a byte a second
    // would hold the connection for ever: end the reading side now. The response is still
    // written; the client then sees the connection close.
    if let Some(socket) = request.conn_data::<ConnectionSocket>() {
        let _ = socket.0.shutdown(std::net::Shutdown::Read);
    }
    response
}

/// RFC 9112 §6.3: a request has a body when it declares a non-zero length or any transfer coding.
fn has_body(headers: &header::HeaderMap) -> bool {
    let declared = |value: &HeaderValue| value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) != Some(0);
    headers.contains_key(header::TRANSFER_ENCODING) || headers.get_all(header::CONTENT_LENGTH).any(declared)
}
