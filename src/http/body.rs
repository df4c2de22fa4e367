//! The JSON body extractor: content type, size limit and syntax, each with its own problem.
//!
//! It yields the parsed JSON value; turning it into a typed record (422s) is the resource's job,
//! after authentication, existence and preconditions (RFC 9110 §13.2.1 order).

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::base::error::{AppError, ProblemCode};

/// The largest body accepted, in bytes (API.md: bodies over 1 MiB are a 413).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MERGE_PATCH_JSON: &str = "application/merge-patch+json";
/// How long a client has to send the whole body once the head has arrived: a client that trickles
/// its body gets a 408 problem instead of holding a connection and a worker's attention forever.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);

/// A request body read as JSON. A body declared too large (413) or too slow (408) fails the
/// extraction at once; a wrong media type (415) or malformed JSON (400) is kept for the handler,
/// which reports it only after authentication, existence and preconditions (RFC 9110 §13.2.1).
#[derive(Debug)]
pub struct JsonBody(Result<Value, (ProblemCode, String)>);

impl JsonBody {
    /// The JSON value, or the 400/415 found while reading it. A copy each time: a write may run
    /// more than once (`Db::write`).
    pub fn value(&self) -> Result<Value, AppError> {
        match &self.0 {
            Ok(value) => Ok(value.clone()),
            Err((code, detail)) => Err(AppError::client(*code, detail.clone())),
        }
    }
}

impl FromRequest for JsonBody {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<JsonBody, AppError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared = check_declared_length(request);
        let content_type = check_content_type(request);
        let mut payload = payload.take();
        Box::pin(async move {
            declared?;
            if let Err(refusal) = content_type {
                return Ok(JsonBody(Err(refusal)));
            }
            let read = async {
                let mut body = Vec::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|_| {
                        AppError::client(ProblemCode::BadRequest, "The request body could not be read completely.")
                    })?;
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            };
            let body = actix_web::rt::time::timeout(BODY_DEADLINE, read).await.map_err(|_| {
                AppError::client(
                    ProblemCode::RequestTimeout,
                    format!("The body did not arrive within {} seconds.", BODY_DEADLINE.as_secs()),
                )
            })??;
            Ok(JsonBody(
                serde_json::from_slice(&body)
                    .map_err(|error| (ProblemCode::MalformedJson, format!("The body is not valid JSON: {error}."))),
            ))
        })
    }
}

fn too_large() -> AppError {
    AppError::client(
        ProblemCode::PayloadTooLarge,
        format!("The body is larger than the limit of {MAX_BODY_BYTES} bytes."),
    )
}

/// Refuses a body declared larger than the limit before reading any of it.
fn check_declared_length(request: &HttpRequest) -> Result<(), AppError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => Err(too_large()),
        _ => Ok(()),
    }
}

fn check_content_type(request: &HttpRequest) -> Result<(), (ProblemCode, String)> {
    let allows_merge_patch = request.method() == Method::PATCH;
    let expected = if allows_merge_patch {
        "The body must be sent as application/json or application/merge-patch+json (optionally with charset=utf-8)."
    } else {
        "The body must be sent as application/json (optionally with charset=utf-8)."
    };
    let refuse = || (ProblemCode::UnsupportedMediaType, expected.to_owned());
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else { return Err(refuse()) };
    let text = value.to_str().map_err(|_| refuse())?;
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let essence_ok = essence == "application/json" || (allows_merge_patch && essence == MERGE_PATCH_JSON);
    let parameters_ok = parts.all(|parameter| match parameter.split_once('=') {
        Some((name, value)) => {
            name.trim().eq_ignore_ascii_case("charset") && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        None => parameter.trim().is_empty(),
    });
    if essence_ok && parameters_ok { Ok(()) } else { Err(refuse()) }
}
