"""Reads on streaming replicas, writes and a writer's next reads on the primary.

DATABASE_REPLICA_URLS (settings) adds the aliases replica1, replica2...
and installs `ReplicaRouter`. A request may read from a replica when its
method is safe (GET, HEAD, OPTIONS) and its user has not written in the last
REPLICA_PIN_SECONDS: after a write the middleware marks the user in the
shared cache, and the user's reads stay on the primary until the mark
expires, so a client always reads its own writes whatever the replicas' lag.
Everything else (writes, unsafe requests, commands, importers) uses the
primary. Credentials (users, groups, tokens, sessions) are always read on
the primary, so a token made a moment ago works at once.
"""

import random
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from rest_framework.permissions import SAFE_METHODS

PRIMARY = "default"
# Read on the primary whatever the request: who is asking and what they may do.
CREDENTIAL_APPS = ("auth", "knox", "sessions", "contenttypes", "admin")

# The request being served, when it may read from a replica.
_reader: ContextVar[object | None] = ContextVar("her2db_replica_reader", default=None)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != PRIMARY]


def wrote_key(user_pk) -> str:
    return f"her2db:wrote:{user_pk}"


def read_alias() -> str:
    """Where the current request reads curated data."""
    request = _reader.get()
    aliases = replica_aliases()
    if request is None or not aliases:
        return PRIMARY
    pinned = getattr(request, "_her2db_pinned", None)
    if pinned is None:
        # request.user is what authentication found (DRF sets it on the
        # Django request too); an anonymous reader never wrote.
        user = getattr(request, "user", None)
        pinned = bool(
            user is not None
            and user.is_authenticated
            and cache.get(wrote_key(user.pk)) is not None
        )
        request._her2db_pinned = pinned
    if pinned:
        return PRIMARY
    # One replica for the whole request, so its reads are consistent.
    alias = getattr(request, "_her2db_replica", None)
    if alias is None:
        alias = request._her2db_replica = random.choice(aliases)
    return alias


class ReplicaRouter:
    """Writes on the primary; reads where `read_alias()` says."""

    def db_for_read(self, model, **hints):
        if model is not None and model._meta.app_label in CREDENTIAL_APPS:
            return PRIMARY
        return read_alias()

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, **hints):
        return db == PRIMARY


class ReplicaMiddleware:
    """Lets safe requests read from a replica; marks a user who wrote.

    After AuthenticationMiddleware, so that a session's user is known.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        safe = request.method in SAFE_METHODS
        token = _reader.set(request if safe else None)
        try:
            response = self.get_response(request)
        finally:
            _reader.reset(token)
        user = getattr(request, "user", None)
        if (
            not safe
            and settings.DATABASE_REPLICA_URLS
            and user is not None
            and user.is_authenticated
        ):
            cache.set(wrote_key(user.pk), 1, settings.REPLICA_PIN_SECONDS)
        return response
