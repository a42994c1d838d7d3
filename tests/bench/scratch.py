"""The benchmarks' own database, chosen before Django is set up.

    with scratch_database(keep=False) as name:
        ...  # Django is set up and `name` is migrated

Which database:

- BENCH_DATABASE_URL, if set (it must be free to fill; never DATABASE_URL);
- else, when DATABASE_URL names PostgreSQL, `<name>_<label>` on the same
  server (`her2db_bench`, `her2db_bench_import`), created if missing and
  left in place afterwards, or made anew with `fresh`;
- else a SQLite file in a new temporary directory, removed afterwards. With
  `keep`, the file is `her2db-<label>.sqlite3` in the temporary directory
  instead, left in place so that the next run can reuse what it holds.

`make bench` (tests/bench/api.py) and `make bench-import`
(tests/bench/imports.py) both choose their database here.

DATABASE_URL is replaced in the environment of this process before Django
reads its settings (DJANGO_SETTINGS_MODULE defaults to her2db.settings), so
the development database is never touched; called once Django is set up,
it refuses rather than run in whatever database that is.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dj_database_url
import django
from django.apps import apps
from django.core.management import call_command
from django.db import connection, connections


def bench_url(keep: bool, label: str = "bench") -> tuple[str, str | None]:
    """(the benchmark's DATABASE_URL, a temporary directory to remove or None)."""
    current = os.getenv("DATABASE_URL", "")
    chosen = os.getenv("BENCH_DATABASE_URL", "")
    if chosen:
        if chosen == current:
            raise SystemExit("BENCH_DATABASE_URL must not be DATABASE_URL.")
        return chosen, None
    if current and dj_database_url.parse(current)["ENGINE"].endswith("postgresql"):
        base, _, query = current.partition("?")
        base = base.rstrip("/")
        return f"{base}_{label}" + (f"?{query}" if query else ""), None
    if keep:
        kept = Path(tempfile.gettempdir()) / f"her2db-{label}.sqlite3"
        return f"sqlite:///{kept}", None
    directory = tempfile.mkdtemp(prefix=f"her2db-{label}-")
    return f"sqlite:///{directory}/bench.sqlite3", directory


@contextmanager
def scratch_database(
    keep: bool = False, label: str = "bench", fresh: bool = False
) -> Iterator[str]:
    """Set up Django on the benchmark's database, migrated; yield its name.

    `fresh`: a PostgreSQL database is dropped and made anew (empty).
    """
    if apps.ready:
        raise RuntimeError("scratch_database() must run before Django is set up.")
    url, temporary = bench_url(keep, label)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "her2db.settings")
    try:
        django.setup()
        name = str(connection.settings_dict["NAME"])
        if connection.vendor == "postgresql":
            with connection._nodb_cursor() as cursor:
                if fresh:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        call_command("migrate", verbosity=0, interactive=False)
        yield name
    finally:
        connections.close_all()
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
