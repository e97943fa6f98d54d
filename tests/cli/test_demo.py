"""`lo-sync demo` tells a short story and leaves the full plans in files it names."""

from __future__ import annotations

import re
from pathlib import Path

from lo_sync.cli import invoke
from lo_sync.demo import run_demo
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
