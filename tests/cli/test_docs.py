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
    # A constant the code defines (MAPPING_VERSION) is a name, not a placeholder.
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "lo_sync").rglob("*.py"))
    words = re.findall(r"\b([A-Z]{6,}_?[A-Z]*)\b\n", README.replace("README", ""))
    assert not [w for w in words if not re.search(rf"^{w} = ", code, re.M)], words


ROOT = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def _relative_links(text: str) -> list[str]:
    prose = _prose(text)
    return [t for t in _LINK.findall(prose) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def _anchor(heading: str) -> str:
    # GitHub's rule: lower case, drop punctuation, spaces become hyphens.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_in_the_readme_resolves_inside_the_repo():
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", _prose(README), re.M)}
    links = _relative_links(README)
    assert links, "the README links nothing?"
    for link in links:
        path, _, fragment = link.partition("#")
        if not path:
            assert fragment in anchors, f"README links #{fragment}, which is no heading"
            continue
        target = (ROOT / path).resolve()
        assert target.is_relative_to(ROOT), f"README links {link}, outside the repository"
        assert target.exists(), f"README links {link}, which is not in the repository"


def test_provider_help_says_where_its_default_comes_from():
    """Commands that read the database default to the providers in it, even with no
    configuration; commands that talk to providers, to the configured ones."""
    defaults = {}
    for name, command in commands(cli):
        for param in command.params:
            if param.name == "providers" and "--provider" in param.opts:
                defaults[name] = param.help.rsplit("Default: ", 1)[-1]
    reading = {name for name, default in defaults.items() if "in the database" in default}
    assert {"lo-sync stats", "lo-sync search"} <= reading
    for name in ("lo-sync sync-catalog", "lo-sync archive", "lo-sync sync-stats", "lo-sync check"):
        assert defaults[name] == "every configured provider.", name
