"""The order of a statistics report's rows: by learner, by content, or shuffled.

Real reports promise no order. The simulator builds rows by learner (each
learner's rows together, `learner`, the default); `content` puts all rows of one
content together, in catalog order, and `shuffled` is a pseudo-random permutation
of all rows from the seed, another one each night, since nothing says a report
keeps its order from one night to the next. Every order holds the same rows;
a page at a given start holds the same rows however often it is asked for.

A permutation is built once per report and night (an array of 4 bytes a row:
4 MB for a million rows) and kept for the few reports a simulator serves.
"""

from __future__ import annotations

import random
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

_KEPT = 4  # reports whose permutation is kept: each provider, each night
_permutations: OrderedDict[Hashable, array] = OrderedDict()
_lock = Lock()


def in_order(
    order: str, total: int, report: Hashable, content_of: Callable[[int], int]
) -> Callable[[int], int]:
    """position -> the position in learner order of the row that `order` puts there.

    `report` names the report and night (what the permutation depends on);
    `content_of(p)` is the content of the row at learner-order position `p`.
    """
    if order == "learner":
        return lambda position: position
    key = (order, total, report)
    with _lock:
        permutation = _permutations.get(key)
        if permutation is None:
            permutation = _build(order, total, report, content_of)
            _permutations[key] = permutation
            while len(_permutations) > _KEPT:
                _permutations.popitem(last=False)
    return permutation.__getitem__


def _build(order: str, total: int, report: Hashable, content_of: Callable[[int], int]) -> array:
    if order == "content":
        # Stable: within one content, rows keep their learner order.
        return array("i", sorted(range(total), key=content_of))
    positions = list(range(total))
    random.Random(repr(report)).shuffle(positions)
    return array("i", positions)
