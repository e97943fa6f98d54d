"""Configuration is validated up front: every problem at once, each naming its key."""

from __future__ import annotations

import dataclasses
import os
import textwrap
from pathlib import Path

import pytest

from lo_sync.config import Config, HttpSettings, ProviderConfig, load_config, parse_config
from lo_sync.errors import ConfigError
from lo_sync.redact import redact

COURSERA_SECRET = "crs-literal-secret-7Hq2"  # only ever used by this module's tests


def write_config(folder: Path, text: str, mode: int = 0o600, name: str = "config.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    os.chmod(path, mode)
    return path


def problems_of(document) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(document, base_dir=Path("/etc/lo-sync"))
    return caught.value.problems


def coursera_settings(**changes) -> dict:
    settings = {
        "org_id": "c37xwraOSFytEjHm5uQEEA",
        "client_id": "crs-client",
        "client_secret": "crs-secret-for-parse-tests",
        "group": "Sales Academy",
    }
    settings.update(changes)
    return settings


# --- a valid file -------------------------------------------------------------------------------


def test_full_config_parses_into_frozen_dataclasses(tmp_path, monkeypatch):
    monkeypatch.setenv("LO_SYNC_TEST_OC_SECRET", "oc-secret-from-env-5Xw")
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write_config(
        folder,
        f"""\
        database: data/lo-sync.db
        providers:
          coursera:
            org_id: c37xwraOSFytEjHm5uQEEA
            client_id: crs-client
            client_secret: {COURSERA_SECRET}
            group: Coursera learners
          openclassrooms:
            organization_id: 4242
            client_id: oc-client
            client_secret: ${{LO_SYNC_TEST_OC_SECRET}}
            group: OpenClassrooms learners
            base_url: https://oc.example.com/api/
            token_url: https://oc.example.com/oauth2/token
        http:
          connect_timeout: 5
          read_timeout: 30.5
          max_attempts: 3
          max_retry_wait: 20
          page_size: 200
        """,
    )

    config = load_config(path)

    assert config == Config(
        path=path,
        database=folder / "data" / "lo-sync.db",  # relative to the config file's folder
        providers={
            "coursera": ProviderConfig(
                name="coursera",
                org_id="c37xwraOSFytEjHm5uQEEA",
                client_id="crs-client",
                client_secret=COURSERA_SECRET,
                group="Coursera learners",
                # Defaults from the provider contract.
                base_url="https://api.coursera.com/ent/api",
                token_url="https://api.coursera.com/oauth2/client_credentials/token",
            ),
            "openclassrooms": ProviderConfig(
                name="openclassrooms",
                org_id="4242",  # an integer in YAML, text in the config
                client_id="oc-client",
                client_secret="oc-secret-from-env-5Xw",
                group="OpenClassrooms learners",
                base_url="https://oc.example.com/api",  # trailing slash dropped
                token_url="https://oc.example.com/oauth2/token",
            ),
        },
        http=HttpSettings(
            connect_timeout=5.0,
            read_timeout=30.5,
            max_attempts=3,
            max_retry_wait=20.0,
            page_size=200,
        ),
        warnings=(),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.database = Path("elsewhere.db")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.providers["coursera"].client_secret = "x"


def test_openclassrooms_defaults_come_from_the_contract():
    config = parse_config(
        {
            "providers": {
                "openclassrooms": {
                    "organization_id": "4242",
                    "client_id": "oc-client",
                    "client_secret": "oc-secret-for-parse-tests",
                    "group": "OC",
                }
            }
        },
        base_dir=Path("/etc/lo-sync"),
    )

    oc = config.providers["openclassrooms"]
    assert (oc.base_url, oc.token_url) == (
        "https://api.openclassrooms.com",
        "https://api.openclassrooms.com/oauth2/token",
    )
    assert config.database == Path("/etc/lo-sync/lo-sync.db")
    assert config.http == HttpSettings()


def test_busy_timeout_is_seconds_to_wait_for_another_programs_lock(tmp_path):
    def parsed(**document):
        return parse_config(
            {"providers": {"coursera": coursera_settings()}, **document}, base_dir=tmp_path
        )

    assert parsed().busy_timeout == 5.0
    assert parsed(busy_timeout="0.25").busy_timeout == 0.25  # the loader keeps numbers as text
    assert parsed(busy_timeout="0").busy_timeout == 0.0
    for bad in ("-1", "601", "soon", "nan", True):
        assert problems_of(
            {"providers": {"coursera": coursera_settings()}, "busy_timeout": bad}
        ) == ["busy_timeout: must be a number of seconds from 0 to 600"], bad


def test_busy_timeout_survives_loading_a_file(tmp_path):
    path = write_config(
        tmp_path,
        f"""\
        busy_timeout: 30
        providers:
          coursera:
            org_id: c37xwraOSFytEjHm5uQEEA
            client_id: crs-client
            client_secret: {COURSERA_SECRET}
            group: Coursera learners
        """,
        mode=0o644,  # with the literal-secret warning, which rebuilds the Config
    )

    config = load_config(path)

    assert config.busy_timeout == 30.0 and config.warnings


def test_absolute_database_path_is_kept(tmp_path):
    config = parse_config(
        {"database": "/var/lib/lo-sync/lo.db", "providers": {"coursera": coursera_settings()}},
        base_dir=tmp_path,
    )

    assert config.database == Path("/var/lib/lo-sync/lo.db")


# --- environment variables ----------------------------------------------------------------------


def test_env_variable_is_substituted_inside_a_value(monkeypatch):
    monkeypatch.setenv("LO_SYNC_TEST_ORG", "c37xwraOSFytEjHm5uQEEA")
    monkeypatch.setenv("LO_SYNC_TEST_DATA", "/srv/lo")

    config = parse_config(
        {
            "database": "${LO_SYNC_TEST_DATA}/lo.db",
            "providers": {"coursera": coursera_settings(org_id="${LO_SYNC_TEST_ORG}")},
        },
        base_dir=Path("/etc/lo-sync"),
    )

    assert config.providers["coursera"].org_id == "c37xwraOSFytEjHm5uQEEA"
    assert config.database == Path("/srv/lo/lo.db")


def test_missing_env_variable_names_the_variable_and_the_key(monkeypatch):
    monkeypatch.delenv("LO_SYNC_TEST_UNSET_SECRET", raising=False)

    problems = problems_of(
        {"providers": {"coursera": coursera_settings(client_secret="${LO_SYNC_TEST_UNSET_SECRET}")}}
    )

    assert problems == [
        "providers.coursera.client_secret: "
        "environment variable LO_SYNC_TEST_UNSET_SECRET is not set"
    ]


def test_missing_env_variable_in_database_is_reported_once(monkeypatch):
    monkeypatch.delenv("LO_SYNC_TEST_UNSET_DIR", raising=False)

    problems = problems_of(
        {
            "database": "${LO_SYNC_TEST_UNSET_DIR}/lo.db",
            "providers": {"coursera": coursera_settings()},
        }
    )

    assert problems == ["database: environment variable LO_SYNC_TEST_UNSET_DIR is not set"]


# --- problems, each naming its key --------------------------------------------------------------


def test_every_problem_is_reported_at_once_each_naming_its_key():
    problems = problems_of(
        {
            "databse": "typo.db",
            "providers": {
                "coursera": {
                    "org_id": "c37xwraOSFytEjHm5uQEEA",
                    "client_id": ["not", "text"],
                    "client_secret": "crs-secret-for-parse-tests",
                    "groupe": "typo",
                },
                "udemy": {"client_id": "x"},
            },
            "http": {"max_attempts": 0, "retries": 3},
        }
    )

    assert problems == [
        "databse: unknown key (expected one of: busy_timeout, database, http, max_runtime, "
        "providers)",
        "http.retries: unknown key (expected one of: concurrency, connect_timeout, "
        "max_attempts, max_requests_per_second, max_response_mb, max_retry_wait, page_size, "
        "read_timeout, request_deadline)",
        "http.max_attempts: must be a positive integer",
        "providers.coursera.groupe: unknown key (expected one of: base_url, client_id, "
        "client_secret, group, org_id, scope, token_url)",
        "providers.coursera.client_id: must be a string, got list",
        "providers.coursera.group: missing",
        "providers.udemy: unknown provider (known: coursera, openclassrooms)",
    ]


def test_config_error_message_holds_every_problem_and_the_file(tmp_path):
    path = write_config(
        tmp_path,
        """\
        providers:
          openclassrooms:
            client_id: oc-client
        """,
    )

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == (
        f"{path}: providers.openclassrooms.organization_id: missing; "
        "providers.openclassrooms.client_secret: missing; "
        "providers.openclassrooms.group: missing"
    )


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        pytest.param(
            coursera_settings(org_id=None), "providers.coursera.org_id: missing", id="null org_id"
        ),
        pytest.param(
            coursera_settings(group=""),
            "providers.coursera.group: must not be empty",
            id="empty group",
        ),
        pytest.param(
            coursera_settings(client_secret=True),
            "providers.coursera.client_secret: must be a string, got bool",
            id="boolean secret",
        ),
        pytest.param(
            coursera_settings(client_id=1.5),
            "providers.coursera.client_id: must be a string, got float",
            id="float client_id",
        ),
        pytest.param(
            coursera_settings(base_url=8080),
            "providers.coursera.base_url: must be a URL string",
            id="base_url not text",
        ),
        pytest.param(
            coursera_settings(token_url=None),
            "providers.coursera.token_url: must be a URL string",
            id="null token_url",
        ),
        pytest.param(
            coursera_settings(base_url="ftp://api.coursera.com/ent/api"),
            "providers.coursera.base_url: not an http(s) URL: 'ftp://api.coursera.com/ent/api'",
            id="ftp base_url",
        ),
        pytest.param(
            coursera_settings(base_url="http://api.coursera.com/ent/api"),
            "providers.coursera.base_url: plain http is refused for non-loopback host "
            "'api.coursera.com'; use https",
            id="plain http base_url",
        ),
        pytest.param(
            coursera_settings(token_url="http://10.0.0.5/oauth2/token"),
            "providers.coursera.token_url: plain http is refused for non-loopback host "
            "'10.0.0.5'; use https",
            id="plain http token_url on a private address",
        ),
        pytest.param(
            "org_id: c37x",
            "providers.coursera: must be a mapping with org_id, client_id, ...",
            id="settings not a mapping",
        ),
    ],
)
def test_bad_provider_setting_is_named(settings, problem):
    assert problems_of({"providers": {"coursera": settings}}) == [problem]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8089/ent/api", "http://localhost:8089", "http://[::1]:8089/api"],
)
def test_plain_http_is_allowed_for_the_loopback_simulator(url):
    config = parse_config(
        {"providers": {"coursera": coursera_settings(base_url=url, token_url=url + "/token")}},
        base_dir=Path("/etc/lo-sync"),
    )

    assert config.providers["coursera"].base_url == url


