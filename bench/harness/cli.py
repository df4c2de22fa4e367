"""The command line and a run from start to end: build, start the servers, seed, prepare each
scenario's data, warm up and measure every scenario, report, and stop every process by its PID."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import tempfile
from pathlib import Path

from . import __doc__ as HARNESS_DOC
from .abuse import Probe, run_abuse, summarize_abuse
from .common import BENCH, PEER_SKIPS, SCENARIOS, WARMUP_SECONDS, BenchError, log
from .dataset import SCALES, Dataset, seed
from .flamegraph import ensure_profilers, flamegraph
from .postgres import Cluster, bindir
from .procs import Sampler, rss_kb
from .report import machine_facts, render
from .scenarios import prepare_data
from .servers import Server, build, ensure_wrk, start_peer, start_rush, wait_ready
from .wrk import run_wrk, summarize, wrk_args

DATABASES = ("sqlite", "postgres")
MAX_INSTANCES = 8  # per configuration
MAX_TOTAL_INSTANCES = 10  # all PostgreSQL configurations together: 16 + 2 connections each, max_connections 200


def parse_args(argv: list[str]):
    ap = argparse.ArgumentParser(prog="bench/run", description=HARNESS_DOC.split("\n\n")[0])
    ap.add_argument("--compare", metavar="DIR", help="peer directory with run.sh (e.g. ../shared/bench/fastapi)")
    ap.add_argument("--scale", type=int, choices=sorted(SCALES), default=1)
    ap.add_argument("--duration", type=int, default=10, metavar="SECONDS", help="per repetition (default 10)")
    ap.add_argument("--reps", type=int, default=3, metavar="N")
    ap.add_argument("--connections", type=int, default=64, metavar="N")
    ap.add_argument("--abuse-duration", type=int, default=20, metavar="SECONDS",
                    help="length of each phase of the abuse scenario (the probe alone, then with the flood; default 20)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of: " + ",".join(SCENARIOS))
    ap.add_argument("--out", default=str(BENCH / "last-run.md"), metavar="FILE")
    ap.add_argument("--note", default="", help="a line put at the top of the report")
    ap.add_argument("--no-build", action="store_true", help="use the existing target/release/rush-api")
    ap.add_argument("--binary", metavar="PATH", help="the rush-api binary to run (default target/release/rush-api, "
                    "built first unless --no-build); given, nothing is built")
    ap.add_argument("--baseline", metavar="BINARY", help="also run this rush-api binary (e.g. built from an older "
                    "commit) on its own database, interleaved with the current one, and report after/before ratios")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary directory (databases, logs)")
    ap.add_argument("--flamegraph", metavar="DIR", help="after each scenario, profile one more repetition of "
                    "rush-api with perf and write DIR/<scenario>.svg")
    ap.add_argument("--database", default="sqlite", metavar="LIST",
                    help="comma-separated databases of rush-api: sqlite, postgres (default sqlite); each is a server "
                    "of its own in the run, postgres once per --instances")
    ap.add_argument("--instances", default="1", metavar="LIST",
                    help="comma-separated numbers of rush-api processes sharing one PostgreSQL database (default 1); "
                    "postgres only (SQLite is always one instance)")
    args = ap.parse_args(argv)
    args.database_list = list(dict.fromkeys(d.strip().lower() for d in args.database.split(",") if d.strip()))
    if not args.database_list or any(d not in DATABASES for d in args.database_list):
        ap.error(f"--database takes a comma-separated list of {', '.join(DATABASES)}, not {args.database!r}")
    try:
        args.instance_list = list(dict.fromkeys(int(n) for n in args.instances.split(",") if n.strip()))
    except ValueError:
        ap.error(f"--instances takes comma-separated positive whole numbers, not {args.instances!r}")
    if not args.instance_list or any(not 1 <= n <= MAX_INSTANCES for n in args.instance_list):
        ap.error(f"--instances takes comma-separated whole numbers from 1 to {MAX_INSTANCES}")
    if "postgres" in args.database_list and sum(args.instance_list) > MAX_TOTAL_INSTANCES:
        ap.error(f"--instances: at most {MAX_TOTAL_INSTANCES} rush-api processes on the cluster in all")
    if args.baseline and "sqlite" not in args.database_list:
        ap.error("--baseline runs on SQLite and is compared with rush-api on SQLite: include sqlite in --database")
    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown or not wanted:
        ap.error(f"unknown scenario(s) {unknown}; choose from {','.join(SCENARIOS)}")
    args.scenario_list = [s for s in SCENARIOS if s in wanted]  # canonical order: writes last
    if not 1 <= args.duration <= 600:
        ap.error("--duration must be 1..600")
    if not 2 <= args.abuse_duration <= 600:
        ap.error("--abuse-duration must be 2..600")
    if not 1 <= args.reps <= 20:
        ap.error("--reps must be 1..20")
    if not 2 <= args.connections <= 4096:
        ap.error("--connections must be 2..4096")
    if "postgres" in args.database_list and args.connections < max(args.instance_list):
        ap.error("--connections must be at least the largest of --instances (each instance gets its share)")
    return args


def server_configs(args) -> list[tuple[str, int, str, str]]:
    """(database, instances, key, name) of each rush-api server under test, in --database order. Alone
    on SQLite (the default) rush-api keeps its plain name."""
    plain = args.database_list == ["sqlite"]
    out = []
    for db in args.database_list:
        if db == "sqlite":
            out.append(("sqlite", 1, "rush", "rush-api" if plain else "rush-api (SQLite)"))
        else:
            out += [("postgres", n, f"pg{n}", f"rush-api (PostgreSQL, {n} instance{'s' if n != 1 else ''})")
                    for n in args.instance_list]
    return out


def rep_order(active: list[Server], rep: int) -> list[Server]:
    """The servers in the order a repetition runs them: the rush-api servers (every database
    configuration, then the baseline) rotated by one place per repetition, so that none always goes
    first (with rush-api and the baseline alone: the baseline first in every second repetition), then
    the peer."""
    rush = [s for s in active if s.kind != "peer"]
    k = (rep - 1) % len(rush) if rush else 0
    return rush[k:] + rush[:k] + [s for s in active if s.kind == "peer"]


def main(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    started = dt.datetime.now(dt.timezone.utc)
    peer_dir = Path(args.compare).resolve() if args.compare else None
    configs = server_configs(args)
    rushes = len(configs) + (1 if args.baseline else 0)
    runs = sum((rushes if (peer_dir is None or s in PEER_SKIPS) else rushes + 1) for s in args.scenario_list
               if s != "abuse")
    load_s = runs * (WARMUP_SECONDS + args.reps * (args.duration + 1))
    if "abuse" in args.scenario_list:
        load_s += rushes * (WARMUP_SECONDS + args.reps * (2 * args.abuse_duration + 3))
    log(f"scenarios {','.join(args.scenario_list)}; about {load_s / 60:.1f} min of load after build and seeding")

    if "postgres" not in args.database_list and args.instance_list != [1]:
        log("--instances applies to --database postgres only: SQLite is always one instance")
    if "postgres" in args.database_list:
        try:
            bindir()  # before the build: fails with how to install PostgreSQL if it is missing
        except BenchError as exc:
            log(f"FAILED: {exc}")
            return 1
    ensure_wrk()
    if args.flamegraph:
        ensure_profilers()
    facts = machine_facts()  # load average before the build and the servers
    binary = build(args.no_build, Path(args.binary).resolve() if args.binary else None)
    baseline = build(True, Path(args.baseline).resolve()) if args.baseline else None
    tmp = Path(tempfile.mkdtemp(prefix="rush-bench-"))
    servers: list[Server] = []
    cluster: Cluster | None = None
    sampler = Sampler()
    ok = False

    def on_term(_sig, _frame):
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_term)
    try:
        staff = "request_review" in args.scenario_list  # a second token, with the scope `requests`
        if "postgres" in args.database_list:
            cluster = Cluster(keep=args.keep_tmp)
            cluster.start()  # one cluster for the run; a database in it per configuration
        for db, n, key, name in configs:
            servers.append(start_rush(binary, tmp, key, name, staff=staff, instances=n,
                                      cluster=cluster if db == "postgres" else None))
        if baseline:  # on SQLite
            servers.append(start_rush(baseline, tmp, "baseline", "baseline", staff=staff))
        if peer_dir:
            servers.append(start_peer(peer_dir, tmp))
        for s in servers:
            sampler.add(s)
        sampler.start()
        for s in servers:
            wait_ready(s, "/readyz" if s.database == "postgres" else "/healthz", 60 if s.kind == "rush" else 600)
        ds = Dataset(args.scale, started.date())
        sizes = (len(ds.programs), len(ds.initiatives), len(ds.events))
        log(f"seeding {sizes[0]} programs, {sizes[1]} initiatives, {sizes[2]} events into each server")
        for s in servers:
            seed(s, ds)
            prepare_data(s, ds, tmp, args.scenario_list)

        raw: dict[str, dict[str, list[dict]]] = {}
        abuse_raw: dict[str, list[dict]] = {}
        for sc in args.scenario_list:
            active = [s for s in servers if s.kind == "rush" or sc not in PEER_SKIPS]
            if sc == "abuse":
                for s in active:  # warm-up: the probe alone
                    Probe(s, ds, f"abuse-warm-{s.key}", WARMUP_SECONDS).start().join()
                for rep in range(1, args.reps + 1):
                    for s in rep_order(active, rep):
                        r = run_abuse(s, ds, args.abuse_duration, f"abuse-r{rep}-{s.key}", sampler)
                        abuse_raw.setdefault(s.name, []).append(r)
                        one = summarize_abuse([r])
                        pr = one["probe"]
                        log(f"abuse rep {rep}/{args.reps} {s.name}: flood {r['wrk']['rps']:,.0f} req/s "
                            f"({', '.join(f'{k} {v:,}' for k, v in one['total'].items() if v)}; "
                            f"{r['wrk']['socket_errors']} socket errors); probe p99 read "
                            f"{pr[('alone', 'read')]['p99']:.2f} -> {pr[('flood', 'read')]['p99']:.2f} ms, create "
                            f"{pr[('alone', 'create')]['p99']:.2f} -> {pr[('flood', 'create')]['p99']:.2f} ms")
                continue
            raw[sc] = {s.name: [] for s in active}
            for s in active:
                w = run_wrk(s, sc, ds, WARMUP_SECONDS, args.connections, f"{sc}-warm-{s.key}", sampler)
                msg = f"{sc} warm-up {s.name}: {w['rps']:,.0f} req/s"
                if len(s.instances) > 1:
                    msg += f" ({wrk_args(s, args.connections)}: {', '.join(f'{x:,.0f}' for x in w['instance_rps'])})"
                if w["non2xx"] or w["socket_errors"]:
                    msg += f"  WARNING: {w['non2xx']} non-2xx, {w['socket_errors']} socket errors"
                log(msg)
            for rep in range(1, args.reps + 1):
                for s in rep_order(active, rep):
                    r = run_wrk(s, sc, ds, args.duration, args.connections, f"{sc}-r{rep}-{s.key}", sampler)
                    raw[sc][s.name].append(r)
                    split = (f" ({', '.join(f'{x:,.0f}' for x in r['instance_rps'])})"
                             if len(r["instance_rps"]) > 1 else "")
                    db = f" + database {r['db_cpu_s']:.1f} s" if s.database == "postgres" else ""
                    log(f"{sc} rep {rep}/{args.reps} {s.name}: {r['rps']:,.0f} req/s{split}, p50 {r['p50_us'] / 1000:.2f} ms, "
                        f"p99 {r['p99_us'] / 1000:.2f} ms, non-2xx {r['non2xx']}, socket errors {r['socket_errors']}, "
                        f"RSS {r['rss_kb'] / 1024:.1f} MB, CPU {r['cpu_s']:.1f} s{db}")
            if args.flamegraph:
                svg = flamegraph(servers[0], sc, ds, args.duration, args.connections, Path(args.flamegraph), sampler)
                log(f"{sc}: flame graph {svg}")
        results = {sc: {name: summarize(rs) for name, rs in per.items()} for sc, per in raw.items()}
        abuse = {name: summarize_abuse(rs) for name, rs in abuse_raw.items()}
        hwm = {s.name: rss_kb(s.tree(), "VmHWM:") for s in servers}
        finished = dt.datetime.now(dt.timezone.utc)
        report = render(args, argv, binary, started, finished, facts, sizes, servers, results, abuse,
                        args.scenario_list, sampler, hwm, cluster)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report)
        print(report)
        log(f"wrote {out}")
        ok = True
        return 0
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted: stopping everything it started")
        return 130
    finally:
        try:
            sampler.stop()
        except Exception as exc:  # never let this keep the servers running
            log(f"sampler: {exc}")
        for s in reversed(servers):
            try:
                s.stop()
            except Exception as exc:  # keep stopping the others
                log(f"could not stop {s.name}: {exc}")
        if not ok:
            for s in servers:
                log(f"--- last lines of {s.name}'s log ({', '.join(str(i.logfile) for i in s.instances)}) ---\n"
                    f"{s.log_tail()}")
            if cluster is not None and cluster.dir is not None:
                log(f"--- last lines of PostgreSQL's log ({cluster.dir / 'pg.log'}) ---\n{cluster.log_tail()}")
        if cluster is not None:  # after the servers, whose connections it would otherwise wait for
            cluster.keep = cluster.keep or (not ok and bool(os.environ.get("BENCH_KEEP_FAILED")))
            try:
                cluster.stop()
            except Exception as exc:
                log(f"could not stop the PostgreSQL cluster: {exc}")
        if args.keep_tmp or not ok and os.environ.get("BENCH_KEEP_FAILED"):
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
