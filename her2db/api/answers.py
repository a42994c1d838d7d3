"""Repeat reads for free: GET answers kept in the shared cache.

An answer is kept under (data version, audience, negotiated media type, full
URL). The data version (her2db/data_version.py) changes in the same
transaction as any write a reader could see, so a kept answer is never served
after a write: the next read finds the new version and builds afresh.

- Anonymous answers are kept whole and served to the next anonymous reader
  without building anything (one query: the version). Only anonymous
  requests read or write those entries, so what a curator sees (drafts,
  revisions) never reaches them.
- An authenticated user's answers are kept as their ETag only, under the
  user's id, so that a conditional GET answers 304 without building.
- The browsable API (HTML with a login form and CSRF token) is never kept.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework import renderers

from her2db import data_version, replicas

# How long an entry may stay: entries of past versions are never read again,
# and expire (or are evicted first by an LRU cache).
TIMEOUT = 3600
# Headers of a kept answer that are the answer's, not the request's.
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language", "Allow")
VARY = ("Accept", "Authorization", "Cookie")


def is_anonymous(request) -> bool:
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def key_for(request) -> str | None:
    """The cache key of a GET's answer, or None for an answer never kept."""
    if not settings.API_CACHE or request.method not in ("GET", "HEAD"):
        return None
    if isinstance(
        getattr(request, "accepted_renderer", None), renderers.BrowsableAPIRenderer
    ):
        return None
    # Read where the data will be read (a replica for most GETs), so that the
    # version and the data agree.
    version = data_version.current(replicas.read_alias())
    if version is None:
        return None
    audience = "anon" if is_anonymous(request) else f"user{request.user.pk}"
    address = hashlib.blake2b(
        f"{request.accepted_media_type}\0{request.build_absolute_uri()}".encode(),
        digest_size=16,
    ).hexdigest()
    return f"her2db:answer:{version}:{audience}:{address}"


def wanted(request, tag: str) -> bool:
    """Does the request's If-None-Match hold `tag` (or "*")?"""
    header = request.headers.get("If-None-Match", "").strip()
    if not header:
        return False
    if header == "*":
        return True
    return tag in [t.strip().removeprefix("W/") for t in header.split(",")]


def not_modified(request, tag: str) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    response["ETag"] = tag
    mark(request, response)
    return response


def kept_answer(request, key: str) -> HttpResponse | None:
    """The answer kept under `key` (a 304 if the client has it), or None."""
    entry = cache.get(key)
    if entry is None:
        return None
    if wanted(request, entry["etag"]):
        return not_modified(request, entry["etag"])
    if "content" not in entry:
        return None  # an authenticated user's: the ETag only
    response = HttpResponse(entry["content"], headers=entry["headers"])
    response["ETag"] = entry["etag"]
    mark(request, response)
    return response


def keep(request, key: str, response, tag: str) -> None:
    """Keep a fresh 200 GET answer: whole for anonymous readers, else its ETag."""
    entry = {"etag": tag}
    if is_anonymous(request):
        entry["content"] = response.content
        entry["headers"] = {h: response[h] for h in KEPT_HEADERS if h in response}
    cache.set(key, entry, TIMEOUT)


def mark(request, response) -> None:
    """Who may keep a GET answer: anyone for anonymous answers, the user only
    for theirs."""
    if is_anonymous(request):
        patch_cache_control(response, public=True, max_age=settings.API_CACHE_MAX_AGE)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, VARY)
