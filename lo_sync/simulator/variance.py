"""The same truth, spelled as real answers spell it: `SimulatorConfig(variance=True)`.

The strict simulator follows the contract's tables to the letter. Public
material about the real services (docs/provider-apis "What real data looks
like") shows answers that stray from them; with `variance` on, the simulator
sends the same organization in those spellings, in small shares, so tests and
the demo meet them. Every choice is drawn from the record's own key, so a
record is spelled the same way on every request and on both nights (the
exceptions are said below). Off, every answer is byte-identical to the strict
simulator's.

Coursera catalog (`/contents`)
    * every content carries `lastUpdatedAt`, epoch **seconds** (on day 2, recent
      for a content whose title or description changed, and for the new ones);
    * specializations' `specializationMetadata` is `{courseIds, promoPhoto,
      tagline}` (as many ids as the strict `courseCount`; catalog courses listed
      on both nights, else courses no catalog lists) instead of `{courseCount,
      promoPhoto}`;
    * Video clips after the courses: one per 20 contents, at least 5 (none below
      5 contents): `contentType` `Video`, `clipMetadata {parentCourseId,
      parentLessonName, parentLessonObjectUrl, estimatedLearningTime (seconds),
      skillTags, promoPhoto}`, the parent a catalog course listed on both nights.
Coursera paging (all three collections)
    * `paging.next` a JSON number on 30 % of the pages that have a next page
      (chosen per collection and start), and `paging` is `{}` on the last page.
Coursera report rows (`/enrollmentReports`)
    * not started (progress 0): in 40 % of them `overallProgress`,
      `lastActivityAt` and `approxTotalCourseHrs` are each null or absent;
    * `grade` a string (`"0.9731"`) in 15 % of the rows with a numeric grade;
    * `contentId` spelled `Course~<contentId>` in 10 % of the Course rows;
    * a legacy `lastActivity` (same value) beside `lastActivityAt` in 10 %;
    * ISO-8601 timestamps (`2024-05-01T10:00:00.000Z`) instead of epoch
      milliseconds in 3 % of the rows;
    * learners, for all their rows: half of those whose `externalId` is their
      e-mail (a fifth of all) send no `email` (absent, null or "", per learner),
      Coursera's documented fallback; of those with an organization id, 10 %
      send `externalId` as a JSON number (`EMP-000123` as `123`) beside their
      e-mail, and 4 % send no e-mail at all, only the organization's id: half
      of these have their e-mail back on day 2 (same `externalId`);
    * extra rows, one per six learners (after learner 6g+5's own rows), cycling
      Video, LearningPath, Video, Collection, LearningPath: a clip of the
      catalog with `approxTotalLearningHours` instead of `approxTotalCourseHrs`;
      a learning path, `contentType` `LearningPath`, `contentId`
      `lp~<22-character id>` (three paths per organization, never in the
      catalog); a program collection, `contentId` `<programId>~<collectionId>`
      (the row's own program; three collections), `contentType` `Collection`
      or absent. They are sent with or without `includeS12n`.
OpenClassrooms
    * courses (15 % each, independently): `duration` an ISO-8601 duration
      (`PT20H`, `PT1H30M`); `illustration` instead of `image`;
      `OpenClassroomsUrl` instead of `url`;
    * progress rows: `userId`, `courseId`, `progress`, `timeSpent` as strings in
      10 %; `timeSpent` left out in another 10 % (beside the strict 10 %);
    * slices of 20 items, unless `oc_page_cap` says otherwise.
Token endpoints
    * refusals are RFC 6749 bodies `{"error", "error_description"}`:
      `invalid_client` (401), `invalid_request`, `unsupported_grant_type` (400).
"""

from __future__ import annotations

from typing import Any

from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.coursera_variance import CourseraVariance
from lo_sync.simulator.faults import FaultInjector
from lo_sync.simulator.guard import Collection, ProviderAPI
from lo_sync.simulator.openclassrooms import OpenClassroomsAPI
from lo_sync.simulator.randomness import draws_for

ISO_DURATION = 0.15  # of courses
ILLUSTRATION = 0.15  # of courses: `illustration` for `image`
OPENCLASSROOMS_URL = 0.15  # of courses: `OpenClassroomsUrl` for `url`
NUMBERS_AS_TEXT = 0.10  # of progress rows
NO_TIME_SPENT = 0.10  # of progress rows, on top of those the strict simulator leaves out

_AS_TEXT = ("userId", "courseId", "progress", "timeSpent")


class OpenClassroomsVariance(OpenClassroomsAPI):
    """OpenClassrooms' API with `variance` on: its public API's house style."""

    def courses(self, cfg: SimulatorConfig, faults: FaultInjector) -> Collection:
        strict = super().courses(cfg, faults)
        return strict._replace(
            fetch=lambda a, b: [respell_course(r, cfg) for r in strict.fetch(a, b)]
        )

    def progress(self, cfg: SimulatorConfig) -> Collection:
        strict = super().progress(cfg)

        def fetch(a: int, b: int) -> list[dict[str, Any]]:
            return [respell_progress(r, a + k, cfg) for k, r in enumerate(strict.fetch(a, b))]

        return strict._replace(fetch=fetch)


def iso_duration(minutes: int) -> str:
    """Minutes as an ISO-8601 duration: 1200 -> PT20H, 90 -> PT1H30M."""
    hours, rest = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")


def respell_course(record: dict[str, Any], cfg: SimulatorConfig) -> dict[str, Any]:
    # Keyed by the course id: one id is one catalog index, on both nights.
    draws = draws_for(cfg.seed, "vocourse", record["id"])
    duration, illustration, oc_url = (
        draws.chance(ISO_DURATION),
        draws.chance(ILLUSTRATION),
        draws.chance(OPENCLASSROOMS_URL),
    )
    respelled: dict[str, Any] = {}
    for key, value in record.items():
        if key == "duration" and duration:
            value = iso_duration(value)
        elif key == "image" and illustration:
            key = "illustration"
        elif key == "url" and oc_url:
            key = "OpenClassroomsUrl"
        respelled[key] = value
    return respelled


def respell_progress(row: dict[str, Any], j: int, cfg: SimulatorConfig) -> dict[str, Any]:
    draws = draws_for(cfg.seed, "voprog", j)
    as_text, no_time = draws.chance(NUMBERS_AS_TEXT), draws.chance(NO_TIME_SPENT)
    row = dict(row)
    if no_time:
        row.pop("timeSpent", None)
    if as_text:
        for field in _AS_TEXT:
            if field in row:
                row[field] = str(row[field])
    return row


# The APIs the server mounts when `variance` is on, by name as in server.APIS.
VARIANCE_APIS: dict[str, ProviderAPI] = {
    api.name: api for api in (CourseraVariance(), OpenClassroomsVariance())
}
