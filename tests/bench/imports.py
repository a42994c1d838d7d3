"""Benchmark the PubMed importer on generated records shaped like a real one.

    python -m tests.bench.imports [--records N]

Run it on a scratch database (``make bench-import`` makes one): it refuses a
database that already holds citations. The import is timed as the command
line runs it (the file read in a second process,
references.importers.background); a dry run in one process, as an admin
upload runs, is timed beside it. tests/references/test_bench_imports.py runs it on a
few records.
"""

import argparse
import os
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import TextIO

from tests.bench.scratch import scratch_database

TEMPLATE = Path(__file__).resolve().parent.parent / "data" / "pubmed_29963580.xml"
FAMILIES = [
    "Smith",
    "Garcia",
    "Chen",
    "Müller",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Tanaka",
    "Silva",
    "Novak",
    "Kim",
    "Ahmed",
    "Johansson",
    "Nguyen",
    "Okafor",
    "Ivanova",
    "Cohen",
    "Haddad",
    "Larsen",
    "Moreau",
]
INITIALS = ["A", "B", "C", "DG", "EM", "F", "JL", "K", "MC", "S"]


def generate(count: int, path: Path) -> None:
    """Write ``count`` PubMed records varying the real record's identifiers."""
    text = TEMPLATE.read_text()
    head, rest = text.split("<PubmedArticle>", 1)
    body, tail = rest.rsplit("</PubmedArticle>", 1)
    body = "<PubmedArticle>" + body + "</PubmedArticle>\n"
    last_names = re.findall(r"<LastName>[^<]*</LastName>", body)
    with path.open("w") as out:
        out.write(head)
        for i in range(count):
            record = (
                body.replace("29963580", str(30_000_000 + i))
                .replace("PMC6022861", f"PMC{7_000_000 + i}")
                .replace("10.1117/1.JMI.5.2.026002", f"10.5555/bench.{i}")
                .replace(
                    "phenotyping of chronic lung disease.",
                    f"phenotyping of chronic lung disease, variant {i}.",
                )
            )
            # Authors recur across records, as in a real bibliography.
            for k, tag in enumerate(last_names):
                family = FAMILIES[(i * 7 + k * 3) % len(FAMILIES)]
                family += str((i // 50 + k) % 40)
                record = record.replace(tag, f"<LastName>{family}</LastName>", 1)
            out.write(record)
        out.write(tail.lstrip("\n") if tail.strip() else "</PubmedArticleSet>\n")


class BenchError(Exception):
    """The benchmark cannot run here."""


def run(records: int, out: TextIO = sys.stdout) -> dict:
    """Benchmark ``records`` records; print the report, return its figures."""
    from django.conf import settings

    from references.importers import registry
    from references.importers.pubmed import read_records
    from references.models import Citation

    if Citation.objects.exists():
        raise BenchError(
            "This database holds citations; run the benchmark on a scratch "
            "database (make bench-import)."
        )
    importer = registry.get("pubmed")
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    with tempfile.TemporaryDirectory() as tmp:
        small, full = Path(tmp) / "small.xml", Path(tmp) / "full.xml"
        generate(records // 5, small)
        generate(records, full)
        print(
            f"{records} records ({full.stat().st_size / 1e6:.1f} MB), "
            f"9 authors each, on {engine}.",
            file=out,
        )
        # Memory: Python's own allocations, traced, for a fifth of the
        # records and for all of them (dry runs in one process, so that
        # reading and writing are both traced; rolled back).
        peaks = {}
        for path, count in ((small, records // 5), (full, records)):
            tracemalloc.start()
            importer.import_files([path], dry_run=True, progress=False)
            peaks[count] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        # Reading alone (lxml parse and mapping): what the second process
        # does while the first writes.
        started = time.perf_counter()
        parsed = sum(1 for _ in read_records(full))
        read_rate = parsed / (time.perf_counter() - started)
        # One process, as an admin upload: a dry run (written, rolled back).
        started = time.perf_counter()
        importer.import_files([full], dry_run=True, progress=False)
        one_process = records / (time.perf_counter() - started)
        # Speed: a real import as the command runs it, committed, untraced.
        started = time.perf_counter()
        summary = importer.import_files([full], progress=False, background=True)
        elapsed = time.perf_counter() - started
        again = time.perf_counter()
        second = importer.import_files([full], progress=False, background=True)
        elapsed_again = time.perf_counter() - again
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [
        summary.headline(),
        f"import:       {records / elapsed:,.0f} records/s ({elapsed:.1f} s; "
        "reading in a second process, as the command line does)",
        f"one process:  {one_process:,.0f} records/s (a dry run, as an admin "
        "upload runs)",
        f"read only:    {read_rate:,.0f} records/s (lxml and mapping)",
        f"re-import:    {records / elapsed_again:,.0f} records/s "
        f"({elapsed_again:.1f} s; {second.headline()})",
        *(
            f"peak traced memory, {count:>6} records: {peak / 1e6:.1f} MB"
            for count, peak in peaks.items()
        ),
        f"peak resident set size: {rss:.0f} MB (writer), {child_rss:.0f} MB (reader)",
    ]
    print("\n".join(lines), file=out)
    return {
        "imported": summary,
        "reimported": second,
        "parsed": parsed,
        "records_per_second": records / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    # As in production: no query log growing with every INSERT.
    os.environ.setdefault("DEBUG", "False")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    with scratch_database(label="bench_import", fresh=True):
        try:
            run(args.records)
        except BenchError as error:
            sys.exit(f"bench-import: {error}")


if __name__ == "__main__":
    main()
