"""Read an import file in a second process while this one writes.

Parsing a large file and writing its records each take one core; with the
reading in a child process they overlap. Used from the command line only
(``ImportContext.background``): forking a web server's worker is not safe.
The child never touches the database; it sends chunks of plain records
through a bounded queue, so memory stays flat however far ahead it reads.
"""

import multiprocessing
import queue as queues
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
