"""The README is the reference: every command, option, table and exit code is in it."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from lo_sync import errors
from lo_sync.cli import cli
from lo_sync.store import Store

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "lo-sync"):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


@pytest.mark.parametrize("name,command", list(commands(cli)), ids=lambda v: str(v))
def test_every_command_and_its_options_are_documented(name, command):
    assert f"`{name}" in README, f"{name} is missing from the README"
    for param in command.params:
        for option in param.opts:
            if option.startswith("--") and option != "--help":
                assert option in README, f"{name} {option} is missing from the README"


def test_every_exit_code_is_documented():
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    for code in codes:
        assert re.search(rf"^\| {code} \|", README, re.M), f"exit code {code} not in README"


def test_every_table_and_column_is_documented(tmp_path):
    store = Store.open(tmp_path / "doc.db")
    for table in store.db.table_names():
        if table.startswith("_sqlite"):
            continue
        assert f"`{table}`" in README, f"table {table} missing from README"
        for column in store.db[table].columns_dict:
            assert column in README, f"{table}.{column} missing from README"


def test_no_placeholder_is_left_in_the_readme():
    assert not re.search(r"\b[A-Z]{6,}_?[A-Z]*\b\n", README.replace("README", ""))
