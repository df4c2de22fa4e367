//! Idempotent creates (IETF draft `Idempotency-Key`): a retried POST gets the original response
//! and creates nothing.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::base::clock::Micros;
use crate::base::error::{AppError, FieldError, ProblemCode};
use crate::base::schema::idempotency_keys;
use crate::db::{Conn, Db};
use crate::http::respond::Representation;

pub const HEADER: &str = "Idempotency-Key";
/// Keys are remembered this long (24 hours).
const RETENTION: Micros = 24 * 3600 * 1_000_000;
/// A reservation older than this belongs to a request that died (the body deadline and the
/// write together take far less); a retry may then take the key over.
const ABANDONED_AFTER: Micros = 60 * 1_000_000;
const MAX_KEY_LENGTH: usize = 255;

/// The key of an idempotent POST, with the fingerprint of its request.
#[derive(Debug, Clone)]
pub struct Idempotent {
    /// The id of the token that sent it: keys belong to a token, never to a name that a later
    /// token can be given.
    token_id: i64,
    key: String,
    fingerprint: String,
}

impl Idempotent {
    /// The request's `Idempotency-Key`, if any: 1 to 255 visible ASCII characters, optionally
    /// quoted as a structured-field string.
    pub fn from_request(
        request: &HttpRequest,
        token_id: i64,
        body: &serde_json::Value,
    ) -> Result<Option<Idempotent>, AppError> {
        let Some(value) = request.headers().get(HEADER) else { return Ok(None) };
        let invalid = || {
            AppError::Validation(vec![FieldError::header(
                HEADER,
                "must be 1 to 255 visible ASCII characters, e.g. a UUID",
            )])
        };
        let text = value.to_str().map_err(|_| invalid())?.trim();
        let key = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        if key.is_empty() || key.len() > MAX_KEY_LENGTH || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid());
        }
        let canonical = serde_json::to_vec(&canonical(body)).map_err(AppError::internal)?;
        let mut hasher = Sha256::new();
        hasher.update(request.path().as_bytes());
        hasher.update([0]);
        hasher.update(&canonical);
        let fingerprint = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(Idempotent { token_id, key: key.to_owned(), fingerprint }))
    }
}

/// `value` with the members of every object sorted by name, at any depth. JSON gives members no
/// order (RFC 8259 §4), so a retry that serializes them in another order is the same request.
/// The depth is bounded by the JSON parser's recursion limit (128).
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(object) => {
            let mut members: Vec<(&String, &Value)> = object.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            Value::Object(members.into_iter().map(|(name, member)| (name.clone(), canonical(member))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// A finished create: what the first request answered, to be replayed to retries.
struct Stored {
    location: String,
    body: Vec<u8>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    request_hash: String,
    response_status: Option<i32>,
    response_location: Option<String>,
    response_body: Option<Vec<u8>>,
    created_at: Micros,
}

enum Reservation {
    Reserved,
    Replay(Stored),
}

fn reserve(conn: &mut Conn, request: &Idempotent, now: Micros) -> Result<Reservation, AppError> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now - RETENTION))).execute(conn)?;
    let existing: Option<KeyRow> = idempotency_keys::table
        .find((request.token_id, &request.key))
        .select(KeyRow::as_select())
        .get_result(conn)
        .optional()?;
    match existing {
        Some(row) if row.request_hash != request.fingerprint => Err(AppError::client(
            ProblemCode::IdempotencyKeyReused,
            format!("The Idempotency-Key '{}' was used with a different request.", request.key),
        )),
        Some(KeyRow {
            response_status: Some(_), response_location: Some(location), response_body: Some(body), ..
        }) => Ok(Reservation::Replay(Stored { location, body })),
        Some(row) if row.created_at > now - ABANDONED_AFTER => Err(AppError::client(
            ProblemCode::IdempotencyKeyInUse,
            format!("A request with the Idempotency-Key '{}' is still being processed; retry shortly.", request.key),
        )),
        Some(_) => {
            diesel::update(idempotency_keys::table.find((request.token_id, &request.key)))
                .set(idempotency_keys::created_at.eq(now))
                .execute(conn)?;
            Ok(Reservation::Reserved)
        }
        None => {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::token_id.eq(request.token_id),
                    idempotency_keys::idempotency_key.eq(&request.key),
                    idempotency_keys::request_hash.eq(&request.fingerprint),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(conn)?;
            Ok(Reservation::Reserved)
        }
    }
}

fn replayed(stored: Stored) -> HttpResponse {
    let mut response = Representation::from_bytes(stored.body).created(stored.location);
    response
        .headers_mut()
        .insert(header::HeaderName::from_static("idempotent-replayed"), header::HeaderValue::from_static("true"));
    response
}

