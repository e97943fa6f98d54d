"""`lo-sync demo` tells a short story and leaves the full plans in files it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lo_sync.cli import cli, invoke
from lo_sync.demo import MAX_SIZE, MIN_SIZE, run_demo
from lo_sync.simulator import SimulatorConfig
from lo_sync.simulator.client_config import SECRET_VARS

# Each step: its title, command line, summary, two examples and three notes per provider.
MAX_LINES = 150


def test_the_demo_fits_a_few_screens_and_names_the_files_with_the_full_plans(
    tmp_path, capsys, monkeypatch
):
    for var in (*SECRET_VARS.values(), "LO_SYNC_CONFIG"):
        monkeypatch.setenv(var, "")  # the demo sets them; put them back afterwards

    code = run_demo(tmp_path / "demo", SimulatorConfig.sized(300), invoke=invoke)

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 0, out
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines"
    # What used to scroll away is on screen: archive counts, regressions, unmatched learners.
    assert re.search(r"openclassrooms archive: \d+ archived", out)
    assert "provider reports less" in out
    assert "match no learner" in out
    assert out.count("  e.g. ") >= 4
    plans = [Path(p) for p in re.findall(r"the full plan(?: \([\d,]+ lines\))?: (\S+)", out)]
    assert len(plans) >= 5 and all(p.is_file() for p in plans)
    # The first night's catalog plan holds every course, not a terminal's first rows.
    first = plans[0].read_text(encoding="utf-8")
    created = int(re.search(r"coursera sync-catalog: [\d,]+ fetched, ([\d,]+) created", first)[1])
    assert first.count("coursera create ") == created > 40


def test_the_smallest_demo_it_accepts_runs_both_nights_without_stopping_at_a_guard(
    tmp_path, capsys, monkeypatch
):
    for var in (*SECRET_VARS.values(), "LO_SYNC_CONFIG"):
        monkeypatch.setenv(var, "")

    code = run_demo(tmp_path / "demo", SimulatorConfig.sized(MIN_SIZE), invoke=invoke)

    out = capsys.readouterr().out
    assert code == 0, out
    assert "step failed" not in out
    assert re.search(r"openclassrooms archive: [1-9]\d* archived", out)


@pytest.mark.parametrize("size", [MIN_SIZE - 1, MAX_SIZE + 1, 10**12, -5])
def test_a_size_outside_the_demo_s_range_is_refused_before_anything_runs(tmp_path, size):
    folder = tmp_path / "demo"

    result = CliRunner().invoke(cli, ["demo", "--dir", str(folder), "--size", str(size)])

    assert result.exit_code == 2
    assert f"not in the range {MIN_SIZE}<=x<={MAX_SIZE}" in result.output
    assert not folder.exists()
