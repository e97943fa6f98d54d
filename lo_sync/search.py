"""Catalog search: what a user types, turned into an FTS5 query, and the rows it finds.

Users type words, not FTS5 syntax, so each word is quoted before it reaches FTS5:
`c++`, `data-science`, `NEAR(` or `title:python` are words, never a syntax error
(FTS5 itself splits them into the same tokens it indexed). On top of words:

- words are all required (`gestion projet` finds courses with both);
- `word*` finds words that start with `word`;
- `"a phrase"` finds the words next to each other, in order;
- `OR`, `AND` and `NOT` in capitals join the terms on each side of them
  (`python OR sql`, `python NOT django`); in lower case they are words.

What cannot be read is refused in one line: an unbalanced `"`, an operator with
no term on one side, a query longer than MAX_QUERY_CHARS or with more than
MAX_TERMS terms, a query with no word at all (punctuation alone is not indexed).
"""

from __future__ import annotations

import json
import re

from lo_sync.errors import InputError
from lo_sync.store import Store

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
MAX_QUERY_CHARS = 200
MAX_TERMS = 16
OPERATORS = ("AND", "OR", "NOT")
# A language code as the catalog stores them: `fr`, `pt-BR`, `zh-CN`.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def fts_query(query: str) -> str:
    """`query` as an FTS5 MATCH expression; InputError when it cannot be read."""
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(
            f"the search query is {len(query):,} characters long; at most {MAX_QUERY_CHARS}"
        )
    # A control character is no word, and a NUL would end FTS5's reading of a quote.
    parts = _CONTROL.sub(" ", query).split('"')
    if len(parts) % 2 == 0:
        raise InputError(f"the search query {query!r} has an unbalanced double quote")
    terms: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:  # inside quotes: a phrase
            terms += [_term(part, prefix=False)] if _has_word(part) else []
            continue
        for word in part.split():
            if word in OPERATORS:
                terms.append(word)
            elif _has_word(word):
                terms.append(_term(word.rstrip("*"), prefix=word.endswith("*")))
    _check_operators(query, terms)
    if not terms:
        raise InputError(
            f"the search query {query!r} has no word to search for "
            "(punctuation alone is not indexed)"
        )
    if len(terms) > MAX_TERMS:
        raise InputError(f"the search query has {len(terms)} terms; at most {MAX_TERMS}")
    return " ".join(terms)


def _has_word(text: str) -> bool:
    # What FTS5's unicode61 tokenizer keeps: letters and digits of any script.
    return any(ch.isalnum() for ch in text)


def _term(text: str, prefix: bool) -> str:
    # Inside quotes FTS5 reads everything as text; a quote never reaches here.
    return f'"{text}"' + ("*" if prefix else "")


def _check_operators(query: str, terms: list[str]) -> None:
    for i, term in enumerate(terms):
        if term not in OPERATORS:
            continue
        before = terms[i - 1] if i else None
        after = terms[i + 1] if i + 1 < len(terms) else None
        if before is None or after is None or before in OPERATORS or after in OPERATORS:
            raise InputError(
                f"in the search query {query!r}, {term} needs a word on each side "
                f"(to search for the word itself, write it in lower case: {term.lower()})"
            )


def language_code(code: str | None) -> str | None:
    if code is None:
        return None
    if len(code) > 35 or not _LANGUAGE.fullmatch(code):
        raise InputError(f"--language {code!r} is not a language code (for example fr, pt-BR)")
    return code


def search_rows(
    store: Store,
    query: str,
    *,
    providers: tuple[str, ...] = (),
    language: str | None = None,
    include_archived: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> list[dict]:
    """The courses `query` finds, best first, as the report shows them: skills as a
    list, the course's url as its START link; `archived` only when archived courses
    were asked for."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    found = store.search.courses(
        fts_query(query),
        providers=providers,
        language=language_code(language),
        include_archived=include_archived,
        limit=limit,
    )
    rows = []
    for course in found:
        row = {
            "provider": course["provider"],
            "external_id": course["external_id"],
            "title": course["title"],
            "language": course["language"],
            "duration_minutes": course["duration_minutes"],
            "skills": _skills(course["skills"]),
            "start": course["url"],
        }
        if include_archived:
            row["archived"] = bool(course["archived"])
        rows.append(row)
    return rows


def _skills(stored: str | None) -> list[str]:
    try:
        skills = json.loads(stored or "[]")
    except ValueError:
        return []
    return [str(s) for s in skills] if isinstance(skills, list) else []


def flat(rows: list[dict]) -> list[dict]:
    """Rows for a table or CSV: one cell per value, skills joined."""
    return [
        {
            **row,
            "skills": "; ".join(row["skills"]),
            **({"archived": "yes" if row["archived"] else "no"} if "archived" in row else {}),
        }
        for row in rows
    ]
