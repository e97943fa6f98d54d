"""Program sessions: a YAML file read and checked whole, line by line, against the catalog;
the plan of an import; the session list; and where each learner of a session stands.

The file is the truth for the sessions it names: importing it replaces each named
session's dates, courses and cohort. Sessions the file does not name are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from lo_sync.errors import InputError
from lo_sync.limits import first_of
from lo_sync.providers import PROVIDERS
from lo_sync.providers.fields import listed_email
from lo_sync.store import Store, utc_now
from lo_sync.store.sessions import StoredSession

# Bounds on what one file may hold: a program file is written by hand or exported
# from a planning tool, and these are far above any real one.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_SESSIONS = 500
MAX_COURSES = 200
MAX_COHORT = 10_000
MAX_NAME = 200
MAX_PROBLEMS_SHOWN = 10
MAX_DEPTH = 8  # sessions > a session > courses > a course is 4 levels deep
SESSION_KEYS = ("name", "group", "start", "end", "courses", "cohort")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Session:
    """One session as the file gives it, with the line each part is on."""

    stored: StoredSession
    line: int
    course_lines: tuple[int, ...]


@dataclass
class SessionsFile:
    path: Path
    sessions: list[Session] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, node: yaml.Node | int, text: str) -> None:
        line = node if isinstance(node, int) else node.start_mark.line + 1
        self.problems.append(f"{self.path}:{line}: {text}")


def today() -> str:
    """The day, in UTC as every timestamp lo-sync stores, that decides open and closed."""
    return datetime.now(UTC).date().isoformat()


def state(session: StoredSession, on: str) -> str:
    """'upcoming' before its start, 'closed' after its end (both days included), else 'open'."""
    if session.start and on < session.start:
        return "upcoming"
    if session.end and on > session.end:
        return "closed"
    return "open"


# --- reading the file -----------------------------------------------------------------------


def read_sessions_file(path: Path) -> SessionsFile:
    """Parse the file and check its shape; the catalog is checked by `check_catalog`."""
    read = SessionsFile(path)
    node = _compose(path, _read_text(path))
    if node is None or not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else 1
        raise InputError(f"{path}:{line}: expected a mapping with the key sessions")
    top = _pairs(read, node, ("sessions",))
    sessions = top.get("sessions")
    if sessions is None:
        read.problem(node, "no key sessions: list the sessions under it")
    elif not isinstance(sessions, yaml.SequenceNode) or not sessions.value:
        read.problem(sessions, "sessions: expected a list of sessions")
    elif len(sessions.value) > MAX_SESSIONS:
        read.problem(sessions, f"{len(sessions.value)} sessions, above the bound {MAX_SESSIONS}")
    else:
        seen: dict[str, int] = {}
        for item in sessions.value:
            session = _session(read, item)
            if session is None:
                continue
            name = session.stored.name
            if name in seen:
                read.problem(session.line, f"session {name!r} already on line {seen[name]}")
                continue
            seen[name] = session.line
            read.sessions.append(session)
    return read


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path}: {size:,} bytes, above the bound of {MAX_FILE_BYTES:,}")
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: a folder, not a sessions file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start:,})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _compose(path: Path, text: str) -> yaml.Node | None:
    """The document's node tree, which keeps every value's line.

    The events are read first, lazily, and two shapes are refused as soon as they
    start: an alias (one alias repeated in a list of aliases is how a few lines of
    YAML grow into millions of values) and nesting deeper than a sessions file has
    (PyYAML's scanner slows with every open level: 2 MiB of `[` would take hours)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                raise InputError(f"{path}:{line}: YAML aliases (*name) are not accepted here")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"{path}:{line}: nested too deep to be a sessions file")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError(f"{path}:{line}: not valid YAML ({exc.problem or exc})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None


def _pairs(read: SessionsFile, node: yaml.MappingNode, keys: tuple[str, ...]) -> dict:
    """The mapping's values by key; an unknown or repeated key is a problem on its line."""
    found: dict[str, yaml.Node] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name not in keys:
            read.problem(key, f"unknown key {name!r}; expected {', '.join(keys)}")
        elif name in found:
            read.problem(key, f"{name} given twice")
        else:
            found[name] = value
    return found


def _text(read: SessionsFile, node: yaml.Node | None, what: str, bound: int) -> str | None:
    if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
        read.problem(node or 0, f"{what}: expected a text")
        return None
    value = node.value.strip()
    if len(value) > bound:
        read.problem(node, f"{what}: {len(value)} characters, above the bound {bound}")
        return None
    return value


def _day(read: SessionsFile, node: yaml.Node | None, what: str) -> str | None:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "null", "~")):
        return None
    text = node.value.strip() if isinstance(node, yaml.ScalarNode) else ""
    try:
        if not _DAY.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        read.problem(node, f"{what}: {text or '(not a text)'!r} is not a day as YYYY-MM-DD")
        return None


