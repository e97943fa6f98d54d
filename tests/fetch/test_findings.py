"""Findings: what a fetch set aside, could not read or saw first, counted exactly by
reason, with a few examples; and PageMapper, which notes them page by page."""

from __future__ import annotations

from lo_sync.fetch import mapped_pages
from lo_sync.fetch.findings import EXAMPLES, SET_ASIDE, Findings, add, top_reasons
from lo_sync.providers import NEW_FIELD, NEW_VALUE, NOT_READ
from tests.helpers.factories import coursera_enrollment, oc_course, provider_config


def page_of(*notes) -> dict:
    found: dict = {}
    for kind, field, problem, value in notes:
        add(found, kind, field, problem, value)
    return found


def test_merged_pages_count_exactly_and_keep_at_most_three_distinct_examples():
    findings = Findings()
    for start in (0, 10):
        findings.merge(
            page_of(*[(NOT_READ, "grade", "is outside 0-1", start + i) for i in range(5)])
        )
    findings.merge(page_of((NOT_READ, "grade", "is outside 0-1", 0)))

    assert findings.total(NOT_READ) == 11
    assert findings.reasons(NOT_READ) == [("grade: is outside 0-1", 11, ["0", "1", "2"])]
    assert len(findings.reasons(NOT_READ)[0][2]) == EXAMPLES


def test_reasons_are_sorted_by_count_then_text_and_kinds_kept_apart():
    findings = Findings()
    findings.merge(page_of(
        (SET_ASIDE, "contentId", "missing", {}),
        (SET_ASIDE, "learner", "no e-mail and no externalId", {}),
        (SET_ASIDE, "learner", "no e-mail and no externalId", {"a": 1}),
        (SET_ASIDE, "name", "missing", {}),
        (NOT_READ, "grade", "is outside 0-1", 92),
    ))  # fmt: skip

    assert [(r, n) for r, n, _ in findings.reasons(SET_ASIDE)] == [
        ("learner: no e-mail and no externalId", 2),
        ("contentId: missing", 1),
        ("name: missing", 1),
    ]
    assert findings.total(SET_ASIDE) == 4 and findings.total(NOT_READ) == 1


def test_top_reasons_names_the_first_three_and_counts_the_rest():
    reasons = [("email: missing", 1200, []), ("a: x", 3, []), ("b: y", 2, []), ("c: z", 1, []),
               ("d: w", 1, [])]  # fmt: skip

    assert top_reasons(reasons) == ("email: missing (1,200), a: x (3), b: y (2) and 2 more reasons")
    assert (
        top_reasons(reasons[:4]) == "email: missing (1,200), a: x (3), b: y (2) and 1 more reason"
    )
    assert top_reasons(reasons[:1]) == "email: missing (1,200)"


def test_what_utf_8_cannot_carry_is_escaped_in_examples_fields_and_values():
    """JSON allows a lone surrogate; SQLite and the terminal refuse it."""
    findings = Findings()
    findings.merge(page_of((NEW_VALUE, "status", "be\ud800ta", "be\ud800ta"),
                           (NEW_FIELD, "x\ud800", "never seen before", 1)))  # fmt: skip

    for _, field, value, _, example in findings.drift():
        for text in (field, value, example):
            text.encode("utf-8")


# --- PageMapper -----------------------------------------------------------------------------------


def test_a_page_sets_aside_only_what_cannot_be_stored_and_notes_the_rest():
    good = coursera_enrollment(1, "a@x.co", grade="n/a")
    no_learner = coursera_enrollment(2, None)
    (page,) = mapped_pages(provider_config("coursera"), "stats", [[good, no_learner]])

    assert len(page.rows) == 1
    assert page.rejected == [("learner: no e-mail and no externalId", no_learner)]
    assert page.findings[(SET_ASIDE, "learner", "no e-mail and no externalId")][0] == 1
    assert page.findings[(NOT_READ, "grade", "is not a number")] == [1, ["n/a"]]


def test_unknown_top_level_fields_are_noted_as_new_and_the_record_stored():
    records = [oc_course(1, badges=["gold"]), oc_course(2, badges=[]), oc_course(3)]
    (page,) = mapped_pages(provider_config("openclassrooms"), "courses", [records])

    assert len(page.rows) == 3
    assert page.findings == {(NEW_FIELD, "badges", "never seen before"): [2, ['["gold"]', "[]"]]}


def test_a_set_aside_record_leaves_no_other_note():
    """It is counted once, by its reason: not also for the values it could not read."""
    record = coursera_enrollment(1, None, grade="n/a", extra_field=1)
    (page,) = mapped_pages(provider_config("coursera"), "stats", [[record]])

    assert list(page.findings) == [(SET_ASIDE, "learner", "no e-mail and no externalId")]


def test_a_field_of_junk_values_does_not_grow_the_findings_without_bound():
    from lo_sync.fetch.findings import MAX_FINDINGS, MORE, add

    page: dict = {}
    for n in range(MAX_FINDINGS * 3):
        add(page, "new value", "status", f"junk-{n}", f"junk-{n}")
    findings = Findings()
    findings.merge(page)
    findings.merge({("new value", "status", f"other-{n}"): [1, ["x"]] for n in range(10)})

    assert len(findings.entries) <= MAX_FINDINGS + 1
    assert findings.entries[("new value", "status", MORE)][0] == MAX_FINDINGS * 2 + 10
    assert findings.total("new value") == MAX_FINDINGS * 3 + 10
