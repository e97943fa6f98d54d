"""The one HTTP chokepoint: session, OAuth2 client credentials, retries, paging.

- `client`: `ApiClient`, what provider modules send every request through;
- `transport`: the session, its timeout and User-Agent, network trouble as errors,
  the cap on an answer's size;
- `deadline`: one request's time bound and the whole command's;
- `auth`: OAuth2 client credentials over a transport;
- `retry`: the retry policy and how long to wait;
- `paging`: paging styles as state machines, and `paginate` to drive one;
- `messages`: failure text an operator can act on, secrets redacted.
"""

from lo_sync.http.auth import ClientCredentials
from lo_sync.http.client import ApiClient, NestedTooDeeply, decode_json
from lo_sync.http.deadline import Deadline, DeadlineExceeded
from lo_sync.http.paging import (
    MAX_PAGES,
    OffsetPaginator,
    PageRequest,
    Paginator,
    RangePaginator,
    paginate,
)
from lo_sync.http.retry import RetryPolicy, TransientError
from lo_sync.http.transport import USER_AGENT, Transport

__all__ = [
    "MAX_PAGES",
    "USER_AGENT",
    "ApiClient",
    "ClientCredentials",
    "Deadline",
    "DeadlineExceeded",
    "NestedTooDeeply",
    "OffsetPaginator",
    "PageRequest",
    "Paginator",
    "RangePaginator",
    "RetryPolicy",
    "TransientError",
    "Transport",
    "decode_json",
    "paginate",
]
