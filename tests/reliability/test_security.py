"""Security promises, end to end: secrets never shown, TLS always verified, plain http only on
loopback, no redirect followed, a warning for a world-readable literal secret, an owner-only
database, and no file written through a symbolic link."""

from __future__ import annotations

import logging
import os
import shutil
import ssl
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from lo_sync.cli import cli
from lo_sync.demo import MIN_SIZE
from lo_sync.redact import RedactingFilter, redact, register_secret
from lo_sync.simulator import CREDENTIALS, Fault, Simulator, SimulatorConfig
from lo_sync.simulator.client_config import SECRET_VARS
from tests.helpers.e2e import run_cli, secret_env, unstamped, write_config

SMALL = SimulatorConfig(
    coursera_contents=60,
    openclassrooms_courses=50,
    coursera_enrollments=200,
    openclassrooms_progress=120,
)
FAST = "http:\n  page_size: 20\n  max_retry_wait: 0.01\n  max_attempts: 3\nproviders:"
WRONG_SECRET = "wrong-secret-Zq81-never-shown"


@pytest.fixture
def sim():
    with Simulator(SMALL) as simulator:
        yield simulator


def fast_config(folder: Path, sim: Simulator, **overrides) -> Path:
    return write_config(folder, sim.url, **{"providers:": FAST, **overrides})


def every_file(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in folder.rglob("*") if p.is_file()]


# --- secrets: never in output, logs, or the database --------------------------------------------

# (faults, command line): succeeding and failing runs, each with -v and with -vv.
SCENARIOS = [
    ((), ("sync-catalog", "--dry-run")),
    ((), ("sync-catalog",)),
    ((), ("archive", "--dry-run")),
    ((), ("archive",)),
    ((), ("sync-stats", "--dry-run")),
    ((), ("sync-stats",)),
    ((), ("stats", "--format", "json")),
    ((Fault("rate_limit", every=2, retry_after=0),), ("sync-catalog",)),
    ((Fault("server_error", every=3, count=1),), ("sync-stats",)),
    ((Fault("token_expiry", every=1),), ("sync-stats",)),
    ((Fault("reset", page=20, count=1),), ("sync-catalog",)),
    ((Fault("token_down"),), ("sync-catalog",)),
    ((Fault("token_down", status=401),), ("sync-stats",)),
    ((Fault("broken_page", page=20),), ("sync-stats",)),
    ((Fault("truncated_json", page=0),), ("sync-catalog",)),
    ((Fault("duplicate_record", page=20),), ("sync-catalog",)),
    ((Fault("bad_records", every=3),), ("sync-catalog",)),
    ((Fault("bad_records", every=30),), ("sync-catalog",)),
    ((Fault("shrunk"),), ("sync-catalog",)),
    ((), ("archive",)),  # refused by the guard after the shrunk catalog
    (
        (Fault("rate_limit", every=3, retry_after=0), Fault("token_expiry", every=2)),
        ("sync-stats",),
    ),
]
# The default run: successes, retries and token renewals logged, the token endpoint failing
# and refusing. (Every invocation in test_faults.py is scanned too, without -v.)
DEFAULT_SCENARIOS = [SCENARIOS[i] for i in (1, 5, -1, 11, 12)]


def _secret_matrix(folder: Path, sim: Simulator, scenarios) -> list[str]:
    """Run every scenario with -v and -vv (and a cron-style log file); return all output."""
    config = fast_config(folder, sim)
    people = folder / "people.csv"
    people.write_text("email,external_id,name\nlearner1@example.com,EMP-000001,Ada\n")
    log = folder / "cron.log"
    outputs = []
    for verbosity in ("-v", "-vv"):
        for faults, args in [((), ("learners", "import", str(people))), *scenarios]:
            sim.set_faults(faults)
            result = run_cli(config, verbosity, *args)
            assert "Traceback" not in result.stdout
            with log.open("a") as handle:
                handle.write(result.stdout + result.stderr)
            outputs += [result.stdout, result.stderr]
    # A wrong secret (the provider refuses it) must not be shown either; nor anything in the
    # exception requests raises for a connection refused (logged with its traceback at -vv).
    nowhere = folder / "nowhere"
    nowhere.mkdir()
    unreachable = write_config(nowhere, "http://127.0.0.1:9", **{"providers:": FAST})
    sim.set_faults(())
    for verbosity in ("-v", "-vv"):
        result = run_cli(
            config,
            verbosity,
            "sync-catalog",
            "--provider",
            "coursera",
            env={SECRET_VARS["coursera"]: WRONG_SECRET},
        )
        assert result.code == 2, result.stderr
        outputs += [result.stdout, result.stderr]
        result = run_cli(unreachable, verbosity, "sync-stats", "--provider", "openclassrooms")
        assert result.code == 1 and "connection refused" in result.stderr, result.stderr
        outputs += [result.stdout, result.stderr]
    return outputs


