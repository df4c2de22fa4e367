"""What every module of the harness shares: paths, the scenarios, logging and the error type."""

from __future__ import annotations

import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent  # bench/
ROOT = BENCH.parent
LUA = BENCH / "lua"

SCENARIOS = [
    "get_by_id",
    "list_20",
    "list_filtered",
    # Pages of 20 events at random offsets, without and with `include=initiative,program`: the
    # same pages side by side, so their ratio is the cost of embedding.
    "list_events",
    "list_included",
    "search",
    "not_modified",
    "ics_feed",
    "healthz",
    # Writes last: they change what the read scenarios read.
    "create",
    # Staff review of event requests prepared before it (lists and PATCHes), before request_submit
    # so that it lists the same few hundred requests whether or not request_submit runs.
    "request_review",
    # Public submissions of event requests, without a token.
    "request_submit",
    "mixed",
    # An anonymous flood of expensive requests while a probe times reads and creates (its probe
    # writes too). Its own duration (--abuse-duration), connections and report section.
    "abuse",
]
WRITE_SCENARIOS = {"create", "request_review", "request_submit", "mixed", "abuse"}
# The wrk script of each scenario (bench/lua/<script>.lua): the ones that only read a set of URLs
# share one; the others are named after their scenario.
SCRIPTS = {s: "random_path" for s in ("get_by_id", "list_filtered", "list_events", "list_included", "search",
                                      "ics_feed", "healthz")}
PEER_SKIPS = {"search": "no `q`", "list_included": "no `include`", "not_modified": "no ETags", "ics_feed": "no iCalendar feed",
              "request_review": "no event requests", "request_submit": "no event requests",
              "abuse": "no `q` or feeds"}
WARMUP_SECONDS = 3


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass
