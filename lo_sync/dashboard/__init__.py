"""The HTML dashboard an L&D admin opens: figures (figures.py), the page (html.py, with
charts.py and assets.py), and writing it (here).

The file is written as lo-sync writes every file: owner-only from the first byte, never
through a symbolic link, and atomically: the page goes to a temporary file in the same
folder, which then replaces FILE in one rename, so a reader (a mail job attaching last
night's report) sees the old page or the new one, never half of one.
"""

from __future__ import annotations

from pathlib import Path

from lo_sync.dashboard.figures import Figures, collect
from lo_sync.dashboard.html import render
from lo_sync.files import check_replaceable, replaced_atomically

__all__ = ["Figures", "check_target", "collect", "render", "write_page"]


def check_target(path: Path) -> None:
    """Refuse, in one line, a FILE lo-sync must not write; checked before the database is read."""
    check_replaceable(path, "the report")


def write_page(path: Path, page: str) -> None:
    """Write `page` to `path` atomically, owner-only, never through a link."""
    with replaced_atomically(path, "the report") as stream:
        stream.write(page)
