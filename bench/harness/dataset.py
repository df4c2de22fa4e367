"""The dataset: deterministic programs, initiatives and events in a neutral shape, each server's
shape of them, and seeding them through the server's API."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import random
import threading
import time

from .common import BenchError, log
from .servers import Http, Server

SEED_WORKERS = 8
SCALES = {1: (1_000, 200, 5_000), 10: (10_000, 2_000, 50_000)}
EVENT_TYPES = ["health_fair", "community_event", "networking", "wellness", "recruitment", "education"]

SPECIALTIES = [
    ("Internal Medicine", "Internal Medicine"), ("Cardiovascular Disease", "Internal Medicine"),
    ("Gastroenterology", "Internal Medicine"), ("Nephrology", "Internal Medicine"),
    ("Pulmonary and Critical Care Medicine", "Internal Medicine"), ("Infectious Disease", "Internal Medicine"),
    ("Hematology and Oncology", "Internal Medicine"), ("Geriatric Medicine", "Internal Medicine"),
    ("Pediatrics", "Pediatrics"), ("Neonatal-Perinatal Medicine", "Pediatrics"), ("Family Medicine", "Family Medicine"),
    ("Emergency Medicine", "Emergency Medicine"), ("General Surgery", "Surgery"), ("Vascular Surgery", "Surgery"),
    ("Neurology", "Neurological Sciences"), ("Psychiatry", "Psychiatry and Behavioral Sciences"),
    ("Obstetrics and Gynecology", "Obstetrics and Gynecology"), ("Orthopaedic Surgery", "Orthopedic Surgery"),
    ("Diagnostic Radiology", "Diagnostic Radiology"), ("Anesthesiology", "Anesthesiology"),
    ("Pathology", "Pathology"), ("Dermatology", "Dermatology"), ("Ophthalmology", "Ophthalmology"),
    ("Otolaryngology", "Otorhinolaryngology"), ("Urology", "Urology"), ("Sports Medicine", "Orthopedic Surgery"),
]
ALLIED = [("Pharmacy Practice", "Pharmacy", "ASHP"), ("Clinical Nutrition", "Clinical Nutrition", "ACEND"),
          ("Physical Therapy", "Physical Therapy", "ABPTRFE"), ("Medical Laboratory Science", "Pathology", "NAACLS")]
CAMPUSES = ["rush_university_medical_center", "rush_oak_park_hospital", "rush_copley_medical_center"]
PROGRAM_SENTENCES = [
    "Graduate Medical Education at RUSH trains more than 825 residents and fellows in about 90 programs.",
    "Trainees rotate across three campuses and care for patients from Chicago's West Side.",
    "The curriculum combines supervised clinical care, didactics, simulation and scholarly work.",
    "Residents join quality improvement projects and a health equity track.",
    "Mentorship pairs every trainee with a faculty advisor from the first week.",
    "Fellows complete a research project and present it at a national meeting.",
    "Call schedules follow ACGME duty hour requirements.",
    "Wellness programming includes protected time, peer support and counseling.",
]
THEMES = [
    ("Community Health Equity", "health_equity"), ("School-Based Health Centers", "clinical_care"),
    ("Anchor Mission Hiring", "economic_development"), ("West Side United Partnership", "partnership"),
    ("REACH Outreach", "community_service"), ("Violence Prevention", "public_health"),
    ("Food Access", "public_health"), ("Vaccination Drive", "public_health"),
    ("Mental Health First Aid", "education"), ("BMO Institute Fellowship", "health_equity"),
    ("Pipeline Mentoring", "education"), ("Local Purchasing", "economic_development"),
]
INITIATIVE_SENTENCES = [
    "The Office of Community Health Equity and Engagement leads this work with neighborhood partners.",
    "It addresses the 16-year life expectancy gap between the Loop and the West Side.",
    "Community health workers connect residents to primary care, food and housing resources.",
    "Progress is tracked against the community health needs assessment.",
    "Students, faculty and staff volunteer alongside community organizations.",
    "The work is funded in part by philanthropic partners and the anchor mission strategy.",
]
LOCATIONS = [
    ("Rush University Medical Center, Atrium Lobby", "1620 W Harrison St, Chicago, IL 60612"),
    ("Malcolm X College Gymnasium", "1900 W Jackson Blvd, Chicago, IL 60612"),
    ("Garfield Park Conservatory", "300 N Central Park Ave, Chicago, IL 60624"),
    ("Rush Oak Park Hospital, Conference Center", "520 S Maple Ave, Oak Park, IL 60304"),
    ("Rush Copley Medical Center, Auditorium", "2000 Ogden Ave, Aurora, IL 60504"),
    ("Westside Health Authority", "5417 W Division St, Chicago, IL 60651"),
    ("North Lawndale Community Center", "1340 S Christiana Ave, Chicago, IL 60623"),
]
EVENT_LABELS = {
    "health_fair": "Health Fair", "community_event": "Community Day", "networking": "Networking Night",
    "wellness": "Wellness Workshop", "recruitment": "Residency Open House", "education": "Health Education Session",
}
EVENT_SENTENCES = [
    "Free blood pressure, glucose and cholesterol screenings.",
    "Flu and COVID-19 vaccinations for adults and children.",
    "Meet residents and faculty and learn about training at RUSH.",
    "Healthy cooking demonstrations and produce boxes to take home.",
    "Connect with community health workers and local organizations.",
    "Mindfulness, movement and stress reduction for caregivers.",
    "Presented with neighborhood partners of West Side United.",
]
SEARCH_TERMS = ["cardio", "pediatric", "surgery", "health fair", "vaccination", "mentorship", "Garfield",
                "equity", "wellness", "residents", "oncology", "no-such-term-xyz"]


def repeat_to(phrase: str, length: int) -> str:
    """phrase repeated, space-separated, cut at a word boundary to at most `length` characters."""
    words, out = phrase.split(), []
    for i in range(length):
        w = words[i % len(words)]
        if len(" ".join(out + [w])) > length:
            break
        out.append(w)
    return " ".join(out)


# The abuse scenario's q: common words repeated up to the 200-character limit (a trigram query of
# dozens of trigrams, each in most rows), half that, common 3-character trigrams (the shortest q
# the index answers, matching most rows), and 1-2 characters (scanned with LIKE).
ABUSE_QUERIES = (
    [repeat_to(p, n) for p in ("the", "and", "health", "the community", "residents and fellows", "care for patients")
     for n in (200, 100)]
    + ["the", "and", "ing", "ion", "ent", "hea", "res", "com", "ter", "ati", "for", "ear"]
    + ["e", "a", "th", "in"]
)


def iso(t: dt.datetime, offset_hours: int = 0) -> str:
    if offset_hours == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = t + dt.timedelta(hours=offset_hours)
    sign = "+" if offset_hours > 0 else "-"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{abs(offset_hours):02d}:00"


class Dataset:
    """Deterministic records in a neutral shape; adapters turn them into each server's bodies."""

    def __init__(self, scale: int, today: dt.date):
        n_prog, n_init, n_evt = SCALES[scale]
        rng = random.Random(20261125 + scale)
        self.t0 = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(), tzinfo=dt.timezone.utc)
        self.span_slots = 730 * 96  # 15-minute slots over two years
        self.programs = []
        for i in range(1, n_prog + 1):
            if rng.random() < 0.12:
                specialty, dept, accreditor = rng.choice(ALLIED)
                ptype, word = "allied_health", "Residency"
            else:
                specialty, dept = rng.choice(SPECIALTIES)
                accreditor = "ACGME"
                ptype = "fellowship" if rng.random() < 0.4 else "residency"
                word = "Fellowship" if ptype == "fellowship" else "Residency"
            self.programs.append({
                "name": f"{specialty} {word} {i:05d}",
                "program_type": ptype,
                "specialty": specialty,
                "department": dept,
                "campus": rng.choice(CAMPUSES),
                "description": " ".join(rng.sample(PROGRAM_SENTENCES, rng.randint(2, 5))),
                "duration_years": rng.randint(1, 7),
                "positions_per_year": rng.choice([None, rng.randint(1, 40)]),
                "accreditor": accreditor,
                "accreditation_id": f"{rng.randrange(10**9, 10**10)}" if accreditor == "ACGME" and rng.random() < 0.5 else None,
                "director_name": rng.choice([None, f"Dr. Director {i}"]),
                "contact_email": rng.choice([None, f"gme-{i:05d}@example.org"]),
                "website_url": rng.choice([None, f"https://example.org/gme/programs/{i:05d}"]),
                "accepting_applications": rng.random() < 0.8,
                "application_deadline": rng.choice([None, (today + dt.timedelta(days=rng.randint(10, 300))).isoformat()]),
            })
        self.initiatives = []
        for i in range(1, n_init + 1):
            theme, category = rng.choice(THEMES)
            self.initiatives.append({
                "name": f"{theme} {i:04d}",
                "summary": f"{theme} on Chicago's West Side (initiative {i}).",
                "description": " ".join(rng.sample(INITIATIVE_SENTENCES, rng.randint(2, 4))),
                "category": category,
                "lead_office": "Office of Community Health Equity and Engagement",
                "status": rng.choices(["planned", "active", "completed"], [1, 6, 2])[0],
                "started_on": rng.choice([None, (today - dt.timedelta(days=rng.randint(0, 3000))).isoformat()]),
                "website_url": rng.choice([None, f"https://example.org/community/{i:04d}"]),
                "contact_email": rng.choice([None, f"chee-{i:04d}@example.org"]),
            })
        self.events = []
        for i in range(1, n_evt + 1):
            etype = rng.choice(EVENT_TYPES)
            start = self.t0 + dt.timedelta(minutes=15 * rng.randrange(self.span_slots))
            location, address = rng.choice(LOCATIONS)
            virtual = rng.random() < 0.15
            offset = rng.choice([0, 0, 0, -5, -6])
            self.events.append({
                "title": f"{EVENT_LABELS[etype]} {i:06d}",
                "description": " ".join(rng.sample(EVENT_SENTENCES, rng.randint(1, 4))),
                "event_type": etype,
                "status": rng.choices(["scheduled", "cancelled", "completed"], [8, 1, 1])[0],
                "starts_at": iso(start, offset),
                "ends_at": rng.choice([None, iso(start + dt.timedelta(hours=rng.randint(1, 6)), offset)]),
                "location_name": None if virtual and rng.random() < 0.5 else location,
                "address": None if virtual else address,
                "is_virtual": virtual,
                "virtual_url": f"https://example.org/live/event-{i:06d}" if virtual else None,
                "registration_url": rng.choice([None, f"https://example.org/register/{i:06d}"]),
                "capacity": rng.choice([None, rng.randint(10, 2000)]),
                "initiative": rng.randrange(n_init) if rng.random() < 0.3 else None,
                "program": rng.randrange(n_prog) if rng.random() < 0.2 else None,
            })


