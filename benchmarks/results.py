"""What the runs of a case found: its runs, their medians, and its targets' verdicts."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from cases import CaseSpec
from measure import Run


@dataclass
class Target:
    text: str
    measured: str
    ok: bool


@dataclass
class Case:
    spec: CaseSpec
    title: str
    records: int
    losync: list[Run] = field(default_factory=list)
    floors: list[Run] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    skipped: str = ""  # why lo-sync's runs (or the whole session) did not run

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def floor_mode(self) -> str:
        mode, n = self.spec.floor_key
        return mode if n == 1 else f"{mode}, {n} at once"

    def median(self, runs: list[Run], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs) if runs else float("nan")

    @property
    def ratio(self) -> float:
        pairs = [a.wall / b.wall for a, b in zip(self.losync, self.floors, strict=False)]
        return statistics.median(pairs) if pairs else float("nan")

    @property
    def peak_mb(self) -> float:
        return max((r.peak_mb for r in self.losync), default=float("nan"))

    @property
    def ok(self) -> bool:
        return all(r.rc == 0 for r in self.losync + self.floors) and all(t.ok for t in self.targets)
