"""Read and validate the YAML configuration into frozen dataclasses.

Every problem is reported at once, each naming the key that is wrong, so an
operator fixes the file in one pass instead of one error per run. Every value is
bounded by what it means (a group name, an id, a URL, a number of seconds), the
file by what a configuration can need, and the report by what a person reads.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from lo_sync.errors import ConfigError
from lo_sync.http.client import DEFAULT_CONCURRENCY, DEFAULT_REQUEST_DEADLINE
from lo_sync.http.transport import DEFAULT_MAX_RESPONSE_MB
from lo_sync.limits import (
    DEFAULT_MAX_RUNTIME,
    DURATION_PROBLEM,
    HTTP_CEILINGS,
    MAX_CONFIG_KB,
    MAX_PATH_LENGTH,
    MAX_URL_LENGTH,
    TEXT_BOUNDS,
    bounded_problems,
    parse_duration,
    shortened,
    text_problem,
)
from lo_sync.providers import PROVIDERS
from lo_sync.redact import register_secret
from lo_sync.store.database import DEFAULT_BUSY_TIMEOUT

ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "LO_SYNC_CONFIG"
# The most `busy_timeout` may say: a night must not wait hours on a forgotten sqlite3 shell.
MAX_BUSY_TIMEOUT = 600.0


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader with two YAML 1.1 traps closed.

    Numbers stay text as written: YAML 1.1 reads `organization_id: 012345` as octal
    (5349) and `12:30` as 750, silently changing an id. Settings that are numbers
    (the http: section) are converted where they are read. A key given twice is an
    error: otherwise the last one wins and a whole provider block can vanish.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:  # `? [a, b]`: SafeLoader's own message, not a TypeError
                raise yaml.constructor.ConstructorError(
                    None, None, "found unhashable key", key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NUMBER_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 6
    # Upper bound for any single wait, including a provider's Retry-After:
    # a provider asking for an hour must not hold the nightly job hostage.
    max_retry_wait: float = 60.0
    page_size: int | None = None  # None = the largest the provider's contract allows
    # One request, headers and body, however slowly its bytes arrive (seconds).
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    # One answer's body once decoded (MiB): a gzip bomb stops here.
    max_response_mb: int = DEFAULT_MAX_RESPONSE_MB
    # Requests in flight when a listing's total is known (1: one page at a time);
    # fewer while the provider throttles (http/gate.py).
    concurrency: int = DEFAULT_CONCURRENCY
    max_requests_per_second: float | None = None  # None: only the gate's limit


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    org_id: str
    client_id: str
    client_secret: str = field(repr=False)
    group: str
    base_url: str
    token_url: str
    scope: str | None = None  # the OAuth2 scope the token request asks for; None: none


@dataclass(frozen=True)
class Config:
    path: Path | None
    database: Path
    providers: dict[str, ProviderConfig]
    http: HttpSettings = HttpSettings()
    warnings: tuple[str, ...] = ()
    max_runtime: float = DEFAULT_MAX_RUNTIME  # seconds; --max-runtime overrides it
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT


def resolve_config_path(option: str | None) -> Path:
    return Path(option or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path) -> Config:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_KB * 1024 + 1)
        if len(data) > MAX_CONFIG_KB * 1024:
            raise ConfigError(
                f"config file {path} is larger than {MAX_CONFIG_KB} KB; a configuration "
                "is a few hundred bytes (is --config pointing at the right file?)"
            )
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found (use --config FILE or set {CONFIG_ENV}; "
            "config.example.yaml shows every key)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        document = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    config = parse_config(document, base_dir=path.parent, source=str(path))
    warning = _literal_secret_warning(path, document)
    return dataclasses.replace(config, path=path, warnings=(warning,) if warning else ())


def parse_config(document: Any, base_dir: Path, source: str = "config") -> Config:
    problems: list[str] = []
    if not isinstance(document, dict):
        raise ConfigError("the file must be a YAML mapping with 'database' and 'providers'", source)

    _unknown_keys(
        document, {"database", "providers", "http", "max_runtime", "busy_timeout"}, "", problems
    )

    raw_database = document.get("database", "lo-sync.db")
    database = _expand(raw_database, "database", problems)
    if not isinstance(database, str) or not database.strip():
        if database is not None or not isinstance(raw_database, str):
            # For text, None means _expand already named the missing variable.
            problems.append("database: must be a file path")
        database = "lo-sync.db"

    http = _parse_http(document.get("http"), problems)
    max_runtime = DEFAULT_MAX_RUNTIME
    if "max_runtime" in document:
        try:
            max_runtime = parse_duration(document["max_runtime"])
        except ValueError:
            problems.append(f"max_runtime: {DURATION_PROBLEM}")
    busy_timeout = _parse_busy_timeout(document.get("busy_timeout"), problems)

    providers: dict[str, ProviderConfig] = {}
    section = document.get("providers")
    if section is None:
        problems.append("providers: missing (list at least one of: " + ", ".join(PROVIDERS) + ")")
    elif not isinstance(section, dict) or not section:
        problems.append("providers: must be a mapping of provider name to settings")
    else:
        for name, settings in section.items():
            if name not in PROVIDERS:
                problems.append(
                    f"providers.{shortened(name)}: unknown provider (known: {', '.join(PROVIDERS)})"
                )
                continue
            parsed = _parse_provider(str(name), settings, problems)
            if parsed:
                providers[name] = parsed

    db_path = _database_path(database, problems)
    if problems:
        raise ConfigError(bounded_problems(problems), source)
    if not db_path.is_absolute():
        db_path = base_dir / db_path
    return Config(
        None, db_path, providers, http, max_runtime=max_runtime, busy_timeout=busy_timeout
    )


def _parse_busy_timeout(raw: Any, problems: list[str]) -> float:
    if raw is None:
        return DEFAULT_BUSY_TIMEOUT
    number = _as_number(raw, float)
    if number is None or not 0 <= number <= MAX_BUSY_TIMEOUT:
        problems.append(f"busy_timeout: must be a number of seconds from 0 to {MAX_BUSY_TIMEOUT:g}")
        return DEFAULT_BUSY_TIMEOUT
    return number


def _database_path(database: str, problems: list[str]) -> Path:
    if len(database) > MAX_PATH_LENGTH:
        problems.append(
            f"database: {len(database):,} characters long; a file path has at most "
            f"{MAX_PATH_LENGTH:,}"
        )
        return Path("lo-sync.db")
    # Text the file system cannot take fails later as a bare ValueError; say so here.
    try:
        if "\0" in database:
            raise ValueError
        database.encode(sys.getfilesystemencoding(), "surrogateescape")
        return Path(database).expanduser()
    except (ValueError, UnicodeError, RuntimeError):  # RuntimeError: ~user with no home
        problems.append(f"database: {database!r} is not a usable file path")
        return Path("lo-sync.db")


def _parse_provider(name: str, settings: Any, problems: list[str]) -> ProviderConfig | None:
    provider = PROVIDERS[name]
    prefix = f"providers.{name}"
    if not isinstance(settings, dict):
        problems.append(f"{prefix}: must be a mapping with {provider.org_key}, client_id, ...")
        return None
    required = [provider.org_key, "client_id", "client_secret", "group"]
    optional = {"base_url": provider.default_base_url, "token_url": provider.default_token_url}
    _unknown_keys(settings, {*required, *optional, "scope"}, prefix + ".", problems)

    values: dict[str, str] = {}
    for key in required:
        raw = settings.get(key)
        if raw is None:
            problems.append(f"{prefix}.{key}: missing")
            continue
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            problems.append(f"{prefix}.{key}: must be a string, got {type(raw).__name__}")
            continue
        value = _expand(str(raw), f"{prefix}.{key}", problems)
        if value is not None and not value.strip():
            problems.append(f"{prefix}.{key}: must not be empty")
        elif value is not None:
            bound = TEXT_BOUNDS["org" if key == provider.org_key else key]
            problem = text_problem(value, bound)
            if problem:
                problems.append(f"{prefix}.{key}: {problem}")
            else:
                values[key] = value
    for key, default in optional.items():
        raw = settings.get(key, default)
        if not isinstance(raw, str):
            problems.append(f"{prefix}.{key}: must be a URL string")
            continue
        value = _expand(raw, f"{prefix}.{key}", problems)
        if value is not None and len(value) > MAX_URL_LENGTH:
            problems.append(
                f"{prefix}.{key}: {len(value):,} characters long; a URL has at most "
                f"{MAX_URL_LENGTH:,}"
            )
        elif value is not None:
            url_problem = _check_url(value)
            if url_problem:
                problems.append(f"{prefix}.{key}: {url_problem}")
            values[key] = value.rstrip("/")
    scope = _parse_scope(settings.get("scope"), f"{prefix}.scope", problems)
    if len(values) < len(required) + len(optional):
        return None
    register_secret(values["client_secret"])
    return ProviderConfig(
        name=name,
        org_id=values[provider.org_key],
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        group=values["group"],
        base_url=values["base_url"],
        token_url=values["token_url"],
        scope=scope,
    )


def _parse_scope(raw: Any, key: str, problems: list[str]) -> str | None:
    """The OAuth2 scope to ask for; None when the key is absent or left empty (`scope:`)."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        problems.append(
            f"{key}: must be text, the scope names separated by spaces, got {type(raw).__name__}"
        )
        return None
    value = _expand(str(raw), key, problems)
    if value is not None and not value.strip():
        problems.append(f"{key}: must not be empty; leave the key out to ask for no scope")
    elif value is not None:
        problem = text_problem(value, TEXT_BOUNDS["scope"])
        if problem:
            problems.append(f"{key}: {problem}")
        else:
            return value
    return None


