"""`lo-sync check`, end to end against the simulator: the day credentials arrive."""

from __future__ import annotations

import pytest

from lo_sync import check as checks
from lo_sync.simulator import CREDENTIALS, Fault, Simulator, SimulatorConfig
from tests.helpers.e2e import run_cli, unstamped, write_config

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=600,
    openclassrooms_progress=300,
)
CLIENT_SECRET = CREDENTIALS["coursera"]["client_secret"]


@pytest.fixture
def sim():
    with Simulator(SMALL) as simulator:
        yield simulator


def lines_of(result) -> dict[str, str]:
    """'coursera catalog' → what its line says after the name."""
    out = {}
    for line in unstamped(result.stdout):
        provider, endpoint, rest = line.split(" ", 2)
        out[f"{provider} {endpoint.rstrip(':')}"] = rest
    return out


def test_with_good_credentials_every_endpoint_is_ready_and_nothing_is_written(tmp_path, sim):
    config = write_config(tmp_path, sim.url)

    result = run_cli(config, "check")

    assert result.code == 0, result.stderr
    lines = lines_of(result)
    assert list(lines) == [
        "coursera catalog",
        "coursera statistics",
        "openclassrooms catalog",
        "openclassrooms statistics",
    ]
    assert lines["coursera catalog"].startswith(
        f"ok: 120 records on the first page of {SMALL.coursera_contents}; set aside 0; not read 0"
    )
    assert lines["openclassrooms statistics"].startswith("ok: 100 records on the first page of 300")
    assert all(line.endswith("nothing new") for line in lines.values())
    assert not (tmp_path / "lo-sync.db").exists()
    assert result.stderr == ""


def test_only_the_providers_asked_for_are_checked(tmp_path, sim):
    result = run_cli(write_config(tmp_path, sim.url), "check", "--provider", "openclassrooms")

    assert result.code == 0, result.stderr
    assert list(lines_of(result)) == ["openclassrooms catalog", "openclassrooms statistics"]


def test_a_bad_secret_is_a_credentials_error_that_names_the_keys_and_shows_no_secret(tmp_path, sim):
    config = write_config(tmp_path, sim.url)

    result = run_cli(config, "check", env={"LO_SYNC_DEMO_COURSERA_SECRET": "wrong-Zx81"})

    assert result.code == 2
    lines = lines_of(result)
    for endpoint in ("coursera catalog", "coursera statistics"):
        assert lines[endpoint].startswith("fix config: coursera: the token endpoint refused")
        assert "check providers.coursera.client_id and client_secret" in lines[endpoint]
    assert lines["openclassrooms catalog"].startswith("ok: ")
    assert "wrong-Zx81" not in result.stdout + result.stderr
    assert CLIENT_SECRET not in result.stdout + result.stderr


def test_a_wrong_organization_id_is_a_configuration_error(tmp_path, sim):
    org_id = CREDENTIALS["coursera"]["org_id"]
    config = write_config(tmp_path, sim.url, **{org_id: "AAAAAAAAAAAAAAAAAAAAAA"})

    result = run_cli(config, "check", "--provider", "coursera")

    assert result.code == 2
    for line in lines_of(result).values():
        assert line.startswith("fix config: coursera: ")
        assert "check the org id" in line


def test_a_scope_the_token_endpoint_requires_is_named_then_accepted_once_configured(tmp_path):
    required = SMALL.replace(require_scope=(("openclassrooms", "learning_content"),))
    with Simulator(required) as sim:
        config = write_config(tmp_path, sim.url)
        without = run_cli(config, "check", "--provider", "openclassrooms")

        text = config.read_text(encoding="utf-8")
        marker = "  openclassrooms:\n"
        config.write_text(
            text.replace(marker, marker + "    scope: learning_content\n"), encoding="utf-8"
        )
        with_scope = run_cli(config, "check", "--provider", "openclassrooms")

    assert without.code == 2
    line = lines_of(without)["openclassrooms catalog"]
    assert "refused the scope, and lo-sync sent none" in line
    assert "check providers.openclassrooms.scope" in line
    assert "client_secret" not in line
    assert with_scope.code == 0, with_scope.stdout + with_scope.stderr


def test_a_page_full_of_unknown_fields_is_ready_and_says_what_is_new(tmp_path, sim):
    sim.set_faults((Fault("unknown_fields"),))

    result = run_cli(write_config(tmp_path, sim.url), "check", "--provider", "coursera")

    assert result.code == 0, result.stdout
    lines = lines_of(result)
    assert (
        "never seen: field dataRegion, field featureFlags, contentType Podcast"
        in (lines["coursera catalog"])
    )
    assert "membershipState GUEST" in lines["coursera statistics"]


def test_a_first_page_most_of_which_cannot_be_stored_would_fail_the_night(tmp_path, sim):
    sim.set_faults((Fault("bad_records", every=4),))

    result = run_cli(write_config(tmp_path, sim.url), "check", "--provider", "openclassrooms")

    assert result.code == 1
    line = lines_of(result)["openclassrooms catalog"]
    assert line.startswith("would fail: ")
    assert "records on the first page cannot be stored (more than 5%): " in line
    assert "title: missing" in line


def test_an_unreachable_provider_would_fail_the_night(tmp_path):
    config = write_config(tmp_path, "http://127.0.0.1:9")  # discard: nothing listens

    result = run_cli(config, "check", "--provider", "coursera", "--max-runtime", "30s")

    assert result.code == 1
    assert all(line.startswith("would fail: coursera: ") for line in lines_of(result).values())


def test_at_a_terminal_the_check_is_a_table_and_the_details_behind_it():
    result = checks.EndpointCheck(
        "coursera", "catalog", reachable=True, authenticated=True, records=1000, total=5234
    )
    result.findings.merge(
        {
            ("set aside", "contentId", "missing"): [2, ['{"name": "x"}']],
            ("new field", "dataRegion", "never seen before"): [1000, ["eu-west-1"]],
        }
    )
    refused = checks.EndpointCheck("openclassrooms", "catalog", reachable=True, error="no")
    refused.exit_code = 2

    rows = checks.table_rows([result, refused])

    assert rows[0] == {
        "provider": "coursera",
        "endpoint": "catalog",
        "connection": "ok",
        "first page": "1,000/5,234",
        "set aside": "2",
        "not read": "0",
        "new": "1",
        "verdict": "ok",
    }
    assert (rows[1]["connection"], rows[1]["first page"], rows[1]["verdict"]) == (
        "refused",
        "",
        "fix config",
    )
    assert checks.details(result) == [
        'coursera catalog: would be set aside: contentId: missing (2), e.g. {"name": "x"}',
        "coursera catalog: never seen before: field dataRegion (1,000), e.g. eu-west-1",
    ]
    assert checks.exit_code([result, refused]) == 2
