"""run_in_child: a fetch in a forked child hands the parent every item in order, its
errors as the same types, stays only a little ahead, and never outlives the consumer."""

from __future__ import annotations

import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from lo_sync.errors import ConfigError, DataError, ProviderError
from lo_sync.fetch.worker import PIPE_BYTES, RECEIVED_AHEAD, run_in_child

PROJECT = Path(__file__).resolve().parents[2]


def assert_gone(pid: int) -> None:
    """The child is neither running nor a zombie waiting to be reaped."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def runs(pid: int) -> bool:
    """Whether `pid` still runs. A zombie counts as gone: it is not our child here, and
    whoever adopted it may never reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def pid_then_forever():
    yield os.getpid()
    while True:
        yield os.getpid()


def pid_then_sleep():
    yield os.getpid()
    time.sleep(60)


class NeedsTwoArguments(Exception):
    def __init__(self, code: int, detail: str):
        super().__init__(f"{code}: {detail}")


# --- what arrives ---------------------------------------------------------------------------------


def test_every_item_arrives_in_order_from_another_process():
    def pages():
        for number in range(500):
            yield [(number, row, os.getpid()) for row in range(20)]

    received = list(run_in_child(pages))

    child_pid = received[0][0][2]
    assert child_pid != os.getpid()
    assert received == [[(n, row, child_pid) for row in range(20)] for n in range(500)]


