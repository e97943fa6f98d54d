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
        "databse: unknown key (expected one of: busy_timeout, database, http, providers)",
        "http.retries: unknown key (expected one of: connect_timeout, max_attempts, "
        "max_retry_wait, page_size, read_timeout)",
        "http.max_attempts: must be a positive integer",
        "providers.coursera.groupe: unknown key (expected one of: base_url, client_id, "
        "client_secret, group, org_id, token_url)",
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
