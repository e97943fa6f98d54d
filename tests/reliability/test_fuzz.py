"""Hypothesis-generated config files and learner CSVs: never a traceback, only exit 2 with a
message that names the file and the problem (or, for a file that happens to be valid, success).

The CLI runs in-process (CliRunner). Config documents are checked with `stats`, which loads
and validates the whole config and then, when it is valid, stops at the missing database:
no generated config ever reaches the network or writes a file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lo_sync.cli import cli
from lo_sync.simulator import CREDENTIALS
from lo_sync.simulator.client_config import config_yaml
from tests.helpers.e2e import secret_env, unstamped

DEFAULT = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = yaml.safe_load(
    config_yaml("http://127.0.0.1:9", CREDENTIALS, literal_secrets=False, database="lo-sync.db")
)


def invoke(args: list[str]):
    return CliRunner().invoke(cli, args, env=secret_env(), catch_exceptions=True)


def assert_usage_error(result, named: str) -> None:
    """Exit 2 from a SystemExit, one message naming `named`, no traceback."""
    output = result.output
    assert result.exit_code == 2, (result.exit_code, output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert output.startswith("Usage:") or unstamped(output)[0].startswith("lo-sync: "), output
    assert named in output, output


def check_config(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yaml"
        config.write_bytes(
            text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        )
        config.chmod(0o600)
        result = invoke(["--config", str(config), "stats"])
        if "no database at" in result.output:
            # A valid config: `stats` stops at the database nobody created.
            assert_usage_error(result, "no database at")
        else:
            assert_usage_error(result, str(config))


# --- config documents -----------------------------------------------------------------------------

KEYS = [
    "database",
    "providers",
    "http",
    "coursera",
    "openclassrooms",
    "org_id",
    "organization_id",
    "client_id",
    "client_secret",
    "group",
    "base_url",
    "token_url",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
    "max_retry_wait",
    "page_size",
    "request_deadline",
    "max_response_mb",
    "max_runtime",
]
NASTY_TEXT = [
    "",
    " ",
    "~",
    "~nosuchuser_zz/db",
    "a\0b",
    "\ud800",
    "${LO_SYNC_FUZZ_UNSET}",
    "${HOME}",
    "${",
    "$ {X}",
    "http://example.com",
    "http://127.0.0.1:1",
    "https://",
    "http://[::1",
    "ftp://127.0.0.1/",
    "https://api.coursera.com/ent/api",
    "0",
    "-1",
    "1e999",
    "nan",
    "inf",
    "12:30",
    "012345",
    "0x1F",
    "yes",
    "null",
    "~/x.db",
    "/",
    ".",
    "..",
    "a" * 5000,
    "\u202e",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(NASTY_TEXT),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.integers(), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))


@st.composite
def mutated_configs(draw):
    """A valid config with one to four of its keys replaced, removed, or joined by strangers."""
    import copy

    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            doc = draw(values) if action == "replace" else doc
            if not isinstance(doc, dict):
                break
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
    return doc


def dump(doc) -> str:
    try:
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return yaml.safe_dump(str(doc))


YAML_PIECES = [
    "database: lo-sync.db\n",
    "providers:\n",
    "  coursera:\n",
    "    org_id: x\n",
    "http:\n",
    "  read_timeout: nan\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 2\n",
    "a: &x [*x]\n",
    "b: *undefined\n",
    "<<: {a: 1}\n",
    "!!python/object/apply:os.system ['true']\n",
    "key: !!binary aGk=\n",
    "d: 2001-12-14\n",
    "e: !!set {a}\n",
    "---\n",
    "...\n",
    "\t- x\n",
    "'unclosed: \n",
    "[" * 300,
    "{" * 50,
    "k: v\nk: w\n",
    "\ufeff",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "f: !custom x\n",
    "- a\n",
    "providers: [coursera]\n",
]


class TestConfigFuzz:
    @DEFAULT
    @given(mutated_configs())
    @example({**VALID, "database": "a\0b"})
    @example({**VALID, "http": {"read_timeout": float("nan")}})
    @example({**VALID, "http": {"max_retry_wait": "inf", "page_size": 10**30}})
    @example({**VALID, "database": "~nosuchuser_zz/db"})
    def test_mutated_configs(self, doc):
        check_config(dump(doc))

    @DEFAULT
    @given(st.lists(st.sampled_from(YAML_PIECES), min_size=1, max_size=8))
    @example(["[" * 3000])
    @example(["? [a, b]\n: 1\n"])
    def test_yaml_oddities(self, pieces):
        check_config("".join(pieces))

    @DEFAULT
    @given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
    @example(b"\xff\xfe not utf-8")
    @example("")
    def test_arbitrary_text(self, text):
        check_config(text)

    @pytest.mark.slow
    @MANY
    @given(st.one_of(mutated_configs(), values))
    def test_many_configs(self, doc):
        check_config(dump(doc))

    @pytest.mark.slow
    @MANY
    @given(st.lists(st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=30)), max_size=12))
    def test_many_yaml_oddities(self, pieces):
        check_config("".join(pieces))


# --- learner CSVs -------------------------------------------------------------------------------

GOOD_HEADER = ["email", "external_id", "name"]
emails = st.one_of(
    st.emails().map(lambda e: e[:200]),
    st.sampled_from(
        [
            "",
            " ",
            "not-an-email",
            "a@b",
            "@b.co",
            "a@b.co",
            "A@B.CO",
            "a b@c.de",
            "a@b.c\u00a0o",
            "x@y.z\n",
            "\0@x.io",
        ]
    ),
    st.text(max_size=15),
)
cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", '"', '""', ",", "\r\n", "\0", "x" * 140_000, "\ufeff"]),
)
headers = st.one_of(
    st.just(GOOD_HEADER),
    st.permutations(GOOD_HEADER),
    st.lists(st.sampled_from([*GOOD_HEADER, " Email ", "EMAIL", "mail", ""]), max_size=5),
)


@st.composite
def csv_files(draw, broken: bool = False) -> tuple[bytes, tuple[str, ...] | None]:
    """(file bytes, what the error must name, one of, or None); `broken` adds a bad line."""
    import csv
    import io

    header = draw(headers)
    rows = draw(st.lists(st.tuples(emails, cells, cells), max_size=8))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    for email, ext, name in rows:
        writer.writerow([email, ext, name][: len(header)] + [""] * (len(header) - 3))
    named = None
    if broken:
        writer.writerow(["not-an-email", "x", "y"])
        good = sorted(h.strip().lower() for h in header) == sorted(GOOD_HEADER)
        named = ("line " if good else "header", "not a valid CSV file")
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return (bom + out.getvalue()).encode("utf-8", "surrogatepass"), named


def check_csv(data: bytes, named: tuple[str, ...] | None, dry_run: bool = True) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "people.csv"
        path.write_bytes(data)
        args = ["--db", str(Path(folder) / "lo-sync.db"), "learners", "import", str(path)]
        result = invoke(args + (["--dry-run"] if dry_run else []))
        if named is None and result.exit_code == 0:
            assert result.exception is None and "learners:" in result.output
            return
        assert_usage_error(result, str(path))
        if named:
            assert any(n in result.output for n in named), result.output


class TestCsvFuzz:
    @DEFAULT
    @given(csv_files())
    def test_generated_csv(self, file):
        check_csv(*file)

    @DEFAULT
    @given(csv_files(broken=True))
    def test_a_bad_line_is_always_refused(self, file):
        check_csv(*file)

    @DEFAULT
    @given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
    @example(b"")
    @example(b"\xff\xfe\x00")
    @example(b'email,external_id,name\n"unterminated')
    def test_arbitrary_bytes(self, data):
        check_csv(data, None)

    @pytest.mark.slow
    @MANY
    @given(
        st.one_of(
            csv_files(), csv_files(broken=True), st.binary(max_size=2000).map(lambda b: (b, None))
        ),
        st.booleans(),
    )
    def test_many_csv_files_written_for_real(self, file, dry_run):
        check_csv(*file, dry_run=dry_run)


# --- what fuzzing found, pinned: each names the key, not just the file ---------------------------

BASE_TEXT = config_yaml(
    "http://127.0.0.1:9", CREDENTIALS, literal_secrets=False, database="lo-sync.db"
)


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("providers:", "http:\n  read_timeout: nan\nproviders:", "http.read_timeout"),
        ("providers:", "http:\n  connect_timeout: inf\nproviders:", "http.connect_timeout"),
        ("providers:", "http:\n  max_retry_wait: 1e999\nproviders:", "http.max_retry_wait"),
        ("database: lo-sync.db", 'database: "a\\0b.db"', "database:"),
        ("database: lo-sync.db", 'database: "\\ud800.db"', "database:"),
        ("database: lo-sync.db", "database: ~nosuchuser_zz/lo-sync.db", "database:"),
        ("http://127.0.0.1:9/coursera/ent/api", "http://[::1/api", "providers.coursera.base_url"),
        ("providers:", "? [a, b]\n: 1\nproviders:", "unhashable key"),
        ("providers:", "a: " + "[" * 3000 + "\nproviders:", "nested too deeply"),
    ],
)
def test_config_values_that_only_failed_later_are_refused_up_front(old, new, named):
    assert BASE_TEXT.count(old) == 1
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yaml"
        config.write_text(BASE_TEXT.replace(old, new), encoding="utf-8")
        result = invoke(["--config", str(config), "stats"])
        assert_usage_error(result, named)
        assert str(config) in result.output
