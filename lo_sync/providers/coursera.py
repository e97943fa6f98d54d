"""Coursera for Business: catalog from `/contents`, statistics from `/enrollmentReports`.

Paths, field names and units per docs/provider-contracts.md; they live here and nowhere else.
"""

from __future__ import annotations

import json

from lo_sync.http import OffsetPaginator
from lo_sync.providers.base import Listing, Provider, Settings
from lo_sync.providers.fields import (
    MAX_MINUTES,
    MAX_TITLE_LENGTH,
    Unreadable,
    Unusual,
    boolean,
    email,
    fraction_as_percent,
    identifier,
    minutes,
    optional,
    percent,
    required,
    required_text,
    text,
    timestamp,
    usual_email,
    usual_epoch,
    usual_id,
    usual_number,
    usual_text,
)
from lo_sync.providers.records import Notes, RecordError

# The kinds of content Coursera is known to send, and where each one's public page
# lives (under https://www.coursera.org/). A kind not listed is kept as sent and
# noted as new.
CONTENT_PAGES = {
    "Course": "learn",
    "Specialization": "specializations",
    "Project": "projects",
    "ProfessionalCertificate": "professional-certificates",
    "Video": None,  # a clip: its page is its lesson's (clipMetadata.parentLessonObjectUrl)
}
LEARNING_PATH = "LearningPath"
PROGRAM_COLLECTION = "ProgramCollection"
# Ids spelled "<kind>~<id>" by some reports ("Course~abc" is the course "abc").
_ID_PREFIXES = {"course": "Course", "specialization": "Specialization", "s12n": "Specialization"}
_LEARNING_PATH_TYPES = frozenset({"learningpath", "learning_path", "learning-path"})
MEMBERSHIP_STATES = frozenset({"MEMBER", "FORMER_MEMBER"})
DIFFICULTY_LEVELS = frozenset({"BEGINNER", "INTERMEDIATE", "ADVANCED", "MIXED"})
METADATA_TYPES = frozenset({"courseMetadata", "specializationMetadata", "clipMetadata"})
# What report rows may name: the catalog's kinds, and the kinds it never lists.
KNOWN_REPORT_TYPES = frozenset(CONTENT_PAGES) | {LEARNING_PATH, PROGRAM_COLLECTION}


class Coursera(Provider):
    name = "coursera"
    org_key = "org_id"
    default_base_url = "https://api.coursera.com/ent/api"
    default_token_url = "https://api.coursera.com/oauth2/client_credentials/token"
    max_page_size = 1000  # the simulator answers 400 above it; real clients use 1000
    active_statuses = None  # Coursera has no course status: only disappearance archives
    course_id_field = "contentId"
    course_fields = frozenset(
        "contentId contentType name description slug languageCode difficultyLevel partners "
        "instructors programs extraMetadata lastUpdatedAt promoPhoto".split()
    )
    stat_fields = frozenset(
        "externalId email fullName contentId contentType contentName contentSlug programId "
        "programName programSlug isCompleted overallProgress grade enrolledAt lastActivityAt "
        "lastActivity completedAt approxTotalCourseHrs approxTotalLearningHours "
        "membershipState contentCertificateUrl".split()
    )
    non_catalog_types = frozenset({LEARNING_PATH, PROGRAM_COLLECTION})

    def listing(self, kind: str, cfg: Settings, page_size: int | None = None) -> Listing:
        paginator = OffsetPaginator(self.name, self._limit(page_size))
        if kind == "courses":
            return Listing(f"{cfg.base_url}/businesses.v1/{cfg.org_id}/contents", paginator)
        return Listing(
            f"{cfg.base_url}/businesses.v1/{cfg.org_id}/enrollmentReports",
            paginator,
            {"includeS12n": "true"},
        )

    def _limit(self, page_size: int | None) -> int:
        # Coursera answers 400 to a limit above max_page_size: a larger http.page_size
        # in the config must not break every run.
        return min(page_size or self.max_page_size, self.max_page_size)

    @staticmethod
    def content_key(external_id: str) -> str:
        return content_identity(external_id, None)[0]

    @staticmethod
    def course_row(record: dict, notes: Notes) -> dict:
        if not isinstance(record, dict):
            raise RecordError("record", "is not an object")
        content_id, content_type = content_identity(
            required(record, "contentId", identifier), optional(record, "contentType", text, notes)
        )
        if content_type not in CONTENT_PAGES:
            notes.new_value("contentType", content_type)
        level = optional(record, "difficultyLevel", text, notes)
        if level is not None and level not in DIFFICULTY_LEVELS:
            notes.new_value("difficultyLevel", level)
        metadata = _metadata(record, notes)
        seconds = optional(metadata, "estimatedLearningTime", minutes, notes, "seconds")
        parent = optional(metadata, "parentCourseId", identifier, notes)
        return {
            "external_id": content_id,
            "title": required_text(record, "name", MAX_TITLE_LENGTH),
            # A specialization's tagline says what it is when it has no description.
            "description": optional(record, "description", text, notes)
            or optional(metadata, "tagline", text, notes),
            "url": _launch_url(record, metadata, content_type, notes),
            "image_url": optional(metadata, "promoPhoto", text, notes)
            or optional(record, "promoPhoto", text, notes),
            "language": optional(record, "languageCode", text, notes),
            # estimatedLearningTime is in seconds; we store minutes.
            "duration_minutes": None if seconds is None else round(seconds),
            "status": None,
            "content_type": content_type,
            "skills": json.dumps(_skills(metadata, notes), ensure_ascii=False),
            "level": level,
            # Contents carry lastUpdatedAt in epoch seconds.
            "provider_updated_at": optional(record, "lastUpdatedAt", timestamp, notes, "s"),
            "parent_external_id": None if parent is None else content_identity(parent, None)[0],
        }

    @staticmethod
    def stat_row(record: dict, notes: Notes) -> dict:
        if record.__class__ is dict:
            try:
                return _usual_stat_row(record)
            except Unusual:
                pass
        return _stat_row(record, notes)


