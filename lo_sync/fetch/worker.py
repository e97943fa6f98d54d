"""Run a fetch in a forked child process, so decoding overlaps with writing to SQLite.

On a million-row fetch the bottleneck is Python, not the network: decoding JSON and
mapping each record to a row. A thread cannot overlap that with the parent's SQLite
writes, because both hold the GIL; a second process runs on the other core.

The child is made with `os.fork()`, so it starts with the configured HTTP client, its
token and the mapping code already in memory: nothing is imported again, and no secret
is sent to it.

The read-ahead is bounded: a thread here takes at most RECEIVED_AHEAD items off the
pipe ahead of the consumer, and the child blocks in its send as soon as the pipe's
buffer (grown to 1 MiB on Linux, a few pages) is full as well, so it is never more
than a few items ahead of the parent and memory stays flat however large the fetch.

The child never outlives the parent. On Linux the kernel kills it when the parent dies
(PR_SET_PDEATHSIG); elsewhere its next send fails with EPIPE and it exits.
"""

from __future__ import annotations

import gc
import mmap
import os
import pickle
import queue
import signal
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, Pipe
from typing import NoReturn, TypeVar

from lo_sync.errors import ProviderError

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def run_in_child(
    produce: Callable[[], Iterable[T]],
    *,
    use_process: bool | None = None,
    label: str = "",
    close_fds: Iterable[int] = (),
) -> Iterator[T]:
    """Yield, in order, what `produce()` yields, computing it in a forked child process.

    An exception in `produce()` is raised here as the same type with the same message (or
    as a ProviderError naming its type, when it does not survive pickling). If the child
    dies without a word (killed, out of memory), a ProviderError says so. However the
    consumer stops (break, close, exception, Ctrl-C), the child is killed and reaped.

    When `produce()` returns a generator, each `yield` in the child evaluates to the
    seconds the parent last waited for an item (None for the first item, and always
    None in the thread fallback): a producer can leave work to a parent that would
    otherwise sit idle.

    `label` (say, the provider) starts the message when the child dies without a word.
    `close_fds` are descriptors the child must not keep (the database lock: a worker
    still exiting after its parent was killed must not make the next run find the
    database locked). `use_process=None` uses a child where `os.fork` exists; `False`
    runs `produce()` in a read-ahead thread instead (`read_ahead`).
    """
    if use_process is None:
        use_process = hasattr(os, "fork")
    if not use_process:
        yield from read_ahead(iter(produce()))
        return

    receiver, sender = Pipe(duplex=False)
    _widen(sender)
    # One double the parent writes and the child reads: how long the parent last
    # waited for an item. An anonymous mapping stays shared across fork.
    parent_wait = mmap.mmap(-1, 8)
    parent_pid = os.getpid()
    # Ctrl-C is held back across fork: until the child ignores SIGINT, a KeyboardInterrupt
    # there would unwind into the caller's code and its copied SQLite connection.
    blocked_before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pid = None
    status = None
    messages = None
    try:
        pid = os.fork()
        if pid == 0:
            _serve(produce, receiver, sender, parent_pid, blocked_before, parent_wait, close_fds)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked_before)
        sender.close()
        messages = read_ahead(_received(receiver), depth=RECEIVED_AHEAD)
        while True:
            started = time.monotonic()
            message = next(messages)
            struct.pack_into("d", parent_wait, 0, time.monotonic() - started)
            if message is None:
                status = _reap(pid)
                raise ProviderError(
                    f"{label + ': ' if label else ''}the fetch worker process died "
                    f"({_describe(status)}) before the fetch ended; nothing applied"
                )
            kind, payload = pickle.loads(message)
            if kind == "item":
                yield payload
                continue
            status = _reap(pid)
            if kind == "error":
                raise payload from None
            return
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked_before)  # again, in case fork failed
        if pid and status is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap(pid)
        if messages is not None:
            messages.close()  # its thread ends at the dead child's end of the pipe
        sender.close()
        receiver.close()


