"""The simulator in a process of its own, so a measured process tree is lo-sync's alone.

    python benchmarks/simulator_process.py '{"coursera_enrollments": 20000, "page_cache": 0}'

The argument is SimulatorConfig's keyword arguments as JSON, faults as the
control endpoint's dicts ({"kind": "throttle", "in_flight": 4}). It prints one JSON
line, {"url": ...}, once it listens; answers each "stats" line on stdin with the
page cache's statistics as one JSON line; and exits when stdin closes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from measure import process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent


class SimProcess:
    """`with SimProcess(**config) as sim:` runs a simulator process for the block."""

    def __init__(self, **config):
        self.config = config
        self.cached = config.get("page_cache", 0) > 0
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> SimProcess:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        ready = json.loads(self.proc.stdout.readline() or "{}")
        if "url" not in ready:
            raise RuntimeError("the simulator did not start (see its stderr above)")
        self.url = ready["url"]
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.health().get("ok"):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_sim/health", timeout=5) as r:
            return json.loads(r.read())

    def day(self) -> int:
        return self.health().get("day", 0)

    def control(self, **command) -> None:
        request = urllib.request.Request(
            f"{self.url}/_sim/control",
            data=json.dumps(command).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            if not json.loads(r.read()).get("ok"):
                raise RuntimeError(f"simulator refused control {command}")

    def counters(self) -> dict:
        """The health endpoint's request counters since the last reset (None: not served)."""
        health = self.health()
        return {key: health.get(key) for key in ("max_in_flight", "throttled")}

    def page_cache_misses(self) -> int:
        if not self.cached:
            return 0
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["misses"]

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)


def simulator_config(config: dict):
    """SimulatorConfig from its keyword arguments as JSON; TypeError or ValueError when
    this lo_sync.simulator has no such field or fault (see simulator_refuses)."""
    from lo_sync.simulator import SimulatorConfig
    from lo_sync.simulator.faults import Fault

    faults = tuple(Fault.from_dict(raw) for raw in config.get("faults", ()))
    return SimulatorConfig(**{**config, "faults": faults})


def simulator_refuses(config: dict) -> str | None:
    """Why the installed simulator cannot serve `config` (a field or fault it does not
    have yet, say), or None when it can."""
    try:
        simulator_config(config)
    except (TypeError, ValueError) as error:
        return str(error)
    return None


def main(argv: list[str]) -> int:
    from lo_sync.simulator import Simulator

    sim = Simulator(simulator_config(json.loads(argv[0])), "127.0.0.1", 0).start()
    try:
        print(json.dumps({"url": sim.url}), flush=True)
        for line in sys.stdin:
            if line.strip() == "stats":
                print(json.dumps(sim.page_cache_stats()), flush=True)
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