def _parse_http(section: Any, problems: list[str]) -> HttpSettings:
    if section is None:
        return HttpSettings()
    if not isinstance(section, dict):
        problems.append("http: must be a mapping")
        return HttpSettings()
    defaults = HttpSettings()
    _unknown_keys(section, set(defaults.__dataclass_fields__), "http.", problems)
    values: dict[str, Any] = {}
    for key in ("connect_timeout", "read_timeout", "max_retry_wait", "request_deadline"):
        if key in section:
            number = _as_number(section[key], float)
            if number is None or number <= 0:
                problems.append(f"http.{key}: must be a positive number of seconds")
            elif number > HTTP_CEILINGS[key]:
                problems.append(f"http.{key}: at most {HTTP_CEILINGS[key]:,g} seconds")
            else:
                values[key] = number
    if "max_requests_per_second" in section:
        number = _as_number(section["max_requests_per_second"], float)
        ceiling = HTTP_CEILINGS["max_requests_per_second"]
        if number is None or number <= 0:
            problems.append("http.max_requests_per_second: must be a positive number")
        elif number > ceiling:
            problems.append(f"http.max_requests_per_second: at most {ceiling:,g}")
        else:
            values["max_requests_per_second"] = number
    for key in ("max_attempts", "page_size", "max_response_mb", "concurrency"):
        if key in section:
            number = _as_number(section[key], int)
            if number is None or number < 1:
                problems.append(f"http.{key}: must be a positive integer")
            elif number > HTTP_CEILINGS[key]:
                problems.append(f"http.{key}: at most {HTTP_CEILINGS[key]:,g}")
            else:
                values[key] = number
    return HttpSettings(**{**defaults.__dict__, **values})


