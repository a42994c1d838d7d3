"""`make bench`: how close the API's list endpoints come to the floor.

    python -m tests.bench.api [--scale 1.0] [--repeat 25] [--keep]

Builds a scaled synthetic data set (tests/bench/dataset.py) in a database of
its own (tests/bench/scratch.py), then for each list endpoint at 50 rows a
page, and for search, times the API in process (middleware, authentication,
throttling, filtering, paging, serializers, ETag) against the floor
(tests/bench/floor.py): the same bytes from SQL and orjson. The floor's bytes
are checked equal to the API's before anything is timed; the ratio is of the
fastest of --repeat runs of each.
"""

import argparse
import os
import time
import warnings

from tests.bench.scratch import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25, help="Timed runs of each.")
    parser.add_argument("--scale", type=float, default=1.0, help="Size multiplier.")
    parser.add_argument(
        "--keep", action="store_true", help="Reuse a data set of this size."
    )
    args = parser.parse_args()
    # One connection throughout, for the API and the floor alike: otherwise
    # each request closes it and both time PostgreSQL's connection set-up.
    os.environ.setdefault("CONN_MAX_AGE", "600")
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # static

    with scratch_database(keep=args.keep) as name:
        # Only now that Django is set up on the benchmark's database.
        from django.conf import settings
        from django.db import connection

        from tests.bench.compare import measure
        from tests.bench.dataset import MODELS, build_indexed, scaled
        from therapies.models import Evidence

        print(f"Benchmark database: {name} ({connection.vendor})")
        sizes = scaled(args.scale)
        if (
            args.keep
            and Evidence.objects.count() == sizes["evidence"]
            and all(model.objects.exists() for model in MODELS)
        ):
            print("Reusing the data set already there.")
        else:
            started = time.perf_counter()
            build_indexed(sizes)
            print(f"Built the data set in {time.perf_counter() - started:.0f} s")
        counts = (f"{m.__name__} {m.objects.count()}" for m in reversed(MODELS))
        print("Rows: " + ", ".join(counts))
        settings.DEBUG = False  # timing as in production: no query log
        measure(args.repeat)


if __name__ == "__main__":
    main()
