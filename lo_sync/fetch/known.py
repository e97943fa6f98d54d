"""The fingerprints of a provider's stored rows, and where tonight's fetch saw each."""

from __future__ import annotations

import mmap
from array import array
from bisect import bisect_left
from collections.abc import Callable

# Sorted fingerprints are found through 65,536 buckets of their top 16 bits: about
# 15 entries a bucket for a million rows, so a lookup is a few bisection steps.
_BUCKET_SHIFT = 48
_BUCKET_OFFSET = 1 << 15  # fingerprints are signed: the lowest top-16 value is -2^15


class KnownRows:
    """The fingerprints of a provider's stored rows, sorted (8 bytes a row), and where
    in tonight's fetch each was seen (4 bytes a row; 0 while not seen).

    A fetched record whose fingerprint is here is the record the stored row was
    written from, bar a 1-in-2^64 collision: nothing about it can have changed.

    `seen` lives in an anonymous shared mapping, so the forked fetch worker and the
    parent note what they sift in the same memory. Each notes the earliest place;
    the two could race only on one record sent twice on pages sifted at the same
    moment, and then the tie-break between identical rows is all that can differ.
    """

    def __init__(self, fingerprints: array):
        self.fingerprints = fingerprints
        self._seen_memory = mmap.mmap(-1, max(4, 4 * len(fingerprints)))
        self.seen = memoryview(self._seen_memory).cast("i")
        self._buckets = array(
            "q",
            (
                bisect_left(fingerprints, (bucket - _BUCKET_OFFSET) << _BUCKET_SHIFT)
                for bucket in range(2 * _BUCKET_OFFSET + 1)
            ),
        )

    def __len__(self) -> int:
        return len(self.fingerprints)

    def index(self, fingerprint: int) -> int | None:
        bucket = (fingerprint >> _BUCKET_SHIFT) + _BUCKET_OFFSET
        end = self._buckets[bucket + 1]
        i = bisect_left(self.fingerprints, fingerprint, self._buckets[bucket], end)
        return i if i < end and self.fingerprints[i] == fingerprint else None

    def sift(
        self, records: list, first_seq: int, fingerprint: Callable[[object], int]
    ) -> list[tuple]:
        """(seq, fingerprint, record) for each record no stored row was written from;
        the others are noted as seen. The lookup is inlined: it runs once a record."""
        fingerprints, seen, buckets = self.fingerprints, self.seen, self._buckets
        sifted = []
        for seq, record in enumerate(records, first_seq + 1):
            mark = fingerprint(record)
            bucket = (mark >> _BUCKET_SHIFT) + _BUCKET_OFFSET
            end = buckets[bucket + 1]
            i = bisect_left(fingerprints, mark, buckets[bucket], end)
            if i < end and fingerprints[i] == mark:
                if not seen[i] or seq < seen[i]:
                    seen[i] = seq
            else:
                sifted.append((seq, mark, record))
        return sifted

    def seen_count(self) -> int:
        seen = array("i", self.seen[: len(self.fingerprints)])
        return len(seen) - seen.count(0)