@pytest.mark.parametrize(
    ("providers", "problem"),
    [
        pytest.param(
            None, "providers: missing (list at least one of: coursera, openclassrooms)", id="absent"
        ),
        pytest.param({}, "providers: must be a mapping of provider name to settings", id="empty"),
        pytest.param(
            ["coursera"], "providers: must be a mapping of provider name to settings", id="list"
        ),
    ],
)
def test_providers_section_must_name_at_least_one_provider(providers, problem):
    document = {"database": "lo.db"} if providers is None else {"providers": providers}

    assert problems_of(document) == [problem]


@pytest.mark.parametrize(
    ("http", "problems"),
    [
        pytest.param(5, ["http: must be a mapping"], id="not a mapping"),
        pytest.param(
            {"connect_timeout": 0, "read_timeout": "sixty", "max_retry_wait": True},
            [
                "http.connect_timeout: must be a positive number of seconds",
                "http.read_timeout: must be a positive number of seconds",
                "http.max_retry_wait: must be a positive number of seconds",
            ],
            id="bad timeouts",
        ),
        pytest.param(
            {"max_attempts": 2.5, "page_size": -10},
            [
                "http.max_attempts: must be a positive integer",
                "http.page_size: must be a positive integer",
            ],
            id="bad integers",
        ),
    ],
)
def test_http_section_is_validated(http, problems):
    assert problems_of({"providers": {"coursera": coursera_settings()}, "http": http}) == problems


