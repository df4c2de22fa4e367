"""The Markdown report: the header (command, date, machine, commit, servers), the table per scenario
(and database configuration), the table per server; the sections for --baseline and abuse are in
report_sections."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
import subprocess
from pathlib import Path

from .common import PEER_SKIPS, ROOT, WARMUP_SECONDS
from .dataset import SEED_WORKERS
from .postgres import MAX_CONNECTIONS
from .procs import Sampler
from .report_sections import fmt_rps, render_abuse, render_baseline
from .servers import Server
from .wrk import wrk_args


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


def cpu_per_req(s: Server, r: dict) -> str:
    """CPU µs per request: rush-api's (SQLite works in its process), or rush-api's + the database's = total."""
    if s.database != "postgres":
        return f"{r['cpu_us_per_req']:.0f}"
    return f"{r['cpu_us_per_req']:.0f} + {r['db_cpu_us_per_req']:.0f} = **{r['total_cpu_us_per_req']:.0f}**"


def describe_servers(args, configs: list[Server], cluster) -> list[str]:
    out = []
    for s in configs:
        if s.database == "sqlite":
            out.append(f"{s.name}: one process on its own SQLite file")
        else:
            n = len(s.instances)
            out.append(f"{s.name}: {n} process{'es' if n != 1 else ''} on database `bench_{s.key}`"
                       + (f", each on its own port; wrk: {wrk_args(s, args.connections)}" if n > 1 else ""))
    lines = [f"- Servers: {'; '.join(out)}"]
    if cluster is not None:
        lines.append(
            f"- PostgreSQL: {cluster.version} (`{cluster.bin}`), one throwaway cluster for the whole run on 127.0.0.1 "
            f"(initdb `--locale=C.UTF-8 -E UTF8`, max_connections {MAX_CONNECTIONS}, otherwise the defaults: fsync "
            "and synchronous_commit on, so a commit is on disk before its answer); each configuration has a fresh "
            "database of its own in it; rush-api with its default pool per instance")
    return lines


