"""Coursera as real answers spell it: the `variance` half of coursera.py.

The same organization as coursera.py serves, respelled record by record, plus
the records real reports hold beyond a catalog (variance.py lists every shape
and its share). Every choice is drawn from the record's own key (content index,
report row, learner, extra row), so it is the same on day 1 and day 2 except
where the truth moved (a row that starts on day 2 is no longer "not started";
some e-mail-less learners have an e-mail on day 2).

Extra report rows: learner `n = 6g + 5` (every sixth learner whose six rows are
all in the report) has one more row, extra row `g`, right after its own rows.
Extra rows cycle Video, LearningPath, Video, Collection, LearningPath.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.coursera import (
    ROW_UNSEEN,
    ROWS,
    CourseraAPI,
    _learner_plan,
    enrollment_row,
    enrollment_row_index,
    enrollment_total,
)
from lo_sync.simulator.coursera_catalog import (
    CONTENT_UNSEEN,
    PROGRAM_NAMES,
    content_core,
    content_record,
    content_type_of,
    program_id,
)
from lo_sync.simulator.faults import COURSERA_CORRUPTIONS, FaultInjector
from lo_sync.simulator.guard import Collection
from lo_sync.simulator.learners import UNDONE_LEARNER, email_as_written, identity, learner_email
from lo_sync.simulator.nights import (
    DAY_SECONDS,
    PINNED,
    catalog_indices,
    iso,
    orphans,
    removed_indices,
    snapshot_at,
)
from lo_sync.simulator.randomness import Draws, draws_for, short_id
from lo_sync.simulator.word_pools import PARTNERS, SKILLS

# Shares (of rows, learners or pages; variance.py explains each).
NOT_STARTED_BLANK = 0.40  # of not-started rows: progress, activity, hours null or absent
GRADE_AS_TEXT = 0.15  # of rows with a numeric grade
COURSE_PREFIXED = 0.10  # of Course rows: contentId "Course~<contentId>"
LEGACY_LAST_ACTIVITY = 0.10  # of rows with lastActivityAt: a `lastActivity` beside it
ISO_TIMESTAMPS = 0.03  # of rows: ISO-8601 strings instead of epoch milliseconds
NUMBER_NEXT = 0.30  # of pages with a next page: paging.next a JSON number
FALLBACK_WITHOUT_EMAIL = 0.50  # of learners whose externalId is their e-mail: no email
NUMERIC_EXTERNAL_ID = 0.10  # of learners with an organization id: externalId a number
ANONYMOUS = 0.04  # of learners with an organization id: no e-mail at all
EMAIL_ON_DAY_TWO = 0.50  # of those anonymous learners: the e-mail is back on day 2

LEARNER_STRIDE = 6  # one extra report row per six learners
EXTRA_KINDS = ("Video", "LearningPath", "Video", "Collection", "LearningPath")
CLIPS_PER_CONTENT = 20  # one Video clip per twenty catalog contents, at least MIN_CLIPS
MIN_CLIPS = 5

LEARNING_PATHS = (
    ("Data Analyst Learning Path", "data-analyst", 60),  # name, slug, hours
    ("People Manager Learning Path", "people-manager", 35),
    ("Cloud Engineer Learning Path", "cloud-engineer", 90),
)
COLLECTIONS = (
    ("Recommended for you", "recommended"),
    ("New hire onboarding", "onboarding"),
    ("Quarterly focus: AI literacy", "ai-literacy"),
)
LESSONS = (
    "Welcome and course overview",
    "Key concepts in five minutes",
    "Putting it into practice",
    "A worked case study",
    "Common mistakes and how to avoid them",
    "Summary and next steps",
)

_ABSENT = "(absent)"  # how a blank e-mail is spelled: the key left out
_BLANKS = (_ABSENT, None, "")
_TIMESTAMPS = ("enrolledAt", "lastActivityAt", "lastActivity", "completedAt")


class CourseraVariance(CourseraAPI):
    """Coursera's API with `variance` on: same routes, same truth, real spellings."""

    def contents(self, cfg: SimulatorConfig, faults: FaultInjector) -> Collection:
        listing = catalog_indices("coursera", cfg.day, cfg)
        listed, clips = len(listing), clip_count(cfg)
        whole = listed + clips

        def fetch(a: int, b: int) -> list[dict[str, Any]]:
            records = [respell_content(i, cfg) for i in listing[a:b]]
            records += [clip_record(k, cfg) for k in range(max(a - listed, 0), b - listed)]
            return records

        total = whole // 2 if faults.has("shrunk") else whole
        return Collection(total, fetch, COURSERA_CORRUPTIONS, "contentId", "name", CONTENT_UNSEEN)

    def reports(self, cfg: SimulatorConfig, include_specializations: bool) -> Collection:
        extras = extra_row_count(cfg)
        per_group = LEARNER_STRIDE * (ROWS if include_specializations else ROWS - 1) + 1

        def at(p: int) -> dict[str, Any]:
            group, offset = divmod(p, per_group)
            if group < extras and offset == per_group - 1:
                return extra_row(group, cfg)
            j = enrollment_row_index(p - min(group, extras), include_specializations, cfg)
            row = enrollment_row(j, cfg.day, cfg)
            return respell_row(row, j // ROWS, draws_for(cfg.seed, "vrow", j), cfg)

        total = enrollment_total(cfg, include_specializations) + extras
        return Collection(total, lambda a, b: [at(p) for p in range(a, b)], unseen=ROW_UNSEEN)

    def paging(
        self,
        cfg: SimulatorConfig,
        resource: str,
        start: int,
        limit: int,
        total: int,
        faults: FaultInjector,
    ) -> dict[str, Any]:
        # Other businesses.v1 samples send next as a number, and {} on the last page.
        as_number = draws_for(cfg.seed, f"vpaging-{resource}", start).chance(NUMBER_NEXT)
        spell = int if as_number else str
        paging: dict[str, Any] = {}
        if start + limit < total:
            paging["next"] = spell(start + limit)
        if faults.page_fault("stuck_next", start):
            paging["next"] = spell(start)
        if paging:
            paging["total"] = total
        return paging


# -- the catalog ---------------------------------------------------------------------


def clip_count(cfg: SimulatorConfig) -> int:
    """How many Video clips the catalog lists after its courses (none without courses)."""
    size = cfg.coursera_contents
    return max(MIN_CLIPS, size // CLIPS_PER_CONTENT) if size >= PINNED else 0


def _lasting_course(
    seed: int, draws: Draws, size: int, removed: tuple[int, ...], taken: set[int]
) -> int:
    """A course index listed on both nights and not in `taken`; -1 when none turns up."""
    for _ in range(32 if size else 0):
        i = draws.below(size)
        if content_type_of(seed, size, i) == "Course" and i not in removed and i not in taken:
            return i
    return -1


@lru_cache(maxsize=4096)
def _specialization_courses(
    seed: int, size: int, i: int, count: int, removed: tuple[int, ...]
) -> tuple[str, ...]:
    """The ids of specialization `i`'s `count` courses: catalog courses where the
    catalog has enough, else courses no catalog lists (orphans)."""
    draws = draws_for(seed, "vspec", i)
    chosen: list[int] = []
    for _ in range(count):
        chosen.append(_lasting_course(seed, draws, size, removed, set(chosen)))
    spare = list(orphans(size))[:-1]  # the last orphan is a specialization
    picked = [c if c >= 0 else spare.pop(0) for c in chosen]
    return tuple(short_id(seed, "content", c) for c in picked)


def _last_updated(seed: int, size: int, i: int, day: int) -> int:
    """When content `i` last changed, in epoch seconds: on day 2, recently if it did."""
    draws = draws_for(seed, "vupdated", i)
    at = snapshot_at(1) - draws.between(DAY_SECONDS, 700 * DAY_SECONDS)
    if day == 2:
        before, after = content_core(seed, size, i, 1), content_core(seed, size, i, 2)
        if i >= size or (before.name, before.description) != (after.name, after.description):
            at = snapshot_at(2) - draws.between(600, 12 * 3600)
    return at


def respell_content(i: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Catalog record of content `i`, with lastUpdatedAt and a specialization's course ids."""
    record = content_record(i, cfg.day, cfg)
    meta = record.get("extraMetadata")
    if meta and meta["typeName"] == "specializationMetadata":
        old = meta["definition"]
        count = old["courseCount"]
        removed = removed_indices("coursera", cfg)
        definition: dict[str, Any] = {
            "courseIds": list(
                _specialization_courses(cfg.seed, cfg.coursera_contents, i, count, removed)
            )
        }
        if "promoPhoto" in old:
            definition["promoPhoto"] = old["promoPhoto"]
        definition["tagline"] = f"Build job-ready skills in {count} courses"
        record["extraMetadata"] = {"typeName": "specializationMetadata", "definition": definition}
    # Coursera sends epoch milliseconds in reports but seconds here.
    record["lastUpdatedAt"] = _last_updated(cfg.seed, cfg.coursera_contents, i, cfg.day)
    return record


class _Clip(NamedTuple):
    content_id: str
    name: str
    slug: str
    lesson: str
    lecture: str  # the lecture's short code in its URL
    seconds: int
    parent: int  # the catalog index of its course


@lru_cache(maxsize=4096)
def _clip(seed: int, size: int, k: int, removed: tuple[int, ...]) -> _Clip:
    draws = draws_for(seed, "vclip", k)
    parent = _lasting_course(seed, draws, size, removed, set())
    parent = max(parent, 0)  # index 0 is always a course, on both nights
    lesson = draws.pick(LESSONS)
    title = content_core(seed, size, parent, 1).name
    return _Clip(
        content_id=short_id(seed, "clip", k),
        name=f"{lesson} ({title})",
        slug=f"{lesson.lower().replace(' ', '-')}-{k}",
        lesson=lesson,
        lecture=short_id(seed, "lecture", k)[:5],
        seconds=draws.between(120, 900),
        parent=parent,
    )


def clip(k: int, cfg: SimulatorConfig) -> _Clip:
    return _clip(cfg.seed, cfg.coursera_contents, k, removed_indices("coursera", cfg))


def clip_record(k: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Catalog record of Video clip `k`, a lesson of a course the catalog lists."""
    video = clip(k, cfg)
    parent = content_core(cfg.seed, cfg.coursera_contents, video.parent, 1)
    draws = draws_for(cfg.seed, "vclip-extra", k)
    partner_name, partner_key = draws.pick(PARTNERS)
    program = draws.below(len(PROGRAM_NAMES))
    lesson_url = f"{parent.slug}/lecture/{video.lecture}/{video.slug}"
    skills = sorted({draws.below(len(SKILLS)) for _ in range(draws.between(1, 3))})
    return {
        "contentId": video.content_id,
        "contentType": "Video",
        "name": video.name,
        "description": f"<p>A short clip from {parent.name}.</p>",
        "slug": video.slug,
        "languageCode": parent.language,
        "difficultyLevel": draws.pick(("BEGINNER", "INTERMEDIATE")),
        "partners": [
            {"name": partner_name, "logoUrl": f"https://cdn.example.com/partners/{partner_key}.png"}
        ],
        "instructors": [],
        "programs": [
            {
                "programId": program_id(cfg.seed, program),
                "contentUrl": f"https://www.coursera.org/programs/{PROGRAM_NAMES[program][1]}/"
                f"learn/{lesson_url}",
            }
        ],
        "extraMetadata": {
            "typeName": "clipMetadata",
            "definition": {
                "parentCourseId": parent.content_id,
                "parentLessonName": video.lesson,
                "parentLessonObjectUrl": f"https://www.coursera.org/learn/{lesson_url}",
                "estimatedLearningTime": video.seconds,  # seconds
                "skillTags": [SKILLS[s] for s in skills],
                "promoPhoto": f"https://cdn.example.com/promo/{video.content_id}.jpg",
            },
        },
        "lastUpdatedAt": snapshot_at(1) - draws.between(DAY_SECONDS, 300 * DAY_SECONDS),
    }


# -- enrollment reports ------------------------------------------------------------------


class _Spelling(NamedTuple):
    """How learner `n`'s identity shows in every one of their rows on one night."""

    kind: str  # "plain", "fallback", "numeric" or "anonymous"
    blank: Any  # how a missing e-mail is spelled: _ABSENT, None or ""


@lru_cache(maxsize=65_536)
def learner_spelling(seed: int, n: int, day: int) -> _Spelling:
    draws = draws_for(seed, "vlearner", n)
    roll, blank, returns = draws.unit(), draws.pick(_BLANKS), draws.chance(EMAIL_ON_DAY_TWO)
    if n == UNDONE_LEARNER:
        kind = "plain"  # the day-2 undone completion is about row 0; keep it plain
    elif identity(seed, n).external_id == learner_email(n):
        kind = "fallback" if roll < FALLBACK_WITHOUT_EMAIL else "plain"
    elif roll < NUMERIC_EXTERNAL_ID:
        kind = "numeric"
    elif roll < NUMERIC_EXTERNAL_ID + ANONYMOUS:
        kind = "plain" if day == 2 and returns else "anonymous"
    else:
        kind = "plain"
    return _Spelling(kind, blank)


def _iso_ms(epoch_ms: int) -> str:
    return f"{iso(epoch_ms // 1000)[:-1]}.{epoch_ms % 1000:03d}Z"


def respell_row(row: dict[str, Any], n: int, draws: Draws, cfg: SimulatorConfig) -> dict[str, Any]:
    """Report row `row` of learner `n` as a real report may spell it."""
    # Every draw up front, so a row's spelling does not depend on its values.
    blank_roll, grade_roll, prefix_roll = draws.unit(), draws.unit(), draws.unit()
    legacy_roll, iso_roll = draws.unit(), draws.unit()
    nulls = [draws.chance(0.5) for _ in range(3)]
    row = dict(row)
    spelling = learner_spelling(cfg.seed, n, cfg.day)
    if spelling.kind in ("fallback", "anonymous"):
        if spelling.blank == _ABSENT:
            del row["email"]
        else:
            row["email"] = spelling.blank
    elif spelling.kind == "numeric":
        row["externalId"] = n  # EMP-000123 reported as the JSON number 123
    if row.get("overallProgress") == 0 and blank_roll < NOT_STARTED_BLANK:
        hours = "approxTotalLearningHours" if "approxTotalLearningHours" in row else None
        blanked = ("overallProgress", "lastActivityAt", hours or "approxTotalCourseHrs")
        for field, null in zip(blanked, nulls, strict=True):
            if null:
                row[field] = None
            else:
                row.pop(field, None)
    if isinstance(row.get("grade"), float) and grade_roll < GRADE_AS_TEXT:
        row["grade"] = repr(row["grade"])
    if row.get("contentType") == "Course" and prefix_roll < COURSE_PREFIXED:
        row["contentId"] = f"Course~{row['contentId']}"
    if row.get("lastActivityAt") is not None and legacy_roll < LEGACY_LAST_ACTIVITY:
        row["lastActivity"] = row["lastActivityAt"]
    if iso_roll < ISO_TIMESTAMPS:
        for field in _TIMESTAMPS:
            if isinstance(row.get(field), int):
                row[field] = _iso_ms(row[field])
    return row


def extra_row_count(cfg: SimulatorConfig) -> int:
    """Extra rows: one per six learners whose rows are all in the report."""
    return cfg.coursera_enrollments // ROWS // LEARNER_STRIDE


def extra_row(g: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Extra report row `g`: learner 6g+5's Video clip, learning path or collection."""
    seed, size = cfg.seed, cfg.coursera_contents
    n = g * LEARNER_STRIDE + LEARNER_STRIDE - 1
    kind = EXTRA_KINDS[g % len(EXTRA_KINDS)]
    if kind == "Video" and not clip_count(cfg):
        kind = "LearningPath"
    draws = draws_for(seed, "vextra", g)
    program = _learner_plan(seed, size, n, ROWS)[0][1]
    content_type: str | None = kind
    hours_field = "approxTotalCourseHrs"
    if kind == "Video":
        video = clip(draws.below(clip_count(cfg)), cfg)
        content_id, name, slug = video.content_id, video.name, video.slug
        learning_hours = video.seconds / 3600
        hours_field = "approxTotalLearningHours"  # clips' own name for the hours
    elif kind == "LearningPath":
        p = draws.below(len(LEARNING_PATHS))
        name, slug, learning_hours = LEARNING_PATHS[p]
        content_id = f"lp~{short_id(seed, 'learningpath', p)}"
    else:
        c = draws.below(len(COLLECTIONS))
        name, slug = COLLECTIONS[c]
        content_id = f"{program_id(seed, program)}~{short_id(seed, 'collection', c)}"
        learning_hours = draws.between(5, 40)
        content_type = "Collection" if draws.chance(0.5) else None

    day1 = snapshot_at(1)
    enrolled_at = day1 - draws.between(2 * DAY_SECONDS, 400 * DAY_SECONDS)
    state = draws.unit()
    progress = 100.0 if state < 0.3 else 0.0 if state < 0.45 else round(draws.uniform(1, 99), 2)
    last_activity_at = enrolled_at
    if progress:
        last_activity_at += int((day1 - enrolled_at) * draws.uniform(0.05, 1.0))
    full_name, external_id = identity(seed, n)
    program_name, program_slug = PROGRAM_NAMES[program]
    row: dict[str, Any] = {
        "externalId": external_id,
        "email": email_as_written(n, draws),
        "fullName": full_name,
        "contentId": content_id,
        "contentType": content_type,
        "contentName": name,
        "contentSlug": slug,
        "programId": program_id(seed, program),
        "programName": program_name,
        "programSlug": program_slug,
        "isCompleted": progress >= 100,
        "overallProgress": progress,
        "enrolledAt": enrolled_at * 1000,  # epoch milliseconds
        "lastActivityAt": last_activity_at * 1000,
        hours_field: round(learning_hours * progress / 100 * draws.uniform(0.5, 1.6), 4),
        "membershipState": "MEMBER",
    }
    if content_type is None:
        del row["contentType"]  # composite rows come without one
    if progress >= 100:
        row["completedAt"] = last_activity_at * 1000
    return respell_row(row, n, draws_for(seed, "vextra-row", g), cfg)
