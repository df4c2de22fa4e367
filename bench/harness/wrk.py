"""Running a scenario's wrk against a server, with the CPU (the server's processes, its database's,
wrk's, everything else's) and RSS accounting around it, and summarizing the repetitions.

A server with several instances (rush-api processes sharing one PostgreSQL database) has no load
balancer in front: the connections are split over its instances, one wrk process per instance, all
at once; their requests/s add up, and the latency percentiles are the worst instance's."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time

from .common import LUA, SCRIPTS, BenchError
from .dataset import Dataset
from .procs import Sampler, cpu_seconds, machine_busy_seconds
from .scenarios import lua_args
from .servers import Instance, Server

# With several instances, an instance's wrk gets two threads (as one instance's wrk always does)
# when it has at least this many connections, else one.
TWO_THREADS_FROM = 32
SUMMED = ("requests", "bytes", "connect", "read", "write", "status", "timeout", "unexpected")
WORST = ("p50_us", "p90_us", "p99_us", "max_us")


def wrk_plan(server: Server, connections: int) -> list[tuple[Instance, int, int]]:
    """(instance, connections, threads) per wrk process: `connections` split as evenly as possible."""
    n = len(server.instances)
    if n == 1:
        return [(server.instances[0], connections, 2)]
    share, extra = divmod(connections, n)
    plan = []
    for i, inst in enumerate(server.instances):
        c = share + (1 if i < extra else 0)
        plan.append((inst, c, 2 if c >= TWO_THREADS_FROM else 1))
    return plan


def wrk_args(server: Server, connections: int) -> str:
    """How wrk is run against the server, for the logs and the report."""
    plan = wrk_plan(server, connections)
    if len(plan) == 1:
        return f"-t2 -c{connections}"
    shapes = sorted({(c, t) for _inst, c, t in plan}, reverse=True)
    return f"{len(plan)} × wrk (" + " / ".join(f"-t{t} -c{c}" for c, t in shapes) + ")"


def merge(parts: list[dict]) -> dict:
    """One result from the wrk processes of one repetition: counts added up, latency percentiles the
    worst of them (a conservative merge: wrk's histograms are not available to combine)."""
    if len(parts) == 1:
        r = dict(parts[0])
    else:
        r = {k: sum(p[k] for p in parts) for k in SUMMED}
        r.update({k: max(p[k] for p in parts) for k in WORST})
        r["duration_us"] = max(p["duration_us"] for p in parts)
        r["mean_us"] = sum(p["mean_us"] * p["requests"] for p in parts) / max(1, r["requests"])
        r["tracked"] = any(p["tracked"] for p in parts)
        statuses: dict | None = None
        for p in parts:
            for kind, classes in (p.get("statuses") or {}).items():
                statuses = statuses or {}
                acc = statuses.setdefault(kind, {})
                for cls, n in classes.items():
                    acc[cls] = acc.get(cls, 0) + n
        r["statuses"] = statuses
    r["instance_rps"] = [p["requests"] / (p["duration_us"] / 1e6) for p in parts]
    r["rps"] = sum(r["instance_rps"])
    return r


def run_wrk(server: Server, scenario: str, ds: Dataset, duration: int, connections: int, tag: str,
            sampler: Sampler) -> dict:
    script = str(LUA / f"{SCRIPTS.get(scenario, scenario)}.lua")
    env = dict(os.environ, BENCH_LUA_DIR=str(LUA), BENCH_TOKEN=server.token,
               BENCH_STAFF_TOKEN=server.staff_token or "")
    plan = wrk_plan(server, connections)
    cmds = []
    for i, (inst, c, t) in enumerate(plan, 1):
        # Per instance: its own run tag (unique titles and emails across the wrk processes) and
        # random seed (BENCH_INSTANCE, see lua/common.lua).
        itag = tag if len(plan) == 1 else f"{tag}-i{i}"
        cmds.append((["wrk", f"-t{t}", f"-c{c}", f"-d{duration}s", "--latency", "--timeout", "5s", "-s", script,
                      inst.url, "--"] + lua_args(server, scenario, ds, itag), dict(env, BENCH_INSTANCE=str(i))))
    if not server.alive():
        raise BenchError(f"{server.name} has exited ({server.exit_status()}):\n{server.log_tail()}")
    tree = server.tree()
    sampler.reset_window(server)
    cpu0, db0 = cpu_seconds(tree), cpu_seconds(server.db_pids())
    busy0, self0, kids0 = machine_busy_seconds(), os.times(), os.times()
    procs: list[subprocess.Popen] = []
    outputs = []
    try:
        for cmd, cmd_env in cmds:
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                          env=cmd_env, stdin=subprocess.DEVNULL))
        deadline = time.monotonic() + duration + 60
        for proc, (cmd, _env) in zip(procs, cmds):
            try:
                out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired as exc:
                raise BenchError(f"wrk did not finish within {duration + 60} s: {' '.join(cmd)}") from exc
            outputs.append((proc.returncode, out, err, cmd))
    finally:
        for proc in procs:  # by PID, also on error or Ctrl-C
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    cpu1, db1 = cpu_seconds(tree), cpu_seconds(server.db_pids())
    busy1, self1 = machine_busy_seconds(), os.times()
    peak = sampler.window_peak(server)
    parts = []
    for returncode, out, err, cmd in outputs:
        line = next((l for l in out.splitlines() if l.startswith("BENCH_RESULT ")), None)
        if returncode != 0 or line is None:
            raise BenchError(f"wrk failed ({returncode}): {' '.join(cmd)}\n{out}\n{err}")
        parts.append(json.loads(line[len("BENCH_RESULT "):]))
    r = merge(parts)
    r["instances"] = len(parts)
    r["socket_errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
    r["non2xx"] = r["unexpected"] if r["tracked"] else r["status"]
    r["cpu_s"] = cpu1 - cpu0
    # The database's server processes: those alive before and after; one that exited in between
    # counts only if the postmaster reaped it (its cutime), see procs.cpu_seconds.
    r["db_cpu_s"] = max(0.0, db1 - db0)
    r["rss_kb"] = peak
    r["wrk_cpu_s"] = (self1.children_user + self1.children_system) - (kids0.children_user + kids0.children_system)
    harness = (self1.user + self1.system) - (self0.user + self0.system)
    r["other_cpu_s"] = max(0.0, (busy1 - busy0) - r["cpu_s"] - r["db_cpu_s"] - r["wrk_cpu_s"] - harness)
    if not server.alive():
        raise BenchError(f"{server.name} exited during {scenario} ({server.exit_status()}):\n{server.log_tail()}")
    return r


def summarize(runs: list[dict]) -> dict:
    rps = [r["rps"] for r in runs]
    per_req = lambda key: statistics.median(r[key] / max(r["requests"], 1) * 1e6 for r in runs)  # noqa: E731
    return {
        "rps_med": statistics.median(rps), "rps_min": min(rps), "rps_max": max(rps), "rps_reps": rps,
        "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
        "non2xx": sum(r["non2xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "rss_mb": max(r["rss_kb"] for r in runs) / 1024,
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "db_cpu_s": statistics.median(r["db_cpu_s"] for r in runs),
        "wrk_cpu_s": statistics.median(r["wrk_cpu_s"] for r in runs),
        "other_cpu_s": statistics.median(r["other_cpu_s"] for r in runs),
        "cpu_us_per_req": per_req("cpu_s"),
        "db_cpu_us_per_req": per_req("db_cpu_s"),
        "total_cpu_us_per_req": statistics.median((r["cpu_s"] + r["db_cpu_s"]) / max(r["requests"], 1) * 1e6
                                                  for r in runs),
        "instances": max(r.get("instances", 1) for r in runs),
    }
