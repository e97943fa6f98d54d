"""Simulated Coursera for Business: its API and enrollment reports.

Served under /coursera (client_config.py), with start/limit paging, the
`{"elements", "paging", "linked"}` envelope and Coursera's error body. Records
are built by index from `randomness` draws; the catalog's records come from
`coursera_catalog`, the indices a night lists from `nights`, the learners and how
report rows fall to them from `learners`.

Report rows carry each learner's
content under a program; the second-program slot sometimes repeats slot 0's
content under another program (one learner in one course under two programs),
and a few rows name content no catalog lists.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lo_sync.simulator.client_config import CREDENTIALS, SERVED_AT
from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.coursera_catalog import (
    CONTENT_UNSEEN,
    PROGRAM_NAMES,
    content_core,
    content_record,
    content_type_of,
    program_count,
    program_id,
    program_record,
)
from lo_sync.simulator.distribution import RowLayout
from lo_sync.simulator.faults import COURSERA_CORRUPTIONS, FaultInjector
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
    identity,
    plan_slots,
    report_layout,
    standing_on_day_two,
)
from lo_sync.simulator.messages import (
    Request,
    Response,
    basic_credentials,
    form_fields,
    json_response,
    media_type,
    query_bool,
    query_int,
)
from lo_sync.simulator.nights import (
    DAY_SECONDS,
    catalog_indices,
    orphans,
    snapshot_at,
)
from lo_sync.simulator.randomness import Draws, draws_for, short_id
from lo_sync.simulator.report_order import in_order

TOKEN_LIFETIME = 1799  # seconds, as Coursera answers
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # the contract's choice: above this is a 400
RESOURCES = ("contents", "programs", "enrollmentReports")

_ORG_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # the encoded id, never a slug
_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    411: "LENGTH_REQUIRED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

ROWS = ROWS_PER_LEARNER["coursera"]  # report rows per learner
# The never-seen enum value unknown_fields puts in a share of report rows.
ROW_UNSEEN = ("membershipState", "GUEST")
_SPECIALIZATION_SLOT = 5
_SECOND_PROGRAM_SLOT = 4


# -- the API ------------------------------------------------------------------------


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    code = _ERROR_CODES.get(status, "ERROR")
    return json_response(status, {"errorCode": code, "message": message, "details": None}, headers)


class CourseraAPI(ProviderAPI):
    name = "coursera"
    token_lifetime = TOKEN_LIFETIME
    organization_id = CREDENTIALS["coursera"]["org_id"]
    organization_shape = _ORG_ID
    foreign_organization = "not entitled to organization {}"

    token_path = SERVED_AT["coursera"].token_path
    resources = RESOURCES
    organizations_prefix = SERVED_AT["coursera"].base_path + "/businesses.v1/"

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return error(status, message, headers)

    def token_grant(self, request: Request) -> TokenRequest:
        kind = media_type(request.headers)
        if kind not in ("", "application/x-www-form-urlencoded"):
            raise Refusal(
                400,
                "expected a form body (application/x-www-form-urlencoded)",
                oauth="invalid_request",
            )
        form = form_fields(request.body)
        # Basic auth, or (some clients) the credentials in the form body.
        credentials = basic_credentials(request.headers)
        if credentials is None and "client_id" in form:
            credentials = (form["client_id"][0], (form.get("client_secret") or [""])[0])
        self.refuse_unknown_client(credentials)
        grant_types = form.get("grant_type", [])
        return TokenRequest(
            grant_types[0] if len(grant_types) == 1 else None, " ".join(form.get("scope", []))
        )

    def plan_page(self, request: Request, route: Route, ctx: RequestContext) -> Page:
        cfg, faults, query = ctx.config, ctx.faults, request.query
        start = query_int(query, "start", 0)
        limit = query_int(query, "limit", DEFAULT_LIMIT)
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        flag = False
        if route.resource == "enrollmentReports":
            flag = query_bool(query, "includeS12n")
            collection = self.reports(cfg, flag)
        elif route.resource == "programs":
            query_bool(query, "excludeContent")  # validated; output is the same
            collection = Collection(
                program_count(cfg), lambda a, b: [program_record(k, cfg) for k in range(a, b)]
            )
        else:
            collection = self.contents(cfg, faults)

        def render() -> Response:
            stop = min(start + limit, collection.total)
            elements = records_with_faults(collection, start, stop, faults) if start < stop else []
            paging = self.paging(cfg, route.resource, start, limit, collection.total, faults)
            return json_response(200, {"elements": elements, "paging": paging, "linked": {}})

        return Page(start, (route.resource, start, limit, flag), render)

    # What coursera_variance.CourseraVariance spells otherwise:

    def contents(self, cfg: SimulatorConfig, faults: FaultInjector) -> Collection:
        listing = catalog_indices("coursera", cfg.day, cfg)
        total = len(listing) // 2 if faults.has("shrunk") else len(listing)
        return Collection(
            total,
            lambda a, b: [content_record(i, cfg.day, cfg) for i in listing[a:b]],
            COURSERA_CORRUPTIONS,
            "contentId",
            "name",
            CONTENT_UNSEEN,
        )

    def reports(self, cfg: SimulatorConfig, include_specializations: bool) -> Collection:
        total = enrollment_total(cfg, include_specializations)
        report = (
            "coursera",
            cfg.seed,
            cfg.coursera_contents,
            cfg.distribution,
            include_specializations,
        )
        index, day = enrollment_row_index, cfg.day
        at = in_order(
            cfg.report_order,
            total,
            (*report, cfg.day) if cfg.report_order == "shuffled" else report,
            lambda p: enrollment_content(
                enrollment_row_index(p, include_specializations, cfg), cfg
            ),
        )

        def fetch(a: int, b: int) -> list[dict[str, Any]]:
            return [
                enrollment_row(index(at(p), include_specializations, cfg), day, cfg)
                for p in range(a, b)
            ]

        return Collection(total, fetch, unseen=ROW_UNSEEN)

    def paging(
        self,
        cfg: SimulatorConfig,
        resource: str,
        start: int,
        limit: int,
        total: int,
        faults: FaultInjector,
    ) -> dict[str, Any]:
        paging: dict[str, Any] = {}
        if start + limit < total:
            paging["next"] = str(start + limit)
        if faults.page_fault("stuck_next", start):
            paging["next"] = str(start)
        paging["total"] = total
        return paging


# -- enrollment reports ------------------------------------------------------------------


def enrollment_total(cfg: SimulatorConfig, include_specializations: bool) -> int:
    if include_specializations:
        return cfg.coursera_enrollments
    return _without_specializations(cfg).rows


def enrollment_row_index(position: int, include_specializations: bool, cfg: SimulatorConfig) -> int:
    """Which row sits at `position` of the report (in learner order).

    Without `includeS12n=true` every learner's specialization slot drops out.
    """
    if include_specializations:
        return position
    layout = report_layout("coursera", cfg)
    n, slot = layout.without_slot(_SPECIALIZATION_SLOT).locate(position)
    return layout.first_row(n) + (slot if slot < _SPECIALIZATION_SLOT else slot + 1)


def _without_specializations(cfg: SimulatorConfig) -> RowLayout:
    return report_layout("coursera", cfg).without_slot(_SPECIALIZATION_SLOT)


def _plan(cfg: SimulatorConfig, n: int) -> tuple[tuple[int, int], ...]:
    """Learner `n`'s (content, program) pairs: six when even, as many as their rows."""
    return _learner_plan(cfg.seed, cfg.coursera_contents, n, plan_slots("coursera", cfg, n))


