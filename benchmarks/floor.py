"""The floor: the cheapest correct program for what a benchmarked lo-sync command does.

One plain `requests.Session`, a client-credentials token via HTTP Basic, the same
pages at the largest page size the contract allows, `json.loads`, the same field
conversions lo-sync makes (epoch ms -> ISO-8601 UTC, grade x 100, hours x 60,
seconds -> minutes, e-mail lower-cased), and one `executemany` into a bare table
in one transaction. `--mode fetch` stops before the database: pages, decoding and
conversions only (the yardstick for a rerun that should write almost nothing).
`--concurrency N` keeps N Coursera page requests in flight once the first page
has given the total (a small thread pool, one session per thread, a window of N
pages); the pages are still decoded, converted and written one at a time, in
order, by the main thread. `--concurrency 1` is the sequential floor.

No validation, no retries, no diff, no audit trail: a lower bound, not a product.
A 429 is an error: at the throttled simulator's limit the floor never exceeds it.
Run by benchmarks/run.py as its own process, exactly like lo-sync, so both pay for
interpreter start-up and are measured the same way. Prints one JSON line.

    python benchmarks/floor.py --url http://127.0.0.1:PORT --job stats --mode write --db x.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

import requests

PAGE = 1000  # Coursera: the contract's largest `limit`; OpenClassrooms: asked for, server caps
ISO = "%Y-%m-%dT%H:%M:%SZ"

STATS_COLUMNS = (
    "course_external_id",
    "learner_email",
    "learner_external_id",
    "learner_name",
    "progress_percent",
    "completed",
    "completed_at",
    "score_percent",
    "time_spent_minutes",
    "last_activity_at",
    "enrolled_at",
    "program_id",
)
CATALOG_COLUMNS = (
    "provider",
    "external_id",
    "title",
    "description",
    "url",
    "image_url",
    "language",
    "duration_minutes",
    "status",
    "content_type",
    "skills",
    "level",
    "provider_updated_at",
)


_DATES: dict[int, str] = {}
_HOURS_MINUTES = [f"{h:02}:{m:02}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02}Z" for s in range(60)]


def iso_ms(value: int | float | None) -> str | None:
    # Epoch milliseconds to the second, as lo-sync stores them, with the same
    # date-per-day cache lo-sync uses: the floor must not pay for a slower
    # conversion than the program it measures.
    if value is None:
        return None
    day, second = divmod(int(value) // 1000, 86_400)
    date = _DATES.get(day)
    if date is None:
        date = _DATES[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
    minute, second = divmod(second, 60)
    return date + _HOURS_MINUTES[minute] + _SECONDS[second]


def iso_text(value: str | None) -> str | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(ISO)


T = TypeVar("T")


def in_order(fetch: Callable[[int], T], starts: Iterable[int], concurrency: int) -> Iterator[T]:
    """fetch(start) for every start, at most `concurrency` at once, yielded in the
    order of `starts`. The window is refilled before a result is handed on, so
    `concurrency` requests stay in flight while the caller works on one page."""
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="floor")
    window: deque[Future[T]] = deque()
    try:
        for start in starts:
            if len(window) == concurrency:
                done = window.popleft().result()
                window.append(pool.submit(fetch, start))
                yield done
            else:
                window.append(pool.submit(fetch, start))
        while window:
            yield window.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Floor:
    def __init__(self, url: str, credentials: dict, concurrency: int = 1):
        self.url = url.rstrip("/")
        self.credentials = credentials
        self.concurrency = concurrency
        self.session = requests.Session()
        self.local = threading.local()  # one Session per pool thread
        self.records = 0
        self.pages = 0

    def token(self, token_url: str, provider: str) -> str:
        c = self.credentials[provider]
        response = self.session.post(
            token_url,
            data={"grant_type": "client_credentials"},
            auth=(c["client_id"], c["client_secret"]),
            timeout=60,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    # --- Coursera: start/limit paging --------------------------------------------------------

    def coursera_pages(self, resource: str, params: dict) -> Iterator[list[dict]]:
        org = self.credentials["coursera"]["org_id"]
        token = self.token(f"{self.url}/coursera/oauth2/client_credentials/token", "coursera")
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self.url}/coursera/ent/api/businesses.v1/{org}/{resource}"
        if self.concurrency > 1:
            yield from self.coursera_pages_at_once(url, params, headers)
            return
        start = 0
        while True:
            response = self.session.get(
                url, params={**params, "start": start, "limit": PAGE}, headers=headers, timeout=60
            )
            response.raise_for_status()
            body = json.loads(response.content)
            self.pages += 1
            self.records += len(body["elements"])
            yield body["elements"]
            nxt = (body.get("paging") or {}).get("next")
            if nxt in (None, ""):
                return
            start = int(nxt)

    def coursera_pages_at_once(self, url: str, params: dict, headers: dict) -> Iterator[list]:
        """The first page alone, for the total; then every other start at once, in order."""
        response = self.session.get(
            url, params={**params, "start": 0, "limit": PAGE}, headers=headers, timeout=60
        )
        response.raise_for_status()
        body = json.loads(response.content)
        total = (body.get("paging") or {}).get("total")
        self.pages += 1
        self.records += len(body["elements"])
        yield body["elements"]
        if total is None:
            raise SystemExit("the first page has no paging.total: nothing to page in parallel")

        def fetch(start: int) -> bytes:
            session = getattr(self.local, "session", None)
            if session is None:
                session = self.local.session = requests.Session()
            got = session.get(
                url, params={**params, "start": start, "limit": PAGE}, headers=headers, timeout=60
            )
            got.raise_for_status()
            return got.content

        for content in in_order(fetch, range(PAGE, int(total), PAGE), self.concurrency):
            elements = json.loads(content)["elements"]
            self.pages += 1
            self.records += len(elements)
            yield elements
        if self.records != int(total):
            raise SystemExit(f"read {self.records:,} records of a total of {int(total):,}")

    # --- OpenClassrooms: Range paging, following what the server actually sent ---------------

    def openclassrooms_pages(self, resource: str) -> Iterator[list[dict]]:
        org = self.credentials["openclassrooms"]["organization_id"]
        token = self.token(f"{self.url}/openclassrooms/oauth2/token", "openclassrooms")
        url = f"{self.url}/openclassrooms/organizations/{org}/{resource}"
        start = 0
        while True:
            response = self.session.get(
                url,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Range": f"items={start}-{start + PAGE - 1}",
                },
                timeout=60,
            )
            if response.status_code == 416:
                return
            response.raise_for_status()
            body = json.loads(response.content)
            self.pages += 1
            self.records += len(body)
            yield body
            if response.status_code == 200 or not body:
                return
            span, _, total = response.headers["Content-Range"].split()[1].partition("/")
            start = int(span.split("-")[1]) + 1
            if total != "*" and start >= int(total):
                return

    # --- rows --------------------------------------------------------------------------------

    def stats_rows(self) -> Iterator[tuple]:
        for page in self.coursera_pages("enrollmentReports", {"includeS12n": "true"}):
            for r in page:
                grade = r.get("grade")
                hours = r.get("approxTotalCourseHrs")
                email = r.get("email") or r.get("externalId") or ""
                external_id = r.get("externalId")
                program = r.get("programId")
                yield (
                    str(r["contentId"]),
                    email.strip().lower(),
                    None if external_id in (None, "") else str(external_id),
                    r.get("fullName"),
                    float(r["overallProgress"]),
                    int(r["isCompleted"]),
                    iso_ms(r.get("completedAt")),
                    None if grade is None else round(grade * 100, 2),
                    None if hours is None else round(hours * 60, 2),
                    iso_ms(r.get("lastActivityAt")),
                    iso_ms(r.get("enrolledAt")),
                    None if program is None else str(program),
                )

    def catalog_rows(self) -> Iterator[tuple]:
        for page in self.coursera_pages("contents", {}):
            for r in page:
                extra = r.get("extraMetadata") or {}
                meta = extra.get("definition") if extra.get("typeName") == "courseMetadata" else {}
                meta = meta or {}
                seconds = meta.get("estimatedLearningTime")
                content_type = r.get("contentType") or "Course"
                url = next(
                    (p["contentUrl"] for p in r.get("programs") or () if p.get("contentUrl")), None
                )
                if url is None and r.get("slug"):
                    kind = "specializations" if content_type == "Specialization" else "learn"
                    url = f"https://www.coursera.org/{kind}/{r['slug']}"
                yield (
                    "coursera",
                    str(r["contentId"]),
                    r["name"],
                    r.get("description") or None,
                    url,
                    meta.get("promoPhoto") or None,
                    r.get("languageCode") or None,
                    None if seconds is None else round(seconds / 60),
                    None,
                    content_type,
                    json.dumps(
                        [s["skillName"] for s in meta.get("skills") or () if s.get("skillName")],
                        ensure_ascii=False,
                    ),
                    r.get("difficultyLevel") or None,
                    None,
                )
        for page in self.openclassrooms_pages("courses"):
            for r in page:
                duration = r.get("duration")
                yield (
                    "openclassrooms",
                    str(r["id"]),
                    r["title"],
                    r.get("description") or None,
                    r.get("url") or None,
                    r.get("image") or None,
                    r.get("language") or None,
                    None if duration is None else round(duration),
                    r["status"],
                    "Course",
                    "[]",
                    r.get("level") or None,
                    iso_text(r.get("updatedAt")),
                )


def write(rows: Iterator[tuple], columns: tuple[str, ...], db: str) -> int:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")  # lo-sync's durability setting
    conn.execute(f"CREATE TABLE IF NOT EXISTS floor ({', '.join(columns)})")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        f"INSERT INTO floor VALUES ({', '.join('?' * len(columns))})", rows
    )  # one statement, fed page by page as the pages arrive
    conn.execute("COMMIT")
    count = conn.execute("SELECT count(*) FROM floor").fetchone()[0]
    conn.close()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="simulator root URL")
    parser.add_argument("--job", choices=("stats", "catalog"), required=True)
    parser.add_argument("--mode", choices=("write", "fetch"), default="write")
    parser.add_argument("--db", help="SQLite file (write mode)")
    parser.add_argument("--credentials", help="JSON credentials (default: the simulator's)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="Coursera page requests in flight once the total is known (default 1)",
    )
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.credentials:
        credentials = json.loads(args.credentials)
    else:
        from lo_sync.simulator import CREDENTIALS as credentials
    floor = Floor(args.url, credentials, args.concurrency)
    rows = floor.stats_rows() if args.job == "stats" else floor.catalog_rows()
    columns = STATS_COLUMNS if args.job == "stats" else CATALOG_COLUMNS
    started = time.perf_counter()
    if args.mode == "write":
        if not args.db:
            parser.error("--mode write needs --db")
        written = write(rows, columns, args.db)
    else:
        written = 0
        for _ in rows:
            pass
    print(
        json.dumps(
            {
                "records": floor.records,
                "pages": floor.pages,
                "rows_written": written,
                "seconds": round(time.perf_counter() - started, 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
