"""Deterministic provider data for the simulator: catalogs and learner statistics.

Every record is a pure function of (seed, collection sizes, index, day), computed
when a page asks for it. Benchmarks page through a million enrollment rows, so
nothing is ever materialized: a row is built from a short hash-based random
stream keyed by its index, in about 20 µs (a 1000-row page: ~20 ms to build,
~6 ms to encode).

The data aims at the awkward parts of the real feeds: unicode and HTML in
titles, optional fields left out, every OpenClassrooms status, rare content
types, e-mails cased differently from row to row, one learner in one course
under two programs, grades missing, stats that point at courses no longer (or
never) in the catalog.

Learners
    Learner number `n` has the e-mail ``learner{n}@example.com``
    (`learner_email(n)`), the name `learner_name(n, cfg)` and, for four in five,
    the external id ``EMP-{n:06d}`` (`learner_external_id`; the others' reports
    carry the e-mail instead); `learners(cfg)` lists them all. Rows spell
    e-mails in varying case (``Learner7@example.com``, ``LEARNER7@EXAMPLE.COM``,
    ...). The same number is the same person at both providers. Coursera has
    `learner_count("coursera", cfg)` learners with six rows each (four courses,
    a fifth course or the first one again under another program, one
    specialization); OpenClassrooms has `learner_count("openclassrooms", cfg)`
    learners with four rows each.

Day 2 ("the next night")
    * Titles change for catalog index 0 and about 4 % of the rest; descriptions
      for index 2 and about 4 % of the rest.
    * `removed_indices(provider, cfg)` disappear: ``max(1, n // 25)`` of a
      catalog of ``n >= 11`` courses (4 %, always under the 10 % safety limit),
      none of a smaller one. Indices 0-4 never disappear.
    * Two courses appear: indices ``n`` and ``n + 1``.
    * OpenClassrooms statuses: index 1 goes archived -> active, index 2
      active -> archived, index 3 active -> closed, and a few more flip.
    * `changed_fraction` of the stats rows advance (more progress, some complete;
      completed rows only show new activity); no other row changes, since
      reports keep a renamed course's day-1 name.
    * Row 0 of each provider (learner 0, ``learner0@example.com``, in catalog
      course 0) is complete on day 1 and reported undone on day 2: not
      completed, progress 80. No other completion is ever undone.
"""

from __future__ import annotations

import base64
import bisect
import calendar
import dataclasses
import hashlib
import random
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, overload

from lo_sync.simulator.faults import Fault

CREDENTIALS: dict[str, dict[str, str]] = {
    "coursera": {
        "org_id": "c37xwraOSFytEjHm5uQEEA",
        "client_id": "sim-coursera-client",
        "client_secret": "sim-coursera-secret",
    },
    "openclassrooms": {
        "organization_id": "4242",
        "client_id": "sim-openclassrooms-client",
        "client_secret": "sim-openclassrooms-secret",
    },
}

PROVIDERS = ("coursera", "openclassrooms")


@dataclass(frozen=True)
class SimulatorConfig:
    """What the simulator serves: collection sizes, which night it is, faults."""

    coursera_contents: int = 300
    openclassrooms_courses: int = 120
    coursera_enrollments: int = 2000
    openclassrooms_progress: int = 800
    day: int = 1
    changed_fraction: float = 0.05
    oc_page_cap: int = 100
    seed: int = 42
    faults: tuple[Fault, ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "coursera_contents",
            "openclassrooms_courses",
            "coursera_enrollments",
            "openclassrooms_progress",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.day not in (1, 2):
            raise ValueError("day must be 1 or 2")
        if not 0 <= self.changed_fraction <= 1:
            raise ValueError("changed_fraction must be between 0 and 1")
        if self.oc_page_cap < 1:
            raise ValueError("oc_page_cap must be at least 1")
        # A list is a natural thing to pass; the config stays hashable as a tuple.
        object.__setattr__(self, "faults", tuple(self.faults))
        for fault in self.faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"faults must be Fault values, got {fault!r}")

    def replace(self, **changes: Any) -> SimulatorConfig:
        return dataclasses.replace(self, **changes)


# -- randomness ---------------------------------------------------------------


