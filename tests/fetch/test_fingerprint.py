"""What the statistics mappings make, across providers, pinned to the fingerprint version.

Each provider's own mapping tests are in tests/providers/.
"""

from __future__ import annotations

import hashlib

import orjson

from lo_sync.fetch.fingerprint import MAPPING_VERSION, record_fingerprint
from lo_sync.providers import PROVIDERS, Notes

coursera = PROVIDERS["coursera"]
openclassrooms = PROVIDERS["openclassrooms"]


def test_a_change_to_what_the_statistics_mappings_make_raises_the_mapping_version():
    """Unchanged records are passed over by fingerprint, so a mapping that starts to
    make something else of the same record must raise MAPPING_VERSION: otherwise the
    rows already stored would never be mapped again. When this fails, raise it and
    pin the new digest here."""
    import hashlib

    from lo_sync.fetch.fingerprint import MAPPING_VERSION
    from tests.helpers.factories import coursera_enrollment, oc_progress

    records = [
        (coursera, coursera_enrollment(1, " Ada@X.io ", progress=42.5, grade=1, completed=True)),
        (coursera, coursera_enrollment(2, "b@x.io", approxTotalCourseHrs=2, externalId=7)),
        (openclassrooms, oc_progress(3, "C@x.io", progress=100, timeSpent=90)),
        (openclassrooms, oc_progress(4, "d@x.io", progress=0, timeSpent=None)),
    ]
    made = repr([sorted(module.stat_row(record, Notes()).items()) for module, record in records])
    digest = hashlib.sha256(made.encode()).hexdigest()[:16]

    assert (MAPPING_VERSION, digest) == (2, "899b9cb5510ffd53")


def test_a_record_fingerprint_is_blake2b_of_its_json_as_databases_already_store_it():
    # Stored rows carry yesterday's fingerprints: computing them another way would
    # make every stored row look changed on the next night.
    record = {"email": "ana@example.com", "contentId": "c1", "overallProgress": 40.5}
    expected = hashlib.blake2b(
        orjson.dumps(record), digest_size=8, person=f"lo-sync map v{MAPPING_VERSION}".encode()
    ).digest()

    assert record_fingerprint(record) == int.from_bytes(expected, "little", signed=True)
    assert record_fingerprint(record) == record_fingerprint(dict(record))
