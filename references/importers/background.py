"""Read an import file in a second process while this one writes.

Parsing a large file and writing its records each take one core; with the
reading in a child process they overlap. Used from the command line only
(``ImportContext.background``): forking a web server's worker is not safe.
The child never touches the database; it sends chunks of plain records
through a bounded queue, so memory stays flat however far ahead it reads.

The child must never outlive the import, nor keep its database session
open: forked from the writer, it holds a copy of the writer's connection
(on PostgreSQL, the socket of a session in the middle of its transaction,
whose locks the server keeps while any process holds that socket). So it
closes its copy first thing (without a word to the server, which would end
the writer's session), ignores Ctrl-C (the writer stops it), and asks the
kernel to stop it when the writer dies, however it dies.
"""

import contextlib
import ctypes
import multiprocessing
import os
import queue as queues
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .base import RecordError, chunked

# Chunks read ahead at most.
DEPTH = 4


def read_in_background(
    read: Callable[[Path], Iterable], path: Path, size: int
) -> Iterator[list]:
    """Yield lists of ``size`` items of ``read(path)``, read by a child process.

    A RecordError in the child is raised here, naming the file and record; the
    child is stopped when the caller stops early.
    """
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=DEPTH)
    child = context.Process(
        target=_produce, args=(read, path, size, channel), daemon=True
    )
    child.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=1)
            except queues.Empty:
                if not child.is_alive():
                    raise RecordError(
                        f"the process reading it stopped (exit code {child.exitcode})",
                        source=str(path),
                    ) from None
                continue
            if kind == "chunk":
                yield payload
            elif kind == "error":
                message, source, record = payload
                raise RecordError(message, source=source, record=record)
            else:
                return
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        channel.close()


def _produce(read, path, size, channel) -> None:
    _detach_from_writer()
    try:
        for chunk in chunked(read(path), size):
            channel.put(("chunk", chunk))
    except RecordError as error:
        channel.put(("error", (error.message, error.source, error.record)))
    except Exception as error:  # a bug: report it as the file's error, briefly
        message = f"could not be read ({type(error).__name__}: {error})"
        channel.put(("error", (message, str(path), "")))
    else:
        channel.put(("done", None))


# prctl(PR_SET_PDEATHSIG, sig): the signal the kernel sends this process when
# its parent dies (Linux).
PR_SET_PDEATHSIG = 1


def _detach_from_writer() -> None:
    """Close the copy of the writer's database connections; die with it."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        fileno = None
        if raw is not None:
            pgconn = getattr(raw, "pgconn", None)  # psycopg 3
            fileno = getattr(pgconn, "socket", None) if pgconn is not None else None
        if fileno is not None:
            with contextlib.suppress(OSError):
                os.close(fileno)
        # Forget it without closing it properly: that would end the session
        # the writer is still using.
        connection.connection = None
    # The writer's handlers came with the fork: SIGTERM ends the reader
    # plainly, Ctrl-C is the writer's to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the writer died before the line above took effect
        os._exit(1)