def _words(key: bytes) -> Iterator[int]:
    """Endless uniform 32-bit integers: BLAKE2b of the key and a block counter."""
    block = 0
    while True:
        digest = hashlib.blake2b(key + b"#%d" % block, digest_size=64).digest()
        yield from struct.unpack("<16I", digest)
        block += 1


_INV_2_32 = 1 / 4294967296.0


class _Draws:
    """A short deterministic stream of pseudo-random numbers for one record.

    Seeding `random.Random` costs about 5 µs, more than building a whole row;
    one BLAKE2b digest of the record's key yields sixteen 32-bit words in 1 µs,
    enough for most records.
    """

    __slots__ = ("word",)

    def __init__(self, key: str) -> None:
        self.word: Callable[[], int] = _words(key.encode()).__next__

    def unit(self) -> float:
        return self.word() * _INV_2_32

    def below(self, n: int) -> int:
        return self.word() % n

    def between(self, low: int, high: int) -> int:
        return low + self.word() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.word() * _INV_2_32

    def chance(self, p: float) -> bool:
        return self.word() * _INV_2_32 < p

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[self.word() % len(seq)]

    def weighted(self, table: Sequence[tuple[Any, float]]) -> Any:
        """Pick from (value, weight) pairs whose weights sum to 1."""
        u = self.unit()
        for value, weight in table:
            u -= weight
            if u < 0:
                return value
        return table[-1][0]


def _draws(cfg_seed: int, stream: str, *key: int) -> _Draws:
    return _Draws(f"{cfg_seed}|{stream}|" + "|".join(map(str, key)))


@lru_cache(maxsize=4096)
def _program_id(seed: int, k: int) -> str:
    return _short_id(seed, "program", k)


def _short_id(seed: int, stream: str, index: int) -> str:
    """A 22-character url-safe id, the shape of Coursera's content and program ids."""
    digest = hashlib.blake2b(f"{seed}|{stream}|{index}".encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# -- time -----------------------------------------------------------------------

# When each night's snapshot is taken; activity never postdates it.
DAY1_AT = calendar.timegm((2024, 6, 3, 2, 0, 0))
DAY_SECONDS = 86_400


def snapshot_at(day: int) -> int:
    return DAY1_AT + (day - 1) * DAY_SECONDS


def _iso(epoch_seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


# -- word pools -------------------------------------------------------------------

# (language, titles, slug bases). Titles are whole so each language reads naturally.
_TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Introduction to Machine Learning", "intro-machine-learning"),
        ("Data Visualization with Python", "data-visualization-python"),
        ("Project Management Foundations", "project-management-foundations"),
        ("Financial Accounting Essentials", "financial-accounting"),
        ("Cloud Computing Basics", "cloud-computing-basics"),
        ("Public Speaking: Find Your Voice", "public-speaking"),
        ("Cybersecurity for Everyone", "cybersecurity-everyone"),
        ("UX Design Fundamentals", "ux-design-fundamentals"),
        ("Supply Chain Analytics", "supply-chain-analytics"),
        ("Negotiation Skills", "negotiation-skills"),
        ("SQL for Data Science", "sql-data-science"),
        ("Digital Marketing Strategy", "digital-marketing-strategy"),
        ("Leading People and Teams", "leading-people-teams"),
        ("Agile Development with Scrum", "agile-scrum"),
        ("Statistics with R", "statistics-with-r"),
        ("Deep Learning Specialization", "deep-learning"),
        ("Business Writing", "business-writing"),
        ("HTML, CSS & <canvas> Basics", "html-css-canvas"),
        ("R & Python for Analysts", "r-python-analysts"),
        ("AI For Everyone 🤖", "ai-for-everyone"),
    ),
    "fr": (
        ("Initiez-vous à la gestion de projet", "gestion-de-projet"),
        ("Découvrez l'écoconception numérique", "ecoconception-numerique"),
        ("Maîtrisez les réseaux TCP/IP", "reseaux-tcp-ip"),
        ("Apprenez à programmer en Python", "programmer-en-python"),
        ("Négociez avec succès", "negociez-avec-succes"),
        ("Améliorez votre communication écrite ✍️", "communication-ecrite"),
        ("Analysez des données avec Excel", "donnees-excel"),
    ),
    "es": (
        ("Gestión de proyectos ágiles", "proyectos-agiles"),
        ("Introducción a la ciencia de datos", "ciencia-de-datos"),
    ),
    "pt-BR": (("Introdução à Ciência de Dados", "ciencia-dados-intro"),),
    "de": (("Ökonomie für Einsteiger", "oekonomie-einsteiger"),),
    "ja": (
        ("データサイエンス入門", "data-science-nyumon"),
        ("機械学習の基礎", "kikai-gakushu-kiso"),
    ),
    "zh-CN": (
        ("数据结构与算法", "data-structures-algorithms-zh"),
        ("商务沟通技巧 📈", "business-communication-zh"),
    ),
    "ko": (("인공지능 개론", "ai-gaeron"),),
}
_COURSERA_LANGUAGES = (
    ("en", 0.60),
    ("fr", 0.12),
    ("es", 0.06),
    ("pt-BR", 0.04),
    ("de", 0.04),
    ("ja", 0.05),
    ("zh-CN", 0.05),
    ("ko", 0.04),
)
_OC_LANGUAGES = (("fr", 0.70), ("en", 0.25), ("es", 0.05))
_OC_LANGUAGE_CODES = {"fr": "fr", "en": "en", "es": "es"}