def test_http_section_may_set_only_some_keys():
    config = parse_config(
        {"providers": {"coursera": coursera_settings()}, "http": {"max_attempts": 2}},
        base_dir=Path("/etc/lo-sync"),
    )

    assert config.http == HttpSettings(max_attempts=2)


def test_database_must_be_a_path():
    problems = problems_of({"database": 42, "providers": {"coursera": coursera_settings()}})

    assert problems == ["database: must be a file path"]


# --- the file itself ----------------------------------------------------------------------------


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")

    assert str(caught.value) == (
        f"config file {tmp_path / 'nope.yaml'} not found (use --config FILE or set "
        "LO_SYNC_CONFIG; config.example.yaml shows every key)"
    )


def test_invalid_yaml_reports_the_line(tmp_path):
    path = write_config(
        tmp_path,
        """\
        database: lo.db
        providers:
          coursera:
            org_id: c37xwraOSFytEjHm5uQEEA
            client_id: [crs-client
            group: Sales
        """,
    )

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    # The bracket opened on line 5 is still open when line 6 starts a new key.
    assert str(caught.value) == (
        f"{path}: not valid YAML at line 6, column 10: expected ',' or ']', but got ':'"
    )


@pytest.mark.parametrize("text", ["- coursera\n- openclassrooms\n", "just text\n", ""])
def test_document_that_is_not_a_mapping_is_refused(tmp_path, text):
    path = write_config(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == (
        f"{path}: the file must be a YAML mapping with 'database' and 'providers'"
    )


# --- secrets ------------------------------------------------------------------------------------

LITERAL_SECRET_FILE = f"""\
providers:
  coursera:
    org_id: c37xwraOSFytEjHm5uQEEA
    client_id: crs-client
    client_secret: {COURSERA_SECRET}
    group: Sales
"""


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_literal_secret_in_a_file_others_can_read_is_warned_about(tmp_path, mode):
    path = write_config(tmp_path, LITERAL_SECRET_FILE, mode=mode)

    config = load_config(path)

    assert config.warnings == (
        f"warning: {path} holds a literal client_secret for coursera and is readable by "
        "other users; use ${VAR} or chmod 600",
    )


def test_literal_secret_in_a_private_file_is_not_warned_about(tmp_path):
    path = write_config(tmp_path, LITERAL_SECRET_FILE, mode=0o600)

    assert load_config(path).warnings == ()


def test_secret_from_the_environment_is_not_warned_about(tmp_path, monkeypatch):
    monkeypatch.setenv("LO_SYNC_TEST_CRS_SECRET", "crs-env-secret-3Kd9")
    path = write_config(
        tmp_path,
        LITERAL_SECRET_FILE.replace(COURSERA_SECRET, "${LO_SYNC_TEST_CRS_SECRET}"),
        mode=0o644,
    )

    config = load_config(path)

    assert config.warnings == ()
    assert config.providers["coursera"].client_secret == "crs-env-secret-3Kd9"


def test_client_secret_is_kept_out_of_repr_and_registered_for_redaction(tmp_path, monkeypatch):
    monkeypatch.setenv("LO_SYNC_TEST_OC_SECRET2", "oc-env-secret-Qp81")
    path = write_config(
        tmp_path,
        LITERAL_SECRET_FILE
        + """\
  openclassrooms:
    organization_id: 4242
    client_id: oc-client
    client_secret: ${LO_SYNC_TEST_OC_SECRET2}
    group: OC
""",
    )

    config = load_config(path)

    for secret in (COURSERA_SECRET, "oc-env-secret-Qp81"):
        assert secret not in repr(config)
        assert secret not in str(config)
        assert redact(secret) == "***"
        assert redact(f"token request with {secret} failed") == "token request with *** failed"
    assert "crs-client" in repr(config)  # the rest of the provider stays visible


def test_ids_keep_their_digits_as_written(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text(
        "providers:\n  openclassrooms:\n    organization_id: 012345\n    client_id: 12:30\n"
        "    client_secret: s3cret-value\n    group: G\n"
    )
    path.chmod(0o600)

    config = load_config(path)

    assert config.providers["openclassrooms"].org_id == "012345"
    assert config.providers["openclassrooms"].client_id == "12:30"


def test_a_key_given_twice_is_an_error_not_a_silent_overwrite(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("providers:\n  coursera:\n    org_id: a\n  coursera:\n    org_id: b\n")
    with pytest.raises(ConfigError, match="line 4.*'coursera' appears twice"):
        load_config(path)


# --- bounds: every value by what it means, the file, the report -----------------------------------


def _url(length: int) -> str:
    stem = "https://api.coursera.com/ent/api/"
    return stem + "a" * (length - len(stem))


@pytest.mark.parametrize(
    ("key", "longest", "too_long", "problem"),
    [
        ("group", "g" * 100, "g" * 101, "101 characters long; a group name has at most 100"),
        ("org_id", "o" * 64, "o" * 65, "65 characters long; an organization id has at most 64"),
        ("client_id", "c" * 255, "c" * 256, "256 characters long; a client id has at most 255"),
        (
            "client_secret",
            "s" * 1024,
            "s" * 1025,
            "1,025 characters long; a client secret has at most 1,024",
        ),
        ("base_url", _url(2048), _url(2049), "2,049 characters long; a URL has at most 2,048"),
        ("token_url", _url(2048), _url(2049), "2,049 characters long; a URL has at most 2,048"),
    ],
)
def test_a_text_value_is_bounded_by_what_it_means(key, longest, too_long, problem):
    config = parse_config(
        {"providers": {"coursera": coursera_settings(**{key: longest})}}, base_dir=Path("/etc")
    )
    assert getattr(config.providers["coursera"], key) == longest

    assert problems_of({"providers": {"coursera": coursera_settings(**{key: too_long})}}) == [
        f"providers.coursera.{key}: {problem}"
    ]


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("org_id", "../../admin", "an organization id is letters, digits and . _ ~ -, starting"),
        ("org_id", "ORG/42?x=1", "an organization id is letters, digits and . _ ~ -, starting"),
        ("client_id", "crs\tclient", "a client id is printable ASCII (OAuth2's VSCHAR)"),
        ("client_secret", "sécret", "a client secret is printable ASCII (OAuth2's VSCHAR)"),
        ("client_secret", "line\r\nX-Evil: 1", "a client secret is printable ASCII"),
        ("group", "Sales\nAcademy", "a group name has no control characters"),
    ],
)
def test_a_text_value_holds_only_what_it_may(key, value, rule):
    (problem,) = problems_of({"providers": {"coursera": coursera_settings(**{key: value})}})

    assert problem.startswith(f"providers.coursera.{key}: {rule}")
    assert value not in problem  # a secret is never echoed, nor anything else


def test_the_openclassrooms_organization_id_is_bounded_like_coursera_s():
    settings = {"client_id": "oc", "client_secret": "oc-secret", "group": "G"}

    assert problems_of(
        {"providers": {"openclassrooms": {**settings, "organization_id": "42/../43"}}}
    ) == [
        "providers.openclassrooms.organization_id: an organization id is letters, digits and "
        ". _ ~ -, starting with a letter or digit"
    ]


def test_a_megabyte_group_is_refused_in_one_short_line():
    (problem,) = problems_of({"providers": {"coursera": coursera_settings(group="G" * 2**20)}})

    assert problem == (
        "providers.coursera.group: 1,048,576 characters long; a group name has at most 100"
    )


def test_the_database_path_is_bounded_by_path_max():
    assert problems_of(
        {"database": "d" * 4097, "providers": {"coursera": coursera_settings()}}
    ) == ["database: 4,097 characters long; a file path has at most 4,096"]


def test_every_http_setting_has_a_ceiling():
    ceilings = {
        "connect_timeout": 300,
        "read_timeout": 3600,
        "max_retry_wait": 3600,
        "request_deadline": 3600,
        "max_attempts": 20,
        "page_size": 10_000,
        "max_response_mb": 1024,
        "concurrency": 32,
        "max_requests_per_second": 1000,
    }
    at = parse_config(
        {"providers": {"coursera": coursera_settings()}, "http": ceilings}, base_dir=Path("/")
    )
    above = {key: value + 1 for key, value in ceilings.items()}

    assert dataclasses.asdict(at.http) == {**dataclasses.asdict(HttpSettings()), **ceilings}
    assert set(ceilings) == set(HttpSettings.__dataclass_fields__)
    assert problems_of({"providers": {"coursera": coursera_settings()}, "http": above}) == [
        "http.connect_timeout: at most 300 seconds",
        "http.read_timeout: at most 3,600 seconds",
        "http.max_retry_wait: at most 3,600 seconds",
        "http.request_deadline: at most 3,600 seconds",
        "http.max_requests_per_second: at most 1,000",
        "http.max_attempts: at most 20",
        "http.page_size: at most 10,000",
        "http.max_response_mb: at most 1,024",
        "http.concurrency: at most 32",
    ]


def test_the_new_http_bounds_default_to_a_request_of_five_minutes_and_64_mb():
    assert (HttpSettings().request_deadline, HttpSettings().max_response_mb) == (300.0, 64)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1.5h", 5400), ("5400", 5400), ("24h", 86400)],
)
def test_max_runtime_is_a_duration(text, seconds):
    config = parse_config(
        {"providers": {"coursera": coursera_settings()}, "max_runtime": text}, base_dir=Path("/")
    )

    assert config.max_runtime == seconds


