"""`lo-sync search`, end to end: the real CLI over a database that the real sync-catalog
and archive filled from the simulator, in every format; and the query rules users meet."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import unicodedata

import pytest
from click.testing import CliRunner

from lo_sync.cli import cli
from lo_sync.errors import InputError
from lo_sync.report import spreadsheet_cell
from lo_sync.search import MAX_QUERY_CHARS, fts_query
from lo_sync.simulator import Simulator, SimulatorConfig
from tests.helpers.e2e import run_cli, unstamped, write_config

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=10,
    openclassrooms_progress=10,
)
COLUMNS = ["provider", "external_id", "title", "language", "duration_minutes", "skills", "start"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """A database filled by the real sync-catalog and archive from the simulator; the
    tests only read it."""
    folder = tmp_path_factory.mktemp("search")
    with Simulator(SMALL) as sim:
        config = write_config(folder, sim.url)
        assert run_cli(config, "sync-catalog").code == 0
        assert run_cli(config, "archive").code == 0
    return folder / "lo-sync.db"


def search(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), "search", *args])


def found(db, *args) -> list[dict]:
    result = search(db, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def courses(db, where="1") -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM courses WHERE {where}")]
    finally:
        conn.close()


def folded_words(text: str | None) -> set[str]:
    """The words of `text` without case or accents: what the index is meant to hold."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return set(re.findall(r"[^\W_]+", bare.casefold()))


def having_every_word(db, words: str, where="archived = 0") -> set[tuple[str, str]]:
    """The courses whose title, plain description or skills hold every word: the answer
    worked out from the stored rows, beside the index."""
    wanted = folded_words(words)
    return {
        (c["provider"], c["external_id"])
        for c in courses(db, where)
        if wanted <= folded_words(f"{c['title']} {c['description_text']} {c['skills']}")
    }


def keys(rows) -> set[tuple[str, str]]:
    return {(r["provider"], r["external_id"]) for r in rows}


def test_json_lists_each_course_found_with_its_start_link_and_details(db):
    rows = found(db, "gestion de projet", "--limit", "1000")

    assert rows and keys(rows) == having_every_word(db, "gestion de projet")
    stored = {(c["provider"], c["external_id"]): c for c in courses(db)}
    for row in rows:
        course = stored[(row["provider"], row["external_id"])]
        assert list(row) == COLUMNS
        assert row["title"] == course["title"]
        assert row["start"] == course["url"] and row["start"].startswith("https://")
        assert row["language"] == course["language"]
        assert row["duration_minutes"] == course["duration_minutes"]
        assert row["skills"] == json.loads(course["skills"])


def test_csv_and_the_table_show_the_same_courses_in_the_same_order(db):
    rows = found(db, "python", "--limit", "1000")
    as_csv = search(db, "python", "--limit", "1000", "--format", "csv")
    as_table = search(db, "python", "--limit", "1000")

    assert len(rows) > 2
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [list(r) for r in parsed[:1]] == [COLUMNS]
    # An id that starts like a formula (Coursera's may start with "-") is written as text.
    assert [(r["provider"], r["external_id"]) for r in parsed] == [
        (r["provider"], spreadsheet_cell(r["external_id"])) for r in rows
    ]
    assert [r["skills"] for r in parsed] == ["; ".join(r["skills"]) for r in rows]
    lines = as_table.stdout.splitlines()
    assert lines[0].split() == COLUMNS
    assert [line.split()[1] for line in lines[1:]] == [r["external_id"] for r in rows]


def test_the_best_match_comes_first_and_limit_keeps_that_many(db):
    everything = found(db, "python", "--limit", "1000")
    first_three = found(db, "python", "--limit", "3")

    assert first_three == everything[:3]
    assert len(found(db, "python")) == min(20, len(everything))


def test_skills_are_searchable(db):
    skilled = having_every_word(db, "machine learning")
    rows = found(db, "machine learning", "--limit", "1000")

    assert keys(rows) == skilled
    by_skill_only = [
        c
        for c in courses(db, "archived = 0")
        if "Machine Learning" in json.loads(c["skills"]) and "Machine" not in c["title"]
    ]
    assert by_skill_only, "the simulator gives some courses the skill, not the title"
    assert keys(by_skill_only) <= keys(rows)


@pytest.mark.parametrize("spelling", ["ecoconception", "ÉCOCONCEPTION", "Écoconception"])
def test_accents_and_case_do_not_matter(db, spelling):
    rows = found(db, spelling, "--limit", "1000")

    assert rows and keys(rows) == having_every_word(db, "écoconception")
    assert all("écoconception" in r["title"] for r in rows)


def test_a_prefix_finds_the_words_it_starts(db):
    rows = found(db, "ecoconcep*", "--limit", "1000")

    assert keys(rows) == having_every_word(db, "écoconception")


# Each word, as it appears in the simulator's descriptions.
MARKUP = {
    "p": "<p>", "ul": "<ul>", "li": "<li>", "em": "<em>",
    "href": "href=", "nbsp": "&nbsp;", "https": "https://",
}  # fmt: skip


@pytest.mark.parametrize("word", sorted(MARKUP))
def test_html_in_descriptions_is_not_matched_as_words(db, word):
    assert any(MARKUP[word] in (c["description"] or "") for c in courses(db))

    result = search(db, word)

    assert result.exit_code == 0
    assert result.stdout == f"no course matches {word!r}\n"


