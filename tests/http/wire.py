"""The mocked wire the HTTP tests share: its addresses, credentials, and what was sent."""

from __future__ import annotations

TOKEN_URL = "https://auth.test/oauth2/client_credentials/token"
CONTENTS = "https://api.test/ent/api/businesses.v1/ORG42/contents"
COURSES = "https://api.test/organizations/4242/courses"
CLIENT_ID = "http-tests-client"
CLIENT_SECRET = "http-tests-secret-Zr8vK2"  # used only here, so redaction is tested honestly
TOKEN = "tok-http-tests-A1b2C3"


def add_token(api, token: str = TOKEN, expires_in: int = 1799) -> None:
    api.post(
        TOKEN_URL,
        json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
    )


def sent(api) -> list[tuple[str, str]]:
    """What went over the wire, in order: (method, url)."""
    return [(call.request.method, call.request.url) for call in api.calls]


def token_requests(api) -> int:
    return sum(1 for call in api.calls if call.request.url == TOKEN_URL)


def data_requests(api) -> int:
    return sum(1 for call in api.calls if call.request.url != TOKEN_URL)