def _session(read: SessionsFile, node: yaml.Node) -> Session | None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        read.problem(node, "a session: expected a mapping with name, group and courses")
        return None
    values = _pairs(read, node, SESSION_KEYS)
    if "name" not in values:
        read.problem(node, "a session without a name")
    name = _text(read, values["name"], "name", MAX_NAME) if "name" in values else None
    label = f"session {name!r}: " if name else ""
    if "group" not in values:
        read.problem(node, f"{label}no group: name the synchronized group")
    group = None
    if "group" in values:
        group = _text(read, values["group"], f"{label}group", MAX_NAME)
    start = _day(read, values.get("start"), f"{label}start")
    end = _day(read, values.get("end"), f"{label}end")
    if start and end and end < start:
        read.problem(values["end"], f"{label}ends on {end}, before it starts on {start}")
    courses, course_lines = _courses(read, values.get("courses"), node, label)
    cohort = _cohort(read, values.get("cohort"), label)
    # A session with problems is still returned, so that the catalog check names the
    # rest of them too; `refuse` stops the import whenever there is any.
    if name is None or group is None:
        return None
    stored = StoredSession(name, group, start, end, tuple(courses), tuple(sorted(cohort)))
    return Session(stored, line, tuple(course_lines))


def _courses(read, node, session_node, label) -> tuple[list[tuple[str, str]], list[int]]:
    if node is None:
        read.problem(session_node, f"{label}no courses: list them as - provider: id")
        return [], []
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        read.problem(node, f"{label}courses: expected a list of - provider: id")
        return [], []
    if len(node.value) > MAX_COURSES:
        read.problem(node, f"{label}{len(node.value)} courses, above the bound {MAX_COURSES}")
        return [], []
    courses, lines, seen = [], [], {}
    for item in node.value:
        line = item.start_mark.line + 1
        if (
            not isinstance(item, yaml.MappingNode)
            or len(item.value) != 1
            or not all(isinstance(n, yaml.ScalarNode) for n in item.value[0])
        ):
            read.problem(item, f"{label}a course: expected one provider: id, e.g. coursera: abc")
            continue
        provider_node, id_node = item.value[0]
        provider, external_id = provider_node.value.strip(), id_node.value.strip()
        if provider not in PROVIDERS:
            read.problem(
                provider_node,
                f"{label}unknown provider {provider!r}; expected {', '.join(sorted(PROVIDERS))}",
            )
            continue
        if not external_id or len(external_id) > MAX_NAME:
            read.problem(id_node, f"{label}{provider}: expected a course id")
            continue
        if (provider, external_id) in seen:
            read.problem(
                item,
                f"{label}course {provider}: {external_id} already on line "
                f"{seen[(provider, external_id)]}",
            )
            continue
        seen[(provider, external_id)] = line
        courses.append((provider, external_id))
        lines.append(line)
    return courses, lines


def _cohort(read: SessionsFile, node: yaml.Node | None, label: str) -> set[str]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "null", "~")):
        return set()
    if not isinstance(node, yaml.SequenceNode):
        read.problem(node, f"{label}cohort: expected a list of e-mail addresses")
        return set()
    if len(node.value) > MAX_COHORT:
        count = len(node.value)
        read.problem(node, f"{label}{count:,} in the cohort, above the bound {MAX_COHORT:,}")
        return set()
    cohort: dict[str, int] = {}
    for item in node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.ScalarNode):
            read.problem(item, f"{label}a cohort entry must be an e-mail address, not a list")
            continue
        email, problem = listed_email(item.value)
        if email is None:
            read.problem(item, f"{label}{problem}")
        elif email in cohort:
            read.problem(item, f"{label}{email} already on line {cohort[email]}")
        else:
            cohort[email] = line
    return set(cohort)


