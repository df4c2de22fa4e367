"""The PostgreSQL cluster of a run (`--database postgres`): one throwaway cluster for the whole run,
with initdb and pg_ctl from `pg_config --bindir` (as the `postgres` user when the harness runs as
root: initdb refuses root), in a temporary directory under /tmp, on a free loopback port; a fresh
database per server configuration; the CPU time of its server processes; stopping it."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .common import BenchError, log
from .procs import cpu_seconds, process_state
from .servers import free_port

INSTALL_HINT = "apt-get install -y postgresql postgresql-contrib"
# Enough for every instance's pool (16 reads + the writer by default) plus psql.
MAX_CONNECTIONS = 200


def bindir() -> Path:
    """The directory of initdb and pg_ctl (`pg_config --bindir`; not on PATH on Debian)."""
    candidates = []
    if shutil.which("pg_config"):
        try:
            r = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=30)
            if r.returncode == 0 and r.stdout.strip():
                candidates.append(Path(r.stdout.strip()))
        except (OSError, subprocess.TimeoutExpired):
            pass
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for d in candidates:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    raise BenchError("--database postgres needs PostgreSQL's initdb and pg_ctl (found with `pg_config --bindir`), "
                     f"and there are none: install them with `{INSTALL_HINT}`")


def postmaster_children() -> dict[int, list[int]]:
    """ppid -> pids, from /proc/*/stat."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(entry))
    return out


class Cluster:
    """One throwaway PostgreSQL cluster: `start()`, `create_database()`, `url()`, `pids()`, `stop()`.
    fsync and synchronous_commit keep their defaults (on): a commit is on disk before the answer."""

    def __init__(self, keep: bool = False):
        self.bin = bindir()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise BenchError("running as root, the cluster must belong to the user `postgres` (initdb refuses "
                                 f"root), and there is none: `{INSTALL_HINT}` creates it") from None
            if not shutil.which("runuser"):
                raise BenchError("running as root needs `runuser` (util-linux) to run initdb as postgres")
        self.keep = keep
        self.version = "PostgreSQL"
        try:
            r = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, text=True, timeout=30)
            if r.returncode == 0 and r.stdout.strip():
                self.version = r.stdout.strip().replace("postgres (PostgreSQL)", "PostgreSQL")
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.dir: Path | None = None
        self.port = 0
        self.postmaster: int | None = None
        self.started = False

    @property
    def data(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    def _cmd(self, tool: str, *args: str) -> list[str]:
        exe = self.bin / tool
        if tool == "psql" and not exe.is_file():
            exe = Path(shutil.which("psql") or exe)
        return (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + [str(exe), *args]

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = self._cmd(tool, *args)
        try:
            r = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"{tool} did not finish within {timeout:.0f} s: {' '.join(cmd)}") from exc
        return r

    def start(self) -> "Cluster":
        self.dir = Path(tempfile.mkdtemp(prefix="rush-bench-pg-", dir="/tmp"))
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        r = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", timeout=300)
        if r.returncode != 0:
            raise BenchError(f"initdb failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        for attempt in range(3):  # the port is free when picked; another process may take it before us
            self.port = free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir} "
                       f"-c max_connections={MAX_CONNECTIONS}")
            r = self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-l", str(self.dir / "pg.log"),
                          "-o", options, "start", timeout=90)
            self._read_postmaster()
            if r.returncode == 0 and self.postmaster:
                break
            self.stop_postmaster()
            if attempt == 2:
                raise BenchError(f"pg_ctl start failed ({r.returncode}): {r.stdout}{r.stderr}\n{self.log_tail()}")
            log(f"pg_ctl start on port {self.port} failed; trying another port")
        self.started = True
        log(f"PostgreSQL cluster ({self.bin}) postmaster pid {self.postmaster} on 127.0.0.1:{self.port}, "
            f"in {self.dir}; fsync and synchronous_commit on")
        return self

    def _read_postmaster(self) -> None:
        try:
            self.postmaster = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            pass

    def create_database(self, name: str) -> None:
        r = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                      "-v", "ON_ERROR_STOP=1", "-q", "-c", f"CREATE DATABASE {name}")
        if r.returncode != 0:
            raise BenchError(f"CREATE DATABASE {name} failed ({r.returncode}): {r.stdout}{r.stderr}")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def pids(self) -> list[int]:
        """The postmaster (the first line of DATA/postmaster.pid) and its children (backends, one per
        connection, and the background processes): every server process of the cluster."""
        if not self.postmaster or process_state(self.postmaster) in (None, "Z"):
            return []
        return [self.postmaster] + postmaster_children().get(self.postmaster, [])

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pids())

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join((self.dir / "pg.log").read_text(errors="replace").splitlines()[-n:])
        except (OSError, TypeError):
            return "(no log)"

    def stop_postmaster(self) -> None:
        """`pg_ctl -m fast stop`; then SIGKILL, by PID, the postmaster and any of its children still alive."""
        if self.dir is None or not self.data.exists():
            return
        self._read_postmaster()
        pids = self.pids()
        if not pids:
            return
        log(f"stopping the PostgreSQL cluster (postmaster pid {self.postmaster}, {len(pids) - 1} children)")
        r = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop", timeout=60)
        if r.returncode != 0:
            log(f"pg_ctl stop failed ({r.returncode}): {r.stdout}{r.stderr}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(process_state(p) not in (None, "Z") for p in pids):
            time.sleep(0.1)
        for p in pids:
            if process_state(p) not in (None, "Z"):
                try:
                    os.kill(p, signal.SIGKILL)
                    log(f"killed leftover PostgreSQL process {p}")
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        """Stops the cluster and removes its directory (unless `keep`)."""
        try:
            self.stop_postmaster()
        finally:
            if self.dir is not None:
                if self.keep:
                    log(f"kept the PostgreSQL cluster's directory {self.dir}")
                else:
                    shutil.rmtree(self.dir, ignore_errors=True)
