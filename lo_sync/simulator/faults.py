"""Faults the simulator can inject, and the counters that make them deterministic.

lo-sync runs unattended, so its retry, re-authentication and "never hand on a
partial catalog" paths matter more than its happy path. Each `Fault` names one
misbehaviour seen (or plausible) in the real APIs; `FaultInjector` decides, from
request counters rather than chance, exactly which request misbehaves, so a test
that says "every third request is rate limited" gets the same requests every run.

One counter covers the resource GETs of both providers, in arrival order: "every
second request" means every second request the simulator serves, so even a run
that reads one page from each provider meets the fault. If lo-sync fetches both
providers at once, which request is hit depends on scheduling; how many are hit
does not.
"""

from __future__ import annotations

import dataclasses
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple


class FaultKind(NamedTuple):
    required: frozenset[str]
    optional: frozenset[str]
    summary: str


def _kind(required: str, optional: str, summary: str) -> FaultKind:
    return FaultKind(frozenset(required.split()), frozenset(optional.split()), summary)


# A parameter a kind does not use is an error: a typo such as `evry=3` must not
# silently disable a fault. Page faults name the page by its first item: the
# Coursera `start` or the OpenClassrooms range start the client asks for.
FAULT_KINDS: dict[str, FaultKind] = {
    "throttle": _kind(
        "",
        "in_flight per_second retry_after",
        "429 (Retry-After: retry_after, default 1, -1: none) to a resource request that "
        "arrives while `in_flight` are being served, or finds a token bucket of "
        "`per_second` (burst as many) empty",
    ),
    "rate_limit": _kind(
        "every",
        "retry_after",
        "429 on every `every`-th resource request; Retry-After: retry_after (default 1, -1: none)",
    ),
    "server_error": _kind(
        "every",
        "count status",
        "from request `every` on, every `every` requests, a burst of `count` (default 1) "
        "errors cycling 500/502/503/504, or `status`",
    ),
    "token_expiry": _kind(
        "every", "", "each token is refused (401) after `every` resource requests"
    ),
    "token_down": _kind("", "status", "the token endpoints answer `status` (default 503)"),
    "slow": _kind("seconds", "", "wait `seconds` before answering each resource request"),
    "broken_page": _kind("page", "", "the page starting at `page` always answers 500"),
    "truncated_json": _kind("page", "", "the page at `page` comes back cut in half (invalid JSON)"),
    "reset": _kind(
        "page",
        "count",
        "the page at `page` drops the connection (the first `count` times; default always)",
    ),
    "stuck_next": _kind(
        "page", "", "Coursera: the page at `page` gives its own start as paging.next"
    ),
    "range_total_changes": _kind(
        "", "", "OpenClassrooms: from the second page on, the total grows by 7"
    ),
    "duplicate_record": _kind(
        "page", "", "the page at `page` starts with the previous page's last record again"
    ),
    "bad_records": _kind(
        "every",
        "",
        "every `every`-th catalog record is damaged: no id, int title, null title, "
        "100 KB title, unknown status (OpenClassrooms)",
    ),
    "shrunk": _kind("", "", "catalogs come back complete-looking but with only their first half"),
    "trickle": _kind(
        "page seconds",
        "",
        "the answer for the page at `page` goes out one byte every `seconds`, status line "
        "and headers included",
    ),
    "gzip_bomb": _kind(
        "page",
        "count",
        "the page at `page` comes gzip-encoded, padded with spaces to `count` MiB once "
        "decoded (default 1024): still the same JSON, a thousand times its size",
    ),
    "deep_nesting": _kind(
        "page", "count", "the page at `page` is a JSON array nested `count` deep (default 100000)"
    ),
    "gateway_fault": _kind(
        "",
        "every status",
        "every `every`-th resource request (default each) is answered `status` (default 503) "
        "by the API gateway in front: an Apigee-style `fault` body, not the provider's",
    ),
    "unknown_fields": _kind(
        "",
        "every",
        "every record gains keys no contract names, and every `every`-th one (default 5) a "
        "value its enum never had (contentType Podcast, membershipState GUEST, status beta)",
    ),
}

_PARAMETERS = (
    "every", "count", "page", "seconds", "retry_after", "status", "in_flight", "per_second"
)  # fmt: skip
_FLOATS = ("seconds", "per_second")

# The gateway errors a flaky upstream produces, in the order a burst cycles them.
SERVER_ERROR_CYCLE = (500, 502, 503, 504)

# How many bytes of title make a record absurd rather than merely long.
HUGE_TITLE_LENGTH = 100 * 1024
# gzip_bomb's and deep_nesting's sizes when the fault names none.
GZIP_BOMB_MIB = 1024
NESTING_DEPTH = 100_000


