"""Measuring one run: wall time, CPU time and peak memory of a process tree.

The run is a subprocess; its peak memory is the larger of its process tree's
proportional set size, polled every POLL_SECONDS from /proc, and wait4's
ru_maxrss. When a simulator serves the run, the simulator's own CPU time and
page-cache misses during the run are taken too.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

POLL_SECONDS = 0.02
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def process_memory_kb(pid: int) -> int:
    """Proportional set size: resident memory, with pages shared between processes
    (a forked child shares its parent's heap) divided among them. Summing plain RSS
    over lo-sync and its fetch worker would count the parent's heap twice."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB


def tree_memory_kb(root: int) -> int:
    """Memory of `root` and all its descendants, now (PSS, see process_memory_kb)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += process_memory_kb(pid)
            for task in os.listdir(f"/proc/{pid}/task"):
                todo += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue  # it just exited
    return total


@dataclass
class Run:
    wall: float
    rc: int
    peak_mb: float  # max of the polled tree PSS sum and wait4's ru_maxrss
    cpu: float  # user + system seconds of the process tree
    sim_cpu: float = 0.0
    sim_misses: int = 0
    stdout: str = ""
    stderr: str = ""
    rows: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The simulator's health counters since the run started (max_in_flight, throttled;
    # None where it does not count them), and what lo-sync's -v lines said (interfaces.py).
    sim_counters: dict = field(default_factory=dict)
    paging: dict = field(default_factory=dict)


class Server(Protocol):
    """What measure() reads from the simulator serving the run."""

    def cpu_seconds(self) -> float: ...
    def page_cache_misses(self) -> int: ...


def measure(argv: list[str], env: dict, server: Server | None, logfile: Path) -> Run:
    before_cpu = server.cpu_seconds() if server else 0.0
    before_misses = server.page_cache_misses() if server else 0
    with open(logfile, "w+b") as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, tree_memory_kb(proc.pid))
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return Run(
        wall=wall,
        rc=proc.returncode,
        peak_mb=max(peak_kb, usage.ru_maxrss) / 1024,
        cpu=usage.ru_utime + usage.ru_stime,
        sim_cpu=(server.cpu_seconds() - before_cpu) if server else 0.0,
        sim_misses=(server.page_cache_misses() - before_misses) if server else 0,
        stdout=stdout,
        stderr=stderr,
    )