def _as_number(raw: Any, kind: type) -> Any:
    """The loader keeps numbers as text; a number setting is converted here."""
    if isinstance(raw, bool) or (kind is int and isinstance(raw, float)):
        return None
    try:
        number = kind(raw) if isinstance(raw, str | int | float) else None
    except ValueError:
        return None
    # "nan" and "inf" read as floats; no timeout or wait can be either.
    return number if number is None or math.isfinite(number) else None


def _unknown_keys(mapping: dict, known: set[str], prefix: str, problems: list[str]) -> None:
    for key in mapping:
        if key not in known:
            expected = ", ".join(sorted(known))
            problems.append(f"{prefix}{shortened(key)}: unknown key (expected one of: {expected})")


def _expand(value: Any, key: str, problems: list[str]) -> Any:
    """Replace ${VAR} with the environment's value; a missing variable is a problem naming both."""
    if not isinstance(value, str):
        return value
    missing = [m for m in ENV_VAR.findall(value) if m not in os.environ]
    if missing:
        problems.append(f"{key}: environment variable {', '.join(missing)} is not set")
        return None
    return ENV_VAR.sub(lambda m: os.environ[m.group(1)], value)


def _check_url(url: str) -> str | None:
    """TLS is not optional: plain http is only for the loopback simulator."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 literal)
        return f"not an http(s) URL: {url!r}"
    if parts.scheme not in ("https", "http") or not hostname:
        return f"not an http(s) URL: {url!r}"
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return f"plain http is refused for non-loopback host {parts.hostname!r}; use https"
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _literal_secret_warning(path: Path, document: Any) -> str | None:
    """A secret written into a file others can read is a leak waiting to happen."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    providers = document.get("providers") if isinstance(document, dict) else None
    if not isinstance(providers, dict):
        return None
    literal = [
        name
        for name, settings in providers.items()
        if isinstance(settings, dict)
        and isinstance(settings.get("client_secret"), str)
        and not ENV_VAR.search(settings["client_secret"])
    ]
    if not literal:
        return None
    return (
        f"warning: {path} holds a literal client_secret for {', '.join(map(str, literal))} "
        "and is readable by other users; use ${VAR} or chmod 600"
    )
