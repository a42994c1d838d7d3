"""One operation, one id: what groups the history rows a single action wrote.

An operation is one request (an API call or an admin save), one import run
or one management command. Its id is set here and nowhere else: the
middleware opens one per request, `operation()` opens one for any other unit
of work, and outside both the process itself is the operation (a management
command runs in a process of its own). Every history row takes the current
id as it is built (the `operation` field's default), so the change feed and
restore group rows by what wrote them, not by how close their clocks are.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Operation:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    # Records created by this operation, as (model label, pk): rows added to
    # them in the same operation are part of their creation.
    created: set[tuple[str, object]] = field(default_factory=set)


_process = Operation()
_current: ContextVar[Operation | None] = ContextVar("her2db_operation", default=None)


def current() -> Operation:
    return _current.get() or _process


def current_id() -> uuid.UUID:
    """The id history rows carry; the `operation` field's default."""
    return current().id


@contextmanager
def operation() -> Iterator[Operation]:
    """Run a unit of work as an operation of its own."""
    token = _current.set(Operation())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class OperationMiddleware:
    """Each request is one operation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with operation() as op:
            request.operation = op
            return self.get_response(request)
