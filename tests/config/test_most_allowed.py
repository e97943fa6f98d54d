"""--max-archive and --max-left: one reading of 'at most N' and 'at most N%'."""

from __future__ import annotations

import pytest

from lo_sync import learners, sync
from lo_sync.errors import InputError
from lo_sync.limits import MostAllowed


@pytest.mark.parametrize(
    ("text", "total", "allowed", "said"),
    [
        ("25", 1000, 25, "25"),
        (" 7 ", 3, 7, "7"),  # a count is a count, whatever the total
        ("10%", 40, 4, "10% of 40 active courses = 4"),
        ("10%", 15, 1, "10% of 15 active courses = 1"),  # 1.5 rounds down: "at most"
        ("2.5%", 12_000, 300, "2.5% of 12,000 active courses = 300"),
        ("0", 10, 0, "0"),
        ("100%", 9, 9, "100% of 9 active courses = 9"),
    ],
)
def test_a_count_or_a_share_says_how_many_of_a_total_it_allows(text, total, allowed, said):
    bound = MostAllowed.parse("--max-archive", text)

    assert bound.of(total) == allowed
    assert bound.said(total, " active courses") == said


@pytest.mark.parametrize("text", ["ten", "-1", "5.5", "%", "", "1e9", "10 %%", "12345678901"])
@pytest.mark.parametrize("parse", [sync.parse_max_archive, learners.parse_max_left])
def test_what_is_not_a_whole_count_or_a_share_is_refused_by_both_guards(parse, text):
    option = "--max-archive" if parse is sync.parse_max_archive else "--max-left"

    with pytest.raises(InputError) as refused:
        parse(text)

    assert str(refused.value) == (
        f"{option} {text!r}: expected a count like 25 or a share like 10%"
    )
