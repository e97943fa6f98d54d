"""The field validators every mapper shares."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st


@given(
    st.one_of(
        st.integers(min_value=-62_135_596_800_000, max_value=253_402_300_799_999),
        st.floats(min_value=-62_135_596_800_000, max_value=253_402_300_799_999),
    )
)
def test_epoch_milliseconds_convert_exactly_as_strftime_of_gmtime_does(value):
    import time

    from lo_sync.providers.fields import iso_from_epoch_ms

    expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value // 1000))
    assert iso_from_epoch_ms(value, "x") == expected
