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


def test_an_address_the_providers_records_could_not_carry_is_refused_by_the_same_rule(tmp_path):
    # A zero-width space passes for a letter to the eye: such a learner would match no
    # provider's record, which the statistics reader refuses for the same character.
    path = write(tmp_path, "email,external_id,name\nada\u200b@x.io,1,Ada\n" + "b@x.io,2,B\n")
    with pytest.raises(InputError) as error:
        read_learners_csv(path)
    assert "line 2: 'ada\\u200b@x.io' is not an e-mail address: it holds U+200B" in str(error.value)


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


# --- what HR exports look like -----------------------------------------------------------------


def write_bytes(tmp_path, data: bytes):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    return path


def test_a_semicolon_separated_export_with_extra_columns_is_read(tmp_path):
    from lo_sync.learners import read_learners_file

    path = write(
        tmp_path,
        "Employee No;Email;External_ID;Name;Department\n"
        "17;ada@x.io;E1;Ada Lovelace;R&D\n18;bob@x.io;;Bob, Jr.;Sales\n",
    )

    read = read_learners_file(path)

    assert read.rows == [
        {"email": "ada@x.io", "external_id": "E1", "name": "Ada Lovelace"},
        {"email": "bob@x.io", "external_id": None, "name": "Bob, Jr."},
    ]
    assert read.how_read() == "semicolon-separated; ignored columns: Employee No, Department"


def test_a_tab_separated_utf16_export_with_a_bom_is_read(tmp_path):
    text = "email\texternal_id\tname\r\nrene@x.io\tE1\tRené\r\n"
    path = write_bytes(tmp_path, text.encode("utf-16"))

    assert read_learners_csv(path) == [{"email": "rene@x.io", "external_id": "E1", "name": "René"}]


def test_a_latin1_export_is_refused_with_what_to_do_then_read_with_encoding(tmp_path):
    path = write_bytes(
        tmp_path, "email,external_id,name\nrene@x.io,E1,René Dupont\n".encode("latin-1")
    )

    with pytest.raises(InputError) as error:
        read_learners_csv(path)
    message = str(error.value)
    assert "line 2" in message and "0xE9" in message
    assert "'rene@x.io,E1,René Dupont'" in message  # how it reads as Windows-1252
    assert "--encoding cp1252" in message and "CSV UTF-8" in message

    assert read_learners_csv(path, encoding="latin-1") == [
        {"email": "rene@x.io", "external_id": "E1", "name": "René Dupont"}
    ]


def test_an_unknown_encoding_name_is_a_usage_error_naming_the_option(tmp_path):
    path = write(tmp_path, "email,external_id,name\na@x.io,1,A\n")
    with pytest.raises(InputError, match="--encoding latin-9000: not an encoding"):
        read_learners_csv(path, encoding="latin-9000")


def test_a_header_without_the_needed_columns_says_which_and_what_to_do(tmp_path):
    path = write(tmp_path, "Mail;Employee;Name\na@x.io;1;A\n")
    with pytest.raises(InputError) as error:
        read_learners_csv(path)
    message = str(error.value)
    assert "no column email, external_id (its columns: mail, employee, name)" in message
    assert "other columns are ignored" in message


def test_the_cli_imports_a_latin1_export_with_encoding_and_says_how_it_read_it(tmp_path):
    from click.testing import CliRunner

    from lo_sync.cli import cli

    path = write_bytes(
        tmp_path, "email;external_id;name;team\nrene@x.io;E1;René;A\n".encode("cp1252")
    )
    runner = CliRunner()
    args = ["--db", str(tmp_path / "db.sqlite"), "learners", "import", str(path)]

    refused = runner.invoke(cli, args)
    done = runner.invoke(cli, [*args, "--encoding", "cp1252"])

    assert refused.exit_code == 2 and "--encoding cp1252" in refused.output
    assert done.exit_code == 0, done.output
    assert done.output == (
        "learners: 1 in file (read as cp1252; semicolon-separated; ignored columns: team), "
        "1 created, 0 updated, 0 unchanged\n"
    )
