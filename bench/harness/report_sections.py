"""The report's sections after the two main tables: `--baseline` (after/before per scenario) and
`abuse` (the probe alone and during the flood, the flood's statuses)."""

from __future__ import annotations

from .abuse import ABUSE_CONNECTIONS, PROBE_LABELS, PROBE_RATES, PROBE_TARGETS_MS
from .servers import Server


def fmt_rps(x: float) -> str:
    return f"{x:,.0f}"


MAX_LOSS = 0.05  # the existing scenarios may lose at most 5 % of their throughput
# Other CPU seconds per second of a repetition above which a before/after verdict is marked not
# conclusive (an idle machine stays well under 0.5 s in a 10 s repetition).
BUSY_OTHER_CPU = 0.05


def render_baseline(rush: Server, base: Server, results: dict, scenarios: list[str], duration: int) -> list[str]:
    out = ["## Before and after (`--baseline`)", "",
           f"after = {rush.name} (the binary under test), before = {base.name}; same run, same data, interleaved "
           f"repetitions. A scenario passes if after/before (of the median req/s) is at least {1 - MAX_LOSS:.2f}.", "",
           "| scenario | before req/s median (min–max) | after req/s median (min–max) | after/before | "
           "per repetition | p99 ms before / after | CPU µs/req before / after | ≤ 5 % lost |",
           "|---|---|---|---|---|---|---|---|"]
    for sc in scenarios:
        a, b = results.get(sc, {}).get(rush.name), results.get(sc, {}).get(base.name)
        if a is None or b is None:
            continue
        ratio = a["rps_med"] / b["rps_med"] if b["rps_med"] > 0 else float("nan")
        paired = [x / y for x, y in zip(a["rps_reps"], b["rps_reps"]) if y > 0]
        verdict = "yes" if ratio >= 1 - MAX_LOSS else f"**no ({(1 - ratio) * 100:.1f} % lost)**"
        busy = max(a["other_cpu_s"], b["other_cpu_s"])
        if busy > BUSY_OTHER_CPU * duration:
            verdict += f"; not conclusive: the machine was busy (other CPU {b['other_cpu_s']:.1f} / {a['other_cpu_s']:.1f} s)"
        out.append(f"| `{sc}` | {fmt_rps(b['rps_med'])} ({fmt_rps(b['rps_min'])}–{fmt_rps(b['rps_max'])}) "
                   f"| {fmt_rps(a['rps_med'])} ({fmt_rps(a['rps_min'])}–{fmt_rps(a['rps_max'])}) | **{ratio:.3f}** "
                   f"| {', '.join(f'{x:.3f}' for x in paired)} | {b['p99_ms']:.2f} / {a['p99_ms']:.2f} "
                   f"| {b['cpu_us_per_req']:.0f} / {a['cpu_us_per_req']:.0f} | {verdict} |")
    out += ["", "Per repetition: after/before of that repetition's pair, which ran back to back. The machine's noise "
            "between repetitions is often over 5 %: when the ratio is near the line, run more repetitions "
            "(`--reps 5`) or the one scenario again. A verdict is marked not conclusive when either server's "
            f"repetitions saw over {BUSY_OTHER_CPU * duration:.1f} s of other CPU (median), i.e. something else ran "
            "on the machine. `abuse` is compared in its own section below.", ""]
    return out


def cpu_pair(server: Server, a: dict, f: dict) -> str:
    """The server's CPU s alone / during the flood; for PostgreSQL with the database's added (+ db)."""
    if server.database != "postgres":
        return f"{a['alone_cpu_s']:.1f} / {f['cpu_s']:.1f}"
    return f"{a['alone_cpu_s']:.1f} + {a['alone_db_cpu_s']:.1f} db / {f['cpu_s']:.1f} + {f['db_cpu_s']:.1f} db"


