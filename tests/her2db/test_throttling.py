"""Rate limits that hold: counted in the shared cache across worker processes,
by the connection's address unless trusted proxies say otherwise, for token
users too (at their own rate), every 429 in JSON with Retry-After."""

import ipaddress
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings
from knox.models import AuthToken

from her2db.api.throttling import client_address
from tests.served import fetch, gunicorn, redis_or_skip


def rates(**changed):
    """REST_FRAMEWORK with these throttle rates."""
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    return {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**current, **changed},
    }


def address(remote="203.0.113.9", forwarded=None, proxies=0):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    with override_settings(TRUSTED_PROXIES=proxies):
        return client_address(RequestFactory().get("/api/v1/", **meta))


def networks(*items):
    return [ipaddress.ip_network(item) for item in items]


def test_forwarded_for_is_ignored_unless_proxies_are_trusted():
    assert address(forwarded="198.51.100.1") == "203.0.113.9"
    assert address(forwarded="not an address, 198.51.100.1") == "203.0.113.9"


def test_a_count_of_proxies_believes_that_many_hops_from_the_right():
    # One proxy: it appended the address it received from, the client's.
    assert address(forwarded="6.6.6.6, 198.51.100.1", proxies=1) == "198.51.100.1"
    assert address(forwarded="6.6.6.6, 198.51.100.1, 10.0.0.2", proxies=2) == (
        "198.51.100.1"
    )
    # Fewer hops than proxies: the leftmost is all there is.
    assert address(forwarded="198.51.100.1", proxies=2) == "198.51.100.1"
    assert address(forwarded="", proxies=1) == "203.0.113.9"
    assert address(forwarded="garbage", proxies=1) == "203.0.113.9"


def test_a_list_of_proxy_networks_stops_at_the_first_address_outside_them():
    proxies = networks("10.0.0.0/8")
    chain = "6.6.6.6, 198.51.100.1, 10.0.0.3"
    assert address("10.0.0.2", chain, proxies) == "198.51.100.1"
    # A connection from outside the proxies: its header is the client's own.
    assert address("203.0.113.9", chain, proxies) == "203.0.113.9"
    # Only proxies all the way: the leftmost of them.
    assert address("10.0.0.2", "10.0.0.7", proxies) == "10.0.0.7"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", 0),
        ("2", 2),
        ("10.0.0.0/8, 192.168.1.7", networks("10.0.0.0/8", "192.168.1.7/32")),
    ],
)
def test_trusted_proxies_setting_takes_a_count_or_networks(
    monkeypatch, value, expected
):
    from her2db.settings import trusted_proxies

    monkeypatch.setenv("TRUSTED_PROXIES", value)
    assert trusted_proxies("TRUSTED_PROXIES") == expected


def test_trusted_proxies_setting_refuses_anything_else(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from her2db.settings import trusted_proxies

    monkeypatch.setenv("TRUSTED_PROXIES", "the usual ones")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        trusted_proxies("TRUSTED_PROXIES")


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_escape_the_anonymous_limit(anon):
    with override_settings(REST_FRAMEWORK=rates(anon="3/minute")):
        codes = [
            anon.get("/api/v1/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
            for i in range(6)
        ]
    assert codes == [200, 200, 200, 429, 429, 429]


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_count(anon):
    with override_settings(REST_FRAMEWORK=rates(anon="2/minute"), TRUSTED_PROXIES=1):
        first = [
            anon.get("/api/v1/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code
            for _ in range(3)
        ]
        second = anon.get("/api/v1/", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert first == [200, 200, 429]
    assert second.status_code == 200


@pytest.mark.django_db
def test_token_users_are_throttled_at_their_own_higher_rate(anon, nobody_api):
    with override_settings(REST_FRAMEWORK=rates(anon="2/minute", user="4/minute")):
        anonymous = [anon.get("/api/v1/").status_code for _ in range(3)]
        token = [nobody_api.get("/api/v1/").status_code for _ in range(5)]
    assert anonymous == [200, 200, 429]
    # The token user has a count of its own, from the same address.
    assert token == [200, 200, 200, 200, 429]


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "text/html", "*/*"])
def test_a_429_is_json_with_retry_after(anon, accept):
    with override_settings(REST_FRAMEWORK=rates(anon="1/minute")):
        anon.get("/api/v1/agents/")
        response = anon.get("/api/v1/agents/", HTTP_ACCEPT=accept)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60
    assert response.json() == {
        "detail": f"Request was throttled. Expected available in {wait} seconds.",
        "retry_after": wait,
    }


@pytest.fixture
def served(transactional_db, tmp_path, nobody):
    """gunicorn, 3 workers, Redis as the cache; a token for a user with no rights."""
    redis = redis_or_skip()
    _, key = AuthToken.objects.create(user=nobody)
    with gunicorn(
        tmp_path, workers=3, API_ANON_RATE="20/hour", API_USER_RATE="30/hour"
    ) as base:
        redis.flushdb()  # whatever starting up counted
        yield base, key
    redis.flushdb()


def burst(url: str, count: int, headers=lambda i: {}) -> list[tuple[int, dict, bytes]]:
    """``count`` GETs at once, so that every worker answers some."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda i: fetch(url, headers(i)), range(count)))


@pytest.mark.slow
def test_limits_hold_across_worker_processes(served):
    base, key = served
    # Anonymous: 20 an hour, documented; 30 sent at once to 3 workers.
    answers = burst(f"{base}/api/v1/", 30)
    codes = [status for status, _, _ in answers]
    assert codes.count(200) == 20
    assert codes.count(429) == 10
    status, headers, body = next(a for a in answers if a[0] == 429)
    assert int(headers["Retry-After"]) > 0
    assert json.loads(body)["retry_after"] == int(headers["Retry-After"])

    # A different X-Forwarded-For on each request changes nothing.
    spoofed = burst(
        f"{base}/api/v1/", 10, lambda i: {"X-Forwarded-For": f"198.51.100.{i}"}
    )
    assert [status for status, _, _ in spoofed] == [429] * 10

    # A token user with no rights: its own count, 30 an hour.
    token = burst(f"{base}/api/v1/", 40, lambda i: {"Authorization": f"Token {key}"})
    codes = [status for status, _, _ in token]
    assert codes.count(200) == 30
    assert codes.count(429) == 10
