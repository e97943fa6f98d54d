"""The catalog's full-text index: kept current by every catalog change in the same
transaction, built by m005_search for a database that predates it, read the way
Datasette and sqlite-utils read one, and indexing descriptions as the words a reader sees."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from lo_sync import sync
from lo_sync.store import Store
from lo_sync.store.schema import migrations
from lo_sync.store.search import plain_text
from tests.helpers.factories import coursera_content, oc_course, provider_config

OC = provider_config("openclassrooms")
COURSERA = provider_config("coursera")


def catalog(store, pcfg, records):
    plan = sync.plan_catalog(store, pcfg, [records])
    sync.apply_catalog(store, pcfg, plan, "2026-11-23T03:00:00Z")


def archive(store, pcfg):
    plan = sync.plan_archive(store, pcfg)
    sync.apply_archive(store, pcfg, plan, "2026-11-23T03:10:00Z")
    return plan


def found(store, words, **options):
    return [row["external_id"] for row in store.search.courses(words, **options)]


def assert_index_matches_courses(conn):
    """FTS5's own check of an external-content index against its table (rank 1:
    compare every row's tokens with what the content table holds now)."""
    conn.execute("INSERT INTO courses_fts(courses_fts, rank) VALUES ('integrity-check', 1)")
    indexed = conn.execute("SELECT count(*) FROM courses_fts_docsize").fetchone()[0]
    assert indexed == conn.execute("SELECT count(*) FROM courses").fetchone()[0]


def test_a_created_course_is_found_by_its_title_description_and_skills(store):
    skilled = coursera_content(
        2,
        name="Statistics with R",
        description="<p>Regression and <em>hypothesis</em> tests</p>",
    )
    skilled["extraMetadata"]["definition"]["skills"] = [
        {"skillId": "s9", "skillName": "Négociation"}
    ]
    catalog(store, COURSERA, [coursera_content(1, name="Cloud Computing Basics"), skilled])

    assert found(store, '"cloud"') == ["c-1"]
    assert found(store, '"hypothesis"') == ["c-2"]
    assert found(store, '"negociation"') == ["c-2"]
    assert_index_matches_courses(store.conn)


def test_an_updated_course_is_found_by_its_new_words_and_no_longer_by_its_old(store):
    before = oc_course(1, title="Maîtrisez les réseaux TCP/IP", description="<p>Routage</p>")
    catalog(store, OC, [before, oc_course(2)])
    after = oc_course(1, title="Découvrez l'écoconception", description="<em>Sobriété</em>")
    catalog(store, OC, [after, oc_course(2)])

    assert found(store, '"reseaux"') == found(store, '"routage"') == []
    assert found(store, '"ecoconception"') == found(store, '"sobriete"') == ["1"]
    assert found(store, '"em"') == []
    assert_index_matches_courses(store.conn)


def test_an_archived_course_is_left_out_unless_asked_for_and_back_when_restored(store):
    courses = [oc_course(i, title=f"Négociez avec succès {i}") for i in range(1, 21)]
    catalog(store, OC, courses)
    catalog(store, OC, [*courses[:19], oc_course(20, status="closed", title="Négociez 20")])

    assert archive(store, OC).counts == {"archived": 1, "restored": 0}
    assert "20" not in found(store, '"negociez"', limit=100)
    assert "20" in found(store, '"negociez"', include_archived=True, limit=100)
    assert_index_matches_courses(store.conn)

    catalog(store, OC, courses)
    assert archive(store, OC).counts == {"archived": 0, "restored": 1}
    assert "20" in found(store, '"negociez"', limit=100)
    assert_index_matches_courses(store.conn)


def test_archiving_and_presence_leave_the_index_untouched(store):
    # The update trigger fires only when an indexed column is written: archive and
    # presence run one statement a course, and FTS5 writes a segment per statement.
    courses = [oc_course(i, title=f"Maîtrisez les réseaux {i}") for i in range(1, 41)]
    catalog(store, OC, courses)
    index = "SELECT * FROM courses_fts_data ORDER BY id"
    before = store.conn.execute(index).fetchall()

    catalog(store, OC, courses[:37])  # three go missing
    assert archive(store, OC).counts == {"archived": 3, "restored": 0}

    assert store.conn.execute(index).fetchall() == before
    assert len(found(store, '"reseaux"', limit=100)) == 37
    assert_index_matches_courses(store.conn)


