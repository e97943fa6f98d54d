"""Catalog search: the full-text index over the courses, and the query that reads it.

The index is sqlite-utils' own shape (`db["courses"].enable_fts(...)`): an FTS5
table `courses_fts` whose content is `courses`, kept current by the triggers
sqlite-utils creates on `courses`. It is the shape Datasette detects, so its
search box works on the file too. The triggers fire inside the statement that
changes a course, so the index changes in the catalog's own transaction and a
rollback takes both back.

What is indexed, and why:

- `title`, as the provider sends it;
- `description_text`: the description as plain text (tags dropped, entities
  decoded), which the store writes beside `description` whenever it writes one.
  Indexing the HTML would make `strong` or `p` find every course whose description
  has those tags. A column rather than a contentless index, so the index stays
  the plain sqlite-utils shape that Datasette and `sqlite-utils search` read;
- `skills`, the stored JSON list: its brackets, quotes and commas are separators
  to the tokenizer, so each skill name's words are words of the index.

The tokenizer is unicode61 with remove_diacritics 2: case and accents are folded
(`equipe` finds `équipe`, `GESTION` finds `Gestion`). Archived courses stay in
the index; the query leaves them out by reading `courses.archived`, so archiving
and restoring (store/archive.py) change nothing the index holds, and the update
trigger, which fires only when an indexed column is written, leaves it alone.
"""

from __future__ import annotations

import html
import re
import sqlite3

import sqlite_utils

from lo_sync.errors import InputError
from lo_sync.store.sql import dicts

FTS_TABLE = "courses_fts"
FTS_COLUMNS = ("title", "description_text", "skills")
TOKENIZE = "unicode61 remove_diacritics 2"
# bm25 weight of each indexed column, in FTS_COLUMNS order: a word in the title
# says more about a course than the same word in a long description.
WEIGHTS = (10.0, 1.0, 5.0)
# The SQL function the store writes `description_text` with (registered on every
# connection the store opens; readers of the file never need it).
PLAIN_TEXT = "lo_sync_plain_text"

# Elements whose content is not text a reader sees, comments, and tags, in one pass
# (it runs for every created or updated course). A `<` that does not start a tag
# ("a < b") is text and stays.
_MARKUP = re.compile(
    r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|</?[A-Za-z][^>]*>", re.IGNORECASE | re.DOTALL
)


def plain_text(markup: str | None) -> str | None:
    """A description as the words a reader sees: tags dropped, entities decoded."""
    if markup is None:
        return None
    if "<" not in markup and "&" not in markup:
        return markup
    text = _MARKUP.sub(" ", markup)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def register(conn: sqlite3.Connection) -> None:
    conn.create_function(PLAIN_TEXT, 1, plain_text, deterministic=True)


def plain_text_of(column: str) -> str:
    """The SQL expression for `column` (a description) as plain text."""
    return f"{PLAIN_TEXT}({column})"


_UPDATE_TRIGGER = f"""
CREATE TRIGGER courses_au AFTER UPDATE OF {", ".join(FTS_COLUMNS)} ON courses BEGIN
  INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {", ".join(FTS_COLUMNS)})
    VALUES ('delete', old.rowid, {", ".join(f"old.{c}" for c in FTS_COLUMNS)});
  INSERT INTO {FTS_TABLE} (rowid, {", ".join(FTS_COLUMNS)})
    VALUES (new.rowid, {", ".join(f"new.{c}" for c in FTS_COLUMNS)});
END
"""


def build_index(db: sqlite_utils.Database) -> None:
    """Add `description_text`, fill it, and build the index with its triggers over
    the courses already stored. Inside the caller's transaction (sqlite-utils runs a
    script statement by statement when a transaction is open)."""
    register(db.conn)
    db.execute("ALTER TABLE courses ADD COLUMN description_text TEXT")
    db.execute(f"UPDATE courses SET description_text = {plain_text_of('description')}")
    db["courses"].enable_fts(FTS_COLUMNS, create_triggers=True, tokenize=TOKENIZE)
    # sqlite-utils' update trigger re-indexes a row on any UPDATE; ours only when an
    # indexed column is written. Presence and archiving change no indexed text, and
    # they run one statement a course: FTS5 flushes its pending terms at the end of
    # every statement, so re-indexing there would write a segment per course.
    # Same name, so sqlite-utils still sees the index's triggers as complete.
    db.execute("DROP TRIGGER courses_au")
    db.execute(_UPDATE_TRIGGER)


class Search:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        register(conn)

    def courses(
        self,
        match: str,
        *,
        providers: tuple[str, ...] = (),
        language: str | None = None,
        include_archived: bool = False,
        limit: int = 20,
    ) -> list[dict]:
        """The courses `match` (an FTS5 query) finds, best first (bm25, then provider
        and id so that ties read the same every time).

        `language` is a code: `fr` matches `fr` and `fr-CA`, in any case."""
        where = [f"{FTS_TABLE} MATCH :match"]
        params: dict[str, object] = {"match": match, "limit": limit}
        if providers:
            names = [f":provider{i}" for i in range(len(providers))]
            params.update(zip((n[1:] for n in names), providers, strict=True))
            where.append(f"c.provider IN ({', '.join(names)})")
        if language:
            params["language"] = language.lower()
            where.append(
                "(lower(c.language) = :language OR lower(c.language) LIKE :language || '-%')"
            )
        if not include_archived:
            where.append("c.archived = 0")
        weights = ", ".join(str(w) for w in WEIGHTS)
        sql = (
            "SELECT c.provider, c.external_id, c.title, c.language, c.duration_minutes, "
            "c.skills, c.url, c.archived "
            f"FROM {FTS_TABLE} JOIN courses c ON c.rowid = {FTS_TABLE}.rowid "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY bm25({FTS_TABLE}, {weights}), c.provider, c.external_id LIMIT :limit"
        )
        try:
            return list(dicts(self.conn.execute(sql, params)))
        except sqlite3.OperationalError as exc:
            # lo_sync/search.py writes queries FTS5 accepts; this is the net under it.
            if "fts5" in str(exc) or "unterminated string" in str(exc):
                raise InputError(f"the search query cannot be read ({exc})") from None
            raise
