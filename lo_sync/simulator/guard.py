"""The one request path both simulated providers answer through.

It is as strict as the contract (`docs/provider-contracts.md`): a request the real
API would refuse is refused here too (bad paging parameters, a malformed Range,
a token from the other provider, another organization), so a lenient simulator
cannot hide a client bug. Checks run in the order a gateway-fronted API applies
them:

    unknown path (404), method (405), rate limit and outages (faults), token (401),
    organization (403/404), parameters (400/416), then the page itself, where the
    page faults strike (slow, broken_page, reset; truncated_json, gzip_bomb,
    deep_nesting and trickle on the way out).

A provider supplies only what differs (`ProviderAPI`): its URL layout, its error
shape, how its token endpoint reads a client, and how it plans and renders a page.
"""

from __future__ import annotations

import dataclasses
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from lo_sync.simulator.client_config import CREDENTIALS
from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.faults import (
    GZIP_BOMB_MIB,
    NESTING_DEPTH,
    FaultInjector,
    Interruption,
    corrupt_record,
    corruption_at,
    deeply_nested,
    gzip_bomb,
    with_unseen_fields,
)
from lo_sync.simulator.load import Load, latency_seconds
from lo_sync.simulator.messages import (
    GATEWAY_REASONS,
    Request,
    Response,
    gateway_error,
    gateway_fault,
    oauth_error,
    token_answer,
)
from lo_sync.simulator.page_cache import PageCache
from lo_sync.simulator.tokens import TokenStore

TOKEN = "token"  # the Route.resource of a provider's token endpoint


class Route(NamedTuple):
    resource: str  # TOKEN, or the resource the provider names ("contents", "courses", ...)
    organization: str = ""


class RequestContext(NamedTuple):
    """The running simulator's state, as one request sees it."""

    config: SimulatorConfig
    faults: FaultInjector
    tokens: TokenStore
    page_cache: PageCache
    load: Load


class Refusal(Exception):
    """An error answer, in the provider's own shape, from one of the provider's steps.

    `oauth` is the RFC 6749 error code a token endpoint's refusal carries when the
    simulator answers token errors the OAuth2 way (under variance; invalid_scope always).
    """

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        oauth: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.headers, self.oauth = status, message, headers, oauth


class TokenRequest(NamedTuple):
    """What a token request asks for, as the provider read it from the body."""

    grant_type: Any  # None when absent or repeated
    scope: str = ""  # space-separated scopes; "" when none were asked


class Collection(NamedTuple):
    total: int
    fetch: Callable[[int, int], list[dict[str, Any]]]  # records at positions [start, stop)
    corruptions: tuple[str, ...] = ()  # set for catalogs: what bad_records may do to them
    id_field: str = ""
    title_field: str = ""
    unseen: tuple[str, str] | None = None  # (field, never-seen value) for unknown_fields


class Page(NamedTuple):
    """A page the parameters asked for, planned but not yet rendered."""

    start: int  # its first item: what page faults name
    key: Hashable  # what its answer depends on besides the config (the page cache's key)
    render: Callable[[], Response]


