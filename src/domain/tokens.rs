//! Write tokens: 256-bit random secrets, shown once, stored only as a SHA-256 hash.

use diesel::prelude::*;

use crate::base::clock::Micros;
use crate::base::digest::sha256_hex;
use crate::base::error::AppError;
use crate::base::schema::{api_tokens, idempotency_keys};
use crate::db::Conn;

const PREFIX: &str = "rush_";

crate::wire_enum! {
    /// What a token may do.
    pub enum Scope {
        /// Every write to programs, initiatives, events and metrics.
        Content = "content",
        /// Reading and managing event requests (which hold personal data).
        Requests = "requests",
    }
}

/// A token's scopes, as stored: their names in `Scope::ALL` order, space-separated.
pub fn format_scopes(scopes: &[Scope]) -> String {
    use crate::base::wire::WireEnum;
    Scope::ALL.iter().filter(|scope| scopes.contains(scope)).map(|scope| scope.as_str()).collect::<Vec<_>>().join(" ")
}

/// The scopes of a stored list; an unknown name is ignored (it grants nothing).
pub fn parse_scopes(text: &str) -> Vec<Scope> {
    use crate::base::wire::WireEnum;
    text.split_whitespace().filter_map(Scope::parse).collect()
}

/// A new secret: a recognisable prefix and 256 random bits in hex.
pub fn generate() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{PREFIX}{hex}"))
}

/// A token as `token list` shows it: never the secret.
#[derive(Debug, Queryable)]
pub struct TokenInfo {
    pub name: String,
    pub created_at: Micros,
    /// Space-separated, as stored.
    pub scopes: String,
}

/// A token that authenticated a request.
#[derive(Debug, Clone)]
pub struct FoundToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// Stores the hash of `secret` under `name` with `scopes`; `Ok(false)` when the name is taken.
pub fn create(conn: &mut Conn, name: &str, secret: &str, scopes: &[Scope], now: Micros) -> Result<bool, AppError> {
    let taken = api_tokens::table.filter(api_tokens::name.eq(name)).count().get_result::<i64>(conn)? > 0;
    if taken {
        return Ok(false);
    }
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(sha256_hex(secret)),
            api_tokens::created_at.eq(now),
            api_tokens::scopes.eq(format_scopes(scopes)),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn list(conn: &mut Conn) -> Result<Vec<TokenInfo>, AppError> {
    Ok(api_tokens::table
        .select((api_tokens::name, api_tokens::created_at, api_tokens::scopes))
        .order((api_tokens::created_at, api_tokens::id))
        .load(conn)?)
}

/// Deletes the token named `name` and the idempotency keys it used; `Ok(false)` when there is
/// none.
pub fn revoke(conn: &mut Conn, name: &str) -> Result<bool, AppError> {
    let id: Option<i64> =
        api_tokens::table.filter(api_tokens::name.eq(name)).select(api_tokens::id).get_result(conn).optional()?;
    let Some(id) = id else { return Ok(false) };
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::token_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(api_tokens::table.find(id)).execute(conn)? > 0)
}

/// The token whose secret hashes to `token_hash` (`sha256_hex`), if it exists.
pub fn find_by_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<FoundToken>, AppError> {
    let found: Option<(i64, String, String)> = crate::on_backend!(conn, |c| api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .select((api_tokens::id, api_tokens::name, api_tokens::scopes))
        .get_result(c))
    .optional()?;
    Ok(found.map(|(id, name, scopes)| FoundToken { id, name, scopes: parse_scopes(&scopes) }))
}
