"""The fingerprint of a provider record: how a rerun recognises a record it stored as is."""

from __future__ import annotations

import hashlib
import marshal

import orjson

# Part of every record fingerprint: raise it when a mapping changes what it makes of
# the same record, so that every stored row is mapped and compared again once.
# tests/fetch/test_fingerprint.py pins the mappings' output to this number.
MAPPING_VERSION = 2
_FINGERPRINT_PERSON = f"lo-sync map v{MAPPING_VERSION}".encode()
# Copied for each record: a copy costs less than setting up BLAKE2b's parameters again.
_HASHER = hashlib.blake2b(digest_size=8, person=_FINGERPRINT_PERSON)


def record_fingerprint(record) -> int:
    """A stable 64-bit fingerprint of a provider record, as decoded from JSON.

    The record is serialized again by orjson (keys in the order the provider sent
    them) and hashed with BLAKE2b. A fetched record whose fingerprint a stored row
    carries is the record that row was written from, bar a 1-in-2^64 collision, so
    a rerun need not even map it. Two things orjson cannot write exactly: a lone
    surrogate (it refuses, and marshal version 2, exact and the same in every
    Python, serializes the record instead) and NaN or infinity, which it writes as
    null. Neither is JSON; a provider that swaps a null for one of them is seen as
    unchanged.
    """
    try:
        data = orjson.dumps(record)
    except orjson.JSONEncodeError:
        data = marshal.dumps(record, 2)
    hasher = _HASHER.copy()
    hasher.update(data)
    return int.from_bytes(hasher.digest(), "little", signed=True)
