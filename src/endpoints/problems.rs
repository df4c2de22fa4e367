//! The problem catalogue: every problem `type` is a page here that says what it means and how to
//! fix the request.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::base::error::{AppError, ProblemCode};

fn page(title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · rush-api</title></head>\n<body>\n{body}\n</body></html>\n"
    );
    crate::endpoints::docs::with_page_policy(
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(html),
    )
}

fn section(code: ProblemCode) -> String {
    format!(
        "<h2 id=\"{id}\"><a href=\"/problems/{id}\">{title}</a></h2>\n<p>HTTP {status} · <code>{id}</code></p>\n<p>{text}</p>",
        id = code.as_str(),
        title = code.title(),
        status = code.status().as_u16(),
        text = code.explanation().replace('`', ""),
    )
}

/// List problem types
///
/// Every problem type the API answers with, as an HTML page.
#[utoipa::path(get, path = "/problems", tag = "problems", operation_id = "list_problems",
    responses((status = 200, description = "The catalogue of problem types.", content_type = "text/html", body = String)))]
pub async fn list_problems(request: HttpRequest) -> Result<HttpResponse, AppError> {
    crate::http::no_query(&request)?;
    let sections: Vec<String> = ProblemCode::ALL.iter().copied().map(section).collect();
    Ok(page("Problem types", &format!("<h1>Problem types</h1>\n{}", sections.join("\n"))))
}

/// Describe a problem type
///
/// What a problem type means and how to fix the request, as an HTML page. Each problem's `type`
/// member links here.
#[utoipa::path(get, path = "/problems/{code}", tag = "problems", operation_id = "get_problem",
    params(("code" = crate::base::error::ProblemCode, Path, description = "The problem's `code`.")),
    responses((status = 200, description = "The problem type's page.", content_type = "text/html", body = String)))]
pub async fn get_problem(request: HttpRequest) -> Result<HttpResponse, AppError> {
    crate::http::no_query(&request)?;
    let text = request.match_info().get("code").unwrap_or_default();
    let code = ProblemCode::parse(text)
        .ok_or_else(|| AppError::client(ProblemCode::NotFound, format!("There is no problem type '{text}'.")))?;
    Ok(page(code.title(), &section(code)))
}