class ProviderAPI(ABC):
    """One simulated provider: what the guard needs from it.

    It is mounted under `/{name}/`; its organization is `organization_id`, and an
    id of `organization_shape` that is not ours is another organization (403)
    rather than an unknown one (404).
    """

    name: str
    token_lifetime: int  # seconds
    organization_id: str
    organization_shape: re.Pattern[str]
    foreign_organization: str  # the 403 message, "{}" standing for the id
    token_path: str
    organizations_prefix: str  # where `{organization}/{resource}` paths start
    resources: frozenset[str] | tuple[str, ...]

    @abstractmethod
    def error(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response: ...

    def route(self, path: str) -> Route | None:
        """What `path` names (the token endpoint or a resource), or None: 404."""
        if path == self.token_path:
            return Route(TOKEN)
        if not path.startswith(self.organizations_prefix):
            return None
        organization, _, resource = path[len(self.organizations_prefix) :].partition("/")
        return Route(resource, organization) if resource in self.resources else None

    @abstractmethod
    def token_grant(self, request: Request) -> TokenRequest:
        """The grant_type and scope a token request asks for, once its client is known.

        Raises Refusal for an unknown client (`refuse_unknown_client`) or an
        unreadable body, in whichever order this provider checks them.
        """

    @abstractmethod
    def plan_page(self, request: Request, route: Route, ctx: RequestContext) -> Page | Response:
        """The page the parameters ask for, or an answer that needs no page.

        Raises ValueError for a bad parameter: a 400 with its message.
        """

    def refuse_unknown_client(self, credentials: tuple[str, str] | None) -> None:
        expected = CREDENTIALS[self.name]
        if credentials != (expected["client_id"], expected["client_secret"]):
            raise Refusal(
                401,
                "invalid client credentials",
                {"WWW-Authenticate": "Basic"},
                oauth="invalid_client",
            )


def serve(api: ProviderAPI, request: Request, ctx: RequestContext) -> Response:
    """Answer one request to `api`, every check in the order the module docstring gives."""
    route = api.route(request.path)
    if route is None:
        return api.error(404, f"no such resource: {request.path}")
    method = "POST" if route.resource == TOKEN else "GET"
    if request.method != method:
        return api.error(405, f"use {method}", {"Allow": method})
    if route.resource == TOKEN:
        return _token_endpoint(api, request, ctx)

    faults = ctx.faults
    throttle = faults.throttle()
    if throttle is not None and ctx.load.over(throttle.in_flight, throttle.per_second):
        retry_after = 1 if throttle.retry_after is None else throttle.retry_after
        return _interrupted(Interruption(429, None if retry_after == -1 else retry_after), api)
    interruption = faults.count_resource_request()
    if interruption:
        return _interrupted(interruption, api)
    refusal = ctx.tokens.use(api.name, request.headers.get("Authorization"), faults.token_uses())
    if refusal:
        return api.error(401, refusal, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if route.organization != api.organization_id:
        if api.organization_shape.fullmatch(route.organization):
            return api.error(403, api.foreign_organization.format(route.organization))
        return api.error(404, f"unknown organization {route.organization}")
    try:
        page = api.plan_page(request, route, ctx)
    except ValueError as error:
        return api.error(400, str(error))
    if isinstance(page, Response):
        return page

    delay = faults.delay_seconds() + latency_seconds(
        ctx.config.latency_ms, ctx.config.latency_jitter_ms
    )
    if delay:
        time.sleep(delay)
    if faults.page_fault("broken_page", page.start):
        return api.error(500, "internal error")
    if faults.should_reset(page.start):
        return Response(0, abort=True)
    response = ctx.page_cache.answer((api.name, page.key, ctx.config), page.render)
    if faults.page_fault("truncated_json", page.start):
        response.body = response.body[: len(response.body) // 2]
    return _hostile(response, page.start, faults)


def _hostile(response: Response, start: int, faults: FaultInjector) -> Response:
    """The answer as the faults that attack the client itself (not its logic) bend it."""
    nesting = faults.page_fault_of("deep_nesting", start)
    if nesting:
        response.body = deeply_nested(nesting.count or NESTING_DEPTH)
    bomb = faults.page_fault_of("gzip_bomb", start)
    if bomb:
        response.body = gzip_bomb(response.body, bomb.count or GZIP_BOMB_MIB)
        response.headers["Content-Encoding"] = "gzip"
    trickle = faults.page_fault_of("trickle", start)
    if trickle:
        response = dataclasses.replace(response, trickle=trickle.seconds)
    return response


def records_with_faults(
    collection: Collection, start: int, stop: int, faults: FaultInjector
) -> list[dict[str, Any]]:
    """Records [start, stop) of `collection`, as bad_records, duplicate_record and
    unknown_fields bend them."""
    records = collection.fetch(start, stop)
    every = faults.bad_record_every()
    if every and collection.corruptions:
        for offset, record in enumerate(records):
            corruption = corruption_at(start + offset, every, collection.corruptions)
            if corruption:
                records[offset] = corrupt_record(
                    record, corruption, collection.id_field, collection.title_field
                )
    first = start
    if start > 0 and records and faults.page_fault("duplicate_record", start):
        # The previous page's last record again, in front: one record too many.
        records.insert(0, collection.fetch(start - 1, start)[0])
        first = start - 1
    unseen_every = faults.unknown_fields_every()
    if unseen_every:
        records = [
            with_unseen_fields(record, first + offset, unseen_every, collection.unseen)
            for offset, record in enumerate(records)
        ]
    return records


def _token_endpoint(api: ProviderAPI, request: Request, ctx: RequestContext) -> Response:
    down = ctx.faults.token_endpoint_status()
    if down:
        return api.error(down, "token service unavailable")
    try:
        asked = api.token_grant(request)
        if asked.grant_type != "client_credentials":
            code = "invalid_request" if asked.grant_type is None else "unsupported_grant_type"
            raise Refusal(400, "grant_type must be client_credentials", oauth=code)
        scope = ctx.config.required_scope(api.name)
        if scope is not None and scope not in asked.scope.split():
            raise Refusal(400, f"the scope must include {scope}", oauth="invalid_scope")
    except Refusal as refusal:
        # Real token endpoints refuse the OAuth2 way; the strict default keeps the
        # provider's own error body, except for the scope check it never had.
        if refusal.oauth and (ctx.config.variance or refusal.oauth == "invalid_scope"):
            return oauth_error(refusal.status, refusal.oauth, refusal.message, refusal.headers)
        return api.error(refusal.status, refusal.message, refusal.headers)
    client_id = CREDENTIALS[api.name]["client_id"]
    token = ctx.tokens.issue(api.name, client_id, api.token_lifetime)
    return token_answer(token, api.token_lifetime)


def _interrupted(interruption: Interruption, api: ProviderAPI) -> Response:
    if interruption.gateway:
        return gateway_fault(interruption.status)
    if interruption.status == 429:
        headers = {}
        if interruption.retry_after is not None:
            headers["Retry-After"] = str(interruption.retry_after)
        return api.error(429, "rate limit exceeded, slow down", headers)
    if interruption.status in GATEWAY_REASONS:
        return gateway_error(interruption.status)
    return api.error(interruption.status, "the service is having trouble, try again")