def render_abuse(args, servers, abuse: dict) -> list[str]:
    d, reps = args.abuse_duration, args.reps
    out = ["## `abuse`: an anonymous flood, and a probe of reads and creates", "",
           f"Each repetition runs the probe alone for {d} s, then again while {ABUSE_CONNECTIONS} wrk connections "
           f"(`-t2`, {d + 1} s, starting 0.5 s before the probe) send the most expensive anonymous requests: 50 % "
           "broad `q` on the three lists (common words repeated up to 200 characters, common trigrams, 1–2 "
           "characters) with a random offset, limit and sort; 25 % `events.ics` with a random window and filters "
           "(each one a cache miss); 15 % request targets of 7.7–9.2 KB (414 over 8 KiB where the server limits "
           "them, else 422); 10 % `/api/v1/deletions` with a random `since`. The probe sends "
           f"{PROBE_RATES['read']} reads/s and {PROBE_RATES['create']} creates/s on one keep-alive connection each; "
           f"its latencies are pooled over {reps} repetition{'s' if reps != 1 else ''} (p99 per repetition in "
           "brackets). Rate limiting is off (`RATE_LIMIT_PER_MINUTE=0`, `RATE_LIMIT_TOKEN_PER_MINUTE=0`).", "",
           "| server | probe | alone p50 / p99 ms | with the flood p50 / p99 ms (per rep) | max ms alone / flood "
           "| sent / planned, alone / flood | non-2xx + errors alone / flood | target during the flood |",
           "|---|---|---|---|---|---|---|---|"]
    for s in servers:
        a = abuse.get(s.name)
        if a is None:
            continue
        for what in PROBE_RATES:
            al, fl = a["probe"][("alone", what)], a["probe"][("flood", what)]
            target = PROBE_TARGETS_MS[what]
            met = "met" if fl["p99"] <= target else "**missed**"
            codes = lambda x: f"{x['non2xx']:,} + {x['errors']:,}" + (
                f" ({', '.join(str(c) for c in x['statuses'] if not 200 <= c < 300)})" if x["non2xx"] else "")
            out.append(
                f"| {s.name} | {PROBE_LABELS[what]} at {PROBE_RATES[what]}/s | {al['p50']:.2f} / {al['p99']:.2f} "
                f"| {fl['p50']:.2f} / **{fl['p99']:.2f}** ({', '.join(f'{x:.1f}' for x in fl['p99_reps'])}) "
                f"| {al['max']:.1f} / {fl['max']:.1f} | {al['sent']:,} / {al['planned']:,}, {fl['sent']:,} / {fl['planned']:,} "
                f"| {codes(al)} / {codes(fl)} | p99 ≤ {target:.0f} ms: {met} |")
    out += ["", "The flood (wrk's view; statuses counted by the script, per kind of request from the "
            "`X-Request-Id` the server echoes):", "",
            "| server | req/s median (min–max) | p50 / p99 ms | answered | 2xx | 3xx | 4xx | of which 414 / 422 / 429 "
            "| 5xx | of which 503 | socket errors | server CPU s per rep, alone / flood | other CPU s, alone / flood "
            "| peak RSS MB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in servers:
        a = abuse.get(s.name)
        if a is None:
            continue
        f, t = a["flood"], a["total"]
        answered = t["2xx"] + t["3xx"] + t["4xx"] + t["5xx"]
        out.append(f"| {s.name} | {fmt_rps(f['rps_med'])} ({fmt_rps(f['rps_min'])}–{fmt_rps(f['rps_max'])}) "
                   f"| {f['p50_ms']:.2f} / {f['p99_ms']:.2f} | {answered:,} | {t['2xx']:,} | {t['3xx']:,} | {t['4xx']:,} "
                   f"| {t['414']:,} / {t['422']:,} / {t['429']:,} | {t['5xx']:,} | {t['503']:,} | {f['socket_errors']:,} "
                   f"| {cpu_pair(s, a, f)} | {a['alone_other_cpu_s']:.1f} / {f['other_cpu_s']:.1f} "
                   f"| {f['rss_mb']:.1f} |")
    out += ["", "| server | kind | answered | 2xx | 4xx (414 / 422 / 429) | 5xx (503) |", "|---|---|---|---|---|---|"]
    for s in servers:
        a = abuse.get(s.name)
        if a is None:
            continue
        for kind, c in a["kinds"].items():
            answered = c["2xx"] + c["3xx"] + c["4xx"] + c["5xx"]
            if answered == 0 and kind == "other":
                continue
            out.append(f"| {s.name} | {kind} | {answered:,} | {c['2xx']:,} | {c['4xx']:,} ({c['414']:,} / {c['422']:,} / "
                       f"{c['429']:,}) | {c['5xx']:,} ({c['503']:,}) |")
    out += ["", "Notes: wrk shares the two cores with the server and the probe, so the flood also takes CPU "
            "an attacker on another machine would not. Requests still in flight when wrk stops are not counted, "
            "and wrk gives up on one after 5 s (a socket error, left out of its percentiles). The probe sends on a "
            "fixed schedule but never more than one request at a time per connection: `sent` under `planned` "
            "means it was held up. Its latency is measured in Python (send to last byte read) and includes being "
            "scheduled on a busy CPU. Server CPU s is the server's time during the probe alone "
            f"({d} s) and during the flood ({d + 1} s), medians over repetitions (on PostgreSQL: rush-api's + the "
            "database's, `db`); other CPU s is the rest of the machine's busy time (as in the tables above): more "
            "than a fraction of a second means something else competed for the cores and the probe's numbers are "
            "pessimistic. A server with several instances gets the flood split over its instances (one wrk each), "
            "while the probe talks to its first instance.", ""]
    return out
