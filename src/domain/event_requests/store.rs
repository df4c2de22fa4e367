//! Event request queries. No HTTP here: callers pass a connection, inside a transaction for writes.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::base::clock::Micros;
use crate::base::error::{AppError, ProblemCode};
use crate::base::schema::event_requests;
use crate::base::wire::WireEnum;
use crate::db::{self, Backend, Conn};
use crate::domain::event_requests::api::{
    EventRequest, RequestQuery, RequestSort, RequestStatus, StaffPatch, Submission,
};
use crate::domain::event_requests::model::{RequestRow, format_support};
use crate::domain::events;
use crate::domain::events::api::{Event, NewEvent};
use crate::domain::record_store::RecordStore;
use crate::http::fields::Patch;

const RESOURCE: &str = "event request";
/// A request with the same contact email, title and start within this long is a duplicate.
const DUPLICATE_WINDOW: Micros = 24 * 3600 * 1_000_000;
/// The alphabet of references: no 0/O, 1/I, which read alike.
const REFERENCE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// The path of a requester's status link, before its secret.
pub const STATUS_PATH: &str = "/api/v1/event-requests/status/";

fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// A new status secret: 256 random bits as 64 lower-case hex digits.
fn new_secret() -> Result<String, AppError> {
    Ok(random_bytes::<32>()?.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `text` has the shape of a status secret; anything else names no request.
pub fn is_secret(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Equality that takes as long whatever the inputs hold (for equal lengths).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn new_reference(conn: &mut Conn) -> Result<String, AppError> {
    // 40 bits each: a clash is rare, and then another is drawn (bounded: a broken random source
    // fails rather than loops).
    for _ in 0..16 {
        let bytes = random_bytes::<8>()?;
        let code: String = bytes.iter().map(|b| char::from(REFERENCE_ALPHABET[usize::from(b % 32)])).collect();
        let reference = format!("ER-{code}");
        let taken =
            event_requests::table.filter(event_requests::reference.eq(&reference)).count().get_result::<i64>(conn)? > 0;
        if !taken {
            return Ok(reference);
        }
    }
    Err(AppError::internal("could not draw an unused event request reference"))
}

/// The duplicate rule's key: the same contact email (in any case), title and start.
fn duplicate_key(email: &str, title: &str, starts_at: Micros) -> String {
    format!("{}\n{}\n{starts_at}", email.to_lowercase(), title)
}

fn search_text(organization: &str, title: &str, description: Option<&str>) -> String {
    db::search_text(&[Some(organization), Some(title), description])
}

/// A request just stored, with the status secret shown to its requester this once.
pub struct Submitted {
    pub request: EventRequest,
    pub secret: String,
}

/// Stores a submission, unless the same one came within 24 hours (409 `duplicate_request`).
pub fn submit(conn: &mut Conn, submission: &Submission, now: Micros) -> Result<Submitted, AppError> {
    let key = duplicate_key(&submission.contact_email, &submission.event_title, submission.starts_at);
    let recent = event_requests::table
        .filter(event_requests::duplicate_key.eq(&key))
        .filter(event_requests::created_at.gt(now - DUPLICATE_WINDOW))
        .count()
        .get_result::<i64>(conn)?;
    if recent > 0 {
        return Err(AppError::client(
            ProblemCode::DuplicateRequest,
            "The same request (contact email, event title and start) was submitted within the last 24 hours; follow it with its status link.",
        ));
    }
    let secret = new_secret()?;
    let reference = new_reference(conn)?;
    let s = submission;
    let row: RequestRow = crate::on_backend!(conn, |c| diesel::insert_into(event_requests::table)
        .values((
            event_requests::reference.eq(&reference),
            event_requests::secret_hash.eq(crate::base::digest::sha256_hex(&secret)),
            event_requests::organization_name.eq(&s.organization_name),
            event_requests::contact_name.eq(&s.contact_name),
            event_requests::contact_email.eq(&s.contact_email),
            event_requests::contact_phone.eq(&s.contact_phone),
            event_requests::event_title.eq(&s.event_title),
            event_requests::event_description.eq(&s.event_description),
            event_requests::event_type.eq(s.event_type.as_str()),
            event_requests::requested_support.eq(format_support(&s.requested_support)),
            event_requests::starts_at.eq(s.starts_at),
            event_requests::ends_at.eq(s.ends_at),
            event_requests::location_name.eq(&s.location_name),
            event_requests::address.eq(&s.address),
            event_requests::expected_attendance.eq(s.expected_attendance),
            event_requests::status.eq(RequestStatus::Submitted.as_str()),
            event_requests::duplicate_key.eq(&key),
            event_requests::search_text.eq(search_text(
                &s.organization_name,
                &s.event_title,
                s.event_description.as_deref(),
            )),
            event_requests::created_at.eq(now),
            event_requests::updated_at.eq(now),
        ))
        .returning(RequestRow::as_returning())
        .get_result(c))?;
    Ok(Submitted { request: row.into_request()?, secret })
}

/// A new status secret for request `id` (an idempotent retry of its submission): the earlier one
/// stops working, and no secret is ever stored.
pub fn reissue_secret(conn: &mut Conn, id: i64) -> Result<Submitted, AppError> {
    let secret = new_secret()?;
    let row: RequestRow = crate::on_backend!(conn, |c| diesel::update(event_requests::table.find(id))
        .set(event_requests::secret_hash.eq(crate::base::digest::sha256_hex(&secret)))
        .returning(RequestRow::as_returning())
        .get_result(c))
    .optional()?
    .ok_or_else(|| AppError::not_found(RESOURCE, id))?;
    Ok(Submitted { request: row.into_request()?, secret })
}

/// The answer for a status secret that names no request: the same whether the secret is
/// malformed, unknown or was replaced, so that nothing is learnt about which requests exist.
fn no_such_secret() -> AppError {
    AppError::client(ProblemCode::NotFound, "There is no event request at this status link.")
}

/// The request whose status secret is `secret`.
pub fn by_secret(conn: &mut Conn, secret: &str) -> Result<RequestRow, AppError> {
    if !is_secret(secret) {
        return Err(no_such_secret());
    }
    let hash = crate::base::digest::sha256_hex(secret);
    let found: Option<(String, RequestRow)> = event_requests::table
        .filter(event_requests::secret_hash.eq(&hash))
        .select((event_requests::secret_hash, RequestRow::as_select()))
        .get_result(conn)
        .optional()?;
    match found {
        Some((stored, row)) if same_bytes(stored.as_bytes(), hash.as_bytes()) => Ok(row),
        _ => Err(no_such_secret()),
    }
}

/// The requester withdraws: only while `submitted` or `in_review` (a withdrawn request is
/// neither, so withdrawing twice is refused too).
pub fn withdraw(conn: &mut Conn, secret: &str, now: Micros) -> Result<EventRequest, AppError> {
    let row = by_secret(conn, secret)?;
    let status = crate::base::wire::from_db::<RequestStatus>("event_requests.status", &row.status)?;
    if !status.may_withdraw() {
        return Err(invalid_transition(status, RequestStatus::Withdrawn));
    }
    set_status(conn, row.id, RequestStatus::Withdrawn, now)
}

fn invalid_transition(from: RequestStatus, to: RequestStatus) -> AppError {
    AppError::client(
        ProblemCode::InvalidTransition,
        format!("An event request that is {} cannot become {}.", from.as_str(), to.as_str()),
    )
}

fn set_status(conn: &mut Conn, id: i64, status: RequestStatus, now: Micros) -> Result<EventRequest, AppError> {
    crate::on_backend!(conn, |c| diesel::update(event_requests::table.find(id))
        .set((event_requests::status.eq(status.as_str()), event_requests::updated_at.eq(now)))
        .returning(RequestRow::as_returning())
        .get_result(c))?
    .into_request()
}

fn filtered(query: &RequestQuery) -> event_requests::BoxedQuery<'static, Backend> {
    let mut select = event_requests::table.into_boxed();
    if let Some(since) = query.list.updated_since {
        select = select.filter(event_requests::updated_at.ge(since));
    }
    if let Some(status) = query.status {
        select = select.filter(event_requests::status.eq(status.as_str()));
    }
    if let Some(event_type) = query.event_type {
        select = select.filter(event_requests::event_type.eq(event_type.as_str()));
    }
    if let Some(after) = query.starts_after {
        select = select.filter(event_requests::starts_at.ge(after));
    }
    if let Some(before) = query.starts_before {
        select = select.filter(event_requests::starts_at.lt(before));
    }
    if let Some(text) = &query.q {
        // Staff search a table of requests, not of records: a scan with LIKE, within the budget.
        select = select
            .filter(event_requests::search_text.like(db::contains_pattern(text)).escape('\\'))
            .filter(db::within_budget());
    }
    select
}

/// One page of the requests matching `query`, and how many match in all.
pub fn list(conn: &mut Conn, query: &RequestQuery) -> Result<(Vec<EventRequest>, i64), AppError> {
    let total = filtered(query).count().get_result::<i64>(conn)?;
    let mut select = filtered(query);
    for key in &query.list.sort {
        select = match (key.field, key.descending) {
            (RequestSort::CreatedAt, false) => select.then_order_by(event_requests::created_at.asc()),
            (RequestSort::CreatedAt, true) => select.then_order_by(event_requests::created_at.desc()),
            (RequestSort::StartsAt, false) => select.then_order_by(event_requests::starts_at.asc()),
            (RequestSort::StartsAt, true) => select.then_order_by(event_requests::starts_at.desc()),
            (RequestSort::OrganizationName, false) => select.then_order_by(event_requests::organization_name.asc()),
            (RequestSort::OrganizationName, true) => select.then_order_by(event_requests::organization_name.desc()),
            (RequestSort::UpdatedAt, false) => select.then_order_by(event_requests::updated_at.asc()),
            (RequestSort::UpdatedAt, true) => select.then_order_by(event_requests::updated_at.desc()),
        };
    }
    let rows: Vec<RequestRow> = select
        .then_order_by(event_requests::id.asc())
        .limit(query.list.limit)
        .offset(query.list.offset)
        .select(RequestRow::as_select())
        .load(conn)?;
    let requests = rows.into_iter().map(RequestRow::into_request).collect::<Result<_, _>>()?;
    Ok((requests, total))
}

fn find_row(conn: &mut Conn, id: i64) -> Result<RequestRow, AppError> {
    crate::on_backend!(conn, |c| event_requests::table.find(id).select(RequestRow::as_select()).get_result(c))
        .optional()?
        .ok_or_else(|| AppError::not_found(RESOURCE, id))
}

/// The version (`updated_at`) of request `id`, without loading it.
pub fn version(conn: &mut Conn, id: i64) -> Result<Micros, AppError> {
    crate::on_backend!(conn, |c| event_requests::table.find(id).select(event_requests::updated_at).get_result(c))
        .optional()?
        .ok_or_else(|| AppError::not_found(RESOURCE, id))
}

pub fn get(conn: &mut Conn, id: i64) -> Result<EventRequest, AppError> {
    find_row(conn, id)?.into_request()
}

/// Applies a staff patch after `precondition` accepted the current request. A patch that changes
/// nothing writes nothing.
pub fn update(
    conn: &mut Conn,
    id: i64,
    precondition: impl FnOnce(&EventRequest) -> Result<(), AppError>,
    patch: impl FnOnce() -> Result<StaffPatch, AppError>,
    now: Micros,
) -> Result<EventRequest, AppError> {
    let current = get(conn, id)?;
    precondition(&current)?;
    let patch = patch()?;
    if let Patch::Value(linked) = &patch.event_id
        && !event_exists(conn, *linked)?
    {
        return Err(AppError::field("event_id", format!("there is no event with id {linked}")));
    }
    let mut status = current.status;
    let mut decision_note = current.decision_note.clone();
    let mut event_id = current.event_id;
    patch.status.apply(&mut status);
    patch.decision_note.apply_optional(&mut decision_note);
    patch.event_id.apply_optional(&mut event_id);
    if !current.status.staff_may_move_to(status) {
        return Err(invalid_transition(current.status, status));
    }
    if (status, &decision_note, event_id) == (current.status, &current.decision_note, current.event_id) {
        return Ok(current);
    }
    crate::on_backend!(conn, |c| diesel::update(event_requests::table.find(id))
        .set((
            event_requests::status.eq(status.as_str()),
            event_requests::decision_note.eq(decision_note),
            event_requests::event_id.eq(event_id),
            event_requests::updated_at.eq(now),
        ))
        .returning(RequestRow::as_returning())
        .get_result(c))?
    .into_request()
}

fn event_exists(conn: &mut Conn, id: i64) -> Result<bool, AppError> {
    events::store::Events::version(conn, id).map(|_| true).or_else(|error| match error.code() {
        ProblemCode::NotFound => Ok(false),
        _ => Err(error),
    })
}

/// The event a request becomes: its title, description, type, times, location and address, with
/// `overrides` (a JSON object of event fields) on top.
fn event_body(request: &EventRequest, overrides: Value) -> Result<Value, AppError> {
    let Value::Object(overrides) = overrides else {
        return Err(AppError::field("body", "must be a JSON object of event fields (`{}` for none)"));
    };
    let mut body = json!({
        "title": request.event_title,
        "description": request.event_description,
        "event_type": request.event_type,
        "status": "scheduled",
        "starts_at": request.starts_at,
        "ends_at": request.ends_at,
        "location_name": request.location_name,
        "address": request.address,
    });
    if let Value::Object(fields) = &mut body {
        fields.retain(|_, value| !value.is_null());
        fields.extend(overrides);
    }
    Ok(body)
}

/// Creates the event for request `id`, links it and accepts the request, in the caller's one
/// transaction. Refused when the request already has an event or cannot be accepted.
pub fn create_event(conn: &mut Conn, id: i64, overrides: Value, now: Micros) -> Result<Event, AppError> {
    let request = get(conn, id)?;
    if let Some(event_id) = request.event_id {
        return Err(AppError::client(
            ProblemCode::EventAlreadyCreated,
            format!("Event request {id} already has event {event_id}."),
        ));
    }
    if !request.status.staff_may_move_to(RequestStatus::Accepted) {
        return Err(invalid_transition(request.status, RequestStatus::Accepted));
    }
    let body = event_body(&request, overrides)?;
    let record = NewEvent::from_json(body, &mut |field, id| events::store::reference_exists(conn, field, id))?;
    let event = events::store::insert(conn, record, now)?;
    diesel::update(event_requests::table.find(id))
        .set((
            event_requests::event_id.eq(event.id),
            event_requests::status.eq(RequestStatus::Accepted.as_str()),
            event_requests::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(event)
}

/// Erases request `id` entirely (a person's right to erasure): no tombstone, no trace.
pub fn erase(
    conn: &mut Conn,
    id: i64,
    precondition: impl FnOnce(&EventRequest) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let current = get(conn, id)?;
    precondition(&current)?;
    diesel::delete(event_requests::table.find(id)).execute(conn)?;
    Ok(())
}

/// Erases the contact details of every request whose event ended (or, without an end, started)
/// more than `retention_days` ago; returns how many.
pub fn purge(conn: &mut Conn, now: Micros, retention_days: u32) -> Result<usize, AppError> {
    let cutoff = now - i64::from(retention_days) * 24 * 3600 * 1_000_000;
    let past = event_requests::ends_at
        .lt(cutoff)
        .or(event_requests::ends_at.is_null().and(event_requests::starts_at.lt(cutoff)));
    Ok(diesel::update(event_requests::table.filter(event_requests::erased_at.is_null()).filter(past))
        .set((
            event_requests::contact_name.eq(None::<String>),
            event_requests::contact_email.eq(None::<String>),
            event_requests::contact_phone.eq(None::<String>),
            event_requests::duplicate_key.eq(None::<String>),
            event_requests::erased_at.eq(now),
            event_requests::updated_at.eq(now),
        ))
        .execute(conn)?)
}

/// A client's allowance of submissions after one more was asked for.
pub struct Allowance {
    pub allowed: bool,
    /// How many more submissions are allowed now.
    pub remaining: u32,
    /// Seconds until the allowance is whole again, or, when refused, until the next is allowed.
    pub reset_seconds: u64,
}

const HOUR: Micros = 3_600 * 1_000_000;

/// Takes one submission from `client`'s allowance of `per_hour` (at least 1), inside a write
/// transaction at `now`: GCRA, as the in-memory limits, with bursts up to the whole hour's
/// allowance refilled evenly over the hour. Kept per client address as a hash, and only while it
/// still limits: rows whose allowance is whole again are deleted here.
pub fn take_allowance(
    conn: &mut Conn,
    client: std::net::IpAddr,
    per_hour: u32,
    now: Micros,
) -> Result<Allowance, AppError> {
    use crate::base::schema::submission_allowances as allowances;
    let per_hour = i64::from(per_hour.max(1));
    let interval = HOUR / per_hour;
    let tolerance = interval * (per_hour - 1);
    diesel::delete(allowances::table.filter(allowances::theoretical_arrival.lt(now))).execute(conn)?;
    let client_hash = crate::base::digest::sha256_hex(&format!("submissions:{client}"));
    let stored: Option<Micros> =
        allowances::table.find(&client_hash).select(allowances::theoretical_arrival).get_result(conn).optional()?;
    let arrival = stored.unwrap_or(now).max(now);
    let ahead = arrival - now;
    let seconds = |micros: Micros| u64::try_from(micros).unwrap_or(0).div_ceil(1_000_000);
    if ahead > tolerance {
        return Ok(Allowance { allowed: false, remaining: 0, reset_seconds: seconds(ahead - tolerance).max(1) });
    }
    let next = arrival + interval;
    if stored.is_some() {
        diesel::update(allowances::table.find(&client_hash))
            .set(allowances::theoretical_arrival.eq(next))
            .execute(conn)?;
    } else {
        diesel::insert_into(allowances::table)
            .values((allowances::client_hash.eq(&client_hash), allowances::theoretical_arrival.eq(next)))
            .execute(conn)?;
    }
    let remaining = u32::try_from((tolerance - ahead) / interval).unwrap_or(0);
    Ok(Allowance { allowed: true, remaining, reset_seconds: seconds(next - now) })
}

/// The requester's status link for `secret`.
pub fn status_url(secret: &str) -> String {
    format!("{STATUS_PATH}{secret}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_of_hex_and_references_use_the_unambiguous_alphabet() {
        let secret = new_secret().unwrap_or_default();
        assert!(is_secret(&secret), "{secret}");
        assert_ne!(new_secret().unwrap_or_default(), secret);
        assert!(!is_secret(&secret.to_uppercase()));
        assert!(!is_secret(&secret[1..]));
        assert_eq!(REFERENCE_ALPHABET.len(), 32);
        assert!(!REFERENCE_ALPHABET.iter().any(|c| b"01IO".contains(c)));
        assert!(same_bytes(b"abc", b"abc") && !same_bytes(b"abc", b"abd") && !same_bytes(b"abc", b"ab"));
    }
}
