"""The Markdown report: the header (command, date, machine, commit), the table per scenario, the
table per server, and the sections for --baseline and abuse."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
import subprocess
from pathlib import Path

from .abuse import ABUSE_CONNECTIONS, PROBE_LABELS, PROBE_RATES, PROBE_TARGETS_MS
from .common import PEER_SKIPS, ROOT, WARMUP_SECONDS
from .dataset import SEED_WORKERS
from .servers import Sampler, Server


def machine_facts() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10).stdout.split("\n")[0]
        wrk_version = " ".join(wrk_version.split()[:2])
    except (OSError, subprocess.TimeoutExpired):
        wrk_version = "?"
    head = "?"
    try:  # git, because in a worktree .git is a file, not a directory
        r = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                           timeout=10)
        if r.returncode == 0 and r.stdout.strip():
            head = r.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "model": model, "mem": mem, "kernel": os.uname().release,
            "wrk": wrk_version, "loadavg": os_loadavg(), "head": head}


def describe_binary(path: Path) -> str:
    """The path, size and start of the SHA-256 of a binary, to tell two builds apart in a report."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        size = path.stat().st_size
    except OSError as exc:
        return f"`{path}` (unreadable: {exc})"
    return f"`{path}` ({size / 1e6:.1f} MB, sha256 {digest.hexdigest()[:12]})"


def os_loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt_rps(x: float) -> str:
    return f"{x:,.0f}"


