"""Coursera for Business: catalog from `/contents`, statistics from `/enrollmentReports`.

Paths, field names and units per docs/provider-contracts.md; they live here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from lo_sync.http import ApiClient, OffsetPaginator, paginate
from lo_sync.providers.base import Provider, RecordError, Settings
from lo_sync.providers.fields import (
    MAX_TITLE_LENGTH,
    email_address,
    iso_from_epoch_ms,
    optional_text,
    percent,
    required_text,
)


class Coursera(Provider):
    name = "coursera"
    org_key = "org_id"
    default_base_url = "https://api.coursera.com/ent/api"
    default_token_url = "https://api.coursera.com/oauth2/client_credentials/token"
    max_page_size = 1000  # the simulator answers 400 above it; real clients use 1000
    active_statuses = None  # Coursera has no course status: only disappearance archives
    course_id_field = "contentId"

    def fetch_courses(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list[dict]]:
        url = f"{cfg.base_url}/businesses.v1/{cfg.org_id}/contents"
        return paginate(client, url, OffsetPaginator(client.provider, self._limit(page_size)))

    def fetch_stats(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list[dict]]:
        url = f"{cfg.base_url}/businesses.v1/{cfg.org_id}/enrollmentReports"
        paginator = OffsetPaginator(client.provider, self._limit(page_size))
        return paginate(client, url, paginator, params={"includeS12n": "true"})

    def _limit(self, page_size: int | None) -> int:
        # Coursera answers 400 to a limit above max_page_size: a larger http.page_size
        # in the config must not break every run.
        return min(page_size or self.max_page_size, self.max_page_size)

    @staticmethod
    def course_row(record: dict) -> dict:
        if not isinstance(record, dict):
            raise RecordError("record is not an object")
        content_id = record.get("contentId")
        if content_id is None or content_id == "":
            raise RecordError("missing contentId")
        if not isinstance(content_id, (str, int)) or isinstance(content_id, bool):
            raise RecordError(f"contentId is {type(content_id).__name__}")
        content_type = optional_text(record, "contentType") or "Course"
        slug = optional_text(record, "slug")
        metadata = _course_metadata(record)
        seconds = metadata.get("estimatedLearningTime")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0
        ):
            raise RecordError(f"estimatedLearningTime is not a number of seconds: {seconds!r}")
        skills = metadata.get("skills") or []
        if not isinstance(skills, list):
            raise RecordError("skills is not a list")
        return {
            "external_id": str(content_id),
            "title": required_text(record, "name", MAX_TITLE_LENGTH),
            "description": optional_text(record, "description"),
            "url": _launch_url(record, content_type, slug),
            "image_url": optional_text(metadata, "promoPhoto"),
            "language": optional_text(record, "languageCode"),
            # estimatedLearningTime is in seconds; we store minutes.
            "duration_minutes": None if seconds is None else round(seconds / 60),
            "status": None,
            "content_type": content_type,
            "skills": json.dumps(
                [s["skillName"] for s in skills if isinstance(s, dict) and s.get("skillName")],
                ensure_ascii=False,
            ),
            "level": optional_text(record, "difficultyLevel"),
            "provider_updated_at": None,
        }

    @staticmethod
    def stat_row(record: dict) -> dict:
        if not isinstance(record, dict):
            raise RecordError("record is not an object")
        # A blank e-mail is no e-mail: storing "" would match learners to nobody.
        email = (optional_text(record, "email") or "").strip()
        email_field = "email"
        external_id = record.get("externalId")
        if external_id is not None and not isinstance(external_id, (str, int)):
            raise RecordError("externalId is not text")
        external_id = None if external_id in (None, "") else str(external_id)
        if not email:
            # externalId falls back to the e-mail when the organization set none.
            if external_id and "@" in external_id:
                email, email_field = external_id, "externalId"
            else:
                raise RecordError("missing email")
        content_id = record.get("contentId")
        if content_id is None or content_id == "":
            raise RecordError("missing contentId")
        if not isinstance(content_id, (str, int)) or isinstance(content_id, bool):
            raise RecordError(f"contentId is {type(content_id).__name__}")
        completed = record.get("isCompleted")
        if not isinstance(completed, bool):
            raise RecordError(f"isCompleted is not a boolean: {completed!r}")
        grade = record.get("grade")
        if grade is not None and (
            isinstance(grade, bool) or not isinstance(grade, (int, float)) or not 0 <= grade <= 1
        ):
            raise RecordError(f"grade is not on 0-1: {grade!r}")
        hours = record.get("approxTotalCourseHrs")
        if hours is not None and (
            isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours < 0
        ):
            raise RecordError(f"approxTotalCourseHrs is not a number of hours: {hours!r}")
        return {
            "course_external_id": str(content_id),
            "learner_email": email_address(email, email_field),
            "learner_external_id": external_id,
            "learner_name": optional_text(record, "fullName"),
            "progress_percent": percent(record.get("overallProgress"), "overallProgress"),
            "completed": int(completed),
            "completed_at": iso_from_epoch_ms(record.get("completedAt"), "completedAt"),
            # grade is on 0-1 and absent until graded. float(): a whole number must map to
            # the REAL that is stored, or its row fingerprint would differ from the stored one.
            "score_percent": None if grade is None else round(float(grade) * 100, 2),
            # approxTotalCourseHrs is hours spent on this content item (course or specialization).
            "time_spent_minutes": None if hours is None else round(float(hours) * 60, 2),
            "time_spent_theoretical": 0,
            "last_activity_at": iso_from_epoch_ms(record.get("lastActivityAt"), "lastActivityAt"),
            "enrolled_at": iso_from_epoch_ms(record.get("enrolledAt"), "enrolledAt"),
            "program_id": None if record.get("programId") is None else str(record["programId"]),
        }


def _course_metadata(record: dict) -> dict:
    extra = record.get("extraMetadata")
    if not isinstance(extra, dict) or extra.get("typeName") != "courseMetadata":
        return {}
    definition = extra.get("definition")
    return definition if isinstance(definition, dict) else {}


def _launch_url(record: dict, content_type: str, slug: str | None) -> str | None:
    # The program's contentUrl launches the course inside the organization's
    # program (the learner is entitled there); the public page is the fallback.
    for program in record.get("programs") or []:
        url = program.get("contentUrl") if isinstance(program, dict) else None
        if isinstance(url, str) and url.strip():
            return url
    if not slug:
        return None
    if content_type == "Specialization":
        return f"https://www.coursera.org/specializations/{slug}"
    return f"https://www.coursera.org/learn/{slug}"
