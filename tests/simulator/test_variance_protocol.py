"""The strict default's answers are today's to the byte; token refusals the OAuth2 way,
a required scope, the gateway's own fault body, never-seen fields, and `--variance`."""

from __future__ import annotations

import hashlib

import pytest
import requests
from click.testing import CliRunner

import lo_sync.simulator as simulator_package
from lo_sync.cli import MAX_SIMULATED_CONTENTS, MAX_SIMULATED_ENROLLMENTS, cli
from lo_sync.simulator import CREDENTIALS, Fault, Simulator, SimulatorConfig
from lo_sync.simulator.faults import UNSEEN_FIELDS

COURSERA = CREDENTIALS["coursera"]
OC = CREDENTIALS["openclassrooms"]
GOOD = {p: (CREDENTIALS[p]["client_id"], CREDENTIALS[p]["client_secret"]) for p in CREDENTIALS}


def token_url(sim, provider):
    return sim.provider_urls()[provider]["token_url"]


def token(http, sim, provider):
    answer = http.post(
        token_url(sim, provider), data={"grant_type": "client_credentials"}, auth=GOOD[provider]
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def coursera_page(http, sim, resource, bearer, **params):
    base = f"{sim.provider_urls()['coursera']['base_url']}/businesses.v1/{COURSERA['org_id']}"
    return http.get(
        f"{base}/{resource}", params=params, headers={"Authorization": f"Bearer {bearer}"}
    )


def oc_page(http, sim, resource, bearer, range_):
    base = f"{sim.provider_urls()['openclassrooms']['base_url']}"
    return http.get(
        f"{base}/organizations/{OC['organization_id']}/{resource}",
        headers={"Authorization": f"Bearer {bearer}", "Range": range_},
    )


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


# -- the strict default is today's, to the byte --------------------------------------------

# SHA-256 (first 16 hex digits) of answers of SimulatorConfig() as the simulator
# sent them before variance existed; day 2 differs only where its data does.
DIGESTS = {
    1: {
        "c-token-bad": "ba6e0075c562f9e5",
        "c-token-grant": "1d16489b15249cc1",
        "o-token-bad": "ad1af0cc38ac9add",
        "contents 0+100": "6ea11972aca85e41",
        "contents 200+100": "c1b363980b46e5cf",
        "contents 250+100": "595a04225202b891",
        "programs": "8314b33c31a37ab8",
        "reports 0+1000 s12n": "c6f6b92480e57034",
        "reports 1000+1000": "43c648ad859217ff",
        "reports 1800+500 s12n": "6f2962307a029b08",
        "courses 0-99": "7466bf99ef261c3c",
        "courses 100-": "67c5cc0d3b0ac8f4",
        "progress 0-99": "ff77ca7999c75fb1",
        "progress 700-799": "3d1b98d09a7b61ad",
    },
    2: {
        "c-token-bad": "ba6e0075c562f9e5",
        "c-token-grant": "1d16489b15249cc1",
        "o-token-bad": "ad1af0cc38ac9add",
        "contents 0+100": "69bdba3279ff328a",
        "contents 200+100": "4e1759622c44348a",
        "contents 250+100": "12b5b86fa2bd6a37",
        "programs": "8314b33c31a37ab8",
        "reports 0+1000 s12n": "9ef34beab6852dc1",
        "reports 1000+1000": "fc3d96e4277fc4e3",
        "reports 1800+500 s12n": "0d7fb851642de5ad",
        "courses 0-99": "8aacf45639e76d93",
        "courses 100-": "6ce6698ec7d973ad",
        "progress 0-99": "354aa1b7caaa2c1a",
        "progress 700-799": "b9d049f55cb358ba",
    },
}


def digests(sim, http):
    def digest(answer):
        return hashlib.sha256(answer.content).hexdigest()[:16]

    form = {"grant_type": "client_credentials"}
    found = {
        "c-token-bad": digest(http.post(token_url(sim, "coursera"), data=form, auth=("x", "y"))),
        "c-token-grant": digest(
            http.post(
                token_url(sim, "coursera"), data={"grant_type": "password"}, auth=GOOD["coursera"]
            )
        ),
        "o-token-bad": digest(
            http.post(token_url(sim, "openclassrooms"), json=form, auth=("x", "y"))
        ),
    }
    bearer = token(http, sim, "coursera")
    for name, resource, params in [
        ("contents 0+100", "contents", {"start": 0, "limit": 100}),
        ("contents 200+100", "contents", {"start": 200, "limit": 100}),
        ("contents 250+100", "contents", {"start": 250, "limit": 100}),
        ("programs", "programs", {}),
        ("reports 0+1000 s12n", "enrollmentReports", {"limit": 1000, "includeS12n": "true"}),
        ("reports 1000+1000", "enrollmentReports", {"start": 1000, "limit": 1000}),
        (
            "reports 1800+500 s12n",
            "enrollmentReports",
            {"start": 1800, "limit": 500, "includeS12n": "true"},
        ),
    ]:
        found[name] = digest(coursera_page(http, sim, resource, bearer, **params))
    bearer = token(http, sim, "openclassrooms")
    for name, resource, range_ in [
        ("courses 0-99", "courses", "items=0-99"),
        ("courses 100-", "courses", "items=100-"),
        ("progress 0-99", "learners/progress", "items=0-99"),
        ("progress 700-799", "learners/progress", "items=700-799"),
    ]:
        found[name] = digest(oc_page(http, sim, resource, bearer, range_))
    return found


@pytest.mark.parametrize("config", [SimulatorConfig(), SimulatorConfig(variance=False)])
def test_without_variance_every_answer_is_todays_byte_for_byte(http, config):
    with Simulator(config) as sim:
        for day in (1, 2):
            sim.set_day(day)
            assert digests(sim, http) == DIGESTS[day]


def test_variance_changes_those_answers(http):
    with Simulator(SimulatorConfig(variance=True)) as sim:
        found = digests(sim, http)
    assert all(found[name] != DIGESTS[1][name] for name in found if name != "programs")


def test_the_page_cache_and_faults_keep_working_with_variance(http):
    config = SimulatorConfig(variance=True, coursera_contents=60, coursera_enrollments=300)
    pages = []
    for cached in (0, 8 << 20):
        with Simulator(config.replace(page_cache=cached)) as sim:
            bearer = token(http, sim, "coursera")
            for _ in range(2):
                answer = coursera_page(http, sim, "enrollmentReports", bearer, limit=90)
                pages.append(answer.content)
            if cached:
                assert sim.page_cache_stats()["hits"] == 1
            sim.set_faults([Fault("bad_records", every=4), Fault("stuck_next", page=0)])
            page = coursera_page(http, sim, "contents", bearer, limit=20).json()
            assert int(page["paging"]["next"]) == 0
            assert "contentId" not in page["elements"][3]
            sim.set_faults([Fault("shrunk")])
            page = coursera_page(http, sim, "contents", bearer, limit=1000).json()
            assert len(page["elements"]) == (60 + 5) // 2 and page["paging"] == {}
    assert len(set(pages)) == 1


# -- token endpoints -----------------------------------------------------------------------


def assert_oauth_error(answer, status, code):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "error_description"} and body["error"] == code, body
    assert body["error_description"]


