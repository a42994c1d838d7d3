"""The API's list pages and records against the floor's: the same bytes, and
their times."""

import os
import statistics
import time

import orjson
from django.core.cache import cache
from django.test import Client

from tests.bench.floor import RESOURCES

PAGE = 50
PAGES = (50, 200)
SEARCH_WORD = "resistance"
# A trial's own page shows its outcomes, which the API reads through its
# serializer (a relation of a relation): no floor of its own.
NO_DETAIL_FLOOR = {"trials"}


def endpoints(page: int = PAGE) -> list[tuple[str, str, str, str]]:
    """(label, URL, resource, search word) of each page the benchmark times."""
    found = [
        (name, f"/api/v1/{name}/?page_size={page}", name, "") for name in RESOURCES
    ]
    for name in ("evidence", "citations"):
        url = f"/api/v1/{name}/?page_size={page}&search={SEARCH_WORD}"
        found.append((f"{name} ?search=", url, name, SEARCH_WORD))
    return found


def get(client, url: str):
    # Each request as a reader's first of the minute: the anonymous throttle
    # does its work, but the benchmark's own traffic never trips it.
    cache.clear()
    return client.get(url)


def api_and_floor(client, page: int = PAGE) -> list[tuple]:
    """(label, URL, the API's bytes, the floor's function) of each endpoint."""
    found = []
    for label, url, name, word in endpoints(page):
        response = get(client, url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")

        def floor(url=url, resource=RESOURCES[name], word=word):
            return resource.page(url, page, word)

        found.append((label, url, response.content, floor))
    return found


def details_and_floor(client) -> list[tuple]:
    """(label, URL, the API's bytes, the floor's function) of one record of
    each list: the first of its first page."""
    found = []
    for name, resource in RESOURCES.items():
        if name in NO_DETAIL_FLOOR:
            continue
        first = orjson.loads(get(client, f"/api/v1/{name}/?page_size=1").content)
        url = first["results"][0]["url"].removeprefix("http://localhost")
        key = url.rstrip("/").rpartition("/")[2]
        response = get(client, url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")

        def floor(resource=resource, key=key):
            return resource.one(key)

        found.append((f"{name} detail", url, response.content, floor))
    return found


def timed(api, floor, repeat: int) -> tuple[list[float], list[float]]:
    """Seconds of each run of each, in turns so that both see the same machine."""
    times = {api: [], floor: []}
    for run in range(repeat + 3):
        for call in (api, floor):
            started = time.perf_counter()
            call()
            if run >= 3:  # the first runs warm caches
                times[call].append(time.perf_counter() - started)
    return times[api], times[floor]


def table(title: str, client, endpoints: list[tuple], repeat: int) -> list[float]:
    """Time each endpoint against its floor; print a table; return the ratios."""
    rows = []
    for label, url, api_bytes, floor in endpoints:
        if floor() != api_bytes:
            raise SystemExit(f"{label}: the floor's JSON differs from the API's")
        api, low = timed(lambda url=url: get(client, url), floor, repeat)
        median = statistics.median(api) / statistics.median(low)
        rows.append((label, min(api), min(low), median, len(api_bytes)))
    print(f"\n{title:<24}{'API ms':>8}{'floor ms':>10}", end="")
    print(f"{'ratio':>7}{'median ratio':>14}{'KB':>6}")
    for label, api, low, median, size in rows:
        print(
            f"{label:<24}{api * 1000:>8.1f}{low * 1000:>10.1f}"
            f"{api / low:>7.2f}{median:>14.2f}{size / 1024:>6.0f}"
        )
    return [api / low for _, api, low, _, _ in rows]


def measure(repeat: int, pages=PAGES) -> None:
    """Print each endpoint's fastest run against the floor's, and the ratio:
    lists at each page size, then one record of each.

    The fastest run is what the code costs; slower ones also measure what
    else the machine was doing (the median ratio is there to show how much).
    """
    client = Client(HTTP_HOST="localhost")
    ratios = []
    for page in pages:
        title = f"endpoint (page of {page})"
        ratios += table(title, client, api_and_floor(client, page), repeat)
    ratios += table("record", client, details_and_floor(client), repeat)
    load = os.getloadavg()[0]
    print(f"\nLoad average {load:.1f} on {os.cpu_count()} CPUs while timing.", end="")
    print(f"\nWorst ratio {max(ratios):.2f} (goal: at most 2.0).")