def test_a_catalog_change_that_rolls_back_leaves_the_index_as_it_was(store, monkeypatch):
    catalog(store, OC, [oc_course(1, title="Analysez des données avec Excel")])

    def fail(*args):
        raise RuntimeError("the disk went away after the courses were written")

    # After diff.apply, still inside apply_catalog's transaction.
    monkeypatch.setattr(sync, "_record_findings", fail)
    with pytest.raises(RuntimeError):
        catalog(
            store,
            OC,
            [oc_course(1, title="Apprenez à programmer en Python"), oc_course(2, title="Cloud")],
        )

    assert found(store, '"excel"') == ["1"]
    assert found(store, '"python"') == found(store, '"cloud"') == []
    assert_index_matches_courses(store.conn)


def test_the_migration_builds_the_index_over_courses_stored_before_it(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m005_search")
    old.execute(
        "INSERT INTO courses (provider, external_id, title, description, skills, first_seen_at,"
        " last_seen_at, updated_at, archived) VALUES (?, ?, ?, ?, ?, 'T', 'T', 'T', ?)",
        ("openclassrooms", "7", "Gestion de Projet", "<p><strong>Équipe</strong></p>", "[]", 0),
    )
    old.execute(
        "INSERT INTO courses (provider, external_id, title, description, skills, first_seen_at,"
        " last_seen_at, updated_at, archived) VALUES (?, ?, ?, ?, ?, 'T', 'T', 'T', ?)",
        ("coursera", "c-1", "SQL for Data Science", None, '["SQL"]', 1),
    )
    old.conn.commit()
    old.close()

    store = Store.open(path)

    assert "m005_search" in {m.name for m in migrations.applied(store.db)}
    assert found(store, '"equipe"') == ["7"]
    assert found(store, '"strong"') == []
    assert found(store, '"sql"', include_archived=True) == ["c-1"]
    assert store.conn.execute(
        "SELECT description_text FROM courses WHERE external_id = '7'"
    ).fetchone() == ("Équipe",)
    assert_index_matches_courses(store.conn)
    store.close()


def test_sqlite_utils_and_datasette_find_the_index_on_a_plain_connection(store, tmp_path):
    catalog(store, OC, [oc_course(1, title="Initiez-vous à la gestion de projet"), oc_course(2)])
    store.close()

    # No lo-sync function registered: what a Datasette or sqlite-utils user opens.
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "lo-sync.db"))

    assert db["courses"].detect_fts() == "courses_fts"
    assert [row["external_id"] for row in db["courses"].search("gestion")] == ["1"]
    db.close()


def test_a_rank_puts_a_word_in_the_title_before_the_same_word_in_a_description(store):
    catalog(
        store,
        COURSERA,
        [
            coursera_content(1, name="Business Writing", description="Includes cloud labs"),
            coursera_content(2, name="Cloud Computing Basics", description="Servers"),
        ],
    )

    assert found(store, '"cloud"') == ["c-2", "c-1"]


def test_the_filters_narrow_by_provider_and_by_language_code_or_its_prefix(store):
    catalog(store, OC, [oc_course(1, title="Python"), oc_course(2, title="Python", language="en")])
    catalog(store, COURSERA, [coursera_content(1, name="Python", languageCode="pt-BR")])

    assert found(store, '"python"', providers=("openclassrooms",)) == ["1", "2"]
    assert found(store, '"python"', language="FR") == ["1"]
    assert found(store, '"python"', language="pt") == ["c-1"]
    assert found(store, '"python"', language="pt-br") == ["c-1"]


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p><strong>Bien</strong> gérer</p>", "Bien gérer"),
        ("Prérequis&nbsp;: <a href='https://x'>aucun</a>", "Prérequis : aucun"),
        ("<ul><li>Module 1</li><li>Module 2</li></ul>", "Module 1 Module 2"),
        ("a < b and c > d", "a < b and c > d"),
        ("<script>alert('x')</script>Visible<!-- hidden -->", "Visible"),
        ("&lt;strong&gt; is a tag", "<strong> is a tag"),
        ("no markup at all", "no markup at all"),
        (None, None),
    ],
)
def test_a_description_is_indexed_as_the_words_a_reader_sees(markup, text):
    assert plain_text(markup) == text
