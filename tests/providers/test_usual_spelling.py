"""Coursera report rows in the contract's own spelling take a quick path
(`fields.usual_*`); every other spelling is read by the general readers. The quick
path is only an optimisation: for every record it accepts, it must make exactly
the row the general readers make, and it must refuse every record the general
readers would note, set aside or read differently."""

from __future__ import annotations

import math

import pytest

from lo_sync.providers import PROVIDERS, Notes, RecordError
from lo_sync.providers import coursera as coursera_module
from lo_sync.providers.fields import Unusual
from lo_sync.simulator import SimulatorConfig
from lo_sync.simulator.coursera import ROWS, enrollment_row
from lo_sync.simulator.coursera_variance import CourseraVariance
from tests.helpers.factories import MISSING, altered, coursera_enrollment

coursera = PROVIDERS["coursera"]

# Every spelling a value of a report row may take, usual or not.
SPELLINGS = [
    MISSING, None, "", "  ", "x", "0.5", "75", "1700000000000", "2024-03-01T10:00:00Z",
    "PT1H30M", "true", "MEMBER", "Course", "Course~abc", "p1~col9", "a@x.co", " A@X.CO ",
    "a@x", "x\u200bx", "\ud800", "Seán", "x" * 201, True, False, 0, 1, -1, 0.5, 1.5, 100,
    100.5, 1e300, 2**64, math.nan, math.inf, 1_700_000_000_000, 9_999_999_999_999_999,
    [], {}, ["a"], {"a": 1},
]  # fmt: skip


def general(record) -> tuple:
    """What the general readers make of `record`: the row and its notes, or the
    reason it is set aside."""
    notes = Notes()
    try:
        return coursera_module._stat_row(record, notes), list(notes)
    except RecordError as exc:
        return "set aside", exc.reason


def mapped(record) -> tuple:
    notes = Notes()
    try:
        return coursera.stat_row(record, notes), list(notes)
    except RecordError as exc:
        return "set aside", exc.reason


def quick(record) -> dict | None:
    try:
        return coursera_module._usual_stat_row(record)
    except Unusual:
        return None


@pytest.mark.parametrize("field", sorted(coursera.stat_fields))
def test_every_spelling_of_every_field_maps_as_the_general_readers_map_it(field):
    base = coursera_enrollment(1, "a@x.co", grade=0.9, completedAt=1_700_000_000_000)
    for spelling in SPELLINGS:
        record = altered(base, **{field: spelling})
        assert mapped(record) == general(record), (field, spelling)
        row = quick(record)
        if row is not None:
            assert (row, []) == general(record), (field, spelling)


def test_the_simulators_report_rows_map_as_the_general_readers_map_them():
    strict = [enrollment_row(j, 1, SimulatorConfig()) for j in range(3 * ROWS * 50)]
    cfg = SimulatorConfig(variance=True)
    respelled = CourseraVariance().reports(cfg, include_specializations=True).fetch(0, 2000)
    for record in strict + respelled:
        assert mapped(record) == general(record), record


def test_the_contracts_own_spelling_takes_the_quick_path():
    """Or the quick path would be dead code, and a night as slow as before."""
    strict = [enrollment_row(j, 1, SimulatorConfig()) for j in range(3 * ROWS * 50)]
    assert all(quick(record) is not None for record in strict)


@pytest.mark.parametrize(
    "change",
    [
        {"isCompleted": "true"},  # read, but as text: the general readers take it
        {"grade": "0.977"},
        {"email": None, "externalId": "Ada@Example.com"},  # the e-mail is the externalId
        {"membershipState": "SUSPENDED"},  # a new value, to be noted
        {"contentType": "Webinar"},
        {"overallProgress": 100.5},  # out of range, to be noted
    ],
)
def test_what_the_general_readers_must_read_or_note_leaves_the_quick_path(change):
    assert quick(altered(coursera_enrollment(1, "a@x.co"), **change)) is None
