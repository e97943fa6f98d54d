"""What a client needs to reach the simulator: where each provider is served, the
credentials it accepts, and the lo-sync config text pointing at a running simulator.

One port serves both providers, each mounted under its own name:

    /coursera/oauth2/client_credentials/token                     POST, form
    /coursera/ent/api/businesses.v1/{org_id}/contents             GET, start/limit
    /coursera/ent/api/businesses.v1/{org_id}/programs             GET, start/limit
    /coursera/ent/api/businesses.v1/{org_id}/enrollmentReports    GET, start/limit
    /openclassrooms/oauth2/token                                  POST, Basic
    /openclassrooms/organizations/{id}/courses                    GET, Range: items=
    /openclassrooms/organizations/{id}/learners/progress          GET, Range: items=

The provider modules route on `SERVED_AT`, so this table is the one place the
layout is written down.
"""

from __future__ import annotations

from typing import NamedTuple

PROVIDERS = ("coursera", "openclassrooms")

CREDENTIALS: dict[str, dict[str, str]] = {
    "coursera": {
        "org_id": "c37xwraOSFytEjHm5uQEEA",
        "client_id": "sim-coursera-client",
        "client_secret": "sim-coursera-secret",
    },
    "openclassrooms": {
        "organization_id": "4242",
        "client_id": "sim-openclassrooms-client",
        "client_secret": "sim-openclassrooms-secret",
    },
}


class ServedAt(NamedTuple):
    """Where one provider sits on the simulator's port (paths from the root URL)."""

    base_path: str  # the API base: what a config's base_url names
    token_path: str


SERVED_AT: dict[str, ServedAt] = {
    "coursera": ServedAt("/coursera/ent/api", "/coursera/oauth2/client_credentials/token"),
    "openclassrooms": ServedAt("/openclassrooms", "/openclassrooms/oauth2/token"),
}

# The environment variables a generated config reads the client secrets from.
SECRET_VARS = {
    "coursera": "LO_SYNC_DEMO_COURSERA_SECRET",
    "openclassrooms": "LO_SYNC_DEMO_OPENCLASSROOMS_SECRET",
}


def provider_urls(root_url: str) -> dict[str, dict[str, str]]:
    """Each provider's base_url and token_url on a simulator at `root_url`."""
    return {
        name: {"base_url": root_url + at.base_path, "token_url": root_url + at.token_path}
        for name, at in SERVED_AT.items()
    }


def config_yaml(url: str, credentials: dict, *, literal_secrets: bool, database: str) -> str:
    """A config pointing at a simulator; secrets as ${VAR} references unless asked otherwise."""

    def secret(name: str) -> str:
        if literal_secrets:
            return credentials[name]["client_secret"]
        return "${" + SECRET_VARS[name] + "}"

    urls = provider_urls(url)
    c, o = credentials["coursera"], credentials["openclassrooms"]
    return f"""\
database: {database}
providers:
  coursera:
    org_id: {c["org_id"]}
    client_id: {c["client_id"]}
    client_secret: {secret("coursera")}
    group: Sales Academy
    base_url: {urls["coursera"]["base_url"]}
    token_url: {urls["coursera"]["token_url"]}
  openclassrooms:
    organization_id: "{o["organization_id"]}"
    client_id: {o["client_id"]}
    client_secret: {secret("openclassrooms")}
    group: Sales Academy
    base_url: {urls["openclassrooms"]["base_url"]}
    token_url: {urls["openclassrooms"]["token_url"]}
"""
