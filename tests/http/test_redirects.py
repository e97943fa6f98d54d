"""No redirect is followed, by API calls or by the token request: a redirect could hand us
to plain http or to a host the config never named, which the config check would refuse.
A 3xx is one error naming where it pointed, without the query string that may hold a secret.
"""

from __future__ import annotations

import pytest

from lo_sync.errors import ProviderError
from lo_sync.http import ClientCredentials, Transport
from tests.http.wire import (
    CLIENT_ID,
    CLIENT_SECRET,
    CONTENTS,
    TOKEN_URL,
    add_token,
    sent,
)

EVIL = "http://evil.test/ent/api/contents"
SIGNED = f"{EVIL}?sig=signed-secret-Qw12&token=t0k"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_an_api_redirect_to_plain_http_elsewhere_is_refused_not_followed(
    api, client, sleeps, status
):
    add_token(api)
    api.get(CONTENTS, status=status, headers={"Location": SIGNED})
    api.get(EVIL, json={"elements": [{"contentId": "planted"}]})

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: GET {CONTENTS} answered HTTP {status}, a redirect to {EVIL}; lo-sync "
        "follows no redirect (if that address is the provider's, set it in "
        "providers.coursera.base_url or token_url)"
    )
    assert "signed-secret" not in str(caught.value)
    assert sent(api) == [("POST", TOKEN_URL), ("GET", CONTENTS)]  # evil.test never asked
    assert sleeps == []  # a redirect is not transient: it would point the same way again


def test_a_token_endpoint_redirect_is_refused_and_the_credentials_go_nowhere_else(api, client):
    api.post(TOKEN_URL, status=307, headers={"Location": "http://evil.test/token?k=v"})
    api.post("http://evil.test/token", json={"access_token": "planted", "expires_in": 300})
    api.get(CONTENTS, json={"elements": []})

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: token request {TOKEN_URL} answered HTTP 307, a redirect to "
        "http://evil.test/token; lo-sync follows no redirect (if that address is the "
        "provider's, set it in providers.coursera.base_url or token_url)"
    )
    assert sent(api) == [("POST", TOKEN_URL)]


def test_the_token_auth_alone_refuses_a_redirect_too(api):
    api.post(TOKEN_URL, status=302, headers={"Location": "/elsewhere/token#frag"})
    transport = Transport("openclassrooms")
    try:
        with pytest.raises(
            ProviderError, match=r"a redirect to https://auth\.test/elsewhere/token;"
        ):
            ClientCredentials(transport, TOKEN_URL, CLIENT_ID, CLIENT_SECRET).token()
    finally:
        transport.close()
    assert sent(api) == [("POST", TOKEN_URL)]


@pytest.mark.parametrize(
    ("headers", "target"),
    [
        # Relative to the request; user:password is left out as the query string is.
        ({"Location": "../v2/contents?x=1"}, "https://api.test/ent/api/businesses.v1/v2/contents"),
        ({"Location": "https://user:pw@mirror.test:8443/p?q"}, "https://mirror.test:8443/p"),
        ({}, "nowhere (no Location header)"),
    ],
)
def test_the_redirect_target_is_shown_without_query_or_credentials(api, client, headers, target):
    add_token(api)
    api.get(CONTENTS, status=302, headers=headers)

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert f"a redirect to {target};" in str(caught.value)
    assert "pw" not in str(caught.value)