def test_no_secret_or_token_appears_in_any_output_log_or_database(tmp_path, sim, assert_no_secrets):
    outputs = _secret_matrix(tmp_path, sim, DEFAULT_SCENARIOS)

    assert len(sim.issued_tokens()) >= 10
    assert any("DEBUG" in text for text in outputs)  # -vv really logged
    assert any("retrying after" in text for text in outputs)
    assert_no_secrets(sim, *outputs, *every_file(tmp_path), extra=(WRONG_SECRET,))


@pytest.mark.slow
def test_no_secret_or_token_appears_across_the_whole_matrix(tmp_path, sim, assert_no_secrets):
    outputs = _secret_matrix(tmp_path, sim, SCENARIOS)

    assert len(outputs) == 2 * 2 * (len(SCENARIOS) + 1) + 8
    assert_no_secrets(sim, *outputs, *every_file(tmp_path), extra=(WRONG_SECRET,))


def test_an_internal_error_carrying_secrets_is_shown_redacted(
    tmp_path, sim, monkeypatch, restore_logging
):
    """A bug (an unexpected exception) whose text holds a secret, a bearer token and a token
    in a URL: the one-line message and the -vv traceback show none of them."""
    import lo_sync.sync

    config = fast_config(tmp_path, sim)
    monkeypatch.setenv(SECRET_VARS["coursera"], CREDENTIALS["coursera"]["client_secret"])
    monkeypatch.setenv(
        SECRET_VARS["openclassrooms"], CREDENTIALS["openclassrooms"]["client_secret"]
    )
    secret = CREDENTIALS["coursera"]["client_secret"]
    leaked = (
        f"client_secret={secret} Authorization: Bearer not.registered.token-123 "
        "https://api.example/x?access_token=also-unregistered-456"
    )

    def broken(*args, **kwargs):
        raise RuntimeError(leaked)

    monkeypatch.setattr(lo_sync.sync, "plan_catalog", broken)
    result = CliRunner().invoke(
        cli, ["--config", str(config), "-vv", "sync-catalog", "--provider", "coursera"]
    )

    assert result.exit_code == 1
    output = result.output  # stdout and stderr, interleaved
    assert "internal error (RuntimeError" in output
    for value in (secret, "not.registered.token-123", "also-unregistered-456"):
        assert value not in output


def test_tokens_in_logged_urls_and_headers_are_redacted():
    register_secret("registered-token-abcdef")
    record = logging.LogRecord(
        "lo_sync.http",
        logging.INFO,
        __file__,
        1,
        "GET %s headers=%s",
        (
            "https://h/x?access_token=url-token-1&start=0",
            {"Authorization": "Bearer header-token-2", "X-Other": "registered-token-abcdef"},
        ),
        None,
    )
    RedactingFilter().filter(record)
    text = record.getMessage()
    for value in ("url-token-1", "header-token-2", "registered-token-abcdef"):
        assert value not in text
    assert "start=0" in text
    assert "sim-user:pw" not in redact("https://sim-user:pw@host/path")
    assert "Zm9vOmJhcg" not in redact("Authorization: Basic Zm9vOmJhcg==")


# --- TLS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["base_url", "token_url"])
@pytest.mark.parametrize(
    "host",
    ["example.com", "10.0.0.1", "localhost.example.com", "127.0.0.1.nip.io", "[2001:db8::1]"],
)
def test_plain_http_is_refused_unless_the_host_is_loopback(tmp_path, key, host):
    text = write_config(tmp_path, "http://127.0.0.1:9").read_text()
    default = (
        "http://127.0.0.1:9/coursera/ent/api"
        if key == "base_url"
        else ("http://127.0.0.1:9/coursera/oauth2/client_credentials/token")
    )
    config = tmp_path / "config.yaml"
    config.write_text(text.replace(default, f"http://{host}/x"))

    result = CliRunner().invoke(
        cli, ["--config", str(config), "archive", "--dry-run"], env=secret_env()
    )

    assert result.exit_code == 2
    assert f"providers.coursera.{key}: plain http is refused" in result.output
    assert "use https" in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_plain_http_is_accepted_on_loopback(tmp_path, host):
    config = write_config(tmp_path, f"http://{host}:9")

    result = CliRunner().invoke(
        cli, ["--config", str(config), "archive", "--dry-run"], env=secret_env()
    )

    # The config is fine; archive then refuses because no catalog sync ever ran.
    assert result.exit_code == 3, result.output
    assert "plain http" not in result.output


