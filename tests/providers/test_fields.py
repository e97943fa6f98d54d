"""The field validators every mapper shares."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lo_sync.providers import RecordError
from lo_sync.providers.fields import email_address


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


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (" Ada.Lovelace+lo@Example.COM ", "ada.lovelace+lo@example.com"),
        ("o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"),
        # Internationalised addresses are addresses (RFC 6531).
        ("José@Exemple.fr", "josé@exemple.fr"),
        ("用户@例子.广告", "用户@例子.广告"),
    ],
)
def test_an_e_mail_address_becomes_its_key(value, key):
    assert email_address(value, "email") == key


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ada\u200b@example.com", "it holds U+200B"),  # zero-width space
        ("ada@exam\u200dple.com", "it holds U+200D"),  # zero-width joiner
        ("\ufeffada@example.com", "it holds U+FEFF"),  # byte-order mark
        ("ada@elpmaxe\u202e.com", "it holds U+202E"),  # right-to-left override
        ("ada@example.com\x00evil", "it holds U+0000"),
        ("ada\x7f@example.com", "it holds U+007F"),
        ("ada\n@example.com", "it holds U+000A"),
        ("ada\u00a0lovelace@example.com", "it holds U+00A0"),  # no-break space
        ("josé\u2028@exemple.fr", "it holds U+2028"),
        ("ada@example", "(name@domain)"),
        ("ada.example.com", "(name@domain)"),
        ("ada@@example.com", "(name@domain)"),
        ("@example.com", "(name@domain)"),
        ("josé@exemple", "(name@domain)"),
        ("a" * 312 + "@example.com", "is 324 characters long (limit 320)"),
    ],
)
def test_what_is_not_an_e_mail_address_is_refused_naming_the_field(value, problem):
    with pytest.raises(RecordError) as caught:
        email_address(value, "email")

    assert str(caught.value).startswith("email is ")
    assert str(caught.value).endswith(problem)
