//! Bearer authentication and token scopes.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::base::digest::sha256_hex;
use crate::base::error::AppError;

/// A token as authentication needs it: whose it is and what it may do.
pub struct Grant {
    pub token_id: i64,
    pub token_name: String,
    /// The scopes it holds, as a bit set of `CONTENT` and `REQUESTS`.
    pub scopes: u8,
}

/// Where the toolkit finds tokens: the application registers its token store as
/// `web::Data<dyn TokenStore>`. Without one, every token is refused.
pub trait TokenStore {
    /// The grant of the token whose secret hashes (`sha256_hex`) to `hash`, if there is one.
    fn grant(&self, hash: String) -> LocalBoxFuture<'static, Result<Option<Grant>, AppError>>;
}

/// The scopes an operation needs, as a bit set (`CONTENT`, `REQUESTS`), for `Authorized<S>`.
pub const CONTENT: u8 = 1;
pub const REQUESTS: u8 = 2;

/// The caller of an operation that needs a token (not the database's writer thread),
/// authenticated by `Authorization: Bearer <token>` and holding every scope in `SCOPES`. Taking
/// it as the first handler argument makes 401 (no valid token) and then 403 (a scope missing)
/// come before anything else is looked at.
#[derive(Debug, Clone)]
pub struct Authorized<const SCOPES: u8> {
    /// The token's id: what idempotency keys belong to. A name can be revoked and given to a new
    /// token; an id is never reused.
    pub token_id: i64,
    /// The token's name, as `token list` shows it.
    pub token_name: String,
}

/// A writer of programs, initiatives, events and metrics: scope `content`.
pub type Caller = Authorized<CONTENT>;
/// Staff handling event requests: scope `requests`.
pub type Staff = Authorized<REQUESTS>;
/// Staff turning an event request into an event: scopes `requests` and `content`.
pub type StaffPublisher = Authorized<{ CONTENT | REQUESTS }>;

/// The scopes in `bits`, as `WWW-Authenticate` and the problem name them.
fn needed(bits: u8) -> &'static str {
    match bits {
        CONTENT => "content",
        REQUESTS => "requests",
        _ => "requests content",
    }
}

impl<const SCOPES: u8> FromRequest for Authorized<SCOPES> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Authorized<SCOPES>, AppError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let hash = presented_token_hash(request.headers());
        let store = request.app_data::<web::Data<dyn TokenStore>>().cloned();
        Box::pin(async move {
            let (Some(hash), Some(store)) = (hash, store) else { return Err(AppError::unauthorized()) };
            let grant = store.grant(hash).await?.ok_or_else(AppError::unauthorized)?;
            if grant.scopes & SCOPES != SCOPES {
                return Err(AppError::InsufficientScope { scope: needed(SCOPES) });
            }
            Ok(Authorized { token_id: grant.token_id, token_name: grant.token_name })
        })
    }
}

/// The hash of the bearer token the request carries, if any: tokens are looked up by hash only.
pub fn presented_token_hash(headers: &header::HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| sha256_hex(token))
}
