"""Stopping an import stops it all: SIGTERM or SIGINT midway through a large
PubMed file (read by a second process) ends that reader too, rolls back and
leaves no connection or lock behind, so the next write to the same rows
completes at once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from references.models import Citation
from tests.bench.imports import generate
from tests.served import ROOT, database_url

# Records in the file: about 14 kB each, so 1,500 make a file well over the
# 4 MB above which the command line reads in a second process.
RECORDS = 1500
FIRST_PMID = "30000000"  # tests/bench/imports.py numbers records from here


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def other_backends() -> list[tuple]:
    """The test database's other sessions: (pid, state, query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def writing_backend() -> bool:
    """Has the import's session begun writing (a transaction with an id)?"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_import_leaves_no_reader_no_lock_and_nothing_written(tmp_path, sig):
    big = tmp_path / "big.xml"
    generate(RECORDS, big)
    assert big.stat().st_size > 4_000_000
    url = database_url(tmp_path)
    command = subprocess.Popen(
        [sys.executable, "manage.py", "import_pubmed", str(big)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Midway: the reader runs, and (on PostgreSQL) the writer has written.
        wait_until(lambda: children_of(command.pid), 120, "the reader process")
        readers = children_of(command.pid)
        if connection.vendor == "postgresql":
            wait_until(writing_backend, 120, "the import to write")
        else:
            # The writer has begun (its rollback journal is there), and is
            # well short of the end: the whole import takes about 3 s after
            # its reader starts on a fast machine, longer on a busy one. (A
            # fixed 3 s wait once landed after the import had finished.)
            database = url.removeprefix("sqlite:///")
            wait_until(
                lambda: any(Path(database + s).exists() for s in ("-journal", "-wal")),
                120,
                "the import to write",
            )
            time.sleep(0.5)
        assert command.poll() is None, "the import ended before it was stopped"
        command.send_signal(sig)
        out, err = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.communicate()
    assert command.returncode == 128 + sig
    assert err.strip() == f"CommandError: Stopped by {sig.name}. Nothing was written."
    # Its reader ended with it.
    wait_until(lambda: not any(alive(pid) for pid in readers), 10, "the reader")

    if connection.vendor == "postgresql":
        # No session left behind, idle in a transaction or otherwise.
        wait_until(lambda: not other_backends(), 10, "the import's session to end")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        started = time.monotonic()
        Citation.objects.create(
            citekey="After2018", title="Written after the stop", pmid=FIRST_PMID
        )
        assert time.monotonic() - started < 1
        assert Citation.objects.count() == 1
    else:
        # The command wrote to its own copy of the database: nothing there.
        import sqlite3

        copy = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=1)
        started = time.monotonic()
        copy.execute("BEGIN IMMEDIATE")  # the write lock, granted at once
        assert time.monotonic() - started < 1
        copy.rollback()
        count = copy.execute("SELECT count(*) FROM references_citation").fetchone()
        copy.close()
        assert count == (0,)