@pytest.fixture(scope="module")
def self_signed_server(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 whose certificate no trust store knows."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    served = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server naming
            served.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "env",
    [
        {},
        # Variables that switch verification off in other tools, or in older requests versions.
        {"CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "", "PYTHONHTTPSVERIFY": "0"},
    ],
    ids=["plain", "hostile-env"],
)
def test_certificates_are_always_verified(tmp_path, self_signed_server, env, assert_no_secrets):
    url, served = self_signed_server
    config = write_config(tmp_path, url, **{"providers:": FAST})

    result = run_cli(config, "sync-catalog", "--provider", "coursera", env=env)

    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "TLS certificate verification failed (self-signed certificate)" in lines[0]
    assert served == []  # no request (and so no credential) ever reached the server
    assert_no_secrets(None, result.stdout, result.stderr)


@pytest.fixture
def redirecting_api():
    """A loopback 'provider' whose API answers 302 to plain http on another host name
    (localhost, not 127.0.0.1), where a planted catalog waits that needs no token."""
    served = []

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status, body=b"", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - the http.server naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(200, b'{"access_token": "tok-redirect-test", "expires_in": 300}')

        def do_GET(self):  # noqa: N802
            served.append(self.path)
            if self.path.startswith("/planted"):
                self._send(200, b'{"elements": [{"contentId": "planted", "name": "Planted"}]}')
            else:
                where = f"http://localhost:{self.server.server_address[1]}/planted?sig=Sg-77"
                self._send(302, headers=[("Location", where)])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


def test_a_redirect_to_another_host_is_refused_and_nothing_is_stored(tmp_path, redirecting_api):
    url, served = redirecting_api
    config = write_config(tmp_path, url, **{"providers:": FAST})

    result = run_cli(config, "sync-catalog", "--provider", "coursera")

    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    port = url.rsplit(":", 1)[1]
    assert f"HTTP 302, a redirect to http://localhost:{port}/planted;" in lines[0]
    assert "Sg-77" not in lines[0]
    assert not any(path.startswith("/planted") for path in served)


# --- the config file: a literal secret others can read ------------------------------------------


def _literal_config(folder: Path, sim_url: str, secret_text: str) -> Path:
    return write_config(folder, sim_url, **{"${" + SECRET_VARS["coursera"] + "}": secret_text})


def test_a_literal_secret_in_a_readable_config_warns_once_and_the_run_goes_on(
    tmp_path, sim, assert_no_secrets
):
    secret = CREDENTIALS["coursera"]["client_secret"]
    config = _literal_config(tmp_path, sim.url, secret)
    config.chmod(0o644)

    result = run_cli(config, "sync-catalog", "--provider", "coursera", "--dry-run")

    assert result.code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(config) in lines[0] and "coursera" in lines[0]
    assert "${VAR}" in lines[0] and "chmod 600" in lines[0]
    assert_no_secrets(sim, result.stdout, result.stderr)


def _warnings(config: Path) -> list[str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "archive", "--dry-run"], env=secret_env()
    )
    assert result.exit_code == 3, result.output  # no catalog sync yet: the config was fine
    return [line for line in result.output.splitlines() if "warning" in line]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o666])
def test_group_or_world_readable_both_warn(tmp_path, mode):
    config = _literal_config(tmp_path, "http://127.0.0.1:9", "a-literal-secret")
    config.chmod(mode)

    warnings = _warnings(config)

    assert len(warnings) == 1 and "use ${VAR} or chmod 600" in warnings[0]
    assert "a-literal-secret" not in warnings[0]


def test_a_numeric_literal_secret_also_warns(tmp_path):
    config = _literal_config(tmp_path, "http://127.0.0.1:9", "123456789")
    config.chmod(0o644)

    warnings = _warnings(config)

    assert len(warnings) == 1 and "literal client_secret for coursera" in warnings[0]
    assert "123456789" not in warnings[0]


@pytest.mark.parametrize(("literal", "mode"), [(True, 0o600), (True, 0o400), (False, 0o644)])
def test_no_warning_for_a_private_file_or_an_environment_secret(tmp_path, literal, mode):
    if literal:
        config = _literal_config(tmp_path, "http://127.0.0.1:9", "a-literal-secret")
    else:
        config = write_config(tmp_path, "http://127.0.0.1:9")
    config.chmod(mode)

    assert _warnings(config) == []


# --- the database file: owner-only ---------------------------------------------------------------


@pytest.fixture
def open_umask():
    old = os.umask(0o000)
    yield
    os.umask(old)


