"""--flamegraph: one more, uncounted repetition of a scenario with `perf record` attached to
rush-api, rendered to an SVG with inferno."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .dataset import Dataset
from .procs import Sampler
from .servers import Server
from .wrk import run_wrk

PERF_HZ = 499


def ensure_profilers() -> None:
    if not shutil.which("perf"):
        apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "apt-get"]
        subprocess.run(apt + ["install", "-y", "linux-perf"], timeout=600, check=True)
    cargo_bin = Path.home() / ".cargo" / "bin"
    if not (cargo_bin / "inferno-flamegraph").exists() and not shutil.which("inferno-flamegraph"):
        subprocess.run(["cargo", "install", "--locked", "inferno", "--version", "0.12.2"], timeout=1800, check=True)


def inferno(tool: str) -> str:
    local = Path.home() / ".cargo" / "bin" / tool
    return str(local) if local.exists() else tool


def flamegraph(server: Server, scenario: str, ds: Dataset, duration: int, connections: int, out_dir: Path,
               sampler: Sampler) -> Path:
    """One extra, uncounted repetition of `scenario` with perf sampling rush-api's stacks."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / f"{scenario}.perf.data"
    perf = subprocess.Popen(["perf", "record", "-F", str(PERF_HZ), "--call-graph", "dwarf,16384", "-p", str(server.pid),
                             "-o", str(data), "--", "sleep", str(duration)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_wrk(server, scenario, ds, duration, connections, f"{scenario}-profile-{server.key}", sampler)
        perf.wait(timeout=duration + 60)
    finally:
        if perf.poll() is None:
            perf.terminate()
            perf.wait(timeout=30)
    svg = out_dir / f"{scenario}.svg"
    script = subprocess.run(["perf", "script", "-i", str(data)], capture_output=True, timeout=900, check=True)
    folded = subprocess.run([inferno("inferno-collapse-perf")], input=script.stdout, capture_output=True,
                            timeout=900, check=True)
    title = f"rush-api {scenario}, {connections} connections, {duration} s at {PERF_HZ} Hz"
    rendered = subprocess.run([inferno("inferno-flamegraph"), "--minwidth", "0.1", "--title", title], input=folded.stdout,
                              capture_output=True, timeout=900, check=True)
    svg.write_bytes(rendered.stdout)
    # The collapsed stacks too, for comparing two profiles line by line (inferno-diff-folded).
    (out_dir / f"{scenario}.folded").write_bytes(folded.stdout)
    data.unlink(missing_ok=True)
    return svg