def render(args, argv: list[str], binary: Path, started: dt.datetime, finished: dt.datetime, facts: dict, ds_sizes, servers,
           results: dict, abuse: dict, scenarios: list[str], sampler: Sampler, hwm: dict) -> str:
    rush = servers[0]
    peer = next((s for s in servers if s.kind == "peer"), None)
    base = next((s for s in servers if s.key == "baseline"), None)
    out = []
    if args.note:
        out += [args.note, ""]
    out += [
        f"# rush-api benchmark{' vs ' + peer.name if peer else ''}",
        "",
        f"- Command: `{shlex.join(argv)}` (in `{Path.cwd()}`)",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M:%S UTC')} to {finished.strftime('%H:%M:%S UTC')}",
        f"- Machine: {facts['nproc']} CPUs ({facts['model']}), {facts['mem']} RAM, Linux {facts['kernel']}, "
        f"load average at start {facts['loadavg']}, at the end {os_loadavg()}; {facts['wrk']}",
        f"- rush-api: {describe_binary(binary)}; the repository's HEAD is {facts['head']}"
        + (" (the binary was built from it, plus any uncommitted changes)" if not args.binary else
           " (the binary was given with --binary: it may come from another commit)"),
    ]
    if base:
        out += [f"- baseline (`--baseline`): {describe_binary(Path(args.baseline).resolve())}, on its own database, "
                "seeded the same way; in every repetition it runs next to rush-api (first in even repetitions)"]
    out += [
        f"- Data (scale {args.scale}), seeded through each server's API with {SEED_WORKERS} keep-alive clients: "
        f"{ds_sizes[0]:,} programs, {ds_sizes[1]:,} initiatives, {ds_sizes[2]:,} events",
        f"- wrk: -t2 -c{args.connections}, {args.duration} s per repetition, {args.reps} repetition{'s' if args.reps != 1 else ''} after a "
        f"{WARMUP_SECONDS} s warm-up, loopback" + (", rush-api and the peer back to back in every repetition" if peer else ""),
        "- Seeding: " + "; ".join(
            f"{s.name} {s.seed_requests:,} creates in {s.seed_seconds:.1f} s ({s.seed_requests / max(s.seed_seconds, 1e-9):,.0f}/s)"
            for s in servers),
        "",
    ]
    if peer:
        out += [
            f"| scenario | rush-api req/s median (min–max) | p50 ms | p99 ms | non-2xx | {peer.name} req/s median (min–max) "
            f"| {peer.name} p50 / p99 ms | ratio rush/peer | peak RSS MB rush / peer | CPU s per rep rush / peer |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
    else:
        out += ["| scenario | rush-api req/s median (min–max) | p50 ms | p99 ms | non-2xx | peak RSS MB | CPU s per rep |",
                "|---|---|---|---|---|---|---|"]
    for sc in scenarios:
        r = results.get(sc, {}).get(rush.name)
        if r is None:
            continue
        non2xx = f"{r['non2xx']:,}" + (f" (+{r['socket_errors']:,} socket)" if r["socket_errors"] else "")
        row = [f"`{sc}`", f"{fmt_rps(r['rps_med'])} ({fmt_rps(r['rps_min'])}–{fmt_rps(r['rps_max'])})",
               f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", non2xx]
        if peer:
            p = results[sc].get(peer.name)
            if p is None:
                row += [f"n/a ({PEER_SKIPS.get(sc, 'skipped')})", "–", "–", f"{r['rss_mb']:.1f} / –", f"{r['cpu_s']:.1f} / –"]
            else:
                pn = f"{p['non2xx']:,}" + (f"+{p['socket_errors']:,}s" if p["socket_errors"] else "")
                peer_cell = f"{fmt_rps(p['rps_med'])} ({fmt_rps(p['rps_min'])}–{fmt_rps(p['rps_max'])})"
                if p["non2xx"] or p["socket_errors"]:
                    peer_cell += f", {pn} non-2xx"
                row += [peer_cell, f"{p['p50_ms']:.2f} / {p['p99_ms']:.2f}",
                        f"**{r['rps_med'] / p['rps_med']:.1f}×**" if p["rps_med"] > 0 else "–",
                        f"{r['rss_mb']:.1f} / {p['rss_mb']:.1f}", f"{r['cpu_s']:.1f} / {p['cpu_s']:.1f}"]
        else:
            row += [f"{r['rss_mb']:.1f}", f"{r['cpu_s']:.1f}"]
        out.append("| " + " | ".join(row) + " |")
    out += ["", "Per server (CPU µs per request: server CPU time over requests completed, median over repetitions):", "",
            "| scenario | server | req/s median | min | max | p50 ms | p99 ms | requests | non-2xx | socket errors | peak RSS MB | CPU s per rep | CPU µs/req | wrk CPU s | other CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for sc in scenarios:
        for s in servers:
            r = results.get(sc, {}).get(s.name)
            if r is None:
                continue
            out.append(f"| `{sc}` | {s.name} | {fmt_rps(r['rps_med'])} | {fmt_rps(r['rps_min'])} | {fmt_rps(r['rps_max'])} "
                       f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['requests']:,} | {r['non2xx']:,} | {r['socket_errors']:,} "
                       f"| {r['rss_mb']:.1f} | {r['cpu_s']:.2f} | {r['cpu_us_per_req']:.0f} | {r['wrk_cpu_s']:.2f} "
                       f"| {r['other_cpu_s']:.2f} |")
    out += ["", "Peak RSS over the whole run, seeding included (sum of VmRSS over the process tree, sampled every 100 ms; "
            "and the sum of VmHWM over the tree at the end): " + "; ".join(
                f"{s.name} {sampler.overall[s.name] / 1024:.1f} MB (VmHWM {hwm.get(s.name, 0) / 1024:.1f} MB)" for s in servers),
            "",
            "Notes: req/s is the median over repetitions with (min–max); p50/p99 are wrk's latency percentiles, median "
            "over repetitions. non-2xx counts responses with status >= 400 (wrk's count; for `not_modified` every "
            "status other than the expected 304) and, in brackets, socket errors (connect/read/write/timeout). "
            "Peak RSS is the largest summed VmRSS of the server's process tree (the peer: master and workers) "
            "during the measured repetitions; CPU s is the server tree's utime+stime during one repetition "
            "(median), out of " f"{facts['nproc']} × {args.duration} s available, which wrk shares. "
            "wrk runs on the same cores (wrk CPU s). Other CPU s is the machine's busy time (/proc/stat) during a "
            "repetition minus what the server, wrk and this harness were charged: kernel work no process is "
            "charged for (loopback softirqs, journal threads; near zero on an idle machine) plus any other "
            "workload on the machine. Absolute numbers therefore vary between runs; ratios within one run count.",
            ""]
    if base:
        out += render_baseline(rush, base, results, scenarios, args.duration)
    if abuse:
        out += render_abuse(args, servers, abuse)
    return "\n".join(out)


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
                   f"| {a['alone_cpu_s']:.1f} / {f['cpu_s']:.1f} | {a['alone_other_cpu_s']:.1f} / {f['other_cpu_s']:.1f} "
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
            f"({d} s) and during the flood ({d + 1} s), medians over repetitions; other CPU s is the rest of the "
            "machine's busy time (as in the tables above): more than a fraction of a second means something else "
            "competed for the cores and the probe's numbers are pessimistic.", ""]
    return out
