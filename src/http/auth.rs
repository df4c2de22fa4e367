//! Bearer authentication for writes.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::error::AppError;
use crate::tokens;

/// The caller of a write (a token; not the database's writer thread), authenticated by
/// `Authorization: Bearer <token>`. Taking it as the first handler argument makes 401 come before
/// anything else is looked at.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id: what idempotency keys belong to. A name can be revoked and given to a new
    /// token; an id is never reused.
    pub token_id: i64,
    /// The token's name, as `token list` shows it.
    pub token_name: String,
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Caller, AppError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let secret = bearer_token(request);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(secret), Some(state)) = (secret, state) else { return Err(AppError::unauthorized()) };
            let token = state.db.read(move |conn| tokens::find(conn, &secret)).await?;
            token.map(|(token_id, token_name)| Caller { token_id, token_name }).ok_or_else(AppError::unauthorized)
        })
    }
}

fn bearer_token(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}