@dataclass(frozen=True)
class Fault:
    """One misbehaviour to inject; `FAULT_KINDS` says what each kind does."""

    kind: str
    every: int | None = None
    count: int | None = None
    page: int | None = None
    seconds: float | None = None
    retry_after: int | None = None
    status: int | None = None
    in_flight: int | None = None
    per_second: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            known = ", ".join(sorted(FAULT_KINDS))
            raise ValueError(f"unknown fault kind {self.kind!r} (known: {known})")
        required, optional, _ = FAULT_KINDS[self.kind]
        given = {name for name in _PARAMETERS if getattr(self, name) is not None}
        missing = required - given
        if missing:
            raise ValueError(f"fault {self.kind!r} needs {', '.join(sorted(missing))}")
        unused = given - required - optional
        if unused:
            raise ValueError(f"fault {self.kind!r} takes no {', '.join(sorted(unused))}")
        for name in ("every", "count", "in_flight"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"fault {self.kind!r}: {name} must be at least 1")
        if self.per_second is not None and self.per_second <= 0:
            raise ValueError(f"fault {self.kind!r}: per_second must be above 0")
        if self.kind == "throttle" and self.in_flight is None and self.per_second is None:
            raise ValueError("fault 'throttle' needs in_flight or per_second")
        if self.page is not None and self.page < 0:
            raise ValueError(f"fault {self.kind!r}: page must not be negative")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"fault {self.kind!r}: seconds must not be negative")
        if self.retry_after is not None and self.retry_after < -1:
            raise ValueError(f"fault {self.kind!r}: retry_after must be -1 (none) or more")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"fault {self.kind!r}: status must be an HTTP error status")

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Read the CLI form `kind[:name=value,...]`, e.g. `rate_limit:every=3,retry_after=0`."""
        kind, _, params_text = text.strip().partition(":")
        params: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in params_text.split(","))):
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in _PARAMETERS:
                raise ValueError(
                    f"fault {text!r}: expected name=value with a name from {_PARAMETERS}"
                )
            params[name] = value.strip()
        return cls.from_dict({"kind": kind.strip(), **params})

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Fault:
        """Build a Fault from JSON (the control endpoint) or parsed CLI text."""
        if not isinstance(raw, Mapping) or "kind" not in raw:
            raise ValueError(f"a fault needs a 'kind': {raw!r}")
        unknown = set(raw) - {"kind", *_PARAMETERS}
        if unknown:
            raise ValueError(f"fault {raw['kind']!r}: unknown parameter {sorted(unknown)[0]!r}")
        values: dict[str, Any] = {}
        for name in _PARAMETERS:
            value = raw.get(name)
            if value is None:
                continue
            try:
                values[name] = float(value) if name in _FLOATS else _strict_int(value)
            except (TypeError, ValueError):
                raise ValueError(f"fault {raw['kind']!r}: {name} must be a number") from None
        return cls(str(raw["kind"]), **values)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def __str__(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in self.to_dict().items() if k != "kind")
        return f"{self.kind}:{params}" if params else self.kind


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)


def parse_faults(texts: Iterable[str]) -> tuple[Fault, ...]:
    return tuple(Fault.parse(text) for text in texts)


@dataclass(frozen=True)
class Interruption:
    """An error answer a fault puts in place of the real one."""

    status: int
    retry_after: int | None = None  # seconds for the Retry-After header; None sends none
    gateway: bool = False  # answered by the API gateway (gateway_fault), in its own shape


class FaultInjector:
    """Decides which request misbehaves, from request counters.

    Thread-safe: the server handles requests on many threads at once.
    """

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: tuple[Fault, ...] = tuple(faults)
        self._requests = 0
        self._server_errors_sent = 0
        self._resets_done: dict[Fault, int] = {}

    @property
    def faults(self) -> tuple[Fault, ...]:
        return self._faults

    def replace(self, faults: Iterable[Fault]) -> None:
        """Install new faults; counting starts again so `every=3` means the third from now."""
        faults = tuple(faults)
        with self._lock:
            self._faults = faults
            self._reset_locked()

    def reset_counters(self) -> None:
        with self._lock:
            self._reset_locked()

    def _reset_locked(self) -> None:
        self._requests = 0
        self._server_errors_sent = 0
        self._resets_done.clear()

    def _of_kind(self, kind: str) -> list[Fault]:
        return [fault for fault in self._faults if fault.kind == kind]

    def has(self, kind: str) -> bool:
        return any(fault.kind == kind for fault in self._faults)

    # -- per request -------------------------------------------------------

    def count_resource_request(self) -> Interruption | None:
        """Count one resource GET and say whether rate limiting or an outage eats it."""
        with self._lock:
            self._requests += 1
            number = self._requests
            for fault in self._of_kind("rate_limit"):
                if number % fault.every == 0:
                    retry_after = 1 if fault.retry_after is None else fault.retry_after
                    return Interruption(429, None if retry_after == -1 else retry_after)
            for fault in self._of_kind("server_error"):
                count = fault.count or 1
                # A burst of `count` failures starting at request `every`, then again
                # at 2*every, ...: position within the cycle decides.
                if number >= fault.every and (number - fault.every) % fault.every < count:
                    status = fault.status
                    if status is None:
                        status = SERVER_ERROR_CYCLE[self._server_errors_sent % 4]
                    self._server_errors_sent += 1
                    return Interruption(status)
            for fault in self._of_kind("gateway_fault"):
                if number % (fault.every or 1) == 0:
                    return Interruption(fault.status or 503, gateway=True)
        return None

    def throttle(self) -> Fault | None:
        return next(iter(self._of_kind("throttle")), None)

    def token_uses(self) -> int | None:
        """How many resource requests one token may serve (token_expiry), or None."""
        limits = [fault.every for fault in self._of_kind("token_expiry")]
        return min(limits) if limits else None

    def token_endpoint_status(self) -> int | None:
        for fault in self._of_kind("token_down"):
            return fault.status or 503
        return None

    def delay_seconds(self) -> float:
        return sum(fault.seconds for fault in self._of_kind("slow"))

    def page_fault(self, kind: str, start: int) -> bool:
        """Whether a page fault of `kind` hits the page beginning at item `start`."""
        return any(fault.page == start for fault in self._of_kind(kind))

    def page_fault_of(self, kind: str, start: int) -> Fault | None:
        """The fault of `kind` that hits the page beginning at item `start`, if any."""
        return next((fault for fault in self._of_kind(kind) if fault.page == start), None)

    def should_reset(self, start: int) -> bool:
        """Whether to drop the connection on the page at `start` (counts the drop)."""
        with self._lock:
            for fault in self._of_kind("reset"):
                if fault.page != start:
                    continue
                done = self._resets_done.get(fault, 0)
                if fault.count is None or done < fault.count:
                    self._resets_done[fault] = done + 1
                    return True
        return False

    def bad_record_every(self) -> int | None:
        for fault in self._of_kind("bad_records"):
            return fault.every
        return None

    def unknown_fields_every(self) -> int | None:
        """Every how many records one gets a never-seen enum value, or None: fault off."""
        for fault in self._of_kind("unknown_fields"):
            return fault.every or UNSEEN_VALUE_EVERY
        return None


# The corruptions bad_records cycles through; OpenClassrooms adds an unknown status.
COURSERA_CORRUPTIONS = ("missing_id", "title_int", "title_null", "title_huge")
OPENCLASSROOMS_CORRUPTIONS = (*COURSERA_CORRUPTIONS, "status_unknown")


def corrupt_record(
    record: dict[str, Any], corruption: str, id_field: str, title_field: str
) -> dict[str, Any]:
    """Return a copy of a catalog record damaged the way `corruption` names."""
    damaged = dict(record)
    if corruption == "missing_id":
        damaged.pop(id_field, None)
    elif corruption == "title_int":
        damaged[title_field] = 404
    elif corruption == "title_null":
        damaged[title_field] = None
    elif corruption == "title_huge":
        damaged[title_field] = ("Ω" + "x" * 99) * (HUGE_TITLE_LENGTH // 100)
    elif corruption == "status_unknown":
        damaged["status"] = "maintenance-mode"
    else:  # pragma: no cover - the tuples above are the only callers' source
        raise ValueError(corruption)
    return damaged


# What unknown_fields adds to every record: keys no contract or adapter knows.
UNSEEN_FIELDS: dict[str, Any] = {"dataRegion": "eu-west-1", "featureFlags": {"aiCoach": True}}
UNSEEN_VALUE_EVERY = 5


def with_unseen_fields(
    record: dict[str, Any], position: int, every: int, enum: tuple[str, str] | None
) -> dict[str, Any]:
    """A copy of `record` with UNSEEN_FIELDS and, at every `every`-th position, the
    collection's never-seen enum value `enum` (field, value) in place of its own."""
    changed = {**record, **UNSEEN_FIELDS}
    if enum is not None and (position + 1) % every == 0:
        changed[enum[0]] = enum[1]
    return changed


def corruption_at(position: int, every: int, corruptions: tuple[str, ...]) -> str | None:
    """Which corruption (if any) the record at zero-based `position` gets."""
    if (position + 1) % every:
        return None
    return corruptions[((position + 1) // every - 1) % len(corruptions)]


def gzip_bomb(body: bytes, mib: int) -> bytes:
    """`body` and `mib` MiB of spaces after it, gzip-compressed: a JSON body still, once
    decoded, about a thousand times its compressed size. Made a MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip format
    spaces = b" " * (1 << 20)
    parts = [compressor.compress(body)]
    parts.extend(compressor.compress(spaces) for _ in range(mib))
    parts.append(compressor.flush())
    return b"".join(parts)


def deeply_nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth
