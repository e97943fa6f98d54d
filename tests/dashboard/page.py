"""Reading the dashboard back as a person sees it: its tables' cells, its cards' figures,
its charts' shapes and every tag that could load something, with the stdlib's parser.

Works on the page lo-sync writes (end tags left out) and on Chromium's dump of the DOM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"input", "meta", "br", "img", "hr", "link", "line", "rect"}


@dataclass
class Cell:
    text: str = ""
    small: str = ""  # text inside <small> (the course id under its title)
    tag: str = ""  # text inside <span class="tag"> (archived)
    attrs: dict = field(default_factory=dict)


@dataclass
class Table:
    keys: list[str] = field(default_factory=list)  # each heading's data-key
    heads: list[dict] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    row_attrs: list[dict] = field(default_factory=list)

    def records(self) -> list[dict[str, Cell]]:
        return [dict(zip(self.keys, row, strict=True)) for row in self.rows]


class Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, Table] = {}
        self.cards: dict[str, dict[str, tuple[str, str]]] = {}  # provider → key → (data-v, text)
        self.scripts: list[tuple[dict, str]] = []
        self.svgs: dict[str, dict[str, int]] = {}  # id → tag → count
        self.svg_text: dict[str, list[str]] = {}
        self.tags: list[tuple[str, dict]] = []  # every start tag, with its attributes
        self.root_attrs: dict = {}
        self.by_id: dict[str, tuple[dict, str]] = {}
        self._table: Table | None = None
        self._cell: Cell | None = None
        self._in = []  # open <small>, <span class=tag>, <script>, <dd> ...
        self._card = None
        self._dd = None
        self._svg = None
        self._ids = []  # open elements that have an id: (tag, id)
        self._row = None
        self._tr_attrs: dict = {}
        self.feed(text)
        self.close()
        for table in self.tables.values():
            for row in table.rows:
                for cell in row:
                    cell.text, cell.small, cell.tag = (
                        " ".join(cell.text.split()),
                        cell.small.strip(),
                        cell.tag.strip(),
                    )

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "html":
            self.root_attrs = attrs
        if "id" in attrs:
            self.by_id[attrs["id"]] = (attrs, "")
            if tag not in VOID:
                self._ids.append((tag, attrs["id"]))
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), Table())
        elif tag == "tr" and self._table is not None:
            self._cell = None
            self._row = None  # made at its first <td>: a heading row holds none
            self._tr_attrs = attrs
        elif tag in ("td", "th") and self._table is not None:
            self._cell = Cell(attrs=attrs)
            if tag == "th":
                self._table.keys.append(attrs.get("data-key", ""))
                self._table.heads.append(attrs)
            else:
                if self._row is None:
                    self._row = []
                    self._table.rows.append(self._row)
                    self._table.row_attrs.append(self._tr_attrs)
                self._row.append(self._cell)
        elif tag == "small":
            self._in.append("small")
        elif tag == "span" and attrs.get("class") == "tag":
            self._in.append("tag")
        elif tag == "script":
            self.scripts.append((attrs, ""))
            self._in.append("script")
        elif tag == "article" and "data-provider" in attrs:
            self._card = self.cards.setdefault(attrs["data-provider"], {})
        elif tag == "dd" and self._card is not None:
            self._dd = [attrs.get("data-key"), attrs.get("data-v"), ""]
        elif tag == "svg":
            self._svg = attrs.get("id", "")
            self.svgs[self._svg] = {}
            self.svg_text[self._svg] = []
        if self._svg is not None and tag != "svg":
            self.svgs[self._svg][tag] = self.svgs[self._svg].get(tag, 0) + 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self._ids and self._ids[-1][0] == tag:
            self._ids.pop()
        if tag == "table":
            self._table = None
            self._cell = None
        elif tag in ("small", "span", "script") and self._in:
            if tag == "span" and self._in[-1] != "tag":
                return
            self._in.pop()
        elif tag == "dd" and self._dd is not None:
            key, value, text = self._dd
            self._card[key] = (value, text.strip())
            self._dd = None
        elif tag == "article":
            self._card = None
        elif tag == "svg":
            self._svg = None

    def handle_data(self, data):
        if "script" in self._in:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
            return
        if self._ids:
            tag, ident = self._ids[-1]
            attrs, text = self.by_id[ident]
            self.by_id[ident] = (attrs, text + data)
        if self._dd is not None:
            self._dd[2] += data
        if self._svg is not None:
            self.svg_text[self._svg].append(data)
        if self._cell is not None:
            if "small" in self._in:
                self._cell.small += data
            elif "tag" in self._in:
                self._cell.tag += data
            else:
                self._cell.text += data

    def table(self, ident: str) -> Table:
        return self.tables[ident]

    def text_of(self, ident: str) -> str:
        return self.by_id[ident][1].strip()

    def attrs_of(self, ident: str) -> dict:
        return self.by_id[ident][0]
