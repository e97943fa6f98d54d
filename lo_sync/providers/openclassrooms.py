"""OpenClassrooms: catalog from `/organizations/{id}/courses`, statistics from
`/organizations/{id}/learners/progress`.

Only OpenClassrooms' general conventions are public (bearer auth, bare JSON arrays,
`Range: items=` paging); paths and fields are the project's choice, per
docs/provider-contracts.md, and live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator

from lo_sync.http import ApiClient, RangePaginator, paginate
from lo_sync.providers.base import Provider, RecordError, Settings
from lo_sync.providers.fields import (
    MAX_TITLE_LENGTH,
    email_address,
    iso_from_text,
    optional_text,
    percent,
    required_text,
)


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

    def fetch_courses(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list[dict]]:
        url = f"{cfg.base_url}/organizations/{cfg.org_id}/courses"
        return paginate(client, url, RangePaginator(client.provider, self._size(page_size)))

    def fetch_stats(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list[dict]]:
        url = f"{cfg.base_url}/organizations/{cfg.org_id}/learners/progress"
        return paginate(client, url, RangePaginator(client.provider, self._size(page_size)))

    def _size(self, page_size: int | None) -> int:
        return page_size or self.max_page_size

    @staticmethod
    def course_row(record: dict) -> dict:
        if not isinstance(record, dict):
            raise RecordError("record is not an object")
        duration = record.get("duration")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0
        ):
            raise RecordError(f"duration is not minutes: {duration!r}")
        return {
            "external_id": _integer_id(record, "id"),
            "title": required_text(record, "title", MAX_TITLE_LENGTH),
            "description": optional_text(record, "description"),
            "url": optional_text(record, "url"),
            "image_url": optional_text(record, "image"),
            "language": optional_text(record, "language"),
            "duration_minutes": None if duration is None else round(duration),
            "status": required_text(record, "status", 100),
            "content_type": "Course",
            "skills": "[]",
            "level": optional_text(record, "level"),
            "provider_updated_at": iso_from_text(record.get("updatedAt"), "updatedAt"),
        }

    @staticmethod
    def stat_row(record: dict) -> dict:
        if not isinstance(record, dict):
            raise RecordError("record is not an object")
        email = required_text(record, "email", 320)
        progress = percent(record.get("progress"), "progress")
        status = optional_text(record, "status")
        time_spent = record.get("timeSpent")
        if time_spent is not None and (
            isinstance(time_spent, bool)
            or not isinstance(time_spent, (int, float))
            or time_spent < 0
        ):
            raise RecordError(f"timeSpent is not minutes: {time_spent!r}")
        user_id = record.get("userId")
        return {
            "course_external_id": _integer_id(record, "courseId"),
            "learner_email": email_address(email, "email"),
            "learner_external_id": None if user_id in (None, "") else str(user_id),
            "learner_name": optional_text(record, "name"),
            "progress_percent": progress,
            "completed": int(status == "completed" or progress == 100),
            "completed_at": iso_from_text(record.get("completedAt"), "completedAt"),
            "score_percent": None,
            # OpenClassrooms sends theoretical time (course duration x progress), not
            # measured time. When absent, the store computes it the same way from the
            # course's duration once the catalog is known (time_spent_minutes stays NULL here).
            "time_spent_minutes": None if time_spent is None else round(float(time_spent), 2),
            "time_spent_theoretical": 1,
            "last_activity_at": iso_from_text(record.get("lastActivityAt"), "lastActivityAt"),
            "enrolled_at": iso_from_text(record.get("startedAt"), "startedAt"),
            "program_id": None,
        }


def _integer_id(record: dict, key: str) -> str:
    value = record.get(key)
    if value is None:
        raise RecordError(f"missing {key}")
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise RecordError(f"{key} is not an id: {value!r}")
    return str(value)
