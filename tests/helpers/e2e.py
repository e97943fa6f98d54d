"""Running the real `lo-sync` CLI, as a subprocess, against a simulator on loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lo_sync.simulator import CREDENTIALS
from lo_sync.simulator.client_config import SECRET_VARS, config_yaml

# What starts every line lo-sync writes to stderr under cron, as it starts every summary.
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def unstamped(text: str) -> list[str]:
    """The lines of `text` (stderr, or stdout's summaries, under cron) without their
    timestamp; fails on a line that has none."""
    lines = []
    for line in text.splitlines():
        stamp = STAMP.match(line)
        assert stamp, f"a line without the timestamp: {line!r}"
        lines.append(line[stamp.end() :])
    return lines


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def write_config(folder: Path, sim_url: str, **overrides) -> Path:
    """A config for the simulator, with secrets as ${VAR} references as we recommend."""
    text = config_yaml(sim_url, CREDENTIALS, literal_secrets=False, database="lo-sync.db")
    for old, new in overrides.items():
        text = text.replace(old, new)
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def secret_env() -> dict[str, str]:
    return {var: CREDENTIALS[name]["client_secret"] for name, var in SECRET_VARS.items()}


def run_cli(
    config: Path | None,
    *args: str,
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
    timeout: float = 120,
) -> Result:
    command = [sys.executable, "-m", "lo_sync"]
    if config is not None:
        command += ["--config", str(config)]
    full_env = {**os.environ, **secret_env(), **(env or {})}
    for name in unset:
        full_env.pop(name, None)
    done = subprocess.run(
        command + list(args),
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Result(done.returncode, done.stdout, done.stderr)
