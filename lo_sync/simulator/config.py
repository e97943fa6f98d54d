"""SimulatorConfig: what a simulator serves, which night it is, which faults it plays."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lo_sync.simulator.client_config import PROVIDERS
from lo_sync.simulator.distribution import DISTRIBUTIONS
from lo_sync.simulator.faults import Fault

MAX_LATENCY_MS = 60_000  # a minute a page: slower is an outage, not a network
REPORT_ORDERS = ("learner", "content", "shuffled")


@dataclass(frozen=True)
class SimulatorConfig:
    """What the simulator serves: collection sizes, which night it is, faults.

    `page_cache` is how many bytes of rendered answers the simulator may keep so
    a page is built once however often it is asked for (see page_cache.py); 0,
    the default, builds every page on every request.

    `variance` sends the same data spelled the many ways real answers spell it
    (variance.py says which and how often); off, every answer is the contract's
    strict spelling. `require_scope` holds (provider, scope) pairs: that
    provider's token endpoint refuses a request whose `scope` lacks the scope.
    `oc_page_cap` None means the default slice: 100 items, 20 under variance.
    `latency_ms` (plus a uniform draw up to `latency_jitter_ms`) is how long each
    resource GET waits before it answers (load.py). `report_order` is the order of
    the statistics reports' rows: by learner (each learner's rows together),
    by content, or shuffled (report_order.py). `distribution` is how those rows
    fall to learners: the same number each (`even`) or most learners with one to
    three rows and a long tail of heavy ones (`realistic`, distribution.py).
    """

    coursera_contents: int = 300
    openclassrooms_courses: int = 120
    coursera_enrollments: int = 2000
    openclassrooms_progress: int = 800
    day: int = 1
    changed_fraction: float = 0.05
    oc_page_cap: int | None = None  # None: 100, or 20 under variance
    seed: int = 42
    faults: tuple[Fault, ...] = ()
    page_cache: int = 0  # bytes of answer bodies; 0: off
    variance: bool = False
    require_scope: tuple[tuple[str, str], ...] = ()
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    report_order: str = "learner"
    distribution: str = "even"

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
        if self.oc_page_cap is not None and self.oc_page_cap < 1:
            raise ValueError("oc_page_cap must be at least 1")
        for name in ("latency_ms", "latency_jitter_ms"):
            if not 0 <= getattr(self, name) <= MAX_LATENCY_MS:
                raise ValueError(f"{name} must be between 0 and {MAX_LATENCY_MS:,} ms")
        if self.report_order not in REPORT_ORDERS:
            raise ValueError(f"report_order must be one of {', '.join(REPORT_ORDERS)}")
        if self.variance and self.report_order != "learner":
            raise ValueError("report_order: variance serves its reports in learner order only")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}")
        if self.variance and self.distribution != "even":
            raise ValueError("distribution: variance serves its reports to even learners only")
        if self.page_cache < 0:
            raise ValueError("page_cache must not be negative (0 turns it off)")
        # A list is a natural thing to pass; the config stays hashable as a tuple.
        object.__setattr__(self, "faults", tuple(self.faults))
        for fault in self.faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"faults must be Fault values, got {fault!r}")
        # A dict {provider: scope} reads naturally; kept as sorted pairs, hashable.
        pairs = self.require_scope
        pairs = tuple(sorted(pairs.items() if isinstance(pairs, dict) else map(tuple, pairs)))
        object.__setattr__(self, "require_scope", pairs)
        for provider, scope in pairs:
            if provider not in PROVIDERS:
                raise ValueError(f"require_scope: unknown provider {provider!r}")
            if not scope or not isinstance(scope, str) or " " in scope:
                raise ValueError(f"require_scope: {provider}'s scope must be one word")
        if len({provider for provider, _ in pairs}) != len(pairs):
            raise ValueError("require_scope: one scope per provider")

    def required_scope(self, provider: str) -> str | None:
        """The scope `provider`'s token endpoint insists on, or None."""
        return dict(self.require_scope).get(provider)

    def oc_slice(self) -> int:
        """How many items OpenClassrooms puts in one answer at most."""
        if self.oc_page_cap is not None:
            return self.oc_page_cap
        return 20 if self.variance else 100  # real client code shows slices of 20

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
