"""Simulated OpenClassrooms: its course catalog and learner progress.

Served under /openclassrooms (client_config.py). Paging is HTTP Range on items:
`Range: items=0-49` is answered 206 with `Content-Range: items 0-49/1234` and a
bare JSON array, 200 when the answer holds the whole collection, 416 past the
end. The server caps every slice at `cfg.oc_slice()` items whatever was asked, so a
client must read Content-Range to know where to go on.

Catalog indices 1-3 have fixed day-2 roles: 1 goes archived -> active, 2 active
-> archived, 3 active -> closed (see nights.py for the rest of day 2).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from lo_sync.simulator.client_config import CREDENTIALS, SERVED_AT
from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.faults import OPENCLASSROOMS_CORRUPTIONS, FaultInjector
from lo_sync.simulator.guard import (
    Collection,
    Page,
    ProviderAPI,
    Refusal,
    RequestContext,
    Route,
    TokenRequest,
    records_with_faults,
)
from lo_sync.simulator.learners import (
    ROWS_PER_LEARNER,
    UNDONE_LEARNER,
    UNDONE_ROW,
    Standing,
    email_as_written,
    fresh_pick,
    plan_slots,
    report_layout,
    standing_on_day_two,
)
from lo_sync.simulator.messages import (
    Request,
    Response,
    basic_credentials,
    json_response,
    media_type,
)
from lo_sync.simulator.nights import (
    DAY_SECONDS,
    PINNED,
    catalog_indices,
    description_changes,
    iso,
    orphans,
    snapshot_at,
    title_changes,
)
from lo_sync.simulator.randomness import Draws, draws_for
from lo_sync.simulator.report_order import in_order
from lo_sync.simulator.word_pools import DESCRIPTION_BLURBS, TITLES

TOKEN_LIFETIME = 3600  # seconds
RESOURCES = ("courses", "learners/progress")

_DIGITS = re.compile(r"[0-9]+")  # an organization id
_ITEMS_RANGE = re.compile(r"items=([0-9]+)-([0-9]*)")

_LANGUAGES = (("fr", 0.70), ("en", 0.25), ("es", 0.05))
_LANGUAGE_CODES = {"fr": "fr", "en": "en", "es": "es"}
_STATUSES = (
    ("active", 0.85),
    ("coming-soon", 0.04),
    ("pre-registration", 0.03),
    ("archived", 0.05),
    ("closed", 0.03),
)
RESTORED = 1  # archived on day 1, active on day 2
ARCHIVED = 2  # active on day 1, archived on day 2
CLOSED = 3  # active on day 1, closed on day 2
ROWS = ROWS_PER_LEARNER["openclassrooms"]  # progress rows per learner
# The never-seen enum values unknown_fields puts in a share of records.
COURSE_UNSEEN = ("status", "beta")
PROGRESS_UNSEEN = ("status", "paused")


# -- the API ------------------------------------------------------------------------


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"code": status, "message": message}, headers)


class OpenClassroomsAPI(ProviderAPI):
    name = "openclassrooms"
    token_lifetime = TOKEN_LIFETIME
    organization_id = CREDENTIALS["openclassrooms"]["organization_id"]
    organization_shape = _DIGITS
    foreign_organization = "not a member of organization {}"

    token_path = SERVED_AT["openclassrooms"].token_path
    resources = RESOURCES
    organizations_prefix = SERVED_AT["openclassrooms"].base_path + "/organizations/"

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return error(status, message, headers)

    def token_grant(self, request: Request) -> TokenRequest:
        # OpenClassrooms takes the client only as HTTP Basic, never in the body,
        # and checks it before it reads the body.
        self.refuse_unknown_client(basic_credentials(request.headers))
        kind = media_type(request.headers)
        if kind == "application/json":
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                raise Refusal(400, "body is not valid JSON", oauth="invalid_request") from None
            if not isinstance(body, dict):
                return TokenRequest(None)
            scope = body.get("scope")
            return TokenRequest(body.get("grant_type"), scope if isinstance(scope, str) else "")
        if kind in ("", "application/x-www-form-urlencoded"):
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            values = form.get("grant_type", [])
            return TokenRequest(
                values[0] if len(values) == 1 else None, " ".join(form.get("scope", []))
            )
        raise Refusal(400, f"unsupported body type {kind}", oauth="invalid_request")

    def plan_page(self, request: Request, route: Route, ctx: RequestContext) -> Page | Response:
        cfg, faults = ctx.config, ctx.faults
        if route.resource == "courses":
            collection = self.courses(cfg, faults)
        else:
            collection = self.progress(cfg)
        start, last_wanted = _items_range(request.headers.get_all("Range") or [])

        # range_total_changes: from the second page on, the count grows by 7.
        reported_total = collection.total
        if start > 0 and faults.has("range_total_changes"):
            reported_total += 7
        if collection.total == 0:
            return json_response(200, [], {"Accept-Ranges": "items"})
        if start >= collection.total:
            return error(
                416, "range starts past the end", {"Content-Range": f"items */{reported_total}"}
            )
        return Page(
            start,
            (route.resource, start, last_wanted),
            lambda: _render(collection, start, last_wanted, reported_total, cfg, faults),
        )

    # What variance.py's OpenClassroomsVariance spells otherwise.

    def courses(self, cfg: SimulatorConfig, faults: FaultInjector) -> Collection:
        return _courses(cfg, faults)

    def progress(self, cfg: SimulatorConfig) -> Collection:
        total, size = cfg.openclassrooms_progress, cfg.openclassrooms_courses
        report = ("openclassrooms", cfg.seed, size, cfg.distribution)
        at = in_order(
            cfg.report_order,
            total,
            (*report, cfg.day) if cfg.report_order == "shuffled" else report,
            lambda j: progress_course(j, cfg),
        )
        return Collection(
            total,
            lambda a, b: [progress_row(at(j), cfg.day, cfg) for j in range(a, b)],
            unseen=PROGRESS_UNSEEN,
        )


def _render(
    collection: Collection,
    start: int,
    last_wanted: int | None,
    reported_total: int,
    cfg: SimulatorConfig,
    faults: FaultInjector,
) -> Response:
    # The server caps every answer, whatever was asked: the client must read
    # Content-Range to know where to go on.
    last = min(start + cfg.oc_slice(), collection.total) - 1
    if last_wanted is not None:
        last = min(last, last_wanted)
    items = records_with_faults(collection, start, last + 1, faults)
    if start == 0 and last == collection.total - 1:
        return json_response(200, items, {"Accept-Ranges": "items"})
    content_range = f"items {start}-{last}/{reported_total}"
    return json_response(206, items, {"Accept-Ranges": "items", "Content-Range": content_range})


def _courses(cfg: SimulatorConfig, faults: FaultInjector) -> Collection:
    listing = catalog_indices("openclassrooms", cfg.day, cfg)
    return Collection(
        len(listing) // 2 if faults.has("shrunk") else len(listing),
        lambda a, b: [course_record(i, cfg.day, cfg) for i in listing[a:b]],
        OPENCLASSROOMS_CORRUPTIONS,
        "id",
        "title",
        COURSE_UNSEEN,
    )


def _items_range(values: list[str]) -> tuple[int, int | None]:
    """(first item, last item or None) from the Range header; no header means from 0."""
    if len(values) > 1:
        raise ValueError("more than one Range header")
    text = values[0] if values else "items=0-"
    match = _ITEMS_RANGE.fullmatch(text)
    if not match or (match[2] and int(match[2]) < int(match[1])):
        raise ValueError(f"malformed Range {text!r}, expected items=A-B (zero-based, inclusive)")
    return int(match[1]), int(match[2]) if match[2] else None


# -- the catalog -----------------------------------------------------------------------


class _Course(NamedTuple):
    course_id: int
    title: str
    slug: str
    description: str
    status: str
    language: str
    duration: int
    updated_at: int


@lru_cache(maxsize=65_536)
def _course_core(seed: int, i: int, day: int) -> _Course:
    draws = draws_for(seed, "occourse", i)
    language = draws.weighted(_LANGUAGES)
    title, slug = draws.pick(TITLES[language])
    status = draws.weighted(_STATUSES)
    if i in (0, ARCHIVED, CLOSED, 4):
        status = "active"
    elif i == RESTORED:
        status = "archived"
    description = (
        f"<p>{draws.pick(DESCRIPTION_BLURBS)}</p>"
        f'<p>Prérequis&nbsp;: <a href="https://openclassrooms.com">aucun</a></p>'
    )
    duration = draws.between(2, 80) * 30  # minutes
    updated_at = snapshot_at(1) - draws.between(DAY_SECONDS, 800 * DAY_SECONDS)
    if day == 2:
        changes = draws_for(seed, "occourse-day2", i)
        changed = False
        if title_changes(i, changes):
            title, changed = f"{title} — nouvelle version", True
        if description_changes(i, changes):
            description, changed = f"{description}<p>Mis à jour : nouveaux exercices.</p>", True
        flip = changes.unit()
        new_status = status
        if i == RESTORED:
            new_status = "active"
        elif i == ARCHIVED:
            new_status = "archived"
        elif i == CLOSED:
            new_status = "closed"
        elif i >= PINNED and status == "active" and flip < 0.02:
            new_status = "archived" if flip < 0.012 else "closed"
        elif i >= PINNED and status in ("archived", "closed") and flip < 0.2:
            new_status = "active"
        elif i >= PINNED and status == "coming-soon" and flip < 0.3:
            new_status = "active"
        if new_status != status:
            status, changed = new_status, True
        if changed:
            updated_at = snapshot_at(2) - changes.between(600, 12 * 3600)
    return _Course(
        course_id=1_000_003 + i * 997 + draws.below(997),  # unique, ascending with i
        title=title,
        slug=slug,
        description=description,
        status=status,
        language=_LANGUAGE_CODES[language],
        duration=duration,
        updated_at=updated_at,
    )


def course_record(i: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Catalog record of course index `i` as the `day` night's `/courses` shows it."""
    core = _course_core(cfg.seed, i, day)
    draws = draws_for(cfg.seed, "occourse-extra", i)
    record: dict[str, Any] = {
        "id": core.course_id,
        "title": core.title,
        "description": core.description,
        "status": core.status,
        "language": core.language,
        "duration": core.duration,  # minutes
        "level": draws.weighted((("easy", 0.5), ("medium", 0.35), ("hard", 0.15))),
    }
    image_roll = draws.unit()
    if image_roll < 0.88:
        record["image"] = f"https://static.oc-static.com/courses/{core.course_id}.jpg"
    elif image_roll < 0.94:
        record["image"] = None  # else the key is absent
    record["url"] = (
        f"https://openclassrooms.com/{core.language}/courses/{core.course_id}-{core.slug}"
    )
    record["updatedAt"] = iso(core.updated_at)
    return record


