//! `/openapi.json` and the interactive documentation at `/docs`, served from assets built into
//! the binary: no request leaves for another host. Every file has a strong ETag (a digest of its
//! bytes) and answers a matching `If-None-Match` with 304, so browsers revalidate the 1.4 MB
//! bundle instead of fetching it again.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_swagger_ui::Config;

use crate::base::error::{AppError, ProblemCode};
use crate::http::no_query;
use crate::http::rendered::Rendered;
use crate::http::respond;

/// The HTML pages' policy: only this server's own scripts, styles, images and fonts (Swagger UI
/// draws its icons as `data:` SVGs, and its bundle inserts one fixed inline style, allowed by its
/// hash as headless Chromium reported it), calls only to this server, and no framing
/// (clickjacking of a page that holds a bearer token).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Sets the page policy on an HTML response.
pub fn with_page_policy(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

/// The OpenAPI document, rendered once with its ETag; the application registers it as app data.
pub struct ApiDocument(pub Rendered);

pub async fn openapi_json(document: web::Data<ApiDocument>, request: HttpRequest) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    Ok(document.0.clone().respond(&request))
}

/// The UI's index at the bare `/docs` as well, so that clients that do not follow redirects see
/// the page. `<base href="/docs/">` makes its relative asset links resolve under `/docs/`.
pub async fn docs_index(request: HttpRequest) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    serve_asset(&request, "index.html")
}

/// A file of the UI under `/docs/`.
pub async fn docs_asset(request: HttpRequest) -> Result<HttpResponse, AppError> {
    no_query(&request)?;
    let file = request.match_info().get("file").unwrap_or_default().to_owned();
    serve_asset(&request, if file.is_empty() { "index.html" } else { &file })
}

fn serve_asset(request: &HttpRequest, file: &str) -> Result<HttpResponse, AppError> {
    static ASSETS: LazyLock<Mutex<HashMap<String, Rendered>>> = LazyLock::new(Mutex::default);
    let cached = ASSETS.lock().ok().and_then(|assets| assets.get(file).cloned());
    let rendered = match cached {
        Some(rendered) => rendered,
        None => {
            let rendered = render_asset(file)?;
            if let Ok(mut assets) = ASSETS.lock() {
                assets.insert(file.to_owned(), rendered.clone());
            }
            rendered
        }
    };
    let is_page = rendered.content_type.starts_with("text/html");
    let response = rendered.respond(request);
    Ok(if is_page { with_page_policy(response) } else { response })
}

fn render_asset(file: &str) -> Result<Rendered, AppError> {
    let missing = || AppError::client(ProblemCode::NotFound, format!("There is nothing at /docs/{file}."));
    let served = utoipa_swagger_ui::serve(file, Arc::new(config())).map_err(|e| AppError::internal(e.to_string()))?;
    let asset = served.ok_or_else(missing)?;
    let content_type = content_type_of(file).ok_or_else(missing)?;
    let mut bytes = asset.bytes.into_owned();
    if file == "index.html" {
        let html = String::from_utf8_lossy(&bytes).replacen("<head>", "<head>\n    <base href=\"/docs/\">", 1);
        bytes = html.into_bytes();
    }
    Ok(respond::document_rendering(content_type, bytes))
}

/// The media type of each kind of file the UI ships; anything else is not served.
fn content_type_of(file: &str) -> Option<&'static str> {
    let extension = file.rsplit_once('.').map(|(_, extension)| extension)?;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" => "application/javascript",
        "css" => "text/css",
        "png" => "image/png",
        "map" => "application/json",
        _ => return None,
    })
}

fn config() -> Config<'static> {
    // validator_url "none": Swagger UI otherwise sends the document to an online validator.
    // persist_authorization off: a bearer token in localStorage outlives the tab and is readable
    // by any script that ever runs on this origin.
    Config::new(["/openapi.json"])
        .validator_url("none")
        .try_it_out_enabled(true)
        .display_operation_id(true)
        .persist_authorization(false)
}
