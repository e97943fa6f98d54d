"""Nights against answers spelled as real services spell them (the simulator's variance):
every storable record stored, and stored as the strict spelling of the same data is."""

from __future__ import annotations

import sqlite3

import pytest

from lo_sync.simulator import Fault, Simulator, SimulatorConfig
from lo_sync.store import Store
from lo_sync.store.schema import migrations
from tests.helpers.e2e import run_cli, write_config

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=1200,
    openclassrooms_progress=300,
)
NIGHT = ("sync-catalog", "archive", "sync-stats")


def night(tmp_path, sim, name: str, day: int = 1) -> sqlite3.Connection:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    config = write_config(folder, sim.url)
    sim.set_day(day)
    for command in NIGHT:
        result = run_cli(config, command)
        assert result.code == 0, f"{command}: {result.stdout}{result.stderr}"
    return sqlite3.connect(folder / "lo-sync.db")


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """The first night against the strict simulator and against the variance one."""
    tmp_path = tmp_path_factory.mktemp("real-data")
    with Simulator(SMALL) as strict:
        strict_db = night(tmp_path, strict, "strict")
    with Simulator(SMALL.replace(variance=True)) as variance:
        variance_db = night(tmp_path, variance, "variance")
    yield strict_db, variance_db
    strict_db.close()
    variance_db.close()


def test_a_night_of_real_spellings_sets_nothing_aside(nights):
    _, db = nights
    assert db.execute("SELECT count(*) FROM rejected_records").fetchone() == (0,)
    assert db.execute(
        "SELECT sum(rejected), sum(coalesce(not_read, 0)) FROM sync_runs"
    ).fetchone() == (0, 0)


def test_every_course_is_stored_as_its_strict_spelling_is(nights):
    strict, variance = nights
    columns = "provider, external_id, title, language, duration_minutes, status, content_type"
    strict_courses = set(strict.execute(f"SELECT {columns} FROM courses"))
    variance_courses = set(variance.execute(f"SELECT {columns} FROM courses"))

    # Variance adds clips to the catalog; every other course is the same.
    assert strict_courses <= variance_courses
    added = variance_courses - strict_courses
    assert added and {course[-1] for course in added} == {"Video"}
    # OpenClassrooms' other spellings of the image and page land where the strict ones do.
    for column in ("url", "image_url"):
        sql = f"SELECT external_id, {column} FROM courses WHERE provider = 'openclassrooms'"
        assert set(strict.execute(sql)) == set(variance.execute(sql)), column


def test_a_clip_keeps_its_parent_its_skills_and_a_start_link_that_works(nights):
    _, variance = nights
    clips = variance.execute(
        "SELECT parent_external_id, skills, url, duration_minutes FROM courses "
        "WHERE content_type = 'Video'"
    ).fetchall()
    courses = {r[0] for r in variance.execute("SELECT external_id FROM courses")}
    assert clips
    for parent, skills, url, minutes in clips:
        assert parent in courses
        assert skills != "[]" and url.startswith("https://") and minutes > 0


def test_every_statistics_row_is_stored_once_and_as_its_strict_spelling(nights):
    strict, variance = nights
    kinds = dict(
        variance.execute("SELECT content_type, count(*) FROM progress GROUP BY 1").fetchall()
    )
    # Learning paths and program collections are kept, typed, beside the courses.
    assert kinds.get("LearningPath", 0) > 0 and kinds.get("ProgramCollection", 0) > 0
    # Rows of the contents both spell the same: Course~<id> is <id>, nothing twice.
    same = (
        "SELECT provider, course_external_id, coalesce(learner_email, learner_key), completed, "
        "completed_at, score_percent FROM progress WHERE content_type NOT IN "
        "('LearningPath', 'ProgramCollection', 'Video')"
    )
    strict_rows = set(strict.execute(same))
    variance_rows = set(variance.execute(same))
    assert len(strict_rows) == len(variance_rows)
    # Only learners the provider sent without any e-mail are keyed otherwise.
    differing = strict_rows - variance_rows
    no_email = variance.execute(
        "SELECT count(*) FROM progress WHERE learner_email IS NULL AND content_type NOT IN "
        "('LearningPath', 'ProgramCollection', 'Video')"
    ).fetchone()[0]
    assert len(differing) == no_email
    assert 0 < no_email < 0.05 * len(strict_rows)


