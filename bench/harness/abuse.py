"""The abuse scenario: a probe of reads and creates, alone and during an anonymous flood of the most
expensive requests (lua/abuse.lua), and its summary."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import random
import statistics
import threading
import time

from .common import BenchError
from .dataset import EVENT_TYPES, LOCATIONS, Dataset, iso
from .procs import Sampler, cpu_seconds, machine_busy_seconds
from .servers import Server
from .wrk import run_wrk, summarize

ABUSE_CONNECTIONS = 32
# The probe of the abuse scenario: requests per second and the p99 each must keep during the flood.
PROBE_RATES = {"read": 50, "create": 10}
PROBE_TARGETS_MS = {"read": 25.0, "create": 50.0}
PROBE_LABELS = {"read": "`GET /api/v1/programs/{id}`", "create": "`POST /api/v1/events` (token)"}


class Probe:
    """Low-rate clients, one keep-alive connection each, timing `GET /api/v1/programs/{id}` (reads)
    and authenticated `POST /api/v1/events` with unique titles (creates) at PROBE_RATES per second
    for `seconds`, starting after `delay`. Requests go out on a fixed schedule; one that is due while
    the previous is still out goes when that one is answered (so a slow server gets fewer requests;
    `sent` shows it). Latency is from sending the request to reading the whole response."""

    def __init__(self, server: Server, ds: Dataset, tag: str, seconds: float, delay: float = 0.0):
        self.server, self.ds, self.tag, self.seconds, self.delay = server, ds, tag, seconds, delay
        self.stop_event = threading.Event()
        self.results: dict[str, dict] = {}
        self.threads = [threading.Thread(target=self._run, args=(what,), daemon=True) for what in PROBE_RATES]

    def start(self) -> "Probe":
        for t in self.threads:
            t.start()
        return self

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=self.delay + self.seconds + 60)
        if any(t.is_alive() for t in self.threads):
            self.stop_event.set()
            raise BenchError(f"probe of {self.server.name} did not finish")

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=15)

    def _request(self, what: str, rng: random.Random, n: int):
        if what == "read":
            return "GET", f"/api/v1/programs/{rng.choice(self.server.ids['programs'])}", None, {}
        start = self.ds.t0 + dt.timedelta(minutes=15 * rng.randrange(self.ds.span_slots))
        body = {"title": f"Probe {self.tag} #{n}", "event_type": rng.choice(EVENT_TYPES),
                "description": "Created by the benchmark's probe during the abuse scenario.",
                "starts_at": iso(start), "ends_at": iso(start + dt.timedelta(hours=2)),
                "location_name": rng.choice(LOCATIONS)[0], "capacity": rng.randint(20, 500)}
        return "POST", "/api/v1/events", json.dumps(body).encode(), {
            "Content-Type": "application/json", "Authorization": f"Bearer {self.server.token}"}

    def _run(self, what: str) -> None:
        rate = PROBE_RATES[what]
        rng = random.Random(f"{self.tag}-{what}")
        latencies, statuses, errors, conn = [], {}, 0, None
        if self.stop_event.wait(self.delay):
            return
        begin = time.monotonic()
        hard_stop = begin + self.seconds + 30  # bounded even if the server stops answering
        try:
            for i in range(int(self.seconds * rate)):
                wait = begin + i / rate - time.monotonic()
                if (wait > 0 and self.stop_event.wait(wait)) or self.stop_event.is_set() or time.monotonic() > hard_stop:
                    break
                method, path, body, headers = self._request(what, rng, i)
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
                t = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                except (http.client.HTTPException, OSError):
                    errors += 1
                    conn.close()
                    conn = None
                    continue
                latencies.append((time.perf_counter() - t) * 1000)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
        finally:
            if conn is not None:
                conn.close()
            self.results[what] = {"latencies_ms": latencies, "statuses": statuses, "errors": errors,
                                  "planned": int(self.seconds * rate), "seconds": time.monotonic() - begin}


def settle(server: Server, limit: float = 10.0) -> None:
    """Wait (at most `limit` s) until the server uses under 10 % of a core, e.g. after a flood whose
    queued requests it is still answering."""
    deadline = time.monotonic() + limit
    tree = server.tree()
    before = cpu_seconds(tree) + cpu_seconds(server.db_pids())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(tree) + cpu_seconds(server.db_pids())
        if now - before < 0.05:
            return
        before = now


def run_abuse(server: Server, ds: Dataset, seconds: int, tag: str, sampler: Sampler) -> dict:
    """The probe alone for `seconds`, then the probe again while wrk floods the server: wrk starts
    first and runs one second longer, the probe starts 0.5 s after it."""
    if not server.alive():
        raise BenchError(f"{server.name} has exited ({server.exit_status()}):\n{server.log_tail()}")
    settle(server)
    tree = server.tree()
    cpu0, db0, busy0, self0 = cpu_seconds(tree), cpu_seconds(server.db_pids()), machine_busy_seconds(), os.times()
    alone = Probe(server, ds, f"{tag}-alone", seconds).start()
    alone.join()
    cpu1, db1, busy1, self1 = cpu_seconds(tree), cpu_seconds(server.db_pids()), machine_busy_seconds(), os.times()
    harness = (self1.user + self1.system) - (self0.user + self0.system)  # the probe's threads included
    db = max(0.0, db1 - db0)
    alone_cpu = {"cpu_s": cpu1 - cpu0, "db_cpu_s": db,
                 "other_cpu_s": max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - db - harness)}
    settle(server)
    probe = Probe(server, ds, f"{tag}-flood", seconds, delay=0.5).start()
    try:
        flood = run_wrk(server, "abuse", ds, seconds + 1, ABUSE_CONNECTIONS, tag, sampler)
        probe.join()
    finally:
        probe.stop()
    return {"alone": alone.results, "flood": probe.results, "wrk": flood, "alone_cpu": alone_cpu}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * p / 100) - 1))]


def summarize_abuse(runs: list[dict]) -> dict:
    """Probe latencies pooled over the repetitions; the flood as summarize() has it plus statuses."""
    out: dict = {"flood": summarize([r["wrk"] for r in runs]), "probe": {},
                 "alone_cpu_s": statistics.median(r["alone_cpu"]["cpu_s"] for r in runs),
                 "alone_db_cpu_s": statistics.median(r["alone_cpu"]["db_cpu_s"] for r in runs),
                 "alone_other_cpu_s": statistics.median(r["alone_cpu"]["other_cpu_s"] for r in runs)}
    for phase in ("alone", "flood"):
        for what in PROBE_RATES:
            parts = [r[phase][what] for r in runs]
            lat = [x for part in parts for x in part["latencies_ms"]]
            out["probe"][(phase, what)] = {
                "p50": percentile(lat, 50), "p99": percentile(lat, 99), "max": max(lat, default=float("nan")),
                "p99_reps": [percentile(part["latencies_ms"], 99) for part in parts],
                "sent": len(lat) + sum(part["errors"] for part in parts),
                "planned": sum(part["planned"] for part in parts),
                "non2xx": sum(n for part in parts for st, n in part["statuses"].items() if not 200 <= st < 300),
                "statuses": sorted({st for part in parts for st in part["statuses"]}),
                "errors": sum(part["errors"] for part in parts),
            }
    kinds: dict[str, dict[str, int]] = {}
    for r in runs:
        for kind, classes in (r["wrk"].get("statuses") or {}).items():
            acc = kinds.setdefault(kind, {})
            for cls, n in classes.items():
                acc[cls] = acc.get(cls, 0) + n
    out["kinds"] = kinds
    out["total"] = {cls: sum(k.get(cls, 0) for k in kinds.values()) for cls in ("2xx", "3xx", "4xx", "414", "422",
                                                                                   "429", "5xx", "503")}
    return out
