"""What a client needs to reach the simulator: where each provider is served and
the credentials it accepts.

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


def provider_urls(root_url: str) -> dict[str, dict[str, str]]:
    """Each provider's base_url and token_url on a simulator at `root_url`."""
    return {
        name: {"base_url": root_url + at.base_path, "token_url": root_url + at.token_path}
        for name, at in SERVED_AT.items()
    }