@pytest.mark.parametrize("text", ["0s", "0.5s", "25h", "soon", "", "-5m", "2 hours", True, None])
def test_max_runtime_outside_a_second_to_a_day_is_a_problem(text):
    assert problems_of({"providers": {"coursera": coursera_settings()}, "max_runtime": text}) == [
        "max_runtime: must be a duration such as 90s, 30m or 2h, from 1s to 24h"
    ]


def test_max_runtime_defaults_to_six_hours():
    config = parse_config({"providers": {"coursera": coursera_settings()}}, base_dir=Path("/"))

    assert config.max_runtime == 6 * 3600


@pytest.mark.parametrize(
    ("seconds", "text"), [(7200, "2h"), (1800, "30m"), (5400, "90m"), (90, "90s"), (0.5, "0.5s")]
)
def test_a_duration_is_shown_the_way_an_operator_writes_it(seconds, text):
    from lo_sync.limits import format_duration

    assert format_duration(seconds) == text


def _padded(tmp_path: Path, size: int) -> Path:
    text = "providers:\n  coursera:\n    org_id: o\n    client_id: c\n    client_secret: s\n"
    text += "    group: G\n"
    return write_config(tmp_path, text + "#" * (size - len(text) - 1) + "\n")


def test_a_config_file_of_64_kb_is_read(tmp_path):
    path = _padded(tmp_path, 64 * 1024)

    assert path.stat().st_size == 64 * 1024
    assert load_config(path).providers["coursera"].group == "G"


