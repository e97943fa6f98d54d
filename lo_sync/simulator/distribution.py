"""How a statistics report's rows fall to learners: evenly, or as organizations' do.

`even`, the default, gives every learner the same number of rows (six at
Coursera, four at OpenClassrooms), so row `j` is learner ``j // per`` and slot
``j % per``. `realistic` follows the shape organizations' reports have: most
learners follow one or two courses and a few follow dozens. Of a million rows,
about 46% of learners have one row, 24% two, 12% three, 15% four to nineteen and
3% twenty or more, up to HEAVIEST; the last learner takes what is left, so the
report holds exactly the rows asked for.

Either way a learner's rows sit together in learner order, slot 0 first, and a
`RowLayout` answers the three questions the reports ask: how many learners, how
many rows learner `n` has, and whose slot row `j` is.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from threading import Lock

DISTRIBUTIONS = ("even", "realistic")
HEAVIEST = 160  # rows of the busiest learner a realistic report may hold
# (share of learners, fewest rows, most rows); the shares sum to 1.
_REALISTIC = ((0.46, 1, 1), (0.24, 2, 2), (0.12, 3, 3), (0.15, 4, 19), (0.03, 20, HEAVIEST))
_TAIL = 1.6  # Pareto exponent of the heaviest learners: lower, heavier


class RowLayout:
    """Which learner and slot each row of one report is."""

    def __init__(self, rows: int, starts: array | None = None, per: int = 1) -> None:
        self.rows = rows
        self._starts = starts  # first row of each learner; None: `per` rows each
        self._per = per
        self._without: dict[int, RowLayout] = {}

    def learner_count(self) -> int:
        if self._starts is None:
            return -(-self.rows // self._per)
        return len(self._starts)

    def rows_of(self, n: int) -> int:
        """How many rows learner `n` has (the last learner may have fewer)."""
        if self._starts is None:
            return max(0, min(self._per, self.rows - n * self._per))
        end = self._starts[n + 1] if n + 1 < len(self._starts) else self.rows
        return end - self._starts[n]

    def first_row(self, n: int) -> int:
        return n * self._per if self._starts is None else self._starts[n]

    def locate(self, j: int) -> tuple[int, int]:
        """(learner, slot) of row `j`."""
        if self._starts is None:
            return divmod(j, self._per)
        n = bisect_right(self._starts, j) - 1
        return n, j - self._starts[n]

    def without_slot(self, slot: int) -> RowLayout:
        """The same learners with their row `slot` left out, as a report omits it."""
        if slot not in self._without:
            self._without[slot] = self._build_without(slot)
        return self._without[slot]

    def _build_without(self, slot: int) -> RowLayout:
        if self._starts is None:
            whole, rest = divmod(self.rows, self._per)
            return RowLayout(self.rows - whole - (rest > slot), per=self._per - 1)
        starts, row = array("i"), 0
        for n in range(len(self._starts)):
            starts.append(row)
            count = self.rows_of(n)
            row += count - (count > slot)
        return RowLayout(row, starts)

    def slots(self) -> list[int]:
        """How many learners have each number of rows: index k holds those with k."""
        counts = [0] * (max((self.rows_of(n) for n in range(self.learner_count())), default=0) + 1)
        for n in range(self.learner_count()):
            counts[self.rows_of(n)] += 1
        return counts


_lock = Lock()
_layouts: dict[tuple, RowLayout] = {}
_KEPT = 8  # layouts kept: a simulator serves two reports, a test process a few more


def row_layout(
    distribution: str, rows: int, per: int, seed: int, stream: str, most: int
) -> RowLayout:
    """The layout of a report of `rows` rows; `per` rows a learner when even.

    Under `realistic` no learner has more than `most` rows (the catalog must hold
    that many different courses for one learner); the draws depend only on the
    seed and `stream`, so a report's layout is the same on every night and thread.
    """
    # Asked for on every row a report renders: a dictionary lookup, built once.
    key = (distribution, rows, per, seed, stream, most)
    layout = _layouts.get(key)
    if layout is None:
        with _lock:
            layout = _layouts.get(key) or _build(*key)
            if len(_layouts) >= _KEPT:
                _layouts.clear()
            _layouts[key] = layout
    return layout


def _build(distribution: str, rows: int, per: int, seed: int, stream: str, most: int):
    if distribution == "even":
        return RowLayout(rows, per=per)
    if distribution != "realistic":
        raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}")
    return _realistic(rows, seed, stream, max(1, min(most, HEAVIEST)))


def _realistic(rows: int, seed: int, stream: str, most: int) -> RowLayout:
    draw = random.Random(f"{seed}|{stream}|layout")
    starts = array("i")
    row = 0
    while row < rows:
        starts.append(row)
        row += min(_rows_for_one(draw, most), rows - row)
    return RowLayout(rows, starts)


def _rows_for_one(draw: random.Random, most: int) -> int:
    u = draw.random()
    band = next((b for b in _REALISTIC if (u := u - b[0]) < 0), _REALISTIC[-1])
    _, fewest, highest = band
    if fewest == highest:
        count = fewest
    elif highest < HEAVIEST:
        count = draw.randint(fewest, highest)
    else:  # the long tail: a few learners with many more rows than the rest
        count = min(highest, int(fewest * draw.paretovariate(_TAIL)))
    return min(count, most)
