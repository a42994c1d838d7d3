"""`make bench-check`: how long check_data takes on a large data set.

    python -m tests.bench.checks [--citations 100000] [--keep]

Builds the synthetic data set of tests/bench/dataset.py, scaled so that it
holds --citations citations (and, in proportion, 1.5 authors, 0.2 trials and
2 evidence items a citation), in a database of its own
(tests/bench/scratch.py), then times every rule of check_data once. The last
line reads `check_data: <s> s for <n> citations (goal: at most 10 s).`
"""

import argparse
import time
import warnings

from tests.bench.scratch import scratch_database


def time_checks() -> list[tuple[str, int, float]]:
    """(rule, findings, seconds) for every rule of check_data, in order."""
    from therapies import checks

    timings = []
    for check in [*checks.CHECKS, *checks.GAPS]:
        started = time.perf_counter()
        found = sum(1 for _ in check())
        timings.append((check.__name__, found, time.perf_counter() - started))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citations", type=int, default=100_000)
    parser.add_argument(
        "--evidence",
        type=int,
        help="Evidence items (and a tenth as many trials) instead of the "
        "proportional number: a quicker build when citations are what is timed.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Reuse a data set of this size."
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    with scratch_database(keep=args.keep, label="bench_check") as name:
        from django.conf import settings
        from django.db import connection

        from references.models import Author, Citation
        from tests.bench.dataset import SIZES, build_indexed, scaled
        from therapies.models import Evidence, Trial

        print(f"Benchmark database: {name} ({connection.vendor})")
        sizes = scaled(args.citations / SIZES["citations"])
        if args.evidence is not None:
            sizes |= {"evidence": args.evidence, "trials": max(1, args.evidence // 10)}
        if args.keep and Citation.objects.count() == sizes["citations"]:
            print("Reusing the data set already there.")
        else:
            started = time.perf_counter()
            build_indexed(sizes)
            print(f"Built the data set in {time.perf_counter() - started:.0f} s")
        print(
            f"Rows: {Citation.objects.count()} citations, {Author.objects.count()} "
            f"authors, {Trial.objects.count()} trials, "
            f"{Evidence.objects.count()} evidence items"
        )
        settings.DEBUG = False
        timings = time_checks()
        for rule, found, seconds in timings:
            print(f"{rule:32} {found:8} found {seconds:8.2f} s")
        total = sum(seconds for _, _, seconds in timings)
        print(
            f"check_data: {total:.1f} s for {Citation.objects.count()} citations "
            "(goal: at most 10 s)."
        )


if __name__ == "__main__":
    main()
