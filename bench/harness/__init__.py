"""Benchmark rush-api (and optionally a peer) with wrk, on loopback, on fresh databases.

    bench/run [--compare DIR] [--scale 1|10] [--duration SECONDS] [--reps N] [--connections N]
              [--abuse-duration SECONDS] [--scenarios a,b,...] [--out FILE] [--note TEXT]
              [--no-build] [--binary PATH] [--baseline BINARY] [--keep-tmp] [--flamegraph DIR]
              [--database sqlite,postgres] [--instances N,...]

Builds the release binary, starts `rush-api serve --no-seed` on a fresh temporary database and a
free 127.0.0.1 port (rate limiting off: RATE_LIMIT_PER_MINUTE=0, RATE_LIMIT_TOKEN_PER_MINUTE=0 and
EVENT_REQUEST_RATE_LIMIT_PER_HOUR=0), creates a write token with the CLI (and a staff token with
the scope `requests` when request_review runs), seeds programs, initiatives and events through the
API, then drives each scenario with wrk (a script in bench/lua/): one 3 s warm-up, then N
repetitions. With --compare DIR the peer in DIR (its run.sh, 2 workers) runs side by side on its own
fresh database, seeded with the same records in its own shapes, and every repetition runs rush-api
and then the peer back to back. With --baseline BINARY a second rush-api (e.g. built from an older
commit) runs the same way, interleaved with the first, and the report adds its after/before
ratios. Prints a Markdown table and writes it to --out.

With --database postgres one throwaway PostgreSQL cluster runs for the whole run (initdb and pg_ctl
from `pg_config --bindir`, as the postgres user when run as root; fsync and synchronous_commit on),
and for each number of --instances a fresh database in it serves that many rush-api processes, each
on its own port: one more server in the run, interleaved with the others. With several instances
there is no load balancer: one wrk per instance with its share of the connections, their req/s
added and the worst instance's p50/p99 reported. CPU per request counts rush-api's processes and
the cluster's server processes (the postmaster and its children).

The abuse scenario (rush-api only) floods the server with expensive anonymous requests from 32 wrk
connections for --abuse-duration seconds while a probe times GET /api/v1/programs/{id} and
authenticated event creates, after timing them alone for as long.

With --flamegraph DIR, after a scenario's measured repetitions one more repetition runs with
`perf record` attached to rush-api (not counted in the table: sampling slows it), and
DIR/<scenario>.svg is rendered from it with inferno (`cargo install inferno` if missing; perf
from Debian's linux-perf with apt if missing).

Python 3.11 standard library only. Every process it starts is stopped by its PID on exit.

The package's modules, in the order a run uses them:

- common: paths, the list of scenarios and their properties, logging, BenchError;
- procs: /proc accounting (process trees, CPU, RSS, the machine's busy time), the RSS sampler;
- servers: building, starting and stopping the servers (several instances of one on PostgreSQL), a
  keep-alive HTTP client for the harness's own requests;
- postgres: the run's PostgreSQL cluster (--database postgres);
- dataset: the deterministic records and each server's shapes of them, seeding through the API;
- event_requests: the bodies of event requests and the preparation of request_review;
- scenarios: the data files each wrk script reads, the smoke checks, the scripts' arguments;
- wrk: running wrk (one per instance), the CPU accounting around it, summarizing the repetitions;
- abuse: the abuse scenario's probe and flood;
- flamegraph: --flamegraph (perf and inferno);
- report, report_sections: the Markdown report (the tables; the --baseline and abuse sections);
- cli: the command line and the run from start to end (bench/run calls cli.main).
"""
