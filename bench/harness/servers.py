"""The servers under test: building and starting them (rush-api on SQLite or PostgreSQL, one or
several instances on one database; the peer), stopping them by PID, and a keep-alive HTTP client
for the harness's own requests."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from .common import ROOT, BenchError, log
from .procs import process_state, process_tree

_PORTS: set[int] = set()  # handed out in this run: never twice, even if the first is not bound yet


def free_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _PORTS:
            _PORTS.add(port)
            return port
    raise BenchError("no free loopback port")


class Instance:
    """One process of a server: its root PID, port and log."""

    def __init__(self, proc: subprocess.Popen, port: int, logfile: Path):
        self.proc, self.port, self.logfile = proc, port, logfile
        self.pid = proc.pid
        self.url = f"http://127.0.0.1:{port}"


class Server:
    """A server under test: its instances (processes, ports; one unless several rush-api share a
    PostgreSQL database), token, database and the shapes it speaks. `proc`, `pid`, `port`, `url` and
    `logfile` are the first instance's: the harness's own requests (seeding, checks, the abuse probe)
    go there."""

    def __init__(self, name: str, kind: str, proc: subprocess.Popen, port: int, token: str, logfile: Path,
                 key: str | None = None, database: str = "sqlite"):
        self.name, self.kind, self.proc, self.port, self.token, self.logfile = name, kind, proc, port, token, logfile
        self.key = key or kind  # "rush", "baseline", "pg<N>" or "peer": names its files and run tags
        self.pid = proc.pid
        self.url = f"http://127.0.0.1:{port}"
        self.instances = [Instance(proc, port, logfile)]
        self.database = database  # "sqlite" (in the server's process) or "postgres"
        self.cluster = None  # the PostgreSQL cluster (postgres.Cluster) for database == "postgres"
        self.data: dict[str, Path] = {}  # data files for the Lua scripts
        self.ids: dict[str, list[int]] = {}
        self.staff_token: str | None = None  # scope `requests`, for request_review (rush-api only)
        self.seed_seconds = 0.0
        self.seed_requests = 0

    def add_instance(self, proc: subprocess.Popen, port: int, logfile: Path) -> None:
        self.instances.append(Instance(proc, port, logfile))

    def tree(self) -> list[int]:
        """Every instance's process and its descendants."""
        out: list[int] = []
        for inst in self.instances:
            out.extend(p for p in process_tree(inst.pid) if p not in out)
        return out

    def db_pids(self) -> list[int]:
        """The database's server processes (PostgreSQL's postmaster and its children); none for SQLite,
        which runs in the server's own process."""
        return self.cluster.pids() if self.cluster is not None else []

    def alive(self) -> bool:
        return all(inst.proc.poll() is None for inst in self.instances)

    def exit_status(self) -> str:
        return ", ".join(f"instance {i} (port {inst.port}) exited with {inst.proc.returncode}"
                         for i, inst in enumerate(self.instances, 1) if inst.proc.poll() is not None) or "running"

    def log_tail(self, n: int = 30) -> str:
        parts = []
        for inst in self.instances:
            try:
                text = "\n".join(inst.logfile.read_text(errors="replace").splitlines()[-n:])
            except OSError:
                text = "(no log)"
            parts.append(text if len(self.instances) == 1 else f"[{inst.logfile.name}]\n{text}")
        return "\n".join(parts)

    def stop(self) -> None:
        """SIGTERM every instance's root PID, wait, then SIGKILL it and any descendant still alive, by PID."""
        running = [inst for inst in self.instances if inst.proc.poll() is None]
        if not running:
            return
        tree = self.tree()
        log(f"stopping {self.name} (pid {', '.join(str(i.pid) for i in running)}, tree {tree})")
        for inst in running:
            try:
                inst.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 35
        for inst in running:
            try:
                inst.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {inst.pid}) did not stop in 35 s; SIGKILL")
                inst.proc.kill()
                inst.proc.wait(timeout=10)
        roots = {inst.pid for inst in self.instances}
        for p in tree:
            if p in roots:
                continue
            # Workers normally exit with their master; wait for that, then kill what is left.
            deadline = time.monotonic() + 10
            while process_state(p) not in (None, "Z") and time.monotonic() < deadline:
                time.sleep(0.1)
            if process_state(p) not in (None, "Z"):
                try:
                    os.kill(p, signal.SIGKILL)
                    log(f"killed leftover {self.name} process {p}")
                except ProcessLookupError:
                    pass