/// Runs `create` (which returns the new record and its URL) once per key: the first request
/// reserves the key, creates and stores its response in the same transaction as the record;
/// a retry with the same body gets that response again, one with another body a 422, and one
/// arriving while the first is still in flight a 409. Without a key, `create` simply runs.
pub async fn create<T, F>(db: &Db, key: Option<Idempotent>, mut create: F) -> Result<HttpResponse, AppError>
where
    T: serde::Serialize + Send + 'static,
    F: FnMut(&mut Conn, Micros) -> Result<(T, String), AppError> + Send + 'static,
{
    let Some(key) = key else {
        let (record, location) = db.write(create).await?;
        return Ok(Representation::of(&record)?.created(location));
    };
    let reserving = key.clone();
    if let Reservation::Replay(stored) = db.write(move |conn, now| reserve(conn, &reserving, now)).await? {
        return Ok(replayed(stored));
    }
    let storing = key.clone();
    let outcome = db
        .write(move |conn, now| {
            let (record, location) = create(conn, now)?;
            let representation = Representation::of(&record)?;
            diesel::update(idempotency_keys::table.find((storing.token_id, &storing.key)))
                .set((
                    idempotency_keys::response_status.eq(i32::from(StatusCode::CREATED.as_u16())),
                    idempotency_keys::response_location.eq(&location),
                    idempotency_keys::response_body.eq(&representation.body),
                ))
                .execute(conn)?;
            Ok((representation, location))
        })
        .await;
    match outcome {
        Ok((representation, location)) => Ok(representation.created(location)),
        Err(error) => Err(release(db, key, error).await),
    }
}

/// Frees the key of a create that failed (nothing was created), so that the client can fix the
/// request and retry; returns the create's error.
async fn release(db: &Db, key: Idempotent, error: AppError) -> AppError {
    let released = db
        .write(move |conn, _| {
            diesel::delete(idempotency_keys::table.find((key.token_id, &key.key))).execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(release_error) = released {
        log::warn!("could not release an idempotency key: {release_error}");
    }
    error
}

/// The key owner of requests sent without a token (public submissions). Token ids start at 1.
pub const ANONYMOUS: i64 = 0;

/// What a create whose answer carries a secret returns: the body, its `Location`, and the new
/// record's id (what is stored for replays instead of the answer).
pub struct SecretCreated<T> {
    pub body: T,
    pub location: String,
    pub id: i64,
}

/// Like `create`, for a create whose answer carries a secret shown once (an event request's
/// status link): what is kept for retries is the new record's id, never the answer, and a replay
/// gets an answer from `reissue`, which gives the record a new secret (the earlier one, which the
/// client evidently did not receive, stops working).
pub async fn create_with_secret<T, F, R>(
    db: &Db,
    key: Option<Idempotent>,
    mut create: F,
    mut reissue: R,
) -> Result<HttpResponse, AppError>
where
    T: serde::Serialize + Send + 'static,
    F: FnMut(&mut Conn, Micros) -> Result<SecretCreated<T>, AppError> + Send + 'static,
    R: FnMut(&mut Conn, i64) -> Result<SecretCreated<T>, AppError> + Send + 'static,
{
    let Some(key) = key else {
        let created = db.write(create).await?;
        return Ok(Representation::of(&created.body)?.created(created.location));
    };
    let reserving = key.clone();
    if let Reservation::Replay(stored) = db.write(move |conn, now| reserve(conn, &reserving, now)).await? {
        let id =
            stored.location.parse::<i64>().map_err(|_| AppError::internal("a stored record id is not a number"))?;
        let created = db.write(move |conn, _now| reissue(conn, id)).await?;
        let mut response = Representation::of(&created.body)?.created(created.location);
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("idempotent-replayed"), header::HeaderValue::from_static("true"));
        return Ok(response);
    }
    let storing = key.clone();
    let outcome = db
        .write(move |conn, now| {
            let created = create(conn, now)?;
            diesel::update(idempotency_keys::table.find((storing.token_id, &storing.key)))
                .set((
                    idempotency_keys::response_status.eq(i32::from(StatusCode::CREATED.as_u16())),
                    idempotency_keys::response_location.eq(created.id.to_string()),
                    idempotency_keys::response_body.eq(Vec::<u8>::new()),
                ))
                .execute(conn)?;
            Ok(created)
        })
        .await;
    match outcome {
        Ok(created) => Ok(Representation::of(&created.body)?.created(created.location)),
        Err(error) => Err(release(db, key, error).await),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde_json::json;

    use super::*;

    fn fingerprint(token_id: i64, body: &serde_json::Value) -> String {
        let request = TestRequest::post().uri("/api/v1/events").insert_header((HEADER, "k")).to_http_request();
        match Idempotent::from_request(&request, token_id, body) {
            Ok(Some(key)) => key.fingerprint,
            _ => panic!("a valid key"),
        }
    }

    #[test]
    fn members_in_another_order_at_any_depth_are_the_same_body() {
        let one: serde_json::Value =
            serde_json::from_str(r#"{"a": 1, "b": {"x": [{"p": 1, "q": 2}], "y": null}, "c": "z"}"#).expect("json");
        let other: serde_json::Value =
            serde_json::from_str(r#"{"c": "z", "b": {"y": null, "x": [{"q": 2, "p": 1}]}, "a": 1}"#).expect("json");
        assert_eq!(fingerprint(1, &one), fingerprint(1, &other));
        let reordered_array = json!({"a": 1, "b": {"x": [{"p": 1, "q": 3}], "y": null}, "c": "z"});
        assert_ne!(fingerprint(1, &one), fingerprint(1, &reordered_array), "values still count");
        assert_ne!(fingerprint(1, &json!([1, 2])), fingerprint(1, &json!([2, 1])), "arrays keep their order");
    }
}
