"""Keep secrets out of every message lo-sync prints, logs or stores.

Secrets are registered as they are read (config) or received (tokens); every
outgoing text goes through `redact`. A pattern pass also catches bearer tokens
and credentials in URLs that were never registered, e.g. inside a library's
exception text.
"""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]+"), r"\1***"),
    (re.compile(r"(?i)((?:access_token|client_secret|token)=)[^&\s\"']+"), r"\1***"),
    (re.compile(r"(?i)(\"(?:access_token|client_secret)\"\s*:\s*\")[^\"]*"), r"\1***"),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1***@"),
]


def register_secret(value: str | None) -> None:
    """Remember a value that must never be shown. Very short values are ignored:
    masking every "a" in a message would hide more than it protects."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: object) -> str:
    out = str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in out:
            out = out.replace(secret, "***")
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return out


class RedactingFilter(logging.Filter):
    """Applied to lo-sync's log handlers so that no record leaves with a secret in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
