"""`lo-sync demo`: the whole nightly job against the built-in simulator, no credentials needed.

The demo is a list of steps, each a command line run through the real CLI
in-process, printed as it runs: what a new user watches is exactly what their
cron job will do.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lo_sync.files import write_private

if TYPE_CHECKING:
    from lo_sync.simulator import SimulatorConfig


@dataclass(frozen=True)
class Step:
    """One command of the demo, as a user would type it (after `lo-sync --config FILE`).
    `{learners_csv}` and `{learners}` are filled in with the demo's own file and count."""

    title: str
    args: tuple[str, ...]
    expect: tuple[int, ...] = (0,)


NIGHT_ONE = (
    Step("Night 1: what would the catalog sync change?", ("sync-catalog", "--dry-run")),
    Step("Night 1: sync the catalogs", ("sync-catalog",)),
    Step("Night 1: archive what is no longer offered", ("archive",)),
    Step(
        "Import the company's people ({learners} learners)",
        ("learners", "import", "{learners_csv}"),
    ),
    Step("Night 1: learner statistics", ("sync-stats",)),
    Step("What the L&D admin sees", ("stats",)),
)
NIGHT_TWO = (
    Step("Night 2: catalog", ("sync-catalog",)),
    Step("Night 2: archive", ("archive",)),
    Step("Night 2: statistics", ("sync-stats",)),
    Step("Night 2: nothing changed since, so a second run writes nothing", ("sync-catalog",)),
)

# Runs the CLI in-process on the given arguments and returns its exit code.
Invoke = Callable[[list[str]], int]


def run_demo(folder: Path, sim_config: SimulatorConfig, invoke: Invoke) -> int:
    from lo_sync.simulator import CREDENTIALS, Simulator
    from lo_sync.simulator.client_config import SECRET_VARS, config_yaml
    from lo_sync.simulator.learners import write_hr_export

    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "config.yaml"
    database = folder / "lo-sync.db"
    for suffix in ("", "-journal", ".lock"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    learners_csv = folder / "learners.csv"

    with Simulator(sim_config) as sim:
        write_private(
            config_path,
            config_yaml(sim.url, CREDENTIALS, literal_secrets=False, database="lo-sync.db"),
            "demo config",
        )
        for name, var in SECRET_VARS.items():
            os.environ[var] = CREDENTIALS[name]["client_secret"]
        fill = {"learners": write_hr_export(learners_csv, sim_config),
                "learners_csv": str(learners_csv)}  # fmt: skip

        def run(steps: tuple[Step, ...]) -> bool:
            for step in steps:
                argv = ["--config", str(config_path), *(a.format(**fill) for a in step.args)]
                click.secho(f"\n# {step.title.format(**fill)}", bold=True)
                click.echo("$ lo-sync " + shlex.join(argv))
                code = invoke(argv)
                if code not in step.expect:
                    click.secho(f"step failed with exit code {code}", fg="red", err=True)
                    return False
            return True

        click.secho(f"lo-sync demo: simulator on {sim.url}, files in {folder}/", bold=True)
        ok = run(NIGHT_ONE)
        if ok:
            sim.set_day(2)
            click.secho(
                "\n=== the next day: the providers changed titles, statuses, courses and "
                "progress ===",
                bold=True,
            )
            ok = run(NIGHT_TWO)
    click.secho(
        f"\nDone. The database is {database}; open it with any SQLite client, e.g.\n"
        f"  sqlite3 {database} 'SELECT provider, count(*) FROM courses GROUP BY 1'",
        bold=ok,
    )
    return 0 if ok else 1