# -- learner progress ---------------------------------------------------------------------


def progress_course(j: int, cfg: SimulatorConfig) -> int:
    """The course index of progress row `j` (in learner order)."""
    n, slot = report_layout("openclassrooms", cfg).locate(j)
    return _plan(cfg, n)[slot]


def _plan(cfg: SimulatorConfig, n: int) -> tuple[int, ...]:
    """Learner `n`'s course indices: four when even, as many as their rows."""
    return _learner_plan(
        cfg.seed, cfg.openclassrooms_courses, n, plan_slots("openclassrooms", cfg, n)
    )


# A shuffled report asks for learners in any order, and a heavy learner's plan is
# long to build: every learner's is kept (tens of MB at a million rows).
@lru_cache(maxsize=262_144)
def _learner_plan(seed: int, size: int, n: int, slots: int) -> tuple[int, ...]:
    """Course index of each of learner `n`'s rows, all different."""
    draws = draws_for(seed, "ocplan", n)
    spares = list(orphans(size))
    used: set[int] = set()
    plan: list[int] = []
    for slot in range(slots):
        if n == UNDONE_LEARNER and slot == 0:
            course = 0 if size else spares.pop(0)
        elif draws.chance(0.005) and spares:  # a course no catalog lists
            course = spares.pop(0)
        else:
            course = fresh_pick(draws, size, lambda i: True, used, spares)
        used.add(course)
        plan.append(course)
    return tuple(plan)


