"""HER2db served for real: gunicorn with several worker processes, on a copy
of the test database (SQLite) or the test database itself (PostgreSQL), with
Redis as the shared cache, for tests of what must hold across workers."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

REDIS_URL = os.getenv("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parent.parent


def redis_or_skip():
    """A Redis client on the tests' own database number, emptied."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        if os.getenv("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def database_url(folder: Path) -> str:
    """The committed test database as a URL another process can open."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings["USER"] or "postgres"
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        host = settings["HOST"] or "127.0.0.1"
        port = settings["PORT"] or 5432
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    # The SQLite test database lives in this process's memory: copy it.
    path = folder / "served.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(folder: Path, workers: int = 3, **env: str):
    """Serve HER2db; yield its base URL. ``env`` adds settings."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(folder),
        "CACHE_URL": REDIS_URL,
        "DEBUG": "False",
        "SECRET_KEY": "served-in-a-test-only",
        "SECURE_SSL_REDIRECT": "False",
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        **env,
    }
    log = (folder / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "her2db.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--timeout=60",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # The admin's login page: not throttled, so it counts nothing.
                urllib.request.urlopen(f"{base}/admin/login/", timeout=30).close()
                break
            except urllib.error.HTTPError:
                break  # up, whatever it thinks of the page
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "gunicorn did not start:\n"
                        + (folder / "gunicorn.log").read_text()
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a GET, errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
