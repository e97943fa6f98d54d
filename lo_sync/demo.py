"""`lo-sync demo`: the whole nightly job against the built-in simulator, no credentials needed.

Each step runs the real CLI in-process and prints the command line it ran, so
what a new user watches is exactly what their cron job will do.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click


def run_demo(folder: Path, size: int, sim_config) -> int:
    from lo_sync.cli import cli
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
        config_path.write_text(
            config_yaml(sim.url, CREDENTIALS, literal_secrets=False, database="lo-sync.db"),
            encoding="utf-8",
        )
        os.chmod(config_path, 0o600)
        for name, var in SECRET_VARS.items():
            os.environ[var] = CREDENTIALS[name]["client_secret"]
        learners = write_hr_export(learners_csv, sim_config)

        def step(title: str, *args: str, expect: tuple[int, ...] = (0,)) -> bool:
            argv = ["--config", str(config_path), *args]
            click.secho(f"\n# {title}", bold=True)
            click.echo("$ lo-sync " + shlex.join(argv))
            try:
                cli.main(argv, prog_name="lo-sync", standalone_mode=False)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            if code not in expect:
                click.secho(f"step failed with exit code {code}", fg="red", err=True)
                return False
            return True

        click.secho(f"lo-sync demo: simulator on {sim.url}, files in {folder}/", bold=True)
        ok = all(
            [
                step("Night 1: what would the catalog sync change?", "sync-catalog", "--dry-run"),
                step("Night 1: sync the catalogs", "sync-catalog"),
                step("Night 1: archive what is no longer offered", "archive"),
                step(
                    f"Import the company's people ({learners} learners)",
                    "learners",
                    "import",
                    str(learners_csv),
                ),
                step("Night 1: learner statistics", "sync-stats"),
                step("What the L&D admin sees", "stats"),
            ]
        )
        if ok:
            sim.set_day(2)
            click.secho(
                "\n=== the next day: the providers changed titles, statuses, courses and "
                "progress ===",
                bold=True,
            )
            ok = all(
                [
                    step("Night 2: catalog", "sync-catalog"),
                    step("Night 2: archive", "archive"),
                    step("Night 2: statistics", "sync-stats"),
                    step(
                        "Night 2: nothing changed since, so a second run writes nothing",
                        "sync-catalog",
                    ),
                ]
            )
    click.secho(
        f"\nDone. The database is {database}; open it with any SQLite client, e.g.\n"
        f"  sqlite3 {database} 'SELECT provider, count(*) FROM courses GROUP BY 1'",
        bold=ok,
    )
    return 0 if ok else 1