@pytest.mark.parametrize(
    "error",
    [
        DataError("coursera: item 7 has no id"),
        ProviderError("coursera: HTTP 503 after 5 attempts"),
        ConfigError(["a", "b"], source="x.yaml"),
        ValueError("boom"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_error_in_the_fetch_arrives_after_the_items_before_it_as_the_same_type(error):
    def pages():
        yield 1
        yield 2
        raise error

    received = []
    with pytest.raises(type(error)) as raised:
        for item in run_in_child(pages):
            received.append(item)

    assert received == [1, 2]
    assert str(raised.value) == str(error)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_config_error_keeps_its_problems_and_source():
    def pages():
        raise ConfigError(["a", "b"], source="x.yaml")
        yield

    with pytest.raises(ConfigError) as raised:
        list(run_in_child(pages))

    assert (raised.value.problems, raised.value.source) == (["a", "b"], "x.yaml")


@pytest.mark.parametrize(
    "error, names",
    [
        (NeedsTwoArguments(42, "the answer"), "NeedsTwoArguments: 42: the answer"),
        (ValueError(threading.Lock()), "ValueError: <unlocked _thread.lock object"),
    ],
    ids=["cannot be unpickled", "cannot be pickled"],
)
def test_an_error_that_cannot_cross_the_pipe_arrives_as_a_provider_error_naming_it(error, names):
    def pages():
        yield 1
        raise error

    with pytest.raises(ProviderError) as raised:
        list(run_in_child(pages))

    assert str(raised.value).startswith(names)


def test_a_request_deadline_strikes_in_the_worker_and_arrives_as_deadline_exceeded():
    # The alarm that bounds a request rings in the worker's main thread, where the fetch
    # runs; the parent gets the bound's own error, not a dead worker.
    from lo_sync.http import ApiClient, DeadlineExceeded
    from tests.helpers.hostile import TricklingServer

    with TricklingServer(pause=0.05) as server:
        client = ApiClient(
            "coursera",
            token_url=server.token_url,
            client_id="worker-client",
            client_secret="worker-secret-Mm22",
            request_deadline=0.5,
        )

        def pages():
            yield client.get_json(server.url)[1]

        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match=r"http\.request_deadline \(0\.5 s\) ran out"):
            list(run_in_child(pages))
        client.close()

    assert time.monotonic() - started < 3


def test_without_a_process_the_fetch_runs_in_this_process_and_still_raises():
    def pages():
        yield os.getpid()
        raise DataError("coursera: item 7 has no id")

    stream = run_in_child(pages, use_process=False)

    assert next(stream) == os.getpid()
    with pytest.raises(DataError, match="item 7 has no id"):
        next(stream)


# --- the child never outlives the consumer --------------------------------------------------------


def test_breaking_out_of_the_loop_kills_and_reaps_the_child():
    def first_two() -> list[int]:
        received = []
        for child_pid in run_in_child(pid_then_forever):
            received.append(child_pid)
            if len(received) == 2:
                break
        return received

    child_pid, _ = first_two()

    assert_gone(child_pid)


def test_closing_the_stream_kills_and_reaps_the_child():
    stream = run_in_child(pid_then_forever)
    child_pid = next(stream)

    stream.close()

    assert_gone(child_pid)


def test_an_error_while_storing_an_item_kills_and_reaps_the_child():
    seen = []

    def store_all():
        for child_pid in run_in_child(pid_then_forever):
            seen.append(child_pid)
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        store_all()

    assert_gone(seen[0])


def test_ctrl_c_reaching_the_child_is_left_to_the_parent():
    def pages():
        yield os.getpid()
        time.sleep(0.2)
        yield "still fetching"

    stream = run_in_child(pages)
    child_pid = next(stream)

    os.kill(child_pid, signal.SIGINT)  # a terminal sends it to the whole process group

    try:
        item = next(stream)
    except KeyboardInterrupt:  # pytest would take it for the operator's own Ctrl-C
        pytest.fail("the child was interrupted instead of leaving Ctrl-C to the parent")
    assert item == "still fetching"
    stream.close()


def test_a_child_killed_from_outside_is_reported_in_one_line():
    stream = run_in_child(pid_then_sleep)
    child_pid = next(stream)

    os.kill(child_pid, signal.SIGKILL)
    with pytest.raises(ProviderError) as raised:
        next(stream)

    message = str(raised.value)
    assert "killed by signal 9" in message and "nothing applied" in message
    assert "\n" not in message
    assert_gone(child_pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_the_child_dies_when_its_parent_is_killed():
    program = textwrap.dedent(
        """
        import os, time
        from lo_sync.fetch.worker import run_in_child

        def pid_then_sleep():
            yield os.getpid()
            time.sleep(60)

        stream = run_in_child(pid_then_sleep)
        print(next(stream), flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    child_pid = int(parent.stdout.readline())
    try:
        assert runs(child_pid)
        parent.kill()
        parent.wait(timeout=10)

        deadline = time.monotonic() + 3
        while runs(child_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not runs(child_pid), "the child outlived its killed parent"
    finally:
        parent.kill()
        parent.stdout.close()
        if runs(child_pid):
            os.kill(child_pid, signal.SIGKILL)


# --- memory stays flat ----------------------------------------------------------------------------


def test_a_slow_consumer_holds_the_child_back_to_a_few_items_ahead():
    produced = multiprocessing.RawValue("q", -1)  # shared memory, so it survives the fork

    def large_pages():
        for index in range(1000):
            produced.value = index
            yield index, b"x" * 100_000

    furthest_ahead = 0
    for index, page in run_in_child(large_pages):
        assert len(page) == 100_000
        if index % 50 == 0:
            time.sleep(0.02)  # long enough for an unbounded child to run far ahead
        furthest_ahead = max(furthest_ahead, produced.value - index)

    # The pipe holds PIPE_BYTES (about ten of these items) and the parent's thread
    # RECEIVED_AHEAD more: never the thousand produced.
    assert furthest_ahead <= PIPE_BYTES // 100_000 + RECEIVED_AHEAD + 2


def test_an_unmapped_page_crosses_as_the_exact_records_the_worker_decoded():
    import math
    import pickle

    from lo_sync.fetch import Page

    records = [{"n": float("nan"), "big": 2**80, "s": "\ud800", "l": [1, None, True]}]
    crossed = pickle.loads(pickle.dumps(Page(3000, len(records), records)))

    assert crossed.first_seq == 3000
    record = crossed.records[0]
    assert math.isnan(record["n"])
    assert (record["big"], record["s"], record["l"]) == (2**80, "\ud800", [1, None, True])


def test_pages_sifted_by_the_worker_and_by_the_parent_stage_the_same_rows(tmp_path):
    from lo_sync import sync
    from lo_sync.fetch import Fetch, Page, PageMapper
    from lo_sync.store import Store
    from tests.helpers.factories import coursera_enrollment, provider_config

    coursera = provider_config("coursera")

    def night(progress):
        return [
            [
                coursera_enrollment(p * 10 + i, f"l{i}@x.io", progress=progress(p, i))
                for i in range(10)
            ]
            for p in range(6)
        ]

    first, second = night(lambda p, i: 10), night(lambda p, i: 50 if i == p else 10)

    class SplitFetch(Fetch):
        """Every other page crosses raw, for the parent to sift and map."""

        def pages(self, known=None):
            mapper = PageMapper(coursera, "stats", known)

            def produce():
                for number, records in enumerate(second):
                    page = Page(number * 10, len(records), records)
                    yield page if number % 2 else mapper.map(page)

            return run_in_child(produce)

    def rerun(plan_pages, name):
        store = Store.open(tmp_path / name)
        try:
            plan = sync.plan_stats(store, coursera, first)
            sync.apply_stats(store, coursera, plan, "2026-11-23T03:00:00Z")
            plan = sync.plan_stats(store, coursera, plan_pages)
            staged = store.conn.execute("SELECT * FROM temp.stage_progress").fetchall()
            return plan.counts, staged
        finally:
            store.close()

    split_counts, split_staged = rerun(SplitFetch(None, coursera, "stats", None), "split.db")
    assert (split_counts["updated"], split_counts["unchanged"], len(split_staged)) == (6, 54, 6)
    assert (split_counts, split_staged) == rerun(second, "parent-only.db")


def _told_waits(producer_pause: float, consumer_pause: float) -> list[float]:
    """What a generator producer is told at each yield, for the given pauses."""

    def produce():
        told = []
        for _ in range(8):
            time.sleep(producer_pause)
            # Page-sized, as fetched pages are: the pipe holds less than one.
            told.append((yield bytes(300_000)))
        yield told

    items = list(_consume_slowly(run_in_child(produce), consumer_pause))
    return [t for t in items[-1] if t is not None]


def _consume_slowly(items, pause):
    for item in items:
        yield item
        time.sleep(pause)


def test_a_generator_producer_learns_whether_the_parent_waited_for_its_items():
    idle_parent = _told_waits(producer_pause=0.06, consumer_pause=0.0)
    busy_parent = _told_waits(producer_pause=0.0, consumer_pause=0.06)

    # The first answers may still describe the child's start-up, and a loaded machine
    # can stall any one of them: the medians say what the producer was told.
    assert len(idle_parent) == len(busy_parent) == 8
    assert statistics.median(idle_parent[2:]) > 0.04
    assert statistics.median(busy_parent[2:]) < 0.02


def test_a_fetch_worker_does_not_hold_the_database_lock(tmp_path):
    from lo_sync import lock

    with lock.exclusive(tmp_path / "lo-sync.db") as lock_fd:
        held = [lock_fd]

        def produce():
            open_fds = []
            for fd in held:
                try:
                    os.fstat(fd)
                    open_fds.append(fd)
                except OSError:
                    pass
            yield open_fds

        assert held
        assert list(run_in_child(produce, close_fds=held)) == [[]]
        # The parent's lock is untouched.
        assert all(os.fstat(fd) for fd in held)