def _stat_row(record: dict, notes: Notes) -> dict:
    """A report row read field by field with the general readers, which note every
    value they cannot read."""
    if not isinstance(record, dict):
        raise RecordError("record", "is not an object")
    learner_email, external_id = _learner(record, notes)
    content_id, content_type = content_identity(
        required(record, "contentId", identifier), optional(record, "contentType", text, notes)
    )
    progress = optional(record, "overallProgress", percent, notes)
    completed_at = optional(record, "completedAt", timestamp, notes, "ms")
    completed = optional(record, "isCompleted", boolean, notes)
    if completed is None:
        # Not sent, or unreadable: a completion date or full progress says it.
        completed = completed_at is not None or progress == 100
    # approxTotalCourseHrs is hours spent on this content item; clip rows call
    # it approxTotalLearningHours.
    hours = optional(record, "approxTotalCourseHrs", minutes, notes, "hours")
    if hours is None:
        hours = optional(record, "approxTotalLearningHours", minutes, notes, "hours")
    last_activity = optional(record, "lastActivityAt", timestamp, notes, "ms")
    if last_activity is None:
        last_activity = optional(record, "lastActivity", timestamp, notes, "ms")
    state = optional(record, "membershipState", text, notes)
    if state is not None and state not in MEMBERSHIP_STATES:
        notes.new_value("membershipState", state)
    if content_type not in KNOWN_REPORT_TYPES:
        notes.new_value("contentType", content_type)
    return _progress_row(
        content_id,
        content_type,
        learner_email,
        external_id,
        name=optional(record, "fullName", text, notes),
        progress=progress,
        completed=completed,
        completed_at=completed_at,
        # grade is on 0-1, absent or null until graded.
        score=optional(record, "grade", fraction_as_percent, notes),
        hours=hours,
        last_activity=last_activity,
        enrolled_at=optional(record, "enrolledAt", timestamp, notes, "ms"),
        program_id=optional(record, "programId", identifier, notes),
    )


_MAX_HOURS = MAX_MINUTES / 60


def _usual_stat_row(record: dict) -> dict:
    """`_stat_row` of a report row spelled as the contract has it, with one quick
    reader a value (`fields.usual_*`); `Unusual` for anything else, which
    `_stat_row` then reads and notes."""
    get = record.get
    learner_email = usual_email(get("email"))
    external_id = usual_id(get("externalId"))
    if learner_email is None and (external_id is None or "@" in external_id):
        raise Unusual  # no learner, or an e-mail to find in the externalId
    content_id = usual_id(get("contentId"))
    sent_type = get("contentType")
    if content_id is None or not (sent_type is None or sent_type.__class__ is str):
        raise Unusual
    content_id, content_type = content_identity(content_id, sent_type)
    completed, state = get("isCompleted"), get("membershipState")
    if (
        content_type not in KNOWN_REPORT_TYPES
        or not (completed is None or completed is True or completed is False)
        or not (state is None or (state.__class__ is str and state in MEMBERSHIP_STATES))
    ):
        raise Unusual
    progress = usual_number(get("overallProgress"), 0, 100)
    completed_at = usual_epoch(get("completedAt"), 1000)
    if completed is None:
        completed = completed_at is not None or progress == 100
    hours = usual_number(get("approxTotalCourseHrs"), 0, _MAX_HOURS)
    if hours is None:
        hours = usual_number(get("approxTotalLearningHours"), 0, _MAX_HOURS)
    last_activity = usual_epoch(get("lastActivityAt"), 1000)
    if last_activity is None:
        last_activity = usual_epoch(get("lastActivity"), 1000)
    grade = usual_number(get("grade"), 0, 1)
    return _progress_row(
        content_id,
        content_type,
        learner_email,
        external_id,
        name=usual_text(get("fullName")),
        progress=None if progress is None else float(progress),
        completed=completed,
        completed_at=completed_at,
        score=None if grade is None else round(float(grade) * 100, 2),
        hours=None if hours is None else hours * 60,
        last_activity=last_activity,
        enrolled_at=usual_epoch(get("enrolledAt"), 1000),
        program_id=usual_id(get("programId")),
    )


