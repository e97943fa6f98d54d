"""Whether last night ran: each provider's last run of each command, for a person, a
monitoring check (Nagios-style exit code and one summary line) or Prometheus."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lo_sync.errors import InputError
from lo_sync.limits import format_duration
from lo_sync.output import summary
from lo_sync.store import Store

COMMANDS = ("sync-catalog", "archive", "sync-stats")
# The run log's count columns, as `output.summary` orders them.
COUNT_COLUMNS = (
    "fetched", "created", "updated", "unchanged", "missing", "returned", "archived", "restored",
    "regressions", "unmatched", "ambiguous", "not_in_catalog", "rejected", "not_read",
    "new_in_data",
)  # fmt: skip
_AGE = re.compile(r"(\d{1,6})\s*([smhd])")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_AGE_CEILING = 366 * 86400  # a year: beyond it, a check that never fires
_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Entry:
    """One provider's command: its newest run and newest successful run (None: never)."""

    provider: str
    command: str
    last: dict | None
    last_ok: dict | None

    @property
    def name(self) -> str:
        return f"{self.provider} {self.command}"


def parse_max_age(raw: str) -> float:
    """'90m', '26h', '2d' (or 's') as seconds, one second to a year; else InputError."""
    match = _AGE.fullmatch(raw.strip())
    seconds = int(match.group(1)) * _AGE_UNITS[match.group(2)] if match else 0
    if not 1 <= seconds <= MAX_AGE_CEILING:
        raise InputError(
            f"--max-age {raw[:40]!r}: expected a duration such as 90m, 26h or 2d "
            "(s, m, h or d; at most 366d)"
        )
    return float(seconds)


def collect(store: Store, providers: list[str]) -> list[Entry]:
    return [
        Entry(provider, command, *store.runs.last_and_last_ok(command, provider))
        for provider in providers
        for command in COMMANDS
    ]


def epoch(run: dict | None) -> float | None:
    """When the run finished, as Unix time; None for no run or a time we cannot read."""
    if run is None:
        return None
    try:
        return datetime.strptime(run["finished_at"], _TIMESTAMP).replace(tzinfo=UTC).timestamp()
    except (TypeError, ValueError):
        return None


def age(run: dict | None, now: float) -> float | None:
    finished = epoch(run)
    return None if finished is None else max(0.0, now - finished)


def format_age(seconds: float | None) -> str:
    """45s, 12m, 7h 12m, 2d 3h."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def format_limit(seconds: float) -> str:
    """A --max-age as an operator writes it: 2d, 26h, 90m, 45s."""
    return format_duration(seconds, days=True)


def stale(entries: list[Entry], max_age: float, now: float) -> list[Entry]:
    """The entries whose last success is older than `max_age`, or that never had one."""
    return [e for e in entries if (a := age(e.last_ok, now)) is None or a > max_age]


def counts(run: dict) -> dict[str, int]:
    return {c: run[c] for c in COUNT_COLUMNS if run.get(c) is not None}


def table_rows(entries: list[Entry], now: float) -> list[dict]:
    rows = []
    for e in entries:
        last, ok = e.last, e.last_ok
        rows.append(
            {
                "provider": e.provider,
                "command": e.command,
                "last_run": last["finished_at"] if last else "never",
                "outcome": last["status"] if last else "",
                "ago": format_age(age(last, now)),
                "counts": summary(counts(last)) if last else "",
                "last_success": ("never" if ok is None else ok["finished_at"]),
                "success_ago": format_age(age(ok, now)),
            }
        )
    return rows


def failures(entries: list[Entry]) -> list[str]:
    """'coursera sync-stats failed: <message>' for each last run that did not succeed."""
    return [
        f"{e.name} {e.last['status']}: {e.last['message'] or 'no message recorded'}"
        for e in entries
        if e.last is not None and e.last["status"] != "ok"
    ]


def summary_line(entries: list[Entry], max_age: float, now: float) -> str:
    """One line a monitoring system shows: OK, or WARNING naming what is stale."""
    late = stale(entries, max_age, now)
    limit = format_limit(max_age)
    if not late:
        return f"LO-SYNC OK - {len(entries)} last successes within {limit}"
    parts = [
        f"{e.name} never succeeded"
        if e.last_ok is None
        else f"{e.name} last succeeded {format_age(age(e.last_ok, now))} ago"
        for e in late
    ]
    return f"LO-SYNC WARNING - {len(late)} of {len(entries)} older than {limit}: " + "; ".join(
        parts
    )


def json_document(entries: list[Entry], max_age: float | None, now: float) -> dict:
    late = {e.name for e in stale(entries, max_age, now)} if max_age is not None else set()

    def run(r: dict | None) -> dict | None:
        if r is None:
            return None
        return {
            "id": r["id"],
            "started_at": r["started_at"],
            "finished_at": r["finished_at"],
            "status": r["status"],
            "age_seconds": age(r, now),
            "counts": counts(r),
            "message": r["message"],
        }

    return {
        "checked_at": datetime.fromtimestamp(now, UTC).strftime(_TIMESTAMP),
        "max_age_seconds": max_age,
        "ok": None if max_age is None else not late,
        "commands": [
            {
                "provider": e.provider,
                "command": e.command,
                "last_run": run(e.last),
                "last_success": run(e.last_ok),
                "stale": None if max_age is None else e.name in late,
            }
            for e in entries
        ],
    }


_GAUGES = (
    (
        "lo_sync_last_success_timestamp_seconds",
        "When the last successful run finished, as Unix time (0: never).",
        lambda e: epoch(e.last_ok) or 0,
    ),
    (
        "lo_sync_last_run_timestamp_seconds",
        "When the last run finished, whatever its outcome, as Unix time (0: never).",
        lambda e: epoch(e.last) or 0,
    ),
    (
        "lo_sync_last_run_success",
        "1 if the last run succeeded; 0 if it failed, was refused or interrupted, or never ran.",
        lambda e: int(e.last is not None and e.last["status"] == "ok"),
    ),
)


def prometheus_text(entries: list[Entry]) -> str:
    """The Prometheus text exposition format, for node-exporter's textfile collector."""
    lines = []
    for name, help_text, value in _GAUGES:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for e in entries:
            labels = f'provider="{_label(e.provider)}",command="{_label(e.command)}"'
            lines.append(f"{name}{{{labels}}} {int(value(e))}")
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