_DESCRIPTION_BLURBS = (
    "Learn the essentials step by step, with hands-on exercises.",
    "Des cas pratiques tirés d'entreprises réelles — et un quiz à la fin.",
    "Ideal for busy professionals: 2–4 hours per week.",
    "このコースでは基礎から実践までを学びます。",
    "Includes peer-graded assignments & a final project.",
)
_MODULES_HTML = "<ul><li>Module 1 – basics</li><li>Module 2 – <em>practice</em></li></ul>"
_SKILLS = (
    "Python Programming",
    "Data Analysis",
    "Leadership",
    "Communication",
    "SQL",
    "Machine Learning",
    "Project Management",
    "Négociation",
    "Cloud Computing",
    "Statistics",
)
_PARTNERS = (
    ("Stanford University", "stanford"),
    ("École Polytechnique", "polytechnique"),
    ("University of Tokyo", "utokyo"),
    ("Google Cloud", "google-cloud"),
    ("Universidad de los Andes", "uniandes"),
    ("IBM", "ibm"),
)
_FIRST_NAMES = (
    "Alice",
    "Zoë",
    "José",
    "Łukasz",
    "Ngọc",
    "Søren",
    "Amélie",
    "Mohammed",
    "Priya",
    "Kenji",
    "Chloé",
    "Seán",
)
_LAST_NAMES = (
    "Martin",
    "Núñez",
    "O'Brien",
    "Müller",
    "陈",
    "Nakamura",
    "Kowalski",
    "Dubois-Lefèvre",
    "Singh",
    "Van der Berg",
)
_INSTRUCTOR_TITLES = (
    "Professor",
    "Associate Professor",
    "Senior Engineer",
    "Maître de conférences",
)

PROGRAM_NAMES = (
    ("Data Skills Academy", "data-skills-academy"),
    ("Leadership Essentials", "leadership-essentials"),
    ("Cloud & DevOps", "cloud-devops"),
    ("Marketing numérique", "marketing-numerique"),
    ("エンジニア基礎", "engineering-basics-jp"),
    ("Compliance 2024", "compliance-2024"),
)

# Indices 0-4 of each catalog have fixed roles (see the module docstring), so
# tests can name them; they are never removed on day 2.
PINNED = 5
TITLE_CHANGED_PINNED = 0
DESCRIPTION_CHANGED_PINNED = 2
OC_RESTORED = 1  # archived on day 1, active on day 2
OC_ARCHIVED = 2  # active on day 1, archived on day 2
OC_CLOSED = 3  # active on day 1, closed on day 2
COURSERA_SPECIALIZATION_PINNED = 1
UNDONE_ROW = 0  # the stats row whose completion is undone on day 2, at both providers
UNDONE_LEARNER = 0
NEW_COURSES = 2
# Courses stats rows mention that no catalog ever lists: enough that every slot
# of a learner could fall back on its own (Coursera's last one is a specialization).
ORPHAN_COURSES = 6

