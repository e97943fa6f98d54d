"""What the statistics mappings make, across providers, pinned to the fingerprint version.

Each provider's own mapping tests are in tests/providers/.
"""

from __future__ import annotations

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
