"""The servers under test: building and starting them, stopping them by PID, what they use
(CPU and RSS from /proc, sampled), and a keep-alive HTTP client for the harness's own requests."""

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

CLK_TCK = os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    out.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return out


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants (bounded walk)."""
    seen, todo = [], [pid]
    while todo and len(seen) < 256:
        p = todo.pop()
        if p in seen or not os.path.exists(f"/proc/{p}"):
            continue
        seen.append(p)
        todo.extend(children_of(p))
    return seen


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of live processes, plus cutime + cstime of children they reaped."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # fields[0] is state (field 3); utime is field 14 -> index 11.
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """Busy CPU time of the whole machine (all CPUs) from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / CLK_TCK


def rss_kb(pids: list[int], key: str = "VmRSS:") -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            pass
    return total


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server under test: its root process, port, token and the shapes it speaks."""

    def __init__(self, name: str, kind: str, proc: subprocess.Popen, port: int, token: str, logfile: Path,
                 key: str | None = None):
        self.name, self.kind, self.proc, self.port, self.token, self.logfile = name, kind, proc, port, token, logfile
        self.key = key or kind  # "rush", "baseline" or "peer": names its files and run tags
        self.pid = proc.pid
        self.url = f"http://127.0.0.1:{port}"
        self.data: dict[str, Path] = {}  # data files for the Lua scripts
        self.ids: dict[str, list[int]] = {}
        self.staff_token: str | None = None  # scope `requests`, for request_review (rush-api only)
        self.seed_seconds = 0.0
        self.seed_requests = 0

    def tree(self) -> list[int]:
        return process_tree(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM the root PID, wait, then SIGKILL it and any descendant still alive, by PID."""
        if self.proc.poll() is not None:
            return
        tree = self.tree()
        log(f"stopping {self.name} (pid {self.pid}, tree {tree})")
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop in 35 s; SIGKILL")
            self.proc.kill()
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        for p in tree[1:]:
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


def process_state(pid: int):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


class Sampler:
    """Samples the summed VmRSS of each server's process tree every 100 ms."""

    def __init__(self):
        self.servers: list[Server] = []
        self.window: dict[str, int] = {}
        self.overall: dict[str, int] = {}
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def add(self, server: Server) -> None:
        with self.lock:
            self.servers.append(server)
            self.window[server.name] = 0
            self.overall[server.name] = 0

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        trees: dict[str, list[int]] = {}
        tick = 0
        while not self.stop_event.wait(0.1):
            with self.lock:
                servers = list(self.servers)
            for s in servers:
                if tick % 10 == 0 or s.name not in trees:
                    trees[s.name] = s.tree()
                kb = rss_kb(trees[s.name])
                with self.lock:
                    self.window[s.name] = max(self.window[s.name], kb)
                    self.overall[s.name] = max(self.overall[s.name], kb)
            tick += 1

    def reset_window(self, server: Server) -> None:
        with self.lock:
            self.window[server.name] = rss_kb(server.tree())

    def window_peak(self, server: Server) -> int:
        with self.lock:
            return max(self.window[server.name], rss_kb(server.tree()))

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=2)


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
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise BenchError(f"{server.name} not ready on port {server.port} within {timeout:.0f} s ({last}):\n{server.log_tail()}")


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


def start_rush(binary: Path, tmp: Path, key: str = "rush", name: str = "rush-api", staff: bool = False) -> Server:
    """Starts `rush-api serve --no-seed` on a fresh database, after creating its tokens: `bench`
    (the default scope, content) and, with `staff`, `bench-staff` with the scope `requests`."""
    db = tmp / f"{key}.sqlite3"
    port = free_port()
    # Rate limiting off: the benchmark measures throughput, not the limiter. The hourly allowance of
    # public event request submissions per IP is off too (request_submit sends thousands a second).
    env = dict(os.environ, DATABASE_URL=str(db), BIND_ADDRESS=f"127.0.0.1:{port}", RUST_LOG="warn",
               RATE_LIMIT_PER_MINUTE="0", RATE_LIMIT_TOKEN_PER_MINUTE="0", EVENT_REQUEST_RATE_LIMIT_PER_HOUR="0")
    env.pop("CORS_ALLOWED_ORIGINS", None)
    token = create_token(binary, tmp, env, "bench")
    staff_token = create_token(binary, tmp, env, "bench-staff", ("requests",)) if staff else None
    logfile = tmp / f"{key}.log"
    with open(logfile, "wb") as out:
        proc = subprocess.Popen([str(binary), "serve", "--no-seed"], cwd=tmp, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(name, "rush", proc, port, token, logfile, key)
    server.staff_token = staff_token
    log(f"{name} ({binary}) pid {proc.pid} on {server.url}, database {db}")
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
