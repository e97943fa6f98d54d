"""The simulated organization's learners, and how their statistics rows move on day 2.

Learner number `n` has the e-mail ``learner{n}@example.com`` (`learner_email(n)`),
the name `learner_name(n, cfg)` and, for four in five, the external id
``EMP-{n:06d}`` (`learner_external_id`; the others' reports carry the e-mail
instead); `learners(cfg)` lists them all. Rows spell e-mails in varying case
(``Learner7@example.com``, ``LEARNER7@EXAMPLE.COM``, ...). The same number is the
same person at both providers. Coursera has `learner_count("coursera", cfg)`
learners and OpenClassrooms `learner_count("openclassrooms", cfg)`; how their rows
fall to them is `report_layout(provider, cfg)` (distribution.py). Evenly, a
Coursera learner has six rows (four courses, a fifth course or the first one
again under another program, one specialization) and an OpenClassrooms learner
four; under the realistic distribution most have one to three and a few dozens.

`write_hr_export` writes the company's own list of people, the file
`lo-sync learners import` reads, for most of these learners.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from lo_sync.files import write_private
from lo_sync.simulator.client_config import PROVIDERS
from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.distribution import RowLayout, row_layout
from lo_sync.simulator.nights import snapshot_at
from lo_sync.simulator.randomness import Draws, draws_for
from lo_sync.simulator.word_pools import FIRST_NAMES, LAST_NAMES

ROWS_PER_LEARNER = {"coursera": 6, "openclassrooms": 4}
UNDONE_ROW = 0  # the stats row whose completion is undone on day 2, at both providers
UNDONE_LEARNER = 0


def learner_email(n: int) -> str:
    """The canonical (lower-case) e-mail of learner `n`."""
    return f"learner{n}@example.com"


def report_layout(provider: str, cfg: SimulatorConfig) -> RowLayout:
    """Which learner and slot each row of `provider`'s statistics report is."""
    if provider == "coursera":
        rows, courses, stream = cfg.coursera_enrollments, cfg.coursera_contents, "cplan"
    else:
        rows, courses, stream = cfg.openclassrooms_progress, cfg.openclassrooms_courses, "ocplan"
    # A learner's courses all differ: half the catalog is as many as one may follow.
    most = courses // 2
    return row_layout(cfg.distribution, rows, ROWS_PER_LEARNER[provider], cfg.seed, stream, most)


def plan_slots(provider: str, cfg: SimulatorConfig, n: int) -> int:
    """How many courses learner `n`'s plan holds: the even share (the last learner's
    spare slots unused), or as many as their rows."""
    if cfg.distribution == "even":
        return ROWS_PER_LEARNER[provider]
    return report_layout(provider, cfg).rows_of(n)


def learner_count(provider: str, cfg: SimulatorConfig) -> int:
    return report_layout(provider, cfg).learner_count()


def learners(cfg: SimulatorConfig) -> range:
    """Every learner number either provider's stats mention (for a people CSV)."""
    return range(max(learner_count("coursera", cfg), learner_count("openclassrooms", cfg)))


def learner_name(n: int, cfg: SimulatorConfig) -> str:
    return identity(cfg.seed, n).name


def learner_external_id(n: int, cfg: SimulatorConfig) -> str | None:
    """The organization's id for learner `n`, or None where Coursera falls back to the e-mail."""
    external_id = identity(cfg.seed, n).external_id
    return None if external_id == learner_email(n) else external_id


class Identity(NamedTuple):
    name: str
    external_id: str  # as Coursera reports it: the e-mail when the organization set none


@lru_cache(maxsize=65_536)
def identity(seed: int, n: int) -> Identity:
    """Full name and Coursera externalId of learner `n`."""
    draws = draws_for(seed, "learner", n)
    name = f"{draws.pick(FIRST_NAMES)} {draws.pick(LAST_NAMES)}"
    # Organizations that never set an external id get the e-mail back instead.
    external_id = f"EMP-{n:06d}" if draws.chance(0.8) else learner_email(n)
    return Identity(name, external_id)


def email_as_written(n: int, draws: Draws) -> str:
    """The learner's e-mail as one row spells it: mostly lower case, not always."""
    style = draws.unit()
    if style < 0.70:
        return f"learner{n}@example.com"
    if style < 0.85:
        return f"Learner{n}@example.com"
    if style < 0.93:
        return f"LEARNER{n}@EXAMPLE.COM"
    return f"learner{n}@Example.Com"


def fresh_pick(draws: Draws, candidates: int, fits, used: set[int], spares: list[int]) -> int:
    """A course index below `candidates` that `fits` and is not `used`; else a spare orphan."""
    for _ in range(32):
        i = draws.below(candidates) if candidates else -1
        if i >= 0 and fits(i) and i not in used:
            return i
    if len(used) > candidates // 4:
        # A learner who follows much of the catalog: look at every course in turn.
        offset = draws.below(candidates)
        for step in range(candidates):
            i = (offset + step) % candidates
            if fits(i) and i not in used:
                return i
    return spares.pop(0)


# -- day 2 ------------------------------------------------------------------------------


class Standing(NamedTuple):
    """Where one stats row stands on a night."""

    progress: float  # 0-100; each provider keeps its own number type (int or float)
    completed_at: int | None  # epoch seconds
    last_activity_at: int  # epoch seconds


def standing_on_day_two(
    seed: int,
    stream: str,
    row: int,
    day1: Standing,
    cfg: SimulatorConfig,
    *,
    advance: Callable[[Draws, float], float],
    complete: float,
    undone: float,
) -> Standing:
    """Row `row`'s standing on day 2, from its day-1 standing.

    `changed_fraction` of the rows show new activity and, unless already complete,
    `advance` their progress, some to `complete`; the UNDONE_ROW drops to `undone`.
    Both providers tell this story; they differ only in their progress numbers.
    """
    if row == UNDONE_ROW:
        return Standing(undone, None, snapshot_at(2) - 3 * 3600)
    changes = draws_for(seed, stream, row)
    if not changes.chance(cfg.changed_fraction):
        return day1
    last_activity_at = snapshot_at(2) - changes.between(600, 20 * 3600)
    progress, completed_at = day1.progress, day1.completed_at
    if progress < 100:
        progress = advance(changes, progress)
        if changes.chance(0.25):
            progress = complete
        if progress >= 100:
            completed_at = last_activity_at
    return Standing(progress, completed_at, last_activity_at)


# -- the company's side -------------------------------------------------------------------


def write_hr_export(path: Path, cfg: SimulatorConfig, share: float = 0.9) -> int:
    """Most of the simulated learners, as the company's HR export would list them;
    the rest show up as unmatched in the statistics summary. Returns how many."""
    count = max(learner_count(p, cfg) for p in PROVIDERS)
    keep = int(count * share)
    lines = ["email,external_id,name"]
    lines += [f"{learner_email(n)},EMP-{n:06d},Learner {n}" for n in range(keep)]
    write_private(path, "\n".join(lines) + "\n", "learners CSV")  # personal data, as a real one
    return keep
