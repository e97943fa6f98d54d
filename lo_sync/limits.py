"""The bounds on what lo-sync reads from its configuration, and how it reports a breach.

Each value is bounded by what it means: an id is a URL path segment, a group name
is written on every course row, a timeout is seconds of one night. A config error
shows what a person reads: the first problems, each cut short, and a count of the rest.
The bounds on what providers send (an answer's size, a request's time) are the
http: settings these ceilings bound, kept with the HTTP layer that enforces them.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")

# A configuration for both providers is under 2 KB; a file far larger is not one.
MAX_CONFIG_KB = 64
# What a config error shows: a person reads ten problems, not three million.
MAX_PROBLEMS_SHOWN = 10
MAX_PROBLEM_CHARS = 300
MAX_KEY_SHOWN = 60


class TextBound(NamedTuple):
    """What a text value is, how long it may be, which characters it may hold, and
    the rule that says so in a problem."""

    means: str
    longest: int
    allowed: re.Pattern[str]
    rule: str


_VSCHAR = re.compile(r"[\x20-\x7e]+")  # what OAuth2 allows in a client id or secret
_SCOPE_TOKEN = r"[\x21\x23-\x5b\x5d-\x7e]+"  # OAuth2's scope-token (RFC 6749 §3.3)
TEXT_BOUNDS = {
    # The id goes into every URL path: nothing in it may end or escape the segment.
    "org": TextBound(
        "an organization id",
        64,
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*"),
        "an organization id is letters, digits and . _ ~ -, starting with a letter or digit",
    ),
    "client_id": TextBound(
        "a client id", 255, _VSCHAR, "a client id is printable ASCII (OAuth2's VSCHAR)"
    ),
    "client_secret": TextBound(
        "a client secret", 1024, _VSCHAR, "a client secret is printable ASCII (OAuth2's VSCHAR)"
    ),
    # Sent as the token request's `scope` form field, as written.
    "scope": TextBound(
        "a scope",
        1024,
        re.compile(f"{_SCOPE_TOKEN}(?: {_SCOPE_TOKEN})*"),
        'a scope is OAuth2 scope names separated by single spaces (printable ASCII, no " or \\)',
    ),
    # Written on every course row the catalog creates.
    "group": TextBound(
        "a group name",
        100,
        re.compile(r"[^\x00-\x1f\x7f-\x9f]+"),
        "a group name has no control characters",
    ),
}
MAX_URL_LENGTH = 2048  # what browsers and most servers accept
MAX_PATH_LENGTH = 4096  # Linux's PATH_MAX

# The largest value of each http setting (seconds, unless the name says otherwise).
HTTP_CEILINGS: dict[str, float] = {
    "connect_timeout": 300,  # a handshake that takes minutes is no connection
    "read_timeout": 3600,
    "max_retry_wait": 3600,
    "request_deadline": 3600,
    "max_attempts": 20,  # with waits capped at max_retry_wait, twenty is already hours
    "page_size": 10_000,  # ten times the largest page either provider serves
    "max_response_mb": 1024,  # a GiB of JSON is no page
    "concurrency": 32,  # each request in flight is a thread and up to two pages held
    "max_requests_per_second": 1000,  # no provider serves a client faster
}

# The whole command's time limit (max_runtime, --max-runtime). A million rows take
# minutes; six hours stops a run started at night before the working day, and
# before a provider that rate-limits every request can hold the next night's run.
DEFAULT_MAX_RUNTIME = 6 * 3600.0
MAX_RUNTIME_CEILING = 24 * 3600.0  # longer, and tonight's run overlaps tomorrow's
_DURATION = re.compile(r"(\d{1,6}(?:\.\d{1,3})?)\s*([smh]?)")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
DURATION_PROBLEM = "must be a duration such as 90s, 30m or 2h, from 1s to 24h"


def text_problem(value: str, bound: TextBound) -> str | None:
    """Why `value` cannot be what `bound` describes, or None; never the value itself."""
    if len(value) > bound.longest:
        return f"{len(value):,} characters long; {bound.means} has at most {bound.longest:,}"
    if not bound.allowed.fullmatch(value):
        return bound.rule
    return None


def first_of(items: list[T], count: int) -> tuple[list[T], int]:
    """The first `count` items, and how many more there are: what a message shows of
    a list that may be any length."""
    return items[:count], max(0, len(items) - count)


def bounded_problems(problems: list[str]) -> list[str]:
    """The first problems, each cut short if need be, and how many more there are."""
    first, more = first_of(problems, MAX_PROBLEMS_SHOWN)
    shown = [p if len(p) <= MAX_PROBLEM_CHARS else p[: MAX_PROBLEM_CHARS - 1] + "…" for p in first]
    if more:
        shown.append(f"… and {more:,} more problem{'s' if more > 1 else ''}")
    return shown


def shortened(key: Any) -> str:
    """A key from the file as a problem names it: its first characters at most."""
    text = str(key)
    return text if len(text) <= MAX_KEY_SHOWN else text[: MAX_KEY_SHOWN - 1] + "…"


def parse_duration(raw: Any) -> float:
    """'90s', '30m', '2h', or a bare number of seconds, as seconds: one second to a day.

    Raises ValueError for anything else.
    """
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = str(raw)
    match = _DURATION.fullmatch(raw.strip()) if isinstance(raw, str) else None
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)] if match else math.nan
    if not 1 <= seconds <= MAX_RUNTIME_CEILING:  # NaN fails too
        raise ValueError(f"{raw!r:.40} {DURATION_PROBLEM}")
    return seconds


def format_duration(seconds: float, days: bool = False) -> str:
    """Seconds the way an operator writes them: 2h, 30m, 90s (and 2d, with `days`)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60))[0 if days else 1 :]:
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# --- safety bounds on what a run may remove (--max-archive, --max-left) -----------------------

_COUNT_OR_SHARE = re.compile(r"\s*(\d{1,10}(?:\.\d{1,6})?)\s*(%?)\s*")


class MostAllowed(NamedTuple):
    """A bound as the command line gives it: at most N things ('25'), or at most a share
    of them ('10%'), as rclone's --max-delete is."""

    text: str
    value: float
    is_share: bool

    @classmethod
    def parse(cls, option: str, text: str) -> MostAllowed:
        """`text` read; a ValueError saying what `option` expects when it is not a
        whole count or a share (a typo must not become no bound at all)."""
        match = _COUNT_OR_SHARE.fullmatch(text or "")
        if match is None or not (match.group(2) or float(match.group(1)).is_integer()):
            raise ValueError(f"{option} {text!r}: expected a count like 25 or a share like 10%")
        return cls(text.strip(), float(match.group(1)), bool(match.group(2)))

    def of(self, total: int) -> int:
        """How many of `total` the bound allows: a share rounds down, as "at most" says."""
        return math.floor(total * self.value / 100) if self.is_share else int(self.value)

    def said(self, total: int, what: str = "") -> str:
        """The bound as a refusal shows it: '10% of 40 active courses = 4', or '15'."""
        allowed = f"{self.of(total):,}"
        return f"{self.text} of {total:,}{what} = {allowed}" if self.is_share else allowed