def program_body(kind: str, p: dict) -> dict:
    if kind == "rush":
        return {k: v for k, v in p.items() if v is not None}
    body = {k: p[k] for k in ("name", "program_type", "specialty", "department", "campus", "description",
                              "duration_years", "positions_per_year", "accepting_applications")}
    body["accreditation"] = " ".join(x for x in (p["accreditor"], p["accreditation_id"]) if x)
    return {k: v for k, v in body.items() if v is not None}


def initiative_body(kind: str, p: dict) -> dict:
    body = dict(p)
    if kind != "rush":
        body["start_date"] = body.pop("started_on")
        body.pop("contact_email")
    return {k: v for k, v in body.items() if v is not None}


def event_body(kind: str, e: dict, program_ids: list[int], initiative_ids: list[int]) -> dict:
    body = {k: v for k, v in e.items() if k not in ("initiative", "program")}
    if e["initiative"] is not None:
        body["initiative_id"] = initiative_ids[e["initiative"]]
    if e["program"] is not None:
        body["program_id"] = program_ids[e["program"]]
    if kind != "rush":
        for k in ("address", "virtual_url", "registration_url"):
            body.pop(k)
    return {k: v for k, v in body.items() if v is not None}


def seed(server: Server, ds: Dataset) -> None:
    http = Http(server.port)
    auth = {"Authorization": f"Bearer {server.token}"}
    started = time.monotonic()
    count = [0]
    lock = threading.Lock()

    def post(path: str, body: dict) -> int:
        status, _headers, payload = http.request("POST", path, body, auth)
        if status != 201:
            raise BenchError(f"seeding {server.name}: POST {path} -> {status}: {payload[:500]!r}\nbody: {json.dumps(body)}")
        with lock:
            count[0] += 1
            if count[0] % 2000 == 0:
                log(f"  {server.name}: {count[0]} records")
        return json.loads(payload)["id"]

    with concurrent.futures.ThreadPoolExecutor(SEED_WORKERS) as pool:
        pf = [pool.submit(post, "/api/v1/programs", program_body(server.kind, p)) for p in ds.programs]
        inf = [pool.submit(post, "/api/v1/initiatives", initiative_body(server.kind, p)) for p in ds.initiatives]
        program_ids = [f.result() for f in pf]
        initiative_ids = [f.result() for f in inf]
        ef = [pool.submit(post, "/api/v1/events", event_body(server.kind, e, program_ids, initiative_ids))
              for e in ds.events]
        event_ids = [f.result() for f in ef]
    server.seed_seconds = time.monotonic() - started
    server.seed_requests = count[0]
    server.ids = {"programs": program_ids, "initiatives": initiative_ids, "events": event_ids}
    # Check what the server now holds.
    for coll, expected in (("programs", len(ds.programs)), ("initiatives", len(ds.initiatives)),
                           ("events", len(ds.events))):
        status, _h, payload = http.request("GET", f"/api/v1/{coll}?limit=1")
        total = json.loads(payload)["meta"]["total"] if status == 200 else None
        if total != expected:
            raise BenchError(f"{server.name}: {coll} total is {total}, expected {expected}")
    log(f"seeded {server.name}: {count[0]} records in {server.seed_seconds:.1f} s "
        f"({count[0] / server.seed_seconds:.0f} creates/s with {SEED_WORKERS} clients)")