def _advance(changes: Draws, progress: float) -> float:
    return min(100, progress + changes.between(5, 45))


def progress_row(j: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Row `j` of `/learners/progress` on the `day` night."""
    seed = cfg.seed
    n, slot = report_layout("openclassrooms", cfg).locate(j)
    course_index = _plan(cfg, n)[slot]
    course = _course_core(seed, course_index, 1)  # id and duration never change
    draws = draws_for(seed, "ocprog", j)

    day1 = snapshot_at(1)
    started_at = day1 - draws.between(DAY_SECONDS, 600 * DAY_SECONDS)
    state = draws.unit()
    progress = 100 if j == UNDONE_ROW or state < 0.30 else draws.between(0, 99)
    last_activity_at = started_at + int((day1 - started_at) * draws.uniform(0.05, 1.0))
    completed_at = last_activity_at if progress == 100 else None
    email = email_as_written(n, draws)
    sends_time_spent = draws.chance(0.9)

    if day == 2:
        progress, completed_at, last_activity_at = standing_on_day_two(
            seed,
            "ocprog-day2",
            j,
            Standing(progress, completed_at, last_activity_at),
            cfg,
            advance=_advance,
            complete=100,
            undone=80,
        )

    row: dict[str, Any] = {
        "userId": 310_000 + n,
        "email": email,
        "courseId": course.course_id,
        "progress": progress,
    }
    if sends_time_spent:
        # OpenClassrooms reports theoretical time: duration x progress, in minutes.
        row["timeSpent"] = round(course.duration * progress / 100)
    row["status"] = "completed" if completed_at is not None else "in-progress"
    row["startedAt"] = iso(started_at)
    row["completedAt"] = iso(completed_at) if completed_at is not None else None
    row["lastActivityAt"] = iso(last_activity_at)
    return row
