"""`lo-sync demo`: the whole nightly job against the built-in simulator, no credentials needed.

The demo is a list of steps, each a command line run through the real CLI
in-process. What a step prints goes to a file, as it would under cron; the
terminal gets the short story: each command line, its summary, a few example
changes, the notes (guards, regressions, unmatched learners) and the file that
holds the full plan.
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lo_sync.files import write_private

if TYPE_CHECKING:
    from lo_sync.simulator import SimulatorConfig

# The simulator's second night archives a few fixed courses and a share of the rest;
# below this size that is more than the archive guard's 10% of OpenClassrooms' catalog
# and the demo would end at the guard instead of showing the night.
MIN_SIZE = 150
# The demo shows a night, it does not load-test: at this size it writes a few hundred
# thousand statistics rows in minutes. Larger runs are `simulate` and the
# benchmark's business.
MAX_SIZE = 20_000
EXAMPLES = 2  # example changes shown per provider
NOTES = 3  # notes shown per provider
REPORT_ROWS = 4  # courses of the statistics report shown
_ZERO = re.compile(r", 0 [a-z ]+(?=,|$)")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
PROVIDERS = ("coursera", "openclassrooms")


@dataclass(frozen=True)
class Step:
    """One command of the demo, as a user would type it (after `lo-sync --config FILE`).
    `{learners_csv}` and `{learners}` are filled in with the demo's own file and count.

    `plan`: first write the command's full plan to a file with --dry-run;
    `report`: show the first lines of what it prints (the statistics report);
    `terminal`: at a terminal, let it print there, as a person running it would see it."""

    title: str
    args: tuple[str, ...]
    expect: tuple[int, ...] = (0,)
    plan: bool = False
    report: bool = False
    terminal: bool = False


NIGHT_ONE = (
    Step("The day credentials arrive: would the night work?", ("check",)),
    Step("Night 1: what would the catalog sync change?", ("sync-catalog", "--dry-run")),
    Step("Night 1: sync the catalogs (as planned above)", ("sync-catalog",)),
    Step("Night 1: archive what is no longer offered", ("archive",), plan=True),
    Step(
        "Import the company's people ({learners} learners)",
        ("learners", "import", "{learners_csv}"),
    ),
    Step("Night 1: learner statistics", ("sync-stats",), plan=True),
    Step("What the L&D admin sees", ("stats", "--format", "csv"), report=True),
)
NIGHT_TWO = (
    Step("Night 2: catalog", ("sync-catalog",), plan=True),
    Step("Night 2: archive", ("archive",), plan=True),
    Step("Night 2: statistics", ("sync-stats",), plan=True),
    Step(
        "Night 2: nothing changed since, so a second run writes nothing (as a terminal shows it)",
        ("sync-catalog",),
        terminal=True,
    ),
    Step("The dashboard the L&D admin opens", ("report", "--html", "{report_html}")),
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
    report_html = folder / "report.html"
    outputs = folder / "output"
    shutil.rmtree(outputs, ignore_errors=True)
    outputs.mkdir()

    with Simulator(sim_config) as sim:
        write_private(
            config_path,
            config_yaml(sim.url, CREDENTIALS, literal_secrets=False, database="lo-sync.db"),
            "demo config",
        )
        for name, var in SECRET_VARS.items():
            os.environ[var] = CREDENTIALS[name]["client_secret"]
        # As under cron, the config comes from the environment: shorter command lines.
        os.environ["LO_SYNC_CONFIG"] = str(config_path)
        fill = {"learners": write_hr_export(learners_csv, sim_config),
                "learners_csv": str(learners_csv), "report_html": str(report_html)}  # fmt: skip
        numbers = iter(range(1, 100))

        def run(steps: tuple[Step, ...]) -> bool:
            for step in steps:
                argv = [a.format(**fill) for a in step.args]
                click.secho(f"\n# {step.title.format(**fill)}", bold=True)
                words = [a.lstrip("-") for a in step.args[:2] if "{" not in a and a != "--format"]
                stem = f"{next(numbers):02d}-" + "-".join(words)
                out = outputs / (f"{stem}.csv" if step.report else f"{stem}.txt")
                plan = outputs / f"{stem}.plan.txt" if step.plan else out
                if step.plan:
                    click.echo(f"$ lo-sync {shlex.join([*argv, '--dry-run'])} > {plan}")
                    if not _run(invoke, [*argv, "--dry-run"], plan, step):
                        return False
                if step.terminal and sys.stdout.isatty():
                    click.echo(f"$ lo-sync {shlex.join(argv)}")
                    code = invoke(argv)
                    if code not in step.expect:
                        click.secho(f"step failed with exit code {code}", fg="red", err=True)
                        return False
                    if step.plan:
                        click.secho(f"  the full plan: {plan}", dim=True)
                    continue
                click.echo(f"$ lo-sync {shlex.join(argv)} > {out}")
                if not _run(invoke, argv, out, step):
                    return False
                _tell(out, plan, step)
            return True

        click.secho(f"lo-sync demo: simulator on {sim.url}, files in {folder}/", bold=True)
        click.echo(f"$ export LO_SYNC_CONFIG={shlex.quote(str(config_path))}")
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
        f"\nDone. Every command's full output is in {outputs}/.\n"
        f"The database is {database}; open it with any SQLite client, e.g.\n"
        f"  sqlite3 {database} 'SELECT provider, count(*) FROM courses GROUP BY 1'",
        bold=ok,
    )
    if ok:
        click.secho(f"The dashboard: {report_html.resolve().as_uri()}", bold=True)
    return 0 if ok else 1


def _run(invoke: Invoke, argv: list[str], out: Path, step: Step) -> bool:
    """Run one command with what it prints going to `out`, as under cron; errors
    still reach the terminal on stderr."""
    with out.open("w", encoding="utf-8") as handle, redirect_stdout(handle):
        code = invoke(argv)
    if code not in step.expect:
        click.secho(f"step failed with exit code {code}; its output: {out}", fg="red", err=True)
        return False
    return True


def _tell(out: Path, plan: Path, step: Step) -> None:
    """The short story of one step: its summary, a few examples and notes, its files."""
    width = shutil.get_terminal_size((100, 30)).columns
    said = out.read_text(encoding="utf-8").splitlines()
    if step.report:
        rows = list(csv.DictReader(said))
        for row in rows[:REPORT_ROWS]:
            line = (
                f"{row['provider']} {row['course']}: {row['learners_started']} started, "
                f"{row['learners_completed']} completed, {row['average_progress_percent']} % "
                f"progress, {row['time_spent_minutes']} min: {row['title']}"
            )
            click.echo(_cut(f"  {line}", width))
        click.echo(f"  … the whole report ({len(rows):,} courses): {out}")
        return
    for line in said:
        if not _change_or_note(line):
            # The summary without its zero counts: what happened, at a glance.
            click.echo(f"  {_ZERO.sub('', _STAMP.sub('', line))}")
    lines = plan.read_text(encoding="utf-8").splitlines()
    for provider in PROVIDERS:
        changes = [line for line in lines if _change_or_note(line) == (provider, "change")]
        notes = [line for line in lines if _change_or_note(line) == (provider, "note")]
        for line in changes[:EXAMPLES]:
            click.echo(_cut(f"  e.g. {line}", width))
        for line in notes[:NOTES]:
            click.echo(_cut(f"  {line}", width))
        if len(notes) > NOTES:
            click.echo(f"  {provider}: {len(notes) - NOTES} more notes in {plan}")
    if any(_change_or_note(line) for line in lines):
        click.secho(f"  the full plan ({len(lines):,} lines): {plan}", dim=True)


def _change_or_note(line: str) -> tuple[str, str] | None:
    """(provider, 'change' or 'note') for a line of a plain plan; None for a summary."""
    provider, _, rest = line.partition(" ")
    if provider not in PROVIDERS:
        return None
    if rest.startswith("note: "):
        return provider, "note"
    return (provider, "change") if not rest.startswith("…") else (provider, "more")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