def test_a_config_file_larger_than_64_kb_is_refused(tmp_path):
    path = _padded(tmp_path, 64 * 1024 + 1)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == (
        f"config file {path} is larger than 64 KB; a configuration is a few hundred bytes "
        "(is --config pointing at the right file?)"
    )


def test_three_thousand_problems_are_reported_as_ten_and_a_count():
    document = {f"unknown_{i}": i for i in range(3000)}
    document["providers"] = {"coursera": coursera_settings()}

    with pytest.raises(ConfigError) as caught:
        parse_config(document, base_dir=Path("/"), source="config.yaml")

    problems = caught.value.problems
    assert len(problems) == 11
    assert problems[0].startswith("unknown_0: unknown key (expected one of: busy_timeout, ")
    assert problems[-1] == "… and 2,990 more problems"
    assert len(str(caught.value)) < 2000


def test_a_problem_shows_a_few_characters_of_a_huge_key_and_is_itself_bounded():
    document = {"k" * 100_000: 1, "providers": {"coursera": coursera_settings()}}
    (key_problem,) = problems_of(document)
    missing = "${" + "V" * 100_000 + "}"
    (env_problem,) = problems_of({"providers": {"coursera": coursera_settings(group=missing)}})

    assert key_problem.startswith(
        "k" * 59 + "…: unknown key (expected one of: busy_timeout, database"
    )
    assert len(env_problem) == 300 and env_problem.endswith("…")


