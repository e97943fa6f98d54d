"""learners import: the whole file is checked before anything is written."""

from __future__ import annotations

import pytest

from lo_sync.errors import InputError
from lo_sync.learners import import_learners, read_learners_csv
from tests.helpers.factories import open_store, rows


def write(tmp_path, text):
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_are_read_with_emails_lower_cased_and_blanks_as_null(tmp_path):
    path = write(tmp_path, "name,email,external_id\nAda,ADA@X.io,E1\nBob,bob@x.io,\n")
    assert read_learners_csv(path) == [
        {"email": "ada@x.io", "external_id": "E1", "name": "Ada"},
        {"email": "bob@x.io", "external_id": None, "name": "Bob"},
    ]


def test_every_bad_line_is_reported_by_its_line_in_the_file(tmp_path):
    path = write(
        tmp_path,
        'email,external_id,name\n"multi\nline@x.io",1,A\nnope,2,B\n'
        "ok@x.io,3,C,extra\nok@x.io,4,D\ndup@x.io,4,E\n",
    )
    with pytest.raises(InputError) as error:
        read_learners_csv(path)
    message = str(error.value)
    assert "line 3: 'multi\\nline@x.io' is not an e-mail address" in message
    assert "line 4: 'nope' is not an e-mail address" in message
    assert "line 5: 4 fields, expected 3" in message
    assert "line 7: external_id 4 already on line 6" in message


@pytest.mark.parametrize("text", ["", "mail,id\nx@y.z,1\n"])
def test_a_missing_or_wrong_header_rejects_the_file(tmp_path, text):
    with pytest.raises(InputError, match="header|empty file"):
        read_learners_csv(write(tmp_path, text))


def test_reimporting_updates_and_counts_what_changed(tmp_path):
    store = open_store(tmp_path / "db.sqlite")
    assert import_learners(
        store, [{"email": "a@x.io", "external_id": "1", "name": "A"}], dry_run=False
    ) == (1, 0)

    again = [
        {"email": "a@x.io", "external_id": "9", "name": "A"},
        {"email": "b@x.io", "external_id": None, "name": None},
    ]
    assert import_learners(store, again, dry_run=True) == (1, 1)
    assert rows(store, "SELECT email, external_id FROM learners") == [("a@x.io", "1")]
    assert import_learners(store, again, dry_run=False) == (1, 1)
    assert rows(store, "SELECT email, external_id FROM learners ORDER BY email") == [
        ("a@x.io", "9"),
        ("b@x.io", None),
    ]