def test_no_statistics_row_is_reported_as_not_in_the_catalog_for_being_a_path(nights):
    strict, variance = nights
    sql = (
        "SELECT provider, not_in_catalog FROM sync_runs WHERE command = 'sync-stats' "
        "ORDER BY provider"
    )
    assert variance.execute(sql).fetchall() == strict.execute(sql).fetchall()


def test_a_learner_first_seen_without_an_email_is_not_stored_twice_when_it_arrives(tmp_path):
    with Simulator(SMALL.replace(variance=True)) as sim:
        db = night(tmp_path, sim, "night", day=1)
        without = db.execute(
            "SELECT provider, course_external_id, learner_key FROM progress "
            "WHERE learner_email IS NULL AND provider = 'coursera'"
        ).fetchall()
        rows_before = db.execute("SELECT count(*) FROM progress").fetchone()[0]
        db.close()
        db = night(tmp_path, sim, "night", day=2)

    keys = [tuple(key) for key in without]
    assert keys
    arrived = db.execute(
        "SELECT count(*) FROM progress p JOIN progress_history h ON h.provider = p.provider "
        "AND h.course_external_id = p.course_external_id AND h.learner_key = p.learner_key "
        "WHERE h.field = 'learner_email' AND h.old_value IS NULL AND p.learner_email IS NOT NULL"
    ).fetchone()[0]
    assert arrived > 0
    # Every row first stored without an e-mail is still there, under the same key ...
    for key in keys:
        assert db.execute(
            "SELECT count(*) FROM progress WHERE provider = ? AND course_external_id = ? "
            "AND learner_key = ?",
            key,
        ).fetchone() == (1,)
    # ... and no learner is stored twice for the same content.
    assert db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM progress WHERE learner_external_id IS NOT NULL "
        "GROUP BY provider, course_external_id, learner_external_id HAVING count(*) > 1)"
    ).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM progress").fetchone()[0] >= rows_before


def test_drift_is_recorded_the_night_it_appears_and_not_called_new_again(tmp_path):
    with Simulator(SMALL) as sim:
        sim.set_faults((Fault("unknown_fields"),))
        config = write_config(tmp_path, sim.url)
        first = run_cli(config, "sync-catalog", "--provider", "coursera")
        second = run_cli(config, "sync-catalog", "--provider", "coursera")

    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    assert "new in data" in first.stdout and "new in data" not in second.stdout
    db = sqlite3.connect(tmp_path / "lo-sync.db")
    drift = db.execute(
        "SELECT finding, field, value, first_run_id, last_run_id FROM data_drift ORDER BY 2, 3"
    ).fetchall()
    assert drift == [
        ("new value", "contentType", "Podcast", 1, 2),
        ("new field", "dataRegion", "", 1, 2),
        ("new field", "featureFlags", "", 1, 2),
    ]
    message = db.execute("SELECT message FROM sync_runs WHERE id = 1").fetchone()[0]
    assert "new field dataRegion" in message and "recorded in data_drift" in message
    # Drift is data, not damage: the courses are stored as usual.
    assert db.execute("SELECT count(*) FROM courses WHERE content_type = 'Podcast'").fetchone()[0]


def test_a_database_from_before_learner_keys_keeps_every_row_under_its_email(tmp_path):
    path = tmp_path / "old.db"
    import sqlite_utils

    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m004_real_provider_data")
    old.execute(
        "INSERT INTO courses (provider, external_id, title, content_type, first_seen_at, "
        "last_seen_at, updated_at) VALUES ('coursera', 'c1', 'T', 'Specialization', 'x', 'x', 'x')"
    )
    old.execute(
        "INSERT INTO progress (provider, course_external_id, learner_email, progress_percent, "
        "completed, first_run_id, last_run_id) VALUES ('coursera', 'c1', 'a@x.io', 40, 0, 1, 1), "
        "('coursera', 'gone', 'b@x.io', 10, 0, 1, 1)"
    )
    old.conn.commit()
    old.close()

    store = Store.open(path)

    assert store.conn.execute(
        "SELECT course_external_id, learner_key, learner_email, content_type, progress_percent "
        "FROM progress ORDER BY 1"
    ).fetchall() == [
        ("c1", "a@x.io", "a@x.io", "Specialization", 40.0),
        ("gone", "b@x.io", "b@x.io", "Course", 10.0),
    ]
    store.close()