def test_one_problem_past_ten_is_counted_as_one():
    document = {f"unknown_{i}": i for i in range(11)}
    document["providers"] = {"coursera": coursera_settings()}

    assert problems_of(document)[-1] == "… and 1 more problem"


@pytest.mark.parametrize(
    ("http", "problem"),
    [
        ({"concurrency": 0}, "http.concurrency: must be a positive integer"),
        ({"concurrency": "eight"}, "http.concurrency: must be a positive integer"),
        ({"concurrency": 2.5}, "http.concurrency: must be a positive integer"),
        ({"concurrency": 10**12}, "http.concurrency: at most 32"),
        ({"max_requests_per_second": 0}, "http.max_requests_per_second: must be a positive number"),
        (
            {"max_requests_per_second": -3},
            "http.max_requests_per_second: must be a positive number",
        ),
        (
            {"max_requests_per_second": "fast"},
            "http.max_requests_per_second: must be a positive number",
        ),
        (
            {"max_requests_per_second": float("nan")},
            "http.max_requests_per_second: must be a positive number",
        ),
        (
            {"max_requests_per_second": float("inf")},
            "http.max_requests_per_second: must be a positive number",
        ),
    ],
)
def test_concurrency_settings_that_cannot_be_meant_are_refused(http, problem):
    assert problems_of({"providers": {"coursera": coursera_settings()}, "http": http}) == [problem]


def test_concurrency_settings_are_read_and_default_to_eight_without_a_rate_cap():
    read = parse_config(
        {
            "providers": {"coursera": coursera_settings()},
            "http": {"concurrency": 3, "max_requests_per_second": 2.5},
        },
        base_dir=Path("/"),
    )
    default = parse_config({"providers": {"coursera": coursera_settings()}}, base_dir=Path("/"))

    assert (read.http.concurrency, read.http.max_requests_per_second) == (3, 2.5)
    assert (default.http.concurrency, default.http.max_requests_per_second) == (8, None)
