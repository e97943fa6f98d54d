"""`lo-sync check`: would tonight's job work against these providers?

Run the day credentials arrive, and after any provider incident. For each provider
and each endpoint the nightly job reads, it gets a token, reads the first page,
maps it with the real mapping, and says what it found: reachable, authenticated,
records on the page and in all, records that would be set aside and why, values
that would not be read, and fields or values the mapping has never seen. It writes
nothing: no database is opened.

Exit codes: 0 the first night would work; 1 it would not (an outage, a broken
answer, too many records that cannot be stored); 2 the configuration or the
credentials are wrong (a refused token, an organization the credentials do not
reach, a URL that is not the API).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lo_sync.config import Config, ProviderConfig
from lo_sync.errors import EXIT_OK, EXIT_SYNC_FAILED, EXIT_USAGE, ConfigError, LoSyncError
from lo_sync.fetch import Page, PageMapper
from lo_sync.fetch.findings import SET_ASIDE, Findings, top_reasons
from lo_sync.http import Deadline, RetryPolicy
from lo_sync.jobs import make_client
from lo_sync.providers import NEW_FIELD, NOT_READ, PROVIDERS
from lo_sync.sync import REJECT_THRESHOLD
from lo_sync.wording import drift_label

# What the nightly job reads, as the operator names it.
ENDPOINTS = (("courses", "catalog"), ("stats", "statistics"))
# A check answers in seconds: one retry, short waits. The night's job keeps its own.
CHECK_RETRY = RetryPolicy(max_attempts=2, max_wait=10)
# HTTP statuses of a page request that mean the configuration is wrong, not the provider.
CONFIGURATION_STATUSES = frozenset({401, 403, 404})


@dataclass
class EndpointCheck:
    provider: str
    endpoint: str  # "catalog" or "statistics"
    reachable: bool = False
    authenticated: bool = False
    records: int | None = None  # on the first page
    total: int | None = None  # as the provider announced it, when it did
    findings: Findings = field(default_factory=Findings)
    error: str | None = None
    exit_code: int = EXIT_OK

    @property
    def verdict(self) -> str:
        return {EXIT_OK: "ok", EXIT_USAGE: "fix config"}.get(self.exit_code, "would fail")


def check(
    config: Config, providers: list[ProviderConfig], deadline: Deadline
) -> list[EndpointCheck]:
    return [result for pcfg in providers for result in check_provider(pcfg, config, deadline)]


def check_provider(
    pcfg: ProviderConfig, config: Config, deadline: Deadline | None = None
) -> list[EndpointCheck]:
    client = make_client(pcfg, config, retry=CHECK_RETRY, deadline=deadline)
    results: list[EndpointCheck] = []
    try:
        for kind, name in ENDPOINTS:
            if results and results[0].exit_code == EXIT_USAGE and not results[0].authenticated:
                # The token was refused: the next endpoint would hear the same.
                first = results[0]
                results.append(EndpointCheck(pcfg.name, name, first.reachable, error=first.error))
                results[-1].exit_code = first.exit_code
                continue
            results.append(_check_endpoint(client, pcfg, kind, name, config.http.page_size))
    finally:
        client.close()
    return results


def _check_endpoint(client, pcfg: ProviderConfig, kind: str, name: str, page_size) -> EndpointCheck:
    result = EndpointCheck(pcfg.name, name)
    listing = PROVIDERS[pcfg.name].listing(kind, pcfg, page_size)
    pages = listing.pages(client)
    try:
        records = next(pages, [])
    except ConfigError as exc:  # the token endpoint refused
        result.reachable, result.error, result.exit_code = True, str(exc), EXIT_USAGE
        return result
    except LoSyncError as exc:
        status = getattr(exc, "status", None)
        result.reachable = status is not None
        result.authenticated = status is not None and status != 401
        result.error = str(exc)
        result.exit_code = EXIT_USAGE if status in CONFIGURATION_STATUSES else exc.exit_code
        return result
    finally:
        pages.close()
    result.reachable = result.authenticated = True
    page = PageMapper(pcfg, kind).map(Page(0, len(records), records))
    result.findings.merge(page.findings)
    result.records, result.total = len(records), listing.paginator.total
    set_aside = result.findings.total(SET_ASIDE)
    if records and set_aside / len(records) > REJECT_THRESHOLD:
        result.exit_code = EXIT_SYNC_FAILED
        result.error = (
            f"{set_aside:,} of {len(records):,} records on the first page cannot be stored "
            f"(more than {REJECT_THRESHOLD:.0%}): "
            f"{top_reasons(result.findings.reasons(SET_ASIDE))}"
        )
    return result


# --- what the operator reads --------------------------------------------------------------------


def new_in_data(result: EndpointCheck) -> list[str]:
    """'field dataRegion', 'contentType Podcast': what the mapping has never seen."""
    return [
        f"field {field_name}" if finding == NEW_FIELD else f"{field_name} {value}"
        for finding, field_name, value, _, _ in result.findings.drift()
    ]


def line(result: EndpointCheck) -> str:
    """One line per endpoint, for cron and logs."""
    head = f"{result.provider} {result.endpoint}: {result.verdict}"
    if result.records is None:
        return f"{head}: {result.error}"
    total = "" if result.total is None else f" of {result.total:,}"
    parts = [f"{result.records:,} records on the first page{total}"]
    for kind, label in ((SET_ASIDE, "set aside"), (NOT_READ, "not read")):
        reasons = result.findings.reasons(kind)
        count = sum(n for _, n, _ in reasons)
        parts.append(f"{label} {count:,}" + (f" ({top_reasons(reasons)})" if reasons else ""))
    new = new_in_data(result)
    parts.append(f"never seen: {', '.join(new[:5])}" if new else "nothing new")
    if result.error:
        parts.append(result.error)
    return f"{head}: " + "; ".join(parts)


def table_rows(results: list[EndpointCheck]) -> list[dict]:
    """The terminal's table: one row per endpoint, narrow enough for 80 columns."""
    rows = []
    for r in results:
        read = r.records is not None
        rows.append(
            {
                "provider": r.provider,
                "endpoint": r.endpoint,
                "connection": "ok"
                if r.authenticated
                else ("refused" if r.reachable else "unreachable"),
                "first page": ""
                if not read
                else f"{r.records:,}" + ("" if r.total is None else f"/{r.total:,}"),
                "set aside": f"{r.findings.total(SET_ASIDE):,}" if read else "",
                "not read": f"{r.findings.total(NOT_READ):,}" if read else "",
                "new": str(len(new_in_data(r))) if read else "",
                "verdict": r.verdict,
            }
        )
    return rows


def details(result: EndpointCheck) -> list[str]:
    """What is behind the table's numbers: reasons with examples, new fields, the error."""
    out = []
    where = f"{result.provider} {result.endpoint}"
    if result.error:
        out.append(f"{where}: {result.error}")
    for kind, label in ((SET_ASIDE, "would be set aside"), (NOT_READ, "would be stored without")):
        for reason, count, examples in result.findings.reasons(kind):
            out.append(f"{where}: {label}: {reason} ({count:,}), e.g. {'; '.join(examples)}")
    for finding, field_name, value, count, example in result.findings.drift():
        what = drift_label(finding, field_name, value)
        out.append(f"{where}: never seen before: {what} ({count:,}), e.g. {example}")
    return out


def exit_code(results: list[EndpointCheck]) -> int:
    """2 when the configuration is wrong anywhere, else 1 when a night would fail."""
    codes = {r.exit_code for r in results}
    if EXIT_USAGE in codes:
        return EXIT_USAGE
    return EXIT_SYNC_FAILED if codes - {EXIT_OK} else EXIT_OK
