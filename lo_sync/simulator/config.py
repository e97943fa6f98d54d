"""SimulatorConfig: what a simulator serves, which night it is, which faults it plays."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lo_sync.simulator.faults import Fault


@dataclass(frozen=True)
class SimulatorConfig:
    """What the simulator serves: collection sizes, which night it is, faults.

    `page_cache` is how many bytes of rendered answers the simulator may keep so
    a page is built once however often it is asked for (see page_cache.py); 0,
    the default, builds every page on every request.
    """

    coursera_contents: int = 300
    openclassrooms_courses: int = 120
    coursera_enrollments: int = 2000
    openclassrooms_progress: int = 800
    day: int = 1
    changed_fraction: float = 0.05
    oc_page_cap: int = 100
    seed: int = 42
    faults: tuple[Fault, ...] = ()
    page_cache: int = 0  # bytes of answer bodies; 0: off

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
        if self.page_cache < 0:
            raise ValueError("page_cache must not be negative (0 turns it off)")
        # A list is a natural thing to pass; the config stays hashable as a tuple.
        object.__setattr__(self, "faults", tuple(self.faults))
        for fault in self.faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"faults must be Fault values, got {fault!r}")

    @classmethod
    def sized(
        cls, size: int, enrollments: int | None = None, day: int = 1, faults: tuple = ()
    ) -> SimulatorConfig:
        """An organization of `size` Coursera contents, the rest in proportion to it,
        as `lo-sync simulate --size` and `lo-sync demo --size` serve it."""
        return cls(
            coursera_contents=size,
            openclassrooms_courses=max(1, size * 2 // 5),
            coursera_enrollments=enrollments if enrollments is not None else size * 10,
            openclassrooms_progress=size * 4,
            day=day,
            faults=faults,
        )

    def replace(self, **changes: Any) -> SimulatorConfig:
        return dataclasses.replace(self, **changes)
