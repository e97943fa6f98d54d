"""What the installed lo-sync and simulator support, and what lo-sync says about its paging.

Concurrent paging (lo-sync's `http.concurrency`) and the simulator's latency,
report orders, distributions and throttle arrive in their own changes. A case
that needs one of them is skipped, with the reason, until it is there: the
simulator is asked by building its config (simulator_process.simulator_refuses),
lo-sync by parsing a config with the `http:` keys the case sets.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import yaml

# One line per fetch at -v (lo-sync's concurrent paging).
SETTLED = re.compile(r"settled at (\d+) requests in flight")
THROTTLED = re.compile(r"(\d+) throttled answers")


def losync_refuses(http: dict) -> str | None:
    """Why the installed lo-sync's config refuses these `http:` keys, or None."""
    if not http:
        return None
    from lo_sync.config import parse_config
    from lo_sync.errors import ConfigError
    from lo_sync.simulator import CREDENTIALS
    from lo_sync.simulator.client_config import config_yaml

    with tempfile.TemporaryDirectory() as folder:
        text = config_yaml(
            "http://127.0.0.1:1", CREDENTIALS, literal_secrets=True, database="probe.db"
        )
        document = yaml.safe_load(text)
        document["http"] = dict(http)
        try:
            parse_config(document, Path(folder))
        except ConfigError as error:
            return str(error).strip().splitlines()[0]
    return None


def http_yaml(http: dict) -> str:
    """The `http:` section appended to the generated config (empty when there is none)."""
    if not http:
        return ""
    return "http:\n" + "".join(f"  {key}: {value}\n" for key, value in http.items())


def paging_says(stderr: str) -> dict[str, int | None]:
    """From lo-sync's -v stderr: the most requests any fetch settled at, and the 429s
    it met in all (None: no such line, i.e. this lo-sync does not log them)."""
    settled = [int(n) for n in SETTLED.findall(stderr)]
    throttled = [int(n) for n in THROTTLED.findall(stderr)]
    return {
        "settled": max(settled) if settled else None,
        "throttled": sum(throttled) if throttled else None,
    }
