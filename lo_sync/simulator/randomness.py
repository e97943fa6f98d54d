"""Deterministic draws: every generated record is a pure function of its key.

Benchmarks page through a million enrollment rows, so nothing is materialized:
each record is built, when a page asks for it, from a short hash-based stream
keyed by (seed, stream name, index). The same key always gives the same record,
in any order and on any thread.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any


def _words(key: bytes) -> Iterator[int]:
    """Endless uniform 32-bit integers: BLAKE2b of the key and a block counter."""
    block = 0
    while True:
        digest = hashlib.blake2b(key + b"#%d" % block, digest_size=64).digest()
        yield from struct.unpack("<16I", digest)
        block += 1


_INV_2_32 = 1 / 4294967296.0


class Draws:
    """A short deterministic stream of pseudo-random numbers for one record.

    Seeding `random.Random` costs more than building a whole row; one BLAKE2b
    digest of the record's key yields sixteen 32-bit words, enough for most
    records.
    """

    __slots__ = ("word",)

    def __init__(self, key: str) -> None:
        self.word: Callable[[], int] = _words(key.encode()).__next__

    def unit(self) -> float:
        return self.word() * _INV_2_32

    def below(self, n: int) -> int:
        return self.word() % n

    def between(self, low: int, high: int) -> int:
        return low + self.word() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.word() * _INV_2_32

    def chance(self, p: float) -> bool:
        return self.word() * _INV_2_32 < p

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[self.word() % len(seq)]

    def weighted(self, table: Sequence[tuple[Any, float]]) -> Any:
        """Pick from (value, weight) pairs whose weights sum to 1."""
        u = self.unit()
        for value, weight in table:
            u -= weight
            if u < 0:
                return value
        return table[-1][0]


def draws_for(seed: int, stream: str, *key: int) -> Draws:
    """The draws of record `key` in the named stream ("ccontent", "ocprog", ...)."""
    return Draws(f"{seed}|{stream}|" + "|".join(map(str, key)))


def short_id(seed: int, stream: str, index: int) -> str:
    """A 22-character url-safe id, the shape of Coursera's content and program ids."""
    digest = hashlib.blake2b(f"{seed}|{stream}|{index}".encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
