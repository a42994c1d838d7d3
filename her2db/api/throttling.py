"""Rate limits: anonymous clients by address, token and session users by account.

The counters live in the `default` cache (CACHES in settings), which every
worker shares when it is Redis, so the documented rate holds however many
workers serve the API. The client's address is the connection's
(REMOTE_ADDR) unless TRUSTED_PROXIES says which X-Forwarded-For hops to
believe (client_address below).

REST_FRAMEWORK in settings names these classes, so DRF imports this module
while importing its own views: it must import nothing from the modules that
build on them.
"""

import ipaddress
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework import throttling
from rest_framework.settings import api_settings


def client_address(request) -> str:
    """The address of the client that sent ``request``.

    TRUSTED_PROXIES (settings) decides how much of X-Forwarded-For to believe:

    - 0 or empty (the default): none of it; the connection's own address.
    - an integer N: N proxies stand in front of HER2db, each appending the
      address it received from; the client is the Nth address from the right.
    - a list of networks: walking X-Forwarded-For from the right, addresses
      inside those networks are proxies; the first one outside is the client.
      The connection itself must come from a trusted network, or the header
      is ignored.

    A header shorter than the trusted chain, or holding something that is not
    an address, falls back to the nearest address that can be believed.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = settings.TRUSTED_PROXIES
    if not trusted:
        return remote
    hops = [
        hop.strip()
        for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    if isinstance(trusted, int):
        if not hops:
            return remote
        return _address(hops[-min(trusted, len(hops))]) or remote
    if not _in_networks(remote, trusted):
        return remote
    client = remote
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _in_networks(address, trusted):
            break
    return client


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _in_networks(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class SharedRateThrottle:
    """DRF's rate throttle, counted atomically in the shared cache.

    DRF's own keeps a list of request times, read and written back by each
    request: workers answering at the same moment overwrite each other's
    entries and let more through than the rate. Here each client has a
    window that opens at its first request and lasts the rate's period; the
    cache's atomic increment counts the requests in it (Redis INCR), so at
    most the rate's number of requests are answered in any window whichever
    worker answers them. The rate is read from settings at each request.
    """

    cache = caches["default"]

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_address(request)

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        # The window's opening time; a second key, so the count stays a
        # plain integer that INCR can add to.
        self.cache.add(f"{self.key}:start", self.now, self.duration)
        self.cache.add(self.key, 0, self.duration)
        try:
            count = self.cache.incr(self.key)
        except ValueError:  # the window closed between add() and incr()
            self.cache.add(self.key, 0, self.duration)
            count = self.cache.incr(self.key)
        return count <= self.num_requests

    def wait(self):
        start = self.cache.get(f"{self.key}:start", self.now)
        return max(1.0, start + self.duration - self.now)

    timer = staticmethod(time.time)


class AnonRateThrottle(SharedRateThrottle, throttling.AnonRateThrottle):
    """Anonymous requests, per client address (API_ANON_RATE)."""


class UserRateThrottle(SharedRateThrottle, throttling.UserRateThrottle):
    """Requests of a logged-in or token user, per account (API_USER_RATE).

    Higher than the anonymous rate, so that a program that identifies itself
    reads faster, but finite: a leaked token cannot flood the server.
    """

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # AnonRateThrottle counts these
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