# A shuffled report asks for learners in any order, and a heavy learner's plan is
# long to build: every learner's is kept (tens of MB at a million rows).
@lru_cache(maxsize=262_144)
def _learner_plan(seed: int, size: int, n: int, slots: int) -> tuple[tuple[int, int], ...]:
    """(content index, program) of each of learner `n`'s rows.

    Contents differ from slot to slot whenever the catalog allows, so the report
    never holds the same learner x content x program twice; the second-program slot
    deliberately repeats slot 0's content under another program.
    """
    draws = draws_for(seed, "cplan", n)
    programs = len(PROGRAM_NAMES)
    home = draws.below(programs)
    unlisted = list(orphans(size))
    spare_courses, spare_specialization = unlisted[:-1], [unlisted[-1]]
    used: set[int] = set()
    plan: list[tuple[int, int]] = []
    for slot in range(slots):
        is_specialization_slot = slot == _SPECIALIZATION_SLOT
        if n == UNDONE_LEARNER and slot == 0:
            content = 0 if size else spare_courses.pop(0)
        elif slot == _SECOND_PROGRAM_SLOT and n != UNDONE_LEARNER and draws.chance(0.15):
            # Never for the undone learner: a second, still completed row for the
            # same course would hide the undone completion.
            content = plan[0][0]
        elif draws.chance(0.005):  # a course no catalog lists
            spares = spare_specialization if is_specialization_slot else spare_courses
            content = spares.pop(0) if spares else plan[0][0]
        else:

            def fits(i: int, want: bool = is_specialization_slot) -> bool:
                return (content_type_of(seed, size, i) == "Specialization") == want

            spares = spare_specialization if is_specialization_slot else spare_courses
            content = fresh_pick(draws, size, fits, used, spares)
        program = home if draws.chance(0.85) else draws.below(programs)
        taken = {p for c, p in plan if c == content}
        while program in taken:
            program = (program + 1) % programs
        used.add(content)
        plan.append((content, program))
    return tuple(plan)


