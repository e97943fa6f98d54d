"""The two nights the simulator can play, and which catalog indices each one lists.

Day 1 is the first nightly run; day 2 ("the next night") is the same organization
a day later, with the changes a sync must notice:

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

Catalog records are built by index (coursera.py, openclassrooms.py); this module
says which indices a night lists, in order, without building the list.
"""

from __future__ import annotations

import bisect
import calendar
import random
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import overload

from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.randomness import Draws

# When each night's snapshot is taken; activity never postdates it.
DAY1_AT = calendar.timegm((2024, 6, 3, 2, 0, 0))
DAY_SECONDS = 86_400


def snapshot_at(day: int) -> int:
    return DAY1_AT + (day - 1) * DAY_SECONDS


def iso(epoch_seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


# Indices 0-4 of each catalog have fixed roles (see the module docstring and the
# provider modules), so tests can name them; they are never removed on day 2.
PINNED = 5
TITLE_CHANGED_PINNED = 0
DESCRIPTION_CHANGED_PINNED = 2
NEW_COURSES = 2
# Courses stats rows mention that no catalog ever lists: enough that every slot
# of a learner could fall back on its own (Coursera's last one is a specialization).
ORPHAN_COURSES = 6
# The share of other catalog records whose title (or description) changes on day 2.
DAY_TWO_EDIT_CHANCE = 0.04


def title_changes(i: int, changes: Draws) -> bool:
    """Whether catalog index `i`'s title differs on day 2 (draws from its day-2 stream)."""
    return i == TITLE_CHANGED_PINNED or changes.chance(DAY_TWO_EDIT_CHANCE)


def description_changes(i: int, changes: Draws) -> bool:
    return i == DESCRIPTION_CHANGED_PINNED or changes.chance(DAY_TWO_EDIT_CHANCE)


def catalog_size(provider: str, cfg: SimulatorConfig) -> int:
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
    return _removed(cfg.seed, provider, catalog_size(provider, cfg))


def new_indices(provider: str, cfg: SimulatorConfig) -> tuple[int, ...]:
    """Catalog indices that first appear on day 2."""
    size = catalog_size(provider, cfg)
    return tuple(range(size, size + NEW_COURSES))


def orphans(size: int) -> range:
    """Indices of the courses stats rows may mention beyond a catalog of `size`."""
    return range(size + NEW_COURSES, size + NEW_COURSES + ORPHAN_COURSES)


def orphan_indices(provider: str, cfg: SimulatorConfig) -> tuple[int, ...]:
    """Indices of courses some stats rows mention but no catalog lists."""
    return tuple(orphans(catalog_size(provider, cfg)))


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
    size = catalog_size(provider, cfg)
    if day == 1:
        return CatalogIndices(size)
    return CatalogIndices(size, removed_indices(provider, cfg), new_indices(provider, cfg))