# Items a thread takes off the pipe ahead of the consumer. A worker that finds the
# pipe full waits for the parent: items of uneven cost (the pages the parent maps
# itself) would leave each process waiting on the other in turn. A few hundred KB
# an item, so this is a few MB.
RECEIVED_AHEAD = 8


def _received(receiver: Connection) -> Iterator[bytes | None]:
    """The worker's messages as they arrive, then None when its end of the pipe closes."""
    while True:
        try:
            yield receiver.recv_bytes()
        except (EOFError, OSError):
            yield None
            return


def _serve(
    produce: Callable[[], Iterable[T]],
    receiver: Connection,
    sender: Connection,
    parent_pid: int,
    blocked_before: set[signal.Signals],
    parent_wait: mmap.mmap,
    close_fds: Iterable[int],
) -> NoReturn:
    """The child's whole life. It leaves only through `os._exit`: the caller's stack and
    SQLite connections were copied by fork and must never run here, and skipping cleanup
    also keeps the parent's unflushed stdout buffer from being written twice."""
    exit_code = 1
    try:
        _die_with_parent(parent_pid)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C, and kills us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked_before)
        receiver.close()
        for fd in close_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        # Inherited objects move to the permanent generation, so the child's collections
        # (one every few hundred dicts while decoding JSON) no longer walk the parent's
        # whole heap, nor dirty, and so copy, every page of it.
        gc.freeze()
        try:
            items = iter(produce())
            advance = getattr(items, "send", None)  # a generator is told the parent's wait
            waited = None
            while True:
                try:
                    item = advance(waited) if advance and waited is not None else next(items)
                except StopIteration:
                    break
                if not _send(sender, "item", item):
                    return
                waited = struct.unpack_from("d", parent_wait, 0)[0]
            if _send(sender, "done", None):
                exit_code = 0
        except BaseException as exc:
            _send(sender, "error", _portable(exc))
    finally:
        os._exit(exit_code)


# A pipe this size holds a few pages: the two processes' page times vary (a page the
# parent maps itself takes it longer), and with room for only part of one page each
# would often wait for the other.
PIPE_BYTES = 1 << 20


def _widen(connection: Connection) -> None:
    """Grow the pipe to PIPE_BYTES where Linux allows it; elsewhere keep its size."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _die_with_parent(parent_pid: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError):
        pass  # not Linux: EPIPE on the next send is what stops us
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _send(sender: Connection, kind: str, payload: object) -> bool:
    """Send one message; False when the parent is gone."""
    message = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        sender.send_bytes(message)
    except OSError:
        return False
    return True


def _portable(exc: BaseException) -> BaseException:
    """`exc` if the parent can unpickle it as the same thing, else a ProviderError naming it.

    Pickling calls `type(exc)(*exc.args)` on the way back, which fails for exceptions whose
    `__init__` wants other arguments than the ones it passed to `Exception.__init__`.
    """
    try:
        copy = pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
        if type(copy) is type(exc) and str(copy) == str(exc):
            return exc
    except Exception:
        pass
    return ProviderError(f"{type(exc).__name__}: {exc}")


def _reap(pid: int) -> int:
    return os.waitpid(pid, 0)[1]


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"killed by signal {-code}, {signal.Signals(-code).name}"
    return f"exited with code {code}"


# --- read-ahead ---------------------------------------------------------------------------------

_DONE = object()


def read_ahead(pages: Iterator[list[dict]], depth: int = 2) -> Iterator[list[dict]]:
    """Fetch the next pages in a background thread while the caller stores this one.

    The queue is bounded, so at most `depth` pages wait in memory; retries (and a
    provider's Retry-After) happen in that thread exactly as they would inline.
    An exception in the fetch is raised to the caller at the page where it happened.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(page, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            buffer.put(exc)

    worker = threading.Thread(target=produce, name="lo-sync-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
