"""`make loadtest`: HER2db served by gunicorn on PostgreSQL and Redis, driven
by Locust headless on loopback (tests/bench/locustfile.py).

    python -m tests.bench.loadtest [--seconds 60] [--users 20] [--workers 2]

The database is `her2db_loadtest`, made anew beside DATABASE_URL's server
(127.0.0.1:5432 when DATABASE_URL is not PostgreSQL), or LOADTEST_DATABASE_URL
(emptied); it is loaded with the shipped fixtures (load_curated), and a
curator gets a token. The cache is CACHE_URL, else Redis db 6 on 127.0.0.1
(not the tests' db 5), flushed first. The rate limits are lifted for the
run: every client is 127.0.0.1, and every token read is the one curator's
(at 1,200 a minute it was throttled, and counted as errors, once the full
mix passed 80 requests a second). Prints a table per endpoint and, last,
exactly:

    loadtest: <rps> rps, p50 <ms>, p95 <ms>, p99 <ms>, errors <n>

LOADTEST_MIX=anon runs anonymous reads only, LOADTEST_MIX="only:list agents"
one read alone (a name of tests/bench/loadmix.py READS); API_CACHE=False serves every
answer built afresh (the "before" of docs and issue 13).
"""

import argparse
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from io import StringIO
from pathlib import Path

import redis

from tests.bench.loadmix import SEARCH_WORDS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def database_url() -> str:
    chosen = os.getenv("LOADTEST_DATABASE_URL", "")
    if chosen:
        return chosen
    current = os.getenv("DATABASE_URL", "")
    if current.startswith(("postgres://", "postgresql://")):
        base = current.partition("?")[0].rsplit("/", 1)[0]
    else:
        base = "postgres://postgres@127.0.0.1:5432"
    return f"{base}/her2db_loadtest"


def prepare(url: str) -> dict:
    """Make the database anew, load the curated data, issue a token; the
    identifiers the clients read and write."""
    os.environ["BENCH_DATABASE_URL"] = url
    from tests.bench.scratch import scratch_database

    with scratch_database(label="loadtest", fresh=True):
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command

        from references.models import Citation
        from therapies.models import Agent, Evidence, Trial

        call_command("load_curated", verbosity=0)
        user = User.objects.create_user("loadtest")
        user.groups.add(Group.objects.get(name="Curators"))
        out = StringIO()
        call_command("api_token", "loadtest", stdout=out, stderr=StringIO())
        agents = list(Agent.objects.order_by("slug").values_list("slug", flat=True))
        return {
            "token": out.getvalue().strip(),
            "agents": agents,
            # Written by token users only; read by everyone as the rest.
            "write_agents": agents[-8:],
            "evidence": [
                str(uid)
                for uid in Evidence.objects.filter(status="ACCEPTED").values_list(
                    "uid", flat=True
                )
            ],
            "citations": list(Citation.objects.values_list("citekey", flat=True)),
            "trials": list(Trial.objects.values_list("nct_id", flat=True)),
            "words": SEARCH_WORDS,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, cache_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CACHE_URL": cache_url,
        "DEBUG": "False",
        "SECRET_KEY": "load-test-only-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "CONN_MAX_AGE": "60",
        # Every client is 127.0.0.1 and every token read is one account's:
        # the rates a reader meets would stop the load the test asks for.
        "API_ANON_RATE": "100000000/minute",
        "API_USER_RATE": "100000000/minute",
    }
    env.pop("BENCH_DATABASE_URL", None)
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "her2db.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer in 20 s")


def drive(host: str, data: Path, seconds: int, users: int, prefix: Path) -> None:
    """Run Locust headless against `host`; its stats go to <prefix>_stats.csv."""
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            host,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "5",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "LOADTEST_DATA": str(data), "PYTHONPATH": str(ROOT)},
        check=False,  # Locust exits 1 when any request failed: the table says so
        stdout=subprocess.DEVNULL,  # its own summary: ours follows
        stderr=prefix.with_suffix(".log").open("w"),
    )


def summary(stats_csv: Path) -> list[str]:
    """The table per endpoint, then the totals; the last line is the summary."""
    with stats_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    if total["Request Count"] == "0":
        log = stats_csv.with_name(stats_csv.name.replace("_stats.csv", ".log"))
        raise SystemExit(f"Locust made no request:\n{log.read_text()[-3000:]}")
    endpoints = [row for row in rows if row["Name"] != "Aggregated"]

    def ms(row, column):
        value = row[column]
        return "-" if value in ("", "N/A") else f"{float(value):.0f}"

    lines = [
        f"{'endpoint':<28} {'requests':>8} {'errors':>6} {'rps':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    ]
    for row in sorted(endpoints, key=lambda row: row["Name"]):
        lines.append(
            f"{row['Name']:<28} {row['Request Count']:>8} "
            f"{row['Failure Count']:>6} {float(row['Requests/s']):>8.1f} "
            f"{ms(row, '50%'):>7} {ms(row, '95%'):>7} {ms(row, '99%'):>7}"
        )
    anonymous = sum(
        float(row["Requests/s"]) for row in endpoints if row["Name"].startswith("anon")
    )
    writes = sum(
        int(row["Request Count"]) for row in endpoints if "PATCH" in row["Name"]
    )
    count = int(total["Request Count"])
    lines.append(
        f"anonymous reads: {anonymous:.1f} rps; writes: {writes} "
        f"({100 * writes / max(count, 1):.1f}% of {count} requests)"
    )
    lines.append(
        f"loadtest: {float(total['Requests/s']):.1f} rps, p50 {ms(total, '50%')}, "
        f"p95 {ms(total, '95%')}, p99 {ms(total, '99%')}, "
        f"errors {total['Failure Count']}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    url = database_url()
    cache_url = os.getenv("CACHE_URL", "") or "redis://127.0.0.1:6379/6"
    print(f"preparing {url.rsplit('/', 1)[1]} (load_curated, a token)", flush=True)
    data = prepare(url)
    redis.Redis.from_url(cache_url).flushdb()
    directory = Path(tempfile.mkdtemp(prefix="her2db-loadtest-"))
    try:
        (directory / "data.json").write_text(json.dumps(data))
        port = free_port()
        server = serve(url, cache_url, port, args.workers)
        try:
            print(
                f"driving http://127.0.0.1:{port}/ for {args.seconds} s: "
                f"{args.users} users, {args.workers} gunicorn workers, "
                f"mix {os.getenv('LOADTEST_MIX', 'all')}, "
                f"API_CACHE={os.getenv('API_CACHE', 'True')}",
                flush=True,
            )
            drive(
                f"http://127.0.0.1:{port}",
                directory / "data.json",
                args.seconds,
                args.users,
                directory / "locust",
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        print("\n".join(summary(directory / "locust_stats.csv")))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
