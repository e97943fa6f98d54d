"""Small builders for API records and configured providers, shared by the sync-layer tests."""

from __future__ import annotations

import copy
from pathlib import Path

from lo_sync.config import ProviderConfig
from lo_sync.providers import PROVIDERS
from lo_sync.store import Store


def provider_config(name: str, group: str = "Sales Academy") -> ProviderConfig:
    provider = PROVIDERS[name]
    return ProviderConfig(
        name=name,
        org_id="c37xwraOSFytEjHm5uQEEA" if name == "coursera" else "4242",
        client_id=f"{name}-client",
        client_secret=f"{name}-secret-value",
        group=group,
        base_url=provider.default_base_url,
        token_url=provider.default_token_url,
    )


MISSING = object()


def altered(record: dict, **changes) -> dict:
    """A copy of `record` with keys set, or removed when the value is MISSING."""
    out = copy.deepcopy(record)
    for key, value in changes.items():
        if value is MISSING:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def open_store(path: Path) -> Store:
    return Store.open(path)


def oc_course(i: int, status: str = "active", title: str | None = None, **extra) -> dict:
    return {
        "id": i,
        "title": title or f"Cours {i} — Python",
        "description": f"<p>Description {i}</p>",
        "status": status,
        "language": "fr",
        "duration": 120 + i,
        "level": "easy",
        "image": f"https://img.example/{i}.png",
        "url": f"https://openclassrooms.com/courses/{i}",
        "updatedAt": "2026-11-01T08:00:00Z",
        **extra,
    }


def coursera_content(i: int, name: str | None = None, **extra) -> dict:
    return {
        "contentId": f"c-{i}",
        "contentType": "Course",
        "name": name or f"Course {i}",
        "description": f"About course {i}",
        "slug": f"course-{i}",
        "languageCode": "en",
        "difficultyLevel": "BEGINNER",
        "programs": [{"programId": "p1", "contentUrl": f"https://coursera.org/programs/p1/{i}"}],
        "extraMetadata": {
            "typeName": "courseMetadata",
            "definition": {
                "estimatedLearningTime": 3600 * 2,
                "skills": [{"skillId": "s1", "skillName": "Python"}],
                "promoPhoto": f"https://img.example/c{i}.jpg",
            },
        },
        **extra,
    }


def coursera_enrollment(
    content: int, email: str, progress: float = 50.0, completed: bool = False, **extra
) -> dict:
    return {
        "externalId": extra.pop("externalId", None),
        "email": email,
        "fullName": "Ada Lovelace",
        "contentId": f"c-{content}",
        "contentType": "Course",
        "contentName": f"Course {content}",
        "programId": extra.pop("programId", "p1"),
        "isCompleted": completed,
        "overallProgress": progress,
        "grade": extra.pop("grade", None),
        "enrolledAt": 1_760_000_000_000,
        "lastActivityAt": extra.pop("lastActivityAt", 1_762_000_000_000),
        "completedAt": extra.pop("completedAt", 1_762_000_000_000 if completed else None),
        "approxTotalCourseHrs": extra.pop("approxTotalCourseHrs", 1.5),
        "membershipState": "MEMBER",
        **extra,
    }


def oc_progress(course: int, email: str, progress: int = 40, **extra) -> dict:
    return {
        "userId": extra.pop("userId", 1),
        "email": email,
        "courseId": course,
        "progress": progress,
        "timeSpent": extra.pop("timeSpent", 48),
        "status": extra.pop("status", "completed" if progress == 100 else "in-progress"),
        "startedAt": "2026-10-01T09:00:00Z",
        "completedAt": extra.pop("completedAt", None),
        "lastActivityAt": extra.pop("lastActivityAt", "2026-11-20T18:30:00Z"),
        **extra,
    }


def rows(store: Store, sql: str, params: tuple = ()) -> list[tuple]:
    return store.conn.execute(sql, params).fetchall()