def test_the_database_and_its_lock_are_created_owner_only(tmp_path, sim, open_umask):
    config = fast_config(tmp_path, sim)

    result = run_cli(config, "sync-catalog", "--provider", "openclassrooms")

    assert result.code == 0, result.stderr
    for name in ("lo-sync.db", "lo-sync.db.lock"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_a_database_created_by_learners_import_and_by_db_is_owner_only(tmp_path, open_umask):
    people = tmp_path / "people.csv"
    people.write_text("email,external_id,name\nada@example.com,1,Ada\n")
    db = tmp_path / "elsewhere.db"

    result = CliRunner().invoke(cli, ["--db", str(db), "learners", "import", str(people)])

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


# --- files lo-sync writes: never through a link it did not make ---------------------------------

VICTIM = b"root:x:0:0:an important file lo-sync must never touch\n"


@pytest.fixture
def victim(tmp_path) -> Path:
    path = tmp_path / "elsewhere" / "victim"
    path.parent.mkdir()
    path.write_bytes(VICTIM)
    path.chmod(0o644)
    return path


@pytest.mark.parametrize("dangling", [False, True], ids=["to a file", "dangling"])
def test_a_lock_path_that_is_a_symlink_is_refused_and_its_target_left_alone(
    tmp_path, sim, victim, dangling
):
    config = fast_config(tmp_path, sim)
    target = victim.with_name("not-yet") if dangling else victim
    (tmp_path / "lo-sync.db.lock").symlink_to(target)

    result = run_cli(config, "sync-catalog", "--provider", "openclassrooms")

    assert result.code == 2, result.stderr
    assert unstamped(result.stderr) == [
        f"lo-sync: lock file {tmp_path / 'lo-sync.db.lock'} is a symbolic link; lo-sync does "
        "not write through links (remove it: lo-sync creates the file itself)"
    ]
    assert victim.read_bytes() == VICTIM and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert not (dangling and target.exists())
    assert not (tmp_path / "lo-sync.db").exists()
    assert sim.request_log == []


def test_a_lock_path_that_is_no_regular_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / "lo-sync.db.lock")
    people = tmp_path / "people.csv"
    people.write_text("email,external_id,name\nada@example.com,1,Ada\n")

    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "lo-sync.db"), "learners", "import", str(people)]
    )

    assert result.exit_code == 2
    assert "lock file" in result.output and "is not a regular file" in result.output


def test_a_database_path_that_is_a_dangling_symlink_creates_nothing(tmp_path, victim):
    target = victim.with_name("not-yet.db")
    (tmp_path / "lo-sync.db").symlink_to(target)
    people = tmp_path / "people.csv"
    people.write_text("email,external_id,name\nada@example.com,1,Ada\n")

    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "lo-sync.db"), "learners", "import", str(people)]
    )

    assert result.exit_code == 2
    assert f"is a symbolic link to {target}, which does not exist" in result.output
    assert not target.exists()


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_database_linked_to_a_file_others_can_open_warns(tmp_path, victim, mode, warned):
    real = victim.with_name("real.db")
    real.touch(mode=0o600)
    real.chmod(mode)
    (tmp_path / "lo-sync.db").symlink_to(real)
    people = tmp_path / "people.csv"
    people.write_text("email,external_id,name\nada@example.com,1,Ada\n")

    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "lo-sync.db"), "learners", "import", str(people)]
    )

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "warning" in line]
    warnings = [w[w.index("warning") :] for w in warnings]
    if warned:
        assert warnings == [
            f"warning: database {tmp_path / 'lo-sync.db'} links to {real}, which other users "
            f"can open (mode {mode:04o}) although it holds learners' personal data; chmod 600 it"
        ]
    else:
        assert warnings == []
    assert sqlite3_count(real, "learners") == 1  # the link is the operator's, and followed


def sqlite3_count(path: Path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_journal_path_that_is_a_symlink_is_refused_and_its_target_left_alone(
    tmp_path, sim, victim
):
    config = fast_config(tmp_path, sim)
    assert run_cli(config, "sync-catalog", "--provider", "openclassrooms").code == 0
    journal = tmp_path / "lo-sync.db-journal"
    journal.symlink_to(victim)
    sim.set_day(2)

    result = run_cli(config, "sync-catalog", "--provider", "openclassrooms")

    assert result.code == 2
    assert unstamped(result.stderr) == [
        f"lo-sync: {journal} is a symbolic link; neither SQLite nor lo-sync writes through "
        "links (remove it)"
    ]
    assert victim.read_bytes() == VICTIM


@pytest.mark.parametrize("name", ["config.yaml", "learners.csv"])
def test_the_demo_does_not_write_through_a_symlink(tmp_path, victim, name):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / name).symlink_to(victim)

    result = run_cli(None, "demo", "--dir", str(folder), "--size", str(MIN_SIZE))

    assert result.code == 2, result.stderr
    assert f"{folder / name} is a symbolic link; lo-sync does not write through links" in (
        result.stderr
    )
    assert victim.read_bytes() == VICTIM


def test_the_demo_s_files_are_owner_only(tmp_path, open_umask):
    folder = tmp_path / "demo"

    result = run_cli(None, "demo", "--dir", str(folder))

    assert result.code == 0, result.stderr
    for name in ("config.yaml", "learners.csv", "lo-sync.db", "lo-sync.db.lock"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
