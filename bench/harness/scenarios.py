"""The scenarios: the data files each wrk script reads, the smoke checks before a scenario runs, and
the script's arguments (running wrk is in wrk.py)."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import random
import urllib.parse
from pathlib import Path

from .common import PEER_SKIPS, BenchError
from .dataset import ABUSE_QUERIES, EVENT_TYPES, SEARCH_TERMS, SEED_WORKERS, Dataset, iso
from .event_requests import REQUEST_SPAN_SLOTS, REQUEST_T0, check_submit, prepare_review
from .servers import Http, Server


def write_lines(path: Path, lines) -> Path:
    path.write_text("".join(f"{x}\n" for x in lines))
    return path


def prepare_data(server: Server, ds: Dataset, tmp: Path, scenarios: list[str]) -> None:
    rng = random.Random(7)  # the same choices for every server
    d = tmp / f"data-{server.key}"
    d.mkdir(exist_ok=True)
    ids = server.ids
    colls = ["programs", "initiatives", "events"]
    by_id = [f"/api/v1/{c}/{rng.choice(ids[c])}" for c in (rng.choice(colls) for _ in range(20_000))]
    server.data["by_id"] = write_lines(d / "by_id.txt", by_id)
    server.data["list_20"] = write_lines(d / "list_20.txt", [f"/api/v1/{c}" for c in colls])
    filtered = []
    for _ in range(500):
        day = rng.randrange(730 - 60)
        a = ds.t0 + dt.timedelta(days=day)
        b = a + dt.timedelta(days=60)
        filtered.append(f"/api/v1/events?event_type={rng.choice(EVENT_TYPES)}&starts_after={iso(a)}&starts_before={iso(b)}")
    server.data["list_filtered"] = write_lines(d / "list_filtered.txt", filtered)
    offsets = [rng.randrange(max(1, len(ids["events"]) - 20)) for _ in range(5000)]
    server.data["list_events"] = write_lines(d / "list_events.txt", [f"/api/v1/events?offset={o}" for o in offsets])
    server.data["list_included"] = write_lines(
        d / "list_included.txt", [f"/api/v1/events?offset={o}&include=initiative,program" for o in offsets])
    server.data["search"] = write_lines(
        d / "search.txt",
        [f"/api/v1/{c}?q={urllib.parse.quote(t)}" for t in SEARCH_TERMS for c in ("programs", "events")])
    server.data["ics_feed"] = write_lines(d / "ics_feed.txt", ["/api/v1/events.ics"])
    server.data["healthz"] = write_lines(d / "healthz.txt", ["/healthz"])
    if "abuse" in scenarios and server.kind == "rush":
        server.data["abuse_searches"] = write_lines(
            d / "abuse_searches.txt",
            [f"{c}\t/api/v1/{c}?q={urllib.parse.quote(q)}" for q in ABUSE_QUERIES for c in colls])
        server.data["abuse_oversized"] = write_lines(d / "abuse_oversized.txt", oversized_targets(rng))
    server.data["programs"] = write_lines(d / "program_ids.txt", ids["programs"])
    server.data["initiatives"] = write_lines(d / "initiative_ids.txt", ids["initiatives"])
    server.data["events"] = write_lines(d / "event_ids.txt", ids["events"])
    if "not_modified" in scenarios and server.kind == "rush":
        sample = by_id[:3000]
        http = Http(server.port)

        def etag(path: str) -> str:
            status, headers, _ = http.request("GET", path)
            tag = headers.get("ETag")
            if status != 200 or not tag:
                raise BenchError(f"GET {path} -> {status}, ETag {tag!r}")
            return f"{path}\t{tag}"

        with concurrent.futures.ThreadPoolExecutor(SEED_WORKERS) as pool:
            server.data["not_modified"] = write_lines(d / "etags.txt", list(pool.map(etag, sample)))
    if "request_review" in scenarios and server.kind == "rush":
        server.data["review_ids"] = write_lines(d / "review_ids.txt", prepare_review(server))
    if "request_submit" in scenarios and server.kind == "rush":
        check_submit(server)
    # Smoke check: one request of each read scenario answers as expected before wrk spends time on it,
    # on every instance (they share the database the first one was seeded through).
    for inst in server.instances:
        http = Http(inst.port)
        for key, expect in (("by_id", 200), ("list_20", 200), ("list_filtered", 200), ("healthz", 200),
                            ("list_events", 200), ("list_included", 200), ("search", 200), ("ics_feed", 200)):
            if server.kind != "rush" and key in PEER_SKIPS:
                continue
            # Only when measured: a --baseline binary may predate them.
            if key in ("list_events", "list_included") and key not in scenarios:
                continue
            for path in server.data[key].read_text().split()[:3]:
                status, _h, payload = http.request("GET", path)
                if status != expect:
                    raise BenchError(f"{server.name} (port {inst.port}): GET {path} -> {status}: {payload[:300]!r}")
    http = Http(server.port)
    if "abuse_searches" in server.data:
        # One of each kind of the flood's requests, shaped as abuse.lua shapes them.
        search = server.data["abuse_searches"].read_text().splitlines()[0].split("\t")[1]
        window = f"starts_after={iso(ds.t0 + dt.timedelta(days=100, minutes=7))}&starts_before={iso(ds.t0 + dt.timedelta(days=450))}"
        checks = [(f"{search}&offset=3&limit=77&sort=-specialty,name", {200}),
                  (f"/api/v1/events.ics?{window}&event_type=wellness&status=scheduled&q=the", {200}),
                  (f"/api/v1/deletions?since={iso(ds.t0)}&limit=50&offset=2&resource=events", {200})]
        checks += [(t, {414, 422}) for t in server.data["abuse_oversized"].read_text().split()[:6]]
        for path, expect in checks:
            status, _h, payload = http.request("GET", path)
            if status not in expect:
                raise BenchError(f"{server.name}: GET {path[:200]}… ({len(path)} bytes) -> {status}: {payload[:300]!r}")


def oversized_targets(rng: random.Random, count: int = 48) -> list[str]:
    """Request targets of 7,700 to 9,200 bytes, half at most 8 KiB (a 422: unknown parameters or a q
    over 200 characters) and half over it (a 414 where the server limits targets to 8 KiB)."""
    out = []
    for i in range(count):
        size = rng.randint(7_700, 8_150) if i % 2 == 0 else rng.randint(8_250, 9_200)
        form = i % 3
        if form == 0:  # one long unknown parameter
            base = rng.choice(["/api/v1/programs", "/api/v1/events.ics", "/api/v1/deletions"]) + "?filter="
            target = base + "x" * (size - len(base))
        elif form == 1:  # about a thousand short unknown parameters: a 422 naming every one
            target = rng.choice(["/api/v1/initiatives", "/api/v1/events", "/api/v1/deletions"]) + "?p0000=1"
            n = 1
            while len(target) + 8 <= size:
                target += f"&p{n:04d}=1"
                n += 1
        else:  # a q far over 200 characters
            base = rng.choice(["/api/v1/programs", "/api/v1/initiatives", "/api/v1/events", "/api/v1/events.ics"]) + "?q="
            target = base + "the%20" * ((size - len(base)) // 6)
        out.append(target + "x" * (size - len(target)) if form != 1 else target)
    return out


def lua_args(server: Server, scenario: str, ds: Dataset, tag: str) -> list[str]:
    d = server.data
    common = [f"kind={server.kind}", f"tag={tag}", f"t0={int(ds.t0.timestamp())}", f"span={ds.span_slots}",
              f"initiatives={d['initiatives']}", f"programs={d['programs']}"]
    if scenario == "get_by_id":
        return [f"paths={d['by_id']}"]
    if scenario in ("list_20", "list_filtered", "list_events", "list_included", "search", "ics_feed", "healthz"):
        return [f"paths={d[scenario]}"]
    if scenario == "not_modified":
        return [f"etags={d['not_modified']}"]
    if scenario == "create":
        return common
    if scenario == "mixed":
        return common + [f"paths={d['by_id']}", f"events={d['events']}"]
    if scenario == "request_submit":
        return [f"tag={tag}", f"t0={int(REQUEST_T0.timestamp())}", f"span={REQUEST_SPAN_SLOTS}"]
    if scenario == "request_review":
        return [f"tag={tag}", f"requests={d['review_ids']}"]
    if scenario == "abuse":
        return [f"searches={d['abuse_searches']}", f"oversized={d['abuse_oversized']}",
                f"t0={int(ds.t0.timestamp())}", f"span={ds.span_slots}"]
    raise ValueError(scenario)
