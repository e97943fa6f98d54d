"""OpenClassrooms: catalog from `/organizations/{id}/courses`, statistics from
`/organizations/{id}/learners/progress`.

Only OpenClassrooms' general conventions are public (bearer auth, bare JSON arrays,
`Range: items=` paging); paths and fields are the project's choice, per
docs/provider-contracts.md, and live here and nowhere else.
"""

from __future__ import annotations

from lo_sync.http import RangePaginator
from lo_sync.providers.base import Listing, Provider, Settings
from lo_sync.providers.fields import (
    MAX_TITLE_LENGTH,
    email,
    identifier,
    minutes,
    optional,
    percent,
    required,
    required_text,
    text,
    timestamp,
)
from lo_sync.providers.records import Notes, RecordError

# Every status the contract names; any other is kept, archived as the guide says,
# and noted as new.
KNOWN_STATUSES = frozenset({"active", "coming-soon", "pre-registration", "archived", "closed"})
LEVELS = frozenset({"easy", "medium", "hard"})
PROGRESS_STATUSES = frozenset({"in-progress", "completed"})


class OpenClassrooms(Provider):
    name = "openclassrooms"
    org_key = "organization_id"
    default_base_url = "https://api.openclassrooms.com"
    default_token_url = "https://api.openclassrooms.com/oauth2/token"
    # We ask for this many unless the config says otherwise, and ask for what the
    # config says even above it: the server may cap each slice lower and we follow
    # what it sent.
    max_page_size = 1000
    # From the connector guide: any other status means the course is no longer offered.
    active_statuses = frozenset({"active", "coming-soon", "pre-registration"})
    course_id_field = "id"
    course_fields = frozenset(
        "id title description status language duration level image url updatedAt "
        "illustration OpenClassroomsUrl".split()
    )
    stat_fields = frozenset(
        "userId email name courseId progress timeSpent status startedAt completedAt "
        "lastActivityAt".split()
    )

    def listing(self, kind: str, cfg: Settings, page_size: int | None = None) -> Listing:
        path = "courses" if kind == "courses" else "learners/progress"
        return Listing(
            f"{cfg.base_url}/organizations/{cfg.org_id}/{path}",
            RangePaginator(self.name, self._size(page_size)),
        )

    def _size(self, page_size: int | None) -> int:
        return page_size or self.max_page_size

    @staticmethod
    def course_row(record: dict, notes: Notes) -> dict:
        if not isinstance(record, dict):
            raise RecordError("record", "is not an object")
        # Without its status lo-sync cannot tell whether the course is still offered.
        status = required_text(record, "status", 100)
        if status not in KNOWN_STATUSES:
            notes.new_value("status", status)
        level = optional(record, "level", text, notes)
        if level is not None and level not in LEVELS:
            notes.new_value("level", level)
        # duration is minutes; OpenClassrooms' public API spells it as an ISO-8601
        # duration (PT20H), read in any field.
        duration = optional(record, "duration", minutes, notes, "minutes")
        return {
            "external_id": required(record, "id", identifier),
            "title": required_text(record, "title", MAX_TITLE_LENGTH),
            "description": optional(record, "description", text, notes),
            # The public content API's house style names the page and the image so.
            "url": optional(record, "url", text, notes)
            or optional(record, "OpenClassroomsUrl", text, notes),
            "image_url": optional(record, "image", text, notes)
            or optional(record, "illustration", text, notes),
            "language": optional(record, "language", text, notes),
            "duration_minutes": None if duration is None else round(duration),
            "status": status,
            "content_type": "Course",
            "skills": "[]",
            "level": level,
            "provider_updated_at": optional(record, "updatedAt", timestamp, notes, "iso"),
            "parent_external_id": None,
        }

    @staticmethod
    def stat_row(record: dict, notes: Notes) -> dict:
        if not isinstance(record, dict):
            raise RecordError("record", "is not an object")
        address = optional(record, "email", email, notes)
        user_id = optional(record, "userId", identifier, notes)
        if address is None and user_id is None:
            raise RecordError("learner", "no e-mail and no userId")
        progress = optional(record, "progress", percent, notes)
        status = optional(record, "status", text, notes)
        if status is not None and status not in PROGRESS_STATUSES:
            notes.new_value("status", status)
        time_spent = optional(record, "timeSpent", minutes, notes, "minutes")
        return {
            "course_external_id": required(record, "courseId", identifier),
            "learner_key": address or user_id,
            "learner_email": address,
            "learner_external_id": user_id,
            "learner_name": optional(record, "name", text, notes),
            "content_type": "Course",
            "progress_percent": progress,
            "completed": int(status == "completed" or progress == 100),
            "completed_at": optional(record, "completedAt", timestamp, notes, "iso"),
            "score_percent": None,
            # OpenClassrooms sends theoretical time (course duration x progress), not
            # measured time. When absent, the store computes it the same way from the
            # course's duration once the catalog is known (time_spent_minutes stays NULL here).
            "time_spent_minutes": None if time_spent is None else round(time_spent, 2),
            "time_spent_theoretical": 1,
            "last_activity_at": optional(record, "lastActivityAt", timestamp, notes, "iso"),
            "enrolled_at": optional(record, "startedAt", timestamp, notes, "iso"),
            "program_id": None,
        }
