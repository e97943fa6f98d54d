"""crontab.example, run as cron runs it: its command text under `env -i`, with cron's
PATH and the crontab's own variables, against the simulator.

Only the recipe's path variables are pointed under tmp; the command is the file's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lo_sync.simulator import Simulator, SimulatorConfig
from tests.helpers.e2e import secret_env, write_config

CRONTAB = Path(__file__).resolve().parents[2] / "crontab.example"
CRON_PATH = "/usr/bin:/bin"  # what Debian's cron gives a job
SMALL = SimulatorConfig(
    coursera_contents=40, openclassrooms_courses=20, coursera_enrollments=200,
    openclassrooms_progress=100,
)  # fmt: skip
_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_JOB = re.compile(r"^(\S+\s+){5}(?P<command>.+)$")

pytestmark = pytest.mark.skipif(
    shutil.which("flock") is None or not Path("/bin/bash").exists(), reason="needs flock and bash"
)


def parse_crontab(text: str) -> tuple[dict[str, str], list[str]]:
    """(variables, job commands), read as cron reads them: values are literal, and a
    `%` in a command ends it (the rest becomes its stdin) unless escaped."""
    variables: dict[str, str] = {}
    commands: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if match := _VARIABLE.match(line):
            variables[match.group(1)] = match.group(2).strip().strip("'\"")
        elif match := _JOB.match(line):
            command = match.group("command")
            assert not re.search(r"(?<!\\)%", command), "cron would cut the command at its %"
            commands.append(command.replace(r"\%", "%"))
    return variables, commands


def test_the_recipe_documents_every_path_it_uses_as_an_absolute_variable():
    variables, commands = parse_crontab(CRONTAB.read_text(encoding="utf-8"))

    assert len(commands) == 1
    paths = {k: v for k, v in variables.items() if k.startswith("LO_SYNC_")}
    assert set(paths) == {"LO_SYNC_HOME", "LO_SYNC_CONFIG", "LO_SYNC_SECRETS", "LO_SYNC_DATA",
                          "LO_SYNC_LOGS"}  # fmt: skip
    assert all(v.startswith("/") for v in paths.values()), paths
    # The only absolute paths in the command are the tools cron's PATH already finds.
    assert not re.search(r"(?<![\w$])/(?:var|etc|opt|home|usr|srv)\b", commands[0])
    assert variables["MAILTO"], "failures must be mailed to someone"


def run_job(tmp_path: Path, sim_url: str, secrets: dict[str, str]):
    """The crontab's command, run by its SHELL under env -i: what cron runs at 03:00."""
    variables, (command,) = parse_crontab(CRONTAB.read_text(encoding="utf-8"))
    etc = tmp_path / "etc" / "lo-sync"
    etc.mkdir(parents=True)
    write_config(etc, sim_url)
    env_file = etc / "secrets.env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in secrets.items()), encoding="utf-8")
    variables.update(
        LO_SYNC_HOME=sys.prefix,  # the virtual environment running this test
        LO_SYNC_CONFIG=str(etc / "config.yaml"),
        LO_SYNC_SECRETS=str(env_file),
        # Not created beforehand: the job makes its folders.
        LO_SYNC_DATA=str(tmp_path / "var" / "lib" / "lo-sync"),
        LO_SYNC_LOGS=str(tmp_path / "var" / "log" / "lo-sync"),
    )
    env = {"PATH": CRON_PATH, "HOME": str(tmp_path), "LOGNAME": "lo-sync", **variables}
    done = subprocess.run(
        ["env", "-i", *(f"{k}={v}" for k, v in env.items()), variables["SHELL"], "-c", command],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        cwd="/",
    )
    log = Path(variables["LO_SYNC_LOGS"]) / "nightly.log"
    return done, log, Path(variables["LO_SYNC_DATA"])


@pytest.fixture
def sim():
    if not (Path(sys.prefix) / "bin" / "lo-sync").exists():
        pytest.skip("lo-sync is not installed as a script in this environment")
    with Simulator(SMALL) as simulator:
        yield simulator


def test_the_crontab_line_runs_the_night_under_cron_and_logs_it(tmp_path, sim):
    done, log, data = run_job(tmp_path, sim.url, secret_env())

    assert done.returncode == 0, done.stdout + done.stderr
    # cron mails whatever the job prints: a good night mails nothing
    assert (done.stdout, done.stderr) == ("", "")
    lines = log.read_text(encoding="utf-8").splitlines()
    for step in ("sync-catalog", "archive", "sync-stats"):
        for provider in ("coursera", "openclassrooms"):
            assert any(f"{provider} {step}: " in line for line in lines), lines
    assert (data / "lo-sync.db").exists()
    assert not (tmp_path / "etc" / "lo-sync" / "lo-sync.db").exists()


def test_a_failing_night_prints_what_cron_mails(tmp_path, sim):
    secrets = {k: "wrong" for k in secret_env()}

    done, log, _ = run_job(tmp_path, sim.url, secrets)

    mail = done.stdout + done.stderr
    assert "lo-sync nightly job failed with exit code" in mail
    assert "credentials" in mail or "refused" in mail  # the log's error lines come with it
    assert "failed with exit code" not in log.read_text(encoding="utf-8")