def _advance(changes: Draws, progress: float) -> float:
    return min(100.0, round(progress + changes.uniform(5, 45), 2))


def enrollment_content(j: int, cfg: SimulatorConfig) -> int:
    n, slot = report_layout("coursera", cfg).locate(j)
    return _plan(cfg, n)[slot][0]


def enrollment_row(j: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Row `j` of `/enrollmentReports?includeS12n=true` on the `day` night."""
    seed, size = cfg.seed, cfg.coursera_contents
    n, slot = report_layout("coursera", cfg).locate(j)
    content_index, program = _plan(cfg, n)[slot]
    # Reports lag the catalog (up to 24 h): a renamed course keeps its old name
    # here, so on day 2 only the rows that advance differ from day 1.
    content = content_core(seed, size, content_index, 1)
    full_name, external_id = identity(seed, n)
    program_name, program_slug = PROGRAM_NAMES[program]
    draws = draws_for(seed, "cenr", j)

    day1 = snapshot_at(1)
    enrolled_at = day1 - draws.between(2 * DAY_SECONDS, 900 * DAY_SECONDS)
    state = draws.unit()
    if j == UNDONE_ROW or state < 0.30:
        progress = 100.0
    elif state < 0.40:
        progress = 0.0  # enrolled, never started
    else:
        progress = round(draws.uniform(1, 99.5), 2)
    last_activity_at = enrolled_at
    if progress:
        last_activity_at += int((day1 - enrolled_at) * draws.uniform(0.05, 1.0))
    completed_at = last_activity_at if progress >= 100 else None
    effort = draws.uniform(0.5, 1.6)  # this learner's time against the estimate
    grade_roll, grade_value = draws.unit(), draws.uniform(0.6, 1.0)
    email = email_as_written(n, draws)
    membership = "MEMBER" if draws.chance(0.97) else "FORMER_MEMBER"
    has_certificate = draws.chance(0.9)

    if day == 2:
        progress, completed_at, last_activity_at = standing_on_day_two(
            seed,
            "cenr-day2",
            j,
            Standing(progress, completed_at, last_activity_at),
            cfg,
            advance=_advance,
            complete=100.0,
            undone=80.0,
        )

    hours_spent = content.learning_seconds / 3600 * progress / 100 * effort
    row: dict[str, Any] = {
        "externalId": external_id,
        "email": email,
        "fullName": full_name,
        "contentId": content.content_id,
        "contentType": content.content_type,
        "contentName": content.name,
        "contentSlug": content.slug,
        "programId": program_id(seed, program),
        "programName": program_name,
        "programSlug": program_slug,
        "isCompleted": completed_at is not None,
        "overallProgress": progress,
        "enrolledAt": enrolled_at * 1000,  # epoch milliseconds
        "lastActivityAt": last_activity_at * 1000,
        "approxTotalCourseHrs": round(hours_spent, 4),  # hours, a float
        "membershipState": membership,
    }
    if completed_at is not None:
        row["completedAt"] = completed_at * 1000
        row["grade"] = round(grade_value, 4) if grade_roll < 0.95 else None
        if has_certificate:
            kind = "specialization/" if content.content_type == "Specialization" else ""
            code = short_id(seed, "certificate", j)[:12].upper()
            row["contentCertificateUrl"] = f"https://coursera.org/verify/{kind}{code}"
    elif progress > 0 and grade_roll < 0.4:
        row["grade"] = round(grade_value * progress / 100, 4)  # graded so far
    elif progress > 0 and grade_roll < 0.6:
        row["grade"] = None  # present but not graded yet; otherwise absent
    return row