def render(args, argv: list[str], binary: Path, started: dt.datetime, finished: dt.datetime, facts: dict, ds_sizes, servers,
           results: dict, abuse: dict, scenarios: list[str], sampler: Sampler, hwm: dict, cluster=None) -> str:
    configs = [s for s in servers if s.kind == "rush" and s.key != "baseline"]  # one per database configuration
    multi = len(configs) > 1
    peer = next((s for s in servers if s.kind == "peer"), None)
    base = next((s for s in servers if s.key == "baseline"), None)
    rush = next((s for s in configs if s.database == "sqlite"), configs[0])  # the baseline's counterpart
    several = any(len(s.instances) > 1 for s in servers)
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
    if multi or cluster is not None:
        out += describe_servers(args, configs, cluster)
    if base:
        out += [f"- baseline (`--baseline`): {describe_binary(Path(args.baseline).resolve())}, on its own SQLite "
                f"database, seeded the same way; in every repetition it runs next to {rush.name}"]
    order = ""
    if len(servers) > 1:
        order = (", the servers back to back in every repetition" + (" (their order rotated by one place per "
                 "repetition" + (", the peer last)" if peer else ")") if len(servers) - (1 if peer else 0) > 1 else ""))
    out += [
        f"- Data (scale {args.scale}), seeded through each server's API with {SEED_WORKERS} keep-alive clients: "
        f"{ds_sizes[0]:,} programs, {ds_sizes[1]:,} initiatives, {ds_sizes[2]:,} events",
        f"- wrk: -t2 -c{args.connections}, {args.duration} s per repetition, {args.reps} repetition{'s' if args.reps != 1 else ''} after a "
        f"{WARMUP_SECONDS} s warm-up, loopback{order}"
        + ("; a server with N instances has no load balancer: N wrk processes at once, one per instance with its "
           "share of the connections, their req/s added and their p50/p99 the worst instance's (conservative)"
           if several else ""),
        "- Seeding: " + "; ".join(
            f"{s.name} {s.seed_requests:,} creates in {s.seed_seconds:.1f} s ({s.seed_requests / max(s.seed_seconds, 1e-9):,.0f}/s)"
            for s in servers),
        "",
    ]
    cpu_head = "CPU µs/req" + (" rush-api + database = total" if cluster is not None else "")
    server_col = ["server"] if multi else []
    rps_head = "req/s median (min–max)" if multi else "rush-api req/s median (min–max)"
    if peer:
        head = (["scenario"] + server_col + [rps_head, "p50 ms", "p99 ms", "non-2xx", f"{peer.name} req/s median (min–max)",
                f"{peer.name} p50 / p99 ms", "ratio rush/peer", "peak RSS MB rush / peer", "CPU s per rep rush / peer",
                cpu_head])
    else:
        head = ["scenario"] + server_col + [rps_head, "p50 ms", "p99 ms", "non-2xx", "peak RSS MB", "CPU s per rep", cpu_head]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for sc in scenarios:
        for i, s in enumerate(configs):
            r = results.get(sc, {}).get(s.name)
            if r is None:
                continue
            non2xx = f"{r['non2xx']:,}" + (f" (+{r['socket_errors']:,} socket)" if r["socket_errors"] else "")
            row = [f"`{sc}`"] + ([s.name] if multi else []) + [
                f"{fmt_rps(r['rps_med'])} ({fmt_rps(r['rps_min'])}–{fmt_rps(r['rps_max'])})",
                f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", non2xx]
            if peer:
                p = results[sc].get(peer.name)
                if p is None:
                    row += [f"n/a ({PEER_SKIPS.get(sc, 'skipped')})" if i == 0 else "", "–", "–",
                            f"{r['rss_mb']:.1f} / –", f"{r['cpu_s']:.1f} / –"]
                else:
                    pn = f"{p['non2xx']:,}" + (f"+{p['socket_errors']:,}s" if p["socket_errors"] else "")
                    peer_cell = f"{fmt_rps(p['rps_med'])} ({fmt_rps(p['rps_min'])}–{fmt_rps(p['rps_max'])})"
                    if p["non2xx"] or p["socket_errors"]:
                        peer_cell += f", {pn} non-2xx"
                    row += [peer_cell if i == 0 else "″", f"{p['p50_ms']:.2f} / {p['p99_ms']:.2f}" if i == 0 else "″",
                            f"**{r['rps_med'] / p['rps_med']:.1f}×**" if p["rps_med"] > 0 else "–",
                            f"{r['rss_mb']:.1f} / {p['rss_mb']:.1f}", f"{r['cpu_s']:.1f} / {p['cpu_s']:.1f}"]
            else:
                row += [f"{r['rss_mb']:.1f}", f"{r['cpu_s']:.1f}"]
            row.append(cpu_per_req(s, r))
            out.append("| " + " | ".join(row) + " |")
    out += ["", "Per server (CPU µs per request: CPU time over requests completed, median over repetitions; rush-api's "
            "processes, the database's server processes, and both):", "",
            "| scenario | server | req/s median | min | max | p50 ms | p99 ms | requests | non-2xx | socket errors "
            "| peak RSS MB | CPU s per rep | database CPU s per rep | CPU µs/req | database CPU µs/req | total CPU µs/req "
            "| wrk CPU s | other CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for sc in scenarios:
        for s in servers:
            r = results.get(sc, {}).get(s.name)
            if r is None:
                continue
            if s.database == "postgres":
                db = [f"{r['db_cpu_s']:.2f}", f"{r['db_cpu_us_per_req']:.0f}", f"{r['total_cpu_us_per_req']:.0f}"]
            else:  # SQLite works inside rush-api; the peer's too
                db = ["–", "–", f"{r['cpu_us_per_req']:.0f}"]
            out.append(f"| `{sc}` | {s.name} | {fmt_rps(r['rps_med'])} | {fmt_rps(r['rps_min'])} | {fmt_rps(r['rps_max'])} "
                       f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['requests']:,} | {r['non2xx']:,} | {r['socket_errors']:,} "
                       f"| {r['rss_mb']:.1f} | {r['cpu_s']:.2f} | {db[0]} | {r['cpu_us_per_req']:.0f} | {db[1]} | {db[2]} "
                       f"| {r['wrk_cpu_s']:.2f} | {r['other_cpu_s']:.2f} |")
    out += ["", "Peak RSS over the whole run, seeding included (sum of VmRSS over the process tree, sampled every 100 ms; "
            "and the sum of VmHWM over the tree at the end): " + "; ".join(
                f"{s.name} {sampler.overall[s.name] / 1024:.1f} MB (VmHWM {hwm.get(s.name, 0) / 1024:.1f} MB)" for s in servers),
            "",
            "Notes: req/s is the median over repetitions with (min–max); p50/p99 are wrk's latency percentiles, median "
            "over repetitions" + ("; for a server with several instances each repetition's p50 and p99 are the worst "
                                  "of its instances' wrk processes (their histograms cannot be merged: an upper bound), "
                                  "and its req/s the sum of theirs" if several else "") + ". "
            "non-2xx counts responses with status >= 400 (wrk's count; for `not_modified` every "
            "status other than the expected 304) and, in brackets, socket errors (connect/read/write/timeout). "
            "Peak RSS is the largest summed VmRSS of the server's process tree (the peer: master and workers; "
            "several instances: all of them; never the database's processes) "
            "during the measured repetitions; CPU s is the server tree's utime+stime during one repetition "
            "(median), out of " f"{facts['nproc']} × {args.duration} s available, which wrk shares. "
            + ("Database CPU is the utime+stime of the PostgreSQL cluster's server processes (the postmaster, "
               "from DATA/postmaster.pid, and its children: a backend per rush-api connection, the WAL writer, "
               "checkpointer, ...) before and after each repetition; a backend that exited in between counts only "
               "through the postmaster's reaped-children time, so a process that exited unreaped would be lost. The "
               "cluster is shared by the PostgreSQL configurations (one database each), so it includes whatever the "
               "others' idle connections cost; SQLite runs inside rush-api (–). " if cluster is not None else "")
            + "wrk runs on the same cores (wrk CPU s). Other CPU s is the machine's busy time (/proc/stat) during a "
            "repetition minus what the server, its database, wrk and this harness were charged: kernel work no "
            "process is charged for (loopback softirqs, journal threads; near zero on an idle machine) plus any "
            "other workload on the machine. Absolute numbers therefore vary between runs; ratios within one run count.",
            ""]
    if base:
        out += render_baseline(rush, base, results, scenarios, args.duration)
    if abuse:
        out += render_abuse(args, servers, abuse)
    return "\n".join(out)
