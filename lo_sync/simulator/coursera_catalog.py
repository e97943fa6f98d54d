"""Simulated Coursera's catalog: content records and the organization's programs.

Records are built by index from `randomness` draws; which indices a night lists
comes from `nights`. Catalog index 1 is always a specialization. The enrollment
reports (coursera.py) repeat what `content_core` says of a content item.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.nights import PINNED, description_changes, orphans, title_changes
from lo_sync.simulator.randomness import draws_for, short_id
from lo_sync.simulator.word_pools import (
    DESCRIPTION_BLURBS,
    FIRST_NAMES,
    INSTRUCTOR_TITLES,
    LAST_NAMES,
    MODULES_HTML,
    PARTNERS,
    SKILLS,
    TITLES,
)

LANGUAGES = (
    ("en", 0.60),
    ("fr", 0.12),
    ("es", 0.06),
    ("pt-BR", 0.04),
    ("de", 0.04),
    ("ja", 0.05),
    ("zh-CN", 0.05),
    ("ko", 0.04),
)
PROGRAM_NAMES = (
    ("Data Skills Academy", "data-skills-academy"),
    ("Leadership Essentials", "leadership-essentials"),
    ("Cloud & DevOps", "cloud-devops"),
    ("Marketing numérique", "marketing-numerique"),
    ("エンジニア基礎", "engineering-basics-jp"),
    ("Compliance 2024", "compliance-2024"),
)
SPECIALIZATION_PINNED = 1
# The never-seen enum value unknown_fields puts in a share of records.
CONTENT_UNSEEN = ("contentType", "Podcast")


@lru_cache(maxsize=4096)
def program_id(seed: int, k: int) -> str:
    return short_id(seed, "program", k)


class Content(NamedTuple):
    """What stats rows repeat about a content item, as of one day."""

    content_id: str
    content_type: str
    name: str
    slug: str
    description: str
    language: str
    learning_seconds: int


@lru_cache(maxsize=262_144)
def content_type_of(seed: int, size: int, i: int) -> str:
    spares = orphans(size)
    if i == SPECIALIZATION_PINNED or i == spares[-1]:
        return "Specialization"
    if i < PINNED or i in spares:
        return "Course"
    return draws_for(seed, "ctype", i).weighted(
        (
            ("Course", 0.85),
            ("Specialization", 0.13),
            ("Project", 0.015),
            ("ProfessionalCertificate", 0.005),
        )
    )


@lru_cache(maxsize=65_536)
def content_core(seed: int, size: int, i: int, day: int) -> Content:
    content_type = content_type_of(seed, size, i)
    draws = draws_for(seed, "ccontent", i)
    language = draws.weighted(LANGUAGES)
    title, slug_base = draws.pick(TITLES[language])
    if content_type == "Specialization" and not title.endswith("Specialization"):
        title = f"{title} Specialization"
    blurb = draws.pick(DESCRIPTION_BLURBS)
    description = "" if draws.chance(0.03) else f"<p>{blurb}</p>{MODULES_HTML}"
    hours = draws.between(2, 60) if content_type != "Specialization" else draws.between(30, 200)
    # Some content carries an odd number of seconds, not a round hour count.
    learning_seconds = hours * 3600 + (draws.between(1, 3599) if draws.chance(0.3) else 0)
    if day == 2:
        changes = draws_for(seed, "ccontent-day2", i)
        if title_changes(i, changes):
            title = f"{title} (2024 edition)"
        if description_changes(i, changes):
            description = f"{description}<p><strong>Updated:</strong> new labs added.</p>"
    return Content(
        content_id=short_id(seed, "content", i),
        content_type=content_type,
        name=title,
        slug=f"{slug_base}-{i}",
        description=description,
        language=language,
        learning_seconds=learning_seconds,
    )


def content_path(content_type: str) -> str:
    return {"Course": "learn", "Specialization": "specializations", "Project": "projects"}.get(
        content_type, "professional-certificates"
    )


def program_count(cfg: SimulatorConfig) -> int:
    return len(PROGRAM_NAMES)


def program_record(k: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Program `k` of the organization, as `/programs` lists it."""
    name, slug = PROGRAM_NAMES[k]
    program = {"id": program_id(cfg.seed, k), "name": name, "slug": slug}
    program["tagline"] = f"{name} — curated for our teams"
    program["url"] = f"https://www.coursera.org/programs/{slug}"
    return program


def content_record(i: int, day: int, cfg: SimulatorConfig) -> dict[str, Any]:
    """Catalog record of content index `i` as the `day` night's `/contents` shows it."""
    core = content_core(cfg.seed, cfg.coursera_contents, i, day)
    draws = draws_for(cfg.seed, "ccontent-extra", i)
    partner_name, partner_key = draws.pick(PARTNERS)
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
        person = draws_for(cfg.seed, "instructor", i, k)
        instructor = {
            "name": f"{person.pick(FIRST_NAMES)} {person.pick(LAST_NAMES)}",
            "title": person.pick(INSTRUCTOR_TITLES),
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
                    "programId": program_id(cfg.seed, k),
                    "contentUrl": f"https://www.coursera.org/programs/{slug}/"
                    f"{content_path(core.content_type)}/{core.slug}",
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
                    {"skillId": f"skill-{s}", "skillName": SKILLS[s]}
                    for s in sorted({draws.below(len(SKILLS)) for _ in range(draws.between(0, 3))})
                ],
            }
            record["extraMetadata"] = {"typeName": "courseMetadata", "definition": definition}
        if draws.chance(0.85):
            definition["promoPhoto"] = f"https://cdn.example.com/promo/{core.content_id}.jpg"
    return record
