"""Faults a client cannot fix by changing its request, answered plainly.

- A database that is full, read-only or unreachable: 503 saying so (JSON
  under /api/), after the request's transaction was rolled back, so nothing
  was written.
- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE: 413 naming the limit
  (Django's own answer is an HTML "Bad Request (400)" with no reason).

`FaultMiddleware` catches them from any view (API, admin, login), whatever
DEBUG is; `bad_request` (handler400 in her2db/urls.py) catches a body too
large that a middleware read first.
"""

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse

# PostgreSQL's SQLSTATE classes and codes: the server cannot take writes
# (read_only_sql_transaction), has no room (class 53: disk full, out of
# memory, too many connections), or the connection is gone (class 08,
# 57P01-57P03 shutdown), or a lock was not granted in time (55P03).
PG_UNAVAILABLE = {
    "25006": "The database is read-only at the moment",
    "53100": "The database has no room left (disk full)",
    "53": "The database is out of resources (memory or connections)",
    "08": "The database cannot be reached",
    "57P": "The database is shutting down or restarting",
    "55P03": "The records are locked by another change",
}
# SQLite's messages (it has no codes Python exposes on every version).
SQLITE_UNAVAILABLE = {
    "database or disk is full": "The database has no room left (disk full)",
    "attempt to write a readonly database": "The database is read-only",
    "readonly database": "The database is read-only",
    "database is locked": "The database is busy with another change",
    "disk i/o error": "The database cannot be written (disk I/O error)",
    "unable to open database file": "The database cannot be reached",
}
RETRY_AFTER = 30  # seconds: a hint, the fault may last longer


def database_unavailable(error: BaseException) -> str | None:
    """Why the database refused, in a reader's words; None for any other error.

    A broken rule (IntegrityError) or a bug in a query is not a fault of the
    database and stays what it is.
    """
    if not isinstance(error, DatabaseError):
        return None
    cause = error.__cause__
    code = getattr(getattr(cause, "diag", None), "sqlstate", None) or getattr(
        cause, "sqlstate", None
    )
    if code:
        for prefix, reason in PG_UNAVAILABLE.items():
            if code.startswith(prefix):
                return reason
        return None
    text = str(error).lower()
    for fragment, reason in SQLITE_UNAVAILABLE.items():
        if fragment in text:
            return reason
    psycopg = cause is not None and type(cause).__module__.startswith("psycopg")
    if psycopg and "connection" in text and ("closed" in text or "lost" in text):
        return "The database cannot be reached"
    return None


def unavailable_response(request, reason: str):
    message = f"{reason}. Nothing was written; try again later."
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(
            message, status=503, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def too_large_response(request):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = (
        f"The request body is larger than the {limit:,} bytes this server "
        "accepts (DATA_UPLOAD_MAX_MEMORY_SIZE). Send less at a time."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "limit": limit}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class FaultMiddleware:
    """A full or read-only database is a 503; an oversized body a 413."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return too_large_response(request)
        reason = database_unavailable(exception)
        if reason is not None:
            return unavailable_response(request, reason)
        return None


def bad_request(request, exception=None):
    """handler400: an oversized body is a 413; other 400s are JSON under /api/."""
    if isinstance(exception, RequestDataTooBig):
        return too_large_response(request)
    if request.path.startswith("/api/"):
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            detail = str(exception)
        else:
            detail = "Bad request."
        return JsonResponse({"detail": detail}, status=400)
    from django.views import defaults

    return defaults.bad_request(request, exception)