def test_with_variance_token_refusals_are_oauth2_errors(http):
    with Simulator(SimulatorConfig(variance=True)) as sim:
        coursera, oc = token_url(sim, "coursera"), token_url(sim, "openclassrooms")
        form = {"grant_type": "client_credentials"}
        bad_client = http.post(coursera, data=form, auth=("x", "y"))
        assert_oauth_error(bad_client, 401, "invalid_client")
        assert bad_client.headers["WWW-Authenticate"] == "Basic"
        assert_oauth_error(http.post(coursera, data=form), 401, "invalid_client")
        assert_oauth_error(http.post(oc, json=form, auth=("x", "y")), 401, "invalid_client")
        grant = {"grant_type": "password"}
        assert_oauth_error(
            http.post(coursera, data=grant, auth=GOOD["coursera"]), 400, "unsupported_grant_type"
        )
        assert_oauth_error(
            http.post(oc, json={}, auth=GOOD["openclassrooms"]), 400, "invalid_request"
        )
        assert_oauth_error(
            http.post(coursera, json=form, auth=GOOD["coursera"]), 400, "invalid_request"
        )
        # lo-sync's client (Basic auth, a form body) still gets its token.
        assert token(http, sim, "coursera") and token(http, sim, "openclassrooms")


def test_a_required_scope_must_be_asked_for(http):
    config = SimulatorConfig(require_scope={"openclassrooms": "learning_content"})
    assert config.require_scope == (("openclassrooms", "learning_content"),)
    assert config.required_scope("coursera") is None
    with Simulator(config) as sim:
        url, auth = token_url(sim, "openclassrooms"), GOOD["openclassrooms"]
        refused = http.post(url, data={"grant_type": "client_credentials"}, auth=auth)
        assert_oauth_error(refused, 400, "invalid_scope")
        assert "learning_content" in refused.json()["error_description"]
        wrong = {"grant_type": "client_credentials", "scope": "learning"}
        assert_oauth_error(http.post(url, data=wrong, auth=auth), 400, "invalid_scope")
        for body in (
            {"data": {"grant_type": "client_credentials", "scope": "profile learning_content"}},
            {"json": {"grant_type": "client_credentials", "scope": "learning_content"}},
        ):
            assert http.post(url, auth=auth, **body).status_code == 200
        # The client is still checked first, in the provider's own (strict) shape.
        stranger = http.post(url, data=wrong, auth=("x", "y"))
        assert stranger.status_code == 401 and "errorCode" not in stranger.json()
        assert "code" in stranger.json()
        assert token(http, sim, "coursera")  # Coursera asks for no scope here
    with Simulator(SimulatorConfig(require_scope=[("coursera", "reports")])) as sim:
        url, auth = token_url(sim, "coursera"), GOOD["coursera"]
        asked = {"grant_type": "client_credentials", "scope": "reports"}
        assert http.post(url, data=asked, auth=auth).status_code == 200
        assert_oauth_error(
            http.post(url, data={"grant_type": "client_credentials"}, auth=auth),
            400,
            "invalid_scope",
        )