def _progress_row(
    content_id, content_type, learner_email, external_id, *, name, progress, completed,
    completed_at, score, hours, last_activity, enrolled_at, program_id,
) -> dict:  # fmt: skip
    """The progress row of a report row, its values read (`hours` in minutes)."""
    return {
        "course_external_id": content_id,
        "learner_key": learner_email or external_id,
        "learner_email": learner_email,
        "learner_external_id": external_id,
        "learner_name": name,
        "content_type": content_type,
        "progress_percent": progress,
        "completed": int(completed),
        "completed_at": completed_at,
        "score_percent": score,
        "time_spent_minutes": None if hours is None else round(hours, 2),
        "time_spent_theoretical": 0,
        "last_activity_at": last_activity,
        "enrolled_at": enrolled_at,
        "program_id": program_id,
    }


def content_identity(content_id: str, content_type: str | None) -> tuple[str, str]:
    """(the id a content is stored under, its kind) from the id and type as sent.

    "Course~abc" and "abc" are the same course. "<programId>~<collectionId>" is a
    program's collection, and a learning path is a learning path: both are kept
    under their own id and kind, never taken for a catalog course.
    """
    if content_type is not None and content_type.lower() in _LEARNING_PATH_TYPES:
        return content_id, LEARNING_PATH
    prefix, tilde, rest = content_id.partition("~")
    if tilde and rest:
        kind = _ID_PREFIXES.get(prefix.lower())
        if kind is None:
            return content_id, PROGRAM_COLLECTION
        return rest, content_type or kind
    return content_id, content_type or "Course"


def _learner(record: dict, notes: Notes) -> tuple[str | None, str | None]:
    """(e-mail, external id) of a report row; at least one, or the row cannot be stored.

    externalId is the organization's id for the learner, and the learner's e-mail
    when the organization set none: an externalId that is an e-mail address is
    taken as the e-mail when the row has none.
    """
    address = optional(record, "email", email, notes)
    external_id = optional(record, "externalId", identifier, notes)
    if address is None and external_id is not None and "@" in external_id:
        try:
            address = email(external_id)
        except Unreadable:
            pass
    if address is None and external_id is None:
        raise RecordError("learner", "no e-mail and no externalId")
    return address, external_id


def _metadata(record: dict, notes: Notes) -> dict:
    """extraMetadata.definition, whichever kind of metadata it is (course, specialization
    or clip: their fields do not clash)."""
    extra = record.get("extraMetadata")
    if not isinstance(extra, dict):
        if extra is not None:
            notes.unread("extraMetadata", "is not an object", extra)
        return {}
    type_name = optional(extra, "typeName", text, notes)
    if type_name is not None and type_name not in METADATA_TYPES:
        notes.new_value("extraMetadata.typeName", type_name)
    definition = extra.get("definition")
    if isinstance(definition, dict):
        return definition
    if definition is not None:
        notes.unread("extraMetadata.definition", "is not an object", definition)
    return {}


def _skills(metadata: dict, notes: Notes) -> list[str]:
    """Skill names: courses send skills [{skillId, skillName}], clips skillTags
    (names, or objects with a name)."""
    names: list[str] = []
    for key in ("skills", "skillTags"):
        entries = metadata.get(key)
        if not isinstance(entries, list):
            if entries is not None:
                notes.unread(key, "is not a list", entries)
            continue
        for entry in entries:
            name = entry.get("skillName") or entry.get("name") if isinstance(entry, dict) else entry
            if not isinstance(name, str) or not name.strip():
                continue
            try:
                name = text(name.strip())  # a lone surrogate cannot be stored
            except Unreadable as problem:
                notes.unread(key, str(problem), name)
                continue
            if name not in names:
                names.append(name)
    return names


def _launch_url(record: dict, metadata: dict, content_type: str, notes: Notes) -> str | None:
    # The program's contentUrl launches the content inside the organization's
    # program (the learner is entitled there); the public page is the fallback.
    programs = record.get("programs")
    if not isinstance(programs, list):
        if programs is not None:
            notes.unread("programs", "is not a list", programs)
        programs = ()
    for program in programs:
        url = optional(program, "contentUrl", text, notes) if isinstance(program, dict) else None
        if url is not None and url.startswith(("https://", "http://")):
            return url
    if content_type == "Video":
        lesson = optional(metadata, "parentLessonObjectUrl", text, notes)
        return lesson if lesson and lesson.startswith(("https://", "http://")) else None
    slug = optional(record, "slug", text, notes)
    path = CONTENT_PAGES.get(content_type, "learn")
    if not slug or path is None:
        return None
    return f"https://www.coursera.org/{path}/{slug}"