COURSERA_ROWS_PER_LEARNER = 6
OC_ROWS_PER_LEARNER = 4
_SPECIALIZATION_SLOT = 5
_SECOND_PROGRAM_SLOT = 4


# -- catalogs: which indices a night lists ---------------------------------------


def _catalog_size(provider: str, cfg: SimulatorConfig) -> int:
    return cfg.coursera_contents if provider == "coursera" else cfg.openclassrooms_courses


def removed_count(size: int) -> int:
    """How many of a catalog's `size` courses vanish on day 2: 4 %, never 10 %."""
    return max(1, size // 25) if size >= 11 else 0


@lru_cache(maxsize=64)
def _removed(seed: int, provider: str, size: int) -> tuple[int, ...]:
    rng = random.Random(f"{seed}|{provider}|removed")
    return tuple(sorted(rng.sample(range(PINNED, size), removed_count(size))))


def removed_indices(provider: str, cfg: SimulatorConfig) -> tuple[int, ...]:
    """Catalog indices listed on day 1 and gone on day 2, ascending."""
    return _removed(cfg.seed, provider, _catalog_size(provider, cfg))


def new_indices(provider: str, cfg: SimulatorConfig) -> tuple[int, ...]:
    """Catalog indices that first appear on day 2."""
    size = _catalog_size(provider, cfg)
    return tuple(range(size, size + NEW_COURSES))


def _orphans(size: int) -> range:
    return range(size + NEW_COURSES, size + NEW_COURSES + ORPHAN_COURSES)


def orphan_indices(provider: str, cfg: SimulatorConfig) -> tuple[int, ...]:
    """Indices of courses some stats rows mention but no catalog lists."""
    return tuple(_orphans(_catalog_size(provider, cfg)))


class CatalogIndices(Sequence[int]):
    """The catalog indices one night lists, in order, without building the list.

    Day 1 lists 0..size-1. Day 2 lists the same minus `removed`, then the new ones.
    """

    def __init__(self, size: int, removed: tuple[int, ...] = (), added: tuple[int, ...] = ()):
        self._removed = removed
        self._removed_set = frozenset(removed)
        self._added = added
        self._survivors = size - len(removed)

    def __len__(self) -> int:
        return self._survivors + len(self._added)

    def _index_at(self, position: int) -> int:
        if position >= self._survivors:
            return self._added[position - self._survivors]
        # The position-th survivor is position + k, where k counts removed indices
        # at or below it; iterate to the least fixed point.
        skipped = 0
        while True:
            now = bisect.bisect_right(self._removed, position + skipped)
            if now == skipped:
                return position + skipped
            skipped = now

    @overload
    def __getitem__(self, item: int) -> int: ...
    @overload
    def __getitem__(self, item: slice) -> list[int]: ...
    def __getitem__(self, item: int | slice) -> int | list[int]:
        if isinstance(item, slice):
            start, stop, step = item.indices(len(self))
            if step != 1:
                return [self[p] for p in range(start, stop, step)]
            return list(self._walk(start, stop))
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError(item)
        return self._index_at(item)

    def _walk(self, start: int, stop: int) -> Iterator[int]:
        if start >= stop:
            return
        index = self._index_at(start)
        for position in range(start, stop):
            if position >= self._survivors:
                yield self._added[position - self._survivors]
                continue
            while index in self._removed_set:
                index += 1
            yield index
            index += 1

    def __iter__(self) -> Iterator[int]:
        return self._walk(0, len(self))


def catalog_indices(provider: str, day: int, cfg: SimulatorConfig) -> CatalogIndices:
    size = _catalog_size(provider, cfg)
    if day == 1:
        return CatalogIndices(size)
    return CatalogIndices(size, removed_indices(provider, cfg), new_indices(provider, cfg))


# -- learners ---------------------------------------------------------------------------


def learner_email(n: int) -> str:
    """The canonical (lower-case) e-mail of learner `n`."""
    return f"learner{n}@example.com"


def learner_count(provider: str, cfg: SimulatorConfig) -> int:
    if provider == "coursera":
        rows, per_learner = cfg.coursera_enrollments, COURSERA_ROWS_PER_LEARNER
    else:
        rows, per_learner = cfg.openclassrooms_progress, OC_ROWS_PER_LEARNER
    return -(-rows // per_learner)


def learners(cfg: SimulatorConfig) -> range:
    """Every learner number either provider's stats mention (for a people CSV)."""
    return range(max(learner_count("coursera", cfg), learner_count("openclassrooms", cfg)))


def learner_name(n: int, cfg: SimulatorConfig) -> str:
    return _learner(cfg.seed, n)[0]


def learner_external_id(n: int, cfg: SimulatorConfig) -> str | None:
    """The organization's id for learner `n`, or None where Coursera falls back to the e-mail."""
    external_id = _learner(cfg.seed, n)[1]
    return None if external_id == learner_email(n) else external_id


def _email_as_written(n: int, draws: _Draws) -> str:
    """The learner's e-mail as one row spells it: mostly lower case, not always."""
    style = draws.unit()
    if style < 0.70:
        return f"learner{n}@example.com"
    if style < 0.85:
        return f"Learner{n}@example.com"
    if style < 0.93:
        return f"LEARNER{n}@EXAMPLE.COM"
    return f"learner{n}@Example.Com"


@lru_cache(maxsize=65_536)
def _learner(seed: int, n: int) -> tuple[str, str]:
    """(full name, Coursera externalId) of learner `n`."""
    draws = _draws(seed, "learner", n)
    name = f"{draws.pick(_FIRST_NAMES)} {draws.pick(_LAST_NAMES)}"
    # Organizations that never set an external id get the e-mail back instead.
    external_id = f"EMP-{n:06d}" if draws.chance(0.8) else learner_email(n)
    return name, external_id


# -- Coursera catalog --------------------------------------------------------------------


class _Content(NamedTuple):
    """What stats rows repeat about a content item, as of one day."""

    content_id: str
    content_type: str
    name: str
    slug: str
    description: str
    language: str
    learning_seconds: int


@lru_cache(maxsize=262_144)
def _coursera_type(seed: int, size: int, i: int) -> str:
    orphans = _orphans(size)
    if i == COURSERA_SPECIALIZATION_PINNED or i == orphans[-1]:
        return "Specialization"
    if i < PINNED or i in orphans:
        return "Course"
    return _draws(seed, "ctype", i).weighted(
        (
            ("Course", 0.85),
            ("Specialization", 0.13),
            ("Project", 0.015),
            ("ProfessionalCertificate", 0.005),
        )
    )


@lru_cache(maxsize=65_536)
def _coursera_content_core(seed: int, size: int, i: int, day: int) -> _Content:
    content_type = _coursera_type(seed, size, i)
    draws = _draws(seed, "ccontent", i)
    language = draws.weighted(_COURSERA_LANGUAGES)
    title, slug_base = draws.pick(_TITLES[language])
    if content_type == "Specialization" and not title.endswith("Specialization"):
        title = f"{title} Specialization"
    blurb = draws.pick(_DESCRIPTION_BLURBS)
    description = "" if draws.chance(0.03) else f"<p>{blurb}</p>{_MODULES_HTML}"
    hours = draws.between(2, 60) if content_type != "Specialization" else draws.between(30, 200)
    # Some content carries an odd number of seconds, not a round hour count.
    learning_seconds = hours * 3600 + (draws.between(1, 3599) if draws.chance(0.3) else 0)
    if day == 2:
        changes = _draws(seed, "ccontent-day2", i)
        if i == TITLE_CHANGED_PINNED or changes.chance(0.04):
            title = f"{title} (2024 edition)"
        if i == DESCRIPTION_CHANGED_PINNED or changes.chance(0.04):
            description = f"{description}<p><strong>Updated:</strong> new labs added.</p>"
    return _Content(
        content_id=_short_id(seed, "content", i),
        content_type=content_type,
        name=title,
        slug=f"{slug_base}-{i}",
        description=description,
        language=language,
        learning_seconds=learning_seconds,
    )


def _content_path(content_type: str) -> str:
    return {"Course": "learn", "Specialization": "specializations", "Project": "projects"}.get(
        content_type, "professional-certificates"
    )


def coursera_program_count(cfg: SimulatorConfig) -> int:
    return len(PROGRAM_NAMES)


def coursera_program(k: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Program `k` of the organization, as `/programs` lists it."""
    name, slug = PROGRAM_NAMES[k]
    program = {"id": _program_id(cfg.seed, k), "name": name, "slug": slug}
    program["tagline"] = f"{name} — curated for our teams"
    program["url"] = f"https://www.coursera.org/programs/{slug}"
    return program


def coursera_content(i: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Catalog record of content index `i` as the `day` night's `/contents` shows it."""
    core = _coursera_content_core(cfg.seed, cfg.coursera_contents, i, day)
    draws = _draws(cfg.seed, "ccontent-extra", i)
    partner_name, partner_key = draws.pick(_PARTNERS)
    record: dict[str, Any] = {
        "contentId": core.content_id,
        "contentType": core.content_type,
        "name": core.name,
        "description": core.description,
        "slug": core.slug,
        "languageCode": core.language,
        "difficultyLevel": draws.weighted(
            (("BEGINNER", 0.45), ("INTERMEDIATE", 0.30), ("ADVANCED", 0.12), ("MIXED", 0.13))
        ),
        "partners": [
            {"name": partner_name, "logoUrl": f"https://cdn.example.com/partners/{partner_key}.png"}
        ],
    }
    instructors = []
    for k in range(draws.between(0 if core.content_type != "Course" else 1, 3)):
        person = _draws(cfg.seed, "instructor", i, k)
        instructor = {
            "name": f"{person.pick(_FIRST_NAMES)} {person.pick(_LAST_NAMES)}",
            "title": person.pick(_INSTRUCTOR_TITLES),
        }
        if person.chance(0.8):
            instructor["photoUrl"] = f"https://cdn.example.com/instructors/{i}-{k}.jpg"
        instructors.append(instructor)
    record["instructors"] = instructors
    if draws.chance(0.9):  # some content is in the catalog but in no program yet
        programs = []
        first = draws.below(len(PROGRAM_NAMES))
        for k in sorted({first, draws.below(len(PROGRAM_NAMES))}):
            slug = PROGRAM_NAMES[k][1]
            programs.append(
                {
                    "programId": _program_id(cfg.seed, k),
                    "contentUrl": f"https://www.coursera.org/programs/{slug}/"
                    f"{_content_path(core.content_type)}/{core.slug}",
                }
            )
        record["programs"] = programs
    if draws.chance(0.88):
        if core.content_type == "Specialization":
            definition: dict[str, Any] = {"courseCount": draws.between(3, 6)}
            record["extraMetadata"] = {
                "typeName": "specializationMetadata",
                "definition": definition,
            }
        else:
            definition = {
                "estimatedLearningTime": core.learning_seconds,  # seconds, not minutes
                "skills": [
                    {"skillId": f"skill-{s}", "skillName": _SKILLS[s]}
                    for s in sorted({draws.below(len(_SKILLS)) for _ in range(draws.between(0, 3))})
                ],
            }
            record["extraMetadata"] = {"typeName": "courseMetadata", "definition": definition}
        if draws.chance(0.85):
            definition["promoPhoto"] = f"https://cdn.example.com/promo/{core.content_id}.jpg"
    return record


# -- Coursera enrollment reports -------------------------------------------------------------


def coursera_enrollment_total(cfg: SimulatorConfig, include_specializations: bool) -> int:
    rows = cfg.coursera_enrollments
    return rows if include_specializations else rows - rows // COURSERA_ROWS_PER_LEARNER


def coursera_enrollment_row_index(position: int, include_specializations: bool) -> int:
    """Which row sits at `position` of the report.

    Without `includeS12n=true` every learner's specialization slot drops out.
    """
    if include_specializations:
        return position
    per_learner = COURSERA_ROWS_PER_LEARNER - 1
    return (position // per_learner) * COURSERA_ROWS_PER_LEARNER + position % per_learner


def _fresh_pick(draws: _Draws, candidates: int, fits, used: set[int], spares: list[int]) -> int:
    """An index below `candidates` that `fits` and is not `used`; else a spare orphan."""
    for _ in range(32):
        i = draws.below(candidates) if candidates else -1
        if i >= 0 and fits(i) and i not in used:
            return i
    return spares.pop(0)


@lru_cache(maxsize=8192)
def _coursera_learner_plan(seed: int, size: int, n: int) -> tuple[tuple[int, int], ...]:
    """(content index, program) of each of learner `n`'s rows.

    Contents differ from slot to slot whenever the catalog allows, so the report
    never holds the same learner x content x program twice; the second-program slot
    deliberately repeats slot 0's content under another program.
    """
    draws = _draws(seed, "cplan", n)
    programs = len(PROGRAM_NAMES)
    home = draws.below(programs)
    orphans = list(_orphans(size))
    spare_courses, spare_specialization = orphans[:-1], [orphans[-1]]
    used: set[int] = set()
    plan: list[tuple[int, int]] = []
    for slot in range(COURSERA_ROWS_PER_LEARNER):
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
                return (_coursera_type(seed, size, i) == "Specialization") == want

            spares = spare_specialization if is_specialization_slot else spare_courses
            content = _fresh_pick(draws, size, fits, used, spares)
        program = home if draws.chance(0.85) else draws.below(programs)
        taken = {p for c, p in plan if c == content}
        while program in taken:
            program = (program + 1) % programs
        used.add(content)
        plan.append((content, program))
    return tuple(plan)


def coursera_enrollment(j: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Row `j` of `/enrollmentReports?includeS12n=true` on the `day` night."""
    seed, size = cfg.seed, cfg.coursera_contents
    n, slot = divmod(j, COURSERA_ROWS_PER_LEARNER)
    content_index, program = _coursera_learner_plan(seed, size, n)[slot]
    # Reports lag the catalog (up to 24 h): a renamed course keeps its old name
    # here, so on day 2 only the rows that advance differ from day 1.
    content = _coursera_content_core(seed, size, content_index, 1)
    full_name, external_id = _learner(seed, n)
    program_name, program_slug = PROGRAM_NAMES[program]
    draws = _draws(seed, "cenr", j)

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
    email = _email_as_written(n, draws)
    membership = "MEMBER" if draws.chance(0.97) else "FORMER_MEMBER"
    has_certificate = draws.chance(0.9)

    if day == 2:
        if j == UNDONE_ROW:
            progress, completed_at = 80.0, None
            last_activity_at = snapshot_at(2) - 3 * 3600
        else:
            changes = _draws(seed, "cenr-day2", j)
            if changes.chance(cfg.changed_fraction):
                last_activity_at = snapshot_at(2) - changes.between(600, 20 * 3600)
                if progress < 100:
                    progress = min(100.0, round(progress + changes.uniform(5, 45), 2))
                    if changes.chance(0.25):
                        progress = 100.0
                    if progress >= 100:
                        completed_at = last_activity_at

    hours_spent = content.learning_seconds / 3600 * progress / 100 * effort
    row: dict[str, Any] = {
        "externalId": external_id,
        "email": email,
        "fullName": full_name,
        "contentId": content.content_id,
        "contentType": content.content_type,
        "contentName": content.name,
        "contentSlug": content.slug,
        "programId": _program_id(seed, program),
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
            code = _short_id(seed, "certificate", j)[:12].upper()
            row["contentCertificateUrl"] = f"https://coursera.org/verify/{kind}{code}"
    elif progress > 0 and grade_roll < 0.4:
        row["grade"] = round(grade_value * progress / 100, 4)  # graded so far
    elif progress > 0 and grade_roll < 0.6:
        row["grade"] = None  # present but not graded yet; otherwise absent
    return row


# -- OpenClassrooms catalog ----------------------------------------------------------------

_OC_STATUSES = (
    ("active", 0.85),
    ("coming-soon", 0.04),
    ("pre-registration", 0.03),
    ("archived", 0.05),
    ("closed", 0.03),
)


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
def _oc_course_core(seed: int, i: int, day: int) -> _Course:
    draws = _draws(seed, "occourse", i)
    language = draws.weighted(_OC_LANGUAGES)
    title, slug = draws.pick(_TITLES[language])
    status = draws.weighted(_OC_STATUSES)
    if i in (0, OC_ARCHIVED, OC_CLOSED, 4):
        status = "active"
    elif i == OC_RESTORED:
        status = "archived"
    description = (
        f"<p>{draws.pick(_DESCRIPTION_BLURBS)}</p>"
        f'<p>Prérequis&nbsp;: <a href="https://openclassrooms.com">aucun</a></p>'
    )
    duration = draws.between(2, 80) * 30  # minutes
    updated_at = snapshot_at(1) - draws.between(DAY_SECONDS, 800 * DAY_SECONDS)
    if day == 2:
        changes = _draws(seed, "occourse-day2", i)
        changed = False
        if i == TITLE_CHANGED_PINNED or changes.chance(0.04):
            title, changed = f"{title} — nouvelle version", True
        if i == DESCRIPTION_CHANGED_PINNED or changes.chance(0.04):
            description, changed = f"{description}<p>Mis à jour : nouveaux exercices.</p>", True
        flip = changes.unit()
        new_status = status
        if i == OC_RESTORED:
            new_status = "active"
        elif i == OC_ARCHIVED:
            new_status = "archived"
        elif i == OC_CLOSED:
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
        language=_OC_LANGUAGE_CODES[language],
        duration=duration,
        updated_at=updated_at,
    )


def openclassrooms_course(i: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Catalog record of course index `i` as the `day` night's `/courses` shows it."""
    core = _oc_course_core(cfg.seed, i, day)
    draws = _draws(cfg.seed, "occourse-extra", i)
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
    record["updatedAt"] = _iso(core.updated_at)
    return record


# -- OpenClassrooms learner progress -------------------------------------------------------


@lru_cache(maxsize=8192)
def _oc_learner_plan(seed: int, size: int, n: int) -> tuple[int, ...]:
    """Course index of each of learner `n`'s rows, all different."""
    draws = _draws(seed, "ocplan", n)
    spares = list(_orphans(size))
    used: set[int] = set()
    plan: list[int] = []
    for slot in range(OC_ROWS_PER_LEARNER):
        if n == UNDONE_LEARNER and slot == 0:
            course = 0 if size else spares.pop(0)
        elif draws.chance(0.005):  # a course no catalog lists
            course = spares.pop(0)
        else:
            course = _fresh_pick(draws, size, lambda i: True, used, spares)
        used.add(course)
        plan.append(course)
    return tuple(plan)


def openclassrooms_progress(j: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Row `j` of `/learners/progress` on the `day` night."""
    seed = cfg.seed
    n, slot = divmod(j, OC_ROWS_PER_LEARNER)
    course_index = _oc_learner_plan(seed, cfg.openclassrooms_courses, n)[slot]
    course = _oc_course_core(seed, course_index, 1)  # id and duration never change
    draws = _draws(seed, "ocprog", j)

    day1 = snapshot_at(1)
    started_at = day1 - draws.between(DAY_SECONDS, 600 * DAY_SECONDS)
    state = draws.unit()
    progress = 100 if j == UNDONE_ROW or state < 0.30 else draws.between(0, 99)
    last_activity_at = started_at + int((day1 - started_at) * draws.uniform(0.05, 1.0))
    completed_at = last_activity_at if progress == 100 else None
    email = _email_as_written(n, draws)
    sends_time_spent = draws.chance(0.9)

    if day == 2:
        if j == UNDONE_ROW:
            progress, completed_at = 80, None
            last_activity_at = snapshot_at(2) - 3 * 3600
        else:
            changes = _draws(seed, "ocprog-day2", j)
            if changes.chance(cfg.changed_fraction):
                last_activity_at = snapshot_at(2) - changes.between(600, 20 * 3600)
                if progress < 100:
                    progress = min(100, progress + changes.between(5, 45))
                    if changes.chance(0.25):
                        progress = 100
                    if progress == 100:
                        completed_at = last_activity_at

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
    row["startedAt"] = _iso(started_at)
    row["completedAt"] = _iso(completed_at) if completed_at is not None else None
    row["lastActivityAt"] = _iso(last_activity_at)
    return row