class Http:
    """One keep-alive connection per thread; reconnects when idle or broken (bounded retries)."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def request(self, method: str, path: str, body=None, headers=None, retries: int = 3):
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        last = None
        for attempt in range(retries):
            conn = getattr(self.local, "conn", None)
            if conn is None or time.monotonic() - getattr(self.local, "used", 0) > 1.0:
                if conn is not None:
                    conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.local.conn = conn
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                self.local.used = time.monotonic()
                return resp.status, resp.headers, payload
            except (http.client.HTTPException, OSError) as exc:
                last = exc
                conn.close()
                self.local.conn = None
                time.sleep(0.1 * (attempt + 1))
        raise BenchError(f"{method} {path} on port {self.port} failed after {retries} attempts: {last}")


def wait_ready(server: Server, path: str, timeout: float) -> None:
    """Until every instance answers `path` with 200 (each within `timeout`)."""
    for inst in server.instances:
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if inst.proc.poll() is not None:
                raise BenchError(f"{server.name} exited: {server.exit_status()}:\n{server.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=2)
                conn.request("GET", path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    break
                last = f"{path} answered {status}"
            except OSError as exc:
                last = exc
            if time.monotonic() > deadline:
                raise BenchError(f"{server.name} not ready on port {inst.port} within {timeout:.0f} s ({last}):\n"
                                 f"{server.log_tail()}")
            time.sleep(0.2)


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("wrk is missing: apt-get install -y wrk")
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    r = subprocess.run(apt + ["install", "-y", "wrk"], timeout=600)
    if r.returncode != 0:
        subprocess.run(apt + ["update"], timeout=600)
        subprocess.run(apt + ["install", "-y", "wrk"], timeout=600, check=True)
    if not shutil.which("wrk"):
        raise BenchError("wrk could not be installed")


def build(no_build: bool, binary: Path | None = None) -> Path:
    if binary is not None:  # --binary: used as it is, never built
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise BenchError(f"{binary} is not an executable file")
        return binary
    binary = ROOT / "target" / "release" / "rush-api"
    if not no_build:
        log("cargo build --release --locked")
        r = subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, timeout=3600)
        if r.returncode != 0:
            raise BenchError("cargo build --release --locked failed")
    if not binary.exists():
        raise BenchError(f"{binary} does not exist")
    return binary


def create_token(binary: Path, tmp: Path, env: dict, name: str, scopes: tuple[str, ...] = ()) -> str:
    """`rush-api token create --name NAME [--scope S]...` on the server's database; the token is the
    last line it prints."""
    cmd = [str(binary), "token", "create", "--name", name]
    for scope in scopes:
        cmd += ["--scope", scope]
    r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or not r.stdout.strip():
        raise BenchError(f"{' '.join(cmd[1:])} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout.strip().splitlines()[-1].strip()


def start_rush(binary: Path, tmp: Path, key: str = "rush", name: str = "rush-api", staff: bool = False,
               cluster=None, instances: int = 1) -> Server:
    """Starts `rush-api serve --no-seed` on a fresh database, after creating its tokens: `bench`
    (the default scope, content) and, with `staff`, `bench-staff` with the scope `requests`.
    Without `cluster` the database is the SQLite file `<key>.sqlite3` in `tmp`; with one (a
    postgres.Cluster), a new database `bench_<key>` in it, shared by `instances` processes, each on
    its own loopback port: the first is started and ready (/readyz) before the others start."""
    if cluster is None:
        url = str(tmp / f"{key}.sqlite3")
        where = f"database {url}"
    else:
        dbname = f"bench_{key}"
        cluster.create_database(dbname)
        url = cluster.url(dbname)
        where = f"database {dbname} of the PostgreSQL cluster on port {cluster.port}"
    # Rate limiting off: the benchmark measures throughput, not the limiter. The hourly allowance of
    # public event request submissions per IP is off too (request_submit sends thousands a second).
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn", RATE_LIMIT_PER_MINUTE="0",
               RATE_LIMIT_TOKEN_PER_MINUTE="0", EVENT_REQUEST_RATE_LIMIT_PER_HOUR="0")
    env.pop("CORS_ALLOWED_ORIGINS", None)
    env.pop("BIND_ADDRESS", None)
    # Once per database: the token table is shared by every instance on it.
    token = create_token(binary, tmp, env, "bench")
    staff_token = create_token(binary, tmp, env, "bench-staff", ("requests",)) if staff else None
    server: Server | None = None
    try:
        for i in range(1, instances + 1):
            port = free_port()
            logfile = tmp / (f"{key}.log" if instances == 1 else f"{key}-{i}.log")
            with open(logfile, "wb") as out:
                proc = subprocess.Popen([str(binary), "serve", "--no-seed"], cwd=tmp,
                                        env=dict(env, BIND_ADDRESS=f"127.0.0.1:{port}"), stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if server is None:
                server = Server(name, "rush", proc, port, token, logfile, key,
                                "sqlite" if cluster is None else "postgres")
                server.cluster = cluster
                server.staff_token = staff_token
            else:
                server.add_instance(proc, port, logfile)
            log(f"{name} ({binary}) pid {proc.pid} on http://127.0.0.1:{port}, {where}"
                + (f" (instance {i} of {instances})" if instances > 1 else ""))
            if i == 1 and instances > 1:
                wait_ready(server, "/readyz", 60)
    except BaseException:
        if server is not None:  # the caller only stops the servers it got
            server.stop()
        raise
    assert server is not None
    return server


def start_peer(peer_dir: Path, tmp: Path) -> Server:
    run_sh = peer_dir / "run.sh"
    if not run_sh.exists():
        raise BenchError(f"{run_sh} does not exist")
    port = free_port()
    token = f"bench-{secrets.token_hex(8)}"
    env = dict(os.environ, FRESH="1", PEER_TOKEN=token, PEER_DB=str(tmp / "peer.sqlite3"))
    logfile = tmp / "peer.log"
    with open(logfile, "wb") as out:
        proc = subprocess.Popen([str(run_sh), str(port), "2"], cwd=peer_dir, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    name = f"{peer_dir.name}-2w"
    server = Server(name, "peer", proc, port, token, logfile)
    log(f"{name} pid {proc.pid} on {server.url} (the first start creates its virtualenv)")
    return server