# --- the catalog ------------------------------------------------------------------------------


def check_catalog(store: Store, read: SessionsFile) -> list[str]:
    """Problems with what the file names against the catalog (added to `read`), and the
    warnings that do not stop an import: an archived course."""
    groups = store.sessions.groups()
    keys = [course for s in read.sessions for course in s.stored.courses]
    catalog = store.sessions.catalog_courses(keys)
    warnings = []
    for session in read.sessions:
        stored = session.stored
        label = f"session {stored.name!r}: "
        if stored.group not in groups:
            known = ", ".join(sorted(groups)) or "none yet: run sync-catalog first"
            read.problem(session.line, f"{label}unknown group {stored.group!r} (groups: {known})")
            continue
        for (provider, external_id), line in zip(stored.courses, session.course_lines, strict=True):
            course = catalog.get((provider, external_id))
            if course is None:
                read.problem(
                    line, f"{label}unknown course {provider}: {external_id} (not in its catalog)"
                )
            elif stored.group not in course["groups"]:
                read.problem(
                    line,
                    f"{label}course {provider}: {external_id} is not in the group "
                    f"{stored.group!r}'s catalog",
                )
            elif course["archived"]:
                warnings.append(
                    f"{read.path}:{line}: {label}course {provider}: {external_id} "
                    f"({course['title']}) is archived: learners cannot start it"
                )
    return warnings


def refuse(read: SessionsFile) -> None:
    if not read.problems:
        return
    shown, more = first_of(read.problems, MAX_PROBLEMS_SHOWN)
    raise InputError(
        "; ".join(shown) + (f"; and {more} more" if more else "") + "; nothing imported"
    )


# --- the import -------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    changes: list[tuple[str, str, str]]  # (action, session name, detail)
    counts: dict[str, int]
    left_alone: list[str]  # stored sessions the file does not name
    to_write: list[StoredSession]


def plan_import(store: Store, read: SessionsFile) -> ImportPlan:
    stored = store.sessions.all()
    changes, to_write = [], []
    counts = {"in_file": len(read.sessions), "created": 0, "updated": 0, "unchanged": 0}
    for session in read.sessions:
        new = session.stored
        old = stored.get(new.name)
        if old is None:
            counts["created"] += 1
            detail = f"{len(new.courses)} courses, cohort {len(new.cohort)}"
            changes.append(("create", new.name, detail))
            to_write.append(new)
        elif old == new:
            counts["unchanged"] += 1
        else:
            counts["updated"] += 1
            changes.append(("update", new.name, _difference(old, new)))
            to_write.append(new)
    names = {s.stored.name for s in read.sessions}
    left_alone = [name for name in stored if name not in names]
    return ImportPlan(changes, counts, left_alone, to_write)


def _difference(old: StoredSession, new: StoredSession) -> str:
    parts = [
        f"{what}: {a or '-'} → {b or '-'}"
        for what, a, b in (
            ("group", old.group, new.group),
            ("start", old.start, new.start),
            ("end", old.end, new.end),
        )
        if a != b
    ]
    added = [c for c in new.courses if c not in old.courses]
    removed = [c for c in old.courses if c not in new.courses]
    if added or removed:
        parts.append(
            "courses: "
            + ", ".join([f"+{p}: {e}" for p, e in added] + [f"-{p}: {e}" for p, e in removed])
        )
    elif old.courses != new.courses:
        parts.append("courses reordered")
    joined = len(set(new.cohort) - set(old.cohort))
    left = len(set(old.cohort) - set(new.cohort))
    if joined or left:
        parts.append(f"cohort: +{joined} -{left}")
    return "; ".join(parts)


def apply_import(store: Store, plan: ImportPlan) -> None:
    now = utc_now()
    with store.transaction():
        for session in plan.to_write:
            store.sessions.replace(session, now)


# --- the list ---------------------------------------------------------------------------------


def list_rows(store: Store) -> list[dict]:
    on = today()
    return [
        {
            "name": s.name,
            "group": s.group,
            "start": s.start,
            "end": s.end,
            "state": state(s, on),
            "courses": len(s.courses),
            "cohort": len(s.cohort),
        }
        for s in store.sessions.all().values()
    ]
