"""What the processes under test use, from /proc: process trees, CPU time (utime + stime, in clock
ticks), resident memory, the machine's busy time, and the sampler of peak RSS during a run."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .servers import Server

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
    """utime + stime of live processes, plus cutime + cstime of children they reaped (the
    PostgreSQL postmaster reaps its backends: one that exits between two samples still counts, if it
    was reaped before the second; one that exits unreaped, or a process whose parent is not in
    `pids`, is lost). In seconds, from clock ticks (SC_CLK_TCK)."""
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


def process_state(pid: int):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


class Sampler:
    """Samples the summed VmRSS of each server's process tree (every instance) every 100 ms."""

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