@pytest.mark.parametrize(
    "scopes, message",
    [
        ({"moodle": "x"}, "unknown provider"),
        ({"coursera": ""}, "one word"),
        ({"coursera": "a b"}, "one word"),
        ((("coursera", "a"), ("coursera", "b")), "one scope per provider"),
    ],
)
def test_require_scope_is_checked(scopes, message):
    with pytest.raises(ValueError, match=message):
        SimulatorConfig(require_scope=scopes)


# -- gateway_fault and unknown_fields -------------------------------------------------------


def test_gateway_fault_answers_in_the_gateways_shape(http):
    with Simulator(SimulatorConfig(coursera_contents=30)) as sim:
        sim.set_faults([Fault.parse("gateway_fault:every=2,status=401")])
        bearer = token(http, sim, "coursera")
        answers = [coursera_page(http, sim, "contents", bearer) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 401, 200, 401]
        fault = answers[1].json()["fault"]
        assert fault["faultstring"] and fault["detail"]["errorcode"].startswith("keymanagement.")
        assert set(answers[1].json()) == {"fault"}
        sim.set_faults([Fault("gateway_fault")])  # every request, 503
        answer = oc_page(http, sim, "courses", token(http, sim, "openclassrooms"), "items=0-9")
        assert answer.status_code == 503
        assert answer.json()["fault"]["detail"]["errorcode"].endswith("ServiceUnavailable")
    with pytest.raises(ValueError):
        Fault.parse("gateway_fault:page=2")


@pytest.mark.parametrize("variance", [False, True])
def test_unknown_fields_adds_never_seen_keys_and_enum_values(http, variance):
    config = SimulatorConfig(
        coursera_contents=40,
        coursera_enrollments=60,
        openclassrooms_courses=20,
        openclassrooms_progress=40,
        variance=variance,
    )
    with Simulator(config) as sim:
        sim.set_faults([Fault("unknown_fields")])
        bearer = token(http, sim, "coursera")

        def coursera(resource, **params):
            return coursera_page(http, sim, resource, bearer, limit=1000, **params).json()[
                "elements"
            ]

        collections = {
            "contents": (coursera("contents"), "contentType", "Podcast"),
            "reports": (
                coursera("enrollmentReports", includeS12n="true"),
                "membershipState",
                "GUEST",
            ),
            "programs": (coursera("programs"), None, None),
        }
        bearer = token(http, sim, "openclassrooms")
        for name, resource, value in (
            ("courses", "courses", "beta"),
            ("progress", "learners/progress", "paused"),
        ):
            items = oc_page(http, sim, resource, bearer, "items=0-99").json()
            collections[name] = (items, "status", value)
    for name, (records, field, value) in collections.items():
        assert records and all(UNSEEN_FIELDS.items() <= r.items() for r in records), name
        if field:
            odd = [r for r in records if r[field] == value]
            assert len(odd) == len(records) // 5, name  # every fifth record


# -- lo-sync simulate ------------------------------------------------------------------------


def test_simulate_passes_variance_and_required_scopes_on(monkeypatch):
    served = []
    monkeypatch.setattr(simulator_package, "serve_forever", lambda cfg, *a, **k: served.append(cfg))
    runner = CliRunner()
    argv = [
        "simulate",
        "--size",
        "50",
        "--variance",
        "--require-scope",
        "openclassrooms=learning_content",
    ]
    assert runner.invoke(cli, argv).exit_code == 0
    assert served[-1].variance and served[-1].required_scope("openclassrooms") == "learning_content"
    assert served[-1].coursera_contents == 50
    assert runner.invoke(cli, ["simulate", "--size", "50"]).exit_code == 0
    assert not served[-1].variance and served[-1].require_scope == ()
    for bad in ("openclassrooms", "moodle=x"):
        result = runner.invoke(cli, ["simulate", "--require-scope", bad])
        assert result.exit_code == 2 and "--require-scope" in result.output


def test_simulate_refuses_sizes_past_its_bounds_before_building_anything(monkeypatch):
    served = []
    monkeypatch.setattr(simulator_package, "serve_forever", lambda cfg, *a, **k: served.append(cfg))
    runner = CliRunner()
    for argv in (
        ["simulate", "--size", "0"],
        ["simulate", "--size", str(MAX_SIMULATED_CONTENTS + 1)],
        ["simulate", "--enrollments", str(MAX_SIMULATED_ENROLLMENTS + 1)],
        ["simulate", "--enrollments", "-1"],
    ):
        result = runner.invoke(cli, argv)
        assert result.exit_code == 2, argv
        assert f"'{argv[1]}'" in result.output and argv[2] in result.output, argv
    assert served == []
    assert runner.invoke(cli, ["simulate", "--enrollments", "0"]).exit_code == 0
    assert served[-1].coursera_enrollments == 0
