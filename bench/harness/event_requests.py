"""Event requests (the public form and staff review): the bodies of submissions, and the requests
request_review works on, submitted through the API and moved to `in_review` before it is measured.

request_submit's bodies are built by lua/common.lua (request_body) in wrk; the ones here are the
same kind, for the preparation and the smoke checks."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import random

from .common import BenchError, log
from .dataset import EVENT_TYPES, LOCATIONS, SEED_WORKERS
from .servers import Http, Server

# Every event type a request may name (the dataset leaves `volunteer` out: the peer lacks it).
REQUEST_EVENT_TYPES = EVENT_TYPES + ["volunteer"]
SUPPORT = ["health_screenings", "health_education", "information_table", "speaker", "volunteers", "vaccinations",
           "sponsorship"]
ORGANIZATIONS = ["Near West Side Community Council", "Garfield Park Neighbors", "North Lawndale Youth League",
                 "Austin Coming Together", "Westside Health Authority", "Little Village Parents Network",
                 "East Garfield Park Block Club", "Humboldt Park Health Circle"]
# Requests start in the future wherever the benchmark runs: from 2030-01-01, within two years.
REQUEST_T0 = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
REQUEST_SPAN_SLOTS = 730 * 96  # 15-minute slots
# request_review's requests: REVIEW_POOL are moved to `in_review` beforehand and then PATCHed by
# the scenario (decision notes, in_review <-> declined); REVIEW_SUBMITTED stay `submitted` (its
# lists with status=submitted), never PATCHed.
REVIEW_POOL = 300
REVIEW_SUBMITTED = 100
MERGE_PATCH = "application/merge-patch+json"


def request_body(rng: random.Random, tag: str, n: int) -> dict:
    """A valid submission; contact email and event title are unique per (tag, n), so that the
    24-hour duplicate rule never fires."""
    start = REQUEST_T0 + dt.timedelta(minutes=15 * rng.randrange(REQUEST_SPAN_SLOTS))
    offset = rng.choice(["-05:00", "-06:00", "Z"])
    hours = -5 if offset == "-05:00" else -6 if offset == "-06:00" else 0

    def local(t: dt.datetime) -> str:
        return (t + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S") + offset

    location, address = rng.choice(LOCATIONS)
    body = {
        "organization_name": rng.choice(ORGANIZATIONS),
        "contact_name": f"Contact {n}",
        "contact_email": f"bench.{tag}.{n}@example.org",
        "contact_phone": "+1 (312) 555-" + f"{rng.randrange(10_000):04d}",
        "event_title": f"Bench request {tag} #{n}",
        "event_description": "A community event asking RUSH for support (created by the benchmark).",
        "event_type": rng.choice(REQUEST_EVENT_TYPES),
        "requested_support": rng.sample(SUPPORT, rng.randint(1, 3)),
        "starts_at": local(start),
        "ends_at": local(start + dt.timedelta(hours=rng.randint(1, 6))),
        "location_name": location,
        "address": address,
        "expected_attendance": rng.randint(20, 2000),
    }
    if n % 4 == 0:  # the optional fields are optional
        for key in ("contact_phone", "event_description", "ends_at"):
            del body[key]
    return body


def prepare_review(server: Server) -> list[int]:
    """Submits REVIEW_POOL + REVIEW_SUBMITTED requests (no token), moves the pool to `in_review`
    with the staff token, checks the lists and one PATCH of each kind request_review sends, and
    returns the pool's ids (for lua/request_review.lua)."""
    if not server.staff_token:
        raise BenchError(f"{server.name} has no staff token")
    http = Http(server.port)
    staff = {"Authorization": f"Bearer {server.staff_token}"}
    rng = random.Random(11)  # the same requests for every server
    bodies = [request_body(rng, f"review-{server.key}", n) for n in range(REVIEW_POOL + REVIEW_SUBMITTED)]

    def submit(body: dict) -> int:
        status, _h, payload = http.request("POST", "/api/v1/event-requests", body)
        if status != 201:
            raise BenchError(f"{server.name}: POST /api/v1/event-requests -> {status}: {payload[:500]!r}")
        return json.loads(payload)["id"]

    def patch(rid: int, body: dict) -> dict:
        status, _h, payload = http.request("PATCH", f"/api/v1/event-requests/{rid}", json.dumps(body).encode(),
                                           dict(staff, **{"Content-Type": MERGE_PATCH}))
        if status != 200:
            raise BenchError(f"{server.name}: PATCH /api/v1/event-requests/{rid} {body} -> {status}: {payload[:500]!r}")
        return json.loads(payload)

    with concurrent.futures.ThreadPoolExecutor(SEED_WORKERS) as pool:
        ids = list(pool.map(submit, bodies))
        pool_ids = ids[:REVIEW_POOL]
        list(pool.map(lambda rid: patch(rid, {"status": "in_review"}), pool_ids))
    # One of each PATCH the scenario sends, on one request, ending where it started (in_review).
    rid = pool_ids[0]
    for body, expect in (({"decision_note": "Smoke check."}, "in_review"),
                         ({"status": "declined", "decision_note": "Smoke check: declined."}, "declined"),
                         ({"status": "declined", "decision_note": "Smoke check: declined again."}, "declined"),
                         ({"status": "in_review", "decision_note": "Smoke check: reopened."}, "in_review"),
                         ({"status": "in_review", "decision_note": "Smoke check: still in review."}, "in_review")):
        got = patch(rid, body)
        if got.get("status") != expect:
            raise BenchError(f"{server.name}: PATCH {body} left request {rid} {got.get('status')!r}, not {expect!r}")
    for query, expected in (("", REVIEW_POOL + REVIEW_SUBMITTED), ("&status=submitted", REVIEW_SUBMITTED),
                            ("&status=in_review", REVIEW_POOL), ("&sort=starts_at", REVIEW_POOL + REVIEW_SUBMITTED)):
        status, _h, payload = http.request("GET", f"/api/v1/event-requests?limit=20{query}", headers=staff)
        total = json.loads(payload)["meta"]["total"] if status == 200 else None
        if total != expected:
            raise BenchError(f"{server.name}: GET /api/v1/event-requests?limit=20{query} -> {status}, total {total}, "
                             f"expected {expected}: {payload[:300]!r}")
    log(f"{server.name}: {len(ids)} event requests for request_review, {REVIEW_POOL} of them in review")
    return pool_ids


def check_submit(server: Server) -> None:
    """One public submission, as request_submit sends them (no token), answers 201."""
    http = Http(server.port)
    body = request_body(random.Random(12), f"smoke-{server.key}", 0)
    status, _h, payload = http.request("POST", "/api/v1/event-requests", body)
    if status != 201:
        raise BenchError(f"{server.name}: POST /api/v1/event-requests (no token) -> {status}: {payload[:500]!r}\n"
                         f"body: {json.dumps(body)}")