def test_the_text_inside_the_tags_is_matched(db):
    inside_em = having_every_word(db, "practice")  # <li>Module 2 – <em>practice</em></li>
    inside_a = having_every_word(db, "aucun")  # <a href="…">aucun</a>

    assert inside_em and inside_a
    assert keys(found(db, "practice", "--limit", "1000")) == inside_em
    assert keys(found(db, "aucun", "--limit", "1000")) == inside_a


def test_archived_courses_are_left_out_unless_asked_for(db):
    archived = courses(db, "archived = 1")
    assert archived, "archive archived the simulator's closed OpenClassrooms courses"
    query = archived[0]["title"]

    without = found(db, query, "--limit", "1000")
    with_archived = found(db, query, "--limit", "1000", "--include-archived")

    assert not keys(without) & keys(archived)
    assert all("archived" not in r for r in without)
    assert keys(with_archived) == having_every_word(db, query, where="1")
    assert keys(archived[:1]) <= keys(with_archived)
    assert all(r["archived"] == (r["external_id"] in keys_of(archived)) for r in with_archived)


def keys_of(rows) -> set[str]:
    return {r["external_id"] for r in rows}


def test_language_keeps_the_courses_in_that_language_or_its_regional_forms(db):
    english = found(db, "data", "--language", "en", "--limit", "1000")
    portuguese = found(db, "dados", "--language", "PT", "--limit", "1000")

    assert english and {r["language"] for r in english} == {"en"}
    assert keys(english) == having_every_word(db, "data", where="archived = 0 AND language = 'en'")
    assert portuguese and {r["language"] for r in portuguese} == {"pt-BR"}


def test_provider_keeps_that_provider_s_courses(db):
    rows = found(db, "python", "--provider", "openclassrooms", "--limit", "1000")

    assert rows and {r["provider"] for r in rows} == {"openclassrooms"}
    assert keys(rows) == having_every_word(
        db, "python", where="archived = 0 AND provider = 'openclassrooms'"
    )


def test_nothing_found_says_so_in_one_line_and_keeps_json_and_csv_documents_empty(db):
    table = search(db, "zyzzyva")
    as_json = search(db, "zyzzyva", "--format", "json")
    as_csv = search(db, "zyzzyva", "--format", "csv")

    assert (table.exit_code, table.stdout) == (0, "no course matches 'zyzzyva'\n")
    assert (as_json.exit_code, as_json.stdout) == (0, "[]\n")
    assert (as_csv.exit_code, as_csv.stdout) == (0, "")
    assert unstamped(as_json.stderr) == unstamped(as_csv.stderr) == ["no course matches 'zyzzyva'"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('"gestion de', "unbalanced double quote"),
        ("AND", "AND needs a word on each side"),
        ("python OR", "OR needs a word on each side"),
        ("NOT python", "NOT needs a word on each side"),
        ("++ --", "no word to search for"),
        ("x" * (MAX_QUERY_CHARS + 1), f"at most {MAX_QUERY_CHARS}"),
    ],
)
def test_a_query_that_cannot_be_read_is_one_line_and_exit_2(db, query, says):
    result = search(db, query)

    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = unstamped(result.stderr)
    assert line.startswith("lo-sync: ") and says in line


@pytest.mark.parametrize("query", ["c++", "data-science", "NEAR(", "title:python", "and"])
def test_what_users_type_is_words_never_fts_syntax(db, query):
    result = search(db, query)

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("limit", "code"), [("0", 2), ("1001", 2), ("1000", 0)])
def test_the_limit_is_bounded(db, limit, code):
    assert search(db, "python", "--limit", limit).exit_code == code


def test_or_finds_either_word(db):
    either = found(db, "ecoconception OR negociez", "--limit", "1000")

    assert keys(either) == having_every_word(db, "écoconception") | having_every_word(
        db, "négociez"
    )


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path):
    path = tmp_path / "nothing-here.db"
    result = search(path, "python")

    assert result.exit_code == 2
    [line] = unstamped(result.stderr)
    assert "no database at" in line and "sync-catalog" in line
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_database_is_searched_and_left_byte_identical(db, tmp_path, make_read_only):
    folder = tmp_path / "ro"
    folder.mkdir()
    copy = folder / "lo-sync.db"
    shutil.copy(db, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    make_read_only(copy)
    make_read_only(folder)

    result = search(copy, "gestion de projet", "--format", "csv")

    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + len(having_every_word(db, "gestion de projet"))
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before
    assert [p.name for p in folder.iterdir()] == ["lo-sync.db"]


def test_query_rules():
    assert fts_query("gestion de projet") == '"gestion" "de" "projet"'
    assert fts_query("pyth* OR sql") == '"pyth"* OR "sql"'
    assert fts_query('"machine learning" -') == '"machine learning"'
    assert fts_query("c++ NEAR(") == '"c++" "NEAR("'
    assert fts_query("gestion\x00projet\tagile") == '"gestion" "projet" "agile"'
    with pytest.raises(InputError):
        fts_query("")


@pytest.mark.parametrize("code", ["fr;--", "x", "f" * 40, "fr_FR"])
def test_a_language_that_is_not_a_code_is_refused(db, code):
    result = search(db, "python", "--language", code)

    assert result.exit_code == 2
    [line] = unstamped(result.stderr)
    assert "is not a language code" in line


def test_a_title_in_japanese_is_one_word_found_by_its_beginning_with_a_star(db):
    # unicode61 has no dictionary: a run of CJK characters is one token.
    japanese = having_every_word(db, "データサイエンス入門")
    assert japanese

    assert keys(found(db, "データ*", "--limit", "1000")) == japanese
    assert found(db, "データ") == []
