"""`make bench-search`: the API's ?search= on a large data set.

    python -m tests.bench.search [--citations 100000] [--evidence 200000]
                                 [--text zipf|uniform] [--repeat 3] [--keep]

Builds the synthetic data set (tests/bench/dataset.py; the build is not
timed) with 100,000 citations and 200,000 evidence items in the benchmark's
own database (tests/bench/scratch.py), then times the API's list request
(`/api/v1/<resource>/?search=...&page_size=50`, in process through Django's
test client, as tests/bench/compare.py does) for each of QUERIES, and prints
per resource a line `search <resource> p50 <ms> p95 <ms>`: the percentiles,
over the 50 queries, of each query's median time over --repeat runs.

`--text` says how the data set's texts are drawn (tests/bench/dataset.py
TEXTS): "zipf", the default, as words occur in real text (a query word in
one to twenty percent of the rows); "uniform", the worst case, each of 50
words in nearly every row, so that every query matches about 90% of them
and a ranked search scores them all. Each kind is kept in a database of its
own (label bench_search_<text>).
"""

import argparse
import os
import statistics
import time
import warnings

from tests.bench.scratch import scratch_database

# A fixed mix on the data set's vocabulary (dataset.VOCABULARY) and its
# identifiers: single words, prefixes, two words, phrases and exclusions.
QUERIES = (
    # single words
    "trastuzumab",
    "resistance",
    "PI3K",
    "xenograft",
    "heregulin",
    "MUC4",
    "lysosomal",
    "efflux",
    "survival",
    "CD44",
    "adjuvant",
    "pertuzumab",
    "Family1234",
    "agentumab",
    "Mechanism",
    # prefixes of a word
    "trast",
    "resist",
    "lapat",
    "compens",
    "microenv",
    # identifiers
    "Author4242",
    "10.1000/bench.777",
    "10001234",
    "PMC1000005",
    "agentumab-0042",
    # two words
    "trastuzumab resistance",
    "PTEN mutation",
    "compensatory signalling",
    "estrogen receptor",
    "lapatinib cohort",
    "neratinib xenograft",
    "payload efflux",
    "CDK4 cyclin",
    "Family77 tucatinib",
    "immune microenvironment",
    # phrases
    '"cell line"',
    '"estrogen receptor"',
    '"breast cancer"',
    '"truncated receptor"',
    '"trastuzumab resistance"',
    '"mTOR PTEN"',
    '"agentumab 0042"',
    # exclusions
    "trastuzumab -xenograft",
    "resistance -lapatinib -neratinib",
    "PIK3CA -mutation",
    'HER2 -"cell line"',
    "survival -benefit",
    "ERBB3 -heregulin",
    "ADC payload -lysosomal",
    "tucatinib -survival",
)
RESOURCES = ("citations", "evidence")
PAGE = 50
SIZES = {"citations": 100_000, "evidence": 200_000}


def url(resource: str, query: str) -> str:
    from urllib.parse import urlencode

    return f"/api/v1/{resource}/?" + urlencode({"search": query, "page_size": PAGE})


def key_of(resource: str) -> str:
    return {"citations": "citekey", "evidence": "id"}[resource]


def api_keys(client, resource: str, query: str) -> list:
    from django.core.cache import cache

    cache.clear()  # the anonymous throttle never trips
    response = client.get(url(resource, query))
    if response.status_code != 200:
        raise RuntimeError(f"{url(resource, query)}: {response.status_code}")
    return [row[key_of(resource)] for row in response.json()["results"]]


def bench_keys(resource: str, query: str) -> list:
    """The first page's keys from her2db.api.search on the public rows: what
    the API must answer, without its machinery."""
    from her2db.api.search import search
    from references.models import Citation
    from therapies.models import Evidence

    rows = {
        "citations": Citation.objects.all,
        "evidence": Evidence.objects.accepted,
    }[resource]()
    found = search(rows, query).values_list(key_of(resource), flat=True)
    return list(found[:PAGE])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(repeat: int) -> dict[str, tuple[float, float]]:
    """{resource: (p50 ms, p95 ms)} over QUERIES; prints the lines."""
    from django.core.cache import cache
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    found = {}
    for resource in RESOURCES:
        times = []
        for query in QUERIES:
            link = url(resource, query)
            client.get(link)  # warm
            runs = []
            for _ in range(repeat):
                cache.clear()
                started = time.perf_counter()
                response = client.get(link)
                runs.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{link}: {response.status_code}")
            times.append(statistics.median(runs) * 1000)
        found[resource] = (percentile(times, 0.5), percentile(times, 0.95))
        p50, p95 = found[resource]
        print(f"search {resource} p50 {p50:.1f} p95 {p95:.1f}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citations", type=int, default=SIZES["citations"])
    parser.add_argument("--evidence", type=int, default=SIZES["evidence"])
    parser.add_argument(
        "--text",
        choices=("zipf", "uniform"),
        default="zipf",
        help="How the texts are drawn.",
    )
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs of each.")
    parser.add_argument(
        "--keep", action="store_true", help="Reuse a data set of this size."
    )
    args = parser.parse_args()
    os.environ.setdefault("CONN_MAX_AGE", "600")
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # static

    label = f"bench_search_{args.text}"
    with scratch_database(keep=args.keep, label=label) as name:
        from django.conf import settings
        from django.db import connection

        from tests.bench.dataset import build_indexed, scaled
        from therapies.models import Evidence

        print(f"Benchmark database: {name} ({connection.vendor}), {args.text} texts")
        sizes = scaled(1.0) | {
            "citations": args.citations,
            "evidence": args.evidence,
        }
        if args.keep and Evidence.objects.count() == sizes["evidence"]:
            print("Reusing the data set already there.")
        else:
            started = time.perf_counter()
            build_indexed(sizes, text=args.text)
            print(f"Built the data set in {time.perf_counter() - started:.0f} s")
        print(f"{len(QUERIES)} queries, pages of {PAGE}, median of {args.repeat}")
        settings.DEBUG = False
        measure(args.repeat)
        load = os.getloadavg()[0]
        print(f"Load average {load:.1f} on {os.cpu_count()} CPUs while timing.")


if __name__ == "__main__":
    main()
